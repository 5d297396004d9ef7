package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	_ "modernc.org/sqlite"

	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
)

// markRe finds the marker each generated report carries, so that what was stored and
// acknowledged is matched to what was sent.
var markRe = regexp.MustCompile(`m(\d{6})x`)

func marker(text string) string {
	if m := markRe.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// replyLoad is n reports spread round-robin over chats department chats.
type replyLoad struct {
	chats, n int
}

func (l replyLoad) text(task, j int) string {
	return fmt.Sprintf("/report %d 进行中 m%06dx", task, j)
}

// replyResult is what one run of a reply load measured.
type replyResult struct {
	median, p99 time.Duration
	rate        float64 // stored per wall-clock second, first arrival to last stored
	lost, dups  int     // reports not stored, stored twice
	acks        int     // distinct acknowledgements
	ackLost     int
	ackDups     int
	tooMany     int
	ackTime     time.Duration
	cpu         cpuUse // CPU a reply from the first queued to the last stored
}

// stats turns arrival and stored times into latencies and a rate.
func stats(arrived []time.Time, stored map[string][]time.Time) (r replyResult) {
	var lat []time.Duration
	first, last := arrived[0], arrived[0]
	for j, at := range arrived {
		first = minTime(first, at)
		ts := stored[fmt.Sprintf("%06d", j)]
		if len(ts) == 0 {
			r.lost++
			continue
		}
		r.dups += len(ts) - 1
		lat = append(lat, ts[0].Sub(at))
		if ts[0].After(last) {
			last = ts[0]
		}
	}
	slices.Sort(lat)
	r.median, r.p99 = quantile(lat, 0.5), quantile(lat, 0.99)
	if span := last.Sub(first); span > 0 {
		r.rate = float64(len(lat)) / span.Seconds()
	}
	return r
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// setupReplies is the fake with Telegram's limits, a config of l.chats departments with a
// task each, and their groups known to the fake.
func (e *env) replyPlan(l replyLoad, tg *telegramtest.Server) ([]string, []taskSpec) {
	depts := make([]string, l.chats)
	tasks := make([]taskSpec, l.chats)
	for i := range depts {
		depts[i] = deptName(i)
		tasks[i] = taskSpec{id: i + 1, goal: fmt.Sprintf("任务%d", i), depts: depts[i : i+1], deadline: "2027-12-31"}
	}
	return depts, tasks
}

// enqueue queues the reports at once, as the updates waiting for a daemon's getUpdates, and
// returns when each was queued and the message each acknowledgement must reply to.
func enqueue(tg *telegramtest.Server, l replyLoad, chats []telegramtest.Chat) ([]time.Time, map[[2]int64]int) {
	arrived := make([]time.Time, l.n)
	byMsg := map[[2]int64]int{}
	for j := range l.n {
		i := j % l.chats
		m := tg.Send(chats[i], telegramtest.NewUser(int64(5000+i), "办事员"), l.text(i+1, j))
		arrived[j] = time.Now()
		byMsg[[2]int64{chats[i].ID, int64(m.ID)}] = j
	}
	return arrived, byMsg
}

// dubanReplies runs the load through the real daemon on one store.
func (e *env) dubanReplies(ctx context.Context, be backend, l replyLoad) (replyResult, error) {
	tb := &runTB{}
	defer tb.close()
	tg := e.fake(tb)
	tg.AddChat(supervisors)
	depts, tasks := e.replyPlan(l, tg)
	c, p, _, err := e.writeConfig(tg.URL(), "", supervisors.ID, depts, tasks)
	if err != nil {
		return replyResult{}, err
	}
	st, done, err := be.open(ctx)
	if err != nil {
		return replyResult{}, err
	}
	defer done()
	chats, err := bindAll(ctx, tg, st, depts, -200000)
	if err != nil {
		return replyResult{}, err
	}
	timed := newTimedStore(st, marker)
	_, stop, err := e.startDaemon(ctx, c, p, timed)
	if err != nil {
		return replyResult{}, err
	}
	defer stop()
	if !waitUntil(10*time.Second, func() bool { return tg.Polling() > 0 }) {
		return replyResult{}, fmt.Errorf("the daemon did not poll within 10 s")
	}
	stopProfile := func() {}
	if l.chats > 1 {
		if stopProfile, err = startCPUProfile(e.windowProfile); err != nil {
			return replyResult{}, err
		}
	}
	cpu0 := e.cpuNow(ctx)
	arrived, byMsg := enqueue(tg, l, chats)
	waitUntil(2*time.Minute+time.Duration(l.n)*50*time.Millisecond, func() bool { return timed.count() >= l.n })
	cpu1 := e.cpuNow(ctx)
	stopProfile()
	r := stats(arrived, timed.snapshot())
	r.cpu = perReply(cpu0, cpu1, l.n)

	// The store itself holds each report once.
	var inStore int
	seen := map[string]int{}
	for _, t := range tasks {
		ups, err := st.Updates(ctx, t.id)
		if err != nil {
			return r, fmt.Errorf("updates of %d: %w", t.id, err)
		}
		for _, u := range ups {
			seen[marker(u.Text)]++
			inStore++
		}
	}
	if len(seen) < l.n {
		r.lost = max(r.lost, l.n-len(seen))
	}
	r.dups = max(r.dups, inStore-len(seen))

	// Acknowledgements: one per report, at the pace of each chat's window.
	perChat := map[int64]int{}
	for j := range l.n {
		perChat[chats[j%l.chats].ID]++
	}
	floor := e.scaled(telegramFloor(perChat, groupChats(chats)))
	countAcks := func() (distinct, dups int) {
		got := map[int]int{}
		for _, m := range tg.Sent() {
			if j, ok := byMsg[[2]int64{m.ChatID, int64(m.ReplyToMessageID)}]; ok {
				got[j]++
			}
		}
		for _, k := range got {
			dups += k - 1
		}
		return len(got), dups
	}
	waitUntil(floor*2+10*time.Second, func() bool { d, _ := countAcks(); return d >= l.n })
	r.ackTime = time.Since(arrived[0])
	r.acks, r.ackDups = countAcks()
	r.ackLost = l.n - r.acks
	if !waitUntil(10*time.Second, func() bool { return tg.Pending() == 0 }) {
		r.lost = max(r.lost, tg.Pending())
	}
	r.tooMany = count429(tg)
	return r, nil
}

// bareReplies is the baseline: a bare go-telegram/bot handler, doing one Redis HSET or one
// SQLite insert (WAL, synchronous FULL: fsync per commit, as the embedded store) per update,
// on the same fake and the same updates.
func (e *env) bareReplies(ctx context.Context, kind string, l replyLoad) (replyResult, error) {
	tb := &runTB{}
	defer tb.close()
	tg := e.fake(tb)
	depts, _ := e.replyPlan(l, tg)
	chats := make([]telegramtest.Chat, len(depts))
	for i, d := range depts {
		chats[i] = telegramtest.GroupChat(-200000-int64(i), d+"工作群")
		tg.AddChat(chats[i])
	}
	var write func(ctx context.Context, u *models.Update) error
	switch kind {
	case "redis":
		rs, err := e.openRedis(ctx)
		if err != nil {
			return replyResult{}, err
		}
		defer rs.drop(context.Background())
		key := "{" + rs.prefix + "}:bare"
		write = func(ctx context.Context, u *models.Update) error {
			return rs.client.HSet(ctx, key, strconv.FormatInt(u.ID, 10), u.Message.Text).Err()
		}
	default:
		dir := filepath.Join(e.dir, fmt.Sprintf("bare-%d", e.prefixes.Add(1)))
		db, err := openBareSQLite(ctx, dir)
		if err != nil {
			return replyResult{}, err
		}
		defer db.Close()
		write = func(ctx context.Context, u *models.Update) error {
			_, err := db.ExecContext(ctx, `INSERT INTO updates(id, chat, text) VALUES (?, ?, ?)`, u.ID, u.Message.Chat.ID, u.Message.Text)
			return err
		}
	}
	var mu sync.Mutex
	stored := map[string][]time.Time{}
	var failed int
	handler := func(ctx context.Context, _ *tgbot.Bot, u *models.Update) {
		if u.Message == nil {
			return
		}
		err := write(ctx, u)
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			return
		}
		if m := marker(u.Message.Text); m != "" {
			stored[m] = append(stored[m], now)
		}
	}
	b, err := tgbot.New(tg.Token(), tgbot.WithServerURL(tg.URL()), tgbot.WithSkipGetMe(), tgbot.WithDefaultHandler(handler))
	if err != nil {
		return replyResult{}, fmt.Errorf("bare bot: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go b.Start(ctx)
	if !waitUntil(10*time.Second, func() bool { return tg.Polling() > 0 }) {
		return replyResult{}, fmt.Errorf("the bare bot did not poll within 10 s")
	}
	cpu0 := e.cpuNow(ctx)
	arrived, _ := enqueue(tg, l, chats)
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(stored)
	}
	waitUntil(time.Minute, func() bool { return count() >= l.n })
	cpu1 := e.cpuNow(ctx)
	mu.Lock()
	r := stats(arrived, stored)
	mu.Unlock()
	r.cpu = perReply(cpu0, cpu1, l.n)
	if failed > 0 {
		return r, fmt.Errorf("bare handler: %d writes failed", failed)
	}
	return r, nil
}

func openBareSQLite(ctx context.Context, dir string) (*sql.DB, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	dsn := "file:" + filepath.Join(dir, "bare.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE updates(id INTEGER PRIMARY KEY, chat INTEGER, text TEXT)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("bare sqlite: %w", err)
	}
	return db, nil
}

// replies is the spread load and the single-chat load on each store, each next to the bare
// handler on the same store kind. The spread load runs rounds times, the bare handler and
// duban alternating, so that a moment of the shared machine's load falls on both: the row
// gives the round whose ratio is the median, with the range, and the acknowledgements of
// every round.
func (e *env) replies(ctx context.Context, spread, single replyLoad, rounds int) ([]row, []string, error) {
	var rows []row
	var fails []string
	for _, be := range e.backends() {
		type round struct {
			duban, bare replyResult
			ratio       float64
		}
		var rs []round
		var acks replyResult // summed over the rounds
		for range max(rounds, 1) {
			base, err := e.bareReplies(ctx, be.name, spread)
			if err != nil {
				return rows, fails, err
			}
			r, err := e.dubanReplies(ctx, be, spread)
			if err != nil {
				return rows, fails, err
			}
			fails = append(fails, replyFailures(be.name+" spread", r, spread.n)...)
			rs = append(rs, round{duban: r, bare: base, ratio: r.rate / base.rate})
			acks.acks += r.acks
			acks.ackLost += r.ackLost
			acks.ackDups += r.ackDups
			acks.tooMany += r.tooMany
			acks.ackTime = max(acks.ackTime, r.ackTime)
		}
		slices.SortFunc(rs, func(a, b round) int { return cmp.Compare(a.ratio, b.ratio) })
		med := rs[len(rs)/2]
		r, base := med.duban, med.bare
		ratio := fmt.Sprintf("%.2f of the rate", med.ratio)
		of := ""
		if len(rs) > 1 {
			ratio = fmt.Sprintf("%.2f of the rate (median of %d rounds; %.2f–%.2f)", med.ratio, len(rs), rs[0].ratio, rs[len(rs)-1].ratio)
			of = fmt.Sprintf(" in %d rounds", len(rs))
		}
		rows = append(rows, row{
			what: fmt.Sprintf("replies: %d queued at once from %d chats, %s", spread.n, spread.chats, be.name),
			duban: fmt.Sprintf("arrival→stored median %s, p99 %s, %.0f/s; %d lost, %d duplicated; %s",
				fmtDur(r.median), fmtDur(r.p99), r.rate, r.lost, r.dups, r.cpu),
			baseline: fmt.Sprintf("bare handler: median %s, p99 %s, %.0f/s; %s", fmtDur(base.median), fmtDur(base.p99), base.rate, base.cpu),
			ratio:    ratio,
			goal:     "rate ≥ 0.5 of bare, p99 < 50 ms",
			met:      metIf(med.ratio >= 0.5 && r.p99 < 50*time.Millisecond),
		}, row{
			what: fmt.Sprintf("acknowledgements of those %d%s, %s", spread.n, of, be.name),
			duban: fmt.Sprintf("%d sent, each round's in %.0f s at most (Telegram time), %d lost, %d duplicated, %d 429s",
				acks.acks, e.tgSeconds(acks.ackTime), acks.ackLost, acks.ackDups, acks.tooMany),
			baseline: "the bare handler sends none",
			ratio:    "—",
			goal:     "at Telegram's limit, 0 429s",
			met:      metIf(acks.tooMany == 0 && acks.ackLost == 0 && acks.ackDups == 0),
		})

		s, err := e.dubanReplies(ctx, be, single)
		if err != nil {
			return rows, fails, err
		}
		fails = append(fails, replyFailures(be.name+" single chat", s, single.n)...)
		rows = append(rows, row{
			what: fmt.Sprintf("replies: %d from one chat, %s", single.n, be.name),
			duban: fmt.Sprintf("median %s, p99 %s, %.0f/s; acks %d of %d, %d duplicated, %d 429s",
				fmtDur(s.median), fmtDur(s.p99), s.rate, s.acks, single.n, s.ackDups, s.tooMany),
			baseline: "—",
			ratio:    "—",
			goal:     "p99 < 1 s",
			met:      metIf(s.p99 < time.Second && s.lost == 0),
		})
	}
	return rows, fails, nil
}

func replyFailures(what string, r replyResult, n int) []string {
	var out []string
	if r.lost > 0 || r.dups > 0 {
		out = append(out, fmt.Sprintf("replies %s: %d of %d lost, %d duplicated", what, r.lost, n, r.dups))
	}
	if r.ackLost > 0 || r.ackDups > 0 {
		out = append(out, fmt.Sprintf("replies %s: %d acknowledgements lost, %d duplicated", what, r.ackLost, r.ackDups))
	}
	if r.tooMany > 0 {
		out = append(out, fmt.Sprintf("replies %s: %d 429s", what, r.tooMany))
	}
	return out
}

var _ daemon.Store = (*timedStore)(nil)
