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

// mustLedger is the backend's ledger by key, each key checked to be there once.
func mustLedger(tb testing.TB, b Backend) map[string]time.Time {
	tb.Helper()
	got, err := b.Ledger(testContext(tb))
	if err != nil {
		tb.Fatalf("ledger: %v", err)
	}
	m := got.Map()
	if len(m) != len(got) {
		tb.Fatalf("ledger: got %d entries for %d keys, want each key once", len(got), len(m))
	}
	return m
}

// testConfirmByParts: a message whose first part went out and second did not is kept, with
// its text, as pending: its keys are not in the ledger, a reply to its first part finds it,
// and the complete Confirm makes it an ordinary reminder.
func testConfirmByParts(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "parts")
	ctx := testContext(t)
	keys := []string{"e|1|市教育局|overdue", "e|2|市教育局|overdue"}
	for _, key := range keys {
		if ok, err := b.Claim(ctx, key, "a", t0, time.Minute); err != nil || !ok {
			t.Fatalf("claim %s: got %v, %v; want true, nil", key, ok, err)
		}
	}
	half := store.Sent{Keys: keys, Department: "supervisors", Stage: "escalation", ChatID: -500,
		MessageIDs: []int{7}, Parts: 2, Text: "第一部分\n第二部分", At: t0}
	if err := b.Confirm(ctx, half); err != nil {
		t.Fatalf("confirm part 1 of 2: %v", err)
	}
	if got := mustLedger(t, b); len(got) != 0 {
		t.Errorf("ledger after part 1 of 2: got %v, want nothing confirmed", got)
	}
	if _, ok, err := b.SentFor(ctx, keys[0]); err != nil || ok {
		t.Errorf("sent for a key of an unfinished message: got found=%v, %v; want false, nil", ok, err)
	}
	pending := mustPending(t, b)
	if len(pending) != 1 {
		t.Fatalf("pending after part 1 of 2: got %d messages, want 1", len(pending))
	}
	checkSent(t, "pending", pending[0], half)
	if pending[0].Parts != 2 || pending[0].Text != half.Text {
		t.Errorf("pending: got parts %d, text %q; want 2, %q", pending[0].Parts, pending[0].Text, half.Text)
	}
	if got, ok, err := b.MessageRef(ctx, -500, 7); err != nil || !ok || len(got.Keys) != 2 {
		t.Errorf("message ref of part 1: got %+v, %v, %v; want the escalation", got, ok, err)
	}
	// Its claim still holds: another instance does not take it while the first can finish it.
	if ok, err := b.Claim(ctx, keys[0], "b", t0.Add(30*time.Second), time.Minute); err != nil || ok {
		t.Errorf("claim of an unfinished message by another owner: got %v, %v; want false, nil", ok, err)
	}
	if err := b.Confirm(ctx, store.Sent{Keys: keys, Department: "supervisors", Stage: "escalation", ChatID: -500,
		MessageIDs: []int{7, 8}, Parts: 2, At: t0}); err != nil {
		t.Fatalf("confirm both parts: %v", err)
	}
	if got := mustPending(t, b); len(got) != 0 {
		t.Errorf("pending after both parts: got %d messages, want none", len(got))
	}
	if got := mustLedger(t, b); len(got) != 2 {
		t.Errorf("ledger after both parts: got %d keys, want 2", len(got))
	}
	if got, ok, err := b.MessageRef(ctx, -500, 8); err != nil || !ok || len(got.Keys) != 2 || got.Text != "" {
		t.Errorf("message ref of part 2: got %+v, %v, %v; want the escalation, without its text", got, ok, err)
	}
	for _, bad := range []store.Sent{
		{ChatID: 1, MessageIDs: []int{1}, Parts: 2, At: t0},              // unfinished without a key
		{Keys: []string{"x"}, MessageIDs: []int{1, 2}, Parts: 1, At: t0}, // more ids than parts
		{Keys: []string{"x"}, Parts: -1, At: t0},
	} {
		if err := b.Confirm(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("confirm %+v: got %v, want ErrInvalid", bad, err)
		}
	}
}

// testFencing: a ledger write whose fence is older than one the store has seen is refused and
// changes nothing; an unfenced one (0) is always allowed.
func testFencing(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "fence")
	ctx := testContext(t)
	old, current := store.WithFence(ctx, 3), store.WithFence(ctx, 4)
	if ok, err := b.Claim(old, "k1", "a", t0, time.Minute); err != nil || !ok {
		t.Fatalf("claim with fence 3: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.Claim(current, "k2", "b", t0, time.Minute); err != nil || !ok {
		t.Fatalf("claim with fence 4: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.Claim(old, "k3", "a", t0, time.Minute); !errors.Is(err, store.ErrFenced) || ok {
		t.Errorf("claim with fence 3 after 4: got %v, %v; want false, ErrFenced", ok, err)
	}
	if ok, err := b.Claim(old, "k1", "a", t0, time.Minute); !errors.Is(err, store.ErrFenced) || ok {
		t.Errorf("renewing a claim with fence 3 after 4: got %v, %v; want false, ErrFenced", ok, err)
	}
	if err := b.Confirm(old, store.Sent{Keys: []string{"k1"}, ChatID: 1, MessageIDs: []int{1}, At: t0}); !errors.Is(err, store.ErrFenced) {
		t.Errorf("confirm with fence 3 after 4: got %v, want ErrFenced", err)
	}
	if err := b.Confirm(old, store.Sent{Keys: []string{"k1"}, ChatID: 1, MessageIDs: []int{1}, Parts: 2, Text: "x", At: t0}); !errors.Is(err, store.ErrFenced) {
		t.Errorf("confirming a part with fence 3 after 4: got %v, want ErrFenced", err)
	}
	if got := mustLedger(t, b); len(got) != 0 {
		t.Errorf("ledger after refused confirms: got %v, want nothing", got)
	}
	if got := mustPending(t, b); len(got) != 0 {
		t.Errorf("pending after a refused confirm: got %d, want none", len(got))
	}
	if _, ok, err := b.MessageRef(ctx, 1, 1); err != nil || ok {
		t.Errorf("message ref after a refused confirm: got found=%v, %v; want false, nil", ok, err)
	}
	if err := b.Confirm(current, store.Sent{Keys: []string{"k2"}, ChatID: 1, MessageIDs: []int{2}, At: t0}); err != nil {
		t.Errorf("confirm with fence 4: %v", err)
	}
	if ok, err := b.Claim(ctx, "k4", "c", t0, time.Minute); err != nil || !ok {
		t.Errorf("unfenced claim: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.Claim(store.WithFence(ctx, 9), "k5", "d", t0, time.Minute); err != nil || !ok {
		t.Errorf("claim with fence 9: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.Claim(current, "k6", "b", t0, time.Minute); !errors.Is(err, store.ErrFenced) || ok {
		t.Errorf("claim with fence 4 after 9: got %v, %v; want false, ErrFenced", ok, err)
	}
}

func mustPending(tb testing.TB, b Backend) []store.Sent {
	tb.Helper()
	got, err := b.Pending(testContext(tb))
	if err != nil {
		tb.Fatalf("pending: %v", err)
	}
	return got
}

// testConfirmRenews: the Confirm of an unfinished message with a Renew renews the claim of its
// first key as Claim would, in the same write: the record is written whether or not the claim
// is still the owner's, and a lost claim is reported as ErrClaimLost. A fenced one writes and
// renews nothing; a complete one ignores the Renew; an invalid one is refused whole.
func testConfirmRenews(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "renew")
	ctx := testContext(t)
	const lease = time.Minute
	claim := func(key, owner string, at time.Duration) bool {
		t.Helper()
		ok, err := b.Claim(ctx, key, owner, t0.Add(at), lease)
		if err != nil {
			t.Fatalf("claim %s by %s at +%v: %v", key, owner, at, err)
		}
		return ok
	}
	part := func(first string, id int, owner string, at time.Duration) store.Sent {
		return store.Sent{Keys: []string{first, first + "/2"}, Department: "市教育局", Stage: "nudge", ChatID: -700,
			MessageIDs: []int{id}, Parts: 3, Text: "一\n二\n三", At: t0,
			Renew: &store.Renewal{Owner: owner, Now: t0.Add(at), Lease: lease}}
	}
	recorded := func(what string, id int) {
		t.Helper()
		if _, ok, err := b.MessageRef(ctx, -700, id); err != nil || !ok {
			t.Errorf("%s: message ref of part %d: got found=%v, %v; want it recorded", what, id, ok, err)
		}
	}

	// a's claim of k, renewed by the record of its first part at +50s, holds until +110s.
	if !claim("k", "a", 0) {
		t.Fatal("claim k by a: got false, want true")
	}
	if err := b.Confirm(ctx, part("k", 1, "a", 50*time.Second)); err != nil {
		t.Fatalf("confirm part 1 renewing a's claim: %v", err)
	}
	recorded("renewed", 1)
	if claim("k", "b", 70*time.Second) {
		t.Error("claim k by b at +70s, after the first lease but within the renewed one: got true, want false")
	}
	// b records a part of k: it goes in, but the claim stays a's.
	if err := b.Confirm(ctx, part("k", 2, "b", 80*time.Second)); !errors.Is(err, store.ErrClaimLost) {
		t.Errorf("confirm renewing a claim another owner holds: got %v, want ErrClaimLost", err)
	}
	recorded("claim lost", 2)
	if claim("k", "c", 109*time.Second) {
		t.Error("claim k by c at +109s: got true, want false (the lost renewal must not take it)")
	}
	if got := mustPending(t, b); len(got) != 1 || got[0].Renew != nil {
		t.Errorf("pending: got %+v, want one message, without a Renew", got)
	}

	// A lapsed claim is taken, as Claim takes it.
	if !claim("l", "a", 0) {
		t.Fatal("claim l by a: got false, want true")
	}
	if err := b.Confirm(ctx, part("l", 3, "b", 2*lease)); err != nil {
		t.Errorf("confirm renewing a lapsed claim of another owner: got %v, want nil", err)
	}
	if claim("l", "a", 2*lease+time.Second) {
		t.Error("claim l by a after b's renewal took it: got true, want false")
	}

	// A key confirmed meanwhile cannot be renewed; its ledger entry stays.
	if err := b.Confirm(ctx, store.Sent{Keys: []string{"m"}, ChatID: -700, MessageIDs: []int{4}, At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := b.Confirm(ctx, part("m", 5, "a", time.Second)); !errors.Is(err, store.ErrClaimLost) {
		t.Errorf("confirm renewing a confirmed key: got %v, want ErrClaimLost", err)
	}
	if got := mustLedger(t, b); len(got) != 1 {
		t.Errorf("ledger: got %v, want only m", got)
	}

	// A complete message ignores its Renew and drops its claims as ever.
	if !claim("n", "a", 0) {
		t.Fatal("claim n by a: got false, want true")
	}
	whole := part("n", 6, "b", time.Second)
	whole.Parts, whole.Text = 1, ""
	if err := b.Confirm(ctx, whole); err != nil {
		t.Errorf("confirm a complete message with a Renew: got %v, want nil", err)
	}
	if _, ok, err := b.SentFor(ctx, "n"); err != nil || !ok {
		t.Errorf("sent for n: got found=%v, %v; want it confirmed", ok, err)
	}

	// A fenced one renews nothing.
	if !claim("f", "a", 0) {
		t.Fatal("claim f by a: got false, want true")
	}
	if _, err := b.ClaimAll(store.WithFence(ctx, 4), []string{"f/2"}, "a", t0, lease); err != nil {
		t.Fatal(err)
	}
	if err := b.Confirm(store.WithFence(ctx, 3), part("f", 7, "a", 50*time.Second)); !errors.Is(err, store.ErrFenced) {
		t.Errorf("confirm with fence 3 after 4: got %v, want ErrFenced", err)
	}
	if _, ok, err := b.MessageRef(ctx, -700, 7); err != nil || ok {
		t.Errorf("message ref after a fenced confirm: got found=%v, %v; want false, nil", ok, err)
	}
	if !claim("f", "b", lease) {
		t.Error("claim f by b once a's first lease lapsed: got false, want true (the fenced renewal renewed it)")
	}

	// An invalid Renew is refused, and nothing is written.
	for _, r := range []store.Renewal{{Now: t0, Lease: lease}, {Owner: "a", Lease: lease}, {Owner: "a", Now: t0}} {
		bad := part("g", 8, "a", 0)
		bad.Renew = &r
		if err := b.Confirm(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("confirm with renew %+v: got %v, want ErrInvalid", r, err)
		}
	}
	if _, ok, err := b.MessageRef(ctx, -700, 8); err != nil || ok {
		t.Errorf("message ref after refused confirms: got found=%v, %v; want false, nil", ok, err)
	}
}
