package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"github.com/duban/duban/store"
)

// schemaVersion is the version of the schema below. A file written by a
// newer version is refused rather than misread. Version 2 added the
// attachment columns of updates; Open adds them to a version 1 file.
const schemaVersion = 2

// busyTimeout bounds how long a statement waits for a lock another
// connection (the export reader, a checkpoint) holds.
const busyTimeout = 10 * time.Second

var schema = []string{
	`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS updates (
		namespace       TEXT    NOT NULL,
		task            INTEGER NOT NULL,
		seq             INTEGER NOT NULL,
		id              TEXT    NOT NULL,
		department      TEXT    NOT NULL,
		at              TEXT    NOT NULL,
		chat_id         INTEGER NOT NULL,
		message_id      INTEGER NOT NULL,
		user_id         INTEGER NOT NULL,
		user_name       TEXT    NOT NULL,
		text            TEXT    NOT NULL,
		status          TEXT    NOT NULL,
		percent         INTEGER,
		value           REAL,
		source          TEXT    NOT NULL,
		corrects        TEXT    NOT NULL,
		telegram_update INTEGER NOT NULL,
		prev_hash       TEXT    NOT NULL,
		hash            TEXT    NOT NULL,
		attachment_kind           TEXT,
		attachment_file_id        TEXT    NOT NULL DEFAULT '',
		attachment_file_unique_id TEXT    NOT NULL DEFAULT '',
		attachment_file_name      TEXT    NOT NULL DEFAULT '',
		attachment_mime_type      TEXT    NOT NULL DEFAULT '',
		attachment_size           INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (namespace, task, seq)
	)`,
	`CREATE TABLE IF NOT EXISTS heads (
		namespace TEXT    NOT NULL,
		task      INTEGER NOT NULL,
		seq       INTEGER NOT NULL,
		hash      TEXT    NOT NULL,
		PRIMARY KEY (namespace, task)
	)`,
	`CREATE TABLE IF NOT EXISTS latest (
		namespace  TEXT    NOT NULL,
		task       INTEGER NOT NULL,
		department TEXT    NOT NULL,
		status     TEXT    NOT NULL,
		status_at  TEXT    NOT NULL DEFAULT '',
		percent    INTEGER,
		value      REAL,
		updates    INTEGER NOT NULL,
		last_seq   INTEGER NOT NULL,
		PRIMARY KEY (namespace, task, department)
	)`,
	`CREATE INDEX IF NOT EXISTS latest_by_department ON latest (namespace, department, task)`,
	`CREATE TABLE IF NOT EXISTS telegram_seen (
		namespace TEXT    NOT NULL,
		update_id INTEGER NOT NULL,
		recorded  TEXT    NOT NULL,
		seen_at   INTEGER NOT NULL,
		PRIMARY KEY (namespace, update_id)
	)`,
	`CREATE INDEX IF NOT EXISTS telegram_seen_by_age ON telegram_seen (namespace, seen_at)`,
	`CREATE TABLE IF NOT EXISTS claims (
		namespace TEXT    NOT NULL,
		key       TEXT    NOT NULL,
		owner     TEXT    NOT NULL,
		expires   INTEGER NOT NULL,
		PRIMARY KEY (namespace, key)
	)`,
	`CREATE TABLE IF NOT EXISTS sent (
		id        INTEGER PRIMARY KEY,
		namespace TEXT NOT NULL,
		body      TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS ledger (
		namespace TEXT    NOT NULL,
		key       TEXT    NOT NULL,
		sent_id   INTEGER NOT NULL,
		at        TEXT    NOT NULL,
		PRIMARY KEY (namespace, key)
	)`,
	// pending holds a message some of whose parts went out, under its first ledger key,
	// until the rest have (ledger.go). IF NOT EXISTS: an older file gets it as it opens.
	`CREATE TABLE IF NOT EXISTS pending (
		namespace TEXT NOT NULL,
		key       TEXT NOT NULL,
		body      TEXT NOT NULL,
		PRIMARY KEY (namespace, key)
	)`,
	`CREATE TABLE IF NOT EXISTS message_refs (
		namespace  TEXT    NOT NULL,
		chat_id    INTEGER NOT NULL,
		message_id INTEGER NOT NULL,
		sent_id    INTEGER NOT NULL,
		PRIMARY KEY (namespace, chat_id, message_id)
	)`,
	`CREATE TABLE IF NOT EXISTS bindings (
		namespace  TEXT    NOT NULL,
		department TEXT    NOT NULL,
		chat_id    INTEGER NOT NULL,
		title      TEXT    NOT NULL,
		bound_at   TEXT    NOT NULL,
		bound_by   INTEGER NOT NULL,
		broken     TEXT    NOT NULL,
		PRIMARY KEY (namespace, department)
	)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS bindings_by_chat ON bindings (namespace, chat_id)`,
	`CREATE TABLE IF NOT EXISTS codes (
		namespace  TEXT NOT NULL,
		code       TEXT NOT NULL,
		department TEXT NOT NULL,
		expires    TEXT NOT NULL,
		PRIMARY KEY (namespace, code)
	)`,
	`CREATE TABLE IF NOT EXISTS snoozes (
		namespace  TEXT    NOT NULL,
		task       INTEGER NOT NULL,
		department TEXT    NOT NULL,
		until      TEXT    NOT NULL,
		PRIMARY KEY (namespace, task, department)
	)`,
	`CREATE TABLE IF NOT EXISTS settings (
		namespace TEXT    NOT NULL,
		name      TEXT    NOT NULL,
		value     INTEGER NOT NULL,
		PRIMARY KEY (namespace, name)
	)`,
}

type column struct{ name, definition string }

// addedColumns are the columns of updates that a version 1 file lacks, with
// the definitions ALTER TABLE gives them: existing rows get no attachment
// (attachment_kind NULL), as they had none.
var addedColumns = []column{
	{"attachment_kind", "TEXT"},
	{"attachment_file_id", "TEXT NOT NULL DEFAULT ''"},
	{"attachment_file_unique_id", "TEXT NOT NULL DEFAULT ''"},
	{"attachment_file_name", "TEXT NOT NULL DEFAULT ''"},
	{"attachment_mime_type", "TEXT NOT NULL DEFAULT ''"},
	{"attachment_size", "INTEGER NOT NULL DEFAULT 0"},
}

// Store is the embedded store: one SQLite file, every row tagged with the
// store's prefix.
type Store struct {
	db        *sql.DB
	namespace string
	path      string
	readOnly  bool
	lock      *os.File

	// selectUpdate and selectLatestUpdate are the columns an update is read
	// from (see scanUpdate), bare and as "u." of the latest query. A
	// read-only Store on a version 1 file, which it must not migrate, reads
	// constants in place of the attachment columns.
	selectUpdate, selectLatestUpdate string
	// updatesOf reads one task's chain (Updates), prepared once: an export or a verify reads
	// every chain, and preparing the query anew for each of 10,000 tasks was a sixth of an
	// export's CPU.
	updatesOf *sql.Stmt

	// writeMu serialises this process's write transactions. The daemon is
	// the only writer (it holds the lock file), so this replaces SQLite's
	// busy-wait between our own connections with a plain queue.
	writeMu   sync.Mutex
	lastPrune time.Time // guarded by writeMu
	// queued are the writes waiting for the next commit (see write).
	queueMu sync.Mutex
	queued  []*pendingWrite
	commits atomic.Int64 // transactions committed, for tests and benchmarks

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if need be) the store file at path for the daemon,
// with its data under prefix. It takes an exclusive lock on path+".lock"
// for as long as the Store is open, so that a second daemon on the same
// file fails at once with an error wrapping store.ErrLocked.
func Open(ctx context.Context, path, prefix string) (*Store, error) {
	if prefix == "" {
		return nil, fmt.Errorf("open sqlite store: prefix: must not be empty: %w", store.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	lock, err := lockFile(abs + ".lock")
	if errors.Is(err, errLockHeld) {
		return nil, fmt.Errorf("open %s: another duban process is using it: %w", path, store.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: lock: %w", path, err)
	}
	s, err := openDB(ctx, abs, prefix, false)
	if err != nil {
		unlockFile(lock)
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	s.path, s.lock = path, lock
	return s, nil
}

// OpenReadOnly opens an existing store file for reading only, without the
// daemon's lock, so that `duban export` can read while the daemon writes.
// Every write method of the returned Store fails with store.ErrReadOnly.
func OpenReadOnly(ctx context.Context, path, prefix string) (*Store, error) {
	if prefix == "" {
		return nil, fmt.Errorf("open sqlite store read-only: prefix: must not be empty: %w", store.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s read-only: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open sqlite store %s read-only: %w", path, err)
	}
	s, err := openDB(ctx, abs, prefix, true)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s read-only: %w", path, err)
	}
	s.path = path
	return s, nil
}

func openDB(ctx context.Context, abs, prefix string, readOnly bool) (*Store, error) {
	query := url.Values{}
	query.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	if readOnly {
		query.Set("mode", "ro")
		query.Add("_pragma", "query_only(1)")
	} else {
		query.Add("_pragma", "journal_mode(WAL)")
		// FULL: a commit is on disk before Record returns, so a reply the
		// bot acknowledged in chat survives a power cut.
		query.Add("_pragma", "synchronous(FULL)")
		query.Set("_txlock", "immediate")
	}
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: query.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &Store{db: db, namespace: prefix, readOnly: readOnly}
	if readOnly {
		err = s.checkSchema(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	withAttachments := true
	if readOnly {
		missing, err := missingColumns(ctx, db)
		if err != nil {
			db.Close()
			return nil, err
		}
		withAttachments = len(missing) == 0
	}
	s.selectUpdate, s.selectLatestUpdate = updateSelect("", withAttachments), updateSelect("u.", withAttachments)
	s.updatesOf, err = db.PrepareContext(ctx, `SELECT `+s.selectUpdate+` FROM updates
			WHERE namespace = ? AND task = ? ORDER BY seq`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare the read of a chain: %w", err)
	}
	return s, nil
}

// missingColumns returns the addedColumns the updates table lacks.
func missingColumns(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_info('updates')`)
	if err != nil {
		return nil, fmt.Errorf("read columns of updates: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read columns of updates: %w", err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of updates: %w", err)
	}
	var missing []column
	for _, c := range addedColumns {
		if !have[c.name] {
			missing = append(missing, c)
		}
	}
	return missing, nil
}

func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		var version sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		switch {
		case !version.Valid:
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, schemaVersion)
			return err
		case version.Int64 > schemaVersion:
			return fmt.Errorf("schema version %d is newer than this build's %d: upgrade duban", version.Int64, schemaVersion)
		case version.Int64 < schemaVersion:
			return upgrade(ctx, tx)
		}
		return nil
	})
}

// upgrade brings an older file to schemaVersion in the transaction of migrate,
// so that a failure leaves the file as it was. CREATE TABLE IF NOT EXISTS
// keeps an existing table as it is, so columns added since are added here.
func upgrade(ctx context.Context, tx *sql.Tx) error {
	missing, err := missingColumns(ctx, tx)
	if err != nil {
		return err
	}
	for _, c := range missing {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE updates ADD COLUMN `+c.name+` `+c.definition); err != nil {
			return fmt.Errorf("upgrade schema: add column %s: %w", c.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, schemaVersion); err != nil {
		return fmt.Errorf("upgrade schema: %w", err)
	}
	return nil
}

func (s *Store) checkSchema(ctx context.Context) error {
	var version sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version (is this a duban store?): %w", err)
	}
	if !version.Valid || version.Int64 > schemaVersion {
		return fmt.Errorf("schema version %d is not readable by this build (%d)", version.Int64, schemaVersion)
	}
	return nil
}

// write runs fn in one BEGIN IMMEDIATE transaction and commits it, so every
// multi-statement write is all or nothing.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.readOnly {
		return store.ErrReadOnly
	}
	w := &pendingWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.queueMu.Lock()
	s.queued = append(s.queued, w)
	s.queueMu.Unlock()
	// Whoever holds writeMu commits every write queued so far in one transaction: replies
	// from many chats at once share one fsync (group commit), and each caller still returns
	// only once its own write is on disk. w was queued before the Lock, so this holder or
	// an earlier one has taken it.
	s.writeMu.Lock()
	s.queueMu.Lock()
	batch := s.queued
	s.queued = nil
	s.queueMu.Unlock()
	if len(batch) > 0 {
		s.commit(batch)
	}
	s.writeMu.Unlock()
	return <-w.done
}

// pendingWrite is one write transaction's work, waiting for the next commit.
type pendingWrite struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// commit runs batch in one transaction, each write in a savepoint of its own, so a write that
// fails is rolled back alone and told its error; the others are told the commit's outcome.
// Called with writeMu held.
func (s *Store) commit(batch []*pendingWrite) {
	if len(batch) == 1 { // the common case when nothing else is writing: no savepoint
		w := batch[0]
		w.done <- s.commitOne(w)
		return
	}
	tx, err := s.db.BeginTx(context.WithoutCancel(batch[0].ctx), nil)
	if err != nil {
		for _, w := range batch {
			w.done <- err
		}
		return
	}
	var ok []*pendingWrite
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.done <- err
			continue
		}
		if _, err := tx.Exec(`SAVEPOINT w`); err != nil {
			w.done <- err
			continue
		}
		if err := w.fn(tx); err != nil {
			if _, rerr := tx.Exec(`ROLLBACK TO w`); rerr != nil {
				err = errors.Join(err, rerr)
			}
			_, _ = tx.Exec(`RELEASE w`)
			w.done <- err
			continue
		}
		if _, err := tx.Exec(`RELEASE w`); err != nil {
			w.done <- err
			continue
		}
		ok = append(ok, w)
	}
	err = tx.Commit()
	s.commits.Add(1)
	for _, w := range ok {
		w.done <- err
	}
}

func (s *Store) commitOne(w *pendingWrite) error {
	tx, err := s.db.BeginTx(w.ctx, nil)
	if err != nil {
		return err
	}
	if err := w.fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	s.commits.Add(1)
	return tx.Commit()
}

// Ping checks that the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close closes the file and releases the lock. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.updatesOf.Close() // its error is the database's, which Close reports
		s.closeErr = s.db.Close()
		if s.lock != nil {
			if err := unlockFile(s.lock); err != nil && s.closeErr == nil {
				s.closeErr = err
			}
		}
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close sqlite store %s: %w", s.path, s.closeErr)
		}
	})
	return s.closeErr
}
