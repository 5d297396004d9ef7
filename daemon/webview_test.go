package daemon

import (
	"context"
	"testing"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
	"github.com/duban/duban/web"
)

// updatesOnly is the part of web.Data the workbook conversion reads.
type updatesOnly struct {
	web.Data
	ups   map[int][]store.Update
	reads map[int]int
}

func (u *updatesOnly) Updates(_ context.Context, task int) ([]store.Update, error) {
	u.reads[task]++
	return u.ups[task], nil
}

// TestWorkbookTasks: the rows keep the list's order (a task's rows apart in a sorted list
// stay apart), each department gets its own updates, each task's are read once, and only a
// responsible department's standing counts.
func TestWorkbookTasks(t *testing.T) {
	t1, t2 := &config.Task{ID: 1, Area: "甲", Goal: "一"}, &config.Task{ID: 2, Area: "乙", Goal: "二"}
	last := store.Update{ID: "1-2", Task: 1, Department: "A", Text: "完成"}
	data := &updatesOnly{reads: map[int]int{}, ups: map[int][]store.Update{
		1: {{ID: "1-1", Task: 1, Department: "A"}, {ID: "1-3", Task: 1, Department: "C"}, last},
	}}
	rows := []record.Row{
		{Task: t1, Department: "A", Responsible: true, Color: scheduler.Red, State: store.State{Status: store.StatusDone, Last: last},
			Assessment: scheduler.Assessment{Done: true, Overdue: true, Unanswered: 2}},
		{Task: t2, Department: "B", Responsible: true, Assessment: scheduler.Assessment{Overdue: true}},
		{Task: t1, Department: "C", Responsible: false, Assessment: scheduler.Assessment{Overdue: true, Unanswered: 4}},
	}
	got, err := workbookTasks(context.Background(), data, rows)
	if err != nil {
		t.Fatalf("workbookTasks: %v", err)
	}
	if len(got) != 3 || got[0].ID != 1 || got[1].ID != 2 || got[2].ID != 1 {
		t.Fatalf("tasks: got %+v, want 1, 2, 1 in the rows' order", got)
	}
	if data.reads[1] != 1 || data.reads[2] != 1 {
		t.Errorf("reads: got %v, want each task's updates read once", data.reads)
	}
	a, b, c := got[0].Departments[0], got[1].Departments[0], got[2].Departments[0]
	if len(a.Updates) != 2 || len(c.Updates) != 1 || len(b.Updates) != 0 {
		t.Errorf("updates: got A %d, B %d, C %d, want 2, 0, 1", len(a.Updates), len(b.Updates), len(c.Updates))
	}
	if a.Last == nil || a.Last.ID != "1-2" || b.Last != nil {
		t.Errorf("last: got A %v, B %v, want 1-2 and none", a.Last, b.Last)
	}
	if !a.Done || a.Overdue || a.Unanswered != 2 || a.Color != "red" {
		t.Errorf("A: got %+v, want done (so not overdue), 2 unanswered, red", a)
	}
	if !b.Overdue || c.Overdue || c.Unanswered != 0 {
		t.Errorf("B overdue %v, C overdue %v unanswered %d: want true, false, 0 (C is no longer responsible)", b.Overdue, c.Overdue, c.Unanswered)
	}
}
