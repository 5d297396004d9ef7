package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// A lease elects one leader among several daemons sharing one Redis: the
// holder schedules reminders and polls Telegram, the others wait and keep
// trying to acquire it. It is a string key holding the holder's token with
// a PX expiry; doc.go describes it.
func (s *Store) leaseKey(name string) string { return s.base + "lease:" + name }

// The lease scripts compare the token and act on it in one step, atomic
// because Redis runs a script without interleaving: no other daemon can take
// the lease between the check and the PEXPIRE or DEL.
//
// KEYS[1] the lease; ARGV token, ttl in milliseconds (acquire and renew).
var (
	// acquireLeaseScript sets the lease if it is free and renews it if the
	// token holds it. Taking a free lease raises the fence (KEYS[2]), so
	// that the ledger refuses the writes of every earlier holder, one that
	// was stopped past its lease and woke up included.
	acquireLeaseScript = goredis.NewScript(`
local held = redis.call('GET', KEYS[1])
if not held then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	redis.call('INCR', KEYS[2])
	return 1
end
if held == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 1
end
return 0
`)
	// renewLeaseScript extends the lease only if the token holds it.
	renewLeaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 1
end
return 0
`)
	// leaseFenceScript returns the fence if the token holds the lease, else 0.
	//
	// KEYS[1] the lease, KEYS[2] the fence; ARGV token.
	leaseFenceScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return 0
`)
	// releaseLeaseScript deletes the lease only if the token holds it.
	releaseLeaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)
)

// AcquireLease takes the lease called name for token if nobody holds it, or renews it if
// token already holds it; true when token holds it afterwards. ttl is how long it lasts
// unless renewed (PX, millisecond precision, at least 1ms).
func (s *Store) AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	if err := validateLease(name, token, ttl, true); err != nil {
		return false, fmt.Errorf("acquire lease: %w", err)
	}
	held, err := acquireLeaseScript.Run(ctx, s.client, []string{s.leaseKey(name), s.fenceKey()}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return held == 1, nil
}

// LeaseFence returns the fencing token of the lease called name while token
// holds it: the number of times a lease was taken free, which only grows.
// The holder passes it to its ledger writes (store.WithFence); 0 and false
// when token does not hold the lease.
func (s *Store) LeaseFence(ctx context.Context, name, token string) (int64, bool, error) {
	if err := validateLease(name, token, 0, false); err != nil {
		return 0, false, fmt.Errorf("lease fence: %w", err)
	}
	fence, err := leaseFenceScript.Run(ctx, s.client, []string{s.leaseKey(name), s.fenceKey()}, token).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("lease fence %s: %w", name, err)
	}
	return fence, fence > 0, nil
}

// RenewLease extends the lease only if token holds it; false if it lapsed or another holds it.
func (s *Store) RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	if err := validateLease(name, token, ttl, true); err != nil {
		return false, fmt.Errorf("renew lease: %w", err)
	}
	held, err := renewLeaseScript.Run(ctx, s.client, []string{s.leaseKey(name)}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return held == 1, nil
}

// ReleaseLease gives the lease up if token holds it (so a successor need not wait for the TTL);
// releasing a lease one does not hold does nothing and is not an error.
func (s *Store) ReleaseLease(ctx context.Context, name, token string) error {
	if err := validateLease(name, token, 0, false); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	if err := releaseLeaseScript.Run(ctx, s.client, []string{s.leaseKey(name)}, token).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// validateLease rejects an empty name or token and, when withTTL, a ttl
// under the millisecond that PX can express.
func validateLease(name, token string, ttl time.Duration, withTTL bool) error {
	switch {
	case name == "":
		return fmt.Errorf("name: must not be empty: %w", store.ErrInvalid)
	case token == "":
		return fmt.Errorf("token: must not be empty: %w", store.ErrInvalid)
	case withTTL && ttl < time.Millisecond:
		return fmt.Errorf("ttl: must be at least 1ms, got %v: %w", ttl, store.ErrInvalid)
	}
	return nil
}
