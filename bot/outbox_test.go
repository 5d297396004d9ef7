package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// TestResendSkipsWhatWasSentSinceTheRead: a resend reads the outbox while an acknowledgement
// is being sent; that send ends, and its entry is deleted, before the resend gets to it. The
// resend must not send it a second time. (Under 20,000 replies at once, RetryAnswers ran into
// exactly this and four departments got their acknowledgement twice.)
func TestResendSkipsWhatWasSentSinceTheRead(t *testing.T) {
	ctx := context.Background()
	a := store.Answer{ChatID: -7, Update: 42, ReplyTo: 3, Text: "已记录", Department: "市教育局", Stage: stageAck,
		At: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	release := make(chan struct{})
	s := &outboxStore{outbox: map[outboxKey]store.Answer{}}
	var sendsMu sync.Mutex
	sends := 0
	snd := &fakeSender{send: func(ctx context.Context, m sender.Message) ([]int, error) {
		sendsMu.Lock()
		sends++
		first := sends == 1
		sendsMu.Unlock()
		if first {
			<-release
		}
		return []int{100}, nil
	}}
	b := New(Options{Config: &config.Config{}, Store: s, Sender: snd, Now: func() time.Time { return a.At }})
	s.answers = func() []store.Answer {
		left := s.snapshot()
		// The acknowledgement read above is sent now, and its entry deleted, before the
		// resend queues what it read.
		close(release)
		if !b.answers.settle(ctx, a.ChatID, 5*time.Second) {
			t.Error("the acknowledgement was not being sent when the outbox was read")
		}
		return left
	}

	b.answerDurably(ctx, a)
	waitFor(t, func() bool {
		sendsMu.Lock()
		defer sendsMu.Unlock()
		return sends == 1
	})
	b.ResendAnswers(ctx)
	b.CloseAnswers(5 * time.Second)

	if sends != 1 {
		t.Errorf("got %d sends of one acknowledgement, want 1", sends)
	}
	if left := s.snapshot(); len(left) != 0 {
		t.Errorf("got %d outbox entries left, want 0", len(left))
	}
}

// outboxStore is a Store with an outbox in memory; answers, if set, is what Answers returns.
type outboxStore struct {
	Store
	mu      sync.Mutex
	outbox  map[outboxKey]store.Answer
	answers func() []store.Answer
}

func (s *outboxStore) PutAnswer(_ context.Context, a store.Answer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox[outboxKey{a.ChatID, a.Update}] = a
	return nil
}

func (s *outboxStore) DoneAnswer(_ context.Context, chat, update int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.outbox, outboxKey{chat, update})
	return nil
}

func (s *outboxStore) Answers(context.Context) ([]store.Answer, error) {
	if s.answers != nil {
		return s.answers(), nil
	}
	return s.snapshot(), nil
}

func (s *outboxStore) snapshot() []store.Answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Answer, 0, len(s.outbox))
	for _, a := range s.outbox {
		out = append(out, a)
	}
	return out
}

func (s *outboxStore) Confirm(context.Context, store.Sent) error { return nil }

type fakeSender struct {
	send func(ctx context.Context, m sender.Message) ([]int, error)
}

func (f *fakeSender) Send(ctx context.Context, m sender.Message) ([]int, error) {
	return f.send(ctx, m)
}

// waitFor polls cond until it holds, failing tb after 5 s.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not reached within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
