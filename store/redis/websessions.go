package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// The web view's sign-in tokens and sessions (package web) live in the store, so that a
// link issued by one daemon signs in on any other. The web package passes hashes of its
// secrets, never the secrets: a copy of the keyspace signs nobody in. Keys:
//
//	web-token:<hash>         a one-time sign-in token, JSON, with a TTL past its expiry
//	web-session:<hash>       a session, JSON, with a TTL past its expiry
//	web-sessions-of:<user>   set of the user's session hashes, for revoking them all
//
// Expiry is judged against the caller's now, as for binding codes; the TTLs only collect
// garbage, a grace period later, so that clock skew never ends one early.
func (s *Store) webTokenKey(h string) string   { return s.base + "web-token:" + h }
func (s *Store) webSessionKey(h string) string { return s.base + "web-session:" + h }
func (s *Store) webSessionsOfKey(user int64) string {
	return s.base + "web-sessions-of:" + strconv.FormatInt(user, 10)
}

type webRecord struct {
	Scope   string    `json:"scope"`
	User    int64     `json:"user"`
	Expires time.Time `json:"expires"`
}

// CreateWebToken stores a single-use sign-in token for scope, asked for by user, valid until
// expires; store.ErrExists if the token is already in use.
func (s *Store) CreateWebToken(ctx context.Context, token, scope string, user int64, expires time.Time) error {
	if err := store.ValidateWeb("token", token, scope, expires); err != nil {
		return fmt.Errorf("create web token: %w", err)
	}
	body, err := json.Marshal(webRecord{Scope: scope, User: user, Expires: store.NormalizeTime(expires)})
	if err != nil {
		return fmt.Errorf("create web token: %w", err)
	}
	created, err := s.client.SetNX(ctx, s.webTokenKey(token), body, max(time.Until(expires), 0)+codeGrace).Result()
	if err != nil {
		return fmt.Errorf("create web token: %w", err)
	}
	if !created {
		return fmt.Errorf("create web token: %w", store.ErrExists)
	}
	return nil
}

// RedeemWebToken uses up token (GETDEL: of two concurrent redeems exactly one gets it) and
// returns its scope and user; store.ErrCodeInvalid if it is unknown, used or expired at now.
func (s *Store) RedeemWebToken(ctx context.Context, token string, now time.Time) (string, int64, error) {
	var rec webRecord
	if err := s.redeemOnce(ctx, s.webTokenKey(token), now, &rec, &rec.Expires); err != nil {
		return "", 0, fmt.Errorf("redeem web token: %w", err)
	}
	return rec.Scope, rec.User, nil
}

// CreateWebSession stores session id for scope and user until expires; store.ErrExists if
// the id is taken.
func (s *Store) CreateWebSession(ctx context.Context, id, scope string, user int64, expires time.Time) error {
	if err := store.ValidateWeb("id", id, scope, expires); err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	body, err := json.Marshal(webRecord{Scope: scope, User: user, Expires: store.NormalizeTime(expires)})
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	ttl := max(time.Until(expires), 0) + codeGrace
	created, err := s.client.SetNX(ctx, s.webSessionKey(id), body, ttl).Result()
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	if !created {
		return fmt.Errorf("create web session: %w", store.ErrExists)
	}
	// The user's set lives as long as their latest session; ids of sessions gone already
	// only cost a DEL of nothing when they are revoked.
	of := s.webSessionsOfKey(user)
	if _, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.SAdd(ctx, of, id)
		p.Expire(ctx, of, ttl)
		return nil
	}); err != nil {
		// Without the index entry, revoking all of the user's sessions would miss this one:
		// take it back rather than leave a session that cannot be revoked that way.
		s.client.Del(context.WithoutCancel(ctx), s.webSessionKey(id))
		return fmt.Errorf("create web session: index: %w", err)
	}
	return nil
}

// WebSession returns the scope, user and expiry of session id; store.ErrNotFound when it is
// unknown, revoked or expired at now.
func (s *Store) WebSession(ctx context.Context, id string, now time.Time) (string, int64, time.Time, error) {
	body, err := s.client.Get(ctx, s.webSessionKey(id)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", store.ErrNotFound)
	}
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", err)
	}
	var rec webRecord
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", err)
	}
	if store.Expired(rec.Expires, now) {
		return "", 0, time.Time{}, fmt.Errorf("web session: %w", store.ErrNotFound)
	}
	return rec.Scope, rec.User, rec.Expires.UTC(), nil
}

// RevokeWebSession ends session id; store.ErrNotFound if there is none.
func (s *Store) RevokeWebSession(ctx context.Context, id string) error {
	n, err := s.client.Del(ctx, s.webSessionKey(id)).Result()
	if err != nil {
		return fmt.Errorf("revoke web session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("revoke web session: %w", store.ErrNotFound)
	}
	return nil
}

// RevokeWebSessions ends every session of user and says how many there were.
func (s *Store) RevokeWebSessions(ctx context.Context, user int64) (int, error) {
	of := s.webSessionsOfKey(user)
	ids, err := s.client.SMembers(ctx, of).Result()
	if err != nil {
		return 0, fmt.Errorf("revoke web sessions of %d: %w", user, err)
	}
	keys := make([]string, 0, len(ids)+1)
	for _, id := range ids {
		keys = append(keys, s.webSessionKey(id))
	}
	var n int64
	if len(keys) > 0 {
		if n, err = s.client.Del(ctx, keys...).Result(); err != nil {
			return 0, fmt.Errorf("revoke web sessions of %d: %w", user, err)
		}
	}
	// Only the ids read: a session created meanwhile stays in the set, and revocable.
	if len(ids) > 0 {
		members := make([]any, len(ids))
		for i, id := range ids {
			members[i] = id
		}
		if err := s.client.SRem(ctx, of, members...).Err(); err != nil {
			return int(n), fmt.Errorf("revoke web sessions of %d: %w", user, err)
		}
	}
	return int(n), nil
}
