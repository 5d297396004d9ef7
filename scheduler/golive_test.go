package scheduler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// goLivePlan: 甲局, 乙局 and 丙局 (乙丙) share task 1, overdue; 乙局 has task 2, overdue; 丙局 has
// task 3, far off, and task 4, overdue but reported done.
const goLivePlan = `tasks:
  - {id: 1, goal: 一, departments: [甲局, 乙丙], deadline: 2026-11-01}
  - {id: 2, goal: 二, departments: [乙局], deadline: 2026-11-15}
  - {id: 3, goal: 三, departments: [丙局], deadline: 2027-06-30}
  - {id: 4, goal: 四, departments: [丙局], deadline: 2026-10-01}
`

// pairsOf lists a decision's nudges and escalations as "1 甲局" and "1 甲局 overdue", sorted.
func pairsOf(d Decision) (nudges, escalations []string) {
	for _, n := range d.Nudges {
		nudges = append(nudges, fmt.Sprintf("%d %s", n.Task.ID, n.Department))
	}
	for _, e := range d.Escalations {
		escalations = append(escalations, fmt.Sprintf("%d %s %s", e.Task.ID, e.Department, e.Kind))
	}
	slices.Sort(nudges)
	slices.Sort(escalations)
	return nudges, escalations
}

// TestUnboundDepartmentsAreSummedUp: a department without a chat gets no nudge and no
// item-level escalation; the supervisors get one line of numbers, once for each pair of them.
func TestUnboundDepartmentsAreSummedUp(t *testing.T) {
	c, p := testPlan(t, goLivePlan)
	s := SettingsFrom(c)
	now := at("2026-12-01 09:00")
	everyone := map[string]int64{"甲局": -1, "乙局": -2, "丙局": -3}
	tests := []struct {
		name        string
		chats       map[string]int64 // nil: SetBound is not called
		ledger      map[string]time.Time
		nudges      []string
		escalations []string
		unbound     Unbound
	}{
		{
			name:        "bindings not given: everyone has a chat, as duban plan assumes",
			nudges:      []string{"1 丙局", "1 乙局", "1 甲局", "2 乙局"},
			escalations: []string{"1 丙局 overdue", "1 乙局 overdue", "1 甲局 overdue", "2 乙局 overdue"},
		},
		{
			name:        "everyone bound",
			chats:       everyone,
			nudges:      []string{"1 丙局", "1 乙局", "1 甲局", "2 乙局"},
			escalations: []string{"1 丙局 overdue", "1 乙局 overdue", "1 甲局 overdue", "2 乙局 overdue"},
		},
		{
			name:    "nobody bound: no item at all, one line of numbers",
			chats:   map[string]int64{},
			unbound: Unbound{Departments: 3, Overdue: 4, Held: 4, Key: "u|3|4"},
		},
		{
			name:    "a chat id of 0 is no chat",
			chats:   map[string]int64{"甲局": 0},
			unbound: Unbound{Departments: 3, Overdue: 4, Held: 4, Key: "u|3|4"},
		},
		{
			name:        "甲局 bound: its item escalated, the others counted",
			chats:       map[string]int64{"甲局": -1},
			nudges:      []string{"1 甲局"},
			escalations: []string{"1 甲局 overdue"},
			unbound:     Unbound{Departments: 2, Overdue: 3, Held: 3, Key: "u|2|3"},
		},
		{
			name:    "these numbers already told: no line",
			chats:   map[string]int64{},
			ledger:  map[string]time.Time{"u|3|4": now.Add(-24 * time.Hour)},
			unbound: Unbound{Departments: 3, Overdue: 4, Held: 4},
		},
		{
			name:    "other numbers told before: the new ones are told",
			chats:   map[string]int64{},
			ledger:  map[string]time.Time{"u|3|3": now.Add(-24 * time.Hour)},
			unbound: Unbound{Departments: 3, Overdue: 4, Held: 4, Key: "u|3|4"},
		},
		{
			name:        "only 丙局 unbound, nothing of it overdue: counted, no line",
			chats:       map[string]int64{"甲局": -1, "乙局": -2},
			nudges:      []string{"1 乙局", "1 甲局", "2 乙局"},
			escalations: []string{"1 乙局 overdue", "1 甲局 overdue", "2 乙局 overdue"},
			unbound:     Unbound{Departments: 1},
		},
	}
	for _, tt := range tests {
		st := NewState(nil, store.LedgerOf(tt.ledger), nil)
		report(st, 4, "丙局", store.StatusDone, nil, at("2026-09-20 10:00"))
		if strings.HasPrefix(tt.name, "only 丙局") {
			report(st, 1, "丙局", store.StatusDone, nil, at("2026-10-20 10:00"))
		}
		if tt.chats != nil {
			st.SetBound(tt.chats)
		}
		d := Decide(p, st, s, now)
		nudges, escalations := pairsOf(d)
		if !slices.Equal(nudges, tt.nudges) {
			t.Errorf("%s: nudges: got %q, want %q", tt.name, nudges, tt.nudges)
		}
		if !slices.Equal(escalations, tt.escalations) {
			t.Errorf("%s: escalations: got %q, want %q", tt.name, escalations, tt.escalations)
		}
		if d.Unbound != tt.unbound {
			t.Errorf("%s: unbound: got %+v, want %+v", tt.name, d.Unbound, tt.unbound)
		}
	}
}

// TestEscalationStartsOnceBound: at go-live nobody is bound; the supervisors hear the numbers
// once. 乙局 is bound on 12-03: the next tick nudges it and escalates its overdue items, once,
// and the numbers drop; then nothing more reaches the supervisors while nothing changes.
func TestEscalationStartsOnceBound(t *testing.T) {
	c, p := testPlan(t, goLivePlan)
	s := SettingsFrom(c)
	st := emptyState()
	report(st, 4, "丙局", store.StatusDone, nil, at("2026-09-20 10:00"))
	chats := map[string]int64{}
	var got []string
	for day := at("2026-12-01 09:00"); !day.After(at("2026-12-05 09:00")); day = day.AddDate(0, 0, 1) {
		if day.Equal(at("2026-12-03 09:00")) {
			chats["乙局"] = -2
		}
		st.SetBound(chats)
		d := Decide(p, st, s, day)
		nudges, escalations := pairsOf(d)
		for _, n := range d.Nudges {
			st.MarkSent(n.Key, day)
		}
		for _, e := range d.Escalations {
			st.MarkSent(e.Key, day)
		}
		if d.Unbound.Key != "" {
			st.MarkSent(d.Unbound.Key, day)
			escalations = append(escalations, d.Unbound.Key)
		}
		got = append(got, fmt.Sprintf("%s nudges %q supervisors %q", day.Format("01-02"), nudges, escalations))
	}
	want := []string{
		`12-01 nudges [] supervisors ["u|3|4"]`,
		`12-02 nudges [] supervisors []`,
		`12-03 nudges ["1 乙局" "2 乙局"] supervisors ["1 乙局 overdue" "2 乙局 overdue" "u|2|2"]`,
		`12-04 nudges [] supervisors []`,
		`12-05 nudges [] supervisors []`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTickSumsUpUnbound: on a real store, a tick with nobody bound sends the supervisors one
// short message with the numbers and no item; binding 甲局 escalates its items and the numbers
// drop, in one message; a tick with nothing changed sends the supervisors nothing.
func TestTickSumsUpUnbound(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t) // 甲局: 33 overdue; 乙局: 40 and 41, not overdue; 丙局: 41
		m := &fakeMessenger{store: s}
		sc := newScheduler(t, s, m, c, p, "a")
		now := at("2026-12-08 09:00") // 乙局's task 40 is overdue since 12-05
		rep, err := sc.Tick(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Messages != 0 || rep.Escalations != 0 || !rep.UnboundTold || rep.Unbound != 34 {
			t.Errorf("nobody bound: got %+v, want no message, no escalation, 34 items held and the supervisors told", rep)
		}
		sup := m.texts[-500]
		if want := "尚有 3 个单位未绑定群聊，其 34 项逾期任务待绑定后督办"; len(sup) != 1 || !strings.Contains(sup[0], want) || strings.Contains(sup[0], "#") {
			t.Fatalf("supervisors: got %q, want one message with %q and no item", sup, want)
		}

		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: now}); err != nil {
			t.Fatal(err)
		}
		rep, err = sc.Tick(ctx, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Messages != 1 || rep.Items != 33 || rep.Escalations != 33 || !rep.UnboundTold {
			t.Errorf("甲局 bound: got %+v, want its 33 items nudged and escalated, and the new numbers told", rep)
		}
		sup = m.texts[-500]
		if len(sup) != 2 || strings.Count(sup[1], "🔴") != 33 || strings.Count(sup[1], "• 甲局 ") != 33 || !strings.Contains(sup[1], "尚有 2 个单位未绑定群聊，其 1 项逾期任务待绑定后督办") {
			t.Errorf("supervisors after 甲局 is bound: got %d messages, the last:\n%s\nwant 33 items of 甲局 and the line with 2 and 1", len(sup), sup[len(sup)-1])
		}

		if rep, err := sc.Tick(ctx, now.Add(24*time.Hour)); err != nil || rep.Escalations != 0 || rep.UnboundTold {
			t.Errorf("nothing changed: got %+v, %v; want nothing for the supervisors", rep, err)
		}
		if got := len(m.texts[-500]); got != 2 {
			t.Errorf("nothing changed: got %d messages to the supervisors in all, want still 2", got)
		}
	})
}

// TestDigestDatesInTheZone: every date a digest prints is the plan's zone's, not UTC's: the
// digest runs at 07:30 in Shanghai on 12-01, still 11-30 in UTC, and the store hands times
// back in UTC.
func TestDigestDatesInTheZone(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := testPlan(t, `tasks:
  - {id: 1, goal: 一, departments: [甲局], deadline: "2026-12-20T00:30:00+08:00"}
  - {id: 2, goal: 二, departments: [乙局], deadline: 2026-11-01}
  - {id: 3, goal: 三, departments: [丙局], deadline: 2026-11-02}
`)
		c.Supervisors.Chat = -500
		for dept, chat := range map[string]int64{"甲局": -1001, "乙局": -1002} {
			if err := s.Bind(ctx, store.Binding{Department: dept, ChatID: chat, BoundAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		utc := func(s string) time.Time {
			t, err := time.Parse("2006-01-02 15:04", s)
			if err != nil {
				panic(err)
			}
			return t
		}
		pct := 30
		ups := []store.Update{
			{Task: 1, Department: "甲局", At: utc("2026-11-29 17:00"), Text: "方案起草中", Status: store.StatusInProgress, Percent: &pct, Source: store.SourceReply}, // 11-30 01:00 in Shanghai
			{Task: 2, Department: "乙局", At: utc("2026-11-10 16:30"), Text: "已上报", Source: store.SourceReply},                                                  // 11-11 00:30
		}
		for i, u := range ups {
			if _, _, err := s.Record(ctx, int64(i+1), []store.Update{u}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Snooze(ctx, 2, "乙局", utc("2026-12-09 20:00")); err != nil { // 12-10 04:00
			t.Fatal(err)
		}
		m := &fakeMessenger{store: s}
		sc := newScheduler(t, s, m, c, p, "a")
		if _, err := sc.SendDigests(ctx, utc("2026-11-30 23:30")); err != nil {
			t.Fatal(err)
		}
		sup := m.texts[-500][0]
		for _, want := range []string{
			"【督办周报】2026-12-01",     // the digest's date
			"• 11-30 #1 甲局",        // an update this week
			"#2 乙局：暂停至 2026-12-10", // a snooze
			"• 乙局：最近报送 2026-11-11", // a silent department
			"尚未绑定群的单位</b>（1）：丙局",   // 丙局 has no chat: named once,
			"其 1 项逾期任务待绑定后督办",      // its overdue item counted,
			"• 乙局（1项）：#2",          // and not listed by department with the bound ones
		} {
			if !strings.Contains(sup, want) {
				t.Errorf("supervisors' digest lacks %q:\n%s", want, sup)
			}
		}
		if strings.Contains(sup, "丙局（") || strings.Contains(sup, "丙局：从未报送") {
			t.Errorf("supervisors' digest lists 丙局, which has no chat, as overdue or silent:\n%s", sup)
		}
		dept := m.texts[-1001][0]
		for _, want := range []string{"截止 2026-12-20", "最近报送 11-30"} {
			if !strings.Contains(dept, want) {
				t.Errorf("甲局's digest lacks %q:\n%s", want, dept)
			}
		}
	})
}
