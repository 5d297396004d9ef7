package bot

import (
	"context"
	"sync"
	"sync/atomic"
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

// TestPollerAfterAQuietWeek: Telegram renumbers updates at random after a week without any,
// possibly below the stored offset. After six quiet days the poller asks from the earliest
// unconfirmed update, gets the new one, and moves the stored offset down to follow it.
func TestPollerAfterAQuietWeek(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.WithoutLimits())
	store := &offsets{offset: 1_000_000} // from before the quiet week; the fake numbers from 1
	var clock atomic.Int64
	clock.Store(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	handled := make(chan int64, 10)
	p := &Poller{
		APIURL: tg.URL(), Token: tg.Token(), Store: store, Timeout: time.Second,
		Handle: func(_ context.Context, upd *models.Update) error { handled <- upd.ID; return nil },
		Now:    func() time.Time { return time.Unix(0, clock.Load()) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	tg.WaitFor(t, 10*time.Second, "the first poll", func() bool { return tg.Calls("getUpdates") >= 1 })
	clock.Add(int64(7 * 24 * time.Hour))
	calls := tg.Calls("getUpdates")
	// The poll in flight still has the old offset; the one after it asks from the start.
	tg.WaitFor(t, 10*time.Second, "a poll after the quiet week", func() bool { return tg.Calls("getUpdates") >= calls+2 })
	user := telegramtest.NewUser(5, "王五")
	tg.Send(telegramtest.PrivateChat(user), user, "/help")
	select {
	case id := <-handled:
		// The offset is saved once Handle has returned.
		tg.WaitFor(t, 10*time.Second, "the update confirmed", func() bool { return tg.Pending() == 0 })
		store.mu.Lock()
		defer store.mu.Unlock()
		if store.offset != id+1 || len(store.resets) != 1 {
			t.Errorf("stored offset: got %d (resets %v), want %d, moved down once", store.offset, store.resets, id+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the update after the quiet week never reached the handler")
	}
}
