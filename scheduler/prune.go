package scheduler

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// The ledger is read in full on every tick and only grows: once a day the tick prunes what no
// decision can need again (PruneRule).

// PruneAge is how old a ledger entry (when it was sent) and, for a reminder, its period's
// deadline must both be before it may be pruned: a margin against a plan edit that moves a
// deadline back by days, and against a tick or digest retried late.
const PruneAge = 35 * 24 * time.Hour

// RemovedAge is how old the entries of a pair the plan no longer holds (a task taken out, or a
// department no longer responsible for it) must be, both sent and the period's deadline,
// before they go: a task put back within that sees its reminders as they were.
const RemovedAge = 400 * 24 * time.Hour

// PruneRule is which ledger keys must stay, for plan and the state st (as the tick read it)
// at now. What each key is read for (see the package doc and Decide):
//
//   - n| and e| keys: Decide looks up the pair's current period only (wasSent, countPrefix); a
//     nudge of any period also counts in Unanswered while it is later than the pair's last
//     report (nudgesSince), and holds back a stale request for stale_after (lastNudge). So an
//     entry of a pair in the plan goes once its period is before the pair's current one (a
//     period never comes back: it is the deadline's date, and the current deadline only moves
//     on) and, for a nudge, once it is no later than the last report and older than
//     stale_after. Dropping such nudges leaves lastNudge either the same or an older time that
//     is also past stale_after, so the stale check answers the same. A never-reporting pair
//     keeps its nudges: they all count in Unanswered.
//   - a pair not in the plan: Decide never looks at it; its entries go after RemovedAge.
//   - u| keys: kept (a pair of numbers seen before must not be told again); they are few.
//   - d| keys: a digest is keyed by the week it is sent in, and only the current week's is
//     looked up: after PruneAge its week is long gone.
//   - t| keys: catch-up looks only at ticks within catch_up of now: they go once the tick is
//     older than catch_up and PruneAge.
//   - anything else: kept.
//
// Nothing younger than PruneAge goes. The rule holds while the last report of a pair only
// moves forward (an update imported later with an earlier date than the last one would count
// fewer unanswered nudges than before pruning), and while no plan edit moves a deadline back
// to a date more than PruneAge past whose period was pruned.
func PruneRule(plan *config.Plan, st *State, s Settings, catchUp time.Duration, now time.Time) store.PruneKeep {
	tasks := make(map[int]*config.Task, len(plan.Tasks))
	for _, t := range plan.Tasks {
		tasks[t.ID] = t
	}
	assessed := map[Pair]Assessment{}
	return func(key string, at time.Time) bool {
		if now.Sub(at) < PruneAge {
			return true
		}
		kind, rest, _ := strings.Cut(key, "|")
		switch kind {
		case "n", "e":
			f := strings.SplitN(rest, "|", 4) // task, department, period, stage
			if len(f) != 4 {
				return true
			}
			id, err := strconv.Atoi(f[0])
			if err != nil {
				return true
			}
			day, err := time.ParseInLocation(time.DateOnly, f[2], s.Location)
			if err != nil {
				return true
			}
			deadline := day.AddDate(0, 0, 1) // the period's deadline is the end of that day
			if now.Sub(deadline) < PruneAge {
				return true
			}
			task := tasks[id]
			if task == nil || !slices.Contains(task.Responsible, f[1]) {
				return now.Sub(deadline) < RemovedAge || now.Sub(at) < RemovedAge
			}
			p := Pair{id, f[1]}
			a, ok := assessed[p]
			if !ok {
				a = Assess(task, f[1], st, s, now)
				assessed[p] = a
			}
			if f[2] >= a.Period { // dates as text sort as dates
				return true
			}
			if kind == "e" {
				return false
			}
			return at.After(a.LastReport) || now.Sub(at) < s.StaleAfter
		case "d":
			return false // older than PruneAge: its week is over
		case "t":
			i := strings.LastIndexByte(key, '|')
			unix, err := strconv.ParseInt(key[i+1:], 10, 64)
			if err != nil {
				return true
			}
			return now.Sub(time.Unix(unix, 0)) < catchUp+PruneAge
		}
		return true
	}
}

// pruneDaily prunes the ledger on the first tick of each day (in the plan's zone), with the
// state the tick read. A failure is logged and tried again on the next tick: the tick itself
// does not depend on it.
func (sc *Scheduler) pruneDaily(ctx context.Context, ps *planState, st *State, now time.Time) {
	day := dayNumber(now, ps.settings.Location)
	if day == sc.prunedDay {
		return
	}
	keep := PruneRule(ps.plan, st, ps.settings, time.Duration(ps.cfg.Schedule.CatchUp), now)
	pruned, err := sc.store.PruneLedger(ctx, now, keep)
	if err != nil {
		sc.log.Warn("ledger not pruned", "err", err)
		return
	}
	sc.prunedDay = day
	if pruned != (store.Pruned{}) {
		sc.log.Info("ledger pruned", "keys", pruned.Keys, "records", pruned.Records, "claims", pruned.Claims)
	}
}

// Prune prunes the ledger now, whatever the day, for a caller outside the tick (a command);
// the tick prunes once a day by itself.
func (sc *Scheduler) Prune(ctx context.Context, now time.Time) (store.Pruned, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ps := sc.plan.Load()
	st, _, err := sc.load(ctx)
	if err != nil {
		return store.Pruned{}, err
	}
	pruned, err := sc.store.PruneLedger(ctx, now, PruneRule(ps.plan, st, ps.settings, time.Duration(ps.cfg.Schedule.CatchUp), now))
	if err != nil {
		return store.Pruned{}, fmt.Errorf("prune ledger: %w", err)
	}
	return pruned, nil
}
