package redis

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

var _ storetest.LatestTamper = tamper{}

// SetLatest writes {P}:latest only, the copy Latest (export, digest, scheduler) reads.
func (tamper) SetLatest(tb testing.TB, b storetest.Backend, st store.State) {
	tb.Helper()
	s := b.(*Store)
	text, err := json.Marshal(st)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.client.HSet(context.Background(), s.latestKey(), store.SnoozeKey(st.Task, st.Department), text).Err(); err != nil {
		tb.Fatalf("hset: %v", err)
	}
}

func (tamper) DeleteLatest(tb testing.TB, b storetest.Backend, task int, department string) {
	tb.Helper()
	s := b.(*Store)
	n, err := s.client.HDel(context.Background(), s.latestKey(), store.SnoozeKey(task, department)).Result()
	if err != nil || n != 1 {
		tb.Fatalf("hdel: got %d deleted, %v; want 1", n, err)
	}
}

// TestVerifyLatestPerDepartmentCopy: {P}:latest-for:<dept> is checked too, although nothing
// reads it today: a state changed there is found, and one removed from both copies is
// missing from both.
func TestVerifyLatestPerDepartmentCopy(t *testing.T) {
	open := opener(redisURL(t))
	b := open(t, storetest.NewPrefix(t, "latest-for")).(*Store)
	ctx := context.Background()
	u := store.Update{Task: 16, Department: "市教育局", ChatID: -1001, Text: "遇到困难", Status: store.StatusBlocked, Source: store.SourceReply}
	if _, _, err := b.Record(ctx, 0, []store.Update{u}); err != nil {
		t.Fatal(err)
	}
	states, err := b.Latest(ctx)
	if err != nil || len(states) != 1 {
		t.Fatalf("latest: got %v, %v; want one state", states, err)
	}
	st := states[0]
	st.Status = store.StatusDone
	text, _ := json.Marshal(st)
	if err := b.client.HSet(ctx, b.latestForKey("市教育局"), "16", text).Err(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, want ...string) {
		t.Helper()
		problems, err := store.VerifyLatest(ctx, b)
		if err != nil {
			t.Fatalf("%s: verify latest: %v", what, err)
		}
		var got []string
		for _, p := range problems {
			got = append(got, p.String())
		}
		if len(got) != len(want) {
			t.Fatalf("%s: got problems %q, want %q", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: problem %d: got %q, want %q", what, i, got[i], want[i])
			}
		}
	}
	check("latest-for changed", "task 16 市教育局: latest_differs: status: latest-for says done, the updates say blocked")

	if err := b.client.Del(ctx, b.latestForKey("市教育局")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.client.HDel(ctx, b.latestKey(), "16|市教育局").Err(); err != nil {
		t.Fatal(err)
	}
	check("both removed",
		"task 16 市教育局: latest_missing: no state in latest; the updates say blocked, 1 update(s), last 16-1",
		"task 16 市教育局: latest_missing: no state in latest-for; the updates say blocked, 1 update(s), last 16-1")
}
