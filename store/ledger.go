package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Ledger is the reminder ledger as a store reads it whole: each confirmed key once, with when
// it was sent, in the store's own order, which no caller may count on. It is a slice and not
// a map because a tick reads every key once to index it (scheduler.NewState): at a provincial
// plan's hundreds of thousands of keys, a map costs its building in the store and then a
// random walk over memory in the index.
type Ledger []LedgerEntry

// LedgerEntry is one confirmed ledger key and when it was sent.
type LedgerEntry struct {
	Key string
	At  time.Time
}

// ParseLedgerEntry is a ledger key with its time as a store keeps it (FormatTime's), for a
// store's Ledger read; its error names the key.
func ParseLedgerEntry(key, at string) (LedgerEntry, error) {
	t, err := ParseTime(at)
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("key %s: %w", key, err)
	}
	return LedgerEntry{Key: key, At: t}, nil
}

// Map is the ledger by key, for a caller that looks many keys up.
func (l Ledger) Map() map[string]time.Time {
	m := make(map[string]time.Time, len(l))
	for _, e := range l {
		m[e.Key] = e.At
	}
	return m
}

// At is when key was sent, and whether it is in the ledger: a pass over it, for a caller that
// looks up a key or two.
func (l Ledger) At(key string) (time.Time, bool) {
	for _, e := range l {
		if e.Key == key {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// LedgerOf is m as a Ledger, in key order: for tests and for callers that hold a ledger as a
// map.
func LedgerOf(m map[string]time.Time) Ledger {
	l := make(Ledger, 0, len(m))
	for _, key := range slices.Sorted(maps.Keys(m)) {
		l = append(l, LedgerEntry{Key: key, At: m[key]})
	}
	return l
}

// Complete reports whether every part of the message went out.
func (s Sent) Complete() bool { return s.Parts == 0 || len(s.MessageIDs) >= s.Parts }

// ErrFenced means a ledger write carried a fencing token older than one the store has seen:
// the writer lost its lease to another daemon, which may have sent what it was about to.
var ErrFenced = errors.New("fenced off: another instance holds a newer lease")

// ErrClaimLost means a Confirm with a Renewal recorded the message but could not renew its
// claim: the key was confirmed meanwhile, or another owner holds a claim on it whose lease has
// not lapsed. The record is written all the same (those parts went out); the caller must send
// nothing more of the message.
var ErrClaimLost = errors.New("claim lost: the key is confirmed or another owner holds it")

// Renewal is a claim renewal a Confirm of an unfinished Sent makes in the same write as its
// record (Sent.Renew): Claim(FirstKey, Owner, Now, Lease), with Claim's rules, atomic with the
// record and under the same fence. A message sent part by part then costs one round trip per
// part, for the record of one part and the renewal before the next, instead of two. A
// complete Sent ignores it: its Confirm drops the claims of its keys.
type Renewal struct {
	Owner string
	Now   time.Time
	Lease time.Duration
}

type fenceKey struct{}

// WithFence makes the ledger writes (Claim, Confirm) made with ctx carry fence, the
// generation of the leader lease the writer holds. A store refuses, with ErrFenced, a write
// whose fence is below the highest it has seen (a lease acquired since, or a write with a
// newer fence); 0, the default, is unfenced and always allowed: one daemon on the embedded
// store, the CLI, tests.
func WithFence(ctx context.Context, fence int64) context.Context {
	return context.WithValue(ctx, fenceKey{}, fence)
}

// FenceOf is the fence WithFence put in ctx, or 0.
func FenceOf(ctx context.Context) int64 {
	f, _ := ctx.Value(fenceKey{}).(int64)
	return f
}

// FirstKey is what an unfinished message is kept under while it waits for its other parts.
func (s Sent) FirstKey() string {
	if len(s.Keys) == 0 {
		return ""
	}
	return s.Keys[0]
}

// ValidateUnfinished rejects an unfinished Sent (see Complete) that has no key to be kept
// under or more message ids than parts, and a Renew that Claim would refuse.
func ValidateUnfinished(s Sent) error {
	switch {
	case s.Parts < 0:
		return invalid("parts", "must not be negative, got %d", s.Parts)
	case !s.Complete() && len(s.Keys) == 0:
		return invalid("keys", "must not be empty for an unfinished message")
	case s.Parts > 0 && len(s.MessageIDs) > s.Parts:
		return invalid("message_ids", "%d ids for %d parts", len(s.MessageIDs), s.Parts)
	}
	if s.Renew != nil && !s.Complete() {
		if err := ValidateClaim(s.FirstKey(), s.Renew.Owner, s.Renew.Now, s.Renew.Lease); err != nil {
			return fmt.Errorf("renew: %w", err)
		}
	}
	return nil
}
