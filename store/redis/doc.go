// Package redis is duban's Redis store (github.com/redis/go-redis/v9,
// imported as goredis), for deployments that already run Redis or several
// bots sharing one.
//
// Open's client speaks RESP2 unless the URL asks for RESP3 (?protocol=3): see
// ClientOptions. A Store made with New on a caller's client works with either.
//
// # Keyspace
//
// Every key starts with "{P}:" where P is the Store's prefix. The braces
// make P a hash tag, so all keys of one store lie in one Redis Cluster slot
// and multi-key transactions and scripts work there too. Several bots share
// one Redis by using different prefixes; nothing here ever lists keys (no
// KEYS, no SCAN): every set of things is kept in its own hash or set.
//
//	{P}:chain:<task>        stream   the task's updates, append-only. Entry ID
//	                                 "<seq>-0" (explicit, so Redis itself refuses
//	                                 a second append at the same seq); one field
//	                                 per Update field, named as in its JSON
//	                                 (id, seq, task, department, at, chat_id,
//	                                 message_id, user_id, user_name, text, status,
//	                                 percent, value, source, corrects,
//	                                 telegram_update, prev_hash, hash, and
//	                                 attachment: the store.Attachment as JSON,
//	                                 {"kind", "file_id", "file_unique_id",
//	                                 "file_name", "mime_type", "size"}); percent,
//	                                 value and attachment are absent when not
//	                                 given. Read with XRANGE.
//	{P}:head:<task>         hash     the chain head: seq (updates appended), hash
//	                                 (of the last one). Verify compares the stream
//	                                 with it to catch a removed tail.
//	{P}:chains              set      task ids that have a chain.
//	{P}:latest              hash     "<task>|<department>" → State as JSON: the
//	                                 derived latest state, so Latest is one HGETALL.
//	{P}:latest-for:<dept>   hash     "<task>" → the same State JSON, so LatestFor
//	                                 is one HGETALL.
//	{P}:seen:<update_id>    string   JSON array of the update IDs a Telegram
//	                                 update recorded ("[]" for none); expires
//	                                 after store.SeenRetention (2 days).
//	{P}:claims              hash     ledger key → "<expiry>|<owner>", the expiry
//	                                 in Unix ns zero-padded to 20 digits; removed
//	                                 on Confirm.
//	{P}:ledger              hash     ledger key → sent time (RFC 3339, UTC, ns).
//	{P}:sent                hash     ledger key → "@<id>" of its record in
//	                                 {P}:records (or, written before records were
//	                                 stored once, the Sent JSON itself).
//	{P}:messages            hash     "<chat_id>:<message_id>" → "@<id>", the same
//	                                 (or an older Sent JSON).
//	{P}:records             hash     id → Sent as JSON, one per Confirm, however
//	                                 many keys and messages point to it. A record
//	                                 nothing points to any more (its keys and
//	                                 messages confirmed again) stays.
//	{P}:records:seq         string   the last record id (INCR).
//	{P}:pending             hash     first ledger key of a message some of whose
//	                                 parts went out → Sent as JSON with Parts
//	                                 and Text, so a retry sends only the rest;
//	                                 removed when the whole message is confirmed.
//	{P}:fence               string   the highest fencing token (decimal): raised
//	                                 by every AcquireLease that takes a free
//	                                 lease and by a ledger write with a higher
//	                                 one; Claim and Confirm with a lower nonzero
//	                                 one are refused (store.ErrFenced).
//	{P}:bindings            hash     department → Binding as JSON.
//	{P}:chats               hash     chat id → department (index: a chat has at
//	                                 most one department).
//	{P}:code:<code>         string   {"department", "expires"} JSON; TTL past
//	                                 expiry for garbage collection only (expiry
//	                                 itself is judged against the caller's now).
//	{P}:snoozes             hash     "<task>|<department>" → until (RFC 3339).
//	{P}:offset              string   the Telegram offset (decimal).
//	{P}:outbox              hash     "<chat_id>:<update_id>" → store.Answer as
//	                                 JSON: an acknowledgement not yet sent (written
//	                                 before its update is confirmed, removed once
//	                                 it is sent and indexed).
//	{P}:lease:<name>        string   the token of the daemon holding the lease
//	                                 (leader election among daemons sharing one
//	                                 Redis); PX expiry of the lease's ttl, so it
//	                                 lapses unless renewed. Removed on release.
//
// # Atomicity
//
// Record reads the seen key, heads, streams and latest states of what it
// touches in one pipeline (or takes them from the Store's cache of what it
// last read or wrote), computes seqs, hashes and states with the shared logic
// in package store, and writes everything with one Lua script that first
// checks the seen key, heads, states and (for several tasks) stream last IDs
// against what it computed from: on a mismatch it writes nothing and Record
// reads again (at most 50 times, with jittered back-off, then
// store.ErrConflict). A stale cache costs a refused script, never a wrong
// write. RecordAnswered passes the acknowledgement's outbox entry to the same
// script, written last, so the record and its answer go together. Records and outbox writes waiting at the same moment (the bot's
// chats side by side) share one pipeline, one round trip. Bind, Unbind,
// MigrateChat and MarkBroken WATCH the bindings and chats hashes, read, and
// write in one MULTI/EXEC, retried the same way. Claim, Confirm and SetOffset are Lua
// scripts (check-and-set in one step; Claim and Confirm check the fence
// first); RedeemCode is
// GETDEL, so of two concurrent redeems exactly one gets the code.
// AcquireLease, RenewLease and ReleaseLease are Lua scripts too: each
// compares the token and sets, PEXPIREs or DELs in one step, so of several
// daemons racing for a free lease exactly one gets it, and none renews or
// releases a lease another holds.
//
// # Failures
//
// A lost connection surfaces as an error from the call that needed it;
// nothing is queued or dropped silently. The go-redis client reconnects on
// its own once Redis is back, so the same Store keeps working. Durability
// is Redis's: run it with appendonly yes (appendfsync always for the
// strictest guarantee). Errors never carry the URL or its password.
package redis
