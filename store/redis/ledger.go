package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// claimScript is Claim's check-and-set, atomic because Redis runs a script
// without interleaving. A claim is stored as "<expiry>|<owner>", the expiry
// in Unix nanoseconds zero-padded to 20 digits so that string comparison
// orders it exactly (Lua numbers are doubles and would round nanoseconds).
//
// KEYS[1] ledger, KEYS[2] claims; ARGV key, owner, now, expiry.
var claimScript = goredis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
	return 0
end
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then
	local sep = string.find(held, '|', 1, true)
	local expiry = string.sub(held, 1, sep - 1)
	local owner = string.sub(held, sep + 1)
	if owner ~= ARGV[2] and expiry > ARGV[3] then
		return 0
	end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4] .. '|' .. ARGV[2])
return 1
`)

func paddedNanos(t time.Time) string {
	return fmt.Sprintf("%020d", max(t.UnixNano(), 0))
}

// Claim takes key for owner until now+lease, atomically: it reports true
// only if key was never confirmed and no other owner holds an unexpired
// claim. The same owner may claim again (renewing its lease); a claim whose
// lease lapsed unconfirmed may be taken by anyone.
func (s *Store) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	if err := store.ValidateClaim(key, owner, now, lease); err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	won, err := claimScript.Run(ctx, s.client, []string{s.ledgerKey(), s.claimsKey()},
		key, owner, paddedNanos(now), paddedNanos(now.Add(lease))).Int()
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	return won == 1, nil
}

func messageField(chatID int64, messageID int) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(messageID)
}

// Confirm marks every key of sent as sent and indexes each of its messages,
// atomically (one MULTI/EXEC). Confirming a key again replaces what it
// points to.
func (s *Store) Confirm(ctx context.Context, sent store.Sent) error {
	sent, err := store.NormalizeSent(sent)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	body, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	at := store.FormatTime(sent.At)
	_, err = s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for _, key := range sent.Keys {
			p.HSet(ctx, s.ledgerKey(), key, at)
			p.HSet(ctx, s.sentKey(), key, body)
			p.HDel(ctx, s.claimsKey(), key)
		}
		for _, messageID := range sent.MessageIDs {
			p.HSet(ctx, s.messagesKey(), messageField(sent.ChatID, messageID), body)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	return nil
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
	body, err := s.client.HGet(ctx, key, field).Result()
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
