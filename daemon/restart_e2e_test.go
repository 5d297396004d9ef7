package daemon_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/duban/duban/daemon"
)

// TestRestartIsTheSameInstance: on Redis a daemon dies holding the leader lease (a minute
// long) and the claims of a nudge it never sent. Restarted on the same host and config, it is
// the same instance: it leads at once instead of after the lease, and the same tick sends the
// nudge it had claimed instead of leaving it for the claim's 5 minutes. A second daemon
// started beside it on the same identity file is an instance of its own: it neither takes
// the lease from the live one nor sends its reminders, and takes over when it stops.
func TestRestartIsTheSameInstance(t *testing.T) {
	ran := false
	for _, be := range backends(t) {
		if be.name != "redis" {
			continue
		}
		ran = true
		tg := newFakeTelegram(t)
		tg.AddChat(eduGroup)
		c, p := testConfig(t, tg)
		// No escalation: a tick sends to its chats at once, and the one failure injected
		// below is the nudge's.
		c.Supervisors.Chat = 0
		st, reopen := be.open(t)
		bindDirect(t, st, "市教育局", eduGroup)
		path := filepath.Join(t.TempDir(), "instance.json")
		open := func() *daemon.Identity {
			t.Helper()
			id, err := daemon.OpenIdentity(path)
			if err != nil {
				t.Fatalf("OpenIdentity: %v", err)
			}
			t.Cleanup(func() { _ = id.Close() })
			return id
		}
		as := func(id *daemon.Identity) func(*daemon.Options) {
			return func(o *daemon.Options) {
				o.Identity, o.LeaseTTL, o.LeaseRenew, o.LeaseRetry = id, time.Minute, 10*time.Second, 50*time.Millisecond
			}
		}
		type leaser interface {
			AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
			RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
		}

		// The first run claims the tick's nudge, fails to send it, and dies without releasing
		// its lease: what a kill -9 between claiming and sending leaves in the store.
		first := open()
		a := startRig(t, tg, c, p, crashingStore{Store: st, lease: st.(leaser)}, as(first))
		eventually(t, "the first run leading", a.d.Leading)
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
		tg.FailNext("sendMessage", 1, 400, "Bad Request: the daemon died here", 0)
		if rep, err := a.d.Scheduler().Tick(context.Background(), now); err == nil || rep.Failed != 1 {
			t.Fatalf("first run's tick: got %+v, %v; want the nudge failed", rep, err)
		}
		if n := len(tg.SentTo(eduGroup.ID)); n != 0 {
			t.Fatalf("first run: got %d messages to the department, want none", n)
		}
		if err := a.stop(); err != nil {
			t.Fatal(err)
		}
		_ = first.Close() // the process is gone, and its lock with it

		second := open()
		if second.Name != first.Name || second.Previous != first.Token || second.Token == first.Token || second.Shared {
			t.Fatalf("restarted identity: got %+v, want name %q, previous %q and a token of its own", second, first.Name, first.Token)
		}
		start := time.Now()
		b := startRig(t, tg, c, p, reopen(t), as(second))
		eventually(t, "the restarted daemon leading", b.d.Leading)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("restarted daemon led after %v, want at once, not after its predecessor's 1-minute lease", took)
		}
		rep, err := b.d.Scheduler().Tick(context.Background(), now)
		if err != nil || rep.Messages != 1 {
			t.Fatalf("restarted daemon's tick: got %+v, %v; want the nudge its predecessor claimed sent now", rep, err)
		}
		if n := len(tg.SentTo(eduGroup.ID)); n != 1 {
			t.Errorf("after the restart: got %d messages to the department, want 1", n)
		}

		// A second live daemon on the same host and config is not taken for a dead one.
		third := open()
		if !third.Shared || third.Name == second.Name {
			t.Fatalf("identity opened beside a live daemon: got %+v, want one of its own (not %q)", third, second.Name)
		}
		c3 := startRig(t, tg, c, p, reopen(t), as(third))
		for range 20 { // a second of lease retries
			if c3.d.Leading() || !b.d.Leading() {
				t.Fatalf("second live daemon: got leading %v beside the restarted one (leading %v), want only the first", c3.d.Leading(), b.d.Leading())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if rep, err := c3.d.Scheduler().Tick(context.Background(), now); err != nil || rep.Messages != 0 {
			t.Errorf("second live daemon's tick: got %+v, %v; want nothing sent again", rep, err)
		}
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the second daemon leading once the first stops", c3.d.Leading)
	}
	if !ran {
		t.Log("Redis not available: the lease needs a shared store")
	}
}
