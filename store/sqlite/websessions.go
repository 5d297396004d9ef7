package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/duban/duban/store"
)

// The web view's sign-in tokens and sessions (package web) live in the store, so that a
// link issued by one daemon signs in on another after a failover. The web package passes
// hashes of its secrets, never the secrets themselves: a copy of the file signs nobody in.
//
// The tables are added to the schema here rather than in sqlite.go's list, so that the web
// view stays one file in this package; CREATE TABLE IF NOT EXISTS gives an older file them
// as it opens, like pending.
func init() {
	schema = append(schema,
		`CREATE TABLE IF NOT EXISTS web_tokens (
			namespace TEXT    NOT NULL,
			token     TEXT    NOT NULL,
			scope     TEXT    NOT NULL,
			user_id   INTEGER NOT NULL,
			expires   TEXT    NOT NULL,
			PRIMARY KEY (namespace, token)
		)`,
		`CREATE TABLE IF NOT EXISTS web_sessions (
			namespace TEXT    NOT NULL,
			id        TEXT    NOT NULL,
			scope     TEXT    NOT NULL,
			user_id   INTEGER NOT NULL,
			expires   TEXT    NOT NULL,
			PRIMARY KEY (namespace, id)
		)`,
		`CREATE INDEX IF NOT EXISTS web_sessions_by_user ON web_sessions (namespace, user_id)`,
	)
}

// CreateWebToken stores a single-use sign-in token for scope, asked for by user, valid until
// expires; store.ErrExists if the token is already in use. Expired tokens are pruned here,
// judged by expires' clock, so the table stays small without a sweeper.
func (s *Store) CreateWebToken(ctx context.Context, token, scope string, user int64, expires time.Time) error {
	if err := store.ValidateWeb("token", token, scope, expires); err != nil {
		return fmt.Errorf("create web token: %w", err)
	}
	err := s.createWeb(ctx, "web_tokens", "token", token, scope, user, expires, 24*time.Hour)
	if err != nil {
		return fmt.Errorf("create web token: %w", err)
	}
	return nil
}

// RedeemWebToken uses up token and returns its scope and user. A token that is unknown,
// already used or expired at now yields store.ErrCodeInvalid; of two concurrent redeems of
// one token, exactly one succeeds.
func (s *Store) RedeemWebToken(ctx context.Context, token string, now time.Time) (scope string, user int64, err error) {
	err = s.redeemOnce(ctx, "web_tokens", "token", token, now, `scope, user_id`, &scope, &user)
	if err != nil {
		return "", 0, fmt.Errorf("redeem web token: %w", err)
	}
	return scope, user, nil
}

// CreateWebSession stores session id for scope and user until expires; store.ErrExists if
// the id is taken.
func (s *Store) CreateWebSession(ctx context.Context, id, scope string, user int64, expires time.Time) error {
	if err := store.ValidateWeb("id", id, scope, expires); err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	err := s.createWeb(ctx, "web_sessions", "id", id, scope, user, expires, 48*time.Hour)
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSession returns the scope, user and expiry of session id; store.ErrNotFound when it is
// unknown, revoked or expired at now.
func (s *Store) WebSession(ctx context.Context, id string, now time.Time) (scope string, user int64, expires time.Time, err error) {
	var until string
	err = s.db.QueryRowContext(ctx, `SELECT scope, user_id, expires FROM web_sessions WHERE namespace = ? AND id = ?`,
		s.namespace, id).Scan(&scope, &user, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", store.ErrNotFound)
	}
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", err)
	}
	if expires, err = store.ParseTime(until); err != nil {
		return "", 0, time.Time{}, fmt.Errorf("web session: expires: %w", err)
	}
	if store.Expired(expires, now) {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", store.ErrNotFound)
	}
	return scope, user, expires, nil
}

// RevokeWebSession ends session id; store.ErrNotFound if there is none.
func (s *Store) RevokeWebSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE namespace = ? AND id = ?`, s.namespace, id)
		return affectedOne(res, err)
	})
	if err != nil {
		return fmt.Errorf("revoke web session: %w", err)
	}
	return nil
}

// RevokeWebSessions ends every session of user and says how many there were.
func (s *Store) RevokeWebSessions(ctx context.Context, user int64) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE namespace = ? AND user_id = ?`, s.namespace, user)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke web sessions of %d: %w", user, err)
	}
	return int(n), nil
}

// createWeb stores key in table (web_tokens by token, web_sessions by id) for scope and user
// until expires; store.ErrExists if key is taken. The rows that expired keep before expires
// are pruned first.
func (s *Store) createWeb(ctx context.Context, table, keyCol, key, scope string, user int64, expires time.Time, keep time.Duration) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		// Stored times are RFC 3339 in UTC with nanoseconds: not comparable as text, so
		// pruning reads them back.
		if err := pruneExpired(ctx, tx, table, keyCol, s.namespace, expires.Add(-keep)); err != nil {
			return err
		}
		return insertNew(ctx, tx, `INSERT INTO `+table+` (namespace, `+keyCol+`, scope, user_id, expires) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (namespace, `+keyCol+`) DO NOTHING`,
			s.namespace, key, scope, user, store.FormatTime(expires))
	})
}

// insertNew runs an INSERT … ON CONFLICT DO NOTHING; store.ErrExists if it inserted nothing.
func insertNew(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err := affectedOne(res, err); errors.Is(err, store.ErrNotFound) {
		return store.ErrExists
	} else if err != nil {
		return err
	}
	return nil
}

// redeemOnce uses up the single-use row of table whose keyCol is key, scanning cols into
// dest. A row that is unknown, already used or expired at now yields store.ErrCodeInvalid;
// of two concurrent redeems of one row, exactly one succeeds.
func (s *Store) redeemOnce(ctx context.Context, table, keyCol, key string, now time.Time, cols string, dest ...any) error {
	expired := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		var expires string
		err := tx.QueryRowContext(ctx, `SELECT `+cols+`, expires FROM `+table+` WHERE namespace = ? AND `+keyCol+` = ?`,
			s.namespace, key).Scan(append(dest, &expires)...)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrCodeInvalid
		}
		if err != nil {
			return err
		}
		until, err := store.ParseTime(expires)
		if err != nil {
			return err
		}
		// An expired row is deleted too: it can never become valid again.
		expired = store.Expired(until, now)
		_, err = tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE namespace = ? AND `+keyCol+` = ?`, s.namespace, key)
		return err
	})
	if err == nil && expired {
		err = store.ErrCodeInvalid
	}
	return err
}

// pruneExpired deletes the rows of table whose expiry is before cutoff. The tables hold a
// few rows per person signed in, so reading them all is cheap.
func pruneExpired(ctx context.Context, tx *sql.Tx, table, key, namespace string, cutoff time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+key+`, expires FROM `+table+` WHERE namespace = ?`, namespace)
	if err != nil {
		return err
	}
	var old []string
	for rows.Next() {
		var k, at string
		if err := rows.Scan(&k, &at); err != nil {
			rows.Close()
			return err
		}
		if t, err := store.ParseTime(at); err == nil && t.Before(cutoff) {
			old = append(old, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range old {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE namespace = ? AND `+key+` = ?`, namespace, k); err != nil {
			return err
		}
	}
	return nil
}
