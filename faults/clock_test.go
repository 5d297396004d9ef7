package faults_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	dubandaemon "github.com/duban/duban/daemon"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/sqlite"
)

// clock is the wall clock the scheduler is given: real time shifted by an offset the test
// moves, as an NTP step or an administrator does. The scheduler's timers still run in real
// time, so a tick set 200 ms ahead fires within the test's patience.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) set(t time.Time)      { c.offset.Store(int64(time.Until(t))) }
func (c *clock) jump(d time.Duration) { c.offset.Add(int64(d)) }

// clockRig is the daemon, in this process, on the shipped plan with every department
// bound, on an embedded store, in Europe/Berlin, with schedule.nudge spec, against the fake
// Bot API, driven by a clock the test moves (daemon.Options.Now, which the scheduler runs on).
type clockRig struct {
	t     *testing.T
	w     *world
	loc   *time.Location
	clk   *clock
	st    *sqlite.Store
	c     *config.Config
	p     *config.Plan
	stops []func()
	// ran is every tick seen in the ledger so far: the daily prune drops a tick's key once
	// it is older than catch_up plus 35 days, and these tests jump the clock by months.
	seen map[int64]bool
}

func newClockRig(t *testing.T, spec string) *clockRig {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	c, err := config.LoadConfigEnv("../config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	c.Location = berlin
	c.Telegram.Token, c.Telegram.APIURL = config.Secret(w.tg.Token()), w.tg.URL()
	c.HTTP.Listen = "127.0.0.1:0"
	c.Schedule.Nudge, c.Schedule.Digest = spec, "0 0 1 1 *"
	c.Schedule.CatchUp = config.Duration(24 * time.Hour)
	// No supervisors' chat: the escalations of later days run to many parts, which the
	// sender paces by Telegram's 20 messages a minute per group, and this test is about ticks.
	c.Supervisors.Chat = 0
	p, err := config.LoadPlan(c.TasksPath(), c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), "t:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for _, d := range c.DepartmentNames {
		if err := st.Bind(context.Background(), store.Binding{Department: d, ChatID: w.chats[d], BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	r := &clockRig{t: t, w: w, loc: berlin, clk: &clock{}, st: st, c: c, p: p}
	t.Cleanup(r.stop)
	return r
}

func (r *clockRig) at(s string) time.Time {
	r.t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04:05 MST", s, r.loc)
	if err != nil {
		r.t.Fatal(err)
	}
	// ParseInLocation takes the zone abbreviation to pick between the two 02:30s of the night
	// the clocks go back.
	return tm
}

// start runs a scheduler (a daemon starting) on the rig's clock.
func (r *clockRig) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	r.t.Cleanup(func() {
		if r.t.Failed() {
			r.t.Logf("daemon log:\n%s", lastLines(logs.String(), 30))
		}
	})
	d, err := dubandaemon.New(ctx, dubandaemon.Options{Config: r.c, Plan: r.p, Store: r.st, Log: slog.New(slog.NewTextHandler(logs, nil)),
		Instance: "embedded", // as `duban run` names a daemon on the embedded store
		Now:      r.clk.now, PollTimeout: time.Second, PollBackoff: 5 * time.Millisecond})
	if err != nil {
		cancel()
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	r.stops = append(r.stops, func() { cancel(); <-done })
}

// stop stops every scheduler started (a daemon stopping).
func (r *clockRig) stop() {
	for _, s := range r.stops {
		s()
	}
	r.stops = nil
}

// ran is how many times the tick scheduled at t ran to its end (0 or 1: its ledger key).
func (r *clockRig) ran(t time.Time) bool {
	r.look()
	return r.seen[t.Unix()]
}

// look adds the nudge ticks in the ledger now to those seen.
func (r *clockRig) look() {
	ledger, err := r.st.Ledger(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	if r.seen == nil {
		r.seen = map[int64]bool{}
	}
	for _, e := range ledger {
		if unix, ok := cutPrefix(e.Key, "t|nudge|"); ok {
			n, _ := strconv.ParseInt(unix, 10, 64)
			r.seen[n] = true
		}
	}
}

// ticks lists the nudge ticks scheduled at or after from that ran (a start also catches up
// the day before's, which is no part of what these tests look at).
func (r *clockRig) ticks(from time.Time) []string {
	r.look()
	var at []int64
	for n := range r.seen {
		if !time.Unix(n, 0).Before(from) {
			at = append(at, n)
		}
	}
	slices.Sort(at)
	out := make([]string, len(at))
	for i, n := range at {
		out[i] = time.Unix(n, 0).In(r.loc).Format("01-02 15:04 MST")
	}
	return out
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// waitRan waits (bounded) for the tick at t to have run.
func (r *clockRig) waitRan(t time.Time) {
	r.t.Helper()
	waitFor(r.t, 30*time.Second, "the tick at "+t.In(r.loc).Format("01-02 15:04 MST"), func() bool { return r.ran(t) })
}

// startAhead is how long before a tick the tests that want it run start the daemon: long
// enough that the daemon is up (under -race, beside the other tests) before the tick. A start
// within milliseconds of a tick can miss it: scheduler.Run reads the clock once for the
// catch-up and again for the first schedule, and a tick falling between the two readings is
// neither (see RELIABILITY.md, F6).
const startAhead = 2 * time.Second

// quiet gives a scheduler that would fire wrongly the time to do so: the tick it would
// double or jump to is set 200 ms ahead, so 1 s is five times the wait.
func quiet() { time.Sleep(time.Second) }

// TestWallClockJumps (issue 9, fault suite 6): the wall clock steps an hour forward across
// 09:00 (the tick is late, not skipped: it runs once, on waking), and an hour back after 09:00
// ran, with the scheduler running and with it restarted just before the repeated 09:00 (the
// tick does not run twice: its ledger key is its scheduled time).
func TestWallClockJumps(t *testing.T) {
	t.Parallel()
	r := newClockRig(t, "0 9 * * *")
	nine := r.at("2026-12-02 09:00:00 CET")
	r.clk.set(nine.Add(-startAhead))
	r.start()
	time.Sleep(startAhead / 2)
	r.clk.jump(time.Hour) // 08:59:59 -> 09:59:59, while the scheduler waits for 09:00
	r.waitRan(nine)
	calls := r.w.nudges().messages
	if calls == 0 {
		t.Fatal("the tick skipped by the jump sent nothing")
	}

	// An hour back: 09:00 comes round again on the wall clock.
	r.clk.set(nine.Add(-200 * time.Millisecond))
	quiet()
	r.stop()
	r.clk.set(nine.Add(-200 * time.Millisecond)) // and a daemon started just before it
	r.start()
	quiet()
	r.stop()
	after, doubled := r.w.nudges().messages, r.w.nudges().duplicates
	ticks := r.ticks(nine.Add(-time.Minute))
	if len(ticks) != 1 || after != calls || doubled != 0 {
		t.Errorf("after the clock went back over 09:00: ticks %v, %d reminders (%d before), %d sent twice; want the one tick, nothing again", ticks, after, calls, doubled)
	}
	figure(t, "+1 h across 09:00: the tick ran once on waking (%d reminders); -1 h after it, running and restarted: 0 ticks doubled, 0 reminders doubled, 0 skipped", calls)
}

// TestDaylightSavingBerlin (issue 9, fault suite 6): in Europe/Berlin the nudge at 09:00 runs
// once on the days the clocks change, and a nudge at 02:30 runs once on the night 02:30 comes
// twice (2026-10-25), with the scheduler running through both and with one restarted just
// before the second 02:30; on the night 02:30 does not exist (2026-03-29) it runs at most once.
func TestDaylightSavingBerlin(t *testing.T) {
	t.Parallel()
	t.Run("09:00 across the changes", func(t *testing.T) {
		t.Parallel()
		r := newClockRig(t, "0 9 * * *")
		var want []string
		for _, day := range []string{"2026-03-28 09:00:00 CET", "2026-03-29 09:00:00 CEST", "2026-10-24 09:00:00 CEST", "2026-10-25 09:00:00 CET"} {
			at := r.at(day)
			r.clk.set(at.Add(-startAhead))
			r.start()
			r.waitRan(at)
			r.stop()
			want = append(want, at.In(r.loc).Format("01-02 15:04 MST"))
		}
		// Each start also catches up the day before's 09:00 (catch_up 24h); the days of the
		// changes must each have theirs once.
		got := slices.DeleteFunc(r.ticks(r.at("2026-03-28 00:00:00 CET")), func(s string) bool {
			return !slices.ContainsFunc(want, func(w string) bool { return w[:5] == s[:5] })
		})
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ticks on the days of the changes: got %v, want %v", got, want)
		}
		doubled := r.w.nudges().duplicates
		if doubled != 0 {
			t.Errorf("%d reminders sent twice", doubled)
		}
	})
	t.Run("02:30 twice on 2026-10-25", func(t *testing.T) {
		t.Parallel()
		r := newClockRig(t, "30 2 * * *")
		first, second := r.at("2026-10-25 02:30:00 CEST"), r.at("2026-10-25 02:30:00 CET")
		if second.Sub(first) != time.Hour {
			t.Fatalf("the two 02:30s: %v and %v", first, second)
		}
		r.clk.set(first.Add(-startAhead))
		r.start()
		r.waitRan(first)
		calls := r.w.nudges().messages
		// The running scheduler: an hour later, the second 02:30.
		r.clk.set(second.Add(-200 * time.Millisecond))
		quiet()
		r.stop()
		// A daemon started just before the second 02:30.
		r.clk.set(second.Add(-200 * time.Millisecond))
		r.start()
		quiet()
		r.stop()
		after, doubled := r.w.nudges().messages, r.w.nudges().duplicates
		if r.ran(second) || after != calls || doubled != 0 {
			t.Errorf("the second 02:30: ticks %v, %d reminders (%d after the first), %d doubled; want it not run", r.ticks(first.Add(-time.Minute)), after, calls, doubled)
		}
	})
	t.Run("02:30 missing on 2026-03-29", func(t *testing.T) {
		t.Parallel()
		r := newClockRig(t, "30 2 * * *")
		night := r.at("2026-03-29 00:00:00 CET")
		r.clk.set(r.at("2026-03-29 01:59:59 CET").Add(800 * time.Millisecond))
		r.start()
		// 02:00 CET becomes 03:00 CEST: 02:30 never comes, and the tick runs as the clocks
		// jump. The start first catches up the night before's 02:30, which under -race beside
		// the other tests can take seconds; the jump's tick runs after it, so wait (bounded)
		// for it rather than a fixed second.
		thatNight := func() []string {
			return slices.DeleteFunc(r.ticks(night), func(s string) bool { return !strings.HasPrefix(s, "03-29") })
		}
		waitFor(t, 30*time.Second, "the tick of the night without 02:30", func() bool { return len(thatNight()) > 0 })
		// Then past where 02:30 CEST would be on a clock that ignored the jump: nothing more.
		r.clk.set(r.at("2026-03-29 03:30:00 CEST").Add(-200 * time.Millisecond))
		quiet()
		r.stop()
		got := thatNight()
		// 02:30 does not exist that night: like cron(8), the tick runs as the clocks jump.
		if len(got) != 1 || r.w.nudges().duplicates != 0 {
			t.Errorf("the night without 02:30: ticks %v, %d reminders doubled; want one tick", got, r.w.nudges().duplicates)
		}
	})
	figure(t, "Europe/Berlin: 09:00 once on each of 03-28, 03-29, 10-24, 10-25; 02:30 once on 10-25 (running, and restarted before the repeat), 0 doubled; 02:30 on 03-29 (in the gap) once, as the clocks jump")
}
