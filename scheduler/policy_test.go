package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

const testConfigYAML = `
timezone: Asia/Shanghai
departments:
  甲局: {}
  乙局: {}
  丙局: {}
groups:
  乙丙: [乙局, 丙局]
`

// testPlan loads a plan written for one test, with config.yaml's defaults.
func testPlan(tb testing.TB, tasksYAML string) (*config.Config, *config.Plan) {
	tb.Helper()
	c, err := config.ParseConfig("config.yaml", []byte(testConfigYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	p, err := config.ParsePlan("tasks.yaml", []byte(tasksYAML), c)
	if err != nil {
		tb.Fatal(err)
	}
	return c, p
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// simulate runs the policy at 09:00 every day from..to (inclusive), marking what it sends as
// sent, as the daemon would, and returns what each pair was sent, in order.
func simulate(tb testing.TB, c *config.Config, p *config.Plan, st *State, from, to string, each func(day time.Time, d Decision)) map[Pair][]string {
	tb.Helper()
	s := SettingsFrom(c)
	got := map[Pair][]string{}
	for day := at(from + " 09:00"); !day.After(at(to + " 09:00")); day = day.AddDate(0, 0, 1) {
		d := Decide(p, st, s, day)
		for _, n := range d.Nudges {
			got[n.Pair] = append(got[n.Pair], day.Format("01-02")+" "+string(n.Stage)+":"+n.Label)
			st.MarkSent(n.Key, day)
		}
		for _, e := range d.Escalations {
			got[e.Pair] = append(got[e.Pair], day.Format("01-02")+" escalate:"+e.Kind)
			st.MarkSent(e.Key, day)
		}
		if each != nil {
			each(day, d)
		}
	}
	return got
}

func emptyState() *State { return NewState(nil, nil, nil) }

func nudgesOnly(sent []string) []string {
	var out []string
	for _, s := range sent {
		if !strings.Contains(s, "escalate:") {
			out = append(out, s)
		}
	}
	return out
}

func report(st *State, task int, dept string, s store.Status, pct *int, when time.Time) {
	st.SetLatest(store.State{Task: task, Department: dept, Status: s, StatusAt: when, Percent: pct,
		Last: store.Update{Task: task, Department: dept, At: when, Status: s, Percent: pct, Text: string(s)}})
}

// note records a note after an earlier status, as store.Derive would: the status and its time
// carry, the last update is the note.
func note(st *State, task int, dept string, prev store.State, when time.Time) {
	prev.Last = store.Update{Task: task, Department: dept, At: when, Text: "附件见群文件"}
	st.SetLatest(prev)
}

func TestStagesBeforeTheDeadline(t *testing.T) {
	// No start: no stale requests, only the stages.
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2026-12-31}\n")
	tests := []struct {
		name, from string
		want       []string
	}{
		{"each stage once", "2026-11-01", []string{"12-01 before:30d", "12-17 before:14d", "12-24 before:7d", "12-28 before:3d", "12-30 before:1d"}},
		{"late entry gets the latest stage passed only", "2026-12-26", []string{"12-26 before:7d", "12-28 before:3d", "12-30 before:1d"}},
		{"entering on the last day", "2026-12-31", []string{"12-31 before:1d"}},
	}
	for _, tt := range tests {
		got := nudgesOnly(simulate(t, c, p, emptyState(), tt.from, "2026-12-31", nil)[Pair{1, "甲局"}])
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOverdueCadenceAndEscalation(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2026-12-01}\n")
	st := emptyState()
	got := simulate(t, c, p, st, "2026-12-02", "2026-12-20", nil)[Pair{1, "甲局"}]
	// The supervisors hear of it on the first tick after the deadline, and again, naming the
	// department, on the tick after its third reminder went unanswered.
	want := []string{"12-02 overdue:1", "12-02 escalate:overdue", "12-09 overdue:2", "12-16 overdue:3", "12-17 escalate:unanswered"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// Reported done: silence, though still past the deadline.
	report(st, 1, "甲局", store.StatusDone, nil, at("2026-12-20 10:00"))
	if got := simulate(t, c, p, st, "2026-12-21", "2027-02-01", nil)[Pair{1, "甲局"}]; len(got) != 0 {
		t.Errorf("after done: got %q, want nothing", got)
	}
}

func TestStaleRequests(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], start: 2026-01-01, deadline: 2027-12-31}\n")
	st := emptyState()
	got := simulate(t, c, p, st, "2026-01-01", "2026-02-10", func(day time.Time, _ Decision) {
		if day.Equal(at("2026-01-20 09:00")) {
			pct := 10
			report(st, 1, "甲局", store.StatusInProgress, &pct, at("2026-01-20 08:00"))
		}
	})[Pair{1, "甲局"}]
	// 14 days after the start, then 14 days after the report on Jan 20 (which resets the clock).
	want := []string{"01-15 stale:" + fmt.Sprint(at("2026-01-01 00:00").Unix()) + ":1", "02-03 stale:" + fmt.Sprint(at("2026-01-20 08:00").Unix()) + ":1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestGroupsExpandAndPairsAreFollowedUpOnTheirOwn(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局, 乙丙], deadline: 2026-12-10}\n")
	st := emptyState()
	report(st, 1, "乙局", store.StatusDone, nil, at("2026-11-01 10:00"))
	got := simulate(t, c, p, st, "2026-12-08", "2026-12-08", nil)
	want := map[Pair][]string{{1, "甲局"}: {"12-08 before:3d"}, {1, "丙局"}: {"12-08 before:3d"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v (乙局 is done, 甲局 and 丙局 each on their own)", got, want)
	}
}

func TestSnoozePausesNudgesNotOverdueEscalation(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2026-12-01}\n")
	st := NewState(nil, nil, map[string]time.Time{"1|甲局": at("2026-12-10 00:00")})
	got := simulate(t, c, p, st, "2026-12-02", "2026-12-11", nil)[Pair{1, "甲局"}]
	want := []string{"12-02 escalate:overdue", "12-10 overdue:2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestYearlyTaskOpensAgain(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2025-12-31, recurrence: yearly}\n")
	st := emptyState()
	report(st, 1, "甲局", store.StatusDone, nil, at("2025-12-20 10:00"))
	got := simulate(t, c, p, st, "2025-12-21", "2026-12-01", nil)[Pair{1, "甲局"}]
	// Done for 2025: nothing until the 2026 period opens after 2025-12-31; then the department
	// is asked after 14 days of silence in the new period, and the 30-day stage comes.
	if len(got) == 0 || got[0] != "01-15 stale:"+fmt.Sprint(at("2025-12-31 23:59").Add(59*time.Second+999999999).Unix())+":1" || got[len(got)-1] != "12-01 before:30d" {
		t.Errorf("got %q, want the first request on 01-15 (14 days after the period opened) and the 30-day stage on 12-01", got)
	}
	a := Assess(p.Tasks[0], "甲局", st, SettingsFrom(c), at("2026-06-01 09:00"))
	if a.Done || a.Deadline.Format(time.DateOnly) != "2026-12-31" {
		t.Errorf("assessment in 2026: got done=%v deadline %s, want open until 2026-12-31", a.Done, a.Deadline.Format(time.DateOnly))
	}
	// A note in 2026 does not carry 2025's 已完成 into 2026.
	note(st, 1, "甲局", store.State{Task: 1, Department: "甲局", Status: store.StatusDone, StatusAt: at("2025-12-20 10:00")}, at("2026-02-01 10:00"))
	if a := Assess(p.Tasks[0], "甲局", st, SettingsFrom(c), at("2026-12-20 09:00")); a.Done || a.Status != store.StatusNotStarted {
		t.Errorf("after a note in the new year: got done=%v status %s, want not started for 2026", a.Done, a.Status)
	}
}

// TestStandingTaskIsReviewed: a standing task (长期坚持) imported with a review cadence of
// 90 days opens again 90 days after each review date, and a 已完成 counts for its period only.
func TestStandingTaskIsReviewed(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2026-03-31, recurrence: 90d}\n")
	if got := p.Tasks[0].Every; got != 90*24*time.Hour {
		t.Fatalf("every: got %v, want 90 days", got)
	}
	st := emptyState()
	report(st, 1, "甲局", store.StatusDone, nil, at("2026-03-20 10:00"))
	s := SettingsFrom(c)
	for _, tt := range []struct {
		now, deadline string
		done          bool
	}{
		{"2026-03-25 09:00", "2026-03-31", true},
		{"2026-04-01 09:00", "2026-06-29", false}, // 90 days after 03-31
		{"2026-06-30 09:00", "2026-09-27", false},
	} {
		a := Assess(p.Tasks[0], "甲局", st, s, at(tt.now))
		if got := a.Deadline.Format(time.DateOnly); got != tt.deadline || a.Done != tt.done {
			t.Errorf("at %s: got deadline %s done=%v, want %s done=%v", tt.now, got, a.Done, tt.deadline, tt.done)
		}
		if h, m := a.Deadline.In(s.Location).Hour(), a.Deadline.In(s.Location).Minute(); h != 23 || m != 59 {
			t.Errorf("at %s: deadline %v is not the day's last instant", tt.now, a.Deadline)
		}
	}
}

func TestYearBoundary(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], deadline: 2027-01-02}\n")
	got := simulate(t, c, p, emptyState(), "2026-12-25", "2027-01-04", nil)[Pair{1, "甲局"}]
	want := []string{"12-25 before:14d", "12-26 before:7d", "12-30 before:3d", "12-31 escalate:unanswered", "01-01 before:1d", "01-03 overdue:1", "01-03 escalate:overdue"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestColors(t *testing.T) {
	c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 甲, departments: [甲局], start: 2026-01-01, deadline: 2026-12-31}\n")
	s := SettingsFrom(c)
	half := 50
	tests := []struct {
		name  string
		setup func(st *State)
		now   string
		want  Color
	}{
		{"on schedule", func(st *State) { report(st, 1, "甲局", store.StatusInProgress, &half, at("2026-07-01 09:00")) }, "2026-07-02 09:00", None},
		{"behind schedule", func(st *State) { report(st, 1, "甲局", store.StatusInProgress, &half, at("2026-07-01 09:00")) }, "2026-11-20 09:00", Yellow},
		{"never reported, well into the span", func(*State) {}, "2026-04-01 09:00", Yellow},
		{"due within a week", func(st *State) {
			full := 95
			report(st, 1, "甲局", store.StatusInProgress, &full, at("2026-12-20 09:00"))
		}, "2026-12-26 09:00", Blue},
		{"overdue", func(*State) {}, "2027-01-01 09:00", Red},
		{"done", func(st *State) { report(st, 1, "甲局", store.StatusDone, nil, at("2026-12-20 09:00")) }, "2027-01-01 09:00", None},
	}
	for _, tt := range tests {
		st := emptyState()
		tt.setup(st)
		if got := Assess(p.Tasks[0], "甲局", st, s, at(tt.now)).Color; got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestNoTaskTwiceInADecision: every pair gets at most one nudge per tick.
func TestNoTaskTwiceInADecision(t *testing.T) {
	c, p := testPlan(t, strings.Join([]string{"tasks:",
		"  - {id: 1, goal: 甲, departments: [甲局, 乙丙], start: 2025-01-01, deadline: 2026-12-03}",
		"  - {id: 2, goal: 乙, departments: [乙丙], start: 2025-01-01, deadline: 2025-06-30}"}, "\n")+"\n")
	d := Decide(p, emptyState(), SettingsFrom(c), at("2026-12-01 09:00"))
	seen := map[Pair]bool{}
	for _, n := range d.Nudges {
		if seen[n.Pair] {
			t.Errorf("pair %v nudged twice in one tick", n.Pair)
		}
		seen[n.Pair] = true
	}
	if len(d.Nudges) != 5 {
		t.Errorf("got %d nudges, want 5 (task 1 × 3 departments, task 2 × 2)", len(d.Nudges))
	}
}
