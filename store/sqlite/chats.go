package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/duban/duban/store"
)

// Bind binds b.Department to b.ChatID, replacing the department's previous
// binding. A chat belongs to at most one department: binding a chat that is
// bound to another department moves it.
func (s *Store) Bind(ctx context.Context, b store.Binding) error {
	b, err := store.NormalizeBinding(b)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bindings WHERE namespace = ? AND chat_id = ? AND department <> ?`,
			s.namespace, b.ChatID, b.Department); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO bindings (namespace, department, chat_id, title, bound_at, bound_by, broken)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (namespace, department) DO UPDATE SET chat_id = excluded.chat_id, title = excluded.title,
					bound_at = excluded.bound_at, bound_by = excluded.bound_by, broken = excluded.broken`,
			s.namespace, b.Department, b.ChatID, b.Title, store.FormatTime(b.BoundAt), b.BoundBy, b.Broken)
		return err
	})
	if err != nil {
		return fmt.Errorf("bind %s: %w", b.Department, err)
	}
	return nil
}

// Unbind removes the department's binding; store.ErrNotFound if it has none.
func (s *Store) Unbind(ctx context.Context, department string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM bindings WHERE namespace = ? AND department = ?`, s.namespace, department)
		return affectedOne(res, err)
	})
	if err != nil {
		return fmt.Errorf("unbind %s: %w", department, err)
	}
	return nil
}

// MarkBroken records why the department's binding no longer works ("" to
// clear it); store.ErrNotFound if the department has no binding.
func (s *Store) MarkBroken(ctx context.Context, department, reason string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bindings SET broken = ? WHERE namespace = ? AND department = ?`,
			reason, s.namespace, department)
		return affectedOne(res, err)
	})
	if err != nil {
		return fmt.Errorf("mark binding of %s broken: %w", department, err)
	}
	return nil
}

func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// MigrateChat moves the binding of chat oldID to newID, as Telegram does
// when a group becomes a supergroup, records the move (ChatMigrations) and
// copies oldID's message index to newID. An unbound oldID is not an error:
// Telegram reports the migration of every group the bot is in.
func (s *Store) MigrateChat(ctx context.Context, oldID, newID int64) error {
	if oldID == newID {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.recordMigration(ctx, tx, oldID, newID); err != nil {
			return err
		}
		var department string
		err := tx.QueryRowContext(ctx, `SELECT department FROM bindings WHERE namespace = ? AND chat_id = ?`,
			s.namespace, oldID).Scan(&department)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bindings WHERE namespace = ? AND chat_id = ?`, s.namespace, newID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE bindings SET chat_id = ? WHERE namespace = ? AND chat_id = ?`, newID, s.namespace, oldID)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", oldID, newID, err)
	}
	return nil
}

// Bindings returns every binding, by department.
func (s *Store) Bindings(ctx context.Context) ([]store.Binding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT department, chat_id, title, bound_at, bound_by, broken
			FROM bindings WHERE namespace = ? ORDER BY department`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	defer rows.Close()
	var out []store.Binding
	for rows.Next() {
		var b store.Binding
		var boundAt string
		if err := rows.Scan(&b.Department, &b.ChatID, &b.Title, &boundAt, &b.BoundBy, &b.Broken); err != nil {
			return nil, fmt.Errorf("bindings: %w", err)
		}
		if b.BoundAt, err = store.ParseTime(boundAt); err != nil {
			return nil, fmt.Errorf("bindings: %s: bound_at: %w", b.Department, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	return out, nil
}

// CreateCode stores a single-use binding code for department, valid until
// expires; store.ErrExists if the code is already in use.
func (s *Store) CreateCode(ctx context.Context, code, department string, expires time.Time) error {
	if err := store.ValidateCode(code, department, expires); err != nil {
		return fmt.Errorf("create code: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return insertNew(ctx, tx, `INSERT INTO codes (namespace, code, department, expires) VALUES (?, ?, ?, ?)
				ON CONFLICT (namespace, code) DO NOTHING`,
			s.namespace, code, department, store.FormatTime(expires))
	})
	if err != nil {
		return fmt.Errorf("create code: %w", err)
	}
	return nil
}

// RedeemCode uses up code and returns its department. A code that is
// unknown, already used or expired at now yields store.ErrCodeInvalid; of
// two concurrent redeems of one code, exactly one succeeds.
func (s *Store) RedeemCode(ctx context.Context, code string, now time.Time) (string, error) {
	var department string
	err := s.redeemOnce(ctx, "codes", "code", code, now, `department`, &department)
	if err != nil {
		return "", fmt.Errorf("redeem code: %w", err)
	}
	return department, nil
}

// Snooze silences reminders of task for department until until; the zero
// time lifts the snooze.
func (s *Store) Snooze(ctx context.Context, task int, department string, until time.Time) error {
	if err := store.ValidateSnooze(task, department); err != nil {
		return fmt.Errorf("snooze: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if until.IsZero() {
			_, err := tx.ExecContext(ctx, `DELETE FROM snoozes WHERE namespace = ? AND task = ? AND department = ?`,
				s.namespace, task, department)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO snoozes (namespace, task, department, until) VALUES (?, ?, ?, ?)
				ON CONFLICT (namespace, task, department) DO UPDATE SET until = excluded.until`,
			s.namespace, task, department, store.FormatTime(until))
		return err
	})
	if err != nil {
		return fmt.Errorf("snooze task %d for %s: %w", task, department, err)
	}
	return nil
}

// Snoozes returns every snooze, keyed by store.SnoozeKey.
func (s *Store) Snoozes(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT task, department, until FROM snoozes WHERE namespace = ?`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("snoozes: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var task int
		var department, until string
		if err := rows.Scan(&task, &department, &until); err != nil {
			return nil, fmt.Errorf("snoozes: %w", err)
		}
		t, err := store.ParseTime(until)
		if err != nil {
			return nil, fmt.Errorf("snoozes: %w", err)
		}
		out[store.SnoozeKey(task, department)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snoozes: %w", err)
	}
	return out, nil
}

const offsetSetting = "telegram_offset"

// Offset returns the next Telegram update_id to ask for, 0 if none yet.
func (s *Store) Offset(ctx context.Context) (int64, error) {
	var offset int64
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE namespace = ? AND name = ?`,
		s.namespace, offsetSetting).Scan(&offset)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("offset: %w", err)
	}
	return offset, nil
}

// ResetOffset sets the offset even below the stored one: Telegram numbers updates afresh
// after a week without any.
func (s *Store) ResetOffset(ctx context.Context, next int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (namespace, name, value) VALUES (?, ?, ?)
				ON CONFLICT (namespace, name) DO UPDATE SET value = excluded.value`,
			s.namespace, offsetSetting, next)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset offset: %w", err)
	}
	return nil
}

// SetOffset raises the offset to next; it never moves backwards, so a
// late or repeated call cannot make Telegram redeliver old updates.
func (s *Store) SetOffset(ctx context.Context, next int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (namespace, name, value) VALUES (?, ?, ?)
				ON CONFLICT (namespace, name) DO UPDATE SET value = MAX(value, excluded.value)`,
			s.namespace, offsetSetting, next)
		return err
	})
	if err != nil {
		return fmt.Errorf("set offset: %w", err)
	}
	return nil
}
