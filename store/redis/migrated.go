package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// {P}:migrated is a hash old chat id → new chat id: every group known to have become a
// supergroup.
func (s *Store) migratedKey() string { return s.base + "migrated" }

// recordMigration remembers that oldID became newID.
func (s *Store) recordMigration(ctx context.Context, oldID, newID int64) error {
	return s.client.HSet(ctx, s.migratedKey(), strconv.FormatInt(oldID, 10), strconv.FormatInt(newID, 10)).Err()
}

// copyMessageRefs copies the message index of oldID to newID, so that a reply in the
// supergroup to a message sent before the upgrade (Telegram keeps its id) finds its tasks.
// HSETNX keeps an entry newID already has, which is newer; running it again is harmless, so a
// failure part-way is mended by the retry.
func (s *Store) copyMessageRefs(ctx context.Context, oldID, newID int64) error {
	from := strconv.FormatInt(oldID, 10) + ":"
	to := strconv.FormatInt(newID, 10) + ":"
	var cursor uint64
	for {
		kv, next, err := s.client.HScan(ctx, s.messagesKey(), cursor, from+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(kv) > 0 {
			_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for i := 0; i+1 < len(kv); i += 2 {
					p.HSetNX(ctx, s.messagesKey(), to+strings.TrimPrefix(kv[i], from), kv[i+1])
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// ChatMigrations returns every chat known to have become a supergroup: old id → new id.
func (s *Store) ChatMigrations(ctx context.Context) (map[int64]int64, error) {
	all, err := s.client.HGetAll(ctx, s.migratedKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("chat migrations: %w", err)
	}
	out := make(map[int64]int64, len(all))
	for k, v := range all {
		oldID, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chat migrations: %q: %w", k, err)
		}
		newID, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chat migrations: %s: %w", k, err)
		}
		out[oldID] = newID
	}
	return out, nil
}
