package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// The outbox of acknowledgements (store.Answer), one hash {P}:outbox: "<chat>:<update>" →
// the Answer as JSON. Written before an update is confirmed to Telegram, deleted once the
// answer is sent, so that one queued when a daemon died goes out from the next leader.
func (s *Store) outboxKey() string { return s.base + "outbox" }

func outboxField(chatID, update int64) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(update, 10)
}

// PutAnswer writes a to the outbox, replacing the entry of the same chat and update.
func (s *Store) PutAnswer(ctx context.Context, a store.Answer) error {
	_, entry, err := encodeAnswer(a)
	if err != nil {
		return fmt.Errorf("put %w", err)
	}
	// Through the pipe: the answers of replies handled side by side share a round trip.
	var cmd *goredis.IntCmd
	err = s.pipe.do(ctx, func(p goredis.Pipeliner) {
		cmd = p.HSet(ctx, s.outboxKey(), entry.field, entry.body)
	})
	if err == nil {
		err = cmd.Err()
	}
	if err != nil {
		return fmt.Errorf("put answer for update %d in chat %d: %w", a.Update, a.ChatID, err)
	}
	return nil
}

// DoneAnswer deletes the outbox entry of chat and update; none is not an error.
func (s *Store) DoneAnswer(ctx context.Context, chatID, update int64) error {
	var cmd *goredis.IntCmd
	err := s.pipe.do(ctx, func(p goredis.Pipeliner) {
		cmd = p.HDel(ctx, s.outboxKey(), outboxField(chatID, update))
	})
	if err == nil {
		err = cmd.Err()
	}
	if err != nil {
		return fmt.Errorf("answer for update %d in chat %d done: %w", update, chatID, err)
	}
	return nil
}

// Answers returns every entry of the outbox, in the order they were written.
func (s *Store) Answers(ctx context.Context) ([]store.Answer, error) {
	all, err := s.client.HGetAll(ctx, s.outboxKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	out := make([]store.Answer, 0, len(all))
	for field, body := range all {
		var a store.Answer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("answers: %s: %w", field, err)
		}
		out = append(out, a)
	}
	store.SortAnswers(out)
	return out, nil
}
