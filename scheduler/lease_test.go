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
