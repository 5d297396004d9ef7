package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// DigestWindow is how far back "updates this week" and ahead "due soon" look.
const (
	DigestWindow = 7 * 24 * time.Hour
	DueSoon      = 30 * 24 * time.Hour
)

// Digest is the supervisors' digest at now, as text; /digest shows it on demand.
func (sc *Scheduler) Digest(ctx context.Context, now time.Time) (string, error) {
	ps := sc.plan.Load()
	d, _, err := sc.digest(ctx, ps, now)
	if err != nil {
		return "", err
	}
	return ps.texts.SupervisorDigest(d), nil
}

// digest gathers the supervisors' digest and every department's open tasks.
func (sc *Scheduler) digest(ctx context.Context, ps *planState, now time.Time) (i18n.Digest, map[string][]i18n.DigestTask, error) {
	st, chats, err := sc.load(ctx)
	if err != nil {
		return i18n.Digest{}, nil, err
	}
	s := ps.settings
	d := i18n.Digest{Date: now.In(s.Location)}
	areaIndex := map[string]int{}
	overdue := map[string][]int{}
	lastReport := map[string]time.Time{}
	perDept := map[string][]i18n.DigestTask{}
	open := 0
	for _, task := range ps.plan.Tasks {
		var done, blocked, started, total int
		for _, dept := range task.Responsible {
			a := Assess(task, dept, st, s, now)
			total++
			if a.LastReport.After(lastReport[dept]) {
				lastReport[dept] = a.LastReport
			}
			switch {
			case a.Done:
				done++
				continue
			case a.Status == store.StatusBlocked:
				blocked++
			case a.Status == store.StatusInProgress:
				started++
			}
			open++
			item := i18n.DigestItem{Task: task.ID, Goal: task.Goal, Department: dept, DaysLeft: a.DaysLeft,
				Status: a.Status, Percent: a.Percent, Expected: a.Expected, Until: a.SnoozedUntil.In(s.Location)}
			switch a.Color {
			case Red:
				d.Red = append(d.Red, item)
				overdue[dept] = append(overdue[dept], task.ID)
				if chats[dept] == 0 {
					d.UnboundOverdue++
				}
			case Yellow:
				d.Yellow = append(d.Yellow, item)
			case Blue:
				d.Blue = append(d.Blue, item)
			}
			if !a.Overdue && a.Deadline.Sub(now) <= DueSoon {
				d.DueSoon = append(d.DueSoon, item)
			}
			if !a.SnoozedUntil.IsZero() {
				d.Snoozed = append(d.Snoozed, item)
			}
			perDept[dept] = append(perDept[dept], i18n.DigestTask{
				TaskLine: i18n.TaskLine{ID: task.ID, Goal: task.Goal, Deadline: a.Deadline.In(s.Location), DaysLeft: a.DaysLeft, Status: a.Status, Percent: a.Percent},
				Color:    string(a.Color), LastText: a.LastText, LastAt: a.LastReport.In(s.Location),
			})
		}
		i, ok := areaIndex[task.Area]
		if !ok {
			i = len(d.Areas)
			areaIndex[task.Area] = i
			d.Areas = append(d.Areas, i18n.AreaCount{Area: task.Area})
		}
		// A task is done when every department on it is; blocked when any is; in progress
		// when any has started.
		switch {
		case done == total:
			d.Areas[i].Done++
		case blocked > 0:
			d.Areas[i].Blocked++
		case started > 0 || done > 0:
			d.Areas[i].InProgress++
		default:
			d.Areas[i].NotStarted++
		}
	}
	d.AllClear = open == 0
	// A department without a chat is one name in Unbound, with its overdue items in the sum
	// UnboundOverdue, as the ticks tell the supervisors: it can neither hear nor report, so
	// listing it as overdue or silent only buries the departments that can.
	for _, dept := range ps.cfg.DepartmentNames {
		if len(perDept[dept]) == 0 {
			continue // nothing open: not silent, just done
		}
		if chats[dept] == 0 {
			d.Unbound = append(d.Unbound, dept)
			continue
		}
		if ids := overdue[dept]; len(ids) > 0 {
			d.Overdue = append(d.Overdue, i18n.DepartmentItems{Department: dept, Tasks: ids})
		}
		if last := lastReport[dept]; now.Sub(last) > s.StaleAfter {
			d.Silent = append(d.Silent, i18n.SilentDepartment{Department: dept, Last: last.In(s.Location)})
		}
	}
	for dept, tasks := range perDept {
		slices.SortStableFunc(tasks, func(a, b i18n.DigestTask) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) })
		perDept[dept] = tasks
	}
	if d.Updates, err = sc.updatesSince(ctx, now.Add(-DigestWindow)); err != nil {
		return d, nil, err
	}
	for i := range d.Updates {
		d.Updates[i].At = d.Updates[i].At.In(s.Location)
	}
	return d, perDept, nil
}

// updatesSince lists the updates recorded after t, oldest first.
func (sc *Scheduler) updatesSince(ctx context.Context, t time.Time) ([]i18n.DigestUpdate, error) {
	chains, err := sc.store.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("read chains: %w", err)
	}
	var out []i18n.DigestUpdate
	for _, task := range chains {
		ups, err := sc.store.Updates(ctx, task)
		if err != nil {
			return nil, fmt.Errorf("read task %d: %w", task, err)
		}
		for _, u := range ups {
			if u.At.After(t) {
				out = append(out, i18n.DigestUpdate{Task: u.Task, Department: u.Department, At: u.At, Status: u.Status, Percent: u.Percent, Text: u.Text, By: u.UserName})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b i18n.DigestUpdate) int { return a.At.Compare(b.At) })
	return out, nil
}

// SendDigests sends the weekly digest: the overall one to the supervisors chat, and to each
// bound department with open tasks its own list. Each goes once a week, whichever instance
// claims it, to every chat at once (MaxParallel); a digest an earlier try cut short gets
// its missing parts only.
func (sc *Scheduler) SendDigests(ctx context.Context, now time.Time) (int, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ps := sc.plan.Load()
	if err := sc.flush(ctx); err != nil {
		return 0, err
	}
	d, perDept, err := sc.digest(ctx, ps, now)
	if err != nil {
		return 0, err
	}
	_, chats, err := sc.load(ctx)
	if err != nil {
		return 0, err
	}
	resume, resumed, err := sc.pending(ctx, func(p store.Sent) bool { return p.Stage == "digest" })
	if err != nil {
		return 0, err
	}
	week := isoWeek(now, ps.settings.Location)
	var mu sync.Mutex
	sent, failed := 0, 0
	var errs []error
	done := func(err error, what string, fatal bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			sent++
		case fatal:
			errs = append(errs, err)
		default:
			// Claimed, unconfirmed (or pending with the parts that went out): a retry of the
			// digest sends it, or its missing parts, again.
			sc.log.Warn("digest not sent", "to", what, "err", err)
			failed++
		}
	}
	// The supervisors' digest is a chain (chart, text, workbook: see media.go): its text, if
	// an earlier try left it unfinished, is resumed in the chain, so the workbook still
	// follows it.
	supKey := "d|" + week + "|supervisors"
	sup := ps.cfg.Supervisors.Chat
	var supPending *store.Sent
	var work lanes
	for _, p := range resume {
		if sup != 0 && p.FirstKey() == supKey {
			supPending = &p
			continue
		}
		work.add(p.ChatID, func(ctx context.Context) {
			_, err := sc.resume(ctx, p)
			done(err, p.Department, false)
		})
	}
	// sendText claims a department's digest and sends it.
	sendText := func(ctx context.Context, key, recipient string, chat int64, tasks []int, text func() string) {
		start := time.Now()
		ok, err := sc.store.Claim(ctx, key, sc.owner, now, ClaimLease)
		if err != nil || !ok {
			if err != nil {
				done(fmt.Errorf("claim %s: %w", key, err), recipient, true)
			}
			return
		}
		// Indexed with its tasks, so that a reply to a department's digest finds them.
		rec := store.Sent{Keys: []string{key}, Department: recipient, Tasks: tasks, Stage: "digest", ChatID: chat, At: now}
		_, err = sc.deliver(ctx, rec, sender.Message{ChatID: chat, Text: text()}, sc.claimedAt(ctx, start, now))
		done(err, recipient, false)
	}
	if sup != 0 {
		work.add(sup, func(ctx context.Context) {
			went, err := sc.supervisorsDigest(ctx, ps, d, supKey, sup, supPending, now)
			if (err == nil && went) || (err != nil && !errors.Is(err, errHeld)) { // held: another instance is sending it
				done(err, "supervisors", false)
			}
		})
	}
	for _, dept := range ps.cfg.DepartmentNames {
		if chat := chats[dept]; chat != 0 && len(perDept[dept]) > 0 {
			var tasks []int
			for _, t := range perDept[dept] {
				tasks = append(tasks, t.ID)
			}
			key := "d|" + week + "|" + dept
			if resumed[key] {
				continue
			}
			work.add(chat, func(ctx context.Context) {
				sendText(ctx, key, dept, chat, tasks, func() string {
					return ps.texts.DepartmentDigests(i18n.DepartmentDigest{Department: dept, Open: perDept[dept]})
				})
			})
		}
	}
	work.run(ctx)
	if err := errors.Join(errs...); err != nil {
		return sent, err
	}
	if failed > 0 {
		return sent, fmt.Errorf("%d digests not delivered", failed)
	}
	return sent, nil
}

// supervisorsDigest sends the supervisors' digest: its chart, its text (the rest of it, if
// pending is an earlier try's unfinished one) and its workbook, in this order, each once;
// went says whether anything went out now. A failed step stops the chain, so that a retry
// keeps the order.
func (sc *Scheduler) supervisorsDigest(ctx context.Context, ps *planState, d i18n.Digest, key string, chat int64, pending *store.Sent, now time.Time) (went bool, err error) {
	step := func(sent bool, err error) error {
		went = went || sent
		return err
	}
	if sc.media != nil && sc.chart != nil {
		if err := step(sc.sendChart(ctx, ps, d, key, chat, now)); err != nil {
			return went, err
		}
	}
	if pending != nil {
		if _, err := sc.resume(ctx, *pending); err != nil {
			return true, err
		}
		went = true
	} else {
		skip, err := sc.claimPart(ctx, key, now)
		if err != nil {
			return went, err
		}
		if !skip {
			rec := store.Sent{Keys: []string{key}, Department: "supervisors", Stage: "digest", ChatID: chat, At: now}
			if _, err := sc.deliver(ctx, rec, sender.Message{ChatID: chat, Text: ps.texts.SupervisorDigest(d)}, time.Time{}); err != nil {
				return went, err
			}
			went = true
		}
	}
	if sc.media != nil && sc.workbook != nil {
		return went, step(sc.sendWorkbook(ctx, key, chat, now))
	}
	return went, nil
}
