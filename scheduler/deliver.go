package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// errClaimLost stops a message whose claim another instance took meanwhile.
var errClaimLost = errors.New("the claim went to another instance")

// errStopped marks a message that deliver itself stopped (its claim or fence refused), as
// opposed to Telegram refusing it.
var errStopped = errors.New("stopped before sending")

// renewFresh is how long after a fenced write that claimed a message's keys (the record of a
// part, which renews the claim, or the caller's own claim) the next part may go out without a
// renewal of its own just before it. The leader lease lapses TTL after its last renewal and is
// renewed every Renew, so a running leader has at least TTL-Renew of it left at that write;
// the window keeps one Renew more as margin: TTL-2·Renew, which Leader.Lead puts in its
// work's context for its own timings (freshFor), and which is renewFresh for the defaults. A
// daemon stopped (SIGSTOP) or cut off from the store long enough to lose its lease between
// the write and the next part is past the window when it goes on (elapsed counts on the
// monotonic clock, which runs while a process is stopped): it renews, fenced, before
// sending, and is refused.
const renewFresh = LeaseTTL - 2*LeaseRenew

type freshKey struct{}

// withFresh is ctx carrying the window in which a fenced claim stands for a part's renewal.
func withFresh(ctx context.Context, window time.Duration) context.Context {
	return context.WithValue(ctx, freshKey{}, max(window, 0))
}

// freshFor is the window ctx carries (withFresh), renewFresh if none.
func freshFor(ctx context.Context) time.Duration {
	if w, ok := ctx.Value(freshKey{}).(time.Duration); ok {
		return w
	}
	return renewFresh
}

// elapsed is time.Since; tests stand in a stall for it.
var elapsed = time.Since

// deliver sends the message m recorded as rec, from the first part rec does not list yet, and
// records it in the ledger part by part: each part but the last as it goes out (an unfinished
// Sent, kept with the text, so that a retry sends only the parts still missing), then the
// whole. Each attempt at a part goes out under a fresh claim: a fenced write, refused once
// another instance leads, so a daemon stopped past its lease sends nothing its successor may
// have. The record of a part renews the claim in the same write (store.Renewal), so the part
// after it, if it comes within the window (renewFresh), goes without a write of its own: one
// store round trip per part. claimed, if not zero, is when the caller's own fenced claim of
// rec's keys began (see claimedAt): it stands for the renewal before the first part in the
// same way.
func (sc *Scheduler) deliver(ctx context.Context, rec store.Sent, m sender.Message, claimed time.Time) (store.Sent, error) {
	if len(rec.MessageIDs) == 0 {
		rec.Text = m.Text
	}
	rec.Parts = sender.Parts(m)
	// When the last claim of rec's first key began, if it may stand for the next part's: the
	// caller's, then each part record's.
	renewed := claimed
	hooks := sender.Hooks{
		Before: func(ctx context.Context, _ int) error {
			fresh := !renewed.IsZero() && elapsed(renewed) < freshFor(ctx)
			renewed = time.Time{} // it stands for one attempt: a retry of the part renews
			if fresh {
				return nil
			}
			ok, err := sc.store.Claim(ctx, rec.Keys[0], sc.owner, sc.now(), ClaimLease)
			if err != nil {
				return fmt.Errorf("%w: renew claim: %w", errStopped, err)
			}
			if !ok {
				return fmt.Errorf("%w: %w", errStopped, errClaimLost)
			}
			return nil
		},
		Sent: func(ctx context.Context, _, id int) error {
			rec.MessageIDs = append(rec.MessageIDs, id)
			if rec.Complete() {
				return nil // recorded below, as a whole
			}
			start := time.Now()
			part := rec
			part.Renew = &store.Renewal{Owner: sc.owner, Now: sc.now(), Lease: ClaimLease}
			err := sc.record(ctx, part)
			if errors.Is(err, store.ErrClaimLost) {
				return fmt.Errorf("%w: %w: %w", errStopped, errClaimLost, err)
			}
			if err == nil {
				renewed = start
			}
			return err
		},
	}
	_, err := sc.msg.SendFrom(ctx, m, len(rec.MessageIDs), hooks)
	var se *sender.Error
	if !rec.Complete() && len(rec.MessageIDs) > 0 && errors.As(err, &se) && !se.Retryable && !errors.Is(err, errStopped) {
		// Telegram refuses the rest for good (the bot was removed, a part it cannot take):
		// what went out is all the chat gets, rather than a retry every minute that fails.
		sc.log.Warn("rest of a message refused; recording the parts that went out", "to", rec.Department,
			"sent", len(rec.MessageIDs), "parts", rec.Parts, "err", err)
		rec.Parts = len(rec.MessageIDs)
	}
	if !rec.Complete() {
		if err == nil {
			err = errors.New("message cut short")
		}
		return rec, err
	}
	rec.Text = ""
	if rerr := sc.record(ctx, rec); rerr != nil {
		return rec, fmt.Errorf("sent but not recorded: %w", rerr)
	}
	return rec, err
}

// resume finishes a message an earlier try left unfinished: it claims its keys again and
// sends the parts still missing, from the text kept with it. Buttons are not kept: only a
// nudge about one task has them, and that fits in one message.
func (sc *Scheduler) resume(ctx context.Context, p store.Sent) (store.Sent, error) {
	now, start := sc.now(), time.Now()
	won, err := sc.store.ClaimAll(ctx, p.Keys, sc.owner, now, ClaimLease)
	if err != nil {
		return p, fmt.Errorf("claim %d keys: %w", len(p.Keys), err)
	}
	for i, ok := range won {
		if !ok {
			return p, fmt.Errorf("claim %s: held by another instance", p.Keys[i])
		}
	}
	return sc.deliver(ctx, p, sender.Message{ChatID: p.ChatID, Text: p.Text}, sc.claimedAt(ctx, start, now))
}

// claimedAt is start, the moment a claim taken at now (ClaimLease long) began, when that claim
// may stand for the renewal before a message's first part (see deliver): zero when now lags
// the clock so far that the claim would lapse within the window (renewFresh) and a lease's
// TTL more. A tick's claims are taken at the tick's time, which a long tick leaves behind.
func (sc *Scheduler) claimedAt(ctx context.Context, start, now time.Time) time.Time {
	if now.Add(ClaimLease).Before(sc.now().Add(freshFor(ctx) + LeaseTTL)) {
		return time.Time{}
	}
	return start
}

// pending lists the unfinished messages that keep pass, and the set of their keys, which no
// new message may carry.
func (sc *Scheduler) pending(ctx context.Context, keep func(store.Sent) bool) ([]store.Sent, map[string]bool, error) {
	all, err := sc.store.Pending(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read pending messages: %w", err)
	}
	var out []store.Sent
	keys := map[string]bool{}
	for _, p := range all {
		if !keep(p) || p.Text == "" || len(p.Keys) == 0 {
			continue
		}
		out = append(out, p)
		for _, k := range p.Keys {
			keys[k] = true
		}
	}
	return out, keys, nil
}

// ConfirmAttempts is how often a record of what went out is tried at once; after that it
// waits, in memory, for the next try of the tick (see flush).
const ConfirmAttempts = 3

// record confirms rec, retrying briefly. When the store still refuses it, rec is kept in
// memory and the next tick records it before it sends anything: the Confirm is retried, never
// the send. That holds while this process lives and leads. Its claims lapse after ClaimLease,
// so another instance that can reach the store while this one cannot may send it once more,
// and a restart forgets it: at most one duplicate, as for a crash between send and Confirm.
//
// A rec with a Renew renews its claim too; store.ErrClaimLost means it is recorded but the
// claim is another's.
func (sc *Scheduler) record(ctx context.Context, rec store.Sent) error {
	var err error
	wait := 50 * time.Millisecond
	for i := 1; ; i++ {
		if err = sc.store.Confirm(ctx, rec); err == nil || errors.Is(err, store.ErrClaimLost) {
			sc.unrecordedMu.Lock()
			delete(sc.unrecorded, rec.FirstKey())
			sc.unrecordedMu.Unlock()
			return err
		}
		if i == ConfirmAttempts || errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrFenced) || !sleepCtx(ctx, wait) {
			break
		}
		wait *= 4
	}
	if !errors.Is(err, store.ErrInvalid) && rec.FirstKey() != "" {
		rec.Renew = nil // a renewal is for now; the next tick claims afresh
		sc.unrecordedMu.Lock()
		sc.unrecorded[rec.FirstKey()] = rec
		sc.unrecordedMu.Unlock()
	}
	return err
}

// flush records what went out and could not be recorded then; it fails while the store
// still refuses, so that nothing is sent on a ledger that does not know it.
func (sc *Scheduler) flush(ctx context.Context) error {
	sc.unrecordedMu.Lock()
	recs := make([]store.Sent, 0, len(sc.unrecorded))
	for _, rec := range sc.unrecorded {
		recs = append(recs, rec)
	}
	sc.unrecordedMu.Unlock()
	for _, rec := range recs {
		err := sc.store.Confirm(ctx, rec)
		if err != nil && !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("record what was sent before: %w", err)
		}
		sc.unrecordedMu.Lock()
		if cur, ok := sc.unrecorded[rec.FirstKey()]; ok && len(cur.MessageIDs) == len(rec.MessageIDs) {
			delete(sc.unrecorded, rec.FirstKey())
		}
		sc.unrecordedMu.Unlock()
	}
	return nil
}
