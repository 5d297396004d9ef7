package scheduler

import (
	"cmp"
	"context"
	"errors"
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
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// Store is what the scheduler reads and writes.
type Store interface {
	Latest(ctx context.Context) ([]store.State, error)
	Ledger(ctx context.Context) (store.Ledger, error)
	Snoozes(ctx context.Context) (map[string]time.Time, error)
	Bindings(ctx context.Context) ([]store.Binding, error)
	Chains(ctx context.Context) ([]int, error)
	Updates(ctx context.Context, task int) ([]store.Update, error)
	// Claim and Confirm carry the fence of ctx (store.WithFence): a daemon that lost its
	// lease writes nothing.
	Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error)
	// ClaimAll is Claim for each key, in one round trip: a message's items are claimed at once.
	ClaimAll(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]bool, error)
	Confirm(ctx context.Context, sent store.Sent) error
	// PruneLedger drops the ledger keys keep refuses (see prune.go), and lapsed claims.
	PruneLedger(ctx context.Context, now time.Time, keep store.PruneKeep) (store.Pruned, error)
	SentFor(ctx context.Context, key string) (store.Sent, bool, error)
	// Pending is every message some of whose parts went out and the others not yet.
	Pending(ctx context.Context) ([]store.Sent, error)
}

// Messenger renders and sends what the scheduler decided; the bot provides it.
type Messenger interface {
	// NudgeMessage is the message about items (most urgent first) to a department's chat.
	NudgeMessage(department string, chat int64, items []i18n.NudgeItem) sender.Message
	// SendFrom sends m's parts from index from on, as sender.Sender.SendFrom does.
	SendFrom(ctx context.Context, m sender.Message, from int, h sender.Hooks) ([]int, error)
}

// MaxParallel bounds how many chats a tick or digest sends to at once. Each chat's messages
// go one after another; a chat waiting out its retry backoff holds one of these slots and
// nothing else, and the sender keeps Telegram's overall and per-chat limits whatever the
// number.
const MaxParallel = 32

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

	// unrecorded are messages (or parts) that went out but whose Confirm failed, by first
	// key: the next tick records them before it sends anything, instead of sending again.
	unrecordedMu sync.Mutex
	unrecorded   map[string]store.Sent

	// media, chart and workbook, if set, make the supervisors' digest a chart, a text and a
	// workbook (SetDigestMedia).
	media    MediaSender
	chart    Chart
	workbook Workbook

	prunedDay int // the day (dayNumber) the ledger was last pruned on, so once a day; under mu
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
	sc := &Scheduler{store: s, msg: m, owner: owner, log: log, now: now, retryEvery: RetryEvery, unrecorded: map[string]store.Sent{}}
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
	Resumed     int  // messages of an earlier try whose missing parts were sent
	Failed      int  // messages not delivered; their items (or missing parts) go again next try
}

// Tick runs the policy at now and sends what is due: one message per department listing all
// its items, most urgent first, and one escalation message to the supervisors, which ends
// with the line summing up departments without a chat when its numbers are new. Every item
// is claimed in the ledger first, so two instances never both send it. Chats are sent to
// at once (MaxParallel), so one chat's retries do not hold up the others; a message an
// earlier try left unfinished gets its missing parts first.
func (sc *Scheduler) Tick(ctx context.Context, now time.Time) (TickReport, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ps := sc.plan.Load()
	var rep TickReport
	if err := sc.flush(ctx); err != nil {
		return rep, err
	}
	st, chats, err := sc.load(ctx)
	if err != nil {
		return rep, err
	}
	// The plan streamed: per department a few words an item, its keys built when its message
	// is claimed, not a Decision holding every reminder of the plan at once.
	plan := PlanTick(ps.plan, st, ps.settings, now)
	rep.Unbound = plan.Unbound.Held
	resume, resumed, err := sc.pending(ctx, func(p store.Sent) bool { return p.Stage != "digest" })
	if err != nil {
		return rep, err
	}

	var mu sync.Mutex // guards rep and errs
	var errs []error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	var work lanes
	for _, p := range resume {
		work.add(p.ChatID, func(ctx context.Context) {
			_, err := sc.resume(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				sc.log.Warn("missing parts not sent", "to", p.Department, "keys", len(p.Keys), "err", err)
				rep.Failed++
				return
			}
			rep.Resumed++
		})
	}

	for _, dept := range ps.cfg.DepartmentNames {
		if plan.depts[dept] == nil {
			continue
		}
		chat := chats[dept]
		if chat == 0 {
			continue // not reached: the policy holds back departments without a chat
		}
		work.add(chat, func(ctx context.Context) {
			// The items in a message being finished are left out: that message carries them.
			keys, items, tasks := plan.nudges(dept, resumed)
			if len(keys) == 0 {
				return
			}
			start := time.Now()
			won, err := sc.store.ClaimAll(ctx, keys, sc.owner, now, ClaimLease)
			if err != nil {
				fail(fmt.Errorf("claim %d items: %w", len(keys), err))
				return
			}
			// An item another instance holds is left out.
			n := 0
			for i := range keys {
				if won[i] {
					keys[n], items[n], tasks[n] = keys[i], items[i], tasks[i]
					n++
				}
			}
			if n == 0 {
				return
			}
			keys, items, tasks = keys[:n], items[:n], tasks[:n]
			slices.SortStableFunc(items, func(a, b i18n.NudgeItem) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) }) // Urgency
			m := sc.msg.NudgeMessage(dept, chat, items)
			rec := store.Sent{Keys: keys, Department: dept, Tasks: tasks, Stage: "nudge", ChatID: chat, At: now}
			_, err = sc.deliver(ctx, rec, m, sc.claimedAt(ctx, start, now))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				sc.log.Warn("nudge not sent", "department", dept, "err", err)
				rep.Failed++
				return
			}
			rep.Messages++
			rep.Items += n
		})
	}

	if sup := ps.cfg.Supervisors.Chat; sup != 0 && (plan.escs.n > 0 || plan.Unbound.Key != "") {
		work.add(sup, func(ctx context.Context) {
			u := plan.Unbound
			// Every key of the message claimed at once: one round trip, not one per item.
			escKeys, escLines := plan.escalations(resumed)
			var want []string
			withUnbound := u.Key != "" && !resumed[u.Key]
			if withUnbound {
				want = append(want, u.Key)
			}
			want = append(want, escKeys...)
			var won []bool
			start := time.Now()
			if len(want) > 0 {
				var err error
				if won, err = sc.store.ClaimAll(ctx, want, sc.owner, now, ClaimLease); err != nil {
					fail(fmt.Errorf("claim %d keys: %w", len(want), err))
					return
				}
			}
			var keys []string
			var told bool
			if withUnbound {
				if won[0] {
					keys, told = append(keys, u.Key), true
				}
				won = won[1:]
			}
			var lines []i18n.EscalationLine
			for i, key := range escKeys {
				if won[i] {
					keys = append(keys, key)
					lines = append(lines, escLines[i])
				}
			}
			if len(lines) == 0 && !told {
				return
			}
			var departments, overdue int
			if told {
				departments, overdue = u.Departments, u.Overdue
			}
			m := sender.Message{ChatID: sup, Text: ps.texts.SupervisorsTick(lines, departments, overdue)}
			_, err := sc.deliver(ctx, store.Sent{Keys: keys, Department: "supervisors", Stage: "escalation", ChatID: sup, At: now}, m, sc.claimedAt(ctx, start, now))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				sc.log.Warn("escalation not sent", "err", err)
				rep.Failed++
				return
			}
			rep.Escalations, rep.UnboundTold = len(lines), told
		})
	}
	work.run(ctx)
	sc.pruneDaily(ctx, ps, st, now)
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	if rep.Failed > 0 {
		// The items of a failed message stay claimed by this instance, unconfirmed, and a
		// message cut short is pending with the parts that went out: a retry of the tick sends
		// the rest, and only that.
		return rep, fmt.Errorf("%d messages not delivered", rep.Failed)
	}
	return rep, nil
}

// lanes are a tick's or digest's work by chat: each chat's in order, at most MaxParallel
// chats at once.
type lanes struct {
	order []int64
	work  map[int64][]func(ctx context.Context)
}

func (l *lanes) add(chat int64, f func(ctx context.Context)) {
	if l.work == nil {
		l.work = map[int64][]func(ctx context.Context){}
	}
	if _, ok := l.work[chat]; !ok {
		l.order = append(l.order, chat)
	}
	l.work[chat] = append(l.work[chat], f)
}

func (l *lanes) run(ctx context.Context) {
	slots := make(chan struct{}, MaxParallel)
	var wg sync.WaitGroup
	for _, chat := range l.order {
		slots <- struct{}{}
		wg.Add(1)
		go func(work []func(ctx context.Context)) {
			defer func() { <-slots; wg.Done() }()
			for _, f := range work {
				f(ctx)
			}
		}(l.work[chat])
	}
	wg.Wait()
}

// Urgency orders items: the most overdue first, then the nearest deadline.
func Urgency(a, b Due) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) }

// isoWeek names the week of t in the plan's zone: "2026-W49".
func isoWeek(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return strconv.Itoa(y) + "-W" + fmt.Sprintf("%02d", w)
}
