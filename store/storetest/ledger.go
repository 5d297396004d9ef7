package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

func testClaim(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "claim")
	const lease = time.Minute
	steps := []struct {
		name   string
		key    string
		owner  string
		at     time.Duration // after t0
		want   bool
		before func(t *testing.T)
	}{
		{name: "never claimed", key: "k", owner: "a", at: 0, want: true},
		{name: "held by another owner", key: "k", owner: "b", at: 30 * time.Second, want: false},
		{name: "same owner renews", key: "k", owner: "a", at: 30 * time.Second, want: true},
		{name: "renewed lease still held", key: "k", owner: "b", at: 89 * time.Second, want: false},
		{name: "lease lapsed unconfirmed", key: "k", owner: "b", at: 90 * time.Second, want: true},
		{name: "first owner lost it", key: "k", owner: "a", at: 100 * time.Second, want: false},
		{name: "other key is free", key: "k2", owner: "a", at: 100 * time.Second, want: true},
		{name: "confirmed key, lease lapsed", key: "k", owner: "c", at: time.Hour, want: false, before: func(t *testing.T) {
			if err := b.Confirm(testContext(t), store.Sent{Keys: []string{"k"}, Department: "市教育局", At: t0.Add(95 * time.Second)}); err != nil {
				t.Fatalf("confirm: %v", err)
			}
		}},
		{name: "confirmed key, its own claimant", key: "k", owner: "b", at: time.Hour, want: false},
		{name: "confirmed without a claim", key: "k3", owner: "a", at: 0, want: false, before: func(t *testing.T) {
			if err := b.Confirm(testContext(t), store.Sent{Keys: []string{"k3"}, At: t0}); err != nil {
				t.Fatalf("confirm: %v", err)
			}
		}},
	}
	for _, step := range steps {
		if step.before != nil {
			step.before(t)
		}
		got, err := b.Claim(testContext(t), step.key, step.owner, t0.Add(step.at), lease)
		if err != nil {
			t.Fatalf("%s: claim: %v", step.name, err)
		}
		if got != step.want {
			t.Errorf("%s: claim %s by %s at +%v: got %v, want %v", step.name, step.key, step.owner, step.at, got, step.want)
		}
	}
}

// raceClaims has n new owners claim key at once and returns how many won.
func raceClaims(tb testing.TB, b Backend, key string, n int, now time.Time, lease time.Duration) int {
	round := NewPrefix(tb, "owner")
	tb.Helper()
	var won atomic.Int64
	errs := make(chan error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := b.Claim(testContext(tb), key, fmt.Sprintf("%s-%d", round, i), now, lease)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatalf("claim: %v", err)
	}
	return int(won.Load())
}

func testClaimRace(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "claimrace")
	const lease = 5 * time.Minute
	if got := raceClaims(t, b, "reminder|1|市教育局|first", 100, t0, lease); got != 1 {
		t.Errorf("100 racing claims: got %d winners, want 1", got)
	}
	if got := raceClaims(t, b, "reminder|1|市教育局|first", 100, t0.Add(lease-time.Nanosecond), lease); got != 0 {
		t.Errorf("racing claims before the lease lapsed: got %d winners, want 0", got)
	}
	if got := raceClaims(t, b, "reminder|1|市教育局|first", 100, t0.Add(lease), lease); got != 1 {
		t.Errorf("racing claims after the lease lapsed: got %d winners, want 1", got)
	}
	if err := b.Confirm(testContext(t), store.Sent{Keys: []string{"reminder|1|市教育局|first"}, At: t0.Add(lease)}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if got := raceClaims(t, b, "reminder|1|市教育局|first", 100, t0.Add(24*time.Hour), lease); got != 0 {
		t.Errorf("racing claims of a confirmed key: got %d winners, want 0", got)
	}
}

func testConfirmAndMessageRef(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "confirm")
	ctx := testContext(t)
	first := store.Sent{
		Keys:       []string{"1|市教育局|first", "3|市教育局|first"},
		Department: "市教育局",
		Tasks:      []int{1, 3},
		Stage:      "first",
		ChatID:     -1001234567890,
		MessageIDs: []int{10, 11},
		At:         t0.Add(123 * time.Nanosecond).In(shanghai),
	}
	second := store.Sent{
		Keys:       []string{"2|市财政局|overdue"},
		Department: "市财政局",
		Tasks:      []int{2},
		Stage:      "overdue",
		ChatID:     777,
		MessageIDs: []int{10},
		At:         t0.Add(time.Hour),
	}
	for _, sent := range []store.Sent{first, second} {
		for _, key := range sent.Keys {
			if ok, err := b.Claim(ctx, key, "scheduler", sent.At, time.Minute); err != nil || !ok {
				t.Fatalf("claim %s: got %v, %v; want true, nil", key, ok, err)
			}
		}
		if err := b.Confirm(ctx, sent); err != nil {
			t.Fatalf("confirm: %v", err)
		}
	}
	wantFirst := first
	wantFirst.At = first.At.UTC()

	for _, key := range first.Keys {
		got, ok, err := b.SentFor(ctx, key)
		if err != nil || !ok {
			t.Fatalf("sent for %s: got found=%v, %v; want true, nil", key, ok, err)
		}
		checkSent(t, "sent for "+key, got, wantFirst)
	}
	if _, ok, err := b.SentFor(ctx, "9|市教育局|first"); err != nil || ok {
		t.Errorf("sent for an unsent key: got found=%v, %v; want false, nil", ok, err)
	}
	checkTimes(t, "ledger", mustLedger(t, b), map[string]time.Time{
		first.Keys[0]: first.At, first.Keys[1]: first.At, second.Keys[0]: second.At,
	})

	refs := []struct {
		chat    int64
		message int
		want    *store.Sent
	}{
		{-1001234567890, 10, &wantFirst},
		{-1001234567890, 11, &wantFirst},
		{777, 10, &second},
		{-1001234567890, 12, nil},
		{777, 11, nil},
		{-100, 10, nil},
	}
	for _, ref := range refs {
		got, ok, err := b.MessageRef(ctx, ref.chat, ref.message)
		if err != nil {
			t.Fatalf("message ref %d/%d: %v", ref.chat, ref.message, err)
		}
		if ok != (ref.want != nil) {
			t.Errorf("message ref %d/%d: got found=%v, want %v", ref.chat, ref.message, ok, ref.want != nil)
			continue
		}
		if ok {
			checkSent(t, fmt.Sprintf("message ref %d/%d", ref.chat, ref.message), got, *ref.want)
		}
	}
	// An acknowledgement is indexed without ledger keys: MessageRef finds it, the ledger does
	// not list it, and a Sent that indexes nothing at all is refused.
	ack := store.Sent{Department: "市教育局", Tasks: []int{5}, Stage: "ack", ChatID: 777, MessageIDs: []int{42}, At: t0.Add(2 * time.Hour)}
	if err := b.Confirm(ctx, ack); err != nil {
		t.Fatalf("confirm an index-only sent: %v", err)
	}
	if got, ok, err := b.MessageRef(ctx, 777, 42); err != nil || !ok || len(got.Tasks) != 1 || got.Tasks[0] != 5 {
		t.Errorf("message ref of an acknowledgement: got %+v, %v, %v; want task 5", got, ok, err)
	}
	if got := len(mustLedger(t, b)); got != 3 {
		t.Errorf("ledger after an index-only sent: got %d keys, want still 3", got)
	}
	if err := b.Confirm(ctx, store.Sent{Department: "市教育局", At: t0}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("confirm with no keys and no messages: got %v, want ErrInvalid", err)
	}
}

func mustLedger(tb testing.TB, b Backend) map[string]time.Time {
	tb.Helper()
	got, err := b.Ledger(testContext(tb))
	if err != nil {
		tb.Fatalf("ledger: %v", err)
	}
	return got
}
