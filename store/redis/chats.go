package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// codeGrace keeps an expired code in Redis a while longer than its expiry
// (judged against the caller's now), so that real-clock skew never deletes
// a code early; the TTL only collects garbage.
const codeGrace = 24 * time.Hour

// readBinding reads one department's binding; ok is false if it has none.
func readBinding(ctx context.Context, c goredis.Cmdable, key, department string) (store.Binding, bool, error) {
	body, err := c.HGet(ctx, key, department).Result()
	if errors.Is(err, goredis.Nil) {
		return store.Binding{}, false, nil
	}
	if err != nil {
		return store.Binding{}, false, err
	}
	var b store.Binding
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return store.Binding{}, false, fmt.Errorf("binding of %s: %w", department, err)
	}
	b.BoundAt = b.BoundAt.UTC()
	return b, true, nil
}

// chatOwner returns the department chat is bound to, "" if none.
func chatOwner(ctx context.Context, c goredis.Cmdable, key string, chat int64) (string, error) {
	department, err := c.HGet(ctx, key, strconv.FormatInt(chat, 10)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	return department, err
}

// Bind binds b.Department to b.ChatID, replacing the department's previous
// binding. A chat belongs to at most one department: binding a chat that is
// bound to another department moves it.
func (s *Store) Bind(ctx context.Context, b store.Binding) error {
	b, err := store.NormalizeBinding(b)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	bindings, chats := s.bindingsKey(), s.chatsKey()
	err = s.watchTx(ctx, []string{bindings, chats}, func(tx *goredis.Tx) error {
		owner, err := chatOwner(ctx, tx, chats, b.ChatID)
		if err != nil {
			return err
		}
		prev, hadPrev, err := readBinding(ctx, tx, bindings, b.Department)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			if owner != "" && owner != b.Department {
				p.HDel(ctx, bindings, owner)
			}
			if hadPrev && prev.ChatID != b.ChatID {
				p.HDel(ctx, chats, strconv.FormatInt(prev.ChatID, 10))
			}
			p.HSet(ctx, bindings, b.Department, body)
			p.HSet(ctx, chats, strconv.FormatInt(b.ChatID, 10), b.Department)
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("bind %s: %w", b.Department, err)
	}
	return nil
}

// Unbind removes the department's binding; store.ErrNotFound if it has none.
func (s *Store) Unbind(ctx context.Context, department string) error {
	bindings, chats := s.bindingsKey(), s.chatsKey()
	err := s.watchTx(ctx, []string{bindings, chats}, func(tx *goredis.Tx) error {
		prev, ok, err := readBinding(ctx, tx, bindings, department)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.HDel(ctx, bindings, department)
			p.HDel(ctx, chats, strconv.FormatInt(prev.ChatID, 10))
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("unbind %s: %w", department, err)
	}
	return nil
}

// MarkBroken records why the department's binding no longer works ("" to
// clear it); store.ErrNotFound if the department has no binding.
func (s *Store) MarkBroken(ctx context.Context, department, reason string) error {
	bindings := s.bindingsKey()
	err := s.watchTx(ctx, []string{bindings}, func(tx *goredis.Tx) error {
		b, ok, err := readBinding(ctx, tx, bindings, department)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		b.Broken = reason
		body, err := json.Marshal(b)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.HSet(ctx, bindings, department, body)
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("mark binding of %s broken: %w", department, err)
	}
	return nil
}

// MigrateChat moves the binding of chat oldID to newID, as Telegram does
// when a group becomes a supergroup, records the move (ChatMigrations) and
// copies oldID's message index to newID. An unbound oldID is not an error:
// Telegram reports the migration of every group the bot is in. The three
// steps are each idempotent and the move is recorded first, so a failure
// part-way is completed by calling it again.
func (s *Store) MigrateChat(ctx context.Context, oldID, newID int64) error {
	if oldID == newID {
		return nil
	}
	if err := s.recordMigration(ctx, oldID, newID); err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", oldID, newID, err)
	}
	bindings, chats := s.bindingsKey(), s.chatsKey()
	err := s.watchTx(ctx, []string{bindings, chats}, func(tx *goredis.Tx) error {
		department, err := chatOwner(ctx, tx, chats, oldID)
		if err != nil || department == "" {
			return err
		}
		b, ok, err := readBinding(ctx, tx, bindings, department)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("chat %d is indexed to %s, which has no binding", oldID, department)
		}
		other, err := chatOwner(ctx, tx, chats, newID)
		if err != nil {
			return err
		}
		b.ChatID = newID
		body, err := json.Marshal(b)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			if other != "" && other != department {
				p.HDel(ctx, bindings, other)
			}
			p.HSet(ctx, bindings, department, body)
			p.HDel(ctx, chats, strconv.FormatInt(oldID, 10))
			p.HSet(ctx, chats, strconv.FormatInt(newID, 10), department)
			return nil
		})
		return err
	})
	if err == nil {
		err = s.copyMessageRefs(ctx, oldID, newID)
	}
	if err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", oldID, newID, err)
	}
	return nil
}

// Bindings returns every binding, by department.
func (s *Store) Bindings(ctx context.Context) ([]store.Binding, error) {
	all, err := s.client.HGetAll(ctx, s.bindingsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	out := make([]store.Binding, 0, len(all))
	for department, body := range all {
		var b store.Binding
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			return nil, fmt.Errorf("bindings: %s: %w", department, err)
		}
		b.BoundAt = b.BoundAt.UTC()
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Department < out[j].Department })
	return out, nil
}

type codeRecord struct {
	Department string    `json:"department"`
	Expires    time.Time `json:"expires"`
}

// CreateCode stores a single-use binding code for department, valid until
// expires; store.ErrExists if the code is already in use.
func (s *Store) CreateCode(ctx context.Context, code, department string, expires time.Time) error {
	if err := store.ValidateCode(code, department, expires); err != nil {
		return fmt.Errorf("create code: %w", err)
	}
	body, err := json.Marshal(codeRecord{Department: department, Expires: store.NormalizeTime(expires)})
	if err != nil {
		return fmt.Errorf("create code: %w", err)
	}
	ttl := max(time.Until(expires), 0) + codeGrace
	created, err := s.client.SetNX(ctx, s.codeKey(code), body, ttl).Result()
	if err != nil {
		return fmt.Errorf("create code: %w", err)
	}
	if !created {
		return fmt.Errorf("create code: %w", store.ErrExists)
	}
	return nil
}

// RedeemCode uses up code and returns its department. A code that is
// unknown, already used or expired at now yields store.ErrCodeInvalid; of
// two concurrent redeems of one code exactly one succeeds (GETDEL is atomic).
func (s *Store) RedeemCode(ctx context.Context, code string, now time.Time) (string, error) {
	var rec codeRecord
	if err := s.redeemOnce(ctx, s.codeKey(code), now, &rec, &rec.Expires); err != nil {
		return "", fmt.Errorf("redeem code: %w", err)
	}
	return rec.Department, nil
}

// redeemOnce uses up the JSON record at key (GETDEL: of two concurrent redeems exactly one
// gets it), decoding it into rec, whose expiry lands in *expires; store.ErrCodeInvalid if it
// is unknown, used or expired at now. An expired record is gone now too: it can never become
// valid again.
func (s *Store) redeemOnce(ctx context.Context, key string, now time.Time, rec any, expires *time.Time) error {
	body, err := s.client.GetDel(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return store.ErrCodeInvalid
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(body), rec); err != nil {
		return err
	}
	if store.Expired(*expires, now) {
		return store.ErrCodeInvalid
	}
	return nil
}

// Snooze silences reminders of task for department until until; the zero
// time lifts the snooze.
func (s *Store) Snooze(ctx context.Context, task int, department string, until time.Time) error {
	if err := store.ValidateSnooze(task, department); err != nil {
		return fmt.Errorf("snooze: %w", err)
	}
	field := store.SnoozeKey(task, department)
	var err error
	if until.IsZero() {
		err = s.client.HDel(ctx, s.snoozesKey(), field).Err()
	} else {
		err = s.client.HSet(ctx, s.snoozesKey(), field, store.FormatTime(until)).Err()
	}
	if err != nil {
		return fmt.Errorf("snooze task %d for %s: %w", task, department, err)
	}
	return nil
}

// Snoozes returns every snooze, keyed by store.SnoozeKey.
func (s *Store) Snoozes(ctx context.Context) (map[string]time.Time, error) {
	all, err := s.client.HGetAll(ctx, s.snoozesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("snoozes: %w", err)
	}
	out := make(map[string]time.Time, len(all))
	for field, until := range all {
		t, err := store.ParseTime(until)
		if err != nil {
			return nil, fmt.Errorf("snoozes: %s: %w", field, err)
		}
		out[field] = t
	}
	return out, nil
}

// Offset returns the next Telegram update_id to ask for, 0 if none yet.
func (s *Store) Offset(ctx context.Context) (int64, error) {
	offset, err := s.client.Get(ctx, s.offsetKey()).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("offset: %w", err)
	}
	return offset, nil
}

// raiseScript sets KEYS[1] to ARGV[1] only if that is higher. Lua compares
// doubles, exact for offsets below 2^53 (Telegram's are 32-bit).
var raiseScript = goredis.NewScript(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
	redis.call('SET', KEYS[1], ARGV[1])
end
return 0
`)

// ResetOffset sets the offset even below the stored one: Telegram numbers updates afresh
// after a week without any.
func (s *Store) ResetOffset(ctx context.Context, next int64) error {
	if err := s.client.Set(ctx, s.offsetKey(), strconv.FormatInt(next, 10), 0).Err(); err != nil {
		return fmt.Errorf("reset offset: %w", err)
	}
	return nil
}

// SetOffset raises the offset to next; it never moves backwards, so a
// late or repeated call cannot make Telegram redeliver old updates.
func (s *Store) SetOffset(ctx context.Context, next int64) error {
	err := raiseScript.Run(ctx, s.client, []string{s.offsetKey()}, strconv.FormatInt(next, 10)).Err()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("set offset: %w", err)
	}
	return nil
}
