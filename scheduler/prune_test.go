package scheduler

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/redis/redistest"
)

// prunePlan has what pruning must get right: a yearly task, a one-off task long overdue, a
// standing task reviewed every 30 days, and one far ahead; departments that report now and
// then, one that reports it done, and one that never answers (its nudges all count as
// unanswered, whatever their period).
const prunePlan = `tasks:
  - {id: 1, goal: 年度, departments: [甲局, 乙局], deadline: 2025-03-31, recurrence: yearly}
  - {id: 2, goal: 一次, departments: [甲局], deadline: 2025-06-30}
  - {id: 3, goal: 长期, departments: [乙局, 丙局], deadline: 2025-02-28, recurrence: 30d}
  - {id: 4, goal: 远期, departments: [丙局], deadline: 2026-06-30, start: 2025-01-01}
`

// pruneReports: who reports what, on which days after 2025-01-01 (the report comes at 10:00,
// after the day's 09:00 tick).
func pruneReports(day int) []store.State {
	var out []store.State
	add := func(task int, dept string, s store.Status, pct *int) {
		out = append(out, store.State{Task: task, Department: dept, Status: s, Percent: pct})
	}
	if day%50 == 9 {
		add(1, "甲局", store.StatusInProgress, nil)
	}
	if day == 226 { // 2025-08-15: task 2, six weeks overdue, is done
		add(2, "甲局", store.StatusDone, nil)
	}
	if day%20 == 5 {
		add(3, "丙局", store.StatusInProgress, nil)
	}
	if day%40 == 15 {
		pct := min(100, day/6)
		add(4, "丙局", store.StatusInProgress, &pct)
	}
	return out
}

// simulatePruned runs the policy every day for two years twice: on the whole ledger and on one
// pruned every day by rule, marking what each decides as sent. It returns the first day on
// which the two differ ("" if none) and how many n| and e| keys the pruned ledger dropped.
func simulatePruned(tb testing.TB, rule func(p *config.Plan, st *State, s Settings, now time.Time) store.PruneKeep) (diff string, dropped, kept int) {
	tb.Helper()
	c, p := testPlan(tb, prunePlan)
	s := SettingsFrom(c)
	full, pruned := map[string]time.Time{}, map[string]time.Time{}
	latest := map[Pair]store.State{}
	start := at("2025-01-01 09:00")
	for day := 0; day < 730; day++ {
		now := start.AddDate(0, 0, day)
		states := make([]store.State, 0, len(latest))
		for _, st := range latest {
			states = append(states, st)
		}
		stFull, stPruned := NewState(states, store.LedgerOf(full), nil), NewState(states, store.LedgerOf(pruned), nil)
		dFull, dPruned := Decide(p, stFull, s, now), Decide(p, stPruned, s, now)
		if diff == "" && !reflect.DeepEqual(dFull, dPruned) {
			diff = fmt.Sprintf("%s: decision with the whole ledger %v, with the pruned one %v", now.Format(time.DateOnly), keysOf(dFull), keysOf(dPruned))
		}
		for _, task := range p.Tasks {
			for _, dept := range task.Responsible {
				if a, b := Assess(task, dept, stFull, s, now), Assess(task, dept, stPruned, s, now); diff == "" && !reflect.DeepEqual(a, b) {
					diff = fmt.Sprintf("%s: task %d %s assessed %+v with the whole ledger, %+v with the pruned one", now.Format(time.DateOnly), task.ID, dept, a, b)
				}
			}
		}
		for _, k := range keysOf(dFull) {
			full[k] = now
		}
		for _, k := range keysOf(dPruned) {
			pruned[k] = now
		}
		// Digests and ticks too, as the daemon records them.
		for _, k := range []string{"d|" + isoWeek(now, s.Location) + "|supervisors", tickKey("nudge", now)} {
			full[k], pruned[k] = now, now
		}
		for _, r := range pruneReports(day) {
			when := now.Add(time.Hour)
			r.StatusAt, r.Last = when, store.Update{Task: r.Task, Department: r.Department, At: when, Status: r.Status, Percent: r.Percent}
			latest[Pair{r.Task, r.Department}] = r
		}
		states = states[:0]
		for _, st := range latest {
			states = append(states, st)
		}
		keep := rule(p, NewState(states, store.LedgerOf(pruned), nil), s, now)
		for k, at := range pruned {
			if !keep(k, at) {
				delete(pruned, k)
				if strings.HasPrefix(k, "n|") || strings.HasPrefix(k, "e|") {
					dropped++
				}
			}
		}
	}
	for k := range pruned {
		if strings.HasPrefix(k, "n|") || strings.HasPrefix(k, "e|") {
			kept++
		}
	}
	return diff, dropped, kept
}

func keysOf(d Decision) []string {
	var out []string
	for _, n := range d.Nudges {
		out = append(out, n.Key)
	}
	for _, e := range d.Escalations {
		out = append(out, e.Key)
	}
	if d.Unbound.Key != "" {
		out = append(out, d.Unbound.Key)
	}
	return out
}

// TestPruneKeepsDecisions: over two years of daily ticks, the policy decides and assesses the
// same on a ledger pruned every day as on the whole one, while the pruned ledger drops most of
// the reminders of past periods.
func TestPruneKeepsDecisions(t *testing.T) {
	diff, dropped, kept := simulatePruned(t, func(p *config.Plan, st *State, s Settings, now time.Time) store.PruneKeep {
		return PruneRule(p, st, s, 24*time.Hour, now)
	})
	if diff != "" {
		t.Errorf("pruning changed a decision: %s", diff)
	}
	if dropped < kept/2 || dropped == 0 {
		t.Errorf("pruned %d reminder keys and kept %d: want most of the past periods' gone", dropped, kept)
	}
	t.Logf("reminder keys after two years: %d pruned, %d kept", dropped, kept)

	// The plan does exercise what the rule guards: pruning every reminder of a past period,
	// nudges later than the last report included, does change a decision.
	naive, _, _ := simulatePruned(t, func(p *config.Plan, st *State, s Settings, now time.Time) store.PruneKeep {
		return func(key string, at time.Time) bool {
			if !strings.HasPrefix(key, "n|") && !strings.HasPrefix(key, "e|") {
				return true
			}
			f := strings.Split(key, "|")
			var task *config.Task
			for _, tk := range p.Tasks {
				if fmt.Sprint(tk.ID) == f[1] {
					task = tk
				}
			}
			return task == nil || f[3] >= Assess(task, f[2], st, s, now).Period
		}
	})
	if naive == "" {
		t.Error("a naive rule (every reminder of a past period) changed nothing: the plan does not test the rule")
	}
}

func TestPruneRuleKeys(t *testing.T) {
	c, p := testPlan(t, prunePlan)
	s := SettingsFrom(c)
	now := at("2026-06-01 09:00")
	st := NewState(nil, nil, nil)
	report(st, 2, "甲局", store.StatusDone, nil, at("2025-08-15 10:00"))
	keep := PruneRule(p, st, s, 24*time.Hour, now)
	old, recent := at("2025-07-10 09:00"), now.Add(-24*time.Hour)
	for _, tt := range []struct {
		key  string
		at   time.Time
		want bool
	}{
		{"n|2|甲局|2025-06-30|overdue:2", old, true},    // task 2's only period: a one-off task's never passes
		{"e|2|甲局|2025-06-30|overdue", old, true},      // task 2's period is still its current one
		{"e|1|乙局|2025-03-31|overdue", old, false},     // last year's period of a yearly task
		{"n|1|乙局|2025-03-31|overdue:1", old, true},    // 乙局 never answered: it still counts
		{"n|1|乙局|2026-03-31|overdue:1", recent, true}, // younger than PruneAge
		{"n|9|甲局|2025-03-31|before:7d", old, true},    // task 9 is not in the plan: kept for RemovedAge
		{"n|9|甲局|2024-03-31|before:7d", old.AddDate(-1, 0, 0), false},
		{"u|1|3", old, true},
		{"d|2025-W28|supervisors", old, false},
		{"d|2026-W22|supervisors", recent, true},
		{tickKey("nudge", old), old, false},
		{tickKey("nudge", recent), recent, true},
		{"x|whatever", old, true},
		{"n|bad", old, true},
	} {
		if got := keep(tt.key, tt.at); got != tt.want {
			t.Errorf("keep(%s, %s): got %v, want %v", tt.key, tt.at.Format(time.DateOnly), got, tt.want)
		}
	}
}

// TestTickPrunesOncePerDay: the first tick of a day prunes the store's ledger, the others of
// that day do not, the next day's does again.
func TestTickPrunesOncePerDay(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := testPlan(t, prunePlan)
		m := &fakeMessenger{store: s}
		sc := newScheduler(t, s, m, c, p, "a")
		confirm := func(key string, at time.Time) {
			t.Helper()
			if err := s.Confirm(ctx, store.Sent{Keys: []string{key}, Stage: "tick", At: at}); err != nil {
				t.Fatal(err)
			}
		}
		old := at("2025-01-06 09:00")
		confirm(tickKey("nudge", old), old)
		confirm("d|2025-W02|supervisors", old)
		confirm("u|1|2", old)
		now := at("2025-06-02 09:00")
		if _, err := sc.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		ledger, err := s.Ledger(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]bool{tickKey("nudge", old): false, "d|2025-W02|supervisors": false, "u|1|2": true} {
			if _, got := ledger.At(key); got != want {
				t.Errorf("after the day's first tick: %s in the ledger: got %v, want %v", key, got, want)
			}
		}
		confirm("d|2025-W03|supervisors", old)
		if _, err := sc.Tick(ctx, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ledger, _ := s.Ledger(ctx); ledger.Map()["d|2025-W03|supervisors"].IsZero() {
			t.Error("a second tick the same day pruned: want once a day")
		}
		if _, err := sc.Tick(ctx, now.AddDate(0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		if ledger, _ := s.Ledger(ctx); !ledger.Map()["d|2025-W03|supervisors"].IsZero() {
			t.Error("the next day's first tick did not prune")
		}
	})
}

// tripCounter counts Redis round trips: a command, or a pipeline, is one. A new connection's
// handshake (HELLO, CLIENT SETINFO) is left out: the daemon's pool keeps its connections, and
// how many a test opens depends on how many chats are sent to at once.
type tripCounter struct{ trips atomic.Int64 }

func handshake(cmd goredis.Cmder) bool {
	name := cmd.Name()
	return name == "hello" || name == "client"
}

func (c *tripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if !handshake(cmd) {
			c.trips.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(cmd goredis.Cmder) bool { return !handshake(cmd) }) {
			return next(ctx, cmds)
		}
		c.trips.Add(1)
		return next(ctx, cmds)
	}
}

// claimEach is a store that claims key by key, as the scheduler did before ClaimAll.
type claimEach struct{ backend }

func (c claimEach) ClaimAll(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]bool, error) {
	won := make([]bool, len(keys))
	for i, k := range keys {
		ok, err := c.Claim(ctx, k, owner, now, lease)
		if err != nil {
			return nil, err
		}
		won[i] = ok
	}
	return won, nil
}

// tickTrips runs the first tick of a plan of depts departments with tasks tasks each, all due,
// on Redis, and returns the round trips it made and the items it sent.
func tickTrips(tb testing.TB, url string, depts, tasks int, each bool) (int64, int) {
	tb.Helper()
	ctx := context.Background()
	var cfg, plan strings.Builder
	cfg.WriteString("timezone: Asia/Shanghai\ndepartments:\n")
	plan.WriteString("tasks:\n")
	for d := 1; d <= depts; d++ {
		fmt.Fprintf(&cfg, "  局%02d: {}\n", d)
		for i := 1; i <= tasks; i++ {
			fmt.Fprintf(&plan, "  - {id: %d, goal: 目标, departments: [局%02d], deadline: 2026-12-04}\n", d*100000+i, d)
		}
	}
	c, err := config.ParseConfig("config.yaml", []byte(cfg.String()), func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	p, err := config.ParsePlan("tasks.yaml", []byte(plan.String()), c)
	if err != nil {
		tb.Fatal(err)
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	client := goredis.NewClient(opts)
	tb.Cleanup(func() { client.Close() })
	counter := &tripCounter{}
	client.AddHook(counter)
	var s backend = redis.New(client, redistest.Prefix(tb, url))
	for d := 1; d <= depts; d++ {
		if err := s.Bind(ctx, store.Binding{Department: fmt.Sprintf("局%02d", d), ChatID: int64(-1000 - d), BoundAt: time.Now()}); err != nil {
			tb.Fatal(err)
		}
	}
	if each {
		s = claimEach{s}
	}
	sc := newScheduler(tb, s, &fakeMessenger{store: s}, c, p, "a")
	now := at("2026-12-01 09:00")
	sc.now = func() time.Time { return now } // as fire gives Tick the clock's time
	before := counter.trips.Load()
	rep, err := sc.Tick(ctx, now)
	if err != nil {
		tb.Fatal(err)
	}
	return counter.trips.Load() - before, rep.Items
}

// TestTickRoundTripsGrowWithDepartments: a first tick in which every pair is due makes the same
// Redis round trips for 100 tasks a department as for 1,000: a few per department.
func TestTickRoundTripsGrowWithDepartments(t *testing.T) {
	url, ok := redistest.URL(t)
	if !ok {
		return
	}
	tickTrips(t, url, 1, 1, false) // the scripts loaded, so that no run pays for it
	small, smallItems := tickTrips(t, url, 10, 100, false)
	large, largeItems := tickTrips(t, url, 10, 1000, false)
	fewer, _ := tickTrips(t, url, 5, 1000, false)
	each, _ := tickTrips(t, url, 10, 100, true)
	t.Logf("round trips of a first tick: 10×100 %d (%d items), 10×1000 %d (%d items), 5×1000 %d; claimed key by key, 10×100: %d",
		small, smallItems, large, largeItems, fewer, each)
	if smallItems != 1000 || largeItems != 10000 {
		t.Fatalf("items sent: got %d and %d, want 1000 and 10000 (every pair due)", smallItems, largeItems)
	}
	if large != small {
		t.Errorf("round trips: got %d for 10×1000, %d for 10×100; want the same", large, small)
	}
	// Five reads and the daily prune's two, then per department its claims and its record:
	// the claims stand for the renewal before its one part.
	if want := int64(5 + 2 + 2*10); small > want {
		t.Errorf("round trips for 10 departments: got %d, want at most %d (two per department)", small, want)
	}
	if fewer >= large {
		t.Errorf("round trips: got %d for 5 departments, %d for 10; want fewer for fewer departments", fewer, large)
	}
	if each < int64(smallItems) {
		t.Errorf("claimed key by key: got %d round trips, want at least one per item (%d): the counter does not count", each, smallItems)
	}
}
