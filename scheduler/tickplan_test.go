package scheduler

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

// decided is what a tick sends as Decide gives it, rendered as the tick rendered it before it
// streamed: per department the keys and items in plan order, and the escalations.
func decided(d Decision, loc *time.Location) (nudges map[string][]string, escalations []string) {
	nudges = map[string][]string{}
	for _, n := range d.Nudges {
		it := i18n.NudgeItem{Task: n.Task.ID, Goal: n.Task.Goal, Deadline: n.Deadline.In(loc), DaysLeft: n.DaysLeft,
			Stage: string(n.Stage), Color: string(n.Color), Status: n.Status, Percent: n.Percent}
		nudges[n.Department] = append(nudges[n.Department], n.Key+" "+itemString(it))
	}
	for _, e := range d.Escalations {
		escalations = append(escalations, e.Key+" "+lineString(i18n.EscalationLine{Task: e.Task.ID, Goal: e.Task.Goal, Department: e.Department,
			Kind: e.Kind, DaysLeft: e.DaysLeft, Unanswered: e.Unanswered, Status: e.Status, Percent: e.Percent}))
	}
	return nudges, escalations
}

// streamed is the same from a TickPlan.
func streamed(tp *TickPlan) (nudges map[string][]string, escalations []string) {
	nudges = map[string][]string{}
	for dept := range tp.depts {
		keys, items, tasks := tp.nudges(dept, nil)
		for i := range keys {
			if tasks[i] != items[i].Task {
				panic("tasks out of step with items")
			}
			nudges[dept] = append(nudges[dept], keys[i]+" "+itemString(items[i]))
		}
	}
	keys, lines := tp.escalations(nil)
	for i := range keys {
		escalations = append(escalations, keys[i]+" "+lineString(lines[i]))
	}
	return nudges, escalations
}

func itemString(it i18n.NudgeItem) string {
	pct := "-"
	if it.Percent != nil {
		pct = fmt.Sprint(*it.Percent)
	}
	return fmt.Sprintf("%d %s %s %d %s %s %s %s", it.Task, it.Goal, it.Deadline.Format(time.RFC3339Nano), it.DaysLeft, it.Stage, it.Color, it.Status, pct)
}

func lineString(l i18n.EscalationLine) string {
	pct := "-"
	if l.Percent != nil {
		pct = fmt.Sprint(*l.Percent)
	}
	return fmt.Sprintf("%d %s %s %s %d %d %s %s", l.Task, l.Goal, l.Department, l.Kind, l.DaysLeft, l.Unanswered, l.Status, pct)
}

// TestTickPlanIsDecide: the streamed plan a tick claims from holds, per department and in
// order, the keys and items Decide gives, over weeks of ticks with reports, notes, snoozes,
// recurring tasks and a department without a chat.
func TestTickPlanIsDecide(t *testing.T) {
	var b strings.Builder
	b.WriteString("tasks:\n")
	for i := 1; i <= 60; i++ {
		extra := ""
		switch i % 5 {
		case 1:
			extra = ", recurrence: yearly"
		case 2:
			extra = ", recurrence: 30d"
		}
		fmt.Fprintf(&b, "  - {id: %d, goal: 目标%d, departments: [甲局, 乙丙], start: 2026-01-01, deadline: 2026-%02d-%02d%s}\n", i, i, i%12+1, i%28+1, extra)
	}
	c, p := testPlan(t, b.String())
	s := SettingsFrom(c)
	st := emptyState()
	st.SetBound(map[string]int64{"甲局": -1, "乙局": -2}) // 丙局 has no chat
	pct := 40
	days := 0
	for day := at("2026-03-01 09:00"); day.Before(at("2026-07-01 09:00")); day = day.AddDate(0, 0, 3) {
		days++
		switch days % 4 {
		case 0:
			report(st, days%60+1, "甲局", store.StatusInProgress, &pct, day.Add(-time.Hour))
		case 1:
			report(st, days%60+1, "乙局", store.StatusDone, nil, day.Add(-time.Hour))
		case 2:
			note(st, days%60+1, "甲局", store.State{Task: days%60 + 1, Department: "甲局", Status: store.StatusBlocked, StatusAt: day.AddDate(-1, 0, 0)}, day.Add(-time.Hour))
		case 3:
			st.pair(days%60+1, "乙局", true).snoozed = day.AddDate(0, 0, 5)
		}
		d := Decide(p, st, s, day)
		wantN, wantE := decided(d, s.Location)
		tp := PlanTick(p, st, s, day)
		gotN, gotE := streamed(tp)
		if !maps.EqualFunc(gotN, wantN, slices.Equal) {
			t.Fatalf("%s: nudges differ:\ngot  %q\nwant %q", day.Format(time.DateOnly), gotN, wantN)
		}
		if !slices.Equal(gotE, wantE) {
			t.Fatalf("%s: escalations differ:\ngot  %q\nwant %q", day.Format(time.DateOnly), gotE, wantE)
		}
		if tp.Unbound != d.Unbound {
			t.Fatalf("%s: unbound: got %+v, want %+v", day.Format(time.DateOnly), tp.Unbound, d.Unbound)
		}
		if n, e := tp.Items(); n != len(d.Nudges) || e != len(d.Escalations) {
			t.Fatalf("%s: items: got %d nudges and %d escalations, want %d and %d", day.Format(time.DateOnly), n, e, len(d.Nudges), len(d.Escalations))
		}
		// What a tick sends is marked sent, but not every day's: some stay due.
		for i, n := range d.Nudges {
			if i%4 != 0 {
				st.MarkSent(n.Key, day)
			}
		}
		for _, e := range d.Escalations {
			st.MarkSent(e.Key, day)
		}
		if d.Unbound.Key != "" {
			st.MarkSent(d.Unbound.Key, day)
		}
	}
	if n, _ := PlanTick(p, st, s, at("2026-07-01 09:00")).Items(); n == 0 {
		t.Fatal("nothing due on the last day: the test compares nothing")
	}
}

// TestTickPlanSkipsResumed: an item whose key a message being finished carries is left out,
// with its item.
func TestTickPlanSkipsResumed(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2026-11-01}\n  - {id: 2, goal: 乙, departments: [甲局], deadline: 2026-11-02}\n")
	tp := PlanTick(p, emptyState(), SettingsFrom(c), at("2026-12-01 09:00"))
	all, _, _ := tp.nudges("甲局", nil)
	if len(all) != 2 {
		t.Fatalf("got %d nudges, want 2", len(all))
	}
	keys, items, tasks := tp.nudges("甲局", map[string]bool{all[0]: true})
	if !slices.Equal(keys, all[1:]) || len(items) != 1 || items[0].Task != 2 || !slices.Equal(tasks, []int{2}) {
		t.Errorf("got keys %q, items %+v, tasks %v; want only task 2's", keys, items, tasks)
	}
	ekeys, _ := tp.escalations(nil)
	if got, _ := tp.escalations(map[string]bool{ekeys[0]: true}); !slices.Equal(got, ekeys[1:]) {
		t.Errorf("escalations: got %q, want %q", got, ekeys[1:])
	}
}
