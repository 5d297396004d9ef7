package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// WebSessions is what the web view's sign-in needs of a backend (package web's AuthStore):
// one-time tokens and revocable sessions, in the store so that they hold across failover.
type WebSessions interface {
	CreateWebToken(ctx context.Context, token, scope string, user int64, expires time.Time) error
	RedeemWebToken(ctx context.Context, token string, now time.Time) (scope string, user int64, err error)
	CreateWebSession(ctx context.Context, id, scope string, user int64, expires time.Time) error
	WebSession(ctx context.Context, id string, now time.Time) (scope string, user int64, expires time.Time, err error)
	RevokeWebSession(ctx context.Context, id string) error
	RevokeWebSessions(ctx context.Context, user int64) (int, error)
}

// testWebSessions: tokens are single use and expire by the caller's clock; sessions are found
// until they expire or are revoked, one at a time or all of a user's; both survive a reopen
// and stay within their prefix.
func testWebSessions(t *testing.T, s suite) {
	b, prefix := s.openFresh(t, "websessions")
	ws, ok := b.(WebSessions)
	if !ok {
		t.Fatalf("backend %T: has no web session methods", b)
	}
	ctx := testContext(t)

	// Tokens.
	if err := ws.CreateWebToken(ctx, "tok-1", "all", 1001, t0.Add(10*time.Minute)); err != nil {
		t.Fatalf("create token: %v", err)
	}
	if err := ws.CreateWebToken(ctx, "tok-1", "dept:市教育局", 7, t0.Add(10*time.Minute)); !errors.Is(err, store.ErrExists) {
		t.Errorf("create the same token again: got %v, want store.ErrExists", err)
	}
	for _, bad := range []struct{ token, scope string }{{"", "all"}, {"tok-x", ""}} {
		if err := ws.CreateWebToken(ctx, bad.token, bad.scope, 1, t0.Add(time.Minute)); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("create token %q scope %q: got %v, want store.ErrInvalid", bad.token, bad.scope, err)
		}
	}
	if err := ws.CreateWebToken(ctx, "tok-0", "all", 1, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("create token without expiry: got %v, want store.ErrInvalid", err)
	}
	// Reopened, as another daemon after failover would: the token is still there.
	b.Close()
	b = s.open(t, prefix)
	ws = b.(WebSessions)
	scope, user, err := ws.RedeemWebToken(ctx, "tok-1", t0.Add(9*time.Minute))
	if err != nil || scope != "all" || user != 1001 {
		t.Fatalf("redeem token: got %q %d %v, want all 1001 nil", scope, user, err)
	}
	if _, _, err := ws.RedeemWebToken(ctx, "tok-1", t0.Add(9*time.Minute)); !errors.Is(err, store.ErrCodeInvalid) {
		t.Errorf("redeem a used token: got %v, want store.ErrCodeInvalid", err)
	}
	if _, _, err := ws.RedeemWebToken(ctx, "never", t0); !errors.Is(err, store.ErrCodeInvalid) {
		t.Errorf("redeem an unknown token: got %v, want store.ErrCodeInvalid", err)
	}
	if err := ws.CreateWebToken(ctx, "tok-2", "dept:市教育局", 2001, t0.Add(10*time.Minute)); err != nil {
		t.Fatalf("create token: %v", err)
	}
	if _, _, err := ws.RedeemWebToken(ctx, "tok-2", t0.Add(10*time.Minute)); !errors.Is(err, store.ErrCodeInvalid) {
		t.Errorf("redeem a token at its expiry: got %v, want store.ErrCodeInvalid", err)
	}
	if _, _, err := ws.RedeemWebToken(ctx, "tok-2", t0); !errors.Is(err, store.ErrCodeInvalid) {
		t.Errorf("redeem an expired token later with an earlier clock: got %v, want store.ErrCodeInvalid (an expired token is gone)", err)
	}

	// Of many concurrent redeems of one token, exactly one wins.
	if err := ws.CreateWebToken(ctx, "tok-race", "all", 1, t0.Add(time.Minute)); err != nil {
		t.Fatalf("create token: %v", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := ws.RedeemWebToken(ctx, "tok-race", t0); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, store.ErrCodeInvalid) {
				t.Errorf("concurrent redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("concurrent redeems of one token: got %d winners, want 1", got)
	}

	// Sessions.
	exp := t0.Add(12 * time.Hour)
	for _, c := range []struct {
		id, scope string
		user      int64
	}{{"s-a1", "all", 1001}, {"s-a2", "all", 1001}, {"s-b", "dept:市教育局", 2001}} {
		if err := ws.CreateWebSession(ctx, c.id, c.scope, c.user, exp); err != nil {
			t.Fatalf("create session %s: %v", c.id, err)
		}
	}
	if err := ws.CreateWebSession(ctx, "s-b", "all", 9, exp); !errors.Is(err, store.ErrExists) {
		t.Errorf("create a taken session id: got %v, want store.ErrExists", err)
	}
	scope, user, until, err := ws.WebSession(ctx, "s-b", t0.Add(time.Hour))
	if err != nil || scope != "dept:市教育局" || user != 2001 || !until.Equal(exp) {
		t.Errorf("session s-b: got %q %d %v %v, want dept:市教育局 2001 %v nil", scope, user, until, err, exp)
	}
	if _, _, _, err := ws.WebSession(ctx, "s-b", exp); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session at its expiry: got %v, want store.ErrNotFound", err)
	}
	if _, _, _, err := ws.WebSession(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown session: got %v, want store.ErrNotFound", err)
	}

	// Another prefix on the same storage sees none of it (one open at a time: the embedded
	// store's file takes one daemon).
	b.Close()
	other := s.open(t, NewPrefix(t, "websessions-other"))
	if _, _, _, err := other.(WebSessions).WebSession(ctx, "s-b", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session from another prefix: got %v, want store.ErrNotFound", err)
	}
	other.Close()
	b = s.open(t, prefix)
	ws = b.(WebSessions)

	if err := ws.RevokeWebSession(ctx, "s-b"); err != nil {
		t.Errorf("revoke s-b: %v", err)
	}
	if err := ws.RevokeWebSession(ctx, "s-b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke s-b again: got %v, want store.ErrNotFound", err)
	}
	if _, _, _, err := ws.WebSession(ctx, "s-b", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked session: got %v, want store.ErrNotFound", err)
	}
	n, err := ws.RevokeWebSessions(ctx, 1001)
	if err != nil || n != 2 {
		t.Errorf("revoke the sessions of 1001: got %d %v, want 2 nil", n, err)
	}
	for _, id := range []string{"s-a1", "s-a2"} {
		if _, _, _, err := ws.WebSession(ctx, id, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s after revoking its user's: got %v, want store.ErrNotFound", id, err)
		}
	}
	if n, err := ws.RevokeWebSessions(ctx, 1001); err != nil || n != 0 {
		t.Errorf("revoke the sessions of 1001 again: got %d %v, want 0 nil", n, err)
	}
}
