// Package scheduler decides and sends what makes people act: nudges before and after
// deadlines, escalations to the supervisors, and the weekly digest.
//
// The reminder policy is one pure function, Decide(plan, state, settings, now), like
// robfig/cron's Schedule.Next(t): the daemon calls it on every tick and `duban plan` calls it
// over a simulated calendar, so nothing about it is written twice. Assess, from the same
// rules, gives the three-colour warning (三色督办) shown in nudges, /status, the digest and
// the export.
//
// What has been sent is the reminder ledger in the store, one key per reminder:
//
//	n|<task>|<department>|<period>|before:<span>     a stage before the deadline ("before:7d")
//	n|<task>|<department>|<period>|overdue:<n>       the n-th overdue reminder, one per overdue_every
//	n|<task>|<department>|<period>|stale:<t>:<n>     the n-th request for an update since t (unix seconds)
//	e|<task>|<department>|<period>|overdue           the supervisors told it is overdue
//	e|<task>|<department>|<period>|unanswered:<t>    the supervisors told it has not answered since t
//	u|<departments>|<items>                          the supervisors told how many departments have no chat and how many overdue items they hold
//	d|<week>|<recipient>                             a weekly digest ("2026-W49", "supervisors")
//	d|<week>|supervisors|chart, |book                the supervisors' digest's chart and workbook
//	t|<schedule>|<unix>                              a tick that ran, for catch-up after downtime
//
// <period> is the deadline's date: a yearly task opens a new period every year.
//
// A department without a chat is held back: its items produce no nudges and no item-level
// escalations, and claim no ledger key, so nothing is lost; the supervisors are told instead,
// in one line, how many such departments hold how many overdue items, once for each pair of
// numbers (the u| key). Once it is bound, the next tick nudges it and escalates its overdue
// items as for any department: that is the first tick on which they count.
package scheduler

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// Settings are the policy's knobs, from config.yaml's schedule section.
type Settings struct {
	RemindBefore  []time.Duration // longest first
	OverdueEvery  time.Duration
	StaleAfter    time.Duration
	WarnBefore    time.Duration
	EscalateAfter int
	BehindMargin  int // percentage points
	Location      *time.Location
}

// SettingsFrom reads the settings from a validated config.
func SettingsFrom(c *config.Config) Settings {
	s := Settings{
		OverdueEvery:  time.Duration(c.Schedule.OverdueEvery),
		StaleAfter:    time.Duration(c.Schedule.StaleAfter),
		WarnBefore:    time.Duration(c.Schedule.WarnBefore),
		EscalateAfter: c.Schedule.EscalateAfter,
		BehindMargin:  c.Schedule.BehindMargin,
		Location:      c.Location,
	}
	for _, d := range c.Schedule.RemindBefore {
		s.RemindBefore = append(s.RemindBefore, time.Duration(d))
	}
	slices.SortFunc(s.RemindBefore, func(a, b time.Duration) int { return int((b - a) / time.Second) })
	return s
}

// Pair is one department on one task: each is followed up on its own.
type Pair struct {
	Task       int
	Department string
}

// State is what the store knows, indexed for the policy: by task id (an integer hash), then
// a short list of the task's departments, so that a tick over a large plan does not hash a
// department name for every lookup.
type State struct {
	tasks map[int]*taskState
	// bound names the departments with a chat; nil until SetBound, and then every department
	// is taken to have one, as `duban plan` assumes.
	bound map[string]bool
	told  map[string]bool // u| keys in the ledger: summaries of unbound departments sent
}

type taskState struct {
	pairs []pairState
}

type pairState struct {
	department string
	latest     store.State
	reported   bool
	snoozed    time.Time
	sent       []sentEntry // few per pair, so a slice beats a map
}

type sentEntry struct {
	escalation bool
	period     string
	stage      string
	at         time.Time
}

// NewState indexes the store's latest states, reminder ledger and snoozes.
func NewState(latest []store.State, ledger map[string]time.Time, snoozes map[string]time.Time) *State {
	st := &State{tasks: make(map[int]*taskState, len(latest))}
	for _, s := range latest {
		st.SetLatest(s)
	}
	for key, at := range ledger {
		st.MarkSent(key, at)
	}
	for key, until := range snoozes {
		task, dept, ok := strings.Cut(key, "|")
		if id, err := strconv.Atoi(task); ok && err == nil {
			st.pair(id, dept, true).snoozed = until
		}
	}
	return st
}

// pair finds (or, with create, adds) a pair's state; nil when absent.
func (st *State) pair(task int, dept string, create bool) *pairState {
	ts := st.tasks[task]
	if ts == nil {
		if !create {
			return nil
		}
		ts = &taskState{}
		st.tasks[task] = ts
	}
	for i := range ts.pairs {
		if ts.pairs[i].department == dept {
			return &ts.pairs[i]
		}
	}
	if !create {
		return nil
	}
	ts.pairs = append(ts.pairs, pairState{department: dept})
	return &ts.pairs[len(ts.pairs)-1]
}

// SetLatest records a department's latest state on a task, as a new update would.
func (st *State) SetLatest(s store.State) {
	ps := st.pair(s.Task, s.Department, true)
	ps.latest, ps.reported = s, true
}

// SetBound tells the policy which departments have a chat (a chat id not 0). Before it is
// called, every department is taken to have one.
func (st *State) SetBound(chats map[string]int64) {
	st.bound = make(map[string]bool, len(chats))
	for dept, chat := range chats {
		if chat != 0 {
			st.bound[dept] = true
		}
	}
}

// MarkSent records a ledger key as sent at a time, as Confirm does in the store; `duban plan`
// uses it to simulate what would have gone out. Keys not about a pair or a summary (digests,
// ticks) are not the policy's business and are ignored.
func (st *State) MarkSent(key string, at time.Time) {
	if strings.HasPrefix(key, "u|") {
		if st.told == nil {
			st.told = map[string]bool{}
		}
		st.told[key] = true
		return
	}
	parts := strings.SplitN(key, "|", 5)
	if len(parts) == 5 && (parts[0] == "n" || parts[0] == "e") {
		if id, err := strconv.Atoi(parts[1]); err == nil {
			ps := st.pair(id, parts[2], true)
			ps.sent = append(ps.sent, sentEntry{escalation: parts[0] == "e", period: parts[3], stage: parts[4], at: at})
		}
	}
}

// wasSent looks through one pair's ledger entries. The stage comes as bytes, so that the
// policy can build it in a buffer and look it up without allocating.
func wasSent(entries []sentEntry, escalation bool, period string, stage []byte) bool {
	for _, e := range entries {
		if e.escalation == escalation && e.period == period && e.stage == string(stage) {
			return true
		}
	}
	return false
}

// lastNudge is when a pair was last nudged, zero if never.
func lastNudge(entries []sentEntry) time.Time {
	var last time.Time
	for _, e := range entries {
		if !e.escalation && e.at.After(last) {
			last = e.at
		}
	}
	return last
}

// countPrefix counts a pair's nudges in a period whose stage starts with prefix.
func countPrefix(entries []sentEntry, period string, prefix []byte) int {
	n := 0
	for _, e := range entries {
		if !e.escalation && e.period == period && strings.HasPrefix(e.stage, string(prefix)) {
			n++
		}
	}
	return n
}

// nudgesSince counts the nudges among a pair's entries sent after t, in any period.
func nudgesSince(entries []sentEntry, t time.Time) int {
	n := 0
	for _, e := range entries {
		if !e.escalation && e.at.After(t) {
			n++
		}
	}
	return n
}

// Color is the three-colour warning (三色督办).
type Color string

const (
	None   Color = ""
	Blue   Color = "blue"   // the deadline is within warn_before
	Yellow Color = "yellow" // behind schedule, or nudges unanswered
	Red    Color = "red"    // overdue
)

// Assessment is where one department stands on one task now.
type Assessment struct {
	Done         bool
	Start        time.Time // of the current period; zero when the plan gives none
	Deadline     time.Time // of the current period
	Period       string    // the deadline's date, which keys the ledger
	DaysLeft     int       // calendar days; negative: overdue
	Overdue      bool
	Expected     int  // percent of the span elapsed (序时进度), -1 without a start
	Reported     int  // the last percent reported, -1 if none
	Behind       bool // Reported trails Expected by more than the margin
	Unanswered   int  // nudges since the department last reported
	SnoozedUntil time.Time
	LastReport   time.Time // zero: never
	Color        Color
	HasReported  bool
	Status       store.Status
	Percent      *int
	LastText     string
	LastReporter string
}

// period is a task's current period at a tick: worked out once per task, shared by its
// departments.
type period struct {
	start, deadline time.Time
	prev            time.Time // the previous deadline of a recurring task, else zero
	key             string    // the deadline's date, which keys the ledger
	daysLeft        int
	overdue         bool
}

// periodOf returns the task's period that now falls in: for a recurring task (yearly, or a
// standing task reviewed every so many days) the first deadline not yet passed (or the last
// one, once until has passed). today is now's day number in loc
// (dayNumber), worked out once per tick rather than once per task.
func periodOf(t *config.Task, now time.Time, loc *time.Location, today int) period {
	p := period{start: t.Start, deadline: t.Deadline}
	if t.Recurrence == "yearly" || t.Every > 0 {
		days := int(t.Every / (24 * time.Hour))
		for k := 1; now.After(p.deadline); k++ {
			next := t.Deadline.AddDate(k, 0, 0)
			if days > 0 {
				// Calendar days in the plan's zone, so the deadline stays the day's last instant.
				next = endOfDay(t.Deadline.In(loc).AddDate(0, 0, k*days), loc)
			}
			if !t.Until.IsZero() && next.After(t.Until) {
				break
			}
			p.start, p.prev, p.deadline = p.deadline, p.deadline, next
		}
	}
	y, m, d := p.deadline.In(loc).Date()
	var buf [10]byte
	b := strconv.AppendInt(buf[:0], int64(y), 10)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	p.key = string(b)
	p.daysLeft = civilDay(y, m, d) - today
	p.overdue = now.After(p.deadline)
	return p
}

// endOfDay is the last instant of t's day in loc, as config reads a deadline date.
func endOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Nanosecond)
}

// dayNumber counts calendar days in loc, so that days between dates are a subtraction (the
// same count as config.DaysUntil).
func dayNumber(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return civilDay(y, m, d)
}

func civilDay(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Assess is where dept stands on task at now. Done means done for the current period: a
// yearly task's done from last year does not count this year.
func Assess(task *config.Task, dept string, st *State, s Settings, now time.Time) Assessment {
	return assess(st.pair(task.ID, dept, false), periodOf(task, now, s.Location, dayNumber(now, s.Location)), s, now)
}

// assess is Assess with the task's period worked out and the pair's state looked up (nil: the
// store knows nothing of it), as Decide calls it for every pair of the plan.
func assess(ps *pairState, per period, s Settings, now time.Time) Assessment {
	if ps == nil {
		ps = &noState
	}
	a := Assessment{
		Start: per.start, Deadline: per.deadline, Period: per.key, DaysLeft: per.daysLeft, Overdue: per.overdue,
		Expected: -1, Reported: -1, Status: store.StatusNotStarted,
	}
	if latest := ps.latest; ps.reported {
		a.HasReported = true
		a.LastReport = latest.Last.At
		a.LastText, a.LastReporter = latest.Last.Text, latest.Last.UserName
		// A yearly task's status counts only if it was reported in this period; a note this
		// year does not carry last year's 已完成 over.
		if per.prev.IsZero() || latest.StatusAt.After(per.prev) {
			a.Status, a.Percent = latest.Status, latest.Percent
			if latest.Percent != nil {
				a.Reported = *latest.Percent
			}
		}
	}
	a.Done = a.Status == store.StatusDone
	if a.Done {
		a.Reported = 100
		return a
	}
	if ps.snoozed.After(now) {
		a.SnoozedUntil = ps.snoozed
	}
	a.Unanswered = nudgesSince(ps.sent, a.LastReport)
	if !per.start.IsZero() && per.deadline.After(per.start) {
		elapsed := float64(now.Sub(per.start)) / float64(per.deadline.Sub(per.start))
		a.Expected = int(min(max(elapsed, 0), 1)*100 + 0.5)
		reported := a.Reported
		if reported < 0 && a.Status == store.StatusNotStarted {
			reported = 0 // nothing reported is nothing done; in progress without a figure is not judged
		}
		a.Behind = reported >= 0 && a.Expected-reported > s.BehindMargin
	}
	switch {
	case a.Overdue:
		a.Color = Red
	case a.Behind || a.Unanswered >= s.EscalateAfter:
		a.Color = Yellow
	case within(a, now, s.WarnBefore):
		a.Color = Blue
	}
	return a
}

// within reports whether the deadline is no further than span away. A span of whole days
// counts calendar days, as people do: "7d" holds from the day that shows 剩余 7 天.
func within(a Assessment, now time.Time, span time.Duration) bool {
	const day = 24 * time.Hour
	if span%day == 0 {
		return a.DaysLeft <= int(span/day)
	}
	return a.Deadline.Sub(now) <= span
}

// Stage is what a nudge is about.
type Stage string

const (
	StageBefore  Stage = "before"
	StageOverdue Stage = "overdue"
	StageStale   Stage = "stale"
)

// Due is one nudge to send: an item of its department's message.
type Due struct {
	Pair
	Task        *config.Task
	Stage       Stage
	Label       string // "7d", "2" (the second overdue reminder), …
	Key         string // its ledger key
	*Assessment        // shared by the pair's nudge and escalations: a tick over a large plan copies pointers
}

// Escalation is one item for the supervisors chat.
type Escalation struct {
	Pair
	Task *config.Task
	Kind string // "overdue" or "unanswered"
	Key  string
	*Assessment
}

// Decision is what one tick sends.
type Decision struct {
	Nudges      []Due
	Escalations []Escalation
	Unbound     Unbound
}

// Unbound sums up what a tick holds back for departments without a chat.
type Unbound struct {
	Departments int    // departments without a chat that hold open items
	Overdue     int    // their open overdue items (task × department)
	Held        int    // their nudges that would be due if they had a chat
	Key         string // the summary's ledger key, "u|<departments>|<overdue>"; empty when there is no overdue item or it was told
}

// Decide is the reminder policy: for every open (task, department) of the plan at now, the
// nudge due, if any, and what the supervisors must hear. Each pair gets at most one nudge a
// tick, the most pressing of:
//   - before the deadline, the latest remind_before stage that has passed, once (a department
//     that enters late gets that stage only, not every earlier one);
//   - once overdue, a reminder on the first tick after the deadline and then every
//     overdue_every, until it reports done (and the supervisors are told the first time);
//   - after stale_after without a report, a request for an update, and again each time
//     stale_after has passed since the department was last nudged.
//
// A department that has let escalate_after nudges go unanswered is named to the supervisors,
// once until it reports again. Done pairs get nothing; snoozed pairs get no nudges.
//
// A department without a chat (see SetBound) gets nothing of this: its pairs are only
// counted in Unbound, whose Key is set when they hold overdue items and the supervisors have
// not been told these numbers yet.
func Decide(plan *config.Plan, st *State, s Settings, now time.Time) Decision {
	var d Decision
	var held Decision    // what unbound departments would get: counted, then dropped
	var unbound []string // departments without a chat that hold open items; few
	today := dayNumber(now, s.Location)
	for _, task := range plan.Tasks {
		per := periodOf(task, now, s.Location, today)
		ts := st.tasks[task.ID]
		for _, dept := range task.Responsible {
			var ps *pairState
			if ts != nil {
				for i := range ts.pairs {
					if ts.pairs[i].department == dept {
						ps = &ts.pairs[i]
						break
					}
				}
			}
			if st.bound == nil || st.bound[dept] {
				decidePair(&d, task, per, dept, ps, s, now)
				continue
			}
			open, overdue := decidePair(&held, task, per, dept, ps, s, now)
			if !open {
				continue
			}
			if !slices.Contains(unbound, dept) {
				unbound = append(unbound, dept)
			}
			if overdue {
				d.Unbound.Overdue++
			}
			d.Unbound.Held += len(held.Nudges)
			held.Nudges, held.Escalations = held.Nudges[:0], held.Escalations[:0]
		}
	}
	d.Unbound.Departments = len(unbound)
	if d.Unbound.Overdue > 0 {
		if key := unboundKey(d.Unbound.Departments, d.Unbound.Overdue); !st.told[key] {
			d.Unbound.Key = key
		}
	}
	return d
}

// noState is a pair the store knows nothing of.
var noState pairState

// decidePair adds what one pair is due to d; open and overdue say where the pair stands.
func decidePair(d *Decision, task *config.Task, per period, dept string, ps *pairState, s Settings, now time.Time) (open, overdue bool) {
	p := Pair{task.ID, dept}
	a := assess(ps, per, s, now)
	if a.Done {
		return false, false
	}
	open, overdue = true, a.Overdue
	var heap *Assessment // one copy on the heap, made only for a pair with something due
	shared := func() *Assessment {
		if heap == nil {
			heap = new(Assessment)
			*heap = a
		}
		return heap
	}
	var entries []sentEntry
	if ps != nil {
		entries = ps.sent
	}
	var buf [48]byte // stage names are built here, so that checking the ledger allocates nothing
	due := func(stage Stage, label string) {
		d.Nudges = append(d.Nudges, Due{Pair: p, Task: task, Stage: stage, Label: label, Key: nudgeKey(p, a.Period, string(stage)+":"+label), Assessment: shared()})
	}
	escalate := func(kind string, stage []byte) {
		if !wasSent(entries, true, a.Period, stage) {
			d.Escalations = append(d.Escalations, Escalation{Pair: p, Task: task, Kind: kind, Key: escalationKey(p, a.Period, string(stage)), Assessment: shared()})
		}
	}
	if a.Overdue {
		escalate("overdue", append(buf[:0], "overdue"...)) // even when snoozed: the supervisors must know
	}
	if !a.SnoozedUntil.IsZero() {
		return
	}
	if a.Unanswered >= s.EscalateAfter {
		stage := append(buf[:0], "unanswered:"...)
		if !a.LastReport.IsZero() {
			stage = strconv.AppendInt(stage, a.LastReport.Unix(), 10)
		} else {
			stage = append(stage, '0')
		}
		escalate("unanswered", stage)
	}

	if a.Overdue {
		n := int64(now.Sub(a.Deadline)/s.OverdueEvery) + 1
		stage := strconv.AppendInt(append(buf[:0], "overdue:"...), n, 10)
		if !wasSent(entries, false, a.Period, stage) {
			due(StageOverdue, strconv.FormatInt(n, 10))
		}
		return // an overdue reminder already asks for an update
	}
	for i := len(s.RemindBefore) - 1; i >= 0; i-- { // shortest first: the latest stage passed
		if !within(a, now, s.RemindBefore[i]) {
			continue
		}
		label := config.Duration(s.RemindBefore[i]).String()
		if !wasSent(entries, false, a.Period, append(append(buf[:0], "before:"...), label...)) {
			due(StageBefore, label)
			return
		}
		break // that stage went out; the earlier, longer ones are past
	}
	base := a.LastReport // silence counts from the last report, or the period's start
	if a.Start.After(base) {
		base = a.Start
	}
	if base.IsZero() || s.StaleAfter <= 0 || now.Sub(base) < s.StaleAfter {
		return
	}
	// Any nudge asks for an update: ask again only stale_after after the last one.
	if last := lastNudge(entries); !last.IsZero() && now.Sub(last) < s.StaleAfter {
		return
	}
	stage := append(buf[:0], "stale:"...)
	stage = strconv.AppendInt(stage, base.Unix(), 10)
	stage = append(stage, ':')
	stage = strconv.AppendInt(stage, int64(countPrefix(entries, a.Period, stage)+1), 10)
	if !wasSent(entries, false, a.Period, stage) {
		due(StageStale, string(stage[len("stale:"):]))
	}
	return
}

func nudgeKey(p Pair, period, stage string) string {
	return "n|" + strconv.Itoa(p.Task) + "|" + p.Department + "|" + period + "|" + stage
}

func escalationKey(p Pair, period, stage string) string {
	return "e|" + strconv.Itoa(p.Task) + "|" + p.Department + "|" + period + "|" + stage
}

// unboundKey is the ledger key of the line summing up departments without a chat: one per
// pair of numbers, so the supervisors hear again only when a number changes.
func unboundKey(departments, overdue int) string {
	return "u|" + strconv.Itoa(departments) + "|" + strconv.Itoa(overdue)
}
