package scheduler

import (
	"context"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/duban/duban/store"
)

// TickTimeout bounds one tick. A tick runs to its end even when shutdown begins, so that no
// department gets half a round of reminders; the timeout keeps shutdown finite.
const TickTimeout = 10 * time.Minute

// Run fires the nudge and digest schedules until ctx ends, after catching up once on what
// was missed while the daemon was down.
func (sc *Scheduler) Run(ctx context.Context) error {
	if err := sc.CatchUp(ctx, sc.now()); err != nil {
		sc.log.Warn("catch-up failed", "err", err)
	}
	for {
		ps := sc.plan.Load()
		now := sc.now()
		which, at := "nudge", ps.nudge.Next(now)
		if d := ps.digest.Next(now); !d.IsZero() && (at.IsZero() || d.Before(at)) {
			which, at = "digest", d
		}
		if at.IsZero() {
			<-ctx.Done() // a schedule that never fires
			return nil
		}
		timer := time.NewTimer(at.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		if err := sc.fire(ctx, which, at); err != nil {
			sc.log.Warn("tick failed", "schedule", which, "at", at, "err", err)
		}
	}
}

// CatchUp runs, once, the latest nudge tick and digest that fell within catch_up before now
// and did not run (the ledger says which ran), instead of one run per missed tick.
func (sc *Scheduler) CatchUp(ctx context.Context, now time.Time) error {
	ps := sc.plan.Load()
	ledger, err := sc.store.Ledger(ctx)
	if err != nil {
		return err
	}
	window := time.Duration(ps.cfg.Schedule.CatchUp)
	for _, s := range []struct {
		which string
		sched cron.Schedule
	}{{"nudge", ps.nudge}, {"digest", ps.digest}} {
		ticks := Ticks(s.sched, now.Add(-window), now)
		if len(ticks) == 0 {
			continue
		}
		last := ticks[len(ticks)-1]
		if _, ran := ledger[tickKey(s.which, last)]; ran {
			continue
		}
		sc.log.Info("catching up on a missed tick", "schedule", s.which, "at", last)
		if err := sc.fire(ctx, s.which, last); err != nil {
			return err
		}
	}
	return nil
}

func tickKey(which string, at time.Time) string {
	return "t|" + which + "|" + strconv.FormatInt(at.Unix(), 10)
}

// fire runs one scheduled tick, once across instances, and records that it ran.
func (sc *Scheduler) fire(ctx context.Context, which string, at time.Time) error {
	key := tickKey(which, at)
	ok, err := sc.store.Claim(ctx, key, sc.owner, sc.now(), TickTimeout)
	if err != nil || !ok {
		return err
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), TickTimeout)
	defer cancel()
	now := sc.now()
	switch which {
	case "digest":
		n, err := sc.SendDigests(tctx, now)
		if err != nil {
			return err
		}
		sc.log.Info("digest sent", "messages", n)
	default:
		rep, err := sc.Tick(tctx, now)
		if err != nil {
			return err
		}
		sc.log.Info("tick", "messages", rep.Messages, "items", rep.Items, "escalations", rep.Escalations, "unbound", rep.Unbound, "failed", rep.Failed)
	}
	return sc.store.Confirm(tctx, store.Sent{Keys: []string{key}, Stage: "tick", At: now})
}
