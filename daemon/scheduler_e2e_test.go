package daemon_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

var cst, _ = time.LoadLocation("Asia/Shanghai")

// taskRe finds the task numbers that start a nudge's items: an item's second line is indented,
// or in a single-task nudge starts with its deadline; the example at the end is neither.
var taskRe = regexp.MustCompile(`(?m)^(?:🔴|🟡|🔵)?#(\d+) [^\n]*\n(?:    |截止)`)

// bindDirect binds a department in the store, as /bind would have before the daemon started.
func bindDirect(tb testing.TB, st daemon.Store, dept string, chat telegramtest.Chat) {
	tb.Helper()
	if err := st.Bind(context.Background(), store.Binding{Department: dept, ChatID: chat.ID, Title: chat.Title, BoundAt: time.Now(), BoundBy: admin.ID}); err != nil {
		tb.Fatal(err)
	}
}

// TestNudgeReplyDoneNoMoreNudges: a tick nudges 市教育局 about its overdue tasks in one
// message; it replies that #16 is done; the next overdue round leaves #16 out.
func TestNudgeReplyDoneNoMoreNudges(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			r := directRig(t, be, tg)
			ctx := context.Background()

			now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
			rep, err := r.d.Scheduler().Tick(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Messages != 1 || rep.Items != 33 {
				t.Fatalf("first tick: got %+v, want one message to 市教育局 with its 33 tasks", rep)
			}
			nudge := r.waitText(t, eduGroup.ID, "以下 33 项任务请报送进展")
			// Every task is overdue but #50, a yearly one whose 2026 round ends on 2026-12-31.
			if n := strings.Count(nudge.PlainText, "🔴"); n != 32 || !strings.Contains(nudge.PlainText, "#50 ") {
				t.Errorf("nudge: got %d red marks, want 32 and #50 with 30 days left", n)
			}
			r.waitText(t, supGroup.ID, "【督办升级】")

			tg.Reply(eduGroup, clerk, nudge.MessageID, "#16 已完成 已建立协调机制")
			r.waitText(t, eduGroup.ID, "已记录 #16 已完成")

			rep, err = r.d.Scheduler().Tick(ctx, now.AddDate(0, 0, 7))
			if err != nil {
				t.Fatal(err)
			}
			// The second overdue round: #16 is done, and #50's next stage (14 days) is not due.
			if rep.Items != 31 {
				t.Errorf("a week later: got %d items, want 31", rep.Items)
			}
			second := tg.SentTo(eduGroup.ID)
			last := second[len(second)-1].PlainText
			if strings.Contains(last, "#16 ") || !strings.Contains(last, "以下 31 项任务") {
				t.Errorf("second nudge still names #16 or is not the round of 31:\n%s", last)
			}
		})
	}
}

// TestRestartCatchesUpOnce: the daemon was down at 09:00; started at 15:00 it runs that tick
// once, and a second start the same afternoon sends nothing more.
func TestRestartCatchesUpOnce(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			tg.AddChat(eduGroup)
			c, p := testConfig(t, tg)
			c.Schedule.Nudge, c.Schedule.CatchUp = "0 9 * * 1-5", config.Duration(24*time.Hour)
			st, reopen := be.open(t)
			bindDirect(t, st, "市教育局", eduGroup)
			afternoon := time.Date(2026, 12, 1, 15, 0, 0, 0, cst) // a Tuesday
			clock := func(o *daemon.Options) { o.Now = func() time.Time { return afternoon } }

			first := startRig(t, tg, c, p, st, clock)
			first.waitText(t, eduGroup.ID, "以下 33 项任务请报送进展")
			if err := first.stop(); err != nil {
				t.Fatal(err)
			}
			be.closer(st)

			second := startRig(t, tg, c, p, reopen(t), clock)
			// Something the second daemon surely does after its catch-up: answer /help.
			tg.Send(adminChat, admin, "/help")
			second.waitText(t, adminChat.ID, "如何报送进展")
			if n := second.countText(eduGroup.ID, "请报送进展"); n != 1 {
				t.Errorf("after the restart: got %d nudges in all, want 1", n)
			}
		})
	}
}

// leaseStore is the Redis store as a crashed leader leaves it: the lease is never released,
// it only lapses.
type crashingStore struct {
	daemon.Store
	lease interface {
		AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
		RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	}
}

func (c crashingStore) AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	return c.lease.AcquireLease(ctx, name, token, ttl)
}

func (c crashingStore) RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	return c.lease.RenewLease(ctx, name, token, ttl)
}

func (crashingStore) ReleaseLease(context.Context, string, string) error { return nil }

// TestOneLeaderAndTakeover: two daemons on one Redis; one leads (polls and schedules), the
// other waits. Both ticking at once send every reminder once. When the leader dies without
// releasing its lease, the other takes over and answers the department.
func TestOneLeaderAndTakeover(t *testing.T) {
	url := ""
	for _, be := range backends(t) {
		if be.name != "redis" {
			continue
		}
		url = be.name
		tg := newFakeTelegram(t)
		tg.AddChat(eduGroup)
		c, p := testConfig(t, tg)
		st, reopen := be.open(t)
		bindDirect(t, st, "市教育局", eduGroup)
		type leaser interface {
			AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
			RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
		}
		fast := func(name string) func(*daemon.Options) {
			return func(o *daemon.Options) {
				o.Instance, o.LeaseTTL, o.LeaseRenew, o.LeaseRetry = name, time.Second, 200*time.Millisecond, 100*time.Millisecond
			}
		}
		a := startRig(t, tg, c, p, crashingStore{Store: st, lease: st.(leaser)}, fast("a"))
		other := reopen(t)
		b := startRig(t, tg, c, p, other, fast("b"))
		eventually(t, "one leader", func() bool { return a.d.Leading() != b.d.Leading() })
		leader, follower := a, b
		if b.d.Leading() {
			t.Fatal("b leads although a started first and holds the lease")
		}

		// Both tick at the same moment: the ledger lets each reminder out once.
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := follower.d.Scheduler().Tick(context.Background(), now); err != nil {
				t.Error(err)
			}
		}()
		if _, err := leader.d.Scheduler().Tick(context.Background(), now); err != nil {
			t.Fatal(err)
		}
		<-done
		// Each reminder goes out once, whichever instance claimed it. (They may split the
		// items between two messages here; in service the tick itself is claimed too, so one
		// instance runs it.)
		nudgedOnce(t, tg, "two instances ticking: ")

		// The leader dies; its lease lapses after a second and b takes over.
		if err := leader.stop(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		eventually(t, "b leading", follower.d.Leading)
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("takeover took %v, want under 30 s", took)
		}
		tg.Send(eduGroup, clerk, "/report 16 进行中 70%")
		follower.waitText(t, eduGroup.ID, "已记录 #16 进行中 70%")
	}
	if url == "" {
		t.Log("Redis not available: the leader test needs a shared store")
	}
}

// TestGracefulShutdownReleasesLease: a leader stopped by SIGTERM gives its lease up, so the
// other daemon takes over at once rather than after the lease's TTL.
func TestGracefulShutdownReleasesLease(t *testing.T) {
	for _, be := range backends(t) {
		if be.name != "redis" {
			continue
		}
		tg := telegramtest.New(t, telegramtest.WithoutLimits())
		c, p := testConfig(t, tg)
		st, reopen := be.open(t)
		slow := func(name string) func(*daemon.Options) {
			return func(o *daemon.Options) {
				o.Instance, o.LeaseTTL, o.LeaseRenew, o.LeaseRetry = name, time.Minute, 10*time.Second, 50*time.Millisecond
			}
		}
		a := startRig(t, tg, c, p, st, slow("a"))
		eventually(t, "a leading", a.d.Leading)
		b := startRig(t, tg, c, p, reopen(t), slow("b"))
		if err := a.stop(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		eventually(t, "b leading", b.d.Leading)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("takeover after a graceful stop took %v, want well under the 1-minute TTL", took)
		}
	}
}
