package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/duban/duban/store"
)

// Claim takes key for owner until now+lease, atomically: it reports true
// only if key was never confirmed and no other owner holds an unexpired
// claim. The same owner may claim again (renewing its lease); a claim whose
// lease lapsed unconfirmed may be taken by anyone.
func (s *Store) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	won, err := s.ClaimAll(ctx, []string{key}, owner, now, lease)
	if err != nil {
		return false, err
	}
	return won[0], nil
}

// Confirm marks every key of sent as sent and indexes each of its messages,
// atomically. Confirming a key again replaces what it points to. An unfinished
// sent (store.Sent.Complete) confirms no key: its messages are indexed and it
// is kept, text and all, under its first key for Pending until a complete one
// replaces it; its Renew, if set, claims that key in the same transaction
// (store.ErrClaimLost when it cannot).
func (s *Store) Confirm(ctx context.Context, sent store.Sent) error {
	sent, err := store.NormalizeSent(sent)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if err := store.ValidateUnfinished(sent); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	text := sent.Text
	sent.Text = "" // the index and the ledger need no text
	body, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	var lost bool
	err = s.write(ctx, func(tx *sql.Tx) error {
		lost = false // fn may run again in another batch
		if err := s.fence(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sent (namespace, body) VALUES (?, ?)`, s.namespace, string(body))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if !sent.Complete() {
			withText := sent
			withText.Text = text
			pending, err := json.Marshal(withText)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO pending (namespace, key, body) VALUES (?, ?, ?)
					ON CONFLICT (namespace, key) DO UPDATE SET body = excluded.body`,
				s.namespace, sent.FirstKey(), string(pending)); err != nil {
				return err
			}
		}
		for _, key := range sent.Keys {
			if !sent.Complete() {
				break
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger (namespace, key, sent_id, at) VALUES (?, ?, ?, ?)
					ON CONFLICT (namespace, key) DO UPDATE SET sent_id = excluded.sent_id, at = excluded.at`,
				s.namespace, key, id, store.FormatTime(sent.At)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE namespace = ? AND key = ?`, s.namespace, key); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE namespace = ? AND key = ?`, s.namespace, key); err != nil {
				return err
			}
		}
		for _, messageID := range sent.MessageIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO message_refs (namespace, chat_id, message_id, sent_id) VALUES (?, ?, ?, ?)
					ON CONFLICT (namespace, chat_id, message_id) DO UPDATE SET sent_id = excluded.sent_id`,
				s.namespace, sent.ChatID, messageID, id); err != nil {
				return err
			}
		}
		if r := sent.Renew; r != nil && !sent.Complete() {
			c, err := s.newClaimer(ctx, tx)
			if err != nil {
				return err
			}
			defer c.close()
			won, err := c.claim(ctx, sent.FirstKey(), r.Owner, r.Now, r.Lease)
			if err != nil {
				return err
			}
			lost = !won
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if lost {
		return fmt.Errorf("confirm: renew %s: %w", sent.FirstKey(), store.ErrClaimLost)
	}
	return nil
}

// fence refuses, in tx, a write whose fence (store.FenceOf) is below the
// highest one seen, and remembers a higher one. The embedded store has one
// daemon, so this only keeps the interface the same as Redis's.
func (s *Store) fence(ctx context.Context, tx *sql.Tx) error {
	f := store.FenceOf(ctx)
	if f == 0 {
		return nil
	}
	var seen int64
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE namespace = ? AND name = 'fence'`, s.namespace).Scan(&seen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch {
	case f < seen:
		return fmt.Errorf("fence %d, store at %d: %w", f, seen, store.ErrFenced)
	case f > seen:
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (namespace, name, value) VALUES (?, 'fence', ?)
				ON CONFLICT (namespace, name) DO UPDATE SET value = excluded.value`, s.namespace, f)
	}
	return err
}

// Pending returns every unfinished message (see Confirm), with its text.
func (s *Store) Pending(ctx context.Context) ([]store.Sent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM pending WHERE namespace = ? ORDER BY key`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	defer rows.Close()
	var out []store.Sent
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("pending: %w", err)
		}
		var sent store.Sent
		if err := json.Unmarshal([]byte(body), &sent); err != nil {
			return nil, fmt.Errorf("pending: %w", err)
		}
		sent.At = sent.At.UTC()
		out = append(out, sent)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	return out, nil
}

// SentFor returns the reminder that confirmed key.
func (s *Store) SentFor(ctx context.Context, key string) (store.Sent, bool, error) {
	sent, ok, err := s.querySent(ctx, `SELECT s.body FROM ledger l JOIN sent s ON s.id = l.sent_id
			WHERE l.namespace = ? AND l.key = ?`, s.namespace, key)
	if err != nil {
		return store.Sent{}, false, fmt.Errorf("sent for %s: %w", key, err)
	}
	return sent, ok, nil
}

// MessageRef returns the reminder that Telegram message (chatID, messageID)
// belongs to, so a reply to it finds its tasks.
func (s *Store) MessageRef(ctx context.Context, chatID int64, messageID int) (store.Sent, bool, error) {
	sent, ok, err := s.querySent(ctx, `SELECT s.body FROM message_refs m JOIN sent s ON s.id = m.sent_id
			WHERE m.namespace = ? AND m.chat_id = ? AND m.message_id = ?`, s.namespace, chatID, messageID)
	if err != nil {
		return store.Sent{}, false, fmt.Errorf("message ref %d/%d: %w", chatID, messageID, err)
	}
	return sent, ok, nil
}

func (s *Store) querySent(ctx context.Context, query string, args ...any) (store.Sent, bool, error) {
	var body string
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
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

// Ledger returns every confirmed key with the time it was sent, in the order SQLite reads
// them (in practice its key index's: by key). The count first sizes the slice: a large
// ledger then costs one allocation, not its growth.
func (s *Store) Ledger(ctx context.Context) (store.Ledger, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM ledger WHERE namespace = ?`, s.namespace).Scan(&n); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, at FROM ledger WHERE namespace = ?`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	ledger := make(store.Ledger, 0, n) // a key added since the count only grows it
	for rows.Next() {
		var key, at string
		if err := rows.Scan(&key, &at); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		e, err := store.ParseLedgerEntry(key, at)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		ledger = append(ledger, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return ledger, nil
}

// ClaimAll is Claim for each of keys, in one transaction: won[i] says whether keys[i] was
// taken. The fence is checked once, for all of them.
func (s *Store) ClaimAll(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]bool, error) {
	for _, key := range keys {
		if err := store.ValidateClaim(key, owner, now, lease); err != nil {
			return nil, fmt.Errorf("claim all: %w", err)
		}
	}
	if len(keys) == 0 {
		return []bool{}, nil
	}
	var won []bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		won = make([]bool, len(keys)) // fn may run again in another batch: start afresh
		if err := s.fence(ctx, tx); err != nil {
			return err
		}
		c, err := s.newClaimer(ctx, tx)
		if err != nil {
			return err
		}
		defer c.close()
		for i, key := range keys {
			if won[i], err = c.claim(ctx, key, owner, now, lease); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d keys: %w", len(keys), err)
	}
	return won, nil
}

// claimer is Claim's check-and-set inside a write transaction, its statements prepared once
// for the keys of a ClaimAll.
type claimer struct {
	namespace                string
	confirmed, holder, taken *sql.Stmt
}

func (s *Store) newClaimer(ctx context.Context, tx *sql.Tx) (*claimer, error) {
	c := &claimer{namespace: s.namespace}
	var err error
	if c.confirmed, err = tx.PrepareContext(ctx, `SELECT 1 FROM ledger WHERE namespace = ? AND key = ?`); err != nil {
		return nil, err
	}
	if c.holder, err = tx.PrepareContext(ctx, `SELECT owner, expires FROM claims WHERE namespace = ? AND key = ?`); err != nil {
		c.close()
		return nil, err
	}
	if c.taken, err = tx.PrepareContext(ctx, `INSERT INTO claims (namespace, key, owner, expires) VALUES (?, ?, ?, ?)
			ON CONFLICT (namespace, key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires`); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *claimer) close() {
	for _, st := range []*sql.Stmt{c.confirmed, c.holder, c.taken} {
		if st != nil {
			st.Close()
		}
	}
}

// claim takes key for owner until now+lease and reports true, unless key is confirmed or
// another owner's claim on it expires after now.
func (c *claimer) claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	var one int
	err := c.confirmed.QueryRowContext(ctx, c.namespace, key).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var holder string
	var until int64
	err = c.holder.QueryRowContext(ctx, c.namespace, key).Scan(&holder, &until)
	switch {
	case err == nil:
		if holder != owner && until > now.UnixNano() {
			return false, nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	if _, err := c.taken.ExecContext(ctx, c.namespace, key, owner, now.Add(lease).UnixNano()); err != nil {
		return false, err
	}
	return true, nil
}

// PruneLedger removes, in one transaction, the confirmed keys keep refuses; then every record
// of what was sent (a sent row) that no remaining key and no message points to (a reply to an
// old reminder still finds its tasks): those of the pruned keys, and those a message confirmed
// part by part left behind, one per part; and every claim whose lease lapsed before now (a
// lapsed claim binds nobody: removing it changes no Claim).
func (s *Store) PruneLedger(ctx context.Context, now time.Time, keep store.PruneKeep) (store.Pruned, error) {
	if now.IsZero() {
		return store.Pruned{}, fmt.Errorf("prune ledger: %w", store.ErrInvalid)
	}
	var pruned store.Pruned
	err := s.write(ctx, func(tx *sql.Tx) error {
		pruned = store.Pruned{}
		if err := s.fence(ctx, tx); err != nil {
			return err
		}
		var drop []string
		rows, err := tx.QueryContext(ctx, `SELECT key, at FROM ledger WHERE namespace = ?`, s.namespace)
		if err != nil {
			return err
		}
		for rows.Next() {
			var key, at string
			if err := rows.Scan(&key, &at); err != nil {
				rows.Close()
				return err
			}
			t, err := store.ParseTime(at)
			if err != nil {
				rows.Close()
				return fmt.Errorf("key %s: %w", key, err)
			}
			if !keep(key, t) {
				drop = append(drop, key)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		delKey, err := tx.PrepareContext(ctx, `DELETE FROM ledger WHERE namespace = ? AND key = ?`)
		if err != nil {
			return err
		}
		defer delKey.Close()
		for _, key := range drop {
			if _, err := delKey.ExecContext(ctx, s.namespace, key); err != nil {
				return err
			}
			pruned.Keys++
		}
		// NOT IN a subquery that is not correlated: SQLite builds its set once.
		res, err := tx.ExecContext(ctx, `DELETE FROM sent WHERE namespace = ?
				AND id NOT IN (SELECT sent_id FROM ledger WHERE namespace = ?)
				AND id NOT IN (SELECT sent_id FROM message_refs WHERE namespace = ?)`, s.namespace, s.namespace, s.namespace)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil {
			pruned.Records = int(n)
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM claims WHERE namespace = ? AND expires < ?`, s.namespace, now.UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil {
			pruned.Claims = int(n)
		}
		return nil
	})
	if err != nil {
		return store.Pruned{}, fmt.Errorf("prune ledger: %w", err)
	}
	return pruned, nil
}
