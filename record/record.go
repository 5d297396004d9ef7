// Package record is the record (台账) as rows: the plan with every responsible department's
// latest status, its 三色 colour, days left and updates, one Row per task and department, read
// from the store in one pass and assessed by the scheduler (scheduler.Assess), so that
// `duban export`, the web view and the workbook show the same figures. It is also the one way
// those rows are written: WriteCSV and WriteJSON are the formats README documents for
// `duban export`, and Workbook turns rows into package workbook's input. StreamJSON and
// StreamCSV write the same bytes for every update without holding them all: one task's
// chain at a time, so that `duban export -all` needs the same memory for 10,000 updates as
// for 1,000,000.
//
// It imports scheduler, so the scheduler cannot import it, and workbook, so workbook cannot
// import it either: an update's words with its 📎 file name, which the CSV and the 台账
// sheet both show, are workbook.ReportText.
package record

import (
	"cmp"
	"context"
	"errors"
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
	Ledger(ctx context.Context) (store.Ledger, error)
	Snoozes(ctx context.Context) (map[string]time.Time, error)
}

// statesReader is a store that lists the latest states without their last updates (Last
// holds only its ID, Task, Department and Seq) more cheaply than Latest: the embedded store,
// where each last update is a row of its own. An export of every update, which reads the
// chains anyway, fills them in from there.
type statesReader interface {
	LatestStates(ctx context.Context) ([]store.State, error)
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
	// Ledger is the reminders sent (store key and when), as the rows were assessed with it.
	Ledger store.Ledger
}

// Collect reads the record at now: the latest states, the ledger and the snoozes once each,
// and with all every task's chain, so that each row's Updates hold every update. It holds
// the whole record in memory: an export of every update streams it instead (StreamJSON,
// StreamCSV).
func Collect(ctx context.Context, r Reader, c *config.Config, p *config.Plan, all bool, now time.Time) (*Snapshot, error) {
	snap, err := collect(ctx, r, c, p, all, now)
	if err != nil {
		return nil, err
	}
	if all {
		if err := FillUpdates(ctx, r, snap.Rows); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// collect is Collect without reading the chains: each row's Updates hold its latest update
// alone. With all, the tasks no longer in the plan are there too.
func collect(ctx context.Context, r Reader, c *config.Config, p *config.Plan, all bool, now time.Time) (*Snapshot, error) {
	rd, err := read(ctx, r, c, p, all, now)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Ledger: rd.ledger, Tasks: make([]Task, 0, rd.tasks())}
	starts := make([]int, 0, rd.tasks()) // where each task's rows begin in snap.Rows
	for i := range rd.tasks() {
		starts = append(starts, len(snap.Rows))
		var task Task
		task, snap.Rows = rd.task(i, snap.Rows)
		snap.Tasks = append(snap.Tasks, task)
	}
	// The rows are sliced for the tasks only now that the slice has stopped growing.
	for i, start := range starts {
		end := len(snap.Rows)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		snap.Tasks[i].Rows = snap.Rows[start:end:end]
	}
	return snap, nil
}

// reading is the record's latest states, ledger and snoozes as one pass read them, from which
// each task's rows are assessed when they are wanted: all of them for a Snapshot, one at a
// time for a stream, which then holds a state per department and task but never every row.
type reading struct {
	p        *config.Plan
	now      time.Time
	ledger   store.Ledger
	view     *scheduler.State
	settings scheduler.Settings
	states   []store.State
	byKey    map[string]int   // task and department → its index in states
	others   map[int][]string // task → the departments that reported on it, the plan naming them not
	// removed are the ids of the tasks with a latest state that the plan no longer has,
	// ascending; none unless read with all.
	removed   []int
	gone      map[int][]int // removed task → its indexes in states
	notInPlan string
	// byTask holds each task's indexes in states when their Last holds only its ID and Seq
	// (readChains), filled in from each task's chain before the task is assessed; nil else.
	byTask map[int][]int
}

func read(ctx context.Context, r Reader, c *config.Config, p *config.Plan, all bool, now time.Time) (*reading, error) {
	return readStates(ctx, r, r.Latest, c, p, all, now)
}

// readChains is read for eachTask, which reads every chain: the states without their last
// updates where the store lists them so more cheaply (see statesReader), for eachTask to
// fill in (fillLast).
func readChains(ctx context.Context, r Reader, c *config.Config, p *config.Plan, now time.Time) (*reading, error) {
	latest := r.Latest
	sr, lacksLast := r.(statesReader)
	if lacksLast {
		latest = sr.LatestStates
	}
	rd, err := readStates(ctx, r, latest, c, p, true, now)
	if err != nil {
		return nil, err
	}
	if lacksLast {
		rd.byTask = make(map[int][]int, len(rd.states))
		for k, st := range rd.states {
			rd.byTask[st.Task] = append(rd.byTask[st.Task], k)
		}
	}
	return rd, nil
}

// fillLast sets the Last of task's states from its chain, read after them: a state's last
// update is in its chain (both are written at once, the chain only grows), so one that is
// not means the store is damaged, and the export stops rather than show it blank.
func (rd *reading) fillLast(task int, ups []store.Update) error {
	for _, k := range rd.byTask[task] { // none when the states came whole
		st := &rd.states[k]
		i, found := slices.BinarySearchFunc(ups, st.Last.Seq, func(u store.Update, seq int64) int { return cmp.Compare(u.Seq, seq) })
		if !found || ups[i].Department != st.Department {
			return fmt.Errorf("task %d, %s: the latest state's last update (%s) is not in the task's chain", task, st.Department, st.Last.ID)
		}
		st.Last = ups[i]
	}
	return nil
}

func readStates(ctx context.Context, r Reader, latest func(context.Context) ([]store.State, error), c *config.Config, p *config.Plan, all bool, now time.Time) (*reading, error) {
	states, err := latest(ctx)
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
	rd := &reading{p: p, now: now, ledger: ledger, view: scheduler.NewState(states, ledger, snoozes), settings: scheduler.SettingsFrom(c),
		states: states, byKey: make(map[string]int, len(states)), others: map[int][]string{}, gone: map[int][]int{},
		notInPlan: i18n.For(c.Language).NotInPlan}
	for i, st := range states {
		rd.byKey[store.SnoozeKey(st.Task, st.Department)] = i
		t, ok := p.Task(st.Task)
		switch {
		case ok && !slices.Contains(t.Responsible, st.Department):
			rd.others[st.Task] = append(rd.others[st.Task], st.Department)
		case !ok && all:
			if _, seen := rd.gone[st.Task]; !seen {
				rd.removed = append(rd.removed, st.Task)
			}
			rd.gone[st.Task] = append(rd.gone[st.Task], i)
		}
	}
	slices.Sort(rd.removed)
	return rd, nil
}

// tasks is how many tasks there are: the plan's, then the removed.
func (rd *reading) tasks() int { return len(rd.p.Tasks) + len(rd.removed) }

// id is the id of task i.
func (rd *reading) id(i int) int {
	if i < len(rd.p.Tasks) {
		return rd.p.Tasks[i].ID
	}
	return rd.removed[i-len(rd.p.Tasks)]
}

// task assesses task i (see Snapshot.Rows), appending its rows to rows; the Task it returns
// has no Rows: they are the ones appended.
func (rd *reading) task(i int, rows []Row) (Task, []Row) {
	if i >= len(rd.p.Tasks) {
		return rd.removedTask(rd.removed[i-len(rd.p.Tasks)], rows)
	}
	t := rd.p.Tasks[i]
	task := Task{Task: t}
	add := func(name string, responsible bool) {
		a := scheduler.Assess(t, name, rd.view, rd.settings, rd.now)
		row := Row{Task: t, Department: name, Lead: t.IsLead(name), Responsible: responsible,
			Assessment: a, Deadline: a.Deadline, DaysLeft: a.DaysLeft}
		task.Deadline, task.DaysLeft = a.Deadline, a.DaysLeft
		if responsible {
			row.Color = a.Color
		}
		if k, ok := rd.byKey[store.SnoozeKey(t.ID, name)]; ok {
			row.State = rd.states[k]
			row.Updates = []store.Update{row.State.Last}
		} else {
			row.State = store.State{Task: t.ID, Department: name, Status: store.StatusNotStarted}
		}
		rows = append(rows, row)
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
	for _, name := range rd.others[t.ID] {
		add(name, false)
	}
	return task, rows
}

// removedTask is a task with a latest state that the plan no longer has, so that an export
// with every update keeps what was recorded on it: its departments by name, each with its
// latest state as it stands.
func (rd *reading) removedTask(id int, rows []Row) (Task, []Row) {
	t := &config.Task{ID: id, Goal: rd.notInPlan}
	sts := make([]store.State, 0, len(rd.gone[id]))
	for _, k := range rd.gone[id] {
		sts = append(sts, rd.states[k])
	}
	slices.SortFunc(sts, func(a, b store.State) int { return cmp.Compare(a.Department, b.Department) })
	for _, st := range sts {
		a := scheduler.Assessment{Status: st.Status, Percent: st.Percent, HasReported: true, LastReport: st.Last.At,
			LastText: st.Last.Text, LastReporter: st.Last.UserName, Done: st.Status == store.StatusDone, Expected: -1, Reported: -1}
		rows = append(rows, Row{Task: t, Department: st.Department, State: st, Assessment: a,
			Updates: []store.Update{st.Last}, Removed: true})
	}
	return Task{Task: t, Removed: true}, rows
}

// chainReaders read the chains, each a few ahead of the task being written: reading them
// overlaps writing (and each other: a Redis read is mostly a round trip), and memory stays
// bounded by a few chains however long the record grows.
const (
	chainReaders = 2
	chainsAhead  = 4 // per reader
)

// eachTask calls fn with every task of rd in order, its rows' Updates set to every update its
// department wrote on it, assessing one task and reading its chain at a time (a few chains
// ahead, from other goroutines: r must allow that, as both stores do). The Task fn gets,
// and its Rows, are reused for the next task: fn must not keep them.
func eachTask(ctx context.Context, r UpdatesReader, rd *reading, fn func(Task) error) error {
	type chain struct {
		ups []store.Update
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	// Reader k reads tasks k, k+chainReaders, ...: taking task i from reader i%chainReaders
	// keeps the plan's order.
	readers := make([]chan chain, chainReaders)
	for k := range readers {
		readers[k] = make(chan chain, chainsAhead)
		go func(out chan<- chain) {
			defer close(out)
			for i := k; i < rd.tasks(); i += chainReaders {
				id := rd.id(i)
				ups, err := r.Updates(ctx, id)
				if err != nil {
					err = fmt.Errorf("read updates of task %d: %w", id, err)
				}
				select {
				case out <- chain{ups, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}(readers[k])
	}
	// The readers are waited for, so that nothing reads the store once this returns (the
	// caller closes it).
	defer func() {
		cancel()
		for _, out := range readers {
			for range out {
			}
		}
	}()
	var rows []Row
	var grouped []store.Update
	for i := range rd.tasks() {
		ch, ok := <-readers[i%chainReaders]
		switch {
		case ctx.Err() != nil: // a store that does not look at ctx would go on
			return ctx.Err()
		case !ok:
			return errors.New("chains: ended before the tasks did")
		case ch.err != nil:
			return ch.err
		}
		if err := rd.fillLast(rd.id(i), ch.ups); err != nil {
			return err
		}
		var t Task
		t, rows = rd.task(i, rows[:0])
		// By department, in the order written: a task has a few rows, so a pass over the
		// chain for each is cheaper than a map.
		grouped = grouped[:0]
		for j := range rows {
			start := len(grouped)
			for _, u := range ch.ups {
				if u.Department == rows[j].Department {
					grouped = append(grouped, u)
				}
			}
			rows[j].Updates = grouped[start:len(grouped):len(grouped)]
		}
		t.Rows = rows
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
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
