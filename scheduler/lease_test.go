package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// fencedLease is a lease in memory whose fence grows with every acquisition of a free lease.
type fencedLease struct {
	mu     sync.Mutex
	holder string
	fence  int64
}

func (l *fencedLease) AcquireLease(_ context.Context, _, token string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.holder {
	case "":
		l.holder = token
		l.fence++
		return true, nil
	case token:
		return true, nil
	}
	return false, nil
}

func (l *fencedLease) RenewLease(_ context.Context, _, token string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder == token, nil
}

func (l *fencedLease) ReleaseLease(_ context.Context, _, token string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == token {
		l.holder = ""
	}
	return nil
}

func (l *fencedLease) LeaseFence(_ context.Context, _, token string) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != token {
		return 0, false, nil
	}
	return l.fence, true, nil
}

// TestLeaderCarriesTheFence: the work of a leader holding a fenced lease runs with the
// lease's fence in its context, a newer one each time the lease is taken.
func TestLeaderCarriesTheFence(t *testing.T) {
	lease := &fencedLease{}
	for want := int64(1); want <= 2; want++ {
		l := &Leader{Lease: lease, Name: "leader", Token: "a", TTL: time.Second, Renew: time.Hour, Retry: time.Millisecond, Log: quiet}
		var got int64
		err := l.Lead(context.Background(), func(ctx context.Context) error {
			got = store.FenceOf(ctx)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("lead %d: work got fence %d, want %d", want, got, want)
		}
	}
}

// TestLeaderCarriesTheFreshWindow: a leader's work knows, for the leader's own timings, how
// long after a fenced claim a message's next part may go without one (TTL - 2·Renew, none
// when Renew is half the TTL or more); outside a leader, the defaults' renewFresh.
func TestLeaderCarriesTheFreshWindow(t *testing.T) {
	if got := freshFor(context.Background()); got != renewFresh {
		t.Errorf("without a leader: got %v, want renewFresh (%v)", got, renewFresh)
	}
	for _, tc := range []struct {
		ttl, renew, want time.Duration
	}{
		{LeaseTTL, LeaseRenew, renewFresh},
		{time.Second, 200 * time.Millisecond, 600 * time.Millisecond},
		{time.Second, time.Hour, 0},
	} {
		l := &Leader{Lease: &fencedLease{}, Name: "leader", Token: "a", TTL: tc.ttl, Renew: tc.renew, Retry: time.Millisecond, Log: quiet}
		var got time.Duration
		if err := l.Lead(context.Background(), func(ctx context.Context) error {
			got = freshFor(ctx)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("ttl %v, renew %v: got %v, want %v", tc.ttl, tc.renew, got, tc.want)
		}
	}
}
