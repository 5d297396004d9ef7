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
		return onceByWallClock{ss, loc}, nil
	}
	return s, nil
}

// onceByWallClock fires a time of day once when daylight saving repeats it: robfig/cron
// fires 02:30 twice on the night the clocks go back. (The ledger would stop a second round of
// reminders anyway; this keeps `duban plan` and the logs honest.)
type onceByWallClock struct {
	s   cron.Schedule
	loc *time.Location
}

func (o onceByWallClock) Next(t time.Time) time.Time {
	for {
		n := o.s.Next(t)
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
