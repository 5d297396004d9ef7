package sqlite

import (
	"context"
	"reflect"
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

// TestLatestStates: the states without their last updates are Latest's, each Last cut to its
// ID, task, department and seq, in the same order.
func TestLatestStates(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "duban:").(*Store)
	pct, v := 40, 2.5
	ups := []store.Update{
		{Task: 1, Department: "市教育局", Text: "进行中", Status: store.StatusInProgress, Percent: &pct},
		{Task: 1, Department: "市财政局", Text: "已完成", Status: store.StatusDone, Value: &v},
		{Task: 1, Department: "市教育局", Text: "补充说明"},
		{Task: 2, Department: "市教育局", Text: "受阻", Status: store.StatusBlocked},
	}
	for _, u := range ups {
		u.ChatID, u.UserName, u.Source = -1, "办事员", store.SourceReply
		if _, _, err := s.Record(ctx, 0, []store.Update{u}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range want {
		want[i].Last = store.Update{ID: st.Last.ID, Task: st.Task, Department: st.Department, Seq: st.Last.Seq}
	}
	got, err := s.LatestStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant (Latest, Last cut)\n%+v", got, want)
	}
}
