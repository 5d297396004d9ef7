package storetest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/duban/duban/store"
)

// LatestTamper edits a backend's stored latest states behind its back, for the cases in
// which store.VerifyLatest must find a state that is not what the updates say. A Tamper
// given to WithTamper must implement it too.
type LatestTamper interface {
	// SetLatest stores st, as given, as the state of (st.Task, st.Department) in the copy
	// Latest reads (a backend keeping only the last update's seq stores st.Last.Seq).
	SetLatest(tb testing.TB, b Backend, st store.State)
	// DeleteLatest removes the state of (task, department) from the copy Latest reads.
	DeleteLatest(tb testing.TB, b Backend, task int, department string)
}

// mustVerifyLatest returns the problems VerifyLatest finds in copyName, or in every copy for "".
func mustVerifyLatest(tb testing.TB, b Backend, copyName string) []string {
	tb.Helper()
	r, ok := b.(store.LatestReader)
	if !ok {
		tb.Fatalf("%T does not implement store.LatestReader", b)
	}
	problems, err := store.VerifyLatest(testContext(tb), r)
	if err != nil {
		tb.Fatalf("verify latest: %v", err)
	}
	var out []string
	for _, p := range problems {
		if copyName == "" || p.Copy == copyName {
			out = append(out, p.String())
		}
	}
	return out
}

func stateOf(tb testing.TB, b Backend, task int, department string) store.State {
	tb.Helper()
	for _, st := range mustLatest(tb, b) {
		if st.Task == task && st.Department == department {
			return st
		}
	}
	tb.Fatalf("latest: no state of task %d, %s", task, department)
	return store.State{}
}

// testVerifyLatest: a stored latest state changed, removed or made up behind the store's back
// is found, naming the task, the department and what differs, and stays found after the next
// reply (which Record derives from the stored state, so the lie would otherwise last).
func testVerifyLatest(t *testing.T, s suite) {
	if s.tamper == nil {
		t.Skip("the backend's test gives no tamper hook")
	}
	lt, ok := s.tamper.(LatestTamper)
	if !ok {
		t.Fatalf("%T does not implement storetest.LatestTamper", s.tamper)
	}
	const edu = "市教育局"
	tests := []struct {
		name      string
		tamper    func(tb testing.TB, b Backend)
		task      int
		want      []string
		wantAfter []string // after one more note of 市教育局 on task
	}{
		{
			// The issue: export, the digest and plan read done while the updates say 遇到困难.
			name: "blocked set to done",
			tamper: func(tb testing.TB, b Backend) {
				st := stateOf(tb, b, 4, edu)
				st.Status, st.Percent = store.StatusDone, intp(100)
				lt.SetLatest(tb, b, st)
				if got := stateOf(tb, b, 4, edu); got.Status != store.StatusDone {
					tb.Fatalf("latest after the tamper: got %s, want done", got.Status)
				}
			},
			task: 4,
			want: []string{
				"task 4 市教育局: latest_differs: status: latest says done, the updates say blocked; percent: latest says 100, the updates say none",
			},
			wantAfter: []string{
				"task 4 市教育局: latest_differs: status: latest says done, the updates say blocked; percent: latest says 100, the updates say none",
			},
		},
		{
			name:   "removed",
			tamper: func(tb testing.TB, b Backend) { lt.DeleteLatest(tb, b, 1, edu) },
			task:   1,
			want: []string{
				"task 1 市教育局: latest_missing: no state in latest; the updates say in_progress 60%, 2 update(s), last 1-3",
			},
			wantAfter: []string{
				"task 1 市教育局: latest_differs: status: latest says not_started, the updates say in_progress; " +
					"status_at: latest says none, the updates say 2025-03-01T08:06:00.123456789Z; " +
					"percent: latest says none, the updates say 60; updates: latest says 1, the updates say 3",
			},
		},
		{
			name: "no updates behind it",
			tamper: func(tb testing.TB, b Backend) {
				st := stateOf(tb, b, 2, edu)
				st.Department, st.Status = "市发改委", store.StatusDone
				lt.SetLatest(tb, b, st)
			},
			task: 2,
			want: []string{
				"task 2 市发改委: latest_orphan: latest says done 40%, 1 update(s), last 2-2, but the department has no updates on the task",
			},
			wantAfter: []string{
				"task 2 市发改委: latest_orphan: latest says done 40%, 1 update(s), last 2-2, but the department has no updates on the task",
			},
		},
		{
			name: "pointing at an earlier update",
			tamper: func(tb testing.TB, b Backend) {
				st := stateOf(tb, b, 3, edu)
				st.Last = mustUpdates(tb, b, 3)[0]
				lt.SetLatest(tb, b, st)
			},
			task: 3,
			want: []string{
				"task 3 市教育局: latest_differs: last: latest says 3-1, the updates say 3-3",
			},
			// The next reply is the last update whatever the state said.
			wantAfter: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := s.openFresh(t, "latest")
			populateChains(t, b)
			mustRecord(t, b, 0, withProgress(reply(4, edu, "遇到困难 资金未到位"), store.StatusBlocked, nil, nil))
			if got := mustVerifyLatest(t, b, ""); len(got) != 0 {
				t.Fatalf("verify latest before the tamper: got %q, want no problems", got)
			}
			tt.tamper(t, b)
			if got := mustVerifyLatest(t, b, ""); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("verify latest: got problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// A tampered state must still take replies. Only the copy Latest reads is compared: a
			// backend with a second copy derives the next state from the tampered one into both.
			mustRecord(t, b, 0, reply(tt.task, edu, "篡改之后"))
			if got := mustVerifyLatest(t, b, "latest"); !reflect.DeepEqual(got, tt.wantAfter) {
				t.Errorf("verify latest after one more update: got problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantAfter, "\n"))
			}
			// The chains were not touched: Verify must stay quiet, this is VerifyLatest's to find.
			if got := mustVerify(t, b); len(got) != 0 {
				t.Errorf("verify: got %v, want no problems", got)
			}
		})
	}
}
