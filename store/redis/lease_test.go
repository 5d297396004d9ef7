package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

// openLease opens a store on $REDIS_URL under prefix; opener deletes the
// prefix's keys when the test ends.
func openLease(tb testing.TB, prefix string) *Store {
	tb.Helper()
	return opener(redisURL(tb))(tb, prefix).(*Store)
}

// leaseContext bounds every call, so a hung Redis fails the test instead of stalling it.
func leaseContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// acquire calls AcquireLease and fails the test on an error.
func acquire(tb testing.TB, s *Store, name, token string, ttl time.Duration) bool {
	tb.Helper()
	held, err := s.AcquireLease(leaseContext(tb), name, token, ttl)
	if err != nil {
		tb.Fatalf("acquire %s for %s: %v", name, token, err)
	}
	return held
}

// renew calls RenewLease and fails the test on an error.
func renew(tb testing.TB, s *Store, name, token string, ttl time.Duration) bool {
	tb.Helper()
	held, err := s.RenewLease(leaseContext(tb), name, token, ttl)
	if err != nil {
		tb.Fatalf("renew %s for %s: %v", name, token, err)
	}
	return held
}

// release calls ReleaseLease and fails the test on an error.
func release(tb testing.TB, s *Store, name, token string) {
	tb.Helper()
	if err := s.ReleaseLease(leaseContext(tb), name, token); err != nil {
		tb.Fatalf("release %s for %s: %v", name, token, err)
	}
}

// holder returns the token stored in the lease key, "" if there is none.
func holder(tb testing.TB, s *Store, name string) string {
	tb.Helper()
	token, err := s.client.Get(leaseContext(tb), s.base+"lease:"+name).Result()
	if errors.Is(err, goredis.Nil) {
		return ""
	}
	if err != nil {
		tb.Fatalf("get lease %s: %v", name, err)
	}
	return token
}

// pttl returns the lease key's remaining time to live.
func pttl(tb testing.TB, s *Store, name string) time.Duration {
	tb.Helper()
	d, err := s.client.PTTL(leaseContext(tb), s.base+"lease:"+name).Result()
	if err != nil {
		tb.Fatalf("pttl lease %s: %v", name, err)
	}
	return d
}

// TestLeaseSteps runs one sequence of calls by two daemons, a and b, on
// one lease; each step checks what the call reports and who holds the
// lease afterwards.
func TestLeaseSteps(t *testing.T) {
	prefix := storetest.NewPrefix(t, "lease")
	// Two stores on one prefix: two daemons sharing one Redis.
	stores := map[string]*Store{"a": openLease(t, prefix), "b": openLease(t, prefix)}
	const name, ttl = "leader", time.Minute
	steps := []struct {
		desc       string
		op, token  string // op: acquire, renew, release
		want       bool   // what acquire or renew reports
		wantHolder string
	}{
		{"a acquires the free lease", "acquire", "a", true, "a"},
		{"b cannot acquire a held lease", "acquire", "b", false, "a"},
		{"a re-acquires, renewing", "acquire", "a", true, "a"},
		{"a renews", "renew", "a", true, "a"},
		{"b cannot renew a's lease", "renew", "b", false, "a"},
		{"b releasing a's lease does nothing", "release", "b", false, "a"},
		{"a releases", "release", "a", false, ""},
		{"a cannot renew a released lease", "renew", "a", false, ""},
		{"a releasing again does nothing", "release", "a", false, ""},
		{"b acquires the freed lease", "acquire", "b", true, "b"},
		{"a cannot acquire b's lease", "acquire", "a", false, "b"},
	}
	for i, st := range steps {
		s := stores[st.token]
		var got bool
		switch st.op {
		case "acquire":
			got = acquire(t, s, name, st.token, ttl)
		case "renew":
			got = renew(t, s, name, st.token, ttl)
		case "release":
			release(t, s, name, st.token)
		}
		if got != st.want {
			t.Fatalf("step %d (%s): %s by %s: got %v, want %v", i, st.desc, st.op, st.token, got, st.want)
		}
		if h := holder(t, s, name); h != st.wantHolder {
			t.Fatalf("step %d (%s): got holder %q, want %q", i, st.desc, h, st.wantHolder)
		}
	}
}

// Acquiring and renewing set the key's TTL to the ttl given, at millisecond precision.
func TestLeaseTTL(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "lease-ttl"))
	const name = "leader"
	tests := []struct {
		desc string
		call func() bool
		ttl  time.Duration // what the key's PTTL is at most, and just under
	}{
		{"acquire for 10s", func() bool { return acquire(t, s, name, "a", 10*time.Second) }, 10 * time.Second},
		{"re-acquire for 1h", func() bool { return acquire(t, s, name, "a", time.Hour) }, time.Hour},
		{"renew for 20s", func() bool { return renew(t, s, name, "a", 20*time.Second) }, 20 * time.Second},
		{"renew for 30s+900µs, truncated to 30s", func() bool { return renew(t, s, name, "a", 30*time.Second+900*time.Microsecond) }, 30 * time.Second},
	}
	for _, tt := range tests {
		if !tt.call() {
			t.Fatalf("%s: got false, want true", tt.desc)
		}
		if got := pttl(t, s, name); got > tt.ttl || got < tt.ttl-5*time.Second {
			t.Errorf("%s: got PTTL %v, want at most %v and close to it", tt.desc, got, tt.ttl)
		}
	}
	// b's failed calls leave a's TTL alone.
	before := pttl(t, s, name)
	if acquire(t, s, name, "b", time.Millisecond) || renew(t, s, name, "b", time.Millisecond) {
		t.Fatal("b got a's lease, want it refused")
	}
	if got := pttl(t, s, name); got > before || got < before-5*time.Second {
		t.Errorf("after b's tries: got PTTL %v, want about %v", got, before)
	}
}

// Of many daemons racing for a free lease, exactly one gets it.
func TestLeaseRace(t *testing.T) {
	prefix := storetest.NewPrefix(t, "lease-race")
	stores := []*Store{openLease(t, prefix), openLease(t, prefix)}
	const name, racers = "leader", 50
	ctx := leaseContext(t)
	start := make(chan struct{})
	var wg sync.WaitGroup
	won := make([]bool, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			<-start
			won[i], errs[i] = stores[i%len(stores)].AcquireLease(ctx, name, fmt.Sprintf("daemon-%d", i), time.Minute)
		})
	}
	close(start)
	wg.Wait()
	var winners []string
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("daemon-%d: %v", i, errs[i])
		}
		if won[i] {
			winners = append(winners, fmt.Sprintf("daemon-%d", i))
		}
	}
	if len(winners) != 1 {
		t.Fatalf("got %d winners %v, want exactly 1", len(winners), winners)
	}
	if h := holder(t, stores[0], name); h != winners[0] {
		t.Errorf("got holder %q, want the winner %q", h, winners[0])
	}
}

// A lease nobody renews lapses after its ttl, and then another daemon gets it.
func TestLeaseExpiry(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "lease-expiry"))
	const name, ttl = "leader", 150 * time.Millisecond
	if !acquire(t, s, name, "a", ttl) {
		t.Fatal("a acquiring the free lease: got false, want true")
	}
	start := time.Now()
	if got := pttl(t, s, name); got <= 0 || got > ttl {
		t.Errorf("got PTTL %v, want in (0, %v]", got, ttl)
	}
	deadline := start.Add(5 * time.Second)
	for !acquire(t, s, name, "b", time.Minute) {
		if time.Now().After(deadline) {
			t.Fatalf("b did not get the lease within 5s of a's %v lease", ttl)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Errorf("b got the lease after %v, want not before about 100ms of a's %v lease", elapsed, ttl)
	}
	// a's lease lapsed: it can neither renew nor release b's.
	if renew(t, s, name, "a", time.Minute) {
		t.Error("a renewing its lapsed lease: got true, want false")
	}
	release(t, s, name, "a")
	if h := holder(t, s, name); h != "b" {
		t.Errorf("got holder %q, want %q", h, "b")
	}
}

// The same lease name under two prefixes is two leases.
func TestLeasePrefixIsolation(t *testing.T) {
	one := openLease(t, storetest.NewPrefix(t, "lease-one"))
	two := openLease(t, storetest.NewPrefix(t, "lease-two"))
	const name = "leader"
	if !acquire(t, one, name, "a", time.Minute) {
		t.Fatal("a acquiring under the first prefix: got false, want true")
	}
	if !acquire(t, two, name, "b", time.Minute) {
		t.Fatal("b acquiring under the second prefix: got false, want true")
	}
	if renew(t, two, name, "a", time.Minute) {
		t.Error("a renewing under the second prefix: got true, want false")
	}
	release(t, two, name, "a") // not a's there
	release(t, one, name, "a")
	if h := holder(t, one, name); h != "" {
		t.Errorf("first prefix: got holder %q, want none", h)
	}
	if h := holder(t, two, name); h != "b" {
		t.Errorf("second prefix: got holder %q, want %q", h, "b")
	}
	for _, s := range []*Store{one, two} {
		if key, want := s.leaseKey(name), s.base+"lease:"+name; key != want {
			t.Errorf("got key %q, want %q", key, want)
		}
	}
}

func TestLeaseInvalid(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "lease-invalid"))
	ctx := leaseContext(t)
	acq := func(name, token string, ttl time.Duration) error {
		_, err := s.AcquireLease(ctx, name, token, ttl)
		return err
	}
	ren := func(name, token string, ttl time.Duration) error {
		_, err := s.RenewLease(ctx, name, token, ttl)
		return err
	}
	rel := func(name, token string, _ time.Duration) error { return s.ReleaseLease(ctx, name, token) }
	calls := []struct {
		op   string
		call func(name, token string, ttl time.Duration) error
	}{{"acquire", acq}, {"renew", ren}, {"release", rel}}
	tests := []struct {
		desc        string
		name, token string
		ttl         time.Duration
		field       string
		release     bool // release checks it too (release takes no ttl)
	}{
		{"empty name", "", "a", time.Second, "name", true},
		{"empty token", "leader", "", time.Second, "token", true},
		{"zero ttl", "leader", "a", 0, "ttl", false},
		{"negative ttl", "leader", "a", -time.Second, "ttl", false},
		{"ttl under 1ms", "leader", "a", 999 * time.Microsecond, "ttl", false},
	}
	for _, tt := range tests {
		for _, c := range calls {
			if c.op == "release" && !tt.release {
				continue
			}
			t.Run(c.op+" "+tt.desc, func(t *testing.T) {
				err := c.call(tt.name, tt.token, tt.ttl)
				if !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("got error %v, want one wrapping store.ErrInvalid", err)
				}
				if !strings.Contains(err.Error(), tt.field) {
					t.Errorf("got error %q, want it to name %s", err, tt.field)
				}
			})
		}
	}
	if h := holder(t, s, "leader"); h != "" {
		t.Errorf("after invalid calls: got holder %q, want none", h)
	}
	if !acquire(t, s, "leader", "a", time.Millisecond) {
		t.Error("acquire with ttl 1ms: got false, want true")
	}
}

// Without Redis every call fails with an error, never a quiet false.
func TestLeaseConnectionError(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	s := New(client, "lease-down")
	t.Cleanup(func() { client.Close() })
	ctx := leaseContext(t)
	if held, err := s.AcquireLease(ctx, "leader", "a", time.Second); err == nil || held {
		t.Errorf("acquire: got %v, %v; want false and an error", held, err)
	}
	if held, err := s.RenewLease(ctx, "leader", "a", time.Second); err == nil || held {
		t.Errorf("renew: got %v, %v; want false and an error", held, err)
	}
	if err := s.ReleaseLease(ctx, "leader", "a"); err == nil {
		t.Error("release: got nil error, want one")
	}
}

// TestLeaseFence: each time the lease is taken free its fence grows, renewing keeps it, and
// once another holder has taken the lease the ledger refuses the earlier holder's writes.
func TestLeaseFence(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "fence"))
	ctx := leaseContext(t)
	fence := func(token string) (int64, bool) {
		t.Helper()
		f, held, err := s.LeaseFence(ctx, "leader", token)
		if err != nil {
			t.Fatalf("lease fence for %s: %v", token, err)
		}
		return f, held
	}
	if !acquire(t, s, "leader", "a", 50*time.Millisecond) {
		t.Fatal("a did not get a free lease")
	}
	fa, held := fence("a")
	if !held || fa < 1 {
		t.Fatalf("a's fence: got %d, %v; want at least 1, held", fa, held)
	}
	if !acquire(t, s, "leader", "a", 50*time.Millisecond) || !renew(t, s, "leader", "a", 50*time.Millisecond) {
		t.Fatal("a could not renew its lease")
	}
	if f, _ := fence("a"); f != fa {
		t.Errorf("a's fence after renewing: got %d, want %d", f, fa)
	}
	if f, held := fence("b"); held || f != 0 {
		t.Errorf("fence for b, not holding: got %d, %v; want 0, false", f, held)
	}
	aCtx := store.WithFence(ctx, fa)
	if ok, err := s.Claim(aCtx, "n|1", "a", time.Now(), time.Minute); err != nil || !ok {
		t.Fatalf("a's claim: got %v, %v; want true, nil", ok, err)
	}
	time.Sleep(80 * time.Millisecond) // a is stopped past its lease
	if !acquire(t, s, "leader", "b", time.Minute) {
		t.Fatal("b did not get the lapsed lease")
	}
	fb, _ := fence("b")
	if fb <= fa {
		t.Errorf("b's fence: got %d, want above a's %d", fb, fa)
	}
	// a wakes up: before b has written anything, its writes are refused already.
	if ok, err := s.Claim(aCtx, "n|2", "a", time.Now(), time.Minute); !errors.Is(err, store.ErrFenced) || ok {
		t.Errorf("a's claim after b took the lease: got %v, %v; want false, ErrFenced", ok, err)
	}
	if err := s.Confirm(aCtx, store.Sent{Keys: []string{"n|1"}, ChatID: 1, MessageIDs: []int{1}, At: time.Now()}); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's confirm after b took the lease: got %v, want ErrFenced", err)
	}
	if ok, err := s.Claim(store.WithFence(ctx, fb), "n|2", "b", time.Now(), time.Minute); err != nil || !ok {
		t.Errorf("b's claim: got %v, %v; want true, nil", ok, err)
	}
}
