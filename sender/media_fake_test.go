package sender_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/sender"
)

// TestMediaThroughTheBotAPI uploads photos and a document through go-telegram/bot to the
// fake Bot API, which takes them as Telegram does (multipart, its flood limits on a clock 100
// times faster): each arrives once with its bytes, name and parsed caption, the sender's
// pacing keeps 429s to at most one, and a caption over 1,024 characters is refused for good.
func TestMediaThroughTheBotAPI(t *testing.T) {
	const scale = 0.01
	tg := telegramtest.New(t, telegramtest.WithTimeScale(scale))
	group := telegramtest.GroupChat(-500, "督查室")
	tg.AddChat(group)
	api, err := tgbot.New(tg.Token(), tgbot.WithServerURL(tg.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	s := sender.New(api, sender.Options{
		Limits: sender.Limits{Overall: scaled(time.Second / 30), OverallPerWindow: 30, OverallWindow: scaled(time.Second), PerChat: scaled(time.Second),
			PerGroup: 20, GroupWindow: scaled(time.Minute), RetryAfterUnit: scaled(time.Second)},
		Backoff: time.Millisecond,
	})
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for x := 0; x < 120; x++ {
		img.Set(x, x%80, color.RGBA{0xC6, 0x28, 0x28, 0xFF})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.SendPhoto(ctx, sender.Media{ChatID: group.ID, Name: "chart.png", Data: buf.Bytes(), Caption: "<b>周报</b> 第 " + string(rune('1'+i)) + " 张 &amp; 图"}, sender.Hooks{}); err != nil {
			t.Fatalf("photo %d: %v", i+1, err)
		}
	}
	book := []byte("PK\x03\x04 a workbook")
	if _, err := s.SendDocument(ctx, sender.Media{ChatID: group.ID, Name: "台账.xlsx", Data: book}, sender.Hooks{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SendPhoto(ctx, sender.Media{ChatID: group.ID, Name: "chart.png", Data: buf.Bytes(), Caption: strings.Repeat("字", sender.MaxCaption+1)}, sender.Hooks{})
	var se *sender.Error
	if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "caption is too long") {
		t.Errorf("a caption of %d characters: got %v, want a rejection that is not retried", sender.MaxCaption+1, err)
	}

	media := tg.SentMediaTo(group.ID)
	if len(media) != 6 {
		t.Fatalf("got %d uploads accepted, want 6", len(media))
	}
	for i, m := range media[:5] {
		if m.Method != "sendPhoto" || !bytes.Equal(m.Data, buf.Bytes()) || m.Width != 120 || m.Height != 80 {
			t.Errorf("photo %d: got %s of %d bytes, %dx%d; want the 120x80 PNG's %d bytes", i+1, m.Method, len(m.Data), m.Width, m.Height, buf.Len())
		}
		if want := "周报 第 " + string(rune('1'+i)) + " 张 & 图"; m.PlainCaption != want || len(m.CaptionEntities) != 1 {
			t.Errorf("photo %d: got caption %q with %d entities, want %q in bold", i+1, m.PlainCaption, len(m.CaptionEntities), want)
		}
	}
	doc := media[5]
	if doc.Method != "sendDocument" || doc.FileName != "台账.xlsx" || !bytes.Equal(doc.Data, book) ||
		doc.MIMEType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("document: got %s %q (%s) of %d bytes, want the workbook's", doc.Method, doc.FileName, doc.MIMEType, len(doc.Data))
	}
	tooMany := 0
	for _, r := range tg.Requests() {
		if r.Status == 429 {
			tooMany++
		}
	}
	if tooMany > 1 {
		t.Errorf("got %d 429s, want at most 1: the sender paces uploads as messages", tooMany)
	}
}
