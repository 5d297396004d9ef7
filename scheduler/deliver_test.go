package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// ledgerCalls is a store counting the ledger writes deliver makes.
type ledgerCalls struct {
	backend
	claims, confirms, renewals atomic.Int64
}

func (s *ledgerCalls) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	s.claims.Add(1)
	return s.backend.Claim(ctx, key, owner, now, lease)
}

func (s *ledgerCalls) Confirm(ctx context.Context, sent store.Sent) error {
	s.confirms.Add(1)
	if sent.Renew != nil {
		s.renewals.Add(1)
	}
	return s.backend.Confirm(ctx, sent)
}

// partsMessenger sends every part at once, calling the hooks as the sender does, and calls
// between after each part is recorded and before the next is tried: where the sender waits
// for the chat's pacing.
type partsMessenger struct {
	fakeMessenger
	between func(part int)
	sent    []int // the parts that went out
}

func (m *partsMessenger) SendFrom(ctx context.Context, msg sender.Message, from int, h sender.Hooks) ([]int, error) {
	var ids []int
	for i := from; i < sender.Parts(msg); i++ {
		if i > from && m.between != nil {
			m.between(i - 1)
		}
		if err := h.Before(ctx, i); err != nil {
			return ids, &sender.Error{ChatID: msg.ChatID, Sent: ids, Err: fmt.Errorf("not sent: %w", err)}
		}
		m.sent = append(m.sent, i)
		ids = append(ids, 100+i)
		if err := h.Sent(ctx, i, 100+i); err != nil {
			return ids, &sender.Error{ChatID: msg.ChatID, Retryable: true, Sent: ids, Err: err}
		}
	}
	return ids, nil
}

// longText is a message of parts parts.
func longText(parts int) string {
	var b strings.Builder
	for i := 0; len(sender.Split(b.String(), sender.MaxLength)) < parts; i++ {
		for j := range 50 {
			fmt.Fprintf(&b, "#%d 目标%d：请报送本季度进展，逾期未报的请说明原因。\n", 50*i+j, j)
		}
	}
	return b.String()
}

// stall makes every check of how long ago the last record was say d, for the test.
func stall(t *testing.T, d time.Duration) {
	t.Helper()
	t.Cleanup(func() { elapsed = time.Since })
	elapsed = func(time.Time) time.Duration { return d }
}

// TestDeliverOneRoundTripPerPart: a message of n parts costs one claim (before its first part),
// n-1 part records that renew the claim, and the whole record: n+1 ledger writes instead of
// 2n. A part that comes renewFresh or more after the last record (a stopped daemon, a long
// pacing wait) renews before it goes out, as every part did before. The caller's own claim,
// taken just before (a tick's ClaimAll), stands for the first part's: n writes; not after a
// stall, nor when it was taken at a time so far behind the clock that it lapses soon.
func TestDeliverOneRoundTripPerPart(t *testing.T) {
	cases := []struct {
		name         string
		stall        time.Duration
		claimedAgo   time.Duration // the caller's claim's time, this long before the clock; -1: none given
		wantClaims   func(parts int) int
		wantRenewals func(parts int) int
	}{
		{"parts in a row", 0, -1, func(int) int { return 1 }, func(n int) int { return n - 1 }},
		{"a stall before each part", renewFresh, -1, func(n int) int { return n }, func(n int) int { return n - 1 }},
		{"claimed just before", 0, 0, func(int) int { return 0 }, func(n int) int { return n - 1 }},
		{"claimed just before, then a stall before each part", renewFresh, 0, func(n int) int { return n }, func(n int) int { return n - 1 }},
		{"claimed at a time that lapses soon", 0, ClaimLease - renewFresh - LeaseTTL + time.Second, func(int) int { return 1 }, func(n int) int { return n - 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, s backend) {
				ctx := context.Background()
				stall(t, tc.stall)
				calls := &ledgerCalls{backend: s}
				c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 目标, departments: [甲局], deadline: 2026-12-04}\n")
				sc := newScheduler(t, calls, &partsMessenger{}, c, p, "a")
				keys := []string{"1|甲局|overdue", "2|甲局|overdue"}
				clock := time.Now()
				sc.now = func() time.Time { return clock }
				at := clock.Add(-max(tc.claimedAgo, 0))
				start := time.Now()
				if won, err := s.ClaimAll(ctx, keys, "a", at, ClaimLease); err != nil || !won[0] || !won[1] {
					t.Fatalf("claim: got %v, %v", won, err)
				}
				claimed := time.Time{}
				if tc.claimedAgo >= 0 {
					claimed = sc.claimedAt(ctx, start, at)
				}
				m := sender.Message{ChatID: -1001, Text: longText(4)}
				n := sender.Parts(m)
				if n != 4 {
					t.Fatalf("the message: got %d parts, want 4", n)
				}
				rec, err := sc.deliver(ctx, store.Sent{Keys: keys, Department: "甲局", Stage: "nudge", ChatID: -1001, At: at}, m, claimed)
				if err != nil {
					t.Fatalf("deliver: %v", err)
				}
				if len(rec.MessageIDs) != n {
					t.Errorf("deliver: got %d message ids, want %d", len(rec.MessageIDs), n)
				}
				if got, want := calls.claims.Load(), int64(tc.wantClaims(n)); got != want {
					t.Errorf("claims for %d parts: got %d, want %d", n, got, want)
				}
				if got, want := calls.renewals.Load(), int64(tc.wantRenewals(n)); got != want {
					t.Errorf("part records renewing the claim: got %d, want %d", got, want)
				}
				if got, want := calls.confirms.Load(), int64(n); got != want {
					t.Errorf("confirms for %d parts: got %d, want %d", n, got, want)
				}
				if _, ok, err := s.SentFor(ctx, keys[1]); err != nil || !ok {
					t.Errorf("sent for %s: got found=%v, %v; want the whole message confirmed", keys[1], ok, err)
				}
			})
		})
	}
}

// TestDeliverStopsOnLostClaim: another instance takes the claim of a message this one is
// sending (its lease lapsed) between two parts. The record of the part before says so, or
// the renewal before the next does when the record is too old to stand for it: either way
// the next part does not go out, and the parts that did are recorded.
func TestDeliverStopsOnLostClaim(t *testing.T) {
	cases := []struct {
		name string
		// takenAfterRecord: the other instance takes the claim after the record of part 0,
		// else just before it.
		takenAfterRecord bool
		stall            time.Duration
	}{
		{"taken before the record", false, 0},
		{"taken after the record, then a stall", true, renewFresh},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, s backend) {
				ctx := context.Background()
				now := time.Now()
				keys := []string{"1|甲局|overdue"}
				take := func() {
					t.Helper()
					// b's clock is past a's lease: the claim has lapsed for b.
					if ok, err := s.Claim(ctx, keys[0], "b", now.Add(ClaimLease+time.Minute), ClaimLease); err != nil || !ok {
						t.Fatalf("b's claim: got %v, %v; want true, nil", ok, err)
					}
				}
				m := &partsMessenger{}
				c, p := testPlan(t, "tasks:\n  - {id: 1, goal: 目标, departments: [甲局], deadline: 2026-12-04}\n")
				sc := newScheduler(t, s, m, c, p, "a")
				sc.now = func() time.Time { return now }
				if ok, err := s.Claim(ctx, keys[0], "a", now, ClaimLease); err != nil || !ok {
					t.Fatalf("a's claim: got %v, %v", ok, err)
				}
				confirm := s.Confirm
				recorded := 0
				sc.store = confirmHook{backend: s, confirm: func(ctx context.Context, sent store.Sent) error {
					if !tc.takenAfterRecord && recorded == 0 {
						take()
					}
					recorded++
					return confirm(ctx, sent)
				}}
				m.between = func(int) {
					if tc.takenAfterRecord {
						take()
						stall(t, tc.stall)
					}
				}
				_, err := sc.deliver(ctx, store.Sent{Keys: keys, Department: "甲局", Stage: "nudge", ChatID: -1001, At: now},
					sender.Message{ChatID: -1001, Text: longText(3)}, time.Time{})
				if !errors.Is(err, errClaimLost) {
					t.Errorf("deliver: got %v, want the claim lost", err)
				}
				if fmt.Sprint(m.sent) != "[0]" {
					t.Errorf("parts sent: got %v, want [0]", m.sent)
				}
				pending, err := s.Pending(ctx)
				if err != nil || len(pending) != 1 || fmt.Sprint(pending[0].MessageIDs) != "[100]" {
					t.Errorf("pending: got %+v, %v; want the message with part 0 recorded", pending, err)
				}
			})
		})
	}
}

// confirmHook is a store whose Confirm is confirm.
type confirmHook struct {
	backend
	confirm func(ctx context.Context, sent store.Sent) error
}

func (s confirmHook) Confirm(ctx context.Context, sent store.Sent) error { return s.confirm(ctx, sent) }
