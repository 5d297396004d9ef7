package scheduler

import (
	"time"

	"github.com/robfig/cron/v3"

	"github.com/duban/duban/config"
)

// Event is one scheduled moment of a simulation: a nudge tick with what it would send, or a
// digest day.
type Event struct {
	At          time.Time
	Digest      bool
	Nudges      map[string][]Due // by department
	Escalations []Escalation
	Unbound     Unbound // what the supervisors hear of departments without a chat, if Key is set
}

// Simulate runs the policy over (from, to] as the daemon would — at every tick of the nudge
// schedule (the calendar applied) and every digest — starting from st and marking what it
// would send as sent. Unless st was told otherwise (SetBound), every department is taken to
// have a chat, as `duban plan` assumes; one without would get its items once it is bound.
// emit is called for every event, in order.
func Simulate(c *config.Config, p *config.Plan, st *State, from, to time.Time, emit func(Event)) error {
	nudge, err := NudgeSchedule(c.Schedule.Nudge, &c.Calendar, c.Location)
	if err != nil {
		return err
	}
	digest, err := Schedule(c.Schedule.Digest, c.Location)
	if err != nil {
		return err
	}
	s := SettingsFrom(c)
	next := func(sched cron.Schedule, t time.Time) time.Time {
		n := sched.Next(t)
		if n.IsZero() || n.After(to) {
			return time.Time{}
		}
		return n
	}
	tn, td := next(nudge, from), next(digest, from)
	for !tn.IsZero() || !td.IsZero() {
		if !td.IsZero() && (tn.IsZero() || !td.After(tn)) {
			emit(Event{At: td, Digest: true})
			td = next(digest, td)
			continue
		}
		d := Decide(p, st, s, tn)
		ev := Event{At: tn, Nudges: map[string][]Due{}, Escalations: d.Escalations, Unbound: d.Unbound}
		for _, n := range d.Nudges {
			ev.Nudges[n.Department] = append(ev.Nudges[n.Department], n)
			st.MarkSent(n.Key, tn)
		}
		for _, e := range d.Escalations {
			st.MarkSent(e.Key, tn)
		}
		if d.Unbound.Key != "" {
			st.MarkSent(d.Unbound.Key, tn)
		}
		if len(d.Nudges) > 0 || len(d.Escalations) > 0 || d.Unbound.Key != "" {
			emit(ev)
		}
		tn = next(nudge, tn)
	}
	return nil
}
