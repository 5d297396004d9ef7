package scheduler

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// benchPlan is n tasks with 3 departments each, deadlines spread over two years around now,
// a third of the pairs with a report and a sixth with reminders already in the ledger: a plan
// 2,000 times the shipped one, in the shape the daemon sees on a tick.
func benchPlan(n int) (*config.Plan, *State, Settings, time.Time) {
	p, latest, ledger, s, now := benchInput(n)
	return p, NewState(latest, asRead(ledger), nil), s, now
}

// asRead is ledger as the Redis store hands it over (over RESP2, as redis.Open speaks): in
// the hash's order, which is no task's, each key's bytes right after the one before (go-redis
// reads the answer's strings in turn). The SQLite store's rows come, in practice, in key
// order, their bytes one after another too.
func asRead(ledger map[string]time.Time) store.Ledger { return keysInSequence(fromMap(ledger)) }

// keysInSequence gives each of l's keys a copy of its own, made in l's order, so that their
// bytes lie one after another as a store's read allocates them.
func keysInSequence(l store.Ledger) store.Ledger {
	for i := range l {
		l[i].Key = strings.Clone(l[i].Key)
	}
	return l
}

// fromMap is ledger as a Redis store on a RESP3 client hands it over: in a map's order, each
// key's bytes where the map holds them (go-redis reads a RESP3 HGETALL only into a map).
func fromMap(ledger map[string]time.Time) store.Ledger {
	l := make(store.Ledger, 0, len(ledger))
	for key, at := range ledger {
		l = append(l, store.LedgerEntry{Key: key, At: at})
	}
	return l
}

// benchInput is benchPlan as the store gives it: the latest states and the ledger.
func benchInput(n int) (*config.Plan, []store.State, map[string]time.Time, Settings, time.Time) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai)
	depts := []string{"市教育局", "市人社局", "市财政局"}
	p := &config.Plan{Tasks: make([]*config.Task, n)}
	var latest []store.State
	ledger := map[string]time.Time{}
	start := now.AddDate(-1, 0, 0)
	for i := range n {
		t := &config.Task{ID: i + 1, Goal: "目标", Responsible: depts, Leads: depts[:1],
			Start: start, Deadline: now.AddDate(0, 0, i%730-365)}
		p.Tasks[i] = t
		if i%3 == 0 {
			pct := i % 100
			latest = append(latest, store.State{Task: t.ID, Department: depts[i%3], Status: store.StatusInProgress, Percent: &pct,
				Last: store.Update{At: now.AddDate(0, 0, -i%30)}})
		}
		if i%6 == 0 {
			ledger[fmt.Sprintf("n|%d|%s|%s|before:30d", t.ID, depts[1], t.Deadline.Format(time.DateOnly))] = now.AddDate(0, 0, -3)
		}
	}
	s := Settings{RemindBefore: []time.Duration{30 * 24 * time.Hour, 14 * 24 * time.Hour, 7 * 24 * time.Hour, 3 * 24 * time.Hour, 24 * time.Hour},
		OverdueEvery: 7 * 24 * time.Hour, StaleAfter: 14 * 24 * time.Hour, WarnBefore: 7 * 24 * time.Hour, EscalateAfter: 3, BehindMargin: 20, Location: shanghai}
	return p, latest, ledger, s, now
}

// BenchmarkDecide is one tick's planning: run with -cpu 1. "steady" is a working day's tick,
// the day after one that sent everything then due (the ledger holds it); "cold" is the first
// tick of a daemon that has never sent anything, when nearly every pair of this plan is due.
// Allocations should grow with the plan, not faster (compare the sizes).
func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		p, st, s, now := benchPlan(n)
		b.Run(fmt.Sprintf("cold/tasks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decide(p, st, s, now)
			}
		})
		for _, due := range Decide(p, st, s, now).Nudges {
			st.MarkSent(due.Key, now)
		}
		for _, e := range Decide(p, st, s, now).Escalations {
			st.MarkSent(e.Key, now)
		}
		next := now.AddDate(0, 0, 1)
		b.Run(fmt.Sprintf("steady/tasks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decide(p, st, s, next)
			}
		})
	}
}

// BenchmarkBaselineLookup is the least any policy must do on a tick: look up every pair's
// latest state once. BenchmarkDecide is stated as a multiple of it.
func BenchmarkBaselineLookup(b *testing.B) {
	p, st, _, _ := benchPlan(100_000)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, t := range p.Tasks {
			for _, d := range t.Responsible {
				if st.pair(t.ID, d, false) != nil {
					n++
				}
			}
		}
		if n == 0 {
			b.Fatal("no states")
		}
	}
}

// BenchmarkTickPlanning is what a tick does between reading the store and claiming: index
// the store's rows (NewState, SetBound) and plan, streamed (PlanTick). "cold" is the first
// tick ever, "steady" the next day's, its ledger holding everything the first one sent (the
// daily prune drops none of it: it is a day old).
func BenchmarkTickPlanning(b *testing.B) {
	const n = 100_000
	p, latest, ledger, s, now := benchInput(n)
	chats := map[string]int64{"市教育局": -1, "市人社局": -2, "市财政局": -3}
	plan := func(ledger map[string]time.Time, at time.Time) Decision {
		st := NewState(latest, asRead(ledger), nil)
		st.SetBound(chats)
		return Decide(p, st, s, at)
	}
	planTick := func(ledger store.Ledger, at time.Time) *TickPlan {
		st := NewState(latest, ledger, nil)
		st.SetBound(chats)
		return PlanTick(p, st, s, at)
	}
	b.Run(fmt.Sprintf("cold/tasks=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			planTick(nil, now)
		}
	})
	sent := maps.Clone(ledger)
	d := plan(ledger, now)
	for _, due := range d.Nudges {
		sent[due.Key] = now
	}
	for _, e := range d.Escalations {
		sent[e.Key] = now
	}
	next := now.AddDate(0, 0, 1)
	steady := asRead(sent)
	b.Run(fmt.Sprintf("steady/tasks=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			planTick(steady, next)
		}
	})
}

// BenchmarkBaselineMap is BenchmarkBaselineLookup on an index of its own, a map by pair built
// from the store's rows: a yardstick that does not move with State's layout.
func BenchmarkBaselineMap(b *testing.B) {
	p, latest, _, _, _ := benchInput(100_000)
	m := make(map[Pair]*store.State, len(latest))
	for i := range latest {
		m[Pair{latest[i].Task, latest[i].Department}] = &latest[i]
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, t := range p.Tasks {
			for _, d := range t.Responsible {
				if m[Pair{t.ID, d}] != nil {
					n++
				}
			}
		}
		if n == 0 {
			b.Fatal("no states")
		}
	}
}

// BenchmarkWalk is the policy streamed, as a consumer that claims and sends as it goes sees
// it: every pair decided and every due item's keys built, nothing kept (the consumer counts
// the items). BenchmarkDecide is the same plan materialised.
func BenchmarkWalk(b *testing.B) {
	p, st, s, now := benchPlan(100_000)
	count := func(at time.Time) (items int) {
		walk(p, st, s, at, true, nil, func(it *planned) {
			items += it.escalated
			if it.nudged {
				items++
			}
		})
		return items
	}
	b.Run("cold/tasks=100000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			count(now)
		}
	})
	d := Decide(p, st, s, now)
	for _, due := range d.Nudges {
		st.MarkSent(due.Key, now)
	}
	for _, e := range d.Escalations {
		st.MarkSent(e.Key, now)
	}
	next := now.AddDate(0, 0, 1)
	if got, want := count(next), len(Decide(p, st, s, next).Nudges)+len(Decide(p, st, s, next).Escalations); got != want {
		b.Fatalf("walk: got %d items, want %d as Decide gives", got, want)
	}
	b.Run("steady/tasks=100000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			count(next)
		}
	})
}

// BenchmarkNewState is the index of the store's rows with the ledger of BenchmarkTickPlanning's
// steady tick (about 450,000 keys), as the Redis store hands it over ("ledger"; over a RESP3
// client, "ledger-from-map") and as the SQLite store does ("ledger-in-key-order"), against
// reading every key once (the least a parse does).
func BenchmarkNewState(b *testing.B) {
	p, latest, ledger, s, now := benchInput(100_000)
	sent := maps.Clone(ledger)
	d := Decide(p, NewState(latest, asRead(ledger), nil), s, now)
	for _, due := range d.Nudges {
		sent[due.Key] = now
	}
	for _, e := range d.Escalations {
		sent[e.Key] = now
	}
	read := asRead(sent)
	b.Run("ledger", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewState(latest, read, nil)
		}
	})
	scattered := fromMap(sent)
	b.Run("ledger-from-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewState(latest, scattered, nil)
		}
	})
	// The same keys in key order, one after another in memory, as the SQLite store reads them.
	inOrder := keysInSequence(store.LedgerOf(sent))
	b.Run("ledger-in-key-order", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewState(latest, inOrder, nil)
		}
	})
	b.Run("baseline-read-keys", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, e := range read {
				n += int(e.Key[0]) + int(e.Key[len(e.Key)-1]) + e.At.Nanosecond()
			}
			if n == 0 {
				b.Fatal("no keys")
			}
		}
	})
}
