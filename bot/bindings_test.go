package bot

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// TestBindingsRemembered: the bindings are read from the store once for many reports, and a
// binding written through the bot is seen by the very next read.
func TestBindingsRemembered(t *testing.T) {
	ctx := context.Background()
	reads := 0
	inner := &bindingsStore{read: func() []store.Binding {
		reads++
		return []store.Binding{{Department: "市教育局", ChatID: -1}}
	}}
	c := &cachedBindings{Store: inner}
	for range 100 {
		if got, err := c.Bindings(ctx); err != nil || len(got) != 1 || got[0].ChatID != -1 {
			t.Fatalf("got %+v, %v", got, err)
		}
	}
	if reads != 1 {
		t.Errorf("100 lookups: got %d store reads, want 1", reads)
	}
	for name, write := range map[string]func() error{
		"bind":    func() error { return c.Bind(ctx, store.Binding{Department: "市教育局", ChatID: -2}) },
		"unbind":  func() error { return c.Unbind(ctx, "市教育局") },
		"migrate": func() error { return c.MigrateChat(ctx, -1, -100) },
		"broken":  func() error { return c.MarkBroken(ctx, "市教育局", "kicked") },
	} {
		before := reads
		if err := write(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Bindings(ctx); err != nil {
			t.Fatal(err)
		}
		if reads != before+1 {
			t.Errorf("after %s: got %d store reads, want the bindings read again", name, reads-before)
		}
	}
}

// bindingsStore is a Store whose Bindings comes from read and whose binding writes do nothing.
type bindingsStore struct {
	Store
	read func() []store.Binding
}

func (s *bindingsStore) Bindings(context.Context) ([]store.Binding, error) { return s.read(), nil }
func (s *bindingsStore) Bind(context.Context, store.Binding) error         { return nil }
func (s *bindingsStore) Unbind(context.Context, string) error              { return nil }
func (s *bindingsStore) MigrateChat(context.Context, int64, int64) error   { return nil }
func (s *bindingsStore) MarkBroken(context.Context, string, string) error  { return nil }

// TestBindingByChat: ByChat answers from what Bindings remembered, and from a fresh read once
// a binding was written.
func TestBindingByChat(t *testing.T) {
	ctx := context.Background()
	reads := 0
	list := []store.Binding{{Department: "市教育局", ChatID: -1}, {Department: "市财政局", ChatID: -2}}
	c := &cachedBindings{Store: &bindingsStore{read: func() []store.Binding { reads++; return list }}}
	tests := []struct {
		chat     int64
		wantDept string
		wantOK   bool
	}{{-2, "市财政局", true}, {-1, "市教育局", true}, {-3, "", false}}
	for _, tt := range tests {
		bd, ok, err := c.ByChat(ctx, tt.chat)
		if err != nil || ok != tt.wantOK || bd.Department != tt.wantDept {
			t.Errorf("chat %d: got %q, %v, %v; want %q, %v, nil", tt.chat, bd.Department, ok, err, tt.wantDept, tt.wantOK)
		}
	}
	if reads != 1 {
		t.Errorf("3 lookups: got %d store reads, want 1", reads)
	}
	list = []store.Binding{{Department: "市公安局", ChatID: -3}}
	if err := c.Bind(ctx, list[0]); err != nil {
		t.Fatal(err)
	}
	if bd, ok, err := c.ByChat(ctx, -3); err != nil || !ok || bd.Department != "市公安局" {
		t.Errorf("after a bind: got %q, %v, %v; want 市公安局, true, nil", bd.Department, ok, err)
	}
}

// TestBindingsOneReadAtATime: reports from many chats that find the bindings stale at the
// same moment wait for one read instead of each reading them.
func TestBindingsOneReadAtATime(t *testing.T) {
	ctx := context.Background()
	const callers = 50
	var reads atomic.Int32
	entered := make(chan struct{}, callers)
	release := make(chan struct{})
	c := &cachedBindings{Store: &bindingsStore{read: func() []store.Binding {
		reads.Add(1)
		entered <- struct{}{}
		<-release
		return []store.Binding{{Department: "市教育局", ChatID: -1}}
	}}}
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if bd, ok, err := c.ByChat(ctx, -1); err != nil || !ok || bd.Department != "市教育局" {
				t.Errorf("got %q, %v, %v; want 市教育局, true, nil", bd.Department, ok, err)
			}
		}()
	}
	// Hold the read until every caller could have started one of its own (they would, each
	// finding nothing remembered), or a while has passed.
	timeout := time.After(500 * time.Millisecond)
wait:
	for range callers {
		select {
		case <-entered:
		case <-timeout:
			break wait
		}
	}
	close(release)
	wg.Wait()
	if got := reads.Load(); got != 1 {
		t.Errorf("%d callers at once: got %d store reads, want 1", callers, got)
	}
}
