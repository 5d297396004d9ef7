package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// callCounter is the scheduler's store, counting the calls made through it.
type callCounter struct {
	scheduler.Store
	calls atomic.Int64
}

func (c *callCounter) Latest(ctx context.Context) ([]store.State, error) {
	c.calls.Add(1)
	return c.Store.Latest(ctx)
}
func (c *callCounter) Ledger(ctx context.Context) (store.Ledger, error) {
	c.calls.Add(1)
	return c.Store.Ledger(ctx)
}
func (c *callCounter) Snoozes(ctx context.Context) (map[string]time.Time, error) {
	c.calls.Add(1)
	return c.Store.Snoozes(ctx)
}
func (c *callCounter) Bindings(ctx context.Context) ([]store.Binding, error) {
	c.calls.Add(1)
	return c.Store.Bindings(ctx)
}
func (c *callCounter) Chains(ctx context.Context) ([]int, error) {
	c.calls.Add(1)
	return c.Store.Chains(ctx)
}
func (c *callCounter) Updates(ctx context.Context, task int) ([]store.Update, error) {
	c.calls.Add(1)
	return c.Store.Updates(ctx, task)
}
func (c *callCounter) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	c.calls.Add(1)
	return c.Store.Claim(ctx, key, owner, now, lease)
}
func (c *callCounter) Confirm(ctx context.Context, sent store.Sent) error {
	c.calls.Add(1)
	return c.Store.Confirm(ctx, sent)
}
func (c *callCounter) SentFor(ctx context.Context, key string) (store.Sent, bool, error) {
	c.calls.Add(1)
	return c.Store.SentFor(ctx, key)
}
func (c *callCounter) Pending(ctx context.Context) ([]store.Sent, error) {
	c.calls.Add(1)
	return c.Store.Pending(ctx)
}

// nullMessenger renders nudges as the bot does and "sends" them at once, so that a tick of a
// plan far too big for Telegram's limits measures the planning and the store alone.
type nullMessenger struct {
	texts *i18n.Texts
	next  atomic.Int64
	parts atomic.Int64
}

func (m *nullMessenger) NudgeMessage(dept string, chat int64, items []i18n.NudgeItem) sender.Message {
	return sender.Message{ChatID: chat, Text: m.texts.Nudge(dept, items)}
}

func (m *nullMessenger) SendFrom(ctx context.Context, msg sender.Message, from int, h sender.Hooks) ([]int, error) {
	var ids []int
	// Counted once: cutting the message again for every part was half of what the whole cold
	// tick row printed as allocated, and none of it duban's.
	parts := sender.Parts(msg)
	for i := from; i < parts; i++ {
		if h.Before != nil {
			if err := h.Before(ctx, i); err != nil {
				return ids, err
			}
		}
		id := int(m.next.Add(1))
		m.parts.Add(1)
		ids = append(ids, id)
		if h.Sent != nil {
			if err := h.Sent(ctx, i, id); err != nil {
				return ids, err
			}
		}
	}
	return ids, nil
}

// bigPlan is n tasks × 3 departments, deadlines spread over two years around tickAt (the
// shape of the scheduler's benchPlan), all in one group each.
func bigPlan(n int, allDue bool) ([]string, []taskSpec) {
	depts := []string{deptName(0), deptName(1), deptName(2)}
	tasks := make([]taskSpec, n)
	for i := range tasks {
		dl := tickAt.AddDate(0, 0, i%730-365)
		if allDue {
			dl = tickAt.AddDate(0, 0, -30-i%300)
		}
		tasks[i] = taskSpec{id: i + 1, goal: fmt.Sprintf("目标%d", i+1), depts: depts, deadline: dl.Format(time.DateOnly)}
	}
	return depts, tasks
}

// seedReports records a report for a third of the pairs, in batches of 500 per Record.
func seedReports(ctx context.Context, st interface {
	Record(context.Context, int64, []store.Update) ([]store.Update, bool, error)
}, depts []string, tasks []taskSpec) error {
	var batch []store.Update
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, _, err := st.Record(ctx, 0, batch)
		batch = batch[:0]
		return err
	}
	for i, t := range tasks {
		if i%3 != 0 {
			continue
		}
		pct := i % 100
		batch = append(batch, store.Update{Task: t.id, Department: depts[i%3], At: tickAt.AddDate(0, 0, -i%30), ChatID: -1, MessageID: i + 1,
			UserID: 7, UserName: "办事员", Text: fmt.Sprintf("进行中 %d%%", pct), Status: store.StatusInProgress, Percent: &pct, Source: store.SourceReply})
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return fmt.Errorf("seed reports: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("seed reports: %w", err)
	}
	return nil
}

// measured is one measured piece of work: its time, bytes allocated and peak heap in use.
type measured struct {
	d         time.Duration
	allocated uint64
	peakHeap  uint64
}

// measure runs f, sampling the heap in use every millisecond for its peak.
func measure(f func() error) (measured, error) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	peak.Store(before.HeapInuse)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	err := f()
	d := time.Since(start)
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	peak.Store(max(peak.Load(), after.HeapInuse))
	return measured{d: d, allocated: after.TotalAlloc - before.TotalAlloc, peakHeap: peak.Load() - min(before.HeapInuse, peak.Load())}, err
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// lookupBaseline is the least a tick must do: look up every pair's latest state once.
func lookupBaseline(p *config.Plan, latest []store.State) int {
	type pair struct {
		task int
		dept string
	}
	m := make(map[pair]*store.State, len(latest))
	for i := range latest {
		m[pair{latest[i].Task, latest[i].Department}] = &latest[i]
	}
	n := 0
	for _, t := range p.Tasks {
		for _, d := range t.Responsible {
			if m[pair{t.ID, d}] != nil {
				n++
			}
		}
	}
	return n
}

// best is the fastest of runs of f (the machine is shared: the least disturbed run).
func best(runs int, f func() error) (measured, error) {
	var out measured
	for i := range runs {
		m, err := measure(f)
		if err != nil {
			return m, err
		}
		if i == 0 || m.d < out.d {
			out.d = m.d
		}
		out.allocated = max(out.allocated, m.allocated)
		out.peakHeap = max(out.peakHeap, m.peakHeap)
	}
	return out, nil
}

// seeded is a generated plan of n tasks × 3 departments on a Redis store of its own, the
// departments bound and a third of the pairs reported on.
func (e *env) seeded(ctx context.Context, n int) (*config.Config, *config.Plan, []string, *redisStore, []store.State, error) {
	depts, tasks := bigPlan(n, false)
	c, p, _, err := e.writeConfig("http://127.0.0.1:1", "", 0, depts, tasks)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	rs, err := e.openRedis(ctx)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	for i, d := range depts {
		if err := rs.Bind(ctx, store.Binding{Department: d, ChatID: int64(-300000 - i), Title: d, BoundAt: tickAt, BoundBy: 1001}); err != nil {
			rs.drop(context.Background())
			return nil, nil, nil, nil, nil, err
		}
	}
	if err := seedReports(ctx, rs, depts, tasks); err != nil {
		rs.drop(context.Background())
		return nil, nil, nil, nil, nil, err
	}
	latest, err := rs.Latest(ctx)
	if err != nil {
		rs.drop(context.Background())
		return nil, nil, nil, nil, nil, err
	}
	return c, p, depts, rs, latest, nil
}

// tick measures the scheduler on Redis: the planning alone (NewState + PlanTick) on n tasks × 3 departments
// against the one-lookup baseline, and whole ticks through the store on m tasks × 3 with the
// store calls and Redis round trips they make. m is smaller: today a whole cold tick stores
// the message's record under each of its keys, which grows with the square of the items
// (at 100,000 × 3 it filled 6 GB of Redis before it was stopped).
func (e *env) tick(ctx context.Context, n, m int) ([]row, []string, error) {
	c, p, _, rs, latest, err := e.seeded(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	defer rs.drop(context.Background())
	settings := scheduler.SettingsFrom(c)

	// The policy alone, cold (nothing sent ever) and the baseline, best of 3.
	base, err := best(3, func() error {
		if lookupBaseline(p, latest) == 0 {
			return fmt.Errorf("baseline: no states")
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// What a tick does between reading the store and claiming: index the rows (NewState,
	// SetBound) and plan, streamed (PlanTick: per department a few words an item; the keys are
	// built per message as it is claimed, and counted in the whole-tick rows).
	chats := map[string]int64{}
	for i, d := range c.DepartmentNames {
		chats[d] = int64(-300000 - i)
	}
	planTick := func(ledger store.Ledger, at time.Time) *scheduler.TickPlan {
		st := scheduler.NewState(latest, ledger, nil)
		st.SetBound(chats)
		return scheduler.PlanTick(p, st, settings, at)
	}
	var coldItems int
	cold, err := best(3, func() error {
		n, x := planTick(nil, tickAt).Items()
		coldItems = n + x
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// The next day's tick reads the ledger of a first day that sent everything due, as the
	// daemon holds it after its daily prune: the prune's own rule (scheduler.PruneRule, what
	// PruneLedger is given), applied at the next day's tick, drops what it would.
	stCold := scheduler.NewState(latest, nil, nil)
	stCold.SetBound(chats)
	dec := scheduler.Decide(p, stCold, settings, tickAt)
	sentLedger := map[string]time.Time{}
	for _, d := range dec.Nudges {
		sentLedger[d.Key] = tickAt
	}
	for _, x := range dec.Escalations {
		sentLedger[x.Key] = tickAt
	}
	next := tickAt.AddDate(0, 0, 1)
	written := len(sentLedger)
	keep := scheduler.PruneRule(p, scheduler.NewState(latest, store.LedgerOf(sentLedger), nil), settings, time.Duration(c.Schedule.CatchUp), next)
	for key, at := range sentLedger {
		if !keep(key, at) {
			delete(sentLedger, key)
		}
	}
	// The planning is given the ledger as the store reads it back (its order and layout in
	// memory are the store's): written straight into its hash, then read with Ledger.
	steadyLedger, err := rs.writeLedger(ctx, sentLedger)
	if err != nil {
		return nil, nil, err
	}
	kept := len(sentLedger)
	sentLedger = nil // the daemon holds the ledger once, as read: so does this process
	var steadyItems int
	steady, err := best(3, func() error {
		n, x := planTick(steadyLedger, next).Items()
		steadyItems = n + x
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	rs.drop(context.Background())

	wc, wp, depts, ws, _, err := e.seeded(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	defer ws.drop(context.Background())
	c, p, rs = wc, wp, ws

	// Whole ticks through the store: the first ever, then the next day's.
	calls := &callCounter{Store: rs}
	msgr := &nullMessenger{texts: i18n.For(c.Language)}
	sc, err := scheduler.New(calls, msgr, c, p, "loadtest", e.log, func() time.Time { return tickAt })
	if err != nil {
		return nil, nil, err
	}
	type tickRun struct {
		m            measured
		calls, trips int64
		rep          scheduler.TickReport
		parts        int64
	}
	runTick := func(at time.Time) (tickRun, error) {
		var r tickRun
		c0, _ := calls.calls.Load(), 0
		_, t0 := rs.count.read()
		p0 := msgr.parts.Load()
		m, err := measure(func() error {
			var err error
			r.rep, err = sc.Tick(ctx, at)
			return err
		})
		_, t1 := rs.count.read()
		r.m, r.calls, r.trips, r.parts = m, calls.calls.Load()-c0, t1-t0, msgr.parts.Load()-p0
		return r, err
	}
	coldTick, err := runTick(tickAt)
	if err != nil {
		return nil, nil, fmt.Errorf("cold tick: %w", err)
	}
	steadyTick, err := runTick(tickAt.AddDate(0, 0, 1))
	if err != nil {
		return nil, nil, fmt.Errorf("steady tick: %w", err)
	}

	// One store read plus the lookups: the baseline for a whole tick.
	var readBase measured
	readBase, err = best(3, func() error {
		l, err := rs.Latest(ctx)
		if err != nil {
			return err
		}
		lookupBaseline(p, l)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	pairs := 3 * m
	rows := []row{
		{
			what: fmt.Sprintf("tick planning (NewState + PlanTick), %d tasks × 3, steady (next day; ledger of %d keys after the daily prune's rule: %d of %d written dropped)",
				n, kept, written-kept, written),
			duban:    fmt.Sprintf("%s, %.1f MiB allocated, heap peak +%.1f MiB; %d items", fmtDur(steady.d), mib(steady.allocated), mib(steady.peakHeap), steadyItems),
			baseline: fmt.Sprintf("one lookup per pair: %s", fmtDur(base.d)),
			ratio:    fmt.Sprintf("%.1f×", steady.d.Seconds()/base.d.Seconds()),
			goal:     "≤ 3×",
			met:      metIf(steady.d <= 3*base.d),
		},
		{
			what:     fmt.Sprintf("tick planning (NewState + PlanTick), %d tasks × 3, cold (first ever)", n),
			duban:    fmt.Sprintf("%s, %.1f MiB allocated, heap peak +%.1f MiB; %d items", fmtDur(cold.d), mib(cold.allocated), mib(cold.peakHeap), coldItems),
			baseline: fmt.Sprintf("one lookup per pair: %s", fmtDur(base.d)),
			ratio:    fmt.Sprintf("%.1f×", cold.d.Seconds()/base.d.Seconds()),
			goal:     "≤ 5×, heap < 64 MiB",
			met:      metIf(cold.d <= 5*base.d && cold.peakHeap < 64<<20),
		},
		{
			what: fmt.Sprintf("whole tick on Redis, %d tasks × 3, cold (first ever; sends not paced)", m),
			duban: fmt.Sprintf("%s, %.1f MiB allocated, heap peak +%.1f MiB; %d store calls, %d Redis round trips; %d items in %d messages (%d parts)",
				fmtDur(coldTick.m.d), mib(coldTick.m.allocated), mib(coldTick.m.peakHeap), coldTick.calls, coldTick.trips,
				coldTick.rep.Items, coldTick.rep.Messages, coldTick.parts),
			baseline: fmt.Sprintf("read the latest states + one lookup per pair: %s, 1 round trip", fmtDur(readBase.d)),
			ratio:    fmt.Sprintf("%.0f×; %.2f round trips per pair", coldTick.m.d.Seconds()/readBase.d.Seconds(), float64(coldTick.trips)/float64(pairs)),
			goal:     "round trips grow with departments, not tasks (≤ 10 per department)",
			met:      metIf(coldTick.trips <= int64(10*len(depts))),
		},
		{
			what: fmt.Sprintf("whole tick on Redis, %d tasks × 3, steady (next day)", m),
			duban: fmt.Sprintf("%s, %.1f MiB allocated; %d store calls, %d Redis round trips; %d items",
				fmtDur(steadyTick.m.d), mib(steadyTick.m.allocated), steadyTick.calls, steadyTick.trips, steadyTick.rep.Items),
			baseline: fmt.Sprintf("%s, 1 round trip", fmtDur(readBase.d)),
			ratio:    fmt.Sprintf("%.1f×", steadyTick.m.d.Seconds()/readBase.d.Seconds()),
			goal:     "round trips grow with departments, not tasks (≤ 10 per department)",
			met:      metIf(steadyTick.trips <= int64(10*len(depts))),
		},
	}
	var fails []string
	if coldTick.rep.Failed > 0 {
		fails = append(fails, fmt.Sprintf("tick: %d messages failed", coldTick.rep.Failed))
	}
	return rows, fails, nil
}

// firstTick is the big first tick: n tasks × 3 departments, every pair due, on Redis, sent by
// the real daemon through the fake with Telegram's limits.
func (e *env) firstTick(ctx context.Context, n int) ([]row, []string, error) {
	tb := &runTB{}
	defer tb.close()
	tg := e.fake(tb)
	tg.AddChat(supervisors)
	depts, tasks := bigPlan(n, true)
	// No supervisors' chat: the escalation of 3n overdue items to one group would set the
	// pace, not the departments' nudges.
	d, rs, chats, done, err := e.tickDaemon(ctx, tg, depts, tasks, -400000)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	before := len(tg.Sent())
	_, t0 := rs.count.read()
	start := time.Now()
	rep, err := d.Scheduler().Tick(ctx, tickAt)
	elapsed := time.Since(start)
	_, t1 := rs.count.read()
	if err != nil {
		return nil, nil, fmt.Errorf("first tick: %w", err)
	}
	sent := tg.Sent()[before:]
	perChat := sentPerChat(sent)
	floor := telegramFloor(perChat, groupChats(chats))
	seen := map[string]int{}
	dups := 0
	for _, m := range sent {
		k := fmt.Sprint(m.ChatID, m.Text)
		if seen[k]++; seen[k] > 1 {
			dups++
		}
	}
	usage, err := rs.memoryUsage(ctx)
	if err != nil {
		return nil, nil, err
	}
	var allBytes int64
	big := slices.Sorted(maps.Keys(usage)) // the three largest keys
	for _, k := range big {
		allBytes += usage[k]
	}
	slices.SortStableFunc(big, func(a, b string) int { return cmp.Compare(usage[b], usage[a]) })
	big = big[:min(3, len(big))]
	var keys []string
	for _, k := range big {
		keys = append(keys, fmt.Sprintf("%s %.2f MB", k, float64(usage[k])/1e6))
	}
	tooMany := count429(tg)
	tgTime := e.tgSeconds(elapsed)
	ratio := tgTime / floor.Seconds()
	var fails []string
	if rep.Items != 3*n || dups > 0 || tooMany > 0 {
		fails = append(fails, fmt.Sprintf("first tick: %d of %d items sent, %d parts duplicated, %d 429s", rep.Items, 3*n, dups, tooMany))
	}
	rows := []row{{
		what: fmt.Sprintf("first tick, %d tasks × 3 all due, Redis, limits on", n),
		duban: fmt.Sprintf("%.1f s (Telegram time); %d parts to %d chats, %d 429s, %d duplicated; %d Redis round trips; Redis holds %.1f MB (%s)",
			tgTime, len(sent), len(perChat), tooMany, dups, t1-t0, float64(allBytes)/1e6, strings.Join(keys, ", ")),
		baseline: fmt.Sprintf("Telegram's floor for those parts: %.1f s", floor.Seconds()),
		ratio:    fmt.Sprintf("%.2f× the floor", ratio),
		goal:     "≤ 1.5× the floor (and 1 round trip per department: see the whole-tick rows)",
		met:      metIf(ratio <= 1.5),
	}}
	return rows, fails, nil
}
