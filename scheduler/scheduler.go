package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

// Store is what the scheduler reads and writes.
type Store interface {
	Latest(ctx context.Context) ([]store.State, error)
	Ledger(ctx context.Context) (map[string]time.Time, error)
	Snoozes(ctx context.Context) (map[string]time.Time, error)
	Bindings(ctx context.Context) ([]store.Binding, error)
	Chains(ctx context.Context) ([]int, error)
	Updates(ctx context.Context, task int) ([]store.Update, error)
	Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error)
	Confirm(ctx context.Context, sent store.Sent) error
	SentFor(ctx context.Context, key string) (store.Sent, bool, error)
}

// Messenger sends what the scheduler decided; the bot provides it.
type Messenger interface {
	// Nudge sends one message about items to a department's chat and confirms keys in the
	// ledger with its message ids.
	Nudge(ctx context.Context, department string, chat int64, items []i18n.NudgeItem, keys []string) (store.Sent, error)
	// Notify sends a text to a chat.
	Notify(ctx context.Context, chat int64, text string) ([]int, error)
}

// ClaimLease is how long a claimed reminder stays claimed unconfirmed: another instance
// sends it only after that, so a crash between sending and confirming costs one duplicate.
// The same owner claims it again at once: a daemon restarted as the same instance (the
// embedded store's fixed name, or daemon.Identity on Redis) sends what it had claimed.
const ClaimLease = 5 * time.Minute

// Scheduler runs the reminder policy on schedule.nudge and the digest on schedule.digest.
type Scheduler struct {
	store Store
	msg   Messenger
	owner string // who claims reminders in the ledger: this instance
	log   *slog.Logger
	now   func() time.Time
	// retryEvery is RetryEvery; tests shorten it.
	retryEvery time.Duration

	plan atomic.Pointer[planState]
	mu   sync.Mutex // one tick at a time: a slow tick and the next never overlap
}

type planState struct {
	cfg      *config.Config
	plan     *config.Plan
	settings Settings
	texts    *i18n.Texts
	nudge    cron.Schedule
	digest   cron.Schedule
}

// New returns a Scheduler. owner names this instance in the ledger's claims.
func New(s Store, m Messenger, c *config.Config, p *config.Plan, owner string, log *slog.Logger, now func() time.Time) (*Scheduler, error) {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	sc := &Scheduler{store: s, msg: m, owner: owner, log: log, now: now, retryEvery: RetryEvery}
	if err := sc.SetPlan(c, p); err != nil {
		return nil, err
	}
	return sc, nil
}

// SetPlan puts a new config and plan in force, as on SIGHUP.
func (sc *Scheduler) SetPlan(c *config.Config, p *config.Plan) error {
	nudge, err := NudgeSchedule(c.Schedule.Nudge, &c.Calendar, c.Location)
	if err != nil {
		return err
	}
	digest, err := Schedule(c.Schedule.Digest, c.Location)
	if err != nil {
		return err
	}
	sc.plan.Store(&planState{cfg: c, plan: p, settings: SettingsFrom(c), texts: i18n.For(c.Language), nudge: nudge, digest: digest})
	return nil
}

// load reads the state the policy needs in four round trips.
func (sc *Scheduler) load(ctx context.Context) (*State, map[string]int64, error) {
	latest, err := sc.store.Latest(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read latest: %w", err)
	}
	ledger, err := sc.store.Ledger(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read ledger: %w", err)
	}
	snoozes, err := sc.store.Snoozes(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read snoozes: %w", err)
	}
	bindings, err := sc.store.Bindings(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read bindings: %w", err)
	}
	chats := map[string]int64{}
	for _, b := range bindings {
		if b.Broken == "" {
			chats[b.Department] = b.ChatID
		}
	}
	st := NewState(latest, ledger, snoozes)
	st.SetBound(chats)
	return st, chats, nil
}

// TickReport says what one tick did, for logs and tests.
type TickReport struct {
	Messages    int // department messages sent
	Items       int // items in them
	Escalations int
	Unbound     int  // items held back: due, but the department has no chat
	UnboundTold bool // the supervisors were told how many departments have no chat, with how many overdue items
	Failed      int  // messages not delivered; their items go again next tick
}

// Tick runs the policy at now and sends what is due: one message per department listing all
// its items, most urgent first, and one escalation message to the supervisors, which ends
// with the line summing up departments without a chat when its numbers are new. Every item
// is claimed in the ledger first, so two instances never both send it.
func (sc *Scheduler) Tick(ctx context.Context, now time.Time) (TickReport, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ps := sc.plan.Load()
	var rep TickReport
	st, chats, err := sc.load(ctx)
	if err != nil {
		return rep, err
	}
	dec := Decide(ps.plan, st, ps.settings, now)
	rep.Unbound = dec.Unbound.Held

	byDept := map[string][]Due{}
	for _, d := range dec.Nudges {
		byDept[d.Department] = append(byDept[d.Department], d)
	}
	for _, dept := range ps.cfg.DepartmentNames {
		items := byDept[dept]
		if len(items) == 0 {
			continue
		}
		chat := chats[dept]
		if chat == 0 {
			continue // not reached: Decide holds back departments without a chat
		}
		claimed, keys, err := sc.claim(ctx, now, items)
		if err != nil {
			return rep, err
		}
		if len(claimed) == 0 {
			continue
		}
		if _, err := sc.msg.Nudge(ctx, dept, chat, nudgeItems(claimed, ps.settings.Location), keys); err != nil {
			sc.log.Warn("nudge not sent", "department", dept, "err", err)
			rep.Failed++
			continue
		}
		rep.Messages++
		rep.Items += len(claimed)
	}

	if sup := ps.cfg.Supervisors.Chat; sup != 0 && (len(dec.Escalations) > 0 || dec.Unbound.Key != "") {
		var lines []i18n.EscalationLine
		var keys []string
		var told bool
		if u := dec.Unbound; u.Key != "" {
			ok, err := sc.store.Claim(ctx, u.Key, sc.owner, now, ClaimLease)
			if err != nil {
				return rep, fmt.Errorf("claim %s: %w", u.Key, err)
			}
			if ok {
				keys, told = append(keys, u.Key), true
			}
		}
		for _, e := range dec.Escalations {
			ok, err := sc.store.Claim(ctx, e.Key, sc.owner, now, ClaimLease)
			if err != nil {
				return rep, fmt.Errorf("claim %s: %w", e.Key, err)
			}
			if !ok {
				continue
			}
			keys = append(keys, e.Key)
			lines = append(lines, i18n.EscalationLine{Task: e.Task.ID, Goal: e.Task.Goal, Department: e.Department, Kind: e.Kind,
				DaysLeft: e.DaysLeft, Unanswered: e.Unanswered, Status: e.Status, Percent: e.Percent})
		}
		if len(lines) > 0 || told {
			var departments, overdue int
			if told {
				departments, overdue = dec.Unbound.Departments, dec.Unbound.Overdue
			}
			ids, err := sc.msg.Notify(ctx, sup, ps.texts.SupervisorsTick(lines, departments, overdue))
			if err != nil {
				sc.log.Warn("escalation not sent", "err", err)
				rep.Failed++
			} else if err := sc.store.Confirm(ctx, store.Sent{Keys: keys, Department: "supervisors", Stage: "escalation", ChatID: sup, MessageIDs: ids, At: now}); err != nil {
				return rep, fmt.Errorf("confirm escalation: %w", err)
			} else {
				rep.Escalations, rep.UnboundTold = len(lines), told
			}
		}
	}
	if rep.Failed > 0 {
		// The items of a failed message stay claimed by this instance, unconfirmed: a retry
		// of the tick sends them, and only them.
		return rep, fmt.Errorf("%d messages not delivered", rep.Failed)
	}
	return rep, nil
}

// claim takes the ledger claim of each due item; an item another instance holds is left out.
func (sc *Scheduler) claim(ctx context.Context, now time.Time, items []Due) ([]Due, []string, error) {
	var claimed []Due
	var keys []string
	for _, d := range items {
		ok, err := sc.store.Claim(ctx, d.Key, sc.owner, now, ClaimLease)
		if err != nil {
			return nil, nil, fmt.Errorf("claim %s: %w", d.Key, err)
		}
		if ok {
			claimed = append(claimed, d)
			keys = append(keys, d.Key)
		}
	}
	return claimed, keys, nil
}

// Urgency orders items: the most overdue first, then the nearest deadline.
func Urgency(a, b Due) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) }

// nudgeItems are the items of a message, their deadlines in the plan's zone, where people read them.
func nudgeItems(items []Due, loc *time.Location) []i18n.NudgeItem {
	items = slices.Clone(items)
	slices.SortStableFunc(items, Urgency)
	out := make([]i18n.NudgeItem, len(items))
	for i, d := range items {
		out[i] = i18n.NudgeItem{Task: d.Task.ID, Goal: d.Task.Goal, Deadline: d.Deadline.In(loc), DaysLeft: d.DaysLeft,
			Stage: string(d.Stage), Color: string(d.Color), Status: d.Status, Percent: d.Percent}
	}
	return out
}

// isoWeek names the week of t in the plan's zone: "2026-W49".
func isoWeek(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return strconv.Itoa(y) + "-W" + fmt.Sprintf("%02d", w)
}
