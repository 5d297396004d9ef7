package record

import (
	"testing"

	"github.com/duban/duban/config"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// TestTaskStatus: the digest's rule for a task as a whole.
func TestTaskStatus(t *testing.T) {
	done := scheduler.Assessment{Done: true, Status: store.StatusDone}
	blocked := scheduler.Assessment{Status: store.StatusBlocked}
	started := scheduler.Assessment{Status: store.StatusInProgress}
	idle := scheduler.Assessment{Status: store.StatusNotStarted}
	for _, tt := range []struct {
		as   []scheduler.Assessment
		want store.Status
	}{
		{nil, store.StatusDone}, // nobody to wait for
		{[]scheduler.Assessment{done, done}, store.StatusDone},
		{[]scheduler.Assessment{done, blocked, started}, store.StatusBlocked},
		{[]scheduler.Assessment{idle, started}, store.StatusInProgress},
		{[]scheduler.Assessment{idle, done}, store.StatusInProgress},
		{[]scheduler.Assessment{idle, idle}, store.StatusNotStarted},
	} {
		if got := TaskStatus(tt.as); got != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.as, got, tt.want)
		}
	}
}

// TestByTask: rows of one task that a sort put apart come together under it, in the order
// the tasks first come.
func TestByTask(t *testing.T) {
	t1, t2 := &config.Task{ID: 1}, &config.Task{ID: 2}
	got := ByTask([]Row{{Task: t2, Department: "A", DaysLeft: 5}, {Task: t1, Department: "B"}, {Task: t2, Department: "C", DaysLeft: 5}})
	if len(got) != 2 || got[0].Task != t2 || got[1].Task != t1 || got[0].DaysLeft != 5 {
		t.Fatalf("got %+v, want task 2 then task 1", got)
	}
	if len(got[0].Rows) != 2 || got[0].Rows[0].Department != "A" || got[0].Rows[1].Department != "C" {
		t.Errorf("task 2: got %+v, want A and C in their order", got[0].Rows)
	}
}
