// Package store holds what every duban storage backend shares: the record
// types (Update, State, Sent, Binding), the sentinel errors, and the logic
// that must be identical across backends, written once here:
//
//   - Normalize validates the updates given to Record;
//   - Append assigns each update its Seq, ID, PrevHash and Hash and derives
//     the new State of every (task, department) it touches;
//   - Hash and CanonicalEncoding define the tamper-evident chain (the
//     encoding is documented on CanonicalEncoding so an auditor can
//     recompute every hash from an export);
//   - Derive turns a department's updates on a task into its latest State;
//   - Verify walks the chains of any ChainReader and reports records that
//     were altered, removed or inserted, and tails that were cut off.
//
// Each task's updates form one hash chain: update n carries the hash of
// update n-1 as PrevHash, and its own Hash covers every other field. Nothing
// is overwritten; a correction is a new update naming the one it corrects.
//
// A file sent with a report is kept as its Attachment: Telegram's file_id and
// file_unique_id, name, type and size, all under the hash. The bytes stay at
// Telegram (`duban export -files` fetches them); the hash proves which file
// was recorded, by Telegram's file_unique_id, not what the file contains.
//
// The backends are store/sqlite (embedded, the default) and store/redis.
// Both expose a concrete *Store with the same methods; store/storetest is the
// conformance suite both must pass.
package store
