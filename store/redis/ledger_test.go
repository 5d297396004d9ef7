package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

// TestRecordStoredOnce (issue 12): an escalation of 239 keys in three messages is one record,
// which every key and message finds; a record written before, a copy under its key, still
// reads.
func TestRecordStoredOnce(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "once"))
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	var keys []string
	for i := range 239 {
		keys = append(keys, fmt.Sprintf("e|%d|市教育局|overdue", i))
	}
	sent := store.Sent{Keys: keys, Department: "supervisors", Stage: "escalation", ChatID: -500, MessageIDs: []int{7, 8, 9}, Parts: 3, At: at}
	if err := s.Confirm(ctx, sent); err != nil {
		t.Fatal(err)
	}
	if n, err := s.client.HLen(ctx, s.recordsKey()).Result(); err != nil || n != 1 {
		t.Errorf("records: got %d, %v; want 1", n, err)
	}
	if v, err := s.client.HGet(ctx, s.sentKey(), keys[200]).Result(); err != nil || len(v) > 20 {
		t.Errorf("a key's entry: got %d bytes, %v; want a short reference", len(v), err)
	}
	got, ok, err := s.SentFor(ctx, keys[200])
	if err != nil || !ok || len(got.Keys) != 239 {
		t.Errorf("sent for key 200: got %d keys, %v, %v; want 239", len(got.Keys), ok, err)
	}
	got, ok, err = s.MessageRef(ctx, -500, 9)
	if err != nil || !ok || len(got.Keys) != 239 || got.Stage != "escalation" {
		t.Errorf("message ref of part 3: got %+v, %v, %v; want the escalation", got, ok, err)
	}

	old := store.Sent{Keys: []string{"n|1|市教育局|overdue"}, Department: "市教育局", Tasks: []int{1}, ChatID: -1001, MessageIDs: []int{3}, At: at}
	body, _ := json.Marshal(old)
	if err := s.client.HSet(ctx, s.sentKey(), old.Keys[0], body).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.client.HSet(ctx, s.messagesKey(), messageField(-1001, 3), body).Err(); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.SentFor(ctx, old.Keys[0]); err != nil || !ok || got.Department != "市教育局" {
		t.Errorf("sent for a record written before: got %+v, %v, %v", got, ok, err)
	}
	if got, ok, err := s.MessageRef(ctx, -1001, 3); err != nil || !ok || len(got.Tasks) != 1 {
		t.Errorf("message ref of a record written before: got %+v, %v, %v", got, ok, err)
	}
}
