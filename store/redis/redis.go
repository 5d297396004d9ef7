package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// maxTxAttempts bounds the optimistic-concurrency retries of one write. Each
// round at least one racing writer wins, so this only runs out under
// sustained contention from more writers than it allows.
const maxTxAttempts = 50

// Store is the Redis store; every key it touches lies under its prefix.
type Store struct {
	client goredis.UniversalClient
	base   string // "{prefix}:"
	owned  bool   // Close closes client: Open made it
	resp2  bool   // client speaks RESP2: HGETALL answers with a flat list (see ClientOptions)

	// The record path's: commands of callers waiting at the same moment share a pipeline,
	// and the heads and states last read or written spare the next Record its read.
	pipe  *pipe
	cache recordCache

	closeOnce sync.Once
	closeErr  error
}

// Open connects to the Redis at url (redis://[user:password@]host:port/db,
// rediss:// for TLS) and pings it. The returned Store owns the client.
func Open(ctx context.Context, url, prefix string) (*Store, error) {
	if prefix == "" {
		return nil, fmt.Errorf("open redis store: prefix: must not be empty: %w", store.ErrInvalid)
	}
	opts, err := ClientOptions(url)
	if err != nil {
		return nil, fmt.Errorf("open redis store: %w", err)
	}
	client := goredis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("open redis store at %s: %w", opts.Addr, err)
	}
	s := New(client, prefix)
	s.owned = true
	return s, nil
}

// ClientOptions are the client options Open uses for url: go-redis's, speaking RESP2 unless
// the URL asks for another (?protocol=3). Under RESP2, HGETALL answers with a flat list,
// which Ledger takes as it comes, in the answer's order and with the keys laid out one after
// another; under RESP3 it answers with a map, which go-redis can only read into a Go map
// (at 450,000 ledger keys, half again the time, and the keys scattered). The store uses nothing
// that RESP3 adds.
func ClientOptions(url string) (*goredis.Options, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", withoutURL(err))
	}
	if opts.Protocol == 0 {
		opts.Protocol = 2
	}
	return opts, nil
}

// speaksRESP2 reports whether client was made to speak RESP2; false when it cannot tell.
func speaksRESP2(client goredis.UniversalClient) bool {
	switch c := client.(type) {
	case *goredis.Client:
		return c.Options().Protocol == 2
	case *goredis.ClusterClient:
		return c.Options().Protocol == 2
	}
	return false
}

// withoutURL drops the URL from a parse error: it may hold a password.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return errors.New(urlErr.Err.Error())
	}
	return err
}

// New returns a Store using client, with its keys under prefix. Close
// leaves the client open: it belongs to the caller. prefix must not be
// empty (it panics otherwise, as that is a programming error): the prefix is
// the hash tag that keeps all of a store's keys in one cluster slot.
func New(client goredis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		panic("redis.New: empty prefix")
	}
	return &Store{client: client, base: keyBase(prefix), pipe: newPipe(client), resp2: speaksRESP2(client)}
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close closes the client if Open made it. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.owned {
			if err := s.client.Close(); err != nil {
				s.closeErr = fmt.Errorf("close redis store: %w", err)
			}
		}
	})
	return s.closeErr
}

// The keyspace; doc.go describes each key.
func (s *Store) chainKey(task int) string     { return s.base + "chain:" + strconv.Itoa(task) }
func (s *Store) headKey(task int) string      { return s.base + "head:" + strconv.Itoa(task) }
func (s *Store) chainsKey() string            { return s.base + "chains" }
func (s *Store) latestKey() string            { return s.base + "latest" }
func (s *Store) latestForKey(d string) string { return s.base + "latest-for:" + d }
func (s *Store) seenKey(tg int64) string      { return s.base + "seen:" + strconv.FormatInt(tg, 10) }
func (s *Store) claimsKey() string            { return s.base + "claims" }
func (s *Store) ledgerKey() string            { return s.base + "ledger" }
func (s *Store) sentKey() string              { return s.base + "sent" }
func (s *Store) messagesKey() string          { return s.base + "messages" }
func (s *Store) bindingsKey() string          { return s.base + "bindings" }
func (s *Store) chatsKey() string             { return s.base + "chats" }
func (s *Store) codeKey(code string) string   { return s.base + "code:" + code }
func (s *Store) snoozesKey() string           { return s.base + "snoozes" }
func (s *Store) offsetKey() string            { return s.base + "offset" }

// watchTx runs fn under WATCH keys and retries it, with a short jittered
// back-off, whenever its MULTI/EXEC lost a race (goredis.TxFailedErr).
func (s *Store) watchTx(ctx context.Context, keys []string, fn func(tx *goredis.Tx) error) error {
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err := s.client.Watch(ctx, fn, keys...)
		if !errors.Is(err, goredis.TxFailedErr) {
			return err
		}
		backoff := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(time.Millisecond)))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("%d attempts: %w", maxTxAttempts, store.ErrConflict)
}

// KeyPattern is the SCAN/KEYS pattern that matches every key of the store with this prefix,
// for operators and test clean-up (never used on a hot path).
func KeyPattern(prefix string) string {
	var b strings.Builder
	for _, r := range keyBase(prefix) {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// keyBase starts every key: the prefix as a hash tag, so one store's keys share a cluster slot.
func keyBase(prefix string) string { return "{" + prefix + "}:" }
