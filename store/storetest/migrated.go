package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// chatMigrator is what a backend provides to follow a group that became a supergroup.
type chatMigrator interface {
	ChatMigrations(ctx context.Context) (map[int64]int64, error)
}

// testChatMigrations: MigrateChat records the move, and a message sent before the upgrade is
// found under the new id too, without hiding what the new chat has indexed itself.
func testChatMigrations(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "migrations")
	ctx := testContext(t)
	m, ok := b.(chatMigrator)
	if !ok {
		t.Fatalf("%T has no ChatMigrations", b)
	}
	const oldID, newID = int64(-7), int64(-1000000000007)
	if got, err := m.ChatMigrations(ctx); err != nil || len(got) != 0 {
		t.Fatalf("migrations of a fresh store: got %v, %v; want none", got, err)
	}
	if err := b.Bind(ctx, store.Binding{Department: "市教育局", ChatID: oldID, Title: "群", BoundAt: t0}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	before := store.Sent{Keys: []string{"16|市教育局|before:7d"}, Department: "市教育局", Tasks: []int{16}, Stage: "nudge",
		ChatID: oldID, MessageIDs: []int{10, 11}, At: t0}
	// The new chat's own message 11 (as ids start afresh) must win over the old chat's 11.
	own := store.Sent{Department: "市教育局", Tasks: []int{19}, Stage: "ack", ChatID: newID, MessageIDs: []int{11}, At: t0.Add(time.Minute)}
	for _, sent := range []store.Sent{before, own} {
		if err := b.Confirm(ctx, sent); err != nil {
			t.Fatalf("confirm: %v", err)
		}
	}
	for range 2 { // a migration is reported twice: the service message and the sender's error
		if err := b.MigrateChat(ctx, oldID, newID); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	if got, err := m.ChatMigrations(ctx); err != nil || len(got) != 1 || got[oldID] != newID {
		t.Errorf("migrations: got %v, %v; want %d → %d", got, err, oldID, newID)
	}
	checkBindings(t, b, store.Binding{Department: "市教育局", ChatID: newID, Title: "群", BoundAt: t0})
	for _, c := range []struct {
		chat  int64
		msg   int
		tasks []int
	}{{newID, 10, []int{16}}, {newID, 11, []int{19}}, {oldID, 10, []int{16}}, {oldID, 11, []int{16}}} {
		ref, found, err := b.MessageRef(ctx, c.chat, c.msg)
		if err != nil || !found || len(ref.Tasks) != len(c.tasks) || ref.Tasks[0] != c.tasks[0] {
			t.Errorf("message ref %d/%d: got %v (found %v, %v), want tasks %v", c.chat, c.msg, ref.Tasks, found, err, c.tasks)
		}
	}

	// A group the bot is in but that no department holds is remembered too: config.yaml may
	// name it later.
	if err := b.MigrateChat(ctx, -8, -1000000000008); err != nil {
		t.Fatalf("migrate an unbound chat: %v", err)
	}
	if got, err := m.ChatMigrations(ctx); err != nil || len(got) != 2 || got[-8] != -1000000000008 {
		t.Errorf("migrations: got %v, %v; want -8 → -1000000000008 too", got, err)
	}
	if err := b.Close(); err != nil { // the embedded store allows one open at a time
		t.Fatalf("close: %v", err)
	}
	other, _ := s.openFresh(t, "migrations-other")
	if got, err := other.(chatMigrator).ChatMigrations(ctx); err != nil || len(got) != 0 {
		t.Errorf("migrations under another prefix: got %v, %v; want none", got, err)
	}
}
