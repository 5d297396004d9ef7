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

// claimLua defines claim, Claim's check-and-set of one key in the scripts that take or renew
// claims. A claim is stored as "<expiry>|<owner>", the expiry in Unix nanoseconds zero-padded
// to 20 digits so that string comparison orders it exactly (Lua numbers are doubles and would
// round nanoseconds). It takes key for owner until expiry and returns 1 unless key is confirmed
// (in ledger) or another owner's claim expires after now; then it changes nothing and returns 0.
const claimLua = `
local function claim(ledger, claims, key, owner, now, expiry)
	if redis.call('HEXISTS', ledger, key) == 1 then
		return 0
	end
	local held = redis.call('HGET', claims, key)
	if held then
		local sep = string.find(held, '|', 1, true)
		if string.sub(held, sep + 1) ~= owner and string.sub(held, 1, sep - 1) > now then
			return 0
		end
	end
	redis.call('HSET', claims, key, expiry .. '|' .. owner)
	return 1
end
`

func paddedNanos(t time.Time) string {
	return fmt.Sprintf("%020d", max(t.UnixNano(), 0))
}

// Claim takes key for owner until now+lease, atomically: it reports true
// only if key was never confirmed and no other owner holds an unexpired
// claim. The same owner may claim again (renewing its lease); a claim whose
// lease lapsed unconfirmed may be taken by anyone. A stale fence
// (store.WithFence) is refused with store.ErrFenced.
func (s *Store) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	won, err := s.ClaimAll(ctx, []string{key}, owner, now, lease)
	if err != nil {
		return false, err
	}
	return won[0], nil
}

func messageField(chatID int64, messageID int) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(messageID)
}

// confirmScript is Confirm, fenced and atomic. The record is stored once, in
// {prefix}:records under a fresh id, and each key and message points to it
// ("@<id>"): an escalation of 239 items is one record, not 242 copies. An
// unfinished record with a renewal (owner not "") also claims its first key, as
// Claim does. It returns 1, 0 when the renewal found the claim lost (the record
// written all the same), or -1 when fenced.
//
// KEYS[1] fence, KEYS[2] ledger, KEYS[3] sent, KEYS[4] claims, KEYS[5]
// messages, KEYS[6] pending, KEYS[7] records, KEYS[8] record sequence; ARGV
// fence, complete ("1" or "0"), at, body, pending body, number of keys n,
// renewal owner ("" for none), now, expiry, the n keys, then the message fields.
var confirmScript = goredis.NewScript(fenceLua + claimLua + `
local n = tonumber(ARGV[6])
local complete = ARGV[2] == '1'
local ref = '@' .. redis.call('INCR', KEYS[8])
redis.call('HSET', KEYS[7], string.sub(ref, 2), ARGV[4])
if not complete then
	redis.call('HSET', KEYS[6], ARGV[10], ARGV[5])
end
for i = 10, 9 + n do
	if complete then
		redis.call('HSET', KEYS[2], ARGV[i], ARGV[3])
		redis.call('HSET', KEYS[3], ARGV[i], ref)
		redis.call('HDEL', KEYS[4], ARGV[i])
		redis.call('HDEL', KEYS[6], ARGV[i])
	end
end
for i = 10 + n, #ARGV do
	redis.call('HSET', KEYS[5], ARGV[i], ref)
end
if not complete and ARGV[7] ~= '' then
	return claim(KEYS[2], KEYS[4], ARGV[10], ARGV[7], ARGV[8], ARGV[9])
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
// first key until a complete one replaces it; its Renew, if set, claims that
// key in the same script (store.ErrClaimLost when it cannot). A stale fence is
// refused.
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
	// An unfinished record confirms no key: the script needs only the first (the pending
	// entry's field and the renewed claim), not the thousands a long message carries, sent
	// again with each of its parts.
	keys := sent.Keys
	if complete == "0" && len(keys) > 1 {
		keys = keys[:1]
	}
	args := make([]any, 0, 9+len(keys)+len(sent.MessageIDs))
	args = append(args, store.FenceOf(ctx), complete, store.FormatTime(sent.At), body, pendingBody, len(keys), "", "", "")
	if r := sent.Renew; r != nil && !sent.Complete() {
		args[6], args[7], args[8] = r.Owner, paddedNanos(r.Now), paddedNanos(r.Now.Add(r.Lease))
	}
	for _, key := range keys {
		args = append(args, key)
	}
	for _, messageID := range sent.MessageIDs {
		args = append(args, messageField(sent.ChatID, messageID))
	}
	scriptKeys := []string{s.fenceKey(), s.ledgerKey(), s.sentKey(), s.claimsKey(), s.messagesKey(), s.pendingKey(),
		s.recordsKey(), s.recordSeqKey()}
	res, err := confirmScript.Run(ctx, s.client, scriptKeys, args...).Int()
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	switch res {
	case -1:
		return fmt.Errorf("confirm: fence %d: %w", store.FenceOf(ctx), store.ErrFenced)
	case 0:
		return fmt.Errorf("confirm: renew %s: %w", sent.FirstKey(), store.ErrClaimLost)
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

// Ledger returns every confirmed key with the time it was sent. Over RESP2 (ClientOptions)
// HGETALL is read as the flat list it is; over RESP3 go-redis reads it only into a map, from
// which the ledger is taken without building a second.
func (s *Store) Ledger(ctx context.Context) (store.Ledger, error) {
	if s.resp2 {
		return s.ledgerFlat(ctx)
	}
	all, err := s.client.HGetAll(ctx, s.ledgerKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	ledger := make(store.Ledger, 0, len(all))
	for key, at := range all {
		e, err := store.ParseLedgerEntry(key, at)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		ledger = append(ledger, e)
	}
	return ledger, nil
}

// ledgerFlat is Ledger over RESP2: HGETALL's answer, key, time, key, time, … in one list.
func (s *Store) ledgerFlat(ctx context.Context) (store.Ledger, error) {
	cmd := goredis.NewStringSliceCmd(ctx, "hgetall", s.ledgerKey())
	if err := s.client.Process(ctx, cmd); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	flat := cmd.Val()
	if len(flat)%2 != 0 {
		return nil, fmt.Errorf("ledger: hgetall answered %d strings, want pairs", len(flat))
	}
	ledger := make(store.Ledger, 0, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		e, err := store.ParseLedgerEntry(flat[i], flat[i+1])
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		ledger = append(ledger, e)
	}
	return ledger, nil
}

// claimAllScript is Claim's check-and-set (claimLua) for many keys in one call, atomic
// because Redis runs a script without interleaving: the fence is checked once, then each key.
// It returns one 0/1 per key, or -1 when fenced.
//
// KEYS[1] fence, KEYS[2] ledger, KEYS[3] claims; ARGV fence, owner, now, expiry, the keys.
var claimAllScript = goredis.NewScript(fenceLua + claimLua + `
local won = {}
for i = 5, #ARGV do
	won[#won + 1] = claim(KEYS[2], KEYS[3], ARGV[i], ARGV[2], ARGV[3], ARGV[4])
end
return won
`)

// claimAllChunk bounds the keys of one script call, so that a huge first tick does not hold
// Redis (which runs a script without interleaving) for long: 5,000 keys are one call.
const claimAllChunk = 5000

// ClaimAll is Claim for each of keys, in one script call (per claimAllChunk keys): won[i]
// says whether keys[i] was taken. The fence is checked once, for all of them.
func (s *Store) ClaimAll(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]bool, error) {
	for _, key := range keys {
		if err := store.ValidateClaim(key, owner, now, lease); err != nil {
			return nil, fmt.Errorf("claim all: %w", err)
		}
	}
	won := make([]bool, 0, len(keys))
	for chunk := range slices.Chunk(keys, claimAllChunk) {
		args := make([]any, 0, 4+len(chunk))
		args = append(args, store.FenceOf(ctx), owner, paddedNanos(now), paddedNanos(now.Add(lease)))
		for _, key := range chunk {
			args = append(args, key)
		}
		res, err := claimAllScript.Run(ctx, s.client, []string{s.fenceKey(), s.ledgerKey(), s.claimsKey()}, args...).Result()
		if err != nil {
			return nil, fmt.Errorf("claim %d keys: %w", len(keys), err)
		}
		answers, ok := res.([]any)
		if !ok { // the fence check's -1
			return nil, fmt.Errorf("claim %d keys: fence %d: %w", len(keys), store.FenceOf(ctx), store.ErrFenced)
		}
		if len(answers) != len(chunk) {
			return nil, fmt.Errorf("claim %d keys: got %d answers for %d keys", len(keys), len(answers), len(chunk))
		}
		for _, v := range answers {
			won = append(won, v == int64(1))
		}
	}
	return won, nil
}

// pruneKeysScript removes ledger keys with their sent index entry, each only if both are
// still what the pruning read (a key confirmed again meanwhile stays), and the claims whose
// lease lapsed before now. It returns how many keys and claims it removed, then the sent
// references of the keys it left (whose records must stay), or -1 when fenced.
//
// KEYS[1] fence, KEYS[2] ledger, KEYS[3] sent, KEYS[4] claims; ARGV fence, now, then triples
// key, at, sent reference.
var pruneKeysScript = goredis.NewScript(fenceLua + `
local keys, claims = 0, 0
local left = {}
for i = 3, #ARGV, 3 do
	local key, at, ref = ARGV[i], ARGV[i + 1], ARGV[i + 2]
	if redis.call('HGET', KEYS[2], key) == at and (redis.call('HGET', KEYS[3], key) or '') == ref then
		redis.call('HDEL', KEYS[2], key)
		redis.call('HDEL', KEYS[3], key)
		keys = keys + 1
	else
		left[#left + 1] = ref
	end
end
if ARGV[2] ~= '' then
	local all = redis.call('HGETALL', KEYS[4])
	for i = 1, #all, 2 do
		local held = all[i + 1]
		local sep = string.find(held, '|', 1, true)
		if sep and string.sub(held, 1, sep - 1) < ARGV[2] then
			redis.call('HDEL', KEYS[4], all[i])
			claims = claims + 1
		end
	end
end
local out = {keys, claims}
for _, ref in ipairs(left) do
	out[#out + 1] = ref
end
return out
`)

// pruneRecordsScript removes records by id. KEYS[1] fence, KEYS[2] records; ARGV fence, ids.
var pruneRecordsScript = goredis.NewScript(fenceLua + `
local n = 0
for i = 2, #ARGV do
	n = n + redis.call('HDEL', KEYS[2], ARGV[i])
end
return n
`)

// pruneChunk bounds the keys (or records) of one pruning script call, so that Redis, which
// runs a script without interleaving, is held for milliseconds, not seconds.
const pruneChunk = 2000

// PruneLedger removes the confirmed keys keep refuses, with their sent index entries; then
// every record (see Confirm) that no remaining key and no message points to (a reply to an old
// reminder still finds its tasks): those of the pruned keys, and those a message confirmed
// part by part left behind, one per part; and every claim whose lease lapsed before now (a
// lapsed claim binds nobody: removing it changes no Claim). A key confirmed again while it
// runs stays. It reads the ledger, the sent and message indexes and the record ids in one
// MULTI/EXEC, so at one instant: a record nothing points to then never gains a pointer, as
// Confirm points only to the record it writes. It writes in fenced script calls of pruneChunk
// keys.
func (s *Store) PruneLedger(ctx context.Context, now time.Time, keep store.PruneKeep) (store.Pruned, error) {
	var pruned store.Pruned
	if now.IsZero() {
		return pruned, fmt.Errorf("prune ledger: %w", store.ErrInvalid)
	}
	pipe := s.client.TxPipeline()
	ledgerCmd := pipe.HGetAll(ctx, s.ledgerKey())
	sentCmd := pipe.HGetAll(ctx, s.sentKey())
	messagesCmd := pipe.HVals(ctx, s.messagesKey())
	recordsCmd := pipe.HKeys(ctx, s.recordsKey())
	if _, err := pipe.Exec(ctx); err != nil {
		return pruned, fmt.Errorf("prune ledger: read: %w", err)
	}
	ledger, sent, messages := ledgerCmd.Val(), sentCmd.Val(), messagesCmd.Val()
	var drop []string // key, at, ref triples
	gone := map[string]bool{}
	for key, at := range ledger {
		t, err := store.ParseTime(at)
		if err != nil {
			return pruned, fmt.Errorf("prune ledger: key %s: %w", key, err)
		}
		if !keep(key, t) {
			drop = append(drop, key, at, sent[key])
			gone[key] = true
		}
	}
	// A record may go only once no remaining key and no message points to it.
	refs := map[string]int{}
	for key, ref := range sent {
		if !gone[key] {
			refs[ref]++
		}
	}
	for _, ref := range messages {
		refs[ref]++
	}
	candidates := map[string]bool{}
	for _, id := range recordsCmd.Val() {
		if ref := "@" + id; refs[ref] == 0 {
			candidates[ref] = true
		}
	}

	fence := store.FenceOf(ctx)
	keyArgs := []string{s.fenceKey(), s.ledgerKey(), s.sentKey(), s.claimsKey()}
	for first := 0; first == 0 || first < len(drop); first += 3 * pruneChunk {
		chunk := drop[first:min(first+3*pruneChunk, len(drop))]
		args := []any{fence, ""}
		if first == 0 {
			args[1] = paddedNanos(now) // the claims once, with the first chunk
		}
		for _, a := range chunk {
			args = append(args, a)
		}
		res, err := pruneKeysScript.Run(ctx, s.client, keyArgs, args...).Result()
		if err != nil {
			return pruned, fmt.Errorf("prune ledger: %w", err)
		}
		out, ok := res.([]any)
		if !ok || len(out) < 2 {
			return pruned, fmt.Errorf("prune ledger: fence %d: %w", fence, store.ErrFenced)
		}
		k, _ := out[0].(int64)
		c, _ := out[1].(int64)
		pruned.Keys += int(k)
		pruned.Claims += int(c)
		for _, v := range out[2:] {
			if ref, ok := v.(string); ok {
				delete(candidates, ref) // its key was confirmed again: not ours to judge
			}
		}
		if len(drop) == 0 {
			break
		}
	}
	ids := make([]string, 0, len(candidates))
	for ref := range candidates {
		ids = append(ids, strings.TrimPrefix(ref, "@"))
	}
	slices.Sort(ids)
	for chunk := range slices.Chunk(ids, pruneChunk) {
		args := []any{fence}
		for _, id := range chunk {
			args = append(args, id)
		}
		n, err := pruneRecordsScript.Run(ctx, s.client, []string{s.fenceKey(), s.recordsKey()}, args...).Int()
		if err != nil {
			return pruned, fmt.Errorf("prune ledger: records: %w", err)
		}
		if n == -1 {
			return pruned, fmt.Errorf("prune ledger: records: fence %d: %w", fence, store.ErrFenced)
		}
		pruned.Records += n
	}
	return pruned, nil
}
