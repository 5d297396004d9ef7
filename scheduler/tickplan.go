package scheduler

import (
	"strconv"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

// TickPlan is what a tick sends, as the tick holds it between deciding and claiming: walk's
// items kept per department in plan order, a few words each (the task, the stage and its
// numbers, the state it reports), and the supervisors' escalations likewise. No ledger key and
// no assessment is held for the whole plan: a department's keys and lines are built when its
// message is claimed (nudges), from the same rules as Decide's, and go with the message. At
// 100,000 tasks × 3 on a first tick that is 40 bytes an item instead of Decide's few hundred.
type TickPlan struct {
	now    time.Time
	loc    *time.Location
	today  int
	labels []string // the before stages' labels, in RemindBefore's order
	depts  map[string]*chunks[dueItem]
	escs   chunks[escItem]
	// Unbound sums up what the departments without a chat hold, as Decide's does.
	Unbound Unbound
}

// dueItem is one nudge of a TickPlan.
type dueItem struct {
	task    *config.Task
	current *store.State // the pair's latest state if its status counts in this period, else nil
	t       int64        // overdue: the reminder's number; stale: the silence's start (unix)
	n       int32        // stale: the request's number; before: the stage's index in labels
	stage   uint8        // stageBefore…
	color   uint8        // colors' index
}

// escItem is one escalation of a TickPlan.
type escItem struct {
	task       *config.Task
	current    *store.State
	since      int64 // unanswered: since when (unix, 0: never reported)
	unanswered int32
	dept       uint16 // in task.Responsible
	unansw     bool   // the kind: unanswered, else overdue
}

const (
	stageBefore uint8 = iota
	stageOverdue
	stageStale
)

var (
	stages = [...]Stage{StageBefore, StageOverdue, StageStale}
	colors = [...]Color{None, Blue, Yellow, Red}
)

func colorCode(c Color) uint8 {
	for i, x := range colors {
		if x == c {
			return uint8(i)
		}
	}
	return 0
}

// PlanTick decides a tick at now, as Decide does, keeping what is due per department (see
// TickPlan).
func PlanTick(plan *config.Plan, st *State, s Settings, now time.Time) *TickPlan {
	tp := &TickPlan{now: now, loc: s.Location, today: dayNumber(now, s.Location), depts: map[string]*chunks[dueItem]{}}
	for _, span := range s.RemindBefore {
		tp.labels = append(tp.labels, config.Duration(span).String())
	}
	// The department of the i-th responsible of the last task seen: tasks mostly list the
	// same departments in the same order, and a string comparison is cheaper than a hash.
	var last [4]struct {
		name  string
		items *chunks[dueItem]
	}
	tp.Unbound = walk(plan, st, s, now, false, nil, func(it *planned) {
		a := it.assessment
		current := it.current
		pos := 0
		for pos < len(it.task.Responsible) && it.task.Responsible[pos] != it.dept {
			pos++
		}
		for k, esc := range [2]bool{it.escOverdue, it.escUnanswered} {
			if esc {
				tp.escs.add(escItem{task: it.task, current: current, since: it.since, unanswered: int32(a.Unanswered), dept: uint16(pos), unansw: k == 1})
			}
		}
		if !it.nudged {
			return
		}
		var items *chunks[dueItem]
		if pos < len(last) && last[pos].items != nil && last[pos].name == it.dept {
			items = last[pos].items
		} else {
			if items = tp.depts[it.dept]; items == nil {
				items = &chunks[dueItem]{}
				tp.depts[it.dept] = items
			}
			if pos < len(last) {
				last[pos].name, last[pos].items = it.dept, items
			}
		}
		d := dueItem{task: it.task, current: current, color: colorCode(a.Color)}
		switch it.stage {
		case StageBefore:
			d.stage, d.n = stageBefore, int32(it.before)
		case StageOverdue:
			d.stage, d.t = stageOverdue, it.n
		case StageStale:
			d.stage, d.t, d.n = stageStale, it.t, int32(it.n)
		}
		items.add(d)
	})
	return tp
}

// Items counts the plan's nudges and escalations.
func (tp *TickPlan) Items() (nudges, escalations int) {
	for _, b := range tp.depts {
		nudges += b.n
	}
	return nudges, tp.escs.n
}

// keyBuilder builds one message's ledger keys.
type keyBuilder struct {
	keys keyArena
	mid  []byte
}

// mid is the keys' common middle of a pair, "|<task>|<department>|<period>|".
func (kb *keyBuilder) pairMid(task int, dept string, per *period) []byte {
	b := strconv.AppendInt(append(kb.mid[:0], '|'), int64(task), 10)
	b = append(append(append(b, '|'), dept...), '|')
	b = append(appendDate(b, per.y, per.m, per.d), '|')
	kb.mid = b
	return b
}

// nudges is what dept's message carries: its items' ledger keys and its items, in plan order,
// leaving out those whose key skip holds; tasks are the items' task ids.
func (tp *TickPlan) nudges(dept string, skip map[string]bool) (keys []string, items []i18n.NudgeItem, tasks []int) {
	b := tp.depts[dept]
	if b == nil {
		return nil, nil, nil
	}
	var kb keyBuilder
	keys, items, tasks = make([]string, 0, b.n), make([]i18n.NudgeItem, 0, b.n), make([]int, 0, b.n)
	b.each(func(d *dueItem) {
		per := periodAt(d.task, tp.now, tp.loc, tp.today)
		mid := kb.pairMid(d.task.ID, dept, &per)
		var key string
		switch d.stage {
		case stageBefore:
			key, _ = kb.keys.key('n', mid, "before:", tp.labels[d.n], 0, false, 0, false)
		case stageOverdue:
			key, _ = kb.keys.key('n', mid, "overdue:", "", d.t, true, 0, false)
		case stageStale:
			key, _ = kb.keys.key('n', mid, "stale:", "", d.t, true, int64(d.n), true)
		}
		if skip[key] {
			return
		}
		status, percent := current(d.current)
		keys = append(keys, key)
		tasks = append(tasks, d.task.ID)
		items = append(items, i18n.NudgeItem{Task: d.task.ID, Goal: d.task.Goal, Deadline: per.deadline.In(tp.loc), DaysLeft: per.daysLeft,
			Stage: string(stages[d.stage]), Color: string(colors[d.color]), Status: status, Percent: percent})
	})
	return keys, items, tasks
}

// escalations is what the supervisors' message carries of the items: their keys and lines, in
// plan order, leaving out those whose key skip holds.
func (tp *TickPlan) escalations(skip map[string]bool) (keys []string, lines []i18n.EscalationLine) {
	var kb keyBuilder
	keys, lines = make([]string, 0, tp.escs.n), make([]i18n.EscalationLine, 0, tp.escs.n)
	tp.escs.each(func(e *escItem) {
		per := periodAt(e.task, tp.now, tp.loc, tp.today)
		dept := e.task.Responsible[e.dept]
		mid := kb.pairMid(e.task.ID, dept, &per)
		key, kind := "", "overdue"
		if e.unansw {
			key, _ = kb.keys.key('e', mid, "unanswered:", "", e.since, true, 0, false)
			kind = "unanswered"
		} else {
			key, _ = kb.keys.key('e', mid, "overdue", "", 0, false, 0, false)
		}
		if skip[key] {
			return
		}
		status, percent := current(e.current)
		keys = append(keys, key)
		lines = append(lines, i18n.EscalationLine{Task: e.task.ID, Goal: e.task.Goal, Department: dept, Kind: kind,
			DaysLeft: per.daysLeft, Unanswered: int(e.unanswered), Status: status, Percent: percent})
	})
	return keys, lines
}

// current is the status and percent a pair reports in its period, as assess reads them.
func current(s *store.State) (store.Status, *int) {
	if s == nil {
		return store.StatusNotStarted, nil
	}
	return s.Status, s.Percent
}

// each calls f for every value, in order.
func (c *chunks[T]) each(f func(*T)) {
	for _, blk := range c.full {
		for i := range blk {
			f(&blk[i])
		}
	}
	for i := range c.cur {
		f(&c.cur[i])
	}
}
