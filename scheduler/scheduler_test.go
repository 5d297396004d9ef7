package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/redis/redistest"
	"github.com/duban/duban/store/sqlite"
)

var quiet = slog.New(slog.DiscardHandler)

// backend is a real store the scheduler runs on in these tests.
type backend interface {
	Store
	Bind(ctx context.Context, b store.Binding) error
	Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error)
	Snooze(ctx context.Context, task int, department string, until time.Time) error
}

// eachStore runs f on the embedded store and on Redis.
func eachStore(t *testing.T, f func(t *testing.T, s backend)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), "t:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
	t.Run("redis", func(t *testing.T) {
		url, ok := redistest.URL(t)
		if !ok {
			return
		}
		s, err := redis.Open(context.Background(), url, redistest.Prefix(t, url))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
}

// fakeMessenger records what would reach Telegram, one id per part as the sender gives, and
// calls the hooks as the sender does.
type fakeMessenger struct {
	store   Store
	mu      sync.Mutex
	nudge   []sentNudge
	texts   map[int64][]string
	fail    func(dept string) error
	pending map[string]sentNudge // rendered nudges, by their text
	ids     int
	// failPart, if set, can fail a part of a message before it goes out.
	failPart func(chat int64, part int) error
	parts    map[int64][]int // the parts sent to each chat, by index
}

type sentNudge struct {
	dept  string
	chat  int64
	items []i18n.NudgeItem
}

func (m *fakeMessenger) NudgeMessage(dept string, chat int64, items []i18n.NudgeItem) sender.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending == nil {
		m.pending = map[string]sentNudge{}
	}
	text := fmt.Sprintf("nudge %d to %s", len(m.pending), dept)
	m.pending[text] = sentNudge{dept, chat, items}
	return sender.Message{ChatID: chat, Text: text}
}

func (m *fakeMessenger) SendFrom(ctx context.Context, msg sender.Message, from int, h sender.Hooks) ([]int, error) {
	m.mu.Lock()
	n, isNudge := m.pending[msg.Text]
	m.mu.Unlock()
	if isNudge && m.fail != nil {
		if err := m.fail(n.dept); err != nil {
			return nil, err
		}
	}
	var ids []int
	for i := from; i < len(sender.Split(msg.Text, sender.MaxLength)); i++ {
		if h.Before != nil {
			if err := h.Before(ctx, i); err != nil {
				return ids, err
			}
		}
		if m.failPart != nil {
			if err := m.failPart(msg.ChatID, i); err != nil {
				return ids, err
			}
		}
		m.mu.Lock()
		if m.parts == nil {
			m.parts = map[int64][]int{}
		}
		m.parts[msg.ChatID] = append(m.parts[msg.ChatID], i)
		m.ids++
		id := m.ids
		if isNudge {
			m.nudge = append(m.nudge, n)
		} else {
			if m.texts == nil {
				m.texts = map[int64][]string{}
			}
			m.texts[msg.ChatID] = append(m.texts[msg.ChatID], msg.Text)
		}
		m.mu.Unlock()
		ids = append(ids, id)
		if h.Sent != nil {
			if err := h.Sent(ctx, i, id); err != nil {
				return ids, err
			}
		}
	}
	return ids, nil
}

// bigPlan: 甲局 holds 33 tasks, overdue since 2026-11-01, 乙局 two; the supervisors chat is set.
func bigPlan(tb testing.TB) (*config.Config, *config.Plan) {
	tb.Helper()
	var b strings.Builder
	b.WriteString("tasks:\n")
	for i := 1; i <= 33; i++ {
		fmt.Fprintf(&b, "  - {id: %d, area: 区域%d, goal: 目标%d, departments: [甲局], deadline: 2026-11-%02d}\n", i, i%3, i, i%28+1)
	}
	b.WriteString("  - {id: 40, area: 区域0, goal: 乙的任务, departments: [乙局], deadline: 2026-12-05}\n")
	b.WriteString("  - {id: 41, area: 区域0, goal: 乙的任务二, departments: [乙丙], deadline: 2027-06-30}\n")
	c, p := testPlan(tb, b.String())
	c.Supervisors.Chat = -500
	return c, p
}

func newScheduler(tb testing.TB, s Store, m Messenger, c *config.Config, p *config.Plan, owner string) *Scheduler {
	tb.Helper()
	sc, err := New(s, m, c, p, owner, quiet, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

func TestTickOneMessagePerDepartment(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t)
		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		m := &fakeMessenger{store: s}
		sc := newScheduler(t, s, m, c, p, "a")
		now := at("2026-12-01 09:00")
		rep, err := sc.Tick(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.nudge) != 1 || m.nudge[0].dept != "甲局" || len(m.nudge[0].items) != 33 {
			t.Fatalf("nudges: got %d messages (%+v), want one to 甲局 with 33 items", len(m.nudge), rep)
		}
		items := m.nudge[0].items
		if !slices.IsSortedFunc(items, func(a, b i18n.NudgeItem) int { return a.DaysLeft - b.DaysLeft }) || items[0].DaysLeft != -30 {
			t.Errorf("items: want the most overdue first (-30 days), got first %d", items[0].DaysLeft)
		}
		if rep.Unbound != 1 {
			t.Errorf("unbound: got %d items, want 1 (乙局's task 40 is due, and 乙局 has no chat)", rep.Unbound)
		}
		sup := m.texts[-500]
		if len(sup) != 1 || strings.Count(sup[0], "🔴") != 33 {
			t.Errorf("supervisors: got %d messages, want one naming the 33 overdue items", len(sup))
		}
		// The same tick again sends nothing: everything is in the ledger.
		rep, err = sc.Tick(ctx, now)
		if err != nil || rep.Messages != 0 || rep.Escalations != 0 {
			t.Errorf("second tick: got %+v, %v; want nothing sent", rep, err)
		}
		// A department that reports done gets nothing more for that task.
		if _, _, err := s.Record(ctx, 0, []store.Update{{Task: 1, Department: "甲局", At: now, Text: "已完成", Status: store.StatusDone, Source: store.SourceReply}}); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Tick(ctx, at("2026-12-08 09:00")); err != nil {
			t.Fatal(err)
		}
		for _, it := range m.nudge[len(m.nudge)-1].items {
			if it.Task == 1 {
				t.Error("task 1 nudged after 甲局 reported it done")
			}
		}
	})
}

// TestTwoInstancesSendEachReminderOnce: two schedulers on one store tick at the same moment;
// the ledger's claims let each reminder out once.
func TestTwoInstancesSendEachReminderOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t)
		for dept, chat := range map[string]int64{"甲局": -1001, "乙局": -1002, "丙局": -1003} {
			if err := s.Bind(ctx, store.Binding{Department: dept, ChatID: chat, BoundAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		m := &fakeMessenger{store: s}
		a, b := newScheduler(t, s, m, c, p, "a"), newScheduler(t, s, m, c, p, "b")
		now := at("2026-12-01 09:00")
		var wg sync.WaitGroup
		for _, sc := range []*Scheduler{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := sc.Tick(ctx, now); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, n := range m.nudge {
			for _, it := range n.items {
				seen[fmt.Sprintf("%d|%s", it.Task, n.dept)]++
			}
		}
		want := len(Decide(p, emptyState(), SettingsFrom(c), now).Nudges)
		if len(seen) != want {
			t.Errorf("got %d distinct reminders, want %d", len(seen), want)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("reminder %s sent %d times, want once", k, n)
			}
		}
		if got := len(m.texts[-500]); got > 2 {
			t.Errorf("supervisors got %d escalation messages, want each item once", got)
		}
	})
}

// TestCatchUpRunsOnce: a daemon that was down at 09:00 runs that tick once when it starts at
// 15:00, and a second start the same day runs nothing.
func TestCatchUpRunsOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t)
		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		m := &fakeMessenger{store: s}
		start := at("2026-12-01 15:00") // Tuesday; the last nudge tick was 09:00 today
		sc, _ := New(s, m, c, p, "a", quiet, func() time.Time { return start })
		if err := sc.CatchUp(ctx, start); err != nil {
			t.Fatal(err)
		}
		if len(m.nudge) != 1 {
			t.Fatalf("catch-up: got %d messages, want 1", len(m.nudge))
		}
		again, _ := New(s, m, c, p, "b", quiet, func() time.Time { return start.Add(time.Hour) })
		if err := again.CatchUp(ctx, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if len(m.nudge) != 1 {
			t.Errorf("second start: got %d messages in all, want still 1", len(m.nudge))
		}
		// Down for a whole week: only the latest tick within catch_up (24 h) runs, once.
		c2, p2 := bigPlan(t)
		c2.Schedule.Nudge = "0 9 * * *"
		late := at("2026-12-20 10:00")
		m2 := &fakeMessenger{store: s}
		sc2, _ := New(s, m2, c2, p2, "c", quiet, func() time.Time { return late })
		if err := sc2.CatchUp(ctx, late); err != nil {
			t.Fatal(err)
		}
		if len(m2.nudge) != 1 {
			t.Errorf("after a week down: got %d messages, want 1", len(m2.nudge))
		}
	})
}

func TestDigest(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t)
		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		now := at("2026-12-01 09:00")
		pct := 40
		if _, _, err := s.Record(ctx, 0, []store.Update{{Task: 40, Department: "乙局", At: now.Add(-48 * time.Hour), Text: "方案已报 <审核中>", Status: store.StatusInProgress, Percent: &pct, Source: store.SourceReply}}); err != nil {
			t.Fatal(err)
		}
		m := &fakeMessenger{store: s}
		sc := newScheduler(t, s, m, c, p, "a")
		n, err := sc.SendDigests(ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("digests: got %d, %v; want 2 (supervisors and 甲局)", n, err)
		}
		sup := m.texts[-500][0]
		for _, want := range []string{"【督办周报】2026-12-01", "区域0：0 / 1 / 0 / 12", "🔴 逾期未完成（按单位）", "• 甲局（33项）", "🔵 即将到期", "#40 乙的任务（乙局）", "尚未绑定群的单位", "本周收到的报送</b>（1）", "方案已报 &lt;审核中&gt;"} {
			if !strings.Contains(sup, want) {
				t.Errorf("supervisors' digest lacks %q:\n%s", want, sup)
			}
		}
		if dept := m.texts[-1001][0]; !strings.Contains(dept, "【督办周报】甲局</b>：未完成的任务 33 项") {
			t.Errorf("甲局's digest: got\n%s", dept)
		}
		if n, _ := sc.SendDigests(ctx, now.Add(2*time.Hour)); n != 0 {
			t.Errorf("second digest in the same week: got %d messages, want 0", n)
		}
	})
}

// shiftedClock runs at real speed from a chosen moment, so that Run's real timers fire at
// the schedule's times within a test's patience.
func shiftedClock(start time.Time) func() time.Time {
	offset := time.Until(start)
	return func() time.Time { return time.Now().Add(offset) }
}

// TestRunFiresBothSchedulesAtOnce: at 09:00 on a Monday the nudge and the digest are both
// due; both run. A messenger that fails the first nudge gets it again on the retry.
func TestRunFiresBothSchedulesAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, p := bigPlan(t)
		c.Schedule.CatchUp = config.Duration(time.Second)
		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		failures := 1
		m := &fakeMessenger{store: s}
		var mu sync.Mutex
		m.fail = func(string) error {
			mu.Lock()
			defer mu.Unlock()
			if failures > 0 {
				failures--
				return fmt.Errorf("telegram: 502 Bad Gateway")
			}
			return nil
		}
		monday := at("2026-11-30 09:00") // a Monday: nudge "0 9 * * 1-5", digest "0 9 * * 1"
		sc, err := New(s, m, c, p, "a", quiet, shiftedClock(monday.Add(-200*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		sc.retryEvery = 100 * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- sc.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m.mu.Lock()
			nudges, digests := len(m.nudge), len(m.texts[-1001])
			m.mu.Unlock()
			if nudges >= 1 && digests >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("got %d nudges and %d department digests, want the nudge (after one retry) and the digest", nudges, digests)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.nudge) != 1 || len(m.nudge[0].items) != 33 {
			t.Errorf("nudges: got %d, want one with 33 items after the retry", len(m.nudge))
		}
	})
}

// TestRunStartsAcrossATick: a start whose clock passes a tick between reading the catch-up
// and the first schedule still runs that tick (issue 9: a start just before 09:00 skipped it).
func TestRunStartsAcrossATick(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, p := bigPlan(t)
		c.Schedule.CatchUp = config.Duration(time.Second)
		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		m := &fakeMessenger{store: s}
		monday := at("2026-11-30 09:00")
		after := shiftedClock(monday.Add(time.Second))
		var calls atomic.Int32
		clock := func() time.Time { // the first reading before 09:00, every later one after it
			if calls.Add(1) == 1 {
				return monday.Add(-time.Second)
			}
			return after()
		}
		sc, err := New(s, m, c, p, "a", quiet, clock)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- sc.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m.mu.Lock()
			nudges := len(m.nudge)
			m.mu.Unlock()
			if nudges >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("got %d nudges, want the 09:00 tick run", nudges)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestDigestPartsResume: a department's digest in several parts whose part 2 fails: the retry
// sends parts 2 onwards only, and the digest is then in the ledger.
func TestDigestPartsResume(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("tasks:\n")
		for i := 1; i <= 150; i++ {
			fmt.Fprintf(&b, "  - {id: %d, area: 区域%d, goal: 目标%d完成本年度重点工作任务, departments: [甲局], deadline: 2027-11-%02d}\n", i, i%3, i, i%28+1)
		}
		c, p := testPlan(t, b.String())
		if err := s.Bind(ctx, store.Binding{Department: "甲局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		m := &fakeMessenger{store: s}
		down := true
		m.failPart = func(chat int64, part int) error {
			if chat == -1001 && part == 1 && down {
				return fmt.Errorf("telegram: 502 Bad Gateway")
			}
			return nil
		}
		sc := newScheduler(t, s, m, c, p, "a")
		now := at("2026-12-07 09:00")
		if _, err := sc.SendDigests(ctx, now); err == nil {
			t.Fatal("first try: got no error, want the digest cut short")
		}
		if got := fmt.Sprint(m.parts[-1001]); got != "[0]" {
			t.Fatalf("first try: got parts %s, want [0]", got)
		}
		down = false
		if _, err := sc.SendDigests(ctx, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		n := len(sender.Split(m.texts[-1001][0], sender.MaxLength))
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		if n < 2 || fmt.Sprint(m.parts[-1001]) != fmt.Sprint(want) {
			t.Errorf("after the retry: got parts %v, want each of %d once", m.parts[-1001], n)
		}
		if sent, err := sc.SendDigests(ctx, now.Add(2*time.Minute)); err != nil || sent != 0 {
			t.Errorf("a third try: got %d sent, %v; want nothing", sent, err)
		}
	})
}
