package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// streamID is the explicit stream entry ID of update seq: Redis refuses an
// ID not above the stream's last, so a seq can never be appended twice.
func streamID(seq int64) string { return strconv.FormatInt(seq, 10) + "-0" }

// streamValues lays an update out as stream fields, one per Update field,
// named as in its JSON form; percent, value and attachment are absent when
// nil. The attachment is its JSON object in one field.
func streamValues(u store.Update) ([]any, error) {
	v := []any{
		"id", u.ID,
		"seq", strconv.FormatInt(u.Seq, 10),
		"task", strconv.Itoa(u.Task),
		"department", u.Department,
		"at", store.FormatTime(u.At),
		"chat_id", strconv.FormatInt(u.ChatID, 10),
		"message_id", strconv.Itoa(u.MessageID),
		"user_id", strconv.FormatInt(u.UserID, 10),
		"user_name", u.UserName,
		"text", u.Text,
		"status", string(u.Status),
	}
	if u.Percent != nil {
		v = append(v, "percent", strconv.Itoa(*u.Percent))
	}
	if u.Value != nil {
		v = append(v, "value", strconv.FormatFloat(*u.Value, 'g', -1, 64))
	}
	if u.Attachment != nil {
		b, err := json.Marshal(u.Attachment)
		if err != nil {
			return nil, fmt.Errorf("update %s: attachment: %w", u.ID, err)
		}
		v = append(v, "attachment", string(b))
	}
	return append(v,
		"source", string(u.Source),
		"corrects", u.Corrects,
		"telegram_update", strconv.FormatInt(u.TelegramUpdate, 10),
		"prev_hash", u.PrevHash,
		"hash", u.Hash,
	), nil
}

func decodeStream(msg goredis.XMessage) (store.Update, error) {
	var firstErr error
	field := func(name string) string {
		v, ok := msg.Values[name].(string)
		if !ok && firstErr == nil {
			firstErr = fmt.Errorf("stream entry %s: field %s missing", msg.ID, name)
		}
		return v
	}
	integer := func(name string) int64 {
		n, err := strconv.ParseInt(field(name), 10, 64)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("stream entry %s: field %s: %w", msg.ID, name, err)
		}
		return n
	}
	u := store.Update{
		ID:             field("id"),
		Seq:            integer("seq"),
		Task:           int(integer("task")),
		Department:     field("department"),
		ChatID:         integer("chat_id"),
		MessageID:      int(integer("message_id")),
		UserID:         integer("user_id"),
		UserName:       field("user_name"),
		Text:           field("text"),
		Status:         store.Status(field("status")),
		Source:         store.Source(field("source")),
		Corrects:       field("corrects"),
		TelegramUpdate: integer("telegram_update"),
		PrevHash:       field("prev_hash"),
		Hash:           field("hash"),
	}
	at, err := store.ParseTime(field("at"))
	if err != nil && firstErr == nil {
		firstErr = fmt.Errorf("stream entry %s: field at: %w", msg.ID, err)
	}
	u.At = at
	if _, ok := msg.Values["percent"]; ok {
		p := int(integer("percent"))
		u.Percent = &p
	}
	if text, ok := msg.Values["value"].(string); ok {
		v, err := strconv.ParseFloat(text, 64)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("stream entry %s: field value: %w", msg.ID, err)
		}
		u.Value = &v
	}
	if text, ok := msg.Values["attachment"].(string); ok {
		var a store.Attachment
		if err := json.Unmarshal([]byte(text), &a); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("stream entry %s: field attachment: %w", msg.ID, err)
		}
		u.Attachment = &a
	}
	return u, firstErr
}

// Record appends ups atomically (all or none) and updates the latest state
// of every (task, department) they touch. If tgUpdate is not 0 and was
// recorded before, it appends nothing and returns what that first call
// recorded, with fresh false. ups may be empty, to only mark tgUpdate seen.
//
// The heads, streams and seen key involved are WATCHed while they are read,
// and everything is written in one MULTI/EXEC, retried if a concurrent
// writer got in between. If the connection drops after EXEC was sent, the
// caller sees an error although the write may have happened; recording the
// same tgUpdate again then returns the first result instead of a duplicate.
func (s *Store) Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error) {
	prepared, err := store.Normalize(ups, time.Now())
	if err != nil {
		return nil, false, fmt.Errorf("record: %w", err)
	}
	if tgUpdate < 0 {
		return nil, false, fmt.Errorf("record: telegram update %d: must not be negative: %w", tgUpdate, store.ErrInvalid)
	}
	if tgUpdate == 0 && len(prepared) == 0 {
		return nil, true, nil
	}
	tasks, stateKeys := store.Touched(prepared)
	var watched []string
	if tgUpdate != 0 {
		watched = append(watched, s.seenKey(tgUpdate))
	}
	for _, task := range tasks {
		watched = append(watched, s.headKey(task), s.chainKey(task))
	}

	var recorded []store.Update
	var fresh bool
	err = s.watchTx(ctx, watched, func(tx *goredis.Tx) error {
		recorded, fresh = nil, true
		var seen *goredis.StringCmd
		heads := make([]*goredis.SliceCmd, len(tasks))
		streams := make([]*goredis.XInfoStreamCmd, len(tasks))
		var states *goredis.SliceCmd
		_, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
			if tgUpdate != 0 {
				seen = p.Get(ctx, s.seenKey(tgUpdate))
			}
			for i, task := range tasks {
				heads[i] = p.HMGet(ctx, s.headKey(task), "seq", "hash")
				streams[i] = p.XInfoStream(ctx, s.chainKey(task))
			}
			if len(stateKeys) > 0 {
				fields := make([]string, len(stateKeys))
				for i, k := range stateKeys {
					fields[i] = store.SnoozeKey(k.Task, k.Department)
				}
				states = p.HMGet(ctx, s.latestKey(), fields...)
			}
			return nil
		})
		// Per-command errors are inspected below: a missing key is expected.
		if err != nil && !isMissing(err) {
			return err
		}
		if seen != nil {
			ids, err := seen.Result()
			if err == nil {
				fresh = false
				recorded, err = s.updatesByID(ctx, tx, ids)
				return err
			}
			if !errors.Is(err, goredis.Nil) {
				return err
			}
		}
		chainHeads, err := readHeads(tasks, heads, streams)
		if err != nil {
			return err
		}
		prevStates, err := readStates(stateKeys, states)
		if err != nil {
			return err
		}
		appended, err := store.Append(prepared, chainHeads, prevStates)
		if err != nil {
			return err
		}
		encoded := make(map[store.StateKey]string, len(appended.States))
		for k, st := range appended.States {
			b, err := json.Marshal(st)
			if err != nil {
				return err
			}
			encoded[k] = string(b)
		}
		var seenValue []byte
		if tgUpdate != 0 {
			ids := make([]string, len(appended.Updates))
			for i, u := range appended.Updates {
				ids[i] = u.ID
			}
			if seenValue, err = json.Marshal(ids); err != nil {
				return err
			}
		}
		values := make([][]any, len(appended.Updates))
		for i, u := range appended.Updates {
			if values[i], err = streamValues(u); err != nil {
				return err
			}
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			for i, u := range appended.Updates {
				p.XAdd(ctx, &goredis.XAddArgs{Stream: s.chainKey(u.Task), ID: streamID(u.Seq), Values: values[i]})
			}
			for task, head := range appended.Heads {
				p.HSet(ctx, s.headKey(task), "seq", head.Seq, "hash", head.Hash)
				p.SAdd(ctx, s.chainsKey(), task)
			}
			for k, state := range encoded {
				p.HSet(ctx, s.latestKey(), store.SnoozeKey(k.Task, k.Department), state)
				p.HSet(ctx, s.latestForKey(k.Department), strconv.Itoa(k.Task), state)
			}
			if tgUpdate != 0 {
				p.Set(ctx, s.seenKey(tgUpdate), seenValue, store.SeenRetention)
			}
			return nil
		})
		if err != nil {
			return err
		}
		recorded = appended.Updates
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("record: %w", err)
	}
	return recorded, fresh, nil
}

// isMissing reports whether err is only Redis saying a key does not exist.
func isMissing(err error) bool {
	return errors.Is(err, goredis.Nil) || (err != nil && strings.Contains(err.Error(), "no such key"))
}

func readHeads(tasks []int, heads []*goredis.SliceCmd, streams []*goredis.XInfoStreamCmd) (map[int]store.ChainHead, error) {
	out := make(map[int]store.ChainHead, len(tasks))
	for i, task := range tasks {
		vals, err := heads[i].Result()
		if err != nil {
			return nil, fmt.Errorf("read head of task %d: %w", task, err)
		}
		var head store.ChainHead
		if seq, ok := vals[0].(string); ok {
			if head.Seq, err = strconv.ParseInt(seq, 10, 64); err != nil {
				return nil, fmt.Errorf("read head of task %d: seq: %w", task, err)
			}
		}
		if hash, ok := vals[1].(string); ok {
			head.Hash = hash
		}
		// Entries added to the stream behind the store's back must not make
		// replies unrecordable (XADD would refuse a lower ID); Verify
		// reports them.
		info, err := streams[i].Result()
		switch {
		case err == nil:
			ms, _, _ := strings.Cut(info.LastGeneratedID, "-")
			if last, err := strconv.ParseInt(ms, 10, 64); err == nil {
				head.Seq = max(head.Seq, last)
			}
		case !isMissing(err):
			return nil, fmt.Errorf("read stream of task %d: %w", task, err)
		}
		out[task] = head
	}
	return out, nil
}

func readStates(keys []store.StateKey, cmd *goredis.SliceCmd) (map[store.StateKey]store.State, error) {
	out := make(map[store.StateKey]store.State, len(keys))
	if cmd == nil {
		return out, nil
	}
	vals, err := cmd.Result()
	if err != nil {
		return nil, fmt.Errorf("read latest states: %w", err)
	}
	for i, k := range keys {
		text, ok := vals[i].(string)
		if !ok {
			continue
		}
		var st store.State
		if err := json.Unmarshal([]byte(text), &st); err != nil {
			return nil, fmt.Errorf("read state of task %d, %s: %w", k.Task, k.Department, err)
		}
		out[k] = st
	}
	return out, nil
}

// updatesByID reads the updates a seen Telegram update recorded.
func (s *Store) updatesByID(ctx context.Context, c goredis.Cmdable, idsJSON string) ([]store.Update, error) {
	var ids []string
	if err := json.Unmarshal([]byte(idsJSON), &ids); err != nil {
		return nil, fmt.Errorf("read recorded ids: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.XMessageSliceCmd, len(ids))
	_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			task, seq, err := store.ParseID(id)
			if err != nil {
				return err
			}
			cmds[i] = p.XRange(ctx, s.chainKey(task), streamID(seq), streamID(seq))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read recorded updates: %w", err)
	}
	out := make([]store.Update, len(ids))
	for i, cmd := range cmds {
		msgs := cmd.Val()
		if len(msgs) != 1 {
			return nil, fmt.Errorf("read recorded update %s: not in its stream", ids[i])
		}
		if out[i], err = decodeStream(msgs[0]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Updates returns the updates of task in seq order.
func (s *Store) Updates(ctx context.Context, task int) ([]store.Update, error) {
	msgs, err := s.client.XRange(ctx, s.chainKey(task), "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("updates of task %d: %w", task, err)
	}
	out := make([]store.Update, 0, len(msgs))
	for _, msg := range msgs {
		u, err := decodeStream(msg)
		if err != nil {
			return nil, fmt.Errorf("updates of task %d: %w", task, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// Chains returns the ids of the tasks that have updates, ascending.
func (s *Store) Chains(ctx context.Context) ([]int, error) {
	members, err := s.client.SMembers(ctx, s.chainsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("chains: %w", err)
	}
	tasks := make([]int, 0, len(members))
	for _, m := range members {
		task, err := strconv.Atoi(m)
		if err != nil {
			return nil, fmt.Errorf("chains: member %q: %w", m, err)
		}
		tasks = append(tasks, task)
	}
	sort.Ints(tasks)
	return tasks, nil
}

// Head returns the hash of the last update of task and how many updates the
// chain has, as the store recorded them; "", 0 for a task without updates.
func (s *Store) Head(ctx context.Context, task int) (string, int64, error) {
	vals, err := s.client.HMGet(ctx, s.headKey(task), "seq", "hash").Result()
	if err != nil {
		return "", 0, fmt.Errorf("head of task %d: %w", task, err)
	}
	seqText, _ := vals[0].(string)
	hash, _ := vals[1].(string)
	if seqText == "" {
		return "", 0, nil
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("head of task %d: seq: %w", task, err)
	}
	return hash, seq, nil
}

// Latest returns the state of every (task, department) with updates, by
// task then department: one HGETALL.
func (s *Store) Latest(ctx context.Context) ([]store.State, error) {
	states, err := s.readStateHash(ctx, s.latestKey())
	if err != nil {
		return nil, fmt.Errorf("latest: %w", err)
	}
	return states, nil
}

// LatestFor returns the states of one department, by task: one HGETALL.
func (s *Store) LatestFor(ctx context.Context, department string) ([]store.State, error) {
	states, err := s.readStateHash(ctx, s.latestForKey(department))
	if err != nil {
		return nil, fmt.Errorf("latest for %s: %w", department, err)
	}
	return states, nil
}

func (s *Store) readStateHash(ctx context.Context, key string) ([]store.State, error) {
	all, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	states := make([]store.State, 0, len(all))
	for field, text := range all {
		var st store.State
		if err := json.Unmarshal([]byte(text), &st); err != nil {
			return nil, fmt.Errorf("state %s: %w", field, err)
		}
		st.Last.At = st.Last.At.UTC()
		states = append(states, st)
	}
	store.SortStates(states)
	return states, nil
}
