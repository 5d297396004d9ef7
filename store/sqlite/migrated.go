package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// A migration is kept as a setting named migratedPrefix+<old id> whose value is the new id:
// a handful of rows that need no table of their own.
const migratedPrefix = "chat_migrated:"

// recordMigration remembers that oldID became newID, and copies the message index of oldID to
// newID, so that a reply in the supergroup to a message sent before the upgrade (Telegram
// keeps its id) finds its tasks. An entry newID already has is newer and is kept.
func (s *Store) recordMigration(ctx context.Context, tx *sql.Tx, oldID, newID int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (namespace, name, value) VALUES (?, ?, ?)
			ON CONFLICT (namespace, name) DO UPDATE SET value = excluded.value`,
		s.namespace, migratedPrefix+strconv.FormatInt(oldID, 10), newID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO message_refs (namespace, chat_id, message_id, sent_id)
			SELECT namespace, ?, message_id, sent_id FROM message_refs WHERE namespace = ? AND chat_id = ?
			ON CONFLICT (namespace, chat_id, message_id) DO NOTHING`,
		newID, s.namespace, oldID)
	return err
}

// ChatMigrations returns every chat known to have become a supergroup: old id → new id.
func (s *Store) ChatMigrations(ctx context.Context) (map[int64]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM settings WHERE namespace = ? AND name LIKE ?`,
		s.namespace, migratedPrefix+"%")
	if err != nil {
		return nil, fmt.Errorf("chat migrations: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var name string
		var newID int64
		if err := rows.Scan(&name, &newID); err != nil {
			return nil, fmt.Errorf("chat migrations: %w", err)
		}
		oldID, err := strconv.ParseInt(strings.TrimPrefix(name, migratedPrefix), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chat migrations: %s: %w", name, err)
		}
		out[oldID] = newID
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chat migrations: %w", err)
	}
	return out, nil
}
