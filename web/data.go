package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// snapshot is what one page reads from the store, once per request: pages reflect a report
// as soon as it is recorded, and no cache can go stale. Its rows are the record's, as
// `duban export` collects them (record.Collect).
type snapshot struct {
	cfg      *config.Config
	plan     *config.Plan
	now      time.Time
	rows     []record.Row
	ledger   store.Ledger
	bindings map[string]store.Binding
}

func (s *Server) snapshot(ctx context.Context) (*snapshot, error) {
	c, p := s.plan()
	now := s.now()
	rec, err := record.Collect(ctx, s.data, c, p, false, now)
	if err != nil {
		return nil, err
	}
	bindings, err := s.data.Bindings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read bindings: %w", err)
	}
	snap := &snapshot{cfg: c, plan: p, now: now, rows: rec.Rows, ledger: rec.Ledger, bindings: map[string]store.Binding{}}
	for _, b := range bindings {
		snap.bindings[b.Department] = b
	}
	return snap, nil
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// colorCounts counts the open responsible items by colour.
func (snap *snapshot) colorCounts() map[scheduler.Color]int {
	n := map[scheduler.Color]int{}
	for _, r := range snap.rows {
		if r.Responsible && !r.Assessment.Done {
			n[r.Color]++
		}
	}
	return n
}

type deptCount struct {
	Department string
	Count      int
	Tasks      []int
}

// overdueByDepartment: red items per department, most first.
func (snap *snapshot) overdueByDepartment() []deptCount {
	m := map[string]*deptCount{}
	var out []*deptCount
	for _, r := range snap.rows {
		if r.Color != scheduler.Red {
			continue
		}
		d := m[r.Department]
		if d == nil {
			d = &deptCount{Department: r.Department}
			m[r.Department] = d
			out = append(out, d)
		}
		d.Count++
		d.Tasks = append(d.Tasks, r.Task.ID)
	}
	slices.SortStableFunc(out, func(a, b *deptCount) int { return cmp.Compare(b.Count, a.Count) })
	res := make([]deptCount, len(out))
	for i, d := range out {
		res[i] = *d
	}
	return res
}

type silence struct {
	Department string
	Last       time.Time // zero: never reported
	Days       int       // since Last; -1 for never
	Unanswered int       // nudges since its last report, the most of any of its open items
	Open       int
	Bound      bool
}

// silent ranks the departments with open items by how long they have been quiet: never
// first, then the most days since their last report, then the most nudges unanswered.
func (snap *snapshot) silent() []silence {
	m := map[string]*silence{}
	var order []string
	for _, r := range snap.rows {
		if !r.Responsible {
			continue
		}
		s := m[r.Department]
		if s == nil {
			_, bound := snap.bindings[r.Department]
			s = &silence{Department: r.Department, Bound: bound}
			m[r.Department] = s
			order = append(order, r.Department)
		}
		if r.Assessment.LastReport.After(s.Last) {
			s.Last = r.Assessment.LastReport
		}
		if !r.Assessment.Done {
			s.Open++
			s.Unanswered = max(s.Unanswered, r.Assessment.Unanswered)
		}
	}
	var out []silence
	for _, name := range order {
		s := m[name]
		if s.Open == 0 {
			continue // nothing open: not silent, just done
		}
		s.Days = -1
		if !s.Last.IsZero() {
			s.Days = int(snap.now.Sub(s.Last) / (24 * time.Hour))
		}
		out = append(out, *s)
	}
	slices.SortStableFunc(out, func(a, b silence) int {
		if c := boolOrder(b.Days < 0, a.Days < 0); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Days, a.Days); c != 0 {
			return c
		}
		return cmp.Compare(b.Unanswered, a.Unanswered)
	})
	return out
}

// dueSoon is the open items falling due within scheduler.DueSoon, soonest first.
func (snap *snapshot) dueSoon() []record.Row {
	var out []record.Row
	for _, r := range snap.rows {
		a := r.Assessment
		if r.Responsible && !a.Done && !a.Overdue && a.Deadline.Sub(snap.now) <= scheduler.DueSoon {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b record.Row) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) })
	return out
}

// Filter is what the 任务 list and its downloads show: every field empty shows everything.
type Filter struct {
	Area, Department, Color, Status, Query string
	Sort                                   string // a column of sortKeys
	Desc                                   bool
}

// sortKeys are the 任务 list's columns that sort.
var sortKeys = []string{"id", "area", "goal", "department", "status", "percent", "color", "last", "by", "at", "deadline", "days"}

// Apply returns the rows the filter keeps, in its order.
func (f Filter) Apply(rows []record.Row) []record.Row {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	var out []record.Row
	for _, r := range rows {
		switch {
		case f.Area != "" && r.Task.Area != f.Area,
			f.Department != "" && r.Department != f.Department,
			f.Color != "" && string(r.Color) != f.Color && !(f.Color == "none" && r.Color == ""),
			f.Status != "" && string(r.State.Status) != f.Status:
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(searchText(r)), q) {
			continue
		}
		out = append(out, r)
	}
	if f.Sort != "" && f.Sort != "id" || f.Desc {
		slices.SortStableFunc(out, func(a, b record.Row) int {
			c := compareRows(f.Sort, a, b)
			if f.Desc {
				c = -c
			}
			return c
		})
	}
	return out
}

func searchText(r record.Row) string {
	var b strings.Builder
	for _, s := range []string{fmt.Sprint("#", r.Task.ID), r.Task.Area, r.Task.Goal, r.Task.Metric, r.Department, r.State.Last.Text, r.State.Last.UserName} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	if a := r.State.Last.Attachment; a != nil {
		b.WriteString(a.FileName)
	}
	return b.String()
}

// colorRank orders colours by urgency: red first when sorted ascending.
var colorRank = map[scheduler.Color]int{scheduler.Red: 0, scheduler.Yellow: 1, scheduler.Blue: 2, scheduler.None: 3}

var statusRank = map[store.Status]int{store.StatusBlocked: 0, store.StatusNotStarted: 1, store.StatusInProgress: 2, store.StatusDone: 3}

func percentOf(r record.Row) int {
	if r.State.Percent == nil {
		return -1
	}
	return *r.State.Percent
}

func compareRows(key string, a, b record.Row) int {
	var c int
	switch key {
	case "area":
		c = cmp.Compare(a.Task.Area, b.Task.Area)
	case "goal":
		c = cmp.Compare(a.Task.Goal, b.Task.Goal)
	case "department":
		c = cmp.Compare(a.Department, b.Department)
	case "status":
		c = cmp.Compare(statusRank[a.State.Status], statusRank[b.State.Status])
	case "percent":
		c = cmp.Compare(percentOf(a), percentOf(b))
	case "color":
		c = cmp.Compare(colorRank[a.Color], colorRank[b.Color])
	case "last":
		c = cmp.Compare(a.State.Last.Text, b.State.Last.Text)
	case "by":
		c = cmp.Compare(a.State.Last.UserName, b.State.Last.UserName)
	case "at":
		c = a.State.Last.At.Compare(b.State.Last.At)
	case "deadline":
		c = a.Deadline.Compare(b.Deadline)
	case "days":
		c = cmp.Compare(a.DaysLeft, b.DaysLeft)
	}
	if c == 0 {
		c = cmp.Compare(a.Task.ID, b.Task.ID)
	}
	return c
}

// curvePoint is the 进度曲线 at one day: done items recorded by then, and the items the
// plan's 序时进度 expects done by then.
type curvePoint struct {
	Day      time.Time
	Done     int
	Expected float64
	Known    bool // the day has come: after now only the expected line is drawn
}

// curve reads every task's chain and counts, day by day, the responsible items whose
// department had reported done by then (derived with store.Derive, as the store derives the
// latest state; a later correction away from done takes the item back out). The expected
// line is the sum over items of the elapsed share of each task's span, 序时进度, the same
// share scheduler.Assess compares a report with; a task without a start counts whole at its
// deadline.
func (s *Server) curve(ctx context.Context, snap *snapshot) ([]curvePoint, int, error) {
	loc := snap.cfg.Location
	type item struct{ start, deadline time.Time }
	var items []item
	var first time.Time
	events := map[int]int{} // day number → change in done count
	dayOf := func(t time.Time) int {
		y, m, d := t.In(loc).Date()
		return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	for _, t := range snap.plan.Tasks {
		ups, err := s.data.Updates(ctx, t.ID)
		if err != nil {
			return nil, 0, fmt.Errorf("read updates of task %d: %w", t.ID, err)
		}
		states := map[string]store.State{}
		for _, u := range ups {
			if !slices.Contains(t.Responsible, u.Department) {
				continue
			}
			prev := states[u.Department]
			next := store.Derive(prev, u)
			was, is := prev.Status == store.StatusDone, next.Status == store.StatusDone
			if was != is {
				if is {
					events[dayOf(u.At)]++
				} else {
					events[dayOf(u.At)]--
				}
			}
			states[u.Department] = next
		}
		for range t.Responsible {
			items = append(items, item{t.Start, t.Deadline})
			if !t.Start.IsZero() && (first.IsZero() || t.Start.Before(first)) {
				first = t.Start
			}
		}
	}
	if first.IsZero() {
		first = snap.plan.Start
	}
	last := snap.now
	for _, it := range items {
		if it.deadline.After(last) {
			last = it.deadline
		}
	}
	if first.IsZero() || !first.Before(last) {
		return nil, len(items), nil
	}
	for d := range events {
		if day := time.Unix(int64(d)*86400, 0).UTC(); day.Before(first) {
			first = day
		}
	}
	// One point a week keeps the chart small; the done count is exact at each point.
	const step = 7 * 24 * time.Hour
	var out []curvePoint
	done := 0
	consumed := map[int]bool{}
	for at := first; ; at = at.Add(step) {
		if at.After(last) {
			at = last
		}
		today := dayOf(at)
		for d, n := range events {
			if d <= today && !consumed[d] {
				done += n
				consumed[d] = true
			}
		}
		var exp float64
		for _, it := range items {
			switch {
			case !at.Before(it.deadline):
				exp++
			case it.start.IsZero() || !it.deadline.After(it.start) || at.Before(it.start):
			default:
				exp += float64(at.Sub(it.start)) / float64(it.deadline.Sub(it.start))
			}
		}
		out = append(out, curvePoint{Day: at, Done: done, Expected: exp, Known: !at.After(snap.now)})
		if !at.Before(last) {
			break
		}
	}
	return out, len(items), nil
}
