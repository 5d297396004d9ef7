package sender_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/sender"
)

// TestQueuedMessagesThroughTelegramLimits sends 200 messages at once to 8 groups through the
// fake Bot API, which enforces Telegram's limits (1/s per chat, 20/min per group, 30/s
// overall) on a clock 100 times faster. Every message must arrive exactly once, and the
// sender's own pacing must keep 429s to at most one per chat.
func TestQueuedMessagesThroughTelegramLimits(t *testing.T) {
	const scale = 0.01
	tg := telegramtest.New(t, telegramtest.WithTimeScale(scale))
	api, err := tgbot.New(tg.Token(), tgbot.WithServerURL(tg.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	s := sender.New(api, sender.Options{
		Limits: sender.Limits{
			Overall: scaled(time.Second / 30), OverallPerWindow: 30, OverallWindow: scaled(time.Second), PerChat: scaled(time.Second),
			PerGroup: 20, GroupWindow: scaled(time.Minute), RetryAfterUnit: scaled(time.Second),
		},
		Backoff: time.Millisecond,
	})
	// The CI run is a smoke test; DUBAN_LONG=1 makes it a load run of 2,000 messages.
	groups, perGroup := 8, 25
	if os.Getenv("DUBAN_LONG") != "" {
		groups, perGroup = 40, 50
	}
	for g := 0; g < groups; g++ {
		tg.AddChat(telegramtest.GroupChat(int64(-1000-g), fmt.Sprintf("group %d", g)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, groups*perGroup)
	for i := 0; i < groups*perGroup; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			chat := int64(-1000 - i%groups)
			if _, err := s.Send(context.Background(), sender.Message{ChatID: chat, Text: fmt.Sprintf("message %d", i)}); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("send: %v", err)
	}

	seen := map[string]int{}
	for _, m := range tg.Sent() {
		seen[m.Text]++
	}
	for i := 0; i < groups*perGroup; i++ {
		if n := seen[fmt.Sprintf("message %d", i)]; n != 1 {
			t.Errorf("message %d delivered %d times, want exactly once", i, n)
		}
	}
	tooMany := map[int64]int{}
	for _, r := range tg.Requests() {
		if r.Method == "sendMessage" && r.Status == 429 {
			tooMany[r.ChatID]++
		}
	}
	for chat, n := range tooMany {
		if n > 1 {
			t.Errorf("chat %d got %d 429s, want at most 1", chat, n)
		}
	}
	t.Logf("%d messages to %d groups, 429s per chat: %v", len(tg.Sent()), groups, tooMany)
}
