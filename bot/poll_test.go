package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/internal/telegramtest"
)

// offsets is an OffsetStore in memory that keeps the store's rules: SetOffset never moves
// the offset back, ResetOffset does.
type offsets struct {
	mu     sync.Mutex
	offset int64
	resets []int64
}

func (o *offsets) Offset(context.Context) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.offset, nil
}

func (o *offsets) SetOffset(_ context.Context, next int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offset = max(o.offset, next)
	return nil
}

func (o *offsets) ResetOffset(_ context.Context, next int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offset = next
	o.resets = append(o.resets, next)
	return nil
}

// TestPollerAfterAQuietWeek: Telegram numbers updates afresh after a week without any,
// possibly far below the stored offset. Whether the poller ran through the quiet week or
// starts after it, the update with the new, low id reaches the handler, is confirmed, and the
// stored offset follows it down once. No clock is involved: the poller never sends an offset
// it did not learn in this run.
func TestPollerAfterAQuietWeek(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restart bool
	}{
		{"running", false},
		{"restarted", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := telegramtest.New(t, telegramtest.WithoutLimits())
			tg.Renumber(1_000_000)
			store := &offsets{}
			handled := make(chan int64, 10)
			start := func() (stop func()) {
				p := &Poller{
					APIURL: tg.URL(), Token: tg.Token(), Store: store, Timeout: time.Second,
					Handle: func(_ context.Context, upd *models.Update) error { handled <- upd.ID; return nil },
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- p.Run(ctx) }()
				return func() {
					cancel()
					if err := <-done; err != nil {
						t.Errorf("Run: %v", err)
					}
				}
			}
			receive := func(what string) int64 {
				t.Helper()
				select {
				case id := <-handled:
					return id
				case <-time.After(10 * time.Second):
					t.Fatalf("%s never reached the handler", what)
					return 0
				}
			}
			stop := start()
			defer func() { stop() }()
			user := telegramtest.NewUser(5, "王五")
			tg.Send(telegramtest.PrivateChat(user), user, "/help")
			if id := receive("the update before the quiet week"); id != 1_000_000 {
				t.Fatalf("update before the quiet week: got id %d, want 1000000", id)
			}
			tg.WaitFor(t, 10*time.Second, "the update confirmed", func() bool { return tg.Pending() == 0 })
			if tc.restart {
				stop()
				stop = func() {}
			} else {
				calls := tg.Calls("getUpdates")
				tg.WaitFor(t, 10*time.Second, "an idle poll", func() bool { return tg.Calls("getUpdates") >= calls+2 })
			}

			tg.Renumber(3) // the quiet week is over
			if tc.restart {
				stop = start()
			}
			tg.Send(telegramtest.PrivateChat(user), user, "/help")
			if id := receive("the update after the quiet week"); id != 3 {
				t.Fatalf("update after the quiet week: got id %d, want 3", id)
			}
			tg.WaitFor(t, 10*time.Second, "the update confirmed", func() bool { return tg.Pending() == 0 })
			store.mu.Lock()
			defer store.mu.Unlock()
			if store.offset != 4 || len(store.resets) != 1 {
				t.Errorf("stored offset: got %d (resets %v), want 4, moved down once", store.offset, store.resets)
			}
		})
	}
}

// TestPollerLanes: a chat whose update is still being handled holds up no other chat, and
// its own later updates wait behind it, in order; the offset confirms nothing from the held
// update on until it is done, and then everything.
func TestPollerLanes(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.WithoutLimits())
	store := &offsets{}
	slow, fast := telegramtest.NewUser(5, "慢"), telegramtest.NewUser(6, "快")
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	handled := make(chan string, 10)
	p := &Poller{
		APIURL: tg.URL(), Token: tg.Token(), Store: store, Timeout: time.Second, Recheck: 20 * time.Millisecond,
		Handle: func(_ context.Context, upd *models.Update) error {
			text := upd.Message.Text
			if text == "slow 1" {
				<-release
			}
			mu.Lock()
			order = append(order, text)
			mu.Unlock()
			handled <- text
			return nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	receive := func(want string) {
		t.Helper()
		select {
		case got := <-handled:
			if got != want {
				t.Fatalf("handled: got %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q never reached the handler", want)
		}
	}
	tg.Send(telegramtest.PrivateChat(slow), slow, "slow 1")
	tg.Send(telegramtest.PrivateChat(slow), slow, "slow 2")
	tg.Send(telegramtest.PrivateChat(fast), fast, "fast 1")
	receive("fast 1") // while slow 1 is held
	tg.Send(telegramtest.PrivateChat(fast), fast, "fast 2")
	receive("fast 2") // sent after the first poll: found by asking again
	calls := tg.Calls("getUpdates")
	tg.WaitFor(t, 10*time.Second, "a few polls", func() bool { return tg.Calls("getUpdates") >= calls+2 })
	if n := tg.Pending(); n != 4 {
		t.Errorf("updates at Telegram while the first is held: got %d, want all 4 (the offset cannot pass it)", n)
	}
	close(release)
	receive("slow 1")
	receive("slow 2")
	tg.WaitFor(t, 10*time.Second, "everything confirmed", func() bool { return tg.Pending() == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 4 {
		t.Errorf("handled: got %v, want each update once", order)
	}
}
