package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// MediaSender uploads the supervisors' digest chart and workbook; *sender.Sender is one.
type MediaSender interface {
	SendPhoto(ctx context.Context, m sender.Media, h sender.Hooks) (int, error)
	SendDocument(ctx context.Context, m sender.Media, h sender.Hooks) (int, error)
}

// Chart draws the supervisors' digest as a PNG with its caption, the headline numbers, in
// plain text (package chart; the scheduler cannot import it, whose tests import the
// scheduler).
type Chart interface {
	Draw(d i18n.Digest, lang string) (png []byte, caption string, err error)
}

// Workbook builds the 台账 workbook attached to the supervisors' digest, from the rows
// `duban export` writes.
type Workbook interface {
	Build(ctx context.Context, now time.Time) (name string, data []byte, err error)
}

// SetDigestMedia makes the supervisors' digest start with its chart (a photo, the headline
// numbers as caption) and end with the workbook (a document). m nil: the digest is text
// only; ch or wb nil: no chart, no workbook. Call it before the first digest.
func (sc *Scheduler) SetDigestMedia(m MediaSender, ch Chart, wb Workbook) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.media, sc.chart, sc.workbook = m, ch, wb
}

// The supervisors' digest is up to three ledger entries, sent in this order, each claimed and
// confirmed on its own so that a retry sends only what is missing:
//
//	d|<week>|supervisors|chart   the chart (sendPhoto)
//	d|<week>|supervisors         the text, part by part (deliver)
//	d|<week>|supervisors|book    the workbook (sendDocument)
const (
	chartSuffix = "|chart"
	bookSuffix  = "|book"
)

// errHeld stops a chain of parts at one another instance holds: it is sending them.
var errHeld = errors.New("held by another instance")

// claimPart claims key for one part. skip: it went out already (confirmed); errHeld:
// another instance holds it.
func (sc *Scheduler) claimPart(ctx context.Context, key string, now time.Time) (skip bool, err error) {
	ok, err := sc.store.Claim(ctx, key, sc.owner, now, ClaimLease)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	if ok {
		return false, nil
	}
	_, confirmed, err := sc.store.SentFor(ctx, key)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	if confirmed {
		return true, nil
	}
	return false, fmt.Errorf("%s: %w", key, errHeld)
}

// sendMediaPart sends one photo or document as the one part of rec, claimed (claimPart) and
// renewed just before it goes, as deliver does for a message's parts, then recorded.
func (sc *Scheduler) sendMediaPart(ctx context.Context, rec store.Sent, send func(ctx context.Context, h sender.Hooks) (int, error)) error {
	hooks := sender.Hooks{Before: func(ctx context.Context, _ int) error {
		ok, err := sc.store.Claim(ctx, rec.Keys[0], sc.owner, sc.now(), ClaimLease)
		if err != nil {
			return fmt.Errorf("%w: renew claim: %w", errStopped, err)
		}
		if !ok {
			return fmt.Errorf("%w: %w", errStopped, errClaimLost)
		}
		return nil
	}}
	id, err := send(ctx, hooks)
	if err != nil {
		return err
	}
	rec.MessageIDs = []int{id}
	if err := sc.record(ctx, rec); err != nil {
		return fmt.Errorf("sent but not recorded: %w", err)
	}
	return nil
}

// refused reports whether Telegram refused a part for good (not the bot removed, not
// stopped by its claim): sending it again would fail the same way.
func refused(err error) bool {
	var se *sender.Error
	return errors.As(err, &se) && !se.Retryable && !errors.Is(err, sender.ErrForbidden) && !errors.Is(err, errStopped)
}

// sendChart sends the digest's chart to the supervisors, before its text. A chart that
// cannot be drawn, or that Telegram refuses for good, is logged and left out: the digest
// itself matters more than its picture.
func (sc *Scheduler) sendChart(ctx context.Context, ps *planState, d i18n.Digest, key string, chat int64, now time.Time) (sent bool, err error) {
	key += chartSuffix
	skip, err := sc.claimPart(ctx, key, now)
	if err != nil || skip {
		return false, err
	}
	png, caption, err := sc.chart.Draw(d, ps.cfg.Language)
	if err != nil {
		sc.log.Warn("digest chart not drawn; the digest goes without it", "err", err)
		return false, nil
	}
	rec := store.Sent{Keys: []string{key}, Department: "supervisors", Stage: "digest", ChatID: chat, At: now}
	m := sender.Media{ChatID: chat, Name: "digest-" + isoWeek(now, ps.settings.Location) + ".png", Data: png,
		Caption: sender.EscapeHTML(caption)}
	err = sc.sendMediaPart(ctx, rec, func(ctx context.Context, h sender.Hooks) (int, error) { return sc.media.SendPhoto(ctx, m, h) })
	if refused(err) {
		sc.log.Warn("digest chart refused; the digest goes without it", "err", err)
		return false, nil
	}
	return err == nil, err
}

// sendWorkbook sends the 台账 workbook to the supervisors, after the digest's text.
func (sc *Scheduler) sendWorkbook(ctx context.Context, key string, chat int64, now time.Time) (sent bool, err error) {
	key += bookSuffix
	skip, err := sc.claimPart(ctx, key, now)
	if err != nil || skip {
		return false, err
	}
	name, data, err := sc.workbook.Build(ctx, now)
	if err != nil {
		return false, fmt.Errorf("build the workbook: %w", err)
	}
	rec := store.Sent{Keys: []string{key}, Department: "supervisors", Stage: "digest", ChatID: chat, At: now}
	m := sender.Media{ChatID: chat, Name: name, Data: data}
	err = sc.sendMediaPart(ctx, rec, func(ctx context.Context, h sender.Hooks) (int, error) { return sc.media.SendDocument(ctx, m, h) })
	if refused(err) {
		// A retry every minute would be refused the same way.
		sc.log.Warn("digest workbook refused", "err", err)
		return false, nil
	}
	return err == nil, err
}
