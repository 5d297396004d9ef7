package sqlite

import (
	"testing"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

var _ storetest.LatestTamper = tamper{}

func (tamper) SetLatest(tb testing.TB, b storetest.Backend, st store.State) {
	tb.Helper()
	s := b.(*Store)
	res, err := s.db.Exec(`INSERT INTO latest (namespace, task, department, status, status_at, percent, value, updates, last_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (namespace, task, department) DO UPDATE SET status = excluded.status, status_at = excluded.status_at,
				percent = excluded.percent, value = excluded.value, updates = excluded.updates, last_seq = excluded.last_seq`,
		s.namespace, st.Task, st.Department, string(st.Status), formatOptionalTime(st.StatusAt), nullInt(st.Percent),
		nullFloat(st.Value), st.Updates, st.Last.Seq)
	mustAffectOne(tb, res, err)
}

func (tamper) DeleteLatest(tb testing.TB, b storetest.Backend, task int, department string) {
	tb.Helper()
	s := b.(*Store)
	res, err := s.db.Exec(`DELETE FROM latest WHERE namespace = ? AND task = ? AND department = ?`, s.namespace, task, department)
	mustAffectOne(tb, res, err)
}
