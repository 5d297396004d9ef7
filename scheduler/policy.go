// Package scheduler decides and sends what makes people act: nudges before and after
// deadlines, escalations to the supervisors, and the weekly digest.
//
// The reminder policy is one pure function, Decide(plan, state, settings, now), like
// robfig/cron's Schedule.Next(t): `duban plan` calls it over a simulated calendar and the
// daemon runs the same walk on every tick, streamed into a compact plan (PlanTick), so
// nothing about it is written twice. Assess, from the same
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
	"cmp"
	"math"
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
// department name for every lookup. The ledger's keys are parsed once, here, into numbers a
// tick compares without building a key.
type State struct {
	// dense holds the tasks whose ids are small (plans number tasks 1, 2, 3, …), indexed by
	// id: a tick's lookups are then array reads; tasks holds the others.
	dense []*taskState
	tasks map[int]*taskState
	count int // tasks indexed
	// bound names the departments with a chat; nil until SetBound, and then every department
	// is taken to have one, as `duban plan` assumes.
	bound map[string]bool
	told  map[string]bool // u| keys in the ledger: summaries of unbound departments sent

	// taskSlab, pairSlab and sentSlab hand out the index's entries a block at a time: a plan of
	// 100,000 tasks costs a few allocations, not one per task and per department.
	taskSlab []taskState
	pairSlab []pairState
	sentSlab []sentEntry

	// labels number the before:<label> stages in the ledger ("7d"), which entries name by
	// number, so that an entry holds no pointer for the collector to follow.
	labelNames []string         // by number - 1
	labels     map[string]int32 // once there are more than a few

	// depts are the departments seen, each once: a pair's name is one of these, not a view of
	// the ledger key it came from, so that comparing names reads memory already in cache.
	depts     []string
	deptIndex map[string]uint16 // once there are more than a few

	ahead byte // what addLedger read ahead, kept so that the reads are not left out
}

// intern is dept's index in depts, added if new; false if there are too many to number.
func (st *State) intern(dept string) (uint16, bool) {
	if st.deptIndex == nil {
		for i, d := range st.depts {
			if d == dept {
				return uint16(i), true
			}
		}
	} else if i, ok := st.deptIndex[dept]; ok {
		return i, true
	}
	if len(st.depts) > math.MaxUint16 {
		return 0, false
	}
	i := uint16(len(st.depts))
	st.depts = append(st.depts, strings.Clone(dept))
	if st.deptIndex != nil {
		st.deptIndex[st.depts[i]] = i
	} else if len(st.depts) > 8 {
		st.deptIndex = make(map[string]uint16, 2*len(st.depts))
		for j, d := range st.depts {
			st.deptIndex[d] = uint16(j)
		}
	}
	return i, true
}

// labelID is the number of a before stage's label, added with add; -1 if absent. 0 is "".
func (st *State) labelID(label string, add bool) int32 {
	if label == "" {
		return 0
	}
	if st.labels == nil {
		for i, l := range st.labelNames { // a handful: cheaper than hashing
			if l == label {
				return int32(i + 1)
			}
		}
	} else if id, ok := st.labels[label]; ok {
		return id
	}
	if !add {
		return -1
	}
	st.labelNames = append(st.labelNames, strings.Clone(label))
	id := int32(len(st.labelNames))
	if st.labels != nil {
		st.labels[st.labelNames[id-1]] = id
	} else if len(st.labelNames) > 8 {
		st.labels = make(map[string]int32, 2*len(st.labelNames))
		for i, l := range st.labelNames {
			st.labels[l] = int32(i + 1)
		}
	}
	return id
}

type taskState struct {
	pairs []pairState
}

type pairState struct {
	department string
	latest     *store.State // nil: never reported
	snoozed    time.Time
	sent       []sentEntry // few per pair, so a slice beats a map
}

// stageKind is a ledger stage, parsed.
type stageKind uint8

const (
	kindOther      stageKind = iota // a stage no decision asks about; still a nudge sent
	kindBefore                      // n: before:<label>
	kindOverdue                     // n: overdue:<n>; e: overdue
	kindStale                       // n: stale:<t>:<n>
	kindStaleOdd                    // n: stale:<t>:<anything else>, counted among stale:<t>:
	kindUnanswered                  // e: unanswered:<t>
)

// sentEntry is one ledger key of a pair, parsed: period is the deadline's day number (noDay
// when the key's period is not a date as periodOf writes it, so it matches nothing), t and n
// the stage's numbers. task and dept say whose it is, for NewState's sort; they fill what
// would be padding.
type sentEntry struct {
	at         int64 // when it was sent (nanos), as instant compares it
	n          int64
	t          int64
	period     int32
	label      int32 // before:<label>, its number in State.labels (0: none)
	task       int32
	dept       uint16 // in State.depts
	escalation bool
	kind       stageKind
}

const noDay = math.MinInt32

// NewState indexes the store's latest states, reminder ledger and snoozes. It keeps pointers
// into latest, which the caller leaves as it is.
func NewState(latest []store.State, ledger store.Ledger, snoozes map[string]time.Time) *State {
	// Each task has a state or a ledger key or more: sized so that the map seldom grows.
	st := &State{}
	st.dense = make([]*taskState, 0, len(latest)+len(ledger)/3+len(snoozes)+1)
	for i := range latest {
		ps := st.pair(latest[i].Task, latest[i].Department, true)
		ps.latest = &latest[i]
	}
	st.addLedger(ledger)
	for key, until := range snoozes {
		task, dept, ok := strings.Cut(key, "|")
		if id, err := strconv.Atoi(task); ok && err == nil {
			st.pair(id, dept, true).snoozed = until
		}
	}
	return st
}

// addLedger indexes a whole ledger. Its order is the store's, not the tasks', so placing each
// key as it comes would touch a random task, pair and block of entries for every key (at
// 450,000 keys, most of NewState's time went in cache misses): the keys are parsed first into
// one slice, then put in task order by a counting sort, so that each pair's entries are one
// run of the sorted slice, which the pair takes as it is.
func (st *State) addLedger(ledger store.Ledger) {
	if len(ledger) == 0 {
		return
	}
	rows := make([]sentEntry, 0, len(ledger))
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	// The keys' bytes may lie anywhere in memory (a Redis store's come out of a map) and are
	// not in cache: they are taken a batch at a time, and each batch's bytes are read once in a
	// loop that does nothing else, where the loads overlap, before they are parsed.
	var ahead byte
	parse := func(batch []store.LedgerEntry) {
		for i := range batch {
			if key := batch[i].Key; key != "" {
				ahead += key[0] + key[len(key)-1]
			}
		}
		for i := range batch {
			key := batch[i].Key
			if key == "" {
				continue
			}
			if strings.HasPrefix(key, "u|") {
				st.markTold(key)
				continue
			}
			var e sentEntry
			id, dept, ok := st.parseKey(key, instant(batch[i].At), &e)
			if !ok {
				continue
			}
			d, fits := st.intern(dept)
			if id < math.MinInt32 || id > math.MaxInt32 || !fits {
				st.addEntry(id, dept, e) // cannot be numbered for the sort: placed on its own
				continue
			}
			e.task, e.dept = int32(id), d
			lo, hi = min(lo, e.task), max(hi, e.task)
			rows = append(rows, e)
		}
	}
	for batch := range slices.Chunk(ledger, readAhead) {
		parse(batch)
	}
	st.ahead = ahead
	if len(rows) == 0 {
		return
	}
	var sorted []sentEntry
	if span := int64(hi) - int64(lo) + 1; span <= 4*int64(len(rows))+1024 {
		// A counting sort into a second slice: its writes go to random places but wait for
		// nothing (sorting in place chains one cache miss to the next, and took half again as
		// long).
		sorted = make([]sentEntry, len(rows))
		at := make([]int32, span+1)
		for i := range rows {
			at[rows[i].task-lo+1]++
		}
		for i := 1; i < len(at); i++ {
			at[i] += at[i-1]
		}
		for i := range rows {
			j := &at[rows[i].task-lo]
			sorted[*j] = rows[i]
			*j++
		}
	} else {
		sorted = rows
		slices.SortFunc(sorted, func(a, b sentEntry) int { return cmp.Compare(a.task, b.task) })
	}
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].task == sorted[i].task {
			j++
		}
		run := sorted[i:j]
		sortByDept(run)
		for k := 0; k < len(run); {
			l := k + 1
			for l < len(run) && run[l].dept == run[k].dept {
				l++
			}
			ps := st.pair(int(run[k].task), st.depts[run[k].dept], true)
			if ps.sent == nil {
				ps.sent = run[k:l:l] // full: an append (MarkSent) moves it out
			} else {
				ps.sent = append(ps.sent, run[k:l]...)
			}
			k = l
		}
		i = j
	}
}

// readAhead is how many keys addLedger reads at once.
const readAhead = 128

// sortByDept puts a task's entries in department order, stable: they are few, so by
// insertion, unless there are many.
func sortByDept(run []sentEntry) {
	sorted := true
	for i := 1; i < len(run) && sorted; i++ {
		sorted = run[i-1].dept <= run[i].dept
	}
	if sorted {
		return
	}
	if len(run) > 32 {
		slices.SortStableFunc(run, func(a, b sentEntry) int { return cmp.Compare(a.dept, b.dept) })
		return
	}
	for i := 1; i < len(run); i++ {
		for j := i; j > 0 && run[j].dept < run[j-1].dept; j-- {
			run[j], run[j-1] = run[j-1], run[j]
		}
	}
}

func (st *State) markTold(key string) {
	if st.told == nil {
		st.told = map[string]bool{}
	}
	st.told[key] = true
}

// pair finds (or, with create, adds) a pair's state; nil when absent.
func (st *State) pair(task int, dept string, create bool) *pairState {
	ts := st.task(task)
	if ts == nil {
		if !create {
			return nil
		}
		if len(st.taskSlab) == cap(st.taskSlab) {
			st.taskSlab = make([]taskState, 0, slabSize(st.count))
		}
		st.taskSlab = st.taskSlab[:len(st.taskSlab)+1]
		ts = &st.taskSlab[len(st.taskSlab)-1]
		st.addTask(task, ts)
	}
	for i := range ts.pairs {
		if ts.pairs[i].department == dept {
			return &ts.pairs[i]
		}
	}
	if !create {
		return nil
	}
	if ts.pairs == nil {
		// Room for three departments from the shared block; a fourth moves the task's out.
		ts.pairs = carve(&st.pairSlab, 3, slabSize(st.count))
	}
	if d, ok := st.intern(dept); ok {
		dept = st.depts[d]
	}
	ts.pairs = append(ts.pairs, pairState{department: dept})
	return &ts.pairs[len(ts.pairs)-1]
}

// task is a task's state, nil if none.
func (st *State) task(id int) *taskState {
	if uint(id) < uint(len(st.dense)) {
		if ts := st.dense[id]; ts != nil {
			return ts
		}
	}
	if len(st.tasks) == 0 {
		return nil
	}
	return st.tasks[id]
}

// addTask indexes a new task's state: by id in dense while ids stay within about twice the
// tasks expected (so that a stray large id does not make a huge array), else in the map. A
// task stays where it was put.
func (st *State) addTask(id int, ts *taskState) {
	st.count++
	if id >= 0 && id <= 2*max(st.count, cap(st.dense))+1024 {
		if id >= len(st.dense) {
			st.dense = slices.Grow(st.dense, id+1-len(st.dense))[:id+1]
		}
		st.dense[id] = ts
		return
	}
	if st.tasks == nil {
		st.tasks = map[int]*taskState{}
	}
	st.tasks[id] = ts
}

// slabSize is the next block of an index that holds n entries: it grows with the index, from
// a few entries for a test's plan to thousands for a province's.
func slabSize(n int) int { return min(max(n/2, 8), 8192) }

// SetLatest records a department's latest state on a task, as a new update would.
func (st *State) SetLatest(s store.State) {
	st.pair(s.Task, s.Department, true).latest = &s
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
		st.markTold(key)
		return
	}
	var e sentEntry
	if id, dept, ok := st.parseKey(key, instant(at), &e); ok {
		st.addEntry(id, dept, e)
	}
}

// addEntry adds one parsed entry to its pair.
func (st *State) addEntry(id int, dept string, e sentEntry) {
	ps := st.pair(id, dept, true)
	if ps.sent == nil {
		// Room for two entries from the shared block: a third moves the pair's out.
		ps.sent = carve(&st.sentSlab, 2, slabSize(st.count))
	}
	ps.sent = append(ps.sent, e)
}

// parseKey reads a pair's ledger key, "<n|e>|<task>|<department>|<period>|<stage>", into e;
// false for any other key. It reads the key once, left to right, and allocates nothing: a
// steady tick's ledger has hundreds of thousands of keys.
func (st *State) parseKey(key string, at int64, e *sentEntry) (task int, dept string, ok bool) {
	if len(key) < 2 || key[1] != '|' || key[0] != 'n' && key[0] != 'e' {
		return 0, "", false
	}
	rest := key[2:]
	// The task: plain digits, as the policy writes it, read as they are scanned.
	i := 0
	for ; i < len(rest) && i < 18 && rest[i]-'0' <= 9; i++ {
		task = task*10 + int(rest[i]-'0')
	}
	if i == 0 || i == len(rest) || rest[i] != '|' {
		// Not plain digits (a sign, or too long): as strconv.Atoi reads them.
		if i = strings.IndexByte(rest, '|'); i < 0 {
			return 0, "", false
		}
		if task, ok = atoi(rest[:i]); !ok {
			return 0, "", false
		}
	}
	rest = rest[i+1:]
	if i = strings.IndexByte(rest, '|'); i < 0 {
		return 0, "", false
	}
	dept, rest = rest[:i], rest[i+1:]
	// The period: "2026-12-31" as periodOf writes it, else whatever comes before the next |.
	var period string
	if len(rest) > 10 && rest[10] == '|' && isDate(rest[:10]) {
		period, rest = rest[:10], rest[11:]
	} else {
		if i = strings.IndexByte(rest, '|'); i < 0 {
			return 0, "", false
		}
		period, rest = rest[:i], rest[i+1:]
	}
	st.parseEntry(e, key[0] == 'e', period, rest, at)
	return task, dept, true
}

// isDate reports whether s is shaped "dddd-dd-dd".
func isDate(s string) bool {
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i]-'0' > 9 {
			return false
		}
	}
	return len(s) == 10
}

// atoi is strconv.Atoi, without its error for the usual case of plain digits.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 18 {
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			n, err := strconv.Atoi(s) // a sign: Atoi takes it
			return n, err == nil
		}
		n = n*10 + int(c)
	}
	return n, true
}

// parseEntry reads a pair's ledger key's period and stage. A number is taken only as the
// policy writes it (canonical decimal), so that an entry matches exactly the keys it matched
// as a string.
func (st *State) parseEntry(e *sentEntry, escalation bool, period, stage string, at int64) {
	*e = sentEntry{escalation: escalation, period: parseDay(period), at: at}
	if len(stage) == 0 {
		return
	}
	if escalation {
		switch {
		case stage == "overdue":
			e.kind = kindOverdue
		case strings.HasPrefix(stage, "unanswered:"):
			if t, ok := canonicalInt(stage[len("unanswered:"):]); ok {
				e.kind, e.t = kindUnanswered, t
			}
		}
		return
	}
	switch stage[0] {
	case 'b':
		if strings.HasPrefix(stage, "before:") {
			e.kind, e.label = kindBefore, st.labelID(stage[len("before:"):], true)
		}
	case 'o':
		if strings.HasPrefix(stage, "overdue:") {
			if n, ok := canonicalInt(stage[len("overdue:"):]); ok {
				e.kind, e.n = kindOverdue, n
			}
		}
	case 's':
		if !strings.HasPrefix(stage, "stale:") {
			break
		}
		ts, ns, found := strings.Cut(stage[len("stale:"):], ":")
		t, ok := canonicalInt(ts)
		if !found || !ok {
			break
		}
		e.kind, e.t = kindStaleOdd, t
		if n, ok := canonicalInt(ns); ok {
			e.kind, e.n = kindStale, n
		}
	}
}

// canonicalInt parses s if strconv.AppendInt would write it so: an optional minus, then
// digits with no leading zero ("0" itself, but not "-0").
func canonicalInt(s string) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || digits[0] == '0' && (len(digits) > 1 || neg) {
		return 0, false
	}
	if len(digits) > 18 { // may not fit: let strconv say
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		var buf [20]byte
		return n, string(strconv.AppendInt(buf[:0], n, 10)) == s
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseDay is the day number of a period as periodOf writes it, noDay for anything else.
func parseDay(s string) int32 {
	if len(s) < len("0-01-01") || s[len(s)-6] != '-' || s[len(s)-3] != '-' {
		return noDay
	}
	var y int64
	ok := false
	if len(s) == 10 && s[0] >= '1' && s[0] <= '9' && s[1]-'0' <= 9 && s[2]-'0' <= 9 && s[3]-'0' <= 9 {
		y, ok = int64(s[0]-'0')*1000+int64(s[1]-'0')*100+int64(s[2]-'0')*10+int64(s[3]-'0'), true // the usual year
	} else {
		y, ok = canonicalInt(s[:len(s)-6])
	}
	m, d := twoDigits(s[len(s)-5:]), twoDigits(s[len(s)-2:])
	if !ok || m < 1 || m > 12 || d < 1 || y < -1_000_000 || y > 1_000_000 || d > daysIn(int(y), time.Month(m)) {
		return noDay // "2026-02-30" is no date periodOf writes
	}
	if y >= tableFrom && y < tableFrom+int64(len(yearStart)) {
		return yearStart[y-tableFrom] + monthStart[leapIndex(int(y))][m-1] + int32(d) - 1
	}
	return int32(civilDay(int(y), time.Month(m), d))
}

// The day numbers of the years a ledger's periods fall in, and of the months in a year:
// parseDay reads one date per key, and civilDay's divisions were a fifth of a key's parse.
const tableFrom = 1970

var (
	yearStart  [256]int32 // civilDay(tableFrom+i, 1, 1)
	monthStart [2][12]int32
)

func init() {
	for i := range yearStart {
		yearStart[i] = int32(civilDay(tableFrom+i, time.January, 1))
	}
	for leap := range monthStart {
		y := 2025 + leap*3 // 2025 is not a leap year, 2028 is
		for m := range monthStart[leap] {
			monthStart[leap][m] = int32(civilDay(y, time.Month(m+1), 1) - civilDay(y, time.January, 1))
		}
	}
}

func leapIndex(y int) int {
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 1
	}
	return 0
}

// daysIn is the number of days of month m of year y (proleptic Gregorian).
func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func twoDigits(s string) int {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// wasSent looks through one pair's ledger entries for a stage of a period.
func wasSent(entries []sentEntry, escalation bool, kind stageKind, period int32, n, t int64, label int32) bool {
	for i := range entries {
		e := &entries[i]
		if e.escalation == escalation && e.kind == kind && e.period == period && e.n == n && e.t == t && e.label == label {
			return true
		}
	}
	return false
}

// lastNudge is when a pair was last nudged, zero if never.
func lastNudge(entries []sentEntry) int64 {
	last := never
	for i := range entries {
		if e := &entries[i]; !e.escalation && e.at > last {
			last = e.at
		}
	}
	return last
}

// never is the zero time as an instant: before every other.
const never int64 = math.MinInt64

// instant is t in nanoseconds since 1970, never for the zero time, so that the ledger's
// times compare as integers (time.Time.After, for the years a ledger holds: 1678–2262).
func instant(t time.Time) int64 {
	if t.IsZero() {
		return never
	}
	return t.UnixNano()
}

// countStale counts a pair's requests for an update since t in a period (stale:<t>:…).
func countStale(entries []sentEntry, period int32, t int64) int {
	n := 0
	for i := range entries {
		e := &entries[i]
		if !e.escalation && e.period == period && (e.kind == kindStale || e.kind == kindStaleOdd) && e.t == t {
			n++
		}
	}
	return n
}

// nudgesSince counts the nudges among a pair's entries sent after t, in any period.
func nudgesSince(entries []sentEntry, t int64) int {
	n := 0
	for i := range entries {
		if e := &entries[i]; !e.escalation && e.at > t {
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
	day             int32     // the deadline's day number, as the ledger's entries are parsed
	y               int       // and the deadline's date
	m               time.Month
	d               int
	daysLeft        int
	overdue         bool
	expected        int   // percent of the span elapsed, -1 without a start; unknown: not worked out yet
	overdueN        int64 // the overdue reminder due, worked out by the first pair that asks
}

const unknown = -2

// periodOf returns the task's period that now falls in: for a recurring task (yearly, or a
// standing task reviewed every so many days) the first deadline not yet passed (or the last
// one, once until has passed). today is now's day number in loc
// (dayNumber), worked out once per tick rather than once per task.
func periodOf(t *config.Task, now time.Time, loc *time.Location, today int) period {
	p := periodAt(t, now, loc, today)
	p.key = string(appendDate(nil, p.y, p.m, p.d))
	return p
}

// periodAt is periodOf without the key, which a tick builds only for a task with something due.
func periodAt(t *config.Task, now time.Time, loc *time.Location, today int) period {
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
	p.y, p.m, p.d = y, m, d
	p.day = int32(civilDay(y, m, d))
	p.daysLeft = int(p.day) - today
	p.overdue = now.After(p.deadline)
	p.expected = unknown
	return p
}

// expectedAt is the percent of the period's span elapsed at now (序时进度), -1 without a start:
// worked out by the first pair of a task that needs it.
func (p *period) expectedAt(now time.Time) int {
	if p.expected == unknown {
		p.expected = -1
		if !p.start.IsZero() && p.deadline.After(p.start) {
			elapsed := float64(now.Sub(p.start)) / float64(p.deadline.Sub(p.start))
			p.expected = int(min(max(elapsed, 0), 1)*100 + 0.5)
		}
	}
	return p.expected
}

// appendDate writes a date as the ledger's period: "2026-12-31".
func appendDate(b []byte, y int, m time.Month, d int) []byte {
	b = strconv.AppendInt(b, int64(y), 10)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
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

// civilDay is the number of days from 1970-01-01 to y-m-d (proleptic Gregorian), as
// time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400 is for a valid date, by integer
// arithmetic (H. Hinnant's days_from_civil): a tick works it out for every task.
func civilDay(y int, m time.Month, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (int(m) + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Assess is where dept stands on task at now. Done means done for the current period: a
// yearly task's done from last year does not count this year.
func Assess(task *config.Task, dept string, st *State, s Settings, now time.Time) Assessment {
	return assess(st.pair(task.ID, dept, false), periodOf(task, now, s.Location, dayNumber(now, s.Location)), s, now)
}

// assess is Assess with the task's period worked out and the pair's state looked up (nil: the
// store knows nothing of it).
func assess(ps *pairState, per period, s Settings, now time.Time) Assessment {
	var a Assessment
	assessInto(&a, ps, &per, &s, now)
	return a
}

// assessInto is assess writing into a, as a tick does for every pair with something due.
func assessInto(a *Assessment, ps *pairState, per *period, s *Settings, now time.Time) {
	if ps == nil {
		ps = &noState
	}
	*a = Assessment{
		Start: per.start, Deadline: per.deadline, Period: per.key, DaysLeft: per.daysLeft, Overdue: per.overdue,
		Expected: -1, Reported: -1, Status: store.StatusNotStarted,
	}
	if latest := ps.latest; latest != nil {
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
		return
	}
	if ps.snoozed.After(now) {
		a.SnoozedUntil = ps.snoozed
	}
	a.Unanswered = nudgesSince(ps.sent, instant(a.LastReport))
	if expected := per.expectedAt(now); expected >= 0 {
		a.Expected = expected
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
}

// within reports whether the deadline is no further than span away. A span of whole days
// counts calendar days, as people do: "7d" holds from the day that shows 剩余 7 天.
func within(a *Assessment, now time.Time, span time.Duration) bool {
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
	var nudges chunks[Due]
	var escalations chunks[Escalation]
	var assessments slab[Assessment]
	u := walk(plan, st, s, now, true, assessments.next, func(it *planned) {
		a := it.assessment // one per pair, shared by its nudge and escalations
		if it.nudged {
			d := it.nudge
			d.Assessment = a
			nudges.add(d)
		}
		for _, e := range it.escalations[:it.escalated] {
			e.Assessment = a
			escalations.add(e)
		}
	})
	return Decision{Nudges: nudges.slice(), Escalations: escalations.slice(), Unbound: u}
}

// planned is what one pair of a bound department is due on a tick, as walk hands it over:
// it is walk's own and reused for the next pair, so a consumer copies what it keeps; its
// assessment is the consumer's (walk's slot), or walk's own if the consumer gave none.
type planned struct {
	nudged      bool
	nudge       Due
	escalated   int
	escalations [2]Escalation
	assessment  *Assessment

	// What the items are, for a consumer that builds their keys later (walk without keys,
	// when nudge and escalations hold no Key or Label): the pair, the stage and its numbers
	// (n and t as the key writes them; before indexes the settings' RemindBefore), which
	// escalations are due, and since, the unanswered one's.
	task                      *config.Task
	dept                      string
	current                   *store.State // the pair's latest state if its status counts in this period
	stage                     Stage
	n, t                      int64
	before                    int
	escOverdue, escUnanswered bool
	since                     int64
}

// walk is the policy streamed: it decides every pair of the plan and calls emit for each pair
// of a bound department with something due, in plan order, building ledger keys (with keys)
// only for those; the plan's reminders are never all held at once. slot, if not nil, gives
// the assessment of each such pair a place of the consumer's, so that one who keeps it does
// not copy it. What the unbound departments hold is summed up in the result.
func walk(plan *config.Plan, st *State, s Settings, now time.Time, keys bool, slot func() *Assessment, emit func(*planned)) Unbound {
	w := walker{s: s, now: now, staleSince: now.Add(-s.StaleAfter), slot: slot, emit: emit, before: make([]beforeStage, len(s.RemindBefore)), noKeys: !keys}
	w.staleSinceAt = instant(w.staleSince)
	for i, span := range s.RemindBefore {
		label := config.Duration(span).String()
		w.before[i] = beforeStage{span: span, days: -1, label: label, labelID: st.labelID(label, false)}
		if span%(24*time.Hour) == 0 {
			w.before[i].days = int(span / (24 * time.Hour))
		}
	}
	var u Unbound
	var unbound []string // departments without a chat that hold open items; few
	today := dayNumber(now, s.Location)
	for _, task := range plan.Tasks {
		per := periodAt(task, now, s.Location, today)
		w.periodKey = ""
		ts := st.task(task.ID)
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
				w.pair(task, &per, dept, ps, true)
				continue
			}
			open, overdue, nudged := w.pair(task, &per, dept, ps, false)
			if !open {
				continue
			}
			if !slices.Contains(unbound, dept) {
				unbound = append(unbound, dept)
			}
			if overdue {
				u.Overdue++
			}
			if nudged {
				u.Held++
			}
		}
	}
	u.Departments = len(unbound)
	if u.Overdue > 0 {
		if key := unboundKey(u.Departments, u.Overdue); !st.told[key] {
			u.Key = key
		}
	}
	return u
}

type beforeStage struct {
	span    time.Duration
	days    int // span in whole days, -1 if it is not
	label   string
	labelID int32 // in the state's labels; -1 if no entry has it
}

// walker holds what a tick works out once: the settings' stages, the current task's period
// key, the buffers keys are built in.
type walker struct {
	s            Settings
	now          time.Time
	staleSince   time.Time // now - stale_after: silence since before it is stale
	staleSinceAt int64     // and as an instant
	slot         func() *Assessment
	emit         func(*planned)
	noKeys       bool // emit the items' stages, not their keys
	before       []beforeStage
	periodKey    string
	mid          []byte // a pair's keys' common middle
	midTask      *config.Task
	midLen       int // of mid's "|<task>|" part, for midTask
	keys         keyArena
	item         planned
	a            Assessment
}

// noState is a pair the store knows nothing of.
var noState pairState

// pair decides one pair, and emits what it is due when send is set; open, overdue and
// nudged say where it stands. It follows assess, working out only what the decision needs:
// the whole assessment is made for a pair with something due.
func (w *walker) pair(task *config.Task, per *period, dept string, ps *pairState, send bool) (open, overdue, nudged bool) {
	if ps == nil {
		ps = &noState
	}
	s, now := &w.s, w.now
	var lastReport time.Time
	status := store.StatusNotStarted
	if l := ps.latest; l != nil {
		lastReport = l.Last.At
		if per.prev.IsZero() || l.StatusAt.After(per.prev) {
			status = l.Status
		}
	}
	if status == store.StatusDone {
		return false, false, false
	}
	open, overdue = true, per.overdue
	entries := ps.sent
	var (
		escOverdue, escUnanswered bool
		unansweredSince           int64
		stage                     Stage
		n, t                      int64
		before                    *beforeStage
	)
	if overdue && !wasSent(entries, true, kindOverdue, per.day, 0, 0, 0) {
		escOverdue = true // even when snoozed: the supervisors must know
	}
	if !ps.snoozed.After(now) {
		if nudgesSince(entries, instant(lastReport)) >= s.EscalateAfter {
			if !lastReport.IsZero() {
				unansweredSince = lastReport.Unix()
			}
			escUnanswered = !wasSent(entries, true, kindUnanswered, per.day, 0, unansweredSince, 0)
		}
		stage, n, t, before = w.nudge(per, entries, lastReport)
	}
	nudged = stage != ""
	if !send || (!nudged && !escOverdue && !escUnanswered) {
		return open, overdue, nudged
	}

	// Something is due: the whole assessment, and the keys.
	it := &w.item
	it.nudged, it.escalated, it.assessment = false, 0, &w.a
	if w.slot != nil {
		it.assessment = w.slot()
	}
	if w.noKeys {
		assessInto(it.assessment, ps, per, &w.s, now)
		it.nudged = nudged
		it.task, it.dept, it.stage, it.n, it.t = task, dept, stage, n, t
		it.current = nil
		if l := ps.latest; l != nil && (per.prev.IsZero() || l.StatusAt.After(per.prev)) {
			it.current = l // as assessInto reads the status
		}
		it.escOverdue, it.escUnanswered, it.since, it.before = escOverdue, escUnanswered, unansweredSince, -1
		if before != nil {
			it.before = w.beforeIndex(before)
		}
		w.emit(it)
		return open, overdue, nudged
	}
	if w.periodKey == "" {
		w.periodKey = w.keys.date(per.y, per.m, per.d)
		per.key = w.periodKey
	}
	assessInto(it.assessment, ps, per, &w.s, now)
	p := Pair{task.ID, dept}
	// The keys' common middle, "|<task>|<department>|<period>|", once per pair.
	if w.midTask != task {
		w.mid = strconv.AppendInt(append(w.mid[:0], '|'), int64(task.ID), 10)
		w.mid = append(w.mid, '|')
		w.midTask, w.midLen = task, len(w.mid)
	}
	mid := append(append(append(append(w.mid[:w.midLen], dept...), '|'), w.periodKey...), '|')
	w.mid = mid
	if escOverdue {
		key, _ := w.keys.key('e', mid, "overdue", "", 0, false, 0, false)
		it.escalations[it.escalated] = Escalation{Pair: p, Task: task, Kind: "overdue", Key: key}
		it.escalated++
	}
	if escUnanswered {
		key, _ := w.keys.key('e', mid, "unanswered:", "", unansweredSince, true, 0, false)
		it.escalations[it.escalated] = Escalation{Pair: p, Task: task, Kind: "unanswered", Key: key}
		it.escalated++
	}
	if nudged {
		var key string
		var label int // where the label starts in the key
		switch stage {
		case StageBefore:
			key, label = w.keys.key('n', mid, "before:", before.label, 0, false, 0, false)
		case StageOverdue:
			key, label = w.keys.key('n', mid, "overdue:", "", n, true, 0, false)
		case StageStale:
			key, label = w.keys.key('n', mid, "stale:", "", t, true, n, true)
		}
		it.nudged, it.nudge = true, Due{Pair: p, Task: task, Stage: stage, Label: key[label:], Key: key}
	}
	w.emit(it)
	return open, overdue, nudged
}

// beforeIndex is b's index in the settings' RemindBefore.
func (w *walker) beforeIndex(b *beforeStage) int {
	for i := range w.before {
		if &w.before[i] == b {
			return i
		}
	}
	return -1
}

// nudge is the nudge a pair not done and not snoozed is due, if any: its stage ("" for none),
// the overdue reminder's number or the update request's (n) and its silence's start (t), the
// before stage.
func (w *walker) nudge(per *period, entries []sentEntry, lastReport time.Time) (stage Stage, n, t int64, before *beforeStage) {
	s, now := &w.s, w.now
	if per.overdue {
		if per.overdueN == 0 { // once per task
			per.overdueN = int64(now.Sub(per.deadline)/s.OverdueEvery) + 1
		}
		n = per.overdueN
		if !wasSent(entries, false, kindOverdue, per.day, n, 0, 0) {
			return StageOverdue, n, 0, nil
		}
		return "", 0, 0, nil // an overdue reminder already asks for an update
	}
	for i := len(w.before) - 1; i >= 0; i-- { // shortest first: the latest stage passed
		b := &w.before[i]
		if b.days >= 0 && per.daysLeft > b.days || b.days < 0 && per.deadline.Sub(now) > b.span {
			continue // not within this stage (within, on the period)
		}
		if !wasSent(entries, false, kindBefore, per.day, 0, 0, b.labelID) {
			return StageBefore, 0, 0, b
		}
		break // that stage went out; the earlier, longer ones are past
	}
	base := lastReport // silence counts from the last report, or the period's start
	if per.start.After(base) {
		base = per.start
	}
	if base.IsZero() || s.StaleAfter <= 0 || base.After(w.staleSince) {
		return "", 0, 0, nil
	}
	// Any nudge asks for an update: ask again only stale_after after the last one.
	if last := lastNudge(entries); last != never && last > w.staleSinceAt {
		return "", 0, 0, nil
	}
	t = base.Unix()
	n = int64(countStale(entries, per.day, t) + 1)
	if !wasSent(entries, false, kindStale, per.day, n, t, 0) {
		return StageStale, n, t, nil
	}
	return "", 0, 0, nil
}

// unboundKey is the ledger key of the line summing up departments without a chat: one per
// pair of numbers, so the supervisors hear again only when a number changes.
func unboundKey(departments, overdue int) string {
	return "u|" + strconv.Itoa(departments) + "|" + strconv.Itoa(overdue)
}
