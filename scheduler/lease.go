package scheduler

import (
	"context"
	"log/slog"
	"time"

	"github.com/duban/duban/store"
)

// Lease is a leader lease in a store several daemons share (Redis). The embedded store
// needs none: only one daemon can open its file.
type Lease interface {
	AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, token string) error
}

// Fencer is a Lease that numbers its holders: LeaseFence is the fencing token of the lease
// while token holds it, higher for every later acquisition. The store refuses ledger writes
// that carry an older one (store.WithFence).
type Fencer interface {
	LeaseFence(ctx context.Context, name, token string) (fence int64, held bool, err error)
}

// Leader runs work on one daemon at a time. The others wait; when the leader dies its lease
// lapses after TTL and the next to try takes over, within TTL plus Retry.
type Leader struct {
	Lease Lease
	Name  string // "leader"
	Token string // this instance, unique
	TTL   time.Duration
	Renew time.Duration // how often the holder renews; well under TTL
	Retry time.Duration // how often a waiting instance tries to take over
	Log   *slog.Logger
	// OnChange is told when this instance becomes leader (true) or stops being it (false).
	OnChange func(leading bool)
}

// DefaultLeader timings: a dead leader is replaced within about 17 s.
const (
	LeaseTTL   = 15 * time.Second
	LeaseRenew = 5 * time.Second
	LeaseRetry = 2 * time.Second
)

// Lead waits for the lease, runs work with a context that ends when the lease is lost or ctx
// ends, renews the lease meanwhile, and releases it on the way out so a successor need not
// wait for it to lapse. It returns when ctx ends, or with work's error.
func (l *Leader) Lead(ctx context.Context, work func(ctx context.Context) error) error {
	if l.OnChange == nil {
		l.OnChange = func(bool) {}
	}
	for {
		if !l.acquire(ctx) {
			return nil
		}
		lctx := ctx
		if f, ok := l.Lease.(Fencer); ok {
			// work's ledger writes carry this lease's fence: should this daemon be stopped past
			// its lease and wake up, the store refuses them, so it sends nothing its successor
			// may have sent.
			fence, held, err := f.LeaseFence(ctx, l.Name, l.Token)
			if err != nil || !held {
				l.Log.Warn("lease fence not read; trying again", "held", held, "err", err)
				if !sleepCtx(ctx, l.Retry) {
					return nil
				}
				continue
			}
			lctx = store.WithFence(ctx, fence)
		}
		// How long after a fenced claim a message's next part may go without one of its own,
		// for these timings (see renewFresh).
		lctx = withFresh(lctx, l.TTL-2*l.Renew)
		l.Log.Info("leading", "lease", l.Name)
		l.OnChange(true)
		err, lost := l.hold(lctx, work)
		l.OnChange(false)
		if !lost {
			// Released with a fresh context: ctx may be over, and the successor should not wait.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if rerr := l.Lease.ReleaseLease(rctx, l.Name, l.Token); rerr != nil {
				l.Log.Warn("lease not released; it lapses by itself", "err", rerr)
			}
			cancel()
			return err
		}
		l.Log.Warn("lease lost: another instance leads now", "lease", l.Name)
	}
}

// acquire tries until it holds the lease; false when ctx ended first.
func (l *Leader) acquire(ctx context.Context) bool {
	for {
		ok, err := l.Lease.AcquireLease(ctx, l.Name, l.Token, l.TTL)
		if err != nil && ctx.Err() == nil {
			l.Log.Warn("lease not reachable", "err", err)
		}
		if ok {
			return true
		}
		if !sleepCtx(ctx, l.Retry) {
			return false
		}
	}
}

// hold runs work while renewing; lost reports that the lease went to another instance (or
// could not be renewed before it lapsed), as opposed to ctx ending or work returning.
func (l *Leader) hold(ctx context.Context, work func(context.Context) error) (err error, lost bool) {
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- work(wctx) }()
	defer func() {
		stop()
		if e := <-done; err == nil {
			err = e
		}
	}()
	renewed := time.Now()
	ticker := time.NewTicker(l.Renew)
	defer ticker.Stop()
	stopping := ctx.Done()
	for {
		select {
		case <-stopping:
			// Shutting down: work finishes its tick, and the lease is renewed until it has,
			// so that no successor starts while this instance is still sending.
			stop()
			stopping = nil
		case err := <-done:
			done <- err // for the deferred wait
			return err, false
		case <-ticker.C:
			ok, err := l.Lease.RenewLease(context.WithoutCancel(ctx), l.Name, l.Token, l.TTL)
			switch {
			case ok:
				renewed = time.Now()
			case err == nil:
				return nil, true // someone else holds it
			case time.Since(renewed) > l.TTL:
				return nil, true // unreachable for so long that it has lapsed
			default:
				l.Log.Warn("lease not renewed, trying again", "err", err)
			}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
