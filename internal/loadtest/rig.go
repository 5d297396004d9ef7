package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/sqlite"
)

// runTB lets the tool use the fake Bot API, which takes a testing.TB, outside a test: the
// embedded interface is nil and only the methods the fake calls are provided.
type runTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	errs     []string
}

// fatal is what Fatalf panics with; run recovers it into an error.
type fatal struct{ msg string }

func (t *runTB) Helper() {}
func (t *runTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}
func (t *runTB) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, fmt.Sprintf(format, args...))
}
func (t *runTB) Error(args ...any)                 { t.Errorf("%s", fmt.Sprint(args...)) }
func (t *runTB) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
func (t *runTB) Fatal(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (t *runTB) Log(args ...any)                   {}
func (t *runTB) Logf(format string, args ...any)   {}
func (t *runTB) Name() string                      { return "loadtest" }
func (t *runTB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.errs) > 0
}

// close runs the cleanups, last first, and returns what the fake reported as misuse.
func (t *runTB) close() error {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
	if len(t.errs) > 0 {
		return fmt.Errorf("fake bot api: %s", strings.Join(t.errs, "; "))
	}
	return nil
}

// env is what every row shares: the Redis, a scratch directory and the time scale.
type env struct {
	redisURL string
	dir      string
	scale    float64 // one Telegram second lasts scale wall-clock seconds on the fake
	log      *slog.Logger
	prefixes *atomic.Int64 // shared by copies of env: names of prefixes and directories
	stores   []string      // the backends to run, by name; nil: all
	// windowProfile: a CPU profile of the spread replies' recording window, "" none
	windowProfile string
}

// scaled is a Telegram duration on the fake's clock.
func (e *env) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * e.scale) }

// tgSeconds is a wall-clock duration in Telegram seconds.
func (e *env) tgSeconds(d time.Duration) float64 { return d.Seconds() / e.scale }

// fake starts the fake Bot API with Telegram's limits on the scaled clock.
func (e *env) fake(tb *runTB) *telegramtest.Server {
	return telegramtest.New(tb, telegramtest.WithLimits(telegramtest.DefaultLimits()), telegramtest.WithTimeScale(e.scale))
}

// sendLimits are sender.DefaultLimits on the fake's clock, as the daemon's lane tests set them.
func (e *env) daemonOptions(o *daemon.Options) {
	l := sender.DefaultLimits
	o.SendLimits = sender.Limits{
		Overall: e.scaled(l.Overall), OverallPerWindow: l.OverallPerWindow, OverallWindow: e.scaled(l.OverallWindow),
		PerChat: e.scaled(l.PerChat), PerGroup: l.PerGroup, GroupWindow: e.scaled(l.GroupWindow),
		RetryAfterUnit: e.scaled(l.RetryAfterUnit),
	}
	o.RetryAfterUnit = e.scaled(time.Second)
	o.SendBackoff = e.scaled(100 * time.Millisecond)
	o.PollTimeout = time.Second
	o.PollBackoff = 5 * time.Millisecond
	o.AnswerGrace = 200 * time.Millisecond
}

// counter counts Redis commands and round trips (a pipeline or MULTI/EXEC is one round trip).
type counter struct {
	commands   atomic.Int64
	roundTrips atomic.Int64
}

func (c *counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.commands.Add(1)
		c.roundTrips.Add(1)
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.commands.Add(int64(len(cmds)))
		c.roundTrips.Add(1)
		return next(ctx, cmds)
	}
}

func (c *counter) read() (commands, roundTrips int64) { return c.commands.Load(), c.roundTrips.Load() }

// redisStore is the Redis store on a prefix of its own, built on a client that counts.
type redisStore struct {
	*redis.Store
	client *goredis.Client
	prefix string
	count  *counter
}

// writeLedger puts ledger into the store's ledger hash as its Confirm writes it (key → time
// sent), a pipeline at a time, and returns the store's Ledger read of it.
func (rs *redisStore) writeLedger(ctx context.Context, ledger map[string]time.Time) (store.Ledger, error) {
	key := "{" + rs.prefix + "}:ledger"
	pl := rs.client.Pipeline()
	for k, at := range ledger {
		pl.HSet(ctx, key, k, store.FormatTime(at))
		if pl.Len() == 5000 {
			if _, err := pl.Exec(ctx); err != nil {
				return nil, fmt.Errorf("write ledger: %w", err)
			}
		}
	}
	if _, err := pl.Exec(ctx); err != nil {
		return nil, fmt.Errorf("write ledger: %w", err)
	}
	got, err := rs.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	if len(got) != len(ledger) {
		return nil, fmt.Errorf("write ledger: read back %d keys of %d", len(got), len(ledger))
	}
	return got, nil
}

func (e *env) openRedis(ctx context.Context) (*redisStore, error) {
	opts, err := redis.ClientOptions(e.redisURL) // as the daemon's store (redis.Open) speaks
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	client := goredis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis ping: %w", err)
	}
	c := &counter{}
	client.AddHook(c)
	prefix := fmt.Sprintf("loadtest:%d:%d:", os.Getpid(), e.prefixes.Add(1))
	return &redisStore{Store: redis.New(client, prefix), client: client, prefix: prefix, count: c}, nil
}

// drop deletes the prefix's keys and closes the client.
func (r *redisStore) drop(ctx context.Context) {
	iter := r.client.Scan(ctx, 0, redis.KeyPattern(r.prefix), 1000).Iterator()
	for iter.Next(ctx) {
		r.client.Del(ctx, iter.Val())
	}
	_ = r.Store.Close()
}

// memoryUsage is the bytes Redis holds (MEMORY USAGE) for each of the prefix's keys, by the
// key's name after the prefix.
func (r *redisStore) memoryUsage(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	iter := r.client.Scan(ctx, 0, redis.KeyPattern(r.prefix), 1000).Iterator()
	for iter.Next(ctx) {
		n, err := r.client.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil {
			return nil, fmt.Errorf("memory usage %s: %w", iter.Val(), err)
		}
		_, name, _ := strings.Cut(iter.Val(), "}:")
		out[name] += n
	}
	return out, iter.Err()
}

func (e *env) openSQLite(ctx context.Context) (*sqlite.Store, string, error) {
	dir, err := os.MkdirTemp(e.dir, "sqlite-")
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "duban.db")
	s, err := sqlite.Open(ctx, path, "duban:")
	return s, path, err
}

// backend opens a fresh store of one kind; done releases it.
type backend struct {
	name string
	open func(ctx context.Context) (st daemon.Store, done func(), err error)
}

func (e *env) backends() []backend {
	all := []backend{
		{"redis", func(ctx context.Context) (daemon.Store, func(), error) {
			r, err := e.openRedis(ctx)
			if err != nil {
				return nil, nil, err
			}
			return r, func() { r.drop(context.Background()) }, nil
		}},
		{"sqlite", func(ctx context.Context) (daemon.Store, func(), error) {
			s, _, err := e.openSQLite(ctx)
			if err != nil {
				return nil, nil, err
			}
			return s, func() { _ = s.Close() }, nil
		}},
	}
	if e.stores == nil {
		return all
	}
	var out []backend
	for _, be := range all {
		if slices.Contains(e.stores, be.name) {
			out = append(out, be)
		}
	}
	return out
}

// timedStore is the daemon's store, with the time each update was first stored: Record
// returning without error and fresh is the moment "acknowledged means on disk" refers to.
type timedStore struct {
	daemon.Store
	mu     sync.Mutex
	stored map[string][]time.Time // by the report's marker
	mark   func(text string) string
}

func newTimedStore(s daemon.Store, mark func(string) string) *timedStore {
	return &timedStore{Store: s, stored: map[string][]time.Time{}, mark: mark}
}

func (t *timedStore) Record(ctx context.Context, id int64, ups []store.Update) ([]store.Update, bool, error) {
	got, fresh, err := t.Store.Record(ctx, id, ups)
	t.stamp(got, fresh, err)
	return got, fresh, err
}

// RecordAnswered is how the daemon records a report: timed as Record is.
func (t *timedStore) RecordAnswered(ctx context.Context, id int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	got, a, fresh, err := t.Store.RecordAnswered(ctx, id, ups, answer)
	t.stamp(got, fresh, err)
	return got, a, fresh, err
}

func (t *timedStore) stamp(got []store.Update, fresh bool, err error) {
	if err == nil && fresh {
		now := time.Now()
		t.mu.Lock()
		for _, u := range got {
			if m := t.mark(u.Text); m != "" {
				t.stored[m] = append(t.stored[m], now)
			}
		}
		t.mu.Unlock()
	}
}

func (t *timedStore) snapshot() map[string][]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string][]time.Time, len(t.stored))
	for k, v := range t.stored {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

func (t *timedStore) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.stored)
}

// ---- generated config and plan ----

const token = telegramtest.DefaultToken

// supervisors is the supervisors' group in every generated config.
var supervisors = telegramtest.GroupChat(-500, "督查室")

type taskSpec struct {
	id       int
	goal     string
	metric   string
	depts    []string
	deadline string // YYYY-MM-DD
}

// writeConfig writes config.yaml and tasks.yaml into a new directory and loads them as the
// daemon would. storeURL "" is the embedded store at data/duban.db beside the config; sup is
// the supervisors' chat, 0 for none.
func (e *env) writeConfig(apiURL, storeURL string, sup int64, depts []string, tasks []taskSpec) (*config.Config, *config.Plan, string, error) {
	dir, err := os.MkdirTemp(e.dir, "config-")
	if err != nil {
		return nil, nil, "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "timezone: Asia/Shanghai\nlanguage: zh\ntasks: tasks.yaml\n")
	fmt.Fprintf(&b, "telegram:\n  token: %q\n  api_url: %q\n  mode: polling\n  admins: [1001]\n", token, apiURL)
	fmt.Fprintf(&b, "store:\n  url: %q\n  path: data/duban.db\n  prefix: \"duban:\"\n", storeURL)
	fmt.Fprintf(&b, "schedule:\n  nudge: \"0 0 1 1 *\"\n  digest: \"0 0 1 1 *\"\n")
	fmt.Fprintf(&b, "supervisors: { chat: %d }\nhttp:\n  listen: \"127.0.0.1:0\"\ndepartments:\n", sup)
	for _, d := range depts {
		fmt.Fprintf(&b, "  %s: { chat: 0 }\n", d)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		return nil, nil, "", err
	}
	b.Reset()
	b.WriteString("start: 2025-01-01\ntasks:\n")
	for _, t := range tasks {
		fmt.Fprintf(&b, "  - id: %d\n    area: 负载测试\n    goal: %q\n", t.id, t.goal)
		if t.metric != "" {
			fmt.Fprintf(&b, "    metric: %q\n", t.metric)
		}
		fmt.Fprintf(&b, "    departments: [%s]\n    deadline: %s\n", strings.Join(t.depts, ", "), t.deadline)
	}
	if err := os.WriteFile(filepath.Join(dir, "tasks.yaml"), []byte(b.String()), 0o600); err != nil {
		return nil, nil, "", err
	}
	noEnv := func(string) (string, bool) { return "", false }
	c, err := config.LoadConfigEnv(cfgPath, noEnv)
	if err != nil {
		return nil, nil, "", fmt.Errorf("generated config: %w", err)
	}
	p, err := config.LoadPlan(c.TasksPath(), c)
	if err != nil {
		return nil, nil, "", fmt.Errorf("generated plan: %w", err)
	}
	// The scheduler's own schedules never fire: every tick here is called, at a time given.
	c.Schedule.CatchUp = config.Duration(time.Nanosecond)
	return c, p, cfgPath, nil
}

func deptName(i int) string { return fmt.Sprintf("单位%04d", i) }

// bindAll binds each department to a group of its own, known to the fake, and returns the
// groups in department order.
func bindAll(ctx context.Context, tg *telegramtest.Server, st daemon.Store, depts []string, base int64) ([]telegramtest.Chat, error) {
	chats := make([]telegramtest.Chat, len(depts))
	for i, d := range depts {
		chat := telegramtest.GroupChat(base-int64(i), d+"工作群")
		tg.AddChat(chat)
		if err := st.Bind(ctx, store.Binding{Department: d, ChatID: chat.ID, Title: chat.Title, BoundAt: time.Now(), BoundBy: 1001}); err != nil {
			return nil, fmt.Errorf("bind %s: %w", d, err)
		}
		chats[i] = chat
	}
	return chats, nil
}

// startDaemon runs the real daemon against tg on st until stop is called.
// tickDaemon is the daemon of a big tick on a Redis of its own: tasks written as a plan with no
// supervisors' chat, each department bound to a group (ids from base down), the daemon
// started. done stops it and drops the Redis data.
func (e *env) tickDaemon(ctx context.Context, tg *telegramtest.Server, depts []string, tasks []taskSpec, base int64) (*daemon.Daemon, *redisStore, []telegramtest.Chat, func(), error) {
	c, p, _, err := e.writeConfig(tg.URL(), "", 0, depts, tasks)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	rs, err := e.openRedis(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	drop := func() { rs.drop(context.Background()) }
	chats, err := bindAll(ctx, tg, rs, depts, base)
	if err != nil {
		drop()
		return nil, nil, nil, nil, err
	}
	d, stop, err := e.startDaemon(ctx, c, p, rs)
	if err != nil {
		drop()
		return nil, nil, nil, nil, err
	}
	return d, rs, chats, func() { _ = stop(); drop() }, nil
}

func (e *env) startDaemon(ctx context.Context, c *config.Config, p *config.Plan, st daemon.Store) (*daemon.Daemon, func() error, error) {
	ctx, cancel := context.WithCancel(ctx)
	o := daemon.Options{Config: c, Plan: p, Store: st, Log: e.log}
	e.daemonOptions(&o)
	d, err := daemon.New(ctx, o)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("daemon.New: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return fmt.Errorf("daemon did not stop within 30 s")
		}
	}
	return d, stop, nil
}

// count429 counts the fake's answers with status 429.
func count429(tg *telegramtest.Server) int {
	n := 0
	for _, r := range tg.Requests() {
		if r.Status == 429 {
			n++
		}
	}
	return n
}

// waitUntil polls cond every 5 ms until it holds or d passes.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// ---- a redis-server of the tool's own ----

// startRedis starts redis-server on a free loopback port without persistence, so the tool
// never touches a database others use.
func startRedis(dir string) (url string, stop func(), err error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return "", nil, fmt.Errorf("redis-server is not on PATH (give -redis URL): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("redis-server: %w", err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := goredis.ParseURL(url)
	client := goredis.NewClient(opts)
	defer client.Close()
	if !waitUntil(10*time.Second, func() bool { return client.Ping(context.Background()).Err() == nil }) {
		stop()
		return "", nil, fmt.Errorf("redis-server on port %d did not answer within 10 s", port)
	}
	return url, stop, nil
}
