package sender

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// mediaCall is one upload the fake received: its method, chat, file and caption.
type mediaCall struct {
	method  string
	chat    int64
	name    string
	data    []byte
	caption string
	at      time.Time
}

// fakeMediaTelegram is fakeTelegram that also takes photos and documents, failing them as
// fail says (n counts uploads from 1).
type fakeMediaTelegram struct {
	fakeTelegram
	clock *fakeClock
	mu    sync.Mutex
	media []mediaCall
	fail  func(n int, c mediaCall) error
}

func (f *fakeMediaTelegram) upload(method string, chat any, file models.InputFile, caption string) (*models.Message, error) {
	up := file.(*models.InputFileUpload)
	data, _ := io.ReadAll(up.Data)
	c := mediaCall{method: method, chat: chat.(int64), name: up.Filename, data: data, caption: caption}
	if f.clock != nil {
		c.at = f.clock.now()
	}
	f.mu.Lock()
	f.media = append(f.media, c)
	n := len(f.media)
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(n, c); err != nil {
			return nil, err
		}
	}
	return &models.Message{ID: 500 + n}, nil
}

func (f *fakeMediaTelegram) SendPhoto(_ context.Context, p *bot.SendPhotoParams) (*models.Message, error) {
	return f.upload("sendPhoto", p.ChatID, p.Photo, p.Caption)
}

func (f *fakeMediaTelegram) SendDocument(_ context.Context, p *bot.SendDocumentParams) (*models.Message, error) {
	return f.upload("sendDocument", p.ChatID, p.Document, p.Caption)
}

var png = []byte("\x89PNG\r\n\x1a\n fake chart")

// TestMediaRetriedWithTheirBytes: a photo refused twice with a 502 goes on the third
// attempt, after a backoff, and every attempt uploads the whole file (a fresh reader each
// time), with its name and caption.
func TestMediaRetriedWithTheirBytes(t *testing.T) {
	for _, method := range []string{"sendPhoto", "sendDocument"} {
		t.Run(method, func(t *testing.T) {
			tg := &fakeMediaTelegram{fail: func(n int, c mediaCall) error {
				if n <= 2 {
					return errors.New("error response from telegram for method " + c.method + ", 502 Bad Gateway")
				}
				return nil
			}}
			s, clock := newTestSender(t, tg, Options{})
			m := Media{ChatID: -500, Name: "chart.png", Data: png, Caption: "<b>周报</b>"}
			var sent []int
			h := Hooks{Sent: func(_ context.Context, part, id int) error { sent = append(sent, part, id); return nil }}
			send := s.SendPhoto
			if method == "sendDocument" {
				send = s.SendDocument
			}
			id, err := send(context.Background(), m, h)
			if err != nil {
				t.Fatal(err)
			}
			if id != 503 || len(sent) != 2 || sent[0] != 0 || sent[1] != 503 {
				t.Errorf("got id %d, Sent hook told %v; want 503, [0 503]", id, sent)
			}
			if len(tg.media) != 3 {
				t.Fatalf("attempts: got %d, want 3", len(tg.media))
			}
			for i, c := range tg.media {
				if c.method != method || !bytes.Equal(c.data, png) || c.name != "chart.png" || c.caption != m.Caption {
					t.Errorf("attempt %d: got %s of %q (%d bytes), caption %q; want %s of chart.png with its %d bytes and caption",
						i+1, c.method, c.name, len(c.data), c.caption, method, len(png))
				}
			}
			if len(clock.slept) == 0 {
				t.Error("got no backoff between the attempts, want one")
			}
		})
	}
}

// TestMediaPacedWithMessages: a photo, a message and a document to one group share the
// chat's pace (one a second) and its group window, and a 429 on the document holds it back
// retry_after seconds.
func TestMediaPacedWithMessages(t *testing.T) {
	tg := &fakeMediaTelegram{}
	s, clock := newTestSender(t, tg, Options{})
	tg.clock = clock
	var msgAt time.Time
	tg.send = func(int, *bot.SendMessageParams) error { msgAt = clock.now(); return nil }
	tg.fail = func(n int, c mediaCall) error {
		if c.method == "sendDocument" && n == 2 {
			return &bot.TooManyRequestsError{Message: "Too Many Requests: retry after 7", RetryAfter: 7}
		}
		return nil
	}
	ctx := context.Background()
	if _, err := s.SendPhoto(ctx, Media{ChatID: -500, Name: "a.png", Data: png}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, Message{ChatID: -500, Text: "digest"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendDocument(ctx, Media{ChatID: -500, Name: "b.xlsx", Data: []byte("PK")}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if len(tg.media) != 3 {
		t.Fatalf("uploads: got %d, want 3 (a photo, a document refused once, again)", len(tg.media))
	}
	photo, refusedAt, doc := tg.media[0].at, tg.media[1].at, tg.media[2].at
	if d := msgAt.Sub(photo); d < time.Second {
		t.Errorf("photo to message: got %v apart, want at least 1 s in one chat", d)
	}
	if d := refusedAt.Sub(msgAt); d < time.Second {
		t.Errorf("message to document: got %v apart, want at least 1 s", d)
	}
	if d := doc.Sub(refusedAt); d < 7*time.Second {
		t.Errorf("document after its 429: got %v later, want at least the 7 s retry_after", d)
	}
}

// TestMediaOutcomes: a photo to a group that became a supergroup follows it; one to a chat
// that removed the bot is forbidden, not retried; one Telegram rejects (400) is not
// retried; a Before hook's refusal sends nothing.
func TestMediaOutcomes(t *testing.T) {
	ctx := context.Background()
	t.Run("moved", func(t *testing.T) {
		tg := &fakeMediaTelegram{fail: func(_ int, c mediaCall) error {
			if c.chat == -1001 {
				return &bot.MigrateError{Message: "Bad Request: group chat was upgraded to a supergroup chat", MigrateToChatID: -1009876}
			}
			return nil
		}}
		var moved [2]int64
		s, _ := newTestSender(t, tg, Options{Moved: func(_ context.Context, o, n int64) { moved = [2]int64{o, n} }})
		if _, err := s.SendDocument(ctx, Media{ChatID: -1001, Name: "b.xlsx", Data: []byte("PK")}, Hooks{}); err != nil {
			t.Fatal(err)
		}
		if moved != [2]int64{-1001, -1009876} || tg.media[len(tg.media)-1].chat != -1009876 {
			t.Errorf("got Moved %v and the last upload to %d, want [-1001 -1009876] and -1009876", moved, tg.media[len(tg.media)-1].chat)
		}
	})
	t.Run("forbidden", func(t *testing.T) {
		tg := &fakeMediaTelegram{fail: func(int, mediaCall) error {
			return errors.Join(bot.ErrorForbidden, errors.New("bot was kicked from the group chat"))
		}}
		var lost int64
		s, _ := newTestSender(t, tg, Options{Forbidden: func(_ context.Context, chat int64, _ string) { lost = chat }})
		_, err := s.SendPhoto(ctx, Media{ChatID: -7, Name: "a.png", Data: png}, Hooks{})
		var se *Error
		if !errors.As(err, &se) || se.Retryable || !errors.Is(err, ErrForbidden) || lost != -7 || len(tg.media) != 1 {
			t.Errorf("got %v (Forbidden told %d, %d attempts), want ErrForbidden, not retryable, told -7, 1 attempt", err, lost, len(tg.media))
		}
	})
	t.Run("rejected", func(t *testing.T) {
		tg := &fakeMediaTelegram{fail: func(int, mediaCall) error {
			return errors.Join(bot.ErrorBadRequest, errors.New("message caption is too long"))
		}}
		s, _ := newTestSender(t, tg, Options{})
		_, err := s.SendPhoto(ctx, Media{ChatID: 9, Name: "a.png", Data: png, Caption: strings.Repeat("字", 1025)}, Hooks{})
		var se *Error
		if !errors.As(err, &se) || se.Retryable || len(tg.media) != 1 {
			t.Errorf("got %v after %d attempts, want a rejection that is not retried", err, len(tg.media))
		}
	})
	t.Run("before refuses", func(t *testing.T) {
		tg := &fakeMediaTelegram{}
		s, _ := newTestSender(t, tg, Options{})
		stop := errors.New("fenced")
		_, err := s.SendPhoto(ctx, Media{ChatID: 9, Name: "a.png", Data: png}, Hooks{Before: func(context.Context, int) error { return stop }})
		if !errors.Is(err, stop) || len(tg.media) != 0 {
			t.Errorf("got %v after %d uploads, want the hook's error and none", err, len(tg.media))
		}
	})
	t.Run("no uploads", func(t *testing.T) {
		s, _ := newTestSender(t, &fakeTelegram{}, Options{})
		if _, err := s.SendDocument(ctx, Media{ChatID: 9, Name: "b.xlsx", Data: []byte("PK")}, Hooks{}); err == nil {
			t.Error("a Telegram without uploads: got no error, want one")
		}
	})
}

// TestNoPreview: a message with NoPreview asks Telegram for no link preview, on every part.
func TestNoPreview(t *testing.T) {
	tg := &fakeTelegram{}
	s, _ := newTestSender(t, tg, Options{})
	long := strings.Repeat("第一行\n", 700) + strings.Repeat("第二段 https://duban.test/login\n", 300)
	if _, err := s.Send(context.Background(), Message{ChatID: 1, Text: long, NoPreview: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), Message{ChatID: 1, Text: "https://example.org"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range tg.calls {
		got := c.LinkPreviewOptions != nil && c.LinkPreviewOptions.IsDisabled != nil && *c.LinkPreviewOptions.IsDisabled
		if want := i < len(tg.calls)-1; got != want {
			t.Errorf("part %d: got previews disabled %v, want %v", i, got, want)
		}
	}
}
