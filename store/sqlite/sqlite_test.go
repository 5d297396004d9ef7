package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

var _ storetest.Backend = (*Store)(nil)

// paths gives every test its own file, shared by all prefixes it opens.
var paths sync.Map // testing.TB → string

func pathFor(tb testing.TB) string {
	tb.Helper()
	if path, ok := paths.Load(tb); ok {
		return path.(string)
	}
	path, _ := paths.LoadOrStore(tb, filepath.Join(tb.TempDir(), "state", "duban.db"))
	tb.Cleanup(func() { paths.Delete(tb) })
	return path.(string)
}

func openStore(tb testing.TB, prefix string) storetest.Backend {
	tb.Helper()
	s, err := Open(context.Background(), pathFor(tb), prefix)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// tamper edits the file with plain SQL, as someone with the file would.
type tamper struct{}

func (tamper) Rewrite(tb testing.TB, b storetest.Backend, task int, seq int64, edit func(*store.Update)) {
	tb.Helper()
	s := b.(*Store)
	ups, err := s.Updates(context.Background(), task)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range ups {
		if u.Seq != seq {
			continue
		}
		edit(&u)
		args := append(updateValues(u), s.namespace, task, seq)
		res, err := s.db.Exec(`UPDATE updates SET (`+updateColumns+`) = (`+updatePlaceholders+`)
				WHERE namespace = ? AND task = ? AND seq = ?`, args...)
		mustAffectOne(tb, res, err)
		return
	}
	tb.Fatalf("rewrite: task %d has no update %d", task, seq)
}

func (tamper) Delete(tb testing.TB, b storetest.Backend, task int, seq int64) {
	tb.Helper()
	s := b.(*Store)
	res, err := s.db.Exec(`DELETE FROM updates WHERE namespace = ? AND task = ? AND seq = ?`, s.namespace, task, seq)
	mustAffectOne(tb, res, err)
}

func (tamper) Insert(tb testing.TB, b storetest.Backend, u store.Update) {
	tb.Helper()
	s := b.(*Store)
	res, err := s.db.Exec(`INSERT INTO updates (namespace, `+updateColumns+`) VALUES (?, `+updatePlaceholders+`)`,
		append([]any{s.namespace}, updateValues(u)...)...)
	mustAffectOne(tb, res, err)
}

func mustAffectOne(tb testing.TB, res interface{ RowsAffected() (int64, error) }, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		tb.Fatalf("got %d rows affected (%v), want 1", n, err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore, storetest.WithTamper(tamper{}))
}

func TestSecondOpenFailsWithLockError(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duban.db")
	first, err := Open(ctx, path, "duban")
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	defer first.Close()

	// Another prefix does not help: the file is the daemon's.
	second, err := Open(ctx, path, "other")
	if err == nil {
		second.Close()
		t.Fatalf("second open: got nil error, want the lock error")
	}
	want := "open " + path + ": another duban process is using it: store is locked"
	if err.Error() != want {
		t.Errorf("second open: got error %q, want %q", err, want)
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second open: got error %v, want one wrapping store.ErrLocked", err)
	}

	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	third, err := Open(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open after the first closed: got %v, want nil", err)
	}
	third.Close()
}

func TestOpenCreatesParentDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "duban.db")
	s, err := Open(context.Background(), path, "duban")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	for _, p := range []string{path, path + ".lock"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("stat %s: got %v, want the file to exist", p, err)
		}
	}
}

func TestOpenIsDurable(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "duban.db"), "duban")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	pragmas := []struct {
		name string
		want string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "10000"},
	}
	for _, p := range pragmas {
		var got string
		if err := s.db.QueryRow(`PRAGMA ` + p.name).Scan(&got); err != nil {
			t.Fatalf("pragma %s: %v", p.name, err)
		}
		if got != p.want {
			t.Errorf("pragma %s: got %s, want %s", p.name, got, p.want)
		}
	}
}

func TestReadOnlyReadsWhileWriterIsOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duban.db")
	writer, err := Open(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer writer.Close()
	reply := store.Update{Task: 1, Department: "市教育局", Text: "第一条", Source: store.SourceReply}
	first, _, err := writer.Record(ctx, 0, []store.Update{reply})
	if err != nil {
		t.Fatalf("record: %v", err)
	}

	reader, err := OpenReadOnly(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open read-only while the writer is open: %v", err)
	}
	defer reader.Close()
	got, err := reader.Updates(ctx, 1)
	if err != nil || len(got) != 1 || got[0].Hash != first[0].Hash {
		t.Fatalf("read-only updates: got %d updates, %v; want the writer's one", len(got), err)
	}

	// The reader sees what the writer commits afterwards.
	reply.Text = "第二条"
	if _, _, err := writer.Record(ctx, 0, []store.Update{reply}); err != nil {
		t.Fatalf("record: %v", err)
	}
	if got, err := reader.Updates(ctx, 1); err != nil || len(got) != 2 {
		t.Errorf("read-only updates after a write: got %d, %v; want 2", len(got), err)
	}
	if got, err := reader.Latest(ctx); err != nil || len(got) != 1 || got[0].Updates != 2 {
		t.Errorf("read-only latest: got %v, %v; want one state of 2 updates", got, err)
	}
	if problems, err := store.Verify(ctx, reader); err != nil || len(problems) != 0 {
		t.Errorf("verify through the reader: got %v, %v; want none", problems, err)
	}

	// The reader writes nothing.
	if _, _, err := reader.Record(ctx, 0, []store.Update{reply}); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("read-only record: got %v, want store.ErrReadOnly", err)
	}
	if err := reader.SetOffset(ctx, 5); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("read-only set offset: got %v, want store.ErrReadOnly", err)
	}
	if got, err := writer.Updates(ctx, 1); err != nil || len(got) != 2 {
		t.Errorf("writer updates: got %d, %v; want 2", len(got), err)
	}

	// The reader holds no lock: the daemon can restart while it reads.
	if err := writer.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}
	restarted, err := Open(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open while a reader is open: %v", err)
	}
	restarted.Close()
	if got, err := reader.Updates(ctx, 1); err != nil || len(got) != 2 {
		t.Errorf("read-only updates with no writer: got %d, %v; want 2", len(got), err)
	}
}

func TestReadOnlyAfterDaemonStopped(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duban.db")
	writer, err := Open(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, _, err := writer.Record(ctx, 0, []store.Update{{Task: 3, Department: "市财政局", Source: store.SourceCommand}}); err != nil {
		t.Fatalf("record: %v", err)
	}
	if err := writer.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	reader, err := OpenReadOnly(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open read-only: %v", err)
	}
	defer reader.Close()
	if got, err := reader.Chains(ctx); err != nil || len(got) != 1 || got[0] != 3 {
		t.Errorf("chains: got %v, %v; want [3]", got, err)
	}
}

func TestReadOnlyNeedsAnExistingStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	if s, err := OpenReadOnly(context.Background(), path, "duban"); err == nil {
		s.Close()
		t.Fatalf("open read-only a missing file: got nil error, want one")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after a failed read-only open: got %v, want the file not created", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duban.db")
	s, err := Open(ctx, path, "duban")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := s.db.Exec(`UPDATE schema_version SET version = ?`, schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, "duban")
	if err == nil {
		s.Close()
		t.Fatalf("open a newer schema: got nil error, want one")
	}
	if want := fmt.Sprintf("schema version %d is newer", schemaVersion+1); !strings.Contains(err.Error(), want) {
		t.Errorf("open a newer schema: got %q, want it to say the schema is newer", err)
	}
}

func TestOpenRejectsEmptyPrefix(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "duban.db"), "")
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("open with an empty prefix: got %v, want store.ErrInvalid", err)
	}
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "duban.db"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkRecord(b *testing.B) { storetest.BenchRecord(b, openBench(b)) }

func BenchmarkLatest(b *testing.B) { storetest.BenchLatest(b, openBench(b)) }

// BenchmarkLedger is Ledger of a 100,000-task plan's steady ledger (about 450,000 keys).
func BenchmarkLedger(b *testing.B) { storetest.BenchLedger(b, openBench(b), 450_000) }

// TestSeenForgottenAfterRetention: an update_id seen longer ago than store.SeenRetention is
// not a redelivery — after a quiet week Telegram numbers updates afresh, and a new report may
// carry an old id — even when hourly pruning has not removed the row yet.
func TestSeenForgottenAfterRetention(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duban.db")
	s, err := Open(ctx, path, "test:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := store.Update{Task: 16, Department: "市教育局", Text: "进行中", Status: store.StatusInProgress, Source: store.SourceReply}
	if _, fresh, err := s.Record(ctx, 7, []store.Update{u}); err != nil || !fresh {
		t.Fatalf("first record: fresh %v, %v", fresh, err)
	}
	old := time.Now().Add(-store.SeenRetention - time.Hour).Unix()
	if _, err := s.db.ExecContext(ctx, `UPDATE telegram_seen SET seen_at = ? WHERE update_id = 7`, old); err != nil {
		t.Fatal(err)
	}
	u.Text, u.Status = "已完成", store.StatusDone
	got, fresh, err := s.Record(ctx, 7, []store.Update{u})
	if err != nil || !fresh || len(got) != 1 || got[0].Text != "已完成" {
		t.Fatalf("the same id after the retention: got %+v, fresh %v, %v; want a fresh record", got, fresh, err)
	}
	if ups, _ := s.Updates(ctx, 16); len(ups) != 2 {
		t.Errorf("got %d updates on task 16, want 2", len(ups))
	}
	// Within the retention it is a redelivery.
	if _, fresh, err := s.Record(ctx, 7, []store.Update{u}); err != nil || fresh {
		t.Errorf("redelivered within the retention: fresh %v, %v; want the record given back", fresh, err)
	}
}
