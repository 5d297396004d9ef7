package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/duban/duban/store"
)

// updateColumns are the columns of an update as written, in the order of
// updateValues; attachment_kind is NULL for an update without attachment.
const updateColumns = `task, seq, id, department, at, chat_id, message_id, user_id, user_name, text,
	status, percent, value, source, corrects, telegram_update, prev_hash, hash,
	attachment_kind, attachment_file_id, attachment_file_unique_id, attachment_file_name,
	attachment_mime_type, attachment_size`

// updatePlaceholders are the "?" of updateColumns.
var updatePlaceholders = strings.TrimSuffix(strings.Repeat("?, ", strings.Count(updateColumns, ",")+1), ", ")

// updateValues are the values of updateColumns for u.
func updateValues(u store.Update) []any {
	var kind any // NULL: no attachment
	var a store.Attachment
	if u.Attachment != nil {
		a = *u.Attachment
		kind = a.Kind
	}
	return []any{u.Task, u.Seq, u.ID, u.Department, store.FormatTime(u.At), u.ChatID, u.MessageID,
		u.UserID, u.UserName, u.Text, string(u.Status), nullInt(u.Percent), nullFloat(u.Value),
		string(u.Source), u.Corrects, u.TelegramUpdate, u.PrevHash, u.Hash,
		kind, a.FileID, a.FileUniqueID, a.FileName, a.MimeType, a.Size}
}

// updateSelect is the select list scanUpdate reads, each column prefixed with
// alias. Without attachments (a version 1 file opened read-only) constants
// stand in for the attachment columns, so every update reads as having none.
func updateSelect(alias string, withAttachments bool) string {
	var cols []string
	for _, c := range strings.Split(updateColumns, ",") {
		c = strings.TrimSpace(c)
		switch {
		case withAttachments || !strings.HasPrefix(c, "attachment_"):
			cols = append(cols, alias+c)
		case c == "attachment_kind":
			cols = append(cols, "NULL")
		case c == "attachment_size":
			cols = append(cols, "0")
		default:
			cols = append(cols, "''")
		}
	}
	return strings.Join(cols, ", ")
}

type scanner interface {
	Scan(dest ...any) error
}

// scanUpdate scans the columns of updateSelect that follow the given leading columns.
func scanUpdate(row scanner, leading ...any) (store.Update, error) {
	var u store.Update
	var at string
	var percent sql.NullInt64
	var value sql.NullFloat64
	var kind sql.NullString
	var a store.Attachment
	dest := append(leading, &u.Task, &u.Seq, &u.ID, &u.Department, &at, &u.ChatID, &u.MessageID,
		&u.UserID, &u.UserName, &u.Text, (*string)(&u.Status), &percent, &value, (*string)(&u.Source),
		&u.Corrects, &u.TelegramUpdate, &u.PrevHash, &u.Hash,
		&kind, &a.FileID, &a.FileUniqueID, &a.FileName, &a.MimeType, &a.Size)
	if err := row.Scan(dest...); err != nil {
		return store.Update{}, err
	}
	var err error
	if u.At, err = store.ParseTime(at); err != nil {
		return store.Update{}, fmt.Errorf("update %s: at: %w", u.ID, err)
	}
	u.Percent, u.Value = intFrom(percent), floatFrom(value)
	if kind.Valid {
		a.Kind = kind.String
		u.Attachment = &a
	}
	return u, nil
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// intFrom and floatFrom read back what nullInt and nullFloat wrote: NULL is nil.
func intFrom(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	p := int(n.Int64)
	return &p
}

func floatFrom(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	return &n.Float64
}

// Record appends ups atomically (all or none) and updates the latest state
// of every (task, department) they touch. If tgUpdate is not 0 and was
// recorded before, it appends nothing and returns what that first call
// recorded, with fresh false. ups may be empty, to only mark tgUpdate seen.
func (s *Store) Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error) {
	recorded, _, fresh, err := s.recordAnswered(ctx, tgUpdate, ups, nil)
	return recorded, fresh, err
}

// RecordAnswered is Record, and puts answer(recorded) in the outbox (as PutAnswer) in the
// same transaction, so that a report is never stored without its acknowledgement waiting to
// be sent, and a reply costs one commit instead of two. A redelivered update's answer is
// made from what the first call recorded.
func (s *Store) RecordAnswered(ctx context.Context, tgUpdate int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	if answer == nil {
		return nil, store.Answer{}, false, fmt.Errorf("record: no answer given: %w", store.ErrInvalid)
	}
	return s.recordAnswered(ctx, tgUpdate, ups, answer)
}

func (s *Store) recordAnswered(ctx context.Context, tgUpdate int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	prepared, err := store.Normalize(ups, time.Now())
	if err != nil {
		return nil, store.Answer{}, false, fmt.Errorf("record: %w", err)
	}
	if tgUpdate < 0 {
		return nil, store.Answer{}, false, fmt.Errorf("record: telegram update %d: must not be negative: %w", tgUpdate, store.ErrInvalid)
	}
	if tgUpdate == 0 && len(prepared) == 0 && answer == nil {
		return nil, store.Answer{}, true, nil
	}
	var recorded []store.Update
	var a store.Answer
	fresh := true
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if recorded, fresh, err = s.recordTx(ctx, tx, tgUpdate, prepared); err != nil || answer == nil {
			return err
		}
		a = answer(recorded)
		a.At = store.NormalizeTime(a.At)
		return s.putAnswerTx(ctx, tx, a)
	})
	if err != nil {
		return nil, store.Answer{}, false, fmt.Errorf("record: %w", err)
	}
	return recorded, a, fresh, nil
}

// recordTx is Record's work inside tx: what it appended, or what a seen tgUpdate recorded
// the first time (fresh false).
func (s *Store) recordTx(ctx context.Context, tx *sql.Tx, tgUpdate int64, prepared []store.Update) ([]store.Update, bool, error) {
	if tgUpdate == 0 && len(prepared) == 0 {
		return nil, true, nil
	}
	if tgUpdate != 0 {
		var ids string
		// A row older than SeenRetention that pruning has not reached yet does not count.
		err := tx.QueryRowContext(ctx, `SELECT recorded FROM telegram_seen WHERE namespace = ? AND update_id = ? AND seen_at >= ?`,
			s.namespace, tgUpdate, time.Now().Add(-store.SeenRetention).Unix()).Scan(&ids)
		if err == nil {
			recorded, err := s.updatesByID(ctx, tx, ids)
			return recorded, false, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, err
		}
	}
	appended, err := s.appendTx(ctx, tx, prepared)
	if err != nil {
		return nil, false, err
	}
	if tgUpdate != 0 {
		if err := s.markSeen(ctx, tx, tgUpdate, appended); err != nil {
			return nil, false, err
		}
	}
	return appended, true, nil
}

func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, prepared []store.Update) ([]store.Update, error) {
	tasks, keys := store.Touched(prepared)
	heads := make(map[int]store.ChainHead, len(tasks))
	for _, task := range tasks {
		var head store.ChainHead
		var stored int64
		err := tx.QueryRowContext(ctx, `SELECT
				COALESCE((SELECT seq FROM heads WHERE namespace = ?1 AND task = ?2), 0),
				COALESCE((SELECT hash FROM heads WHERE namespace = ?1 AND task = ?2), ''),
				COALESCE((SELECT MAX(seq) FROM updates WHERE namespace = ?1 AND task = ?2), 0)`,
			s.namespace, task).Scan(&head.Seq, &head.Hash, &stored)
		if err != nil {
			return nil, fmt.Errorf("read head of task %d: %w", task, err)
		}
		// Rows added behind the store's back must not make replies
		// unrecordable; Verify reports them.
		head.Seq = max(head.Seq, stored)
		heads[task] = head
	}
	states := make(map[store.StateKey]store.State, len(keys))
	for _, k := range keys {
		var st store.State
		var percent sql.NullInt64
		var value sql.NullFloat64
		var statusAt string
		err := tx.QueryRowContext(ctx, `SELECT status, status_at, percent, value, updates FROM latest
				WHERE namespace = ? AND task = ? AND department = ?`, s.namespace, k.Task, k.Department).
			Scan((*string)(&st.Status), &statusAt, &percent, &value, &st.Updates)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read state of task %d, %s: %w", k.Task, k.Department, err)
		}
		if st.StatusAt, err = parseOptionalTime(statusAt); err != nil {
			return nil, fmt.Errorf("read state of task %d, %s: status_at: %w", k.Task, k.Department, err)
		}
		st.Percent, st.Value = intFrom(percent), floatFrom(value)
		states[k] = st
	}
	appended, err := store.Append(prepared, heads, states)
	if err != nil {
		return nil, err
	}
	for _, u := range appended.Updates {
		_, err := tx.ExecContext(ctx, `INSERT INTO updates (namespace, `+updateColumns+`)
				VALUES (?, `+updatePlaceholders+`)`, append([]any{s.namespace}, updateValues(u)...)...)
		if err != nil {
			return nil, fmt.Errorf("insert update %s: %w", u.ID, err)
		}
	}
	for task, head := range appended.Heads {
		_, err := tx.ExecContext(ctx, `INSERT INTO heads (namespace, task, seq, hash) VALUES (?, ?, ?, ?)
				ON CONFLICT (namespace, task) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
			s.namespace, task, head.Seq, head.Hash)
		if err != nil {
			return nil, fmt.Errorf("write head of task %d: %w", task, err)
		}
	}
	for k, st := range appended.States {
		_, err := tx.ExecContext(ctx, `INSERT INTO latest (namespace, task, department, status, status_at, percent, value, updates, last_seq)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (namespace, task, department) DO UPDATE SET status = excluded.status, status_at = excluded.status_at,
					percent = excluded.percent, value = excluded.value, updates = excluded.updates, last_seq = excluded.last_seq`,
			s.namespace, k.Task, k.Department, string(st.Status), formatOptionalTime(st.StatusAt), nullInt(st.Percent), nullFloat(st.Value), st.Updates, st.Last.Seq)
		if err != nil {
			return nil, fmt.Errorf("write state of task %d, %s: %w", k.Task, k.Department, err)
		}
	}
	return appended.Updates, nil
}

func (s *Store) markSeen(ctx context.Context, tx *sql.Tx, tgUpdate int64, recorded []store.Update) error {
	ids := make([]string, len(recorded))
	for i, u := range recorded {
		ids[i] = u.ID
	}
	now := time.Now()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO telegram_seen (namespace, update_id, recorded, seen_at) VALUES (?, ?, ?, ?)`,
		s.namespace, tgUpdate, strings.Join(ids, ","), now.Unix()); err != nil {
		return fmt.Errorf("mark telegram update %d seen: %w", tgUpdate, err)
	}
	// Pruning hourly keeps the table small without a delete on every write.
	if now.Sub(s.lastPrune) > time.Hour {
		if _, err := tx.ExecContext(ctx, `DELETE FROM telegram_seen WHERE namespace = ? AND seen_at < ?`,
			s.namespace, now.Add(-store.SeenRetention).Unix()); err != nil {
			return fmt.Errorf("prune seen telegram updates: %w", err)
		}
		s.lastPrune = now
	}
	return nil
}

func (s *Store) updatesByID(ctx context.Context, tx *sql.Tx, ids string) ([]store.Update, error) {
	if ids == "" {
		return nil, nil
	}
	var out []store.Update
	for _, id := range strings.Split(ids, ",") {
		task, seq, err := store.ParseID(id)
		if err != nil {
			return nil, err
		}
		u, err := scanUpdate(tx.QueryRowContext(ctx, `SELECT `+s.selectUpdate+` FROM updates
				WHERE namespace = ? AND task = ? AND seq = ?`, s.namespace, task, seq))
		if err != nil {
			return nil, fmt.Errorf("read recorded update %s: %w", id, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// Updates returns the updates of task in seq order.
func (s *Store) Updates(ctx context.Context, task int) ([]store.Update, error) {
	rows, err := s.updatesOf.QueryContext(ctx, s.namespace, task)
	if err != nil {
		return nil, fmt.Errorf("updates of task %d: %w", task, err)
	}
	defer rows.Close()
	var out []store.Update
	for rows.Next() {
		u, err := scanUpdate(rows)
		if err != nil {
			return nil, fmt.Errorf("updates of task %d: %w", task, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("updates of task %d: %w", task, err)
	}
	return out, nil
}

// Chains returns the ids of the tasks that have updates, ascending.
func (s *Store) Chains(ctx context.Context) ([]int, error) {
	// The heads table, not the updates, is the index of chains: a chain
	// whose every row was deleted must still be verified.
	rows, err := s.db.QueryContext(ctx, `SELECT task FROM heads WHERE namespace = ? ORDER BY task`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("chains: %w", err)
	}
	defer rows.Close()
	var tasks []int
	for rows.Next() {
		var task int
		if err := rows.Scan(&task); err != nil {
			return nil, fmt.Errorf("chains: %w", err)
		}
		tasks = append(tasks, task)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chains: %w", err)
	}
	return tasks, nil
}

// Head returns the hash of the last update of task and how many updates the
// chain has, as the store recorded them; "", 0 for a task without updates.
func (s *Store) Head(ctx context.Context, task int) (string, int64, error) {
	var hash string
	var count int64
	err := s.db.QueryRowContext(ctx, `SELECT hash, seq FROM heads WHERE namespace = ? AND task = ?`,
		s.namespace, task).Scan(&hash, &count)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("head of task %d: %w", task, err)
	}
	return hash, count, nil
}

// latestQuery reads the states with their last updates, in one query.
func (s *Store) latestQuery() string {
	return `SELECT l.status, l.status_at, l.percent, l.value, l.updates, ` + s.selectLatestUpdate + `
	FROM latest l JOIN updates u ON u.namespace = l.namespace AND u.task = l.task AND u.seq = l.last_seq
	WHERE l.namespace = ?`
}

// Latest returns the state of every (task, department) with updates, by
// task then department, in one query.
func (s *Store) Latest(ctx context.Context) ([]store.State, error) {
	states, err := s.queryStates(ctx, s.latestQuery()+` ORDER BY l.task, l.department`, true, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("latest: %w", err)
	}
	return states, nil
}

// LatestStates is Latest without each state's last update: Last holds only its ID, Task,
// Department and Seq. Reading the last updates is a join, five sixths of Latest's time at
// 30,000 states; an export of every update reads them with the chains anyway.
func (s *Store) LatestStates(ctx context.Context) ([]store.State, error) {
	states, err := s.queryStates(ctx, `SELECT l.status, l.status_at, l.percent, l.value, l.updates, l.task, l.department,
	l.last_seq FROM latest l WHERE l.namespace = ? ORDER BY l.task, l.department`, false, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("latest states: %w", err)
	}
	return states, nil
}

// LatestFor returns the states of one department, by task, in one query.
func (s *Store) LatestFor(ctx context.Context, department string) ([]store.State, error) {
	states, err := s.queryStates(ctx, s.latestQuery()+` AND l.department = ? ORDER BY l.task`, true, s.namespace, department)
	if err != nil {
		return nil, fmt.Errorf("latest for %s: %w", department, err)
	}
	return states, nil
}

// queryStates reads the states query selects: the status columns of latest, then its last
// update's (updateSelect's) withLast, else only the task, department and seq of it.
func (s *Store) queryStates(ctx context.Context, query string, withLast bool, args ...any) ([]store.State, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var states []store.State
	for rows.Next() {
		var st store.State
		var percent sql.NullInt64
		var value sql.NullFloat64
		var statusAt string
		lead := []any{(*string)(&st.Status), &statusAt, &percent, &value, &st.Updates}
		var last store.Update
		if withLast {
			last, err = scanUpdate(rows, lead...)
		} else if err = rows.Scan(append(lead, &last.Task, &last.Department, &last.Seq)...); err == nil {
			last.ID = store.FormatID(last.Task, last.Seq)
		}
		if err != nil {
			return nil, err
		}
		if st.StatusAt, err = parseOptionalTime(statusAt); err != nil {
			return nil, fmt.Errorf("status_at: %w", err)
		}
		st.Task, st.Department, st.Last = last.Task, last.Department, last
		st.Percent, st.Value = intFrom(percent), floatFrom(value)
		states = append(states, st)
	}
	return states, rows.Err()
}

// formatOptionalTime and parseOptionalTime keep a zero time as "".
func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return store.FormatTime(t)
}

func parseOptionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return store.ParseTime(s)
}
