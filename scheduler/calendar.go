package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/duban/duban/config"
)

// Schedule parses a cron spec of config.yaml in the plan's zone.
func Schedule(spec string, loc *time.Location) (cron.Schedule, error) {
	s, err := config.ParseCron(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	if ss, ok := s.(*cron.SpecSchedule); ok {
		ss.Location = loc
		return byWallClock{ss, loc}, nil
	}
	return s, nil
}

// byWallClock fires a time of day once across daylight saving, as cron(8) does:
//   - when the clocks go back, robfig/cron fires 02:30 twice; the repeat is skipped (the ledger
//     would stop a second round of reminders anyway; this keeps `duban plan` and the logs
//     honest);
//   - when they go forward, robfig/cron never fires 02:30 that night, since that wall-clock
//     time does not exist, and the day would pass with no nudge; a time in the gap fires at
//     the instant the clocks jump (03:00 the new time) instead.
type byWallClock struct {
	s   *cron.SpecSchedule
	loc *time.Location
}

func (o byWallClock) Next(t time.Time) time.Time {
	for {
		n := o.s.Next(t)
		if jump, ok := o.skippedBetween(t, n); ok {
			return jump
		}
		if n.IsZero() {
			return n
		}
		earlier := n.Add(-time.Hour)
		if wall(earlier, o.loc) == wall(n, o.loc) && o.s.Next(earlier.Add(-time.Second)).Equal(earlier) {
			t = n // the repeat of a wall-clock time that already fired
			continue
		}
		return n
	}
}

// skippedBetween finds a spring-forward jump after t and before next (or within a year when
// next is zero) whose missing wall-clock times the schedule would have fired in, and returns
// the instant of the jump.
func (o byWallClock) skippedBetween(t, next time.Time) (time.Time, bool) {
	end := next
	if end.IsZero() {
		end = t.AddDate(1, 0, 0)
	}
	for from := t; from.Before(end); {
		jump, ok := nextJump(from, end, o.loc)
		if !ok {
			return time.Time{}, false
		}
		_, before := jump.Add(-time.Second).In(o.loc).Zone()
		_, after := jump.In(o.loc).Zone()
		if after > before {
			// The wall-clock times [before jump, before jump + gap) never happened: ask the
			// schedule, in the zone's old offset, whether it wanted one of them.
			old := *o.s
			old.Location = time.FixedZone("", before)
			gap := time.Duration(after-before) * time.Second
			if want := old.Next(jump.Add(-time.Second)); !want.IsZero() && want.Before(jump.Add(gap)) && jump.After(t) {
				return jump, true
			}
		}
		from = jump
	}
	return time.Time{}, false
}

// nextJump returns the first instant after from, up to end, where loc's UTC offset changes.
// Offsets change at whole seconds and at most a few times a year: walk a day at a time (so
// two changes are not mistaken for none), then halve down to the second.
func nextJump(from, end time.Time, loc *time.Location) (time.Time, bool) {
	lo := from.Truncate(time.Second)
	_, start := lo.In(loc).Zone()
	changed := func(t time.Time) bool { _, off := t.In(loc).Zone(); return off != start }
	for {
		hi := lo.Add(24 * time.Hour)
		if hi.After(end) {
			hi = end
		}
		if changed(hi) {
			for hi.Sub(lo) > time.Second {
				if mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second); changed(mid) {
					hi = mid
				} else {
					lo = mid
				}
			}
			return hi, true
		}
		if !hi.Before(end) {
			return time.Time{}, false
		}
		lo = hi
	}
}

func wall(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04:05") }

// NudgeSchedule is schedule.nudge corrected by the calendar: never on a holiday, and on a
// make-up working day (调休上班) at the cron's time of day even when the cron skips that
// weekday. Without a calendar the cron alone decides.
func NudgeSchedule(spec string, cal *config.Calendar, loc *time.Location) (cron.Schedule, error) {
	orig, err := Schedule(spec, loc)
	if err != nil || cal == nil || cal.Empty() {
		return orig, err
	}
	everyDay := orig
	if fields := strings.Fields(spec); len(fields) >= 5 && !strings.HasPrefix(spec, "@") {
		fields[len(fields)-1] = "*" // the weekday field is the last, with or without seconds
		if everyDay, err = Schedule(strings.Join(fields, " "), loc); err != nil {
			return nil, err
		}
	}
	return &workdays{orig: orig, everyDay: everyDay, cal: cal, loc: loc}, nil
}

type workdays struct {
	orig, everyDay cron.Schedule
	cal            *config.Calendar
	loc            *time.Location
}

// Next walks the every-day times and keeps those on a working day: a day the cron itself
// fires on that is not a holiday, or a make-up working day.
func (w *workdays) Next(t time.Time) time.Time {
	for i := 0; i < 5000; i++ { // five thousand days: a schedule that never fires ends here
		t = w.everyDay.Next(t)
		if t.IsZero() {
			return t
		}
		day := t.In(w.loc)
		switch {
		case w.cal.IsHoliday(day):
		case w.cal.IsWorkday(day), w.orig.Next(t.Add(-time.Second)).Equal(t):
			return t
		}
	}
	return time.Time{}
}

// Ticks lists the times a schedule fires in (from, to], oldest first.
func Ticks(s cron.Schedule, from, to time.Time) []time.Time {
	var out []time.Time
	for t := s.Next(from); !t.IsZero() && !t.After(to); t = s.Next(t) {
		out = append(out, t)
	}
	return out
}
