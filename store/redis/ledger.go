package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// fenceLua is the fence check the ledger scripts begin with: a write whose
// fence (ARGV[1]) is below the highest seen (KEYS[1], which AcquireLease also
// raises) is refused; a higher one is remembered; 0 is unfenced.
const fenceLua = `
local fence = tonumber(ARGV[1])
if fence > 0 then
	local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
	if fence < seen then
		return -1
	end
	if fence > seen then
		redis.call('SET', KEYS[1], ARGV[1])
	end
end
`

// claimScript is Claim's check-and-set, atomic because Redis runs a script
// without interleaving. A claim is stored as "<expiry>|<owner>", the expiry
// in Unix nanoseconds zero-padded to 20 digits so that string comparison
// orders it exactly (Lua numbers are doubles and would round nanoseconds).
//
// KEYS[1] fence, KEYS[2] ledger, KEYS[3] claims; ARGV fence, key, owner, now, expiry.
var claimScript = goredis.NewScript(fenceLua + `
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
	return 0
end
local held = redis.call('HGET', KEYS[3], ARGV[2])
if held then
	local sep = string.find(held, '|', 1, true)
	local expiry = string.sub(held, 1, sep - 1)
	local owner = string.sub(held, sep + 1)
	if owner ~= ARGV[3] and expiry > ARGV[4] then
		return 0
	end
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[5] .. '|' .. ARGV[3])
return 1
`)

func paddedNanos(t time.Time) string {
	return fmt.Sprintf("%020d", max(t.UnixNano(), 0))
}

// Claim takes key for owner until now+lease, atomically: it reports true
// only if key was never confirmed and no other owner holds an unexpired
// claim. The same owner may claim again (renewing its lease); a claim whose
// lease lapsed unconfirmed may be taken by anyone. A stale fence
// (store.WithFence) is refused with store.ErrFenced.
func (s *Store) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	if err := store.ValidateClaim(key, owner, now, lease); err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	won, err := claimScript.Run(ctx, s.client, []string{s.fenceKey(), s.ledgerKey(), s.claimsKey()},
		store.FenceOf(ctx), key, owner, paddedNanos(now), paddedNanos(now.Add(lease))).Int()
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	if won == -1 {
		return false, fmt.Errorf("claim %s: fence %d: %w", key, store.FenceOf(ctx), store.ErrFenced)
	}
	return won == 1, nil
}

func messageField(chatID int64, messageID int) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(messageID)
}

// confirmScript is Confirm, fenced and atomic. The record is stored once, in
// {prefix}:records under a fresh id, and each key and message points to it
// ("@<id>"): an escalation of 239 items is one record, not 242 copies.
//
// KEYS[1] fence, KEYS[2] ledger, KEYS[3] sent, KEYS[4] claims, KEYS[5]
// messages, KEYS[6] pending, KEYS[7] records, KEYS[8] record sequence; ARGV
// fence, complete ("1" or "0"), at, body, pending body, number of keys n,
// the n keys, then the message fields.
var confirmScript = goredis.NewScript(fenceLua + `
local n = tonumber(ARGV[6])
local complete = ARGV[2] == '1'
local ref = '@' .. redis.call('INCR', KEYS[8])
redis.call('HSET', KEYS[7], string.sub(ref, 2), ARGV[4])
if not complete then
	redis.call('HSET', KEYS[6], ARGV[7], ARGV[5])
end
for i = 7, 6 + n do
	if complete then
		redis.call('HSET', KEYS[2], ARGV[i], ARGV[3])
		redis.call('HSET', KEYS[3], ARGV[i], ref)
		redis.call('HDEL', KEYS[4], ARGV[i])
		redis.call('HDEL', KEYS[6], ARGV[i])
	end
end
for i = 7 + n, #ARGV do
	redis.call('HSET', KEYS[5], ARGV[i], ref)
end
return 1
`)

// readSentScript reads a record through its reference; a value written
// before records were stored once is the record itself.
//
// KEYS[1] the index (sent or messages), KEYS[2] records; ARGV field.
var readSentScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then
	return false
end
if string.sub(v, 1, 1) == '@' then
	return redis.call('HGET', KEYS[2], string.sub(v, 2))
end
return v
`)

// Confirm marks every key of sent as sent and indexes each of its messages,
// atomically (one script). Confirming a key again replaces what it points
// to. An unfinished sent (store.Sent.Complete) confirms no key: its messages
// are indexed and it is kept, text and all, in {prefix}:pending under its
// first key until a complete one replaces it. A stale fence is refused.
func (s *Store) Confirm(ctx context.Context, sent store.Sent) error {
	sent, err := store.NormalizeSent(sent)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if err := store.ValidateUnfinished(sent); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	complete, pendingBody := "1", []byte{}
	if !sent.Complete() {
		complete = "0"
		if pendingBody, err = json.Marshal(sent); err != nil {
			return fmt.Errorf("confirm: %w", err)
		}
	}
	sent.Text = "" // the index and the ledger need no text
	body, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	args := []any{store.FenceOf(ctx), complete, store.FormatTime(sent.At), body, pendingBody, len(sent.Keys)}
	for _, key := range sent.Keys {
		args = append(args, key)
	}
	for _, messageID := range sent.MessageIDs {
		args = append(args, messageField(sent.ChatID, messageID))
	}
	keys := []string{s.fenceKey(), s.ledgerKey(), s.sentKey(), s.claimsKey(), s.messagesKey(), s.pendingKey(),
		s.recordsKey(), s.recordSeqKey()}
	res, err := confirmScript.Run(ctx, s.client, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if res == -1 {
		return fmt.Errorf("confirm: fence %d: %w", store.FenceOf(ctx), store.ErrFenced)
	}
	return nil
}

func (s *Store) pendingKey() string   { return s.base + "pending" }
func (s *Store) fenceKey() string     { return s.base + "fence" }
func (s *Store) recordsKey() string   { return s.base + "records" }
func (s *Store) recordSeqKey() string { return s.base + "records:seq" }

// Pending returns every unfinished message (see Confirm), with its text.
func (s *Store) Pending(ctx context.Context) ([]store.Sent, error) {
	all, err := s.client.HGetAll(ctx, s.pendingKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	out := make([]store.Sent, 0, len(all))
	for key, body := range all {
		var sent store.Sent
		if err := json.Unmarshal([]byte(body), &sent); err != nil {
			return nil, fmt.Errorf("pending: %s: %w", key, err)
		}
		sent.At = sent.At.UTC()
		out = append(out, sent)
	}
	slices.SortFunc(out, func(a, b store.Sent) int { return strings.Compare(a.FirstKey(), b.FirstKey()) })
	return out, nil
}

// SentFor returns the reminder that confirmed key.
func (s *Store) SentFor(ctx context.Context, key string) (store.Sent, bool, error) {
	sent, ok, err := s.readSent(ctx, s.sentKey(), key)
	if err != nil {
		return store.Sent{}, false, fmt.Errorf("sent for %s: %w", key, err)
	}
	return sent, ok, nil
}

// MessageRef returns the reminder that Telegram message (chatID, messageID)
// belongs to, so a reply to it finds its tasks.
func (s *Store) MessageRef(ctx context.Context, chatID int64, messageID int) (store.Sent, bool, error) {
	sent, ok, err := s.readSent(ctx, s.messagesKey(), messageField(chatID, messageID))
	if err != nil {
		return store.Sent{}, false, fmt.Errorf("message ref %d/%d: %w", chatID, messageID, err)
	}
	return sent, ok, nil
}

func (s *Store) readSent(ctx context.Context, key, field string) (store.Sent, bool, error) {
	body, err := readSentScript.Run(ctx, s.client, []string{key, s.recordsKey()}, field).Text()
	if errors.Is(err, goredis.Nil) {
		return store.Sent{}, false, nil
	}
	if err != nil {
		return store.Sent{}, false, err
	}
	var sent store.Sent
	if err := json.Unmarshal([]byte(body), &sent); err != nil {
		return store.Sent{}, false, err
	}
	sent.At = sent.At.UTC()
	return sent, true, nil
}

// Ledger returns every confirmed key with the time it was sent.
func (s *Store) Ledger(ctx context.Context) (map[string]time.Time, error) {
	all, err := s.client.HGetAll(ctx, s.ledgerKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	ledger := make(map[string]time.Time, len(all))
	for key, at := range all {
		t, err := store.ParseTime(at)
		if err != nil {
			return nil, fmt.Errorf("ledger: key %s: %w", key, err)
		}
		ledger[key] = t
	}
	return ledger, nil
}
