// Package redistest gives tests outside store/redis a real Redis: the URL the test command
// exported in $REDIS_URL, and a fresh prefix whose keys are removed when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store/redis"
)

// URL returns $REDIS_URL. Without it the test may go on without Redis (ok is false), except
// under CI=true, where a missing Redis fails the test: CI never skips what claims Redis.
func URL(tb testing.TB) (url string, ok bool) {
	tb.Helper()
	url = os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("REDIS_URL is not set and CI=true: the Redis half of this test must run")
		}
		tb.Log("REDIS_URL is not set: the Redis half of this test is skipped")
		return "", false
	}
	return url, true
}

// Prefix returns a prefix no other test uses and deletes its keys when the test ends.
func Prefix(tb testing.TB, url string) string {
	tb.Helper()
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	prefix := "test:" + hex.EncodeToString(raw) + ":"
	tb.Cleanup(func() {
		opts, err := goredis.ParseURL(url)
		if err != nil {
			tb.Errorf("parse REDIS_URL: %v", err)
			return
		}
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, redis.KeyPattern(prefix), 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("clean up prefix %s: %v", prefix, err)
		}
	})
	return prefix
}
