package store

import (
	"context"
	"errors"
)

// Complete reports whether every part of the message went out.
func (s Sent) Complete() bool { return s.Parts == 0 || len(s.MessageIDs) >= s.Parts }

// ErrFenced means a ledger write carried a fencing token older than one the store has seen:
// the writer lost its lease to another daemon, which may have sent what it was about to.
var ErrFenced = errors.New("fenced off: another instance holds a newer lease")

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
// under or more message ids than parts.
func ValidateUnfinished(s Sent) error {
	switch {
	case s.Parts < 0:
		return invalid("parts", "must not be negative, got %d", s.Parts)
	case !s.Complete() && len(s.Keys) == 0:
		return invalid("keys", "must not be empty for an unfinished message")
	case s.Parts > 0 && len(s.MessageIDs) > s.Parts:
		return invalid("message_ids", "%d ids for %d parts", len(s.MessageIDs), s.Parts)
	}
	return nil
}
