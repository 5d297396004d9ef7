package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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
	v := make([]any, 0, 2*19) // every field: appending past the literal's length grew it twice
	v = append(v,
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
	)
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
// It reads the seen key, heads, streams and states involved, computes the
// updates, and writes everything with recordScript, which first checks that
// the seen key is still absent and each head and stream's last ID are still
// what was read (compare-and-set), so a concurrent writer in between makes it
// write nothing and Record read again. The read is skipped when the Store's
// recordCache holds what it would return (the Store wrote the task last), so
// a reply is usually one round trip, through the Store's pipe, shared with the
// Records and outbox writes waiting at the same moment. If the
// connection drops after the script was sent, the caller sees an error
// although the write may have happened; recording the same tgUpdate again
// then returns the first result instead of a duplicate.
func (s *Store) Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error) {
	recorded, _, fresh, err := s.recordAnswered(ctx, tgUpdate, ups, nil)
	return recorded, fresh, err
}

// RecordAnswered is Record, and puts answer(recorded) in the outbox (as PutAnswer) in the
// same script, so that a report is never stored without its acknowledgement waiting to be
// sent, and a reply costs one write instead of two. A redelivered update's answer, made
// from what the first call recorded, is put on its own.
func (s *Store) RecordAnswered(ctx context.Context, tgUpdate int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	if answer == nil {
		return nil, store.Answer{}, false, fmt.Errorf("record: no answer given: %w", store.ErrInvalid)
	}
	return s.recordAnswered(ctx, tgUpdate, ups, answer)
}

func (s *Store) recordAnswered(ctx context.Context, tgUpdate int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	prepared, err := store.Normalize(ups, time.Now())
	if err != nil {
		return nil, store.Answer{}, false, fmt.Errorf("record: %w", err)
	}
	if tgUpdate < 0 {
		return nil, store.Answer{}, false, fmt.Errorf("record: telegram update %d: must not be negative: %w", tgUpdate, store.ErrInvalid)
	}
	var recorded []store.Update
	var a store.Answer
	fresh := true
	if tgUpdate != 0 || len(prepared) > 0 {
		if recorded, a, fresh, err = s.record(ctx, tgUpdate, prepared, answer); err != nil {
			return nil, store.Answer{}, false, fmt.Errorf("record: %w", err)
		}
	}
	if answer != nil && (!fresh || tgUpdate == 0 && len(prepared) == 0) {
		// Nothing was written with it (seen before, or nothing to record): put on its own.
		a = answer(recorded)
		a.At = store.NormalizeTime(a.At)
		if err := s.PutAnswer(ctx, a); err != nil {
			return nil, store.Answer{}, false, fmt.Errorf("record: %w", err)
		}
	}
	return recorded, a, fresh, nil
}

// outboxEntry is an answer as recordScript writes it: its field in the outbox hash and its JSON.
type outboxEntry struct{ field, body string }

func encodeAnswer(a store.Answer) (store.Answer, outboxEntry, error) {
	a.At = store.NormalizeTime(a.At)
	body, err := json.Marshal(a)
	if err != nil {
		return a, outboxEntry{}, fmt.Errorf("answer: %w", err)
	}
	return a, outboxEntry{outboxField(a.ChatID, a.Update), string(body)}, nil
}

func (s *Store) record(ctx context.Context, tgUpdate int64, prepared []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	tasks, stateKeys := store.Touched(prepared)
	mustRead := false // the cache cannot tell that tgUpdate was seen
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		read, cached := recordRead{}, false
		if !mustRead {
			read, cached = s.cache.lookup(tasks, stateKeys)
		}
		if !cached {
			var err error
			if read, err = s.readRecord(ctx, s.pipe, tgUpdate, tasks, stateKeys); err != nil {
				return nil, store.Answer{}, false, err
			}
			if read.seen != nil {
				recorded, err := s.updatesByID(ctx, s.client, *read.seen)
				return recorded, store.Answer{}, false, err
			}
			s.cache.fill(tasks, stateKeys, read)
		}
		appended, err := store.Append(prepared, read.heads, read.states)
		if err != nil {
			return nil, store.Answer{}, false, err
		}
		var a store.Answer
		var entry *outboxEntry
		if answer != nil {
			var e outboxEntry
			if a, e, err = encodeAnswer(answer(appended.Updates)); err != nil {
				return nil, store.Answer{}, false, err
			}
			entry = &e
		}
		outcome, encoded, err := s.writeRecord(ctx, s.pipe, tgUpdate, tasks, stateKeys, read, appended, entry)
		switch {
		case err != nil:
			s.cache.drop(tasks) // the write may or may not have happened
			return nil, store.Answer{}, false, err
		case outcome == recordWritten:
			s.cache.wrote(tasks, read, appended, encoded)
			return appended.Updates, a, true, nil
		case outcome == recordSeen:
			mustRead = true // read it: the first result is returned
			continue
		case outcome != recordConflict:
			return nil, store.Answer{}, false, fmt.Errorf("record script: unexpected reply %q", outcome)
		}
		s.cache.drop(tasks)
		if cached {
			continue // the cache was behind: read afresh at once
		}
		// Another writer got in between: read again, after a short jittered back-off so
		// that racing writers spread out.
		backoff := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(time.Millisecond)))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, store.Answer{}, false, ctx.Err()
		}
	}
	return nil, store.Answer{}, false, fmt.Errorf("%d attempts: %w", maxTxAttempts, store.ErrConflict)
}

// recordRead is what Record computes its write from, and what recordScript
// checks is still there.
type recordRead struct {
	seen   *string // the JSON ids a seen tgUpdate recorded; nil if not seen
	heads  map[int]store.ChainHead
	as     []headAsRead // by task, in the order of tasks
	states map[store.StateKey]store.State
	raw    map[store.StateKey]string // the states' JSON in the latest hash, "" for none
}

// headAsRead is a task's head and stream as read: the head's seq and hash
// fields ("" if absent) and the stream's last generated ID ("" if no stream).
type headAsRead struct {
	seq, hash, lastID string
}

func (s *Store) readRecord(ctx context.Context, pp *pipe, tgUpdate int64, tasks []int, stateKeys []store.StateKey) (recordRead, error) {
	var seen *goredis.StringCmd
	heads := make([]*goredis.SliceCmd, len(tasks))
	streams := make([]*goredis.XInfoStreamCmd, len(tasks))
	var states *goredis.SliceCmd
	err := pp.do(ctx, func(p goredis.Pipeliner) {
		if tgUpdate != 0 {
			seen = p.Get(ctx, s.seenKey(tgUpdate))
		}
		// Heads before states: see recordCache.fill.
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
	})
	if err != nil {
		return recordRead{}, err
	}
	var out recordRead
	if seen != nil {
		ids, err := seen.Result()
		if err == nil {
			out.seen = &ids
			return out, nil
		}
		if !errors.Is(err, goredis.Nil) {
			return recordRead{}, fmt.Errorf("read seen: %w", err)
		}
	}
	if out.heads, out.as, err = readHeads(tasks, heads, streams); err != nil {
		return recordRead{}, err
	}
	if out.states, out.raw, err = readStates(stateKeys, states); err != nil {
		return recordRead{}, err
	}
	return out, nil
}

// isMissing reports whether err is only Redis saying a key does not exist.
func isMissing(err error) bool {
	return errors.Is(err, goredis.Nil) || (err != nil && strings.Contains(err.Error(), "no such key"))
}

func readHeads(tasks []int, heads []*goredis.SliceCmd, streams []*goredis.XInfoStreamCmd) (map[int]store.ChainHead, []headAsRead, error) {
	out := make(map[int]store.ChainHead, len(tasks))
	as := make([]headAsRead, len(tasks))
	for i, task := range tasks {
		vals, err := heads[i].Result()
		if err != nil {
			return nil, nil, fmt.Errorf("read head of task %d: %w", task, err)
		}
		var head store.ChainHead
		if seq, ok := vals[0].(string); ok {
			if head.Seq, err = strconv.ParseInt(seq, 10, 64); err != nil {
				return nil, nil, fmt.Errorf("read head of task %d: seq: %w", task, err)
			}
			as[i].seq = seq
		}
		if hash, ok := vals[1].(string); ok {
			head.Hash = hash
			as[i].hash = hash
		}
		// Entries added to the stream behind the store's back must not make
		// replies unrecordable (XADD would refuse a lower ID); Verify
		// reports them.
		info, err := streams[i].Result()
		switch {
		case err == nil:
			ms, _, _ := strings.Cut(info.LastGeneratedID, "-")
			last, err := strconv.ParseInt(ms, 10, 64)
			if err != nil {
				// The script's XADD would fail: refuse before it runs.
				return nil, nil, fmt.Errorf("read stream of task %d: last id %q: %w", task, info.LastGeneratedID, err)
			}
			head.Seq = max(head.Seq, last)
			as[i].lastID = info.LastGeneratedID
		case !isMissing(err):
			return nil, nil, fmt.Errorf("read stream of task %d: %w", task, err)
		}
		out[task] = head
	}
	return out, as, nil
}

// The outcomes of recordScript.
const (
	recordWritten  = "written"
	recordSeen     = "seen"     // the Telegram update was recorded in between
	recordConflict = "conflict" // a head, stream or state changed in between
)

// recordScript is Record's write: it checks, then writes, so that either
// everything is written or nothing. It checks that the seen key is absent
// and that each head, and each state in the latest hash, is what the write
// was computed from; with several tasks, also each stream's last ID. With one,
// the stream's first XADD is the first write and refuses an ID not above the
// stream's last (entries added behind the store's back) before anything is
// written; with several, a later task's XADD could fail after an earlier one's.
//
// KEYS: chains set, latest hash, seen key (unused when ARGV[1] is "0"), then
// head and stream of each task, then the latest-for hash of each state.
// ARGV: seen flag ("1"/"0"), seen value, seen TTL in ms, the number of
// tasks, updates and states; then per task (6): id, seq, hash and last stream
// ID as read ("" for absent), new seq and hash; per state (4): its field in the
// latest hash, its field in the latest-for hash, the new State JSON, the JSON
// it was computed from ("" for none); per update: its task's position
// (1-based), stream ID, number of fields, the fields; then, for RecordAnswered, the
// answer's field in the outbox hash (the last key) and its JSON.
var recordScript = goredis.NewScript(`
local nt, nu, ns = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local states = 7 + nt * 6
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
	return 'seen'
end
for t = 1, nt do
	local a = 7 + (t - 1) * 6
	local got = redis.call('HMGET', KEYS[2 + 2 * t], 'seq', 'hash')
	if (got[1] or '') ~= ARGV[a + 1] or (got[2] or '') ~= ARGV[a + 2] then
		return 'conflict'
	end
	if nt > 1 then
		local stream, last = KEYS[3 + 2 * t], ''
		if redis.call('EXISTS', stream) == 1 then
			local info = redis.call('XINFO', 'STREAM', stream)
			for i = 1, #info, 2 do
				if info[i] == 'last-generated-id' then
					last = info[i + 1]
					break
				end
			end
		end
		if last ~= ARGV[a + 3] then
			return 'conflict'
		end
	end
end
for k = 1, ns do
	local a = states + (k - 1) * 4
	if (redis.call('HGET', KEYS[2], ARGV[a]) or '') ~= ARGV[a + 3] then
		return 'conflict'
	end
end
local a = states + ns * 4
for u = 1, nu do
	local t, id, nf = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
	local ok = redis.pcall('XADD', KEYS[3 + 2 * t], id, unpack(ARGV, a + 3, a + 2 + nf))
	if type(ok) == 'table' and ok.err then
		if u == 1 and string.find(ok.err, 'equal or smaller', 1, true) then
			return 'conflict'
		end
		return ok
	end
	a = a + 3 + nf
end
for t = 1, nt do
	local a = 7 + (t - 1) * 6
	redis.call('HSET', KEYS[2 + 2 * t], 'seq', ARGV[a + 4], 'hash', ARGV[a + 5])
	redis.call('SADD', KEYS[1], ARGV[a])
end
for k = 1, ns do
	local a = states + (k - 1) * 4
	redis.call('HSET', KEYS[2], ARGV[a], ARGV[a + 2])
	redis.call('HSET', KEYS[3 + 2 * nt + k], ARGV[a + 1], ARGV[a + 2])
end
if ARGV[1] == '1' then
	redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
end
if ARGV[a] then
	redis.call('HSET', KEYS[#KEYS], ARGV[a], ARGV[a + 1])
end
return 'written'
`)

// writeRecord runs recordScript for appended, computed from read, with the outbox entry
// if not nil, and returns its outcome and the states' JSON it wrote (if written).
func (s *Store) writeRecord(ctx context.Context, pp *pipe, tgUpdate int64, tasks []int, stateKeys []store.StateKey, read recordRead, appended store.Appended, entry *outboxEntry) (string, map[store.StateKey]string, error) {
	keys := make([]string, 0, 4+2*len(tasks)+len(stateKeys))
	keys = append(keys, s.chainsKey(), s.latestKey(), s.seenKey(tgUpdate))
	// The updates' stream fields first, to size args once: growing it was a fifth of what a
	// reply's write allocated.
	values := make([][]any, len(appended.Updates))
	n := 6 + 6*len(tasks) + 4*len(stateKeys) + 2
	for i, u := range appended.Updates {
		v, err := streamValues(u)
		if err != nil {
			return "", nil, err
		}
		values[i] = v
		n += 3 + len(v)
	}
	args := make([]any, 0, n)
	seenFlag, seenValue := "0", ""
	if tgUpdate != 0 {
		ids := make([]string, len(appended.Updates))
		for i, u := range appended.Updates {
			ids[i] = u.ID
		}
		b, err := json.Marshal(ids)
		if err != nil {
			return "", nil, err
		}
		seenFlag, seenValue = "1", string(b)
	}
	args = append(args, seenFlag, seenValue, store.SeenRetention.Milliseconds(),
		len(tasks), len(appended.Updates), len(stateKeys))
	position := make(map[int]int, len(tasks))
	for i, task := range tasks {
		keys = append(keys, s.headKey(task), s.chainKey(task))
		position[task] = i + 1
		head, ok := appended.Heads[task]
		if !ok {
			return "", nil, fmt.Errorf("task %d touched but not appended", task)
		}
		as := read.as[i]
		args = append(args, strconv.Itoa(task), as.seq, as.hash, as.lastID, strconv.FormatInt(head.Seq, 10), head.Hash)
	}
	encoded := make(map[store.StateKey]string, len(stateKeys))
	for _, k := range stateKeys {
		st, ok := appended.States[k]
		if !ok {
			return "", nil, fmt.Errorf("state of task %d, %s touched but not derived", k.Task, k.Department)
		}
		b, err := json.Marshal(st)
		if err != nil {
			return "", nil, err
		}
		encoded[k] = string(b)
		keys = append(keys, s.latestForKey(k.Department))
		args = append(args, store.SnoozeKey(k.Task, k.Department), strconv.Itoa(k.Task), encoded[k], read.raw[k])
	}
	for i, u := range appended.Updates {
		args = append(args, position[u.Task], streamID(u.Seq), len(values[i]))
		args = append(args, values[i]...)
	}
	if entry != nil {
		keys = append(keys, s.outboxKey())
		args = append(args, entry.field, entry.body)
	}
	for loaded := false; ; loaded = true {
		var cmd *goredis.Cmd
		err := pp.do(ctx, func(p goredis.Pipeliner) {
			cmd = recordScript.EvalSha(ctx, p, keys, args...)
		})
		if err != nil {
			return "", nil, err
		}
		outcome, err := cmd.Text()
		if err != nil && !loaded && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			// A restarted or flushed Redis forgot the script; nothing ran.
			if err := recordScript.Load(ctx, s.client).Err(); err != nil {
				return "", nil, fmt.Errorf("load record script: %w", err)
			}
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return outcome, encoded, nil
	}
}

func readStates(keys []store.StateKey, cmd *goredis.SliceCmd) (map[store.StateKey]store.State, map[store.StateKey]string, error) {
	out := make(map[store.StateKey]store.State, len(keys))
	raw := make(map[store.StateKey]string, len(keys))
	if cmd == nil {
		return out, raw, nil
	}
	vals, err := cmd.Result()
	if err != nil {
		return nil, nil, fmt.Errorf("read latest states: %w", err)
	}
	for i, k := range keys {
		text, ok := vals[i].(string)
		if !ok {
			continue
		}
		var st store.State
		if err := json.Unmarshal([]byte(text), &st); err != nil {
			return nil, nil, fmt.Errorf("read state of task %d, %s: %w", k.Task, k.Department, err)
		}
		out[k] = st
		raw[k] = text
	}
	return out, raw, nil
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
