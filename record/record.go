// Package record is the record (台账) as rows: the plan with every responsible department's
// latest status, its 三色 colour, days left and updates, one Row per task and department, read
// from the store in one pass and assessed by the scheduler (scheduler.Assess), so that
// `duban export`, the web view and the workbook show the same figures. It is also the one way
// those rows are written: WriteCSV and WriteJSON are the formats README documents for
// `duban export`, and Workbook turns rows into package workbook's input.
//
// It imports scheduler, so the scheduler cannot import it, and workbook, so workbook cannot
// import it either: an update's words with its 📎 file name, which the CSV and the 台账
// sheet both show, are workbook.ReportText.
package record

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// Reader is what collecting the record reads of a store; both stores provide it.
type Reader interface {
	UpdatesReader
	Latest(ctx context.Context) ([]store.State, error)
	Ledger(ctx context.Context) (map[string]time.Time, error)
	Snoozes(ctx context.Context) (map[string]time.Time, error)
}

// UpdatesReader reads one task's chain, in the order it was written.
type UpdatesReader interface {
	Updates(ctx context.Context, task int) ([]store.Update, error)
}

// Row is one task × department.
type Row struct {
	Task        *config.Task
	Department  string
	Lead        bool
	Responsible bool // false: it reported on the task but the plan no longer names it
	// Removed marks a row of a task no longer in the plan (see Snapshot.Rows): its Task has
	// only the id, and i18n's NotInPlan for a goal.
	Removed bool
	// State is the latest state; not started, with no Last, for a department that never
	// reported.
	State      store.State
	Assessment scheduler.Assessment
	Color      scheduler.Color // "" for none, and for a department no longer responsible
	Deadline   time.Time       // of the current period, for a yearly task
	DaysLeft   int
	// Updates are the department's updates on the task in the order they were written: every
	// one when collected with all (or after FillUpdates), else the latest alone; none for a
	// department that never reported.
	Updates []store.Update
}

// Task is one task and its rows, as the JSON groups them.
type Task struct {
	Task     *config.Task
	Deadline time.Time // its rows' (zero for a task with none)
	DaysLeft int
	Rows     []Row
	Removed  bool // no longer in the plan: a revision removed it, its record stays
}

// Snapshot is the record as one Collect read it.
type Snapshot struct {
	// Rows are the plan's tasks in order, each with its responsible departments, leads
	// first, then any department that reported on it though the plan no longer names it;
	// with all, then the tasks that have a record but are no longer in the plan (a revision
	// of the plan removed them), by id, each department's latest state as it stands.
	Rows []Row
	// Tasks are every task of the plan, in its order, with its Rows: a task whose
	// departments are all empty groups is there too, with none.
	Tasks []Task
	// Ledger is the reminders sent (store key → when), as the rows were assessed with it.
	Ledger map[string]time.Time
}

// Collect reads the record at now: the latest states, the ledger and the snoozes once each,
// and with all every task's chain, so that each row's Updates hold every update.
func Collect(ctx context.Context, r Reader, c *config.Config, p *config.Plan, all bool, now time.Time) (*Snapshot, error) {
	states, err := r.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("read latest: %w", err)
	}
	ledger, err := r.Ledger(ctx)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	snoozes, err := r.Snoozes(ctx)
	if err != nil {
		return nil, fmt.Errorf("read snoozes: %w", err)
	}
	view, settings := scheduler.NewState(states, ledger, snoozes), scheduler.SettingsFrom(c)
	byKey := map[string]store.State{}
	others := map[int][]string{}
	for _, st := range states {
		byKey[store.SnoozeKey(st.Task, st.Department)] = st
		if t, ok := p.Task(st.Task); ok && !slices.Contains(t.Responsible, st.Department) {
			others[st.Task] = append(others[st.Task], st.Department)
		}
	}
	snap := &Snapshot{Ledger: ledger, Tasks: make([]Task, 0, len(p.Tasks))}
	starts := make([]int, 0, len(p.Tasks)) // where each task's rows begin in snap.Rows
	for _, t := range p.Tasks {
		starts = append(starts, len(snap.Rows))
		task := Task{Task: t}
		add := func(name string, responsible bool) {
			a := scheduler.Assess(t, name, view, settings, now)
			row := Row{Task: t, Department: name, Lead: t.IsLead(name), Responsible: responsible,
				Assessment: a, Deadline: a.Deadline, DaysLeft: a.DaysLeft}
			task.Deadline, task.DaysLeft = a.Deadline, a.DaysLeft
			if responsible {
				row.Color = a.Color
			}
			if st, ok := byKey[store.SnoozeKey(t.ID, name)]; ok {
				row.State = st
				row.Updates = []store.Update{st.Last}
			} else {
				row.State = store.State{Task: t.ID, Department: name, Status: store.StatusNotStarted}
			}
			snap.Rows = append(snap.Rows, row)
		}
		// The first listed department leads, so the plan's order puts the leads first
		// already; the sort keeps that true of a plan built by hand.
		rank := func(name string) int {
			if t.IsLead(name) {
				return 0
			}
			return 1
		}
		resp := slices.Clone(t.Responsible)
		slices.SortStableFunc(resp, func(a, b string) int { return cmp.Compare(rank(a), rank(b)) })
		for _, name := range resp {
			add(name, true)
		}
		for _, name := range others[t.ID] {
			add(name, false)
		}
		snap.Tasks = append(snap.Tasks, task)
	}
	if all {
		starts = removed(snap, starts, states, p, i18n.For(c.Language))
	}
	// The rows are sliced for the tasks only now that the slice has stopped growing.
	for i, start := range starts {
		end := len(snap.Rows)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		snap.Tasks[i].Rows = snap.Rows[start:end:end]
	}
	if all {
		if err := FillUpdates(ctx, r, snap.Rows); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// removed adds to snap the tasks with a latest state that the plan no longer has, so that an
// export with every update keeps what was recorded on them.
// It returns starts with where each added task's rows begin.
func removed(snap *Snapshot, starts []int, states []store.State, p *config.Plan, texts *i18n.Texts) []int {
	gone := map[int][]store.State{}
	for _, st := range states {
		if _, ok := p.Task(st.Task); !ok {
			gone[st.Task] = append(gone[st.Task], st)
		}
	}
	ids := make([]int, 0, len(gone))
	for id := range gone {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := &config.Task{ID: id, Goal: texts.NotInPlan}
		starts = append(starts, len(snap.Rows))
		sts := gone[id]
		slices.SortFunc(sts, func(a, b store.State) int { return cmp.Compare(a.Department, b.Department) })
		for _, st := range sts {
			a := scheduler.Assessment{Status: st.Status, Percent: st.Percent, HasReported: true, LastReport: st.Last.At,
				LastText: st.Last.Text, LastReporter: st.Last.UserName, Done: st.Status == store.StatusDone, Expected: -1, Reported: -1}
			snap.Rows = append(snap.Rows, Row{Task: t, Department: st.Department, State: st, Assessment: a,
				Updates: []store.Update{st.Last}, Removed: true})
		}
		snap.Tasks = append(snap.Tasks, Task{Task: t, Removed: true})
	}
	return starts
}

// FillUpdates sets each row's Updates to every update its department wrote on its task, in
// the order written, reading each task's chain once: for rows collected without all (a
// filtered list) that go into the workbook, which holds every update.
func FillUpdates(ctx context.Context, r UpdatesReader, rows []Row) error {
	chains := map[int]map[string][]store.Update{} // task → department → its updates
	for i := range rows {
		id := rows[i].Task.ID
		byDept, ok := chains[id]
		if !ok {
			ups, err := r.Updates(ctx, id)
			if err != nil {
				return fmt.Errorf("read updates of task %d: %w", id, err)
			}
			byDept = map[string][]store.Update{}
			for _, u := range ups {
				byDept[u.Department] = append(byDept[u.Department], u)
			}
			chains[id] = byDept
		}
		rows[i].Updates = byDept[rows[i].Department]
	}
	return nil
}

// ByTask groups rows by task, in the order each task first comes: a filtered, sorted list
// keeps one entry per task, as the JSON has.
func ByTask(rows []Row) []Task {
	var out []Task
	index := map[int]int{}
	for _, r := range rows {
		i, ok := index[r.Task.ID]
		if !ok {
			i = len(out)
			index[r.Task.ID] = i
			out = append(out, Task{Task: r.Task, Deadline: r.Deadline, DaysLeft: r.DaysLeft})
		}
		out[i].Rows = append(out[i].Rows, r)
	}
	return out
}

// TaskStatus is where a task stands as a whole, from its responsible departments'
// assessments: done when every one is, blocked when any is, in progress when any has
// started (or some are done), else not started. The digest's 重点工作 counts use the same
// rule (scheduler/digest.go), which cannot call this: package record imports scheduler.
func TaskStatus(as []scheduler.Assessment) store.Status {
	var done, blocked, started int
	for _, a := range as {
		switch {
		case a.Done:
			done++
		case a.Status == store.StatusBlocked:
			blocked++
		case a.Status == store.StatusInProgress:
			started++
		}
	}
	switch {
	case done == len(as):
		return store.StatusDone
	case blocked > 0:
		return store.StatusBlocked
	case started > 0 || done > 0:
		return store.StatusInProgress
	}
	return store.StatusNotStarted
}

// Areas counts the tasks of p per 重点工作, in the order the plan first names each, by
// TaskStatus over the responsible rows.
func Areas(p *config.Plan, rows []Row) []i18n.AreaCount {
	byTask := map[int][]scheduler.Assessment{}
	for _, r := range rows {
		if r.Responsible {
			byTask[r.Task.ID] = append(byTask[r.Task.ID], r.Assessment)
		}
	}
	var out []i18n.AreaCount
	index := map[string]int{}
	for _, t := range p.Tasks {
		i, ok := index[t.Area]
		if !ok {
			i = len(out)
			index[t.Area] = i
			out = append(out, i18n.AreaCount{Area: t.Area})
		}
		switch TaskStatus(byTask[t.ID]) {
		case store.StatusDone:
			out[i].Done++
		case store.StatusBlocked:
			out[i].Blocked++
		case store.StatusInProgress:
			out[i].InProgress++
		default:
			out[i].NotStarted++
		}
	}
	return out
}
