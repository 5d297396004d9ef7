package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/duban/duban/store"
)

// StoredLatest returns the rows of the latest table as they are, for store.VerifyLatest:
// Latest joins each row to its last update, which hides a row whose update is gone. The file
// keeps one copy, "latest", and only the seq of the last update (State.Last.Seq).
func (s *Store) StoredLatest(ctx context.Context, _ []string) (map[string][]store.StoredState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT task, department, status, status_at, percent, value, updates, last_seq
			FROM latest WHERE namespace = ? ORDER BY task, department`, s.namespace)
	if err != nil {
		return nil, fmt.Errorf("stored latest: %w", err)
	}
	defer rows.Close()
	out := []store.StoredState{}
	for rows.Next() {
		var st store.State
		var percent sql.NullInt64
		var value sql.NullFloat64
		var statusAt string
		if err := rows.Scan(&st.Task, &st.Department, (*string)(&st.Status), &statusAt, &percent, &value,
			&st.Updates, &st.Last.Seq); err != nil {
			return nil, fmt.Errorf("stored latest: %w", err)
		}
		if st.StatusAt, err = parseOptionalTime(statusAt); err != nil {
			return nil, fmt.Errorf("stored latest: task %d, %s: status_at: %w", st.Task, st.Department, err)
		}
		st.Percent, st.Value = intFrom(percent), floatFrom(value)
		st.Last.Task, st.Last.Department = st.Task, st.Department
		out = append(out, store.StoredState{Task: st.Task, Department: st.Department, State: st})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stored latest: %w", err)
	}
	return map[string][]store.StoredState{"latest": out}, nil
}
