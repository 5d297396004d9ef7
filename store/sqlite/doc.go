// Package sqlite is duban's embedded store: one SQLite file (pure Go,
// modernc.org/sqlite, no cgo), the default backend.
//
// Durability: the file runs in WAL mode with synchronous=FULL, so every
// commit is on disk before the call returns — a reply the bot acknowledged
// in chat survives a crash or power cut. Every multi-statement write is one
// BEGIN IMMEDIATE transaction, so it happens entirely or not at all.
//
// Namespaces: every row carries the Store's prefix in a namespace column and
// every query filters on it, so several bots (or test runs) can share one
// file without seeing each other's data.
//
// Concurrency: the daemon opens the file with Open, which holds an exclusive
// advisory lock (flock) on path+".lock" until Close; a second Open fails at
// once with an error wrapping store.ErrLocked that names the file. Readers
// such as `duban export` use OpenReadOnly, which takes no lock and reads a
// consistent snapshot per query while the daemon writes. Within the daemon,
// writes are queued on a mutex and reads run concurrently.
//
// Schema: created idempotently on Open; the schema_version table holds its
// version (2), and a file from a newer version is refused. Open upgrades a
// version 1 file in one transaction: it adds the attachment columns with
// ALTER TABLE (its updates have no attachment); OpenReadOnly, which must not
// write, reads a version 1 file as it is. Tables: updates (one row per
// update, primary key namespace+task+seq; a file sent with it in the
// attachment_* columns, attachment_kind NULL when there is none), heads (the
// chain head per task, the index of chains), latest (derived state per task and
// department, pointing at its last update), telegram_seen (update_ids
// recorded, pruned after store.SeenRetention), claims, sent, ledger,
// pending (a message some of whose parts went out, with its text, under its
// first key), message_refs (the reminder ledger), bindings, codes, snoozes
// and settings (the Telegram offset; "fence", the highest fencing token a
// ledger write carried). Times are stored as RFC 3339 text in UTC with
// nanoseconds, so they read back exactly.
package sqlite
