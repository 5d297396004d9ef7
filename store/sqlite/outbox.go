package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/duban/duban/store"
)

// The outbox of acknowledgements (store.Answer): written before an update is confirmed to
// Telegram, deleted once the answer is sent, so that one queued when the daemon died goes
// out from the next leader. Added to the schema here, like the web view's tables.
func init() {
	schema = append(schema,
		`CREATE TABLE IF NOT EXISTS outbox (
			namespace TEXT    NOT NULL,
			chat_id   INTEGER NOT NULL,
			update_id INTEGER NOT NULL,
			answer    TEXT    NOT NULL,
			PRIMARY KEY (namespace, chat_id, update_id)
		)`,
	)
}

// PutAnswer writes a to the outbox, replacing the entry of the same chat and update.
func (s *Store) PutAnswer(ctx context.Context, a store.Answer) error {
	a.At = store.NormalizeTime(a.At)
	err := s.write(ctx, func(tx *sql.Tx) error { return s.putAnswerTx(ctx, tx, a) })
	if err != nil {
		return fmt.Errorf("put answer for update %d in chat %d: %w", a.Update, a.ChatID, err)
	}
	return nil
}

func (s *Store) putAnswerTx(ctx context.Context, tx *sql.Tx, a store.Answer) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (namespace, chat_id, update_id, answer) VALUES (?, ?, ?, ?)
			ON CONFLICT (namespace, chat_id, update_id) DO UPDATE SET answer = excluded.answer`,
		s.namespace, a.ChatID, a.Update, string(body))
	return err
}

// DoneAnswer deletes the outbox entry of chat and update; none is not an error.
func (s *Store) DoneAnswer(ctx context.Context, chatID, update int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE namespace = ? AND chat_id = ? AND update_id = ?`,
			s.namespace, chatID, update)
		return err
	})
	if err != nil {
		return fmt.Errorf("answer for update %d in chat %d done: %w", update, chatID, err)
	}
	return nil
}

// Answers returns every entry of the outbox, in the order they were written.
func (s *Store) Answers(ctx context.Context) ([]store.Answer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT answer FROM outbox WHERE namespace = ?`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	defer rows.Close()
	var out []store.Answer
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("answers: %w", err)
		}
		var a store.Answer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("answers: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	store.SortAnswers(out)
	return out, nil
}
