package scheduler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
)

// fakeMedia takes the digest's photo and document; before each it notes how many texts the
// chat had, so the order shows.
type fakeMedia struct {
	m       *fakeMessenger
	fail    func(method string, n int) error // n counts that method's calls from 1
	calls   map[string]int
	sent    []string // "photo after 0 texts" …
	textsAt map[string]int
}

func (f *fakeMedia) send(ctx context.Context, method string, m sender.Media, h sender.Hooks) (int, error) {
	if f.calls == nil {
		f.calls, f.textsAt = map[string]int{}, map[string]int{}
	}
	f.calls[method]++
	if h.Before != nil {
		if err := h.Before(ctx, 0); err != nil {
			return 0, err
		}
	}
	if f.fail != nil {
		if err := f.fail(method, f.calls[method]); err != nil {
			return 0, err
		}
	}
	f.m.mu.Lock()
	f.textsAt[method] = len(f.m.texts[m.ChatID])
	f.m.ids++
	id := f.m.ids
	f.m.mu.Unlock()
	f.sent = append(f.sent, method)
	if h.Sent != nil {
		if err := h.Sent(ctx, 0, id); err != nil {
			return id, err
		}
	}
	return id, nil
}

func (f *fakeMedia) SendPhoto(ctx context.Context, m sender.Media, h sender.Hooks) (int, error) {
	return f.send(ctx, "photo", m, h)
}

func (f *fakeMedia) SendDocument(ctx context.Context, m sender.Media, h sender.Hooks) (int, error) {
	return f.send(ctx, "document", m, h)
}

type fakeChart struct{ err error }

func (c fakeChart) Draw(d i18n.Digest, _ string) ([]byte, string, error) {
	return []byte("png"), "【督办周报】" + d.Date.Format("2006-01-02"), c.err
}

type fakeBook struct{ builds int }

func (b *fakeBook) Build(context.Context, time.Time) (string, []byte, error) {
	b.builds++
	return "台账.xlsx", []byte("PK"), nil
}

// TestDigestMediaOrderAndOnce: the supervisors' digest is its photo, its text, its workbook,
// in that order. A photo Telegram could not take stops the rest, so the retry keeps the
// order; then each went once, and a third try sends nothing.
func TestDigestMediaOrderAndOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t)
		m := &fakeMessenger{store: s}
		media := &fakeMedia{m: m, fail: func(method string, n int) error {
			if method == "photo" && n == 1 {
				return &sender.Error{ChatID: -500, Retryable: true, Err: errors.New("502 Bad Gateway")}
			}
			return nil
		}}
		book := &fakeBook{}
		sc := newScheduler(t, s, m, c, p, "a")
		sc.SetDigestMedia(media, fakeChart{}, book)
		now := at("2026-12-07 09:00")
		if _, err := sc.SendDigests(ctx, now); err == nil {
			t.Fatal("first try: got no error, want the photo not delivered")
		}
		if len(m.texts[-500]) != 0 || len(media.sent) != 0 {
			t.Fatalf("first try: got %d texts and %v to the supervisors, want nothing before the photo", len(m.texts[-500]), media.sent)
		}
		if _, err := sc.SendDigests(ctx, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := media.sent; len(got) != 2 || got[0] != "photo" || got[1] != "document" {
			t.Fatalf("retry: got %v, want a photo and a document", got)
		}
		if media.textsAt["photo"] != 0 || media.textsAt["document"] != 1 || len(m.texts[-500]) != 1 {
			t.Errorf("retry: got the photo after %d texts, the document after %d, %d texts in all; want photo, text, document",
				media.textsAt["photo"], media.textsAt["document"], len(m.texts[-500]))
		}
		if n, err := sc.SendDigests(ctx, now.Add(2*time.Minute)); err != nil || n != 0 || len(media.sent) != 2 || book.builds != 1 {
			t.Errorf("third try: got %d sent, %v, media %v, %d builds; want nothing more", n, err, media.sent, book.builds)
		}
		for _, key := range []string{"d|2026-W50|supervisors|chart", "d|2026-W50|supervisors", "d|2026-W50|supervisors|book"} {
			if _, ok, err := s.SentFor(ctx, key); err != nil || !ok {
				t.Errorf("ledger %s: got confirmed %v (%v), want confirmed", key, ok, err)
			}
		}
	})
}

// TestDigestMediaLeftOut: a chart that cannot be drawn, or a workbook Telegram refuses for
// good, is left out; the text goes, and no retry is asked for.
func TestDigestMediaLeftOut(t *testing.T) {
	eachStore(t, func(t *testing.T, s backend) {
		ctx := context.Background()
		c, p := bigPlan(t)
		m := &fakeMessenger{store: s}
		media := &fakeMedia{m: m, fail: func(method string, _ int) error {
			if method == "document" {
				return &sender.Error{ChatID: -500, Err: errors.New("Bad Request: file is too big")}
			}
			return nil
		}}
		sc := newScheduler(t, s, m, c, p, "a")
		sc.SetDigestMedia(media, fakeChart{err: errors.New("no font")}, &fakeBook{})
		n, err := sc.SendDigests(ctx, at("2026-12-07 09:00"))
		if err != nil || n != 1 {
			t.Fatalf("got %d sent, %v; want the supervisors' digest and no error", n, err)
		}
		if len(m.texts[-500]) != 1 || media.calls["photo"] != 0 || media.calls["document"] != 1 {
			t.Errorf("got %d texts, %d photos tried, %d documents tried; want the text, no photo, one document tried",
				len(m.texts[-500]), media.calls["photo"], media.calls["document"])
		}
	})
}
