package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// TestGroupCommit: writes from many goroutines at once are committed together, each told its
// own outcome: one that fails is rolled back alone, the others are all stored, and every
// reply is on disk when its Record returns (the file reopened reads them all).
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	path := pathFor(t)
	s, err := Open(ctx, path, "duban:")
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.Record(ctx, int64(1000+i), []store.Update{{Task: 1 + i%5, Department: "市教育局",
				At: time.Date(2026, 12, 2, 9, 0, 0, i, time.UTC), Text: fmt.Sprintf("进行中 %d", i), Status: store.StatusInProgress, Source: store.SourceReply}})
		}()
	}
	// A write that fails inside the transaction, among them: its own change is undone.
	failing := errors.New("a write that fails halfway")
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[n] = s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`DELETE FROM updates`); err != nil {
				return err
			}
			return failing
		})
	}()
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("record %d: %v", i, err)
		}
	}
	if c := s.commits.Load(); c >= n {
		t.Errorf("%d writes took %d commits, want fewer: writes waiting together commit together", n+1, c)
	}
	t.Logf("%d writes, %d commits", n+1, s.commits.Load())
	if !errors.Is(errs[n], failing) {
		t.Errorf("the failing write: got %v, want its own error", errs[n])
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, "duban:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	total := 0
	for task := 1; task <= 5; task++ {
		ups, err := s.Updates(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		total += len(ups)
	}
	if total != n {
		t.Errorf("after reopening: got %d updates, want %d", total, n)
	}
	if problems, err := store.Verify(ctx, s); err != nil || len(problems) != 0 {
		t.Errorf("verify: %v, %+v", err, problems)
	}
}
