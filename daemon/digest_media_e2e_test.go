package daemon_test

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban/duban/chart"
	"github.com/duban/duban/internal/telegramtest"
)

// digestRig is a daemon with 市教育局 bound, on a fresh store of be, about to send the weekly
// digest of Monday 2026-12-07.
func digestRig(t *testing.T, be backend) (*rig, time.Time) {
	t.Helper()
	return directRig(t, be, newFakeTelegram(t)), time.Date(2026, 12, 7, 9, 0, 0, 0, cst)
}

// supervisorsDigest is what the supervisors chat got, in order: its photos and documents,
// and its text messages.
func supervisorsDigest(r *rig) (media []telegramtest.SentMedia, texts []telegramtest.Message) {
	return r.tg.SentMediaTo(supGroup.ID), r.tg.SentTo(supGroup.ID)
}

// TestDigestStartsWithChartEndsWithWorkbook: the supervisors' weekly digest arrives as a
// photo of the chart (a real PNG, 1200 pixels wide, not blank) with the headline numbers as
// caption, then the text, then the 台账 workbook as a document that opens with its three
// sheets and one row per task and department.
func TestDigestStartsWithChartEndsWithWorkbook(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r, now := digestRig(t, be)
			if _, err := r.d.Scheduler().SendDigests(context.Background(), now); err != nil {
				t.Fatal(err)
			}
			media, texts := supervisorsDigest(r)
			if len(media) != 2 || media[0].Method != "sendPhoto" || media[1].Method != "sendDocument" {
				t.Fatalf("supervisors' media: got %d (%v), want a photo and a document", len(media), methods(media))
			}
			photo, doc := media[0], media[1]
			var digest []telegramtest.Message
			for _, m := range texts {
				if m.MessageID > photo.MessageID && m.MessageID < doc.MessageID {
					digest = append(digest, m)
				}
			}
			if len(digest) == 0 || !strings.HasPrefix(digest[0].PlainText, "【督办周报】2026-12-07") {
				t.Fatalf("between the photo (#%d) and the document (#%d): got %d messages, want the digest's text", photo.MessageID, doc.MessageID, len(digest))
			}
			for _, m := range texts {
				if strings.Contains(m.PlainText, "【督办周报】") && !slices.ContainsFunc(digest, func(d telegramtest.Message) bool { return d.MessageID == m.MessageID }) {
					t.Errorf("digest text #%d: got it outside the photo (#%d) and the document (#%d)", m.MessageID, photo.MessageID, doc.MessageID)
				}
			}

			// The photo: the chart's PNG, as Telegram received it.
			img, format, err := image.Decode(bytes.NewReader(photo.Data))
			if err != nil || format != "png" {
				t.Fatalf("photo: got %d bytes that decode as %q (%v), want a PNG", len(photo.Data), format, err)
			}
			if b := img.Bounds(); b.Dx() != chart.Width || b.Dy() < 300 {
				t.Errorf("photo: got %dx%d, want %d wide and at least 300 high", b.Dx(), b.Dy(), chart.Width)
			}
			if share := inked(img); share < 0.02 {
				t.Errorf("photo: got %.1f%% of pixels unlike the background, want a drawn chart (at least 2%%)", share*100)
			}
			if photo.Width != chart.Width || photo.ParseMode != "HTML" {
				t.Errorf("photo: got width %d, parse mode %q; want %d, HTML", photo.Width, photo.ParseMode, chart.Width)
			}
			// The caption: the headline numbers of the shipped plan on 2026-12-07.
			tasks, pairs := 0, 0
			for _, task := range r.plan.Tasks {
				tasks++
				pairs += len(task.Responsible)
			}
			// Nobody has reported; 市教育局 alone is bound, so the others' overdue items are counted
			// under the departments without a chat.
			n := itoa(int64(tasks))
			for _, want := range []string{"【督办周报】2026-12-07", n + " 项任务：已完成 0，进行中 0，遇到困难 0，未开始 " + n, "🔴 逾期 239 项", "个单位未绑定群聊"} {
				if !strings.Contains(photo.PlainCaption, want) {
					t.Errorf("caption: got %q, want it to contain %q", photo.PlainCaption, want)
				}
			}

			// The document: the 台账 workbook, opened as Excel would.
			if !strings.HasSuffix(doc.FileName, ".xlsx") || doc.MIMEType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
				t.Errorf("document: got %q (%s), want an .xlsx workbook", doc.FileName, doc.MIMEType)
			}
			f, err := excelize.OpenReader(bytes.NewReader(doc.Data))
			if err != nil {
				t.Fatalf("document: got %d bytes excelize cannot open: %v", len(doc.Data), err)
			}
			defer f.Close()
			if got, want := f.GetSheetList(), []string{"台账", "进展记录", "单位汇总"}; !slices.Equal(got, want) {
				t.Errorf("workbook sheets: got %v, want %v", got, want)
			}
			rows, err := f.GetRows("台账")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("photo %dx%d, %d bytes, %.0f%% inked, caption %q; %s: %d bytes, %d rows in 台账; %d text parts",
				photo.Width, photo.Height, len(photo.Data), inked(img)*100, photo.PlainCaption, doc.FileName, len(doc.Data), len(rows), len(digest))
			if len(rows) != 1+pairs {
				t.Errorf("台账: got %d rows, want a header and %d (one per task and department)", len(rows), pairs)
			}
		})
	}
}

// TestDigestDocumentRetrySendsOnlyIt: Telegram fails the workbook's upload until the sender
// gives up; the retry a minute later sends the workbook alone: the photo and the text went
// once.
func TestDigestDocumentRetrySendsOnlyIt(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r, now := digestRig(t, be)
			ctx := context.Background()
			r.tg.FailNext("sendDocument", 5, 502, "", 0) // the sender's five attempts
			if _, err := r.d.Scheduler().SendDigests(ctx, now); err == nil {
				t.Fatal("first try: got no error, want the workbook not delivered")
			}
			if media, _ := supervisorsDigest(r); len(media) != 1 || media[0].Method != "sendPhoto" {
				t.Fatalf("first try: got %v, want the photo alone", methods(media))
			}
			if _, err := r.d.Scheduler().SendDigests(ctx, now.Add(time.Minute)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			media, texts := supervisorsDigest(r)
			if got := methods(media); !slices.Equal(got, []string{"sendPhoto", "sendDocument"}) {
				t.Errorf("after the retry: got %v, want one photo and one document", got)
			}
			n := 0
			for _, m := range texts {
				if strings.HasPrefix(m.PlainText, "【督办周报】") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("after the retry: got the digest's text %d times, want once", n)
			}
			if got := r.tg.Calls("sendPhoto"); got != 1 {
				t.Errorf("sendPhoto: got %d calls, want 1", got)
			}
			if got := r.tg.Calls("sendDocument"); got != 6 {
				t.Errorf("sendDocument: got %d calls, want 6 (five refused, one accepted)", got)
			}
			// A third try finds everything sent.
			if sent, err := r.d.Scheduler().SendDigests(ctx, now.Add(2*time.Minute)); err != nil || len(r.tg.SentMedia()) != 2 {
				t.Errorf("a third try: got %d sent, %v, %d media in all; want nothing more", sent, err, len(r.tg.SentMedia()))
			}
		})
	}
}

func methods(media []telegramtest.SentMedia) []string {
	var out []string
	for _, m := range media {
		out = append(out, m.Method)
	}
	return out
}

// inked is the share of img's pixels that differ from its top-left one, the background.
func inked(img image.Image) float64 {
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Min.Y)
	br, bgG, bb, _ := bg.RGBA()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r != br || g != bgG || bl != bb {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}
