package daemon_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/redis/redistest"
	"github.com/duban/duban/store/sqlite"
)

// People and chats of the tests.
var (
	admin     = telegramtest.NewUser(1001, "督查员")
	clerk     = telegramtest.NewUser(2001, "王五")
	eduGroup  = telegramtest.GroupChat(-1001, "市教育局工作群")
	hrGroup   = telegramtest.GroupChat(-1002, "市人社局工作群")
	supGroup  = telegramtest.GroupChat(-500, "督查室")
	adminChat = telegramtest.PrivateChat(admin)
)

// backend opens a fresh store of one kind; reopen opens the same data again, as a restarted
// daemon would.
type backend struct {
	name   string
	open   func(tb testing.TB) (s daemon.Store, reopen func(tb testing.TB) daemon.Store)
	closer func(s daemon.Store)
}

// backends are the embedded store and Redis. Redis needs REDIS_URL; under CI=true its
// absence fails the test instead of skipping it.
func backends(tb testing.TB) []backend {
	tb.Helper()
	closeStore := func(s daemon.Store) {
		if c, ok := s.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
	out := []backend{{
		name: "sqlite",
		open: func(tb testing.TB) (daemon.Store, func(testing.TB) daemon.Store) {
			path := filepath.Join(tb.TempDir(), "duban.db")
			open := func(tb testing.TB) daemon.Store {
				tb.Helper()
				s, err := sqlite.Open(context.Background(), path, "test:")
				if err != nil {
					tb.Fatalf("open sqlite: %v", err)
				}
				tb.Cleanup(func() { _ = s.Close() })
				return s
			}
			return open(tb), open
		},
		closer: closeStore,
	}}
	url, ok := redistest.URL(tb)
	if !ok {
		return out
	}
	return append(out, backend{
		name: "redis",
		open: func(tb testing.TB) (daemon.Store, func(testing.TB) daemon.Store) {
			prefix := redistest.Prefix(tb, url)
			open := func(tb testing.TB) daemon.Store {
				tb.Helper()
				s, err := redis.Open(context.Background(), url, prefix)
				if err != nil {
					tb.Fatalf("open redis: %v", err)
				}
				tb.Cleanup(func() { _ = s.Close() })
				return s
			}
			return open(tb), open
		},
		closer: closeStore,
	})
}

// faultyStore passes everything to a real store, but Record can be made to fail, as in an
// outage, and can run a hook once a record is stored, as a crash would interrupt.
type faultyStore struct {
	daemon.Store
	failRecords atomic.Int32 // fail this many Record calls
	failBinds   atomic.Int32 // fail this many Bind calls
	afterRecord atomic.Pointer[func()]
}

func (f *faultyStore) Bind(ctx context.Context, b store.Binding) error {
	if f.failBinds.Add(-1) >= 0 {
		return errOutage
	}
	f.failBinds.Store(0)
	return f.Store.Bind(ctx, b)
}

var errOutage = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (f *faultyStore) Record(ctx context.Context, id int64, ups []store.Update) ([]store.Update, bool, error) {
	got, _, fresh, err := f.record(ctx, func() ([]store.Update, store.Answer, bool, error) {
		got, fresh, err := f.Store.Record(ctx, id, ups)
		return got, store.Answer{}, fresh, err
	})
	return got, fresh, err
}

// RecordAnswered fails and hooks as Record does: a report is recorded through it.
func (f *faultyStore) RecordAnswered(ctx context.Context, id int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	return f.record(ctx, func() ([]store.Update, store.Answer, bool, error) {
		return f.Store.RecordAnswered(ctx, id, ups, answer)
	})
}

func (f *faultyStore) record(ctx context.Context, write func() ([]store.Update, store.Answer, bool, error)) ([]store.Update, store.Answer, bool, error) {
	if f.failRecords.Add(-1) >= 0 {
		return nil, store.Answer{}, false, errOutage
	}
	f.failRecords.Store(0)
	got, a, fresh, err := write()
	if hook := f.afterRecord.Load(); hook != nil && err == nil {
		(*hook)()
	}
	return got, a, fresh, err
}

// rig is a daemon running against the fake Bot API.
type rig struct {
	tg    *telegramtest.Server
	cfg   *config.Config
	plan  *config.Plan
	store daemon.Store
	d     *daemon.Daemon
	addr  string
	stop  func() error // cancels the daemon and waits for it

	exited chan struct{} // closed when Run has returned, with runErr
	runErr error
}

func testConfig(tb testing.TB, tg *telegramtest.Server) (*config.Config, *config.Plan) {
	tb.Helper()
	c, err := config.LoadConfigEnv("../config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	p, err := config.LoadPlan(c.TasksPath(), c)
	if err != nil {
		tb.Fatalf("plan: %v", err)
	}
	c.Telegram.Token = config.Secret(tg.Token())
	c.Telegram.APIURL = tg.URL()
	c.Telegram.Admins = []int64{admin.ID}
	c.Supervisors.Chat = supGroup.ID
	c.HTTP.Listen = "127.0.0.1:0"
	// No tick during these tests unless one asks for it: the scheduler's own tests set the
	// schedules and the clock.
	c.Schedule.Nudge, c.Schedule.Digest = "0 0 1 1 *", "0 0 1 1 *"
	c.Schedule.CatchUp = config.Duration(time.Nanosecond)
	return c, p
}

// fastSending keeps the sender's pipeline but not Telegram's pace, which the fake does not
// enforce here (the rate-limit test has its own).
var fastSending = sender.Limits{Overall: time.Microsecond, PerChat: time.Microsecond, RetryAfterUnit: time.Millisecond}

func startRig(tb testing.TB, tg *telegramtest.Server, c *config.Config, p *config.Plan, st daemon.Store, tweaks ...func(*daemon.Options)) *rig {
	tb.Helper()
	r := &rig{tg: tg, cfg: c, plan: p, store: st}
	ctx, cancel := context.WithCancel(context.Background())
	var addr atomic.Value
	opts := daemon.Options{
		Config: c, Plan: p, Store: st, Log: testLogger(tb),
		SendLimits: fastSending, SendBackoff: time.Millisecond,
		PollTimeout: time.Second, PollBackoff: 5 * time.Millisecond, RetryAfterUnit: time.Millisecond,
		Listening: func(a string) { addr.Store(a) },
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	r.store = opts.Store
	d, err := daemon.New(ctx, opts)
	if err != nil {
		cancel()
		tb.Fatalf("daemon.New: %v", err)
	}
	r.d = d
	r.exited = make(chan struct{})
	go func() {
		r.runErr = d.Run(ctx)
		close(r.exited)
	}()
	r.stop = func() error {
		cancel()
		select {
		case <-r.exited:
			return r.runErr
		case <-time.After(20 * time.Second):
			return errors.New("daemon did not stop within 20 s")
		}
	}
	tb.Cleanup(func() {
		if err := r.stop(); err != nil {
			tb.Errorf("daemon: %v", err)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for addr.Load() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if a, ok := addr.Load().(string); ok {
		r.addr = a
	}
	return r
}

// waitText waits for a message to chat whose visible text contains want, and returns it.
func (r *rig) waitText(tb testing.TB, chat int64, want string) telegramtest.Message {
	tb.Helper()
	var found telegramtest.Message
	r.tg.WaitFor(tb, 10*time.Second, "a message to "+itoa(chat)+" containing "+want, func() bool {
		for _, m := range r.tg.SentTo(chat) {
			if strings.Contains(m.PlainText, want) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// countText counts messages to chat containing want.
func (r *rig) countText(chat int64, want string) int {
	n := 0
	for _, m := range r.tg.SentTo(chat) {
		if strings.Contains(m.PlainText, want) {
			n++
		}
	}
	return n
}

func (r *rig) updates(tb testing.TB, task int) []store.Update {
	tb.Helper()
	ups, err := r.store.Updates(context.Background(), task)
	if err != nil {
		tb.Fatalf("Updates(%d): %v", task, err)
	}
	return ups
}

// eventually polls a condition on the store, which the fake Bot API cannot wake a waiter for.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after 10s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAnswerAttempts waits for n answerCallbackQuery calls after the first accepted one.
func (r *rig) waitAnswerAttempts(tb testing.TB, n int) {
	tb.Helper()
	r.tg.WaitFor(tb, 10*time.Second, "answerCallbackQuery attempts", func() bool {
		return r.tg.Calls("answerCallbackQuery") >= 1+n
	})
}

// newFakeTelegram is the fake Bot API without flood limits (the sender's own tests keep those),
// with the supervisors' chat known to it.
func newFakeTelegram(tb testing.TB, opts ...telegramtest.Option) *telegramtest.Server {
	tb.Helper()
	tg := telegramtest.New(tb, append([]telegramtest.Option{telegramtest.WithoutLimits()}, opts...)...)
	tg.AddChat(supGroup)
	return tg
}

// boundRig starts a daemon against the fake Bot API on a fresh store of be, with 市教育局's
// group bound by invite: where most tests of a department's chat begin.
func boundRig(tb testing.TB, be backend) *rig {
	tb.Helper()
	r := freshRig(tb, be)
	r.bindByInvite(tb, "市教育局", eduGroup)
	return r
}

// freshRig starts a daemon against the fake Bot API on a fresh store of be, nothing bound.
func freshRig(tb testing.TB, be backend) *rig {
	tb.Helper()
	tg := newFakeTelegram(tb)
	c, p := testConfig(tb, tg)
	st, _ := be.open(tb)
	return startRig(tb, tg, c, p, st)
}

// directRig starts a daemon against tg on a fresh store of be, with 市教育局's group known to
// tg and bound in the store before the start, as /bind would have done.
func directRig(tb testing.TB, be backend, tg *telegramtest.Server, tweaks ...func(*daemon.Options)) *rig {
	tb.Helper()
	tg.AddChat(eduGroup)
	c, p := testConfig(tb, tg)
	st, _ := be.open(tb)
	bindDirect(tb, st, "市教育局", eduGroup)
	return startRig(tb, tg, c, p, st, tweaks...)
}

// nudgedOnce checks that the nudges to 市教育局's group name each of its 33 tasks once; what
// prefixes the complaints.
func nudgedOnce(tb testing.TB, tg *telegramtest.Server, what string) {
	tb.Helper()
	seen := map[string]int{}
	for _, m := range tg.SentTo(eduGroup.ID) {
		for _, id := range taskRe.FindAllStringSubmatch(m.PlainText, -1) {
			seen[id[1]]++
		}
	}
	if len(seen) != 33 {
		tb.Errorf("%sgot %d distinct tasks nudged, want 33", what, len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			tb.Errorf("%stask #%s nudged %d times, want once", what, id, n)
		}
	}
}

// withStore puts wrap(store) between the daemon and its store.
func withStore(wrap func(daemon.Store) daemon.Store) func(*daemon.Options) {
	return func(o *daemon.Options) { o.Store = wrap(o.Store) }
}

// bindByInvite binds a department's group as an admin does: /invite in a private chat, then
// the deep link adds the bot to the group.
func (r *rig) bindByInvite(tb testing.TB, dept string, chat telegramtest.Chat) {
	tb.Helper()
	code := r.invite(tb, dept)
	r.tg.AddBotToGroup(chat, admin, code)
	r.waitText(tb, chat.ID, "本群已绑定为「"+dept+"」")
}
