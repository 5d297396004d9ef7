package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/duban/duban/store"
)

// TickTimeout bounds one tick. A tick runs to its end even when shutdown begins, so that no
// department gets half a round of reminders; the timeout keeps shutdown finite.
const TickTimeout = 10 * time.Minute

// RetryEvery is how soon a tick that failed (the store or Telegram was down, or another
// instance held it unfinished) is tried again, until its schedule fires next.
const RetryEvery = time.Minute

// job is a scheduled tick to run, or to run again.
type job struct {
	which string    // "nudge" or "digest"
	at    time.Time // when it was scheduled: its key in the ledger
	retry time.Time // when to (re)try it
}

// Run fires the nudge and digest schedules until ctx ends. What was missed while the daemon
// was down runs once at start; a tick that fails is retried every RetryEvery until its
// schedule fires again, so a store blip at 09:00 does not cost a day's reminders. When both
// schedules fire at the same moment (09:00 on a Monday), both run.
func (sc *Scheduler) Run(ctx context.Context) error {
	// One reading of the clock for the catch-up and the first schedule: with two, a tick
	// falling between them would be neither missed nor next, and never run.
	start := sc.now()
	pending, err := sc.missed(ctx, start)
	if err != nil {
		sc.log.Warn("catch-up: could not read the ledger", "err", err)
	}
	var ps *planState
	next := map[string]time.Time{}
	for {
		if cur := sc.plan.Load(); cur != ps { // first round, or reloaded
			from := sc.now()
			if ps == nil {
				from = start
			}
			ps = cur
			next["nudge"], next["digest"] = ps.nudge.Next(from), ps.digest.Next(from)
		}
		var wake time.Time
		consider := func(t time.Time) {
			if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
				wake = t
			}
		}
		for _, j := range pending {
			consider(j.retry)
		}
		consider(next["nudge"])
		consider(next["digest"])
		if wake.IsZero() {
			<-ctx.Done() // schedules that never fire
			return nil
		}
		if !sleepUntil(ctx, sc.now, wake) {
			return nil
		}
		now := sc.now()
		for _, s := range []struct {
			which string
			sched cron.Schedule
		}{{"nudge", ps.nudge}, {"digest", ps.digest}} {
			if at := next[s.which]; !at.IsZero() && !at.After(now) {
				pending = append(pending, job{which: s.which, at: at, retry: at})
				next[s.which] = s.sched.Next(at)
			}
		}
		var still []job
		for _, j := range pending {
			if j.retry.After(now) {
				still = append(still, j)
				continue
			}
			done, err := sc.fire(ctx, j.which, j.at)
			switch {
			case done:
			case ctx.Err() != nil:
				return nil
			case next[j.which].IsZero() || now.Add(sc.retryEvery).Before(next[j.which]):
				sc.log.Warn("tick not done, will retry", "schedule", j.which, "at", j.at, "err", err, "retry_in", sc.retryEvery)
				j.retry = now.Add(sc.retryEvery)
				still = append(still, j)
			default:
				sc.log.Error("tick given up: the next one is due", "schedule", j.which, "at", j.at, "err", err)
			}
		}
		pending = still
	}
}

// sleepUntil waits for a wall-clock time; false when ctx ended first.
func sleepUntil(ctx context.Context, now func() time.Time, t time.Time) bool {
	if d := t.Sub(now()); d > 0 {
		return sleepCtx(ctx, d)
	}
	return ctx.Err() == nil
}

// missed lists the latest nudge tick and digest that fell within catch_up before now and
// did not run (the ledger says which ran): one run each, not one per missed tick.
func (sc *Scheduler) missed(ctx context.Context, now time.Time) ([]job, error) {
	ps := sc.plan.Load()
	ledger, err := sc.store.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	window := time.Duration(ps.cfg.Schedule.CatchUp)
	var jobs []job
	for _, s := range []struct {
		which string
		sched cron.Schedule
	}{{"nudge", ps.nudge}, {"digest", ps.digest}} {
		ticks := Ticks(s.sched, now.Add(-window), now)
		if len(ticks) == 0 {
			continue
		}
		last := ticks[len(ticks)-1]
		if _, ran := ledger.At(tickKey(s.which, last)); !ran {
			sc.log.Info("catching up on a missed tick", "schedule", s.which, "at", last)
			jobs = append(jobs, job{which: s.which, at: last, retry: now})
		}
	}
	return jobs, nil
}

// CatchUp runs what missed lists, once, now.
func (sc *Scheduler) CatchUp(ctx context.Context, now time.Time) error {
	jobs, err := sc.missed(ctx, now)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if _, err := sc.fire(ctx, j.which, j.at); err != nil {
			return err
		}
	}
	return nil
}

func tickKey(which string, at time.Time) string {
	return "t|" + which + "|" + strconv.FormatInt(at.Unix(), 10)
}

// fire runs one scheduled tick, once across instances, and records that it ran. done is
// false when it must be tried again: it failed, or another instance holds it unfinished.
func (sc *Scheduler) fire(ctx context.Context, which string, at time.Time) (done bool, err error) {
	key := tickKey(which, at)
	ok, err := sc.store.Claim(ctx, key, sc.owner, sc.now(), TickTimeout)
	if err != nil {
		return false, err
	}
	if !ok {
		if _, confirmed, err := sc.store.SentFor(ctx, key); err != nil || !confirmed {
			return false, fmt.Errorf("held by another instance, unfinished (%v)", err)
		}
		return true, nil // another instance ran it
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), TickTimeout)
	defer cancel()
	now := sc.now()
	switch which {
	case "digest":
		n, err := sc.SendDigests(tctx, now)
		sc.log.Info("digest", "messages", n, "err", err)
		if err != nil {
			return false, err
		}
	default:
		rep, err := sc.Tick(tctx, now)
		sc.log.Info("tick", "messages", rep.Messages, "items", rep.Items, "escalations", rep.Escalations, "unbound", rep.Unbound, "unbound_told", rep.UnboundTold, "resumed", rep.Resumed, "failed", rep.Failed, "err", err)
		if err != nil {
			return false, err
		}
	}
	if err := sc.store.Confirm(tctx, store.Sent{Keys: []string{key}, Stage: "tick", At: now}); err != nil {
		return false, err
	}
	return true, nil
}
