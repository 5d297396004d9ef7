package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// claimScene puts b's keys named pre+sceneKeys in the states a claim can meet, as of t0: a
// confirmed key, keys held by another owner (unexpired, lapsed, lapsing exactly at t0) and by
// "me", and a free key.
func claimScene(tb testing.TB, b Backend, pre string) {
	tb.Helper()
	ctx := testContext(tb)
	if err := b.Confirm(ctx, store.Sent{Keys: []string{pre + "done"}, At: t0.Add(-time.Hour)}); err != nil {
		tb.Fatalf("confirm: %v", err)
	}
	for _, c := range []struct {
		key, owner string
		at         time.Duration // after t0
	}{
		{"held", "other", -30 * time.Second},
		{"lapsed", "other", -2 * time.Minute},
		{"edge", "other", -time.Minute}, // its lease ends at t0 itself: free at t0
		{"mine", "me", -30 * time.Second},
		{"mine-lapsed", "me", -2 * time.Minute},
	} {
		if ok, err := b.Claim(ctx, pre+c.key, c.owner, t0.Add(c.at), time.Minute); err != nil || !ok {
			tb.Fatalf("claim %s by %s: got %v, %v; want true, nil", c.key, c.owner, ok, err)
		}
	}
}

var sceneKeys = []string{"free", "done", "held", "lapsed", "edge", "mine", "mine-lapsed"}

func prefixed(pre string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = pre + k
	}
	return out
}

// testClaimAll checks ClaimAll against Claim key by key, on two sets of keys in the same
// state, and against what Claim's rules say.
func testClaimAll(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "claim-all")
	one, all := b, b
	claimScene(t, b, "one:")
	claimScene(t, b, "all:")
	ctx := testContext(t)
	rounds := []struct {
		name  string
		owner string
		at    time.Duration // after t0
		want  []bool        // by sceneKeys
	}{
		{"me at t0", "me", 0, []bool{true, false, false, true, true, true, true}},
		{"a third owner while mine hold", "third", 10 * time.Second, []bool{false, false, false, false, false, false, false}},
		{"a third owner once every lease lapsed", "third", 2 * time.Minute, []bool{true, false, true, true, true, true, true}},
		{"me again, the third's leases held", "me", 2*time.Minute + time.Second, []bool{false, false, false, false, false, false, false}},
	}
	for _, r := range rounds {
		now := t0.Add(r.at)
		var byKey []bool
		for _, key := range prefixed("one:", sceneKeys) {
			ok, err := one.Claim(ctx, key, r.owner, now, time.Minute)
			if err != nil {
				t.Fatalf("%s: claim %s: %v", r.name, key, err)
			}
			byKey = append(byKey, ok)
		}
		got, err := all.ClaimAll(ctx, prefixed("all:", sceneKeys), r.owner, now, time.Minute)
		if err != nil {
			t.Fatalf("%s: claim all: %v", r.name, err)
		}
		if !reflect.DeepEqual(got, byKey) {
			t.Errorf("%s: claim all %v: got %v, want %v as Claim gave key by key", r.name, sceneKeys, got, byKey)
		}
		if !reflect.DeepEqual(got, r.want) {
			t.Errorf("%s: claim all %v: got %v, want %v", r.name, sceneKeys, got, r.want)
		}
	}

	// The same key twice is claimed twice by the same owner, as two Claims would.
	if got, err := all.ClaimAll(ctx, []string{"twice", "twice"}, "me", t0, time.Minute); err != nil || !reflect.DeepEqual(got, []bool{true, true}) {
		t.Errorf("a key twice: got %v, %v; want [true true], nil", got, err)
	}
	if got, err := all.ClaimAll(ctx, nil, "me", t0, time.Minute); err != nil || len(got) != 0 {
		t.Errorf("no keys: got %v, %v; want [], nil", got, err)
	}
	if _, err := all.ClaimAll(ctx, []string{"ok", ""}, "me", t0, time.Minute); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an empty key: got %v, want ErrInvalid", err)
	}
	if got, err := all.ClaimAll(ctx, []string{"ok"}, "other", t0, time.Minute); err != nil || !reflect.DeepEqual(got, []bool{true}) {
		t.Errorf("after a refused call: got %v, %v; want [true] (the call claimed nothing)", got, err)
	}

	// Many keys, more than one script call or statement batch: each answered in order.
	many := make([]string, 12001)
	for i := range many {
		many[i] = "many-" + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
	}
	if ok, err := all.Claim(ctx, many[7000], "other", t0, time.Minute); err != nil || !ok {
		t.Fatalf("claim one of many: got %v, %v", ok, err)
	}
	got, err := all.ClaimAll(ctx, many, "me", t0, time.Minute)
	if err != nil {
		t.Fatalf("claim %d keys: %v", len(many), err)
	}
	if len(got) != len(many) || got[7000] || slices.Index(got[:7000], false) >= 0 || slices.Index(got[7001:], false) >= 0 {
		t.Errorf("claim %d keys, one held by another owner: got %d answers, %d false (want only index 7000)",
			len(many), len(got), len(got)-countTrue(got))
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// testClaimAllFenced: a stale fence refuses the whole call and claims nothing.
func testClaimAllFenced(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "claim-all-fence")
	ctx := testContext(t)
	old, current := store.WithFence(ctx, 3), store.WithFence(ctx, 4)
	if got, err := b.ClaimAll(old, []string{"k1"}, "a", t0, time.Minute); err != nil || !reflect.DeepEqual(got, []bool{true}) {
		t.Fatalf("claim all with fence 3: got %v, %v; want [true], nil", got, err)
	}
	if got, err := b.ClaimAll(current, []string{"k2"}, "b", t0, time.Minute); err != nil || !reflect.DeepEqual(got, []bool{true}) {
		t.Fatalf("claim all with fence 4: got %v, %v; want [true], nil", got, err)
	}
	if got, err := b.ClaimAll(old, []string{"k3", "k4"}, "a", t0, time.Minute); !errors.Is(err, store.ErrFenced) || got != nil {
		t.Errorf("claim all with fence 3 after 4: got %v, %v; want nil, ErrFenced", got, err)
	}
	if got, err := b.ClaimAll(ctx, []string{"k3", "k4"}, "c", t0, time.Minute); err != nil || !reflect.DeepEqual(got, []bool{true, true}) {
		t.Errorf("after the fenced call, another owner: got %v, %v; want [true true], nil (nothing was claimed)", got, err)
	}
}

// testPruneLedger: pruning drops the keys keep refuses, their sent index, the records nothing
// points to any more, and lapsed claims; it leaves the rest as it was.
func testPruneLedger(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "prune")
	ctx := testContext(t)
	confirm := func(sent store.Sent) {
		t.Helper()
		if err := b.Confirm(ctx, sent); err != nil {
			t.Fatalf("confirm %v: %v", sent.Keys, err)
		}
	}
	old := t0.Add(-40 * 24 * time.Hour)
	confirm(store.Sent{Keys: []string{"a1", "a2"}, Department: "甲局", Tasks: []int{1, 2}, Stage: "nudge", ChatID: 7, MessageIDs: []int{10}, At: old})
	confirm(store.Sent{Keys: []string{"b1"}, Stage: "tick", At: old})
	confirm(store.Sent{Keys: []string{"c1", "c2"}, Department: "乙局", Stage: "nudge", At: old})
	confirm(store.Sent{Keys: []string{"d1"}, Stage: "tick", At: t0})
	// A message confirmed part by part: the first part's record is superseded by the whole's.
	confirm(store.Sent{Keys: []string{"m1"}, Department: "丁局", Stage: "nudge", ChatID: 9, MessageIDs: []int{30}, Parts: 2, Text: "一\n二", At: old})
	confirm(store.Sent{Keys: []string{"m1"}, Department: "丁局", Stage: "nudge", ChatID: 9, MessageIDs: []int{30, 31}, Parts: 2, At: old})
	// An unfinished message: its pending entry is not the ledger's to prune.
	confirm(store.Sent{Keys: []string{"p1"}, Department: "丙局", Stage: "nudge", ChatID: 8, MessageIDs: []int{20}, Parts: 2, Text: "一\n二", At: old})
	for _, c := range []struct {
		key string
		at  time.Time
	}{{"lapsed", t0.Add(-2 * time.Minute)}, {"live", t0.Add(-30 * time.Second)}} {
		if ok, err := b.Claim(ctx, c.key, "other", c.at, time.Minute); err != nil || !ok {
			t.Fatalf("claim %s: got %v, %v", c.key, ok, err)
		}
	}

	seen := map[string]time.Time{}
	drop := map[string]bool{"a1": true, "a2": true, "b1": true, "c1": true}
	got, err := b.PruneLedger(ctx, t0, func(key string, at time.Time) bool {
		seen[key] = at
		return !drop[key]
	})
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	// b1's record goes, and m1's first part's; a1/a2's stays for its message, c1's for c2.
	if want := (store.Pruned{Keys: 4, Records: 2, Claims: 1}); got != want {
		t.Errorf("prune: got %+v, want %+v", got, want)
	}
	wantSeen := map[string]time.Time{"a1": old, "a2": old, "b1": old, "c1": old, "c2": old, "d1": t0, "m1": old}
	if len(seen) != len(wantSeen) {
		t.Errorf("keep was asked about %v, want %v", seen, wantSeen)
	}
	for key, at := range wantSeen {
		if !seen[key].Equal(at) {
			t.Errorf("keep(%s): got at %v, want %v", key, seen[key], at)
		}
	}
	ledger := mustLedger(t, b)
	if _, ok := ledger["c2"]; !ok || len(ledger) != 3 {
		t.Errorf("ledger after prune: got %v, want c2, d1 and m1", ledger)
	}
	for _, key := range []string{"a1", "b1", "c1"} {
		if _, ok, err := b.SentFor(ctx, key); err != nil || ok {
			t.Errorf("sent for pruned %s: got found=%v, %v; want false, nil", key, ok, err)
		}
	}
	if sent, ok, err := b.SentFor(ctx, "c2"); err != nil || !ok || !reflect.DeepEqual(sent.Keys, []string{"c1", "c2"}) {
		t.Errorf("sent for c2: got %+v, %v, %v; want its record with keys [c1 c2]", sent, ok, err)
	}
	for _, id := range []int{30, 31} {
		if sent, ok, err := b.MessageRef(ctx, 9, id); err != nil || !ok || len(sent.MessageIDs) != 2 {
			t.Errorf("message ref of part %d of a message confirmed by parts: got %+v, %v, %v; want the whole's record", id, sent, ok, err)
		}
	}
	if sent, ok, err := b.SentFor(ctx, "m1"); err != nil || !ok || len(sent.MessageIDs) != 2 {
		t.Errorf("sent for m1: got %+v, %v, %v; want the whole's record", sent, ok, err)
	}
	if sent, ok, err := b.MessageRef(ctx, 7, 10); err != nil || !ok || !reflect.DeepEqual(sent.Tasks, []int{1, 2}) {
		t.Errorf("message ref of a pruned reminder: got %+v, %v, %v; want its record, tasks [1 2]", sent, ok, err)
	}
	if p := mustPending(t, b); len(p) != 1 || p[0].FirstKey() != "p1" {
		t.Errorf("pending after prune: got %v, want p1 as it was", p)
	}
	if ok, err := b.Claim(ctx, "live", "third", t0, time.Minute); err != nil || ok {
		t.Errorf("a live claim after prune: got %v, %v; want false (still held)", ok, err)
	}
	if ok, err := b.Claim(ctx, "c2", "third", t0, time.Minute); err != nil || ok {
		t.Errorf("a kept key after prune: got %v, %v; want false (still confirmed)", ok, err)
	}

	if got, err := b.PruneLedger(ctx, t0, func(string, time.Time) bool { return true }); err != nil || got != (store.Pruned{}) {
		t.Errorf("prune again, keeping all: got %+v, %v; want nothing pruned", got, err)
	}
	if _, err := b.PruneLedger(store.WithFence(ctx, 5), t0, func(string, time.Time) bool { return true }); err != nil {
		t.Fatalf("prune with fence 5: %v", err)
	}
	if _, err := b.PruneLedger(store.WithFence(ctx, 4), t0, func(string, time.Time) bool { return false }); !errors.Is(err, store.ErrFenced) {
		t.Errorf("prune with fence 4 after 5: got %v, want ErrFenced", err)
	}
	if ledger := mustLedger(t, b); len(ledger) != 3 {
		t.Errorf("ledger after a fenced prune: got %v, want c2, d1 and m1 as they were", ledger)
	}
}
