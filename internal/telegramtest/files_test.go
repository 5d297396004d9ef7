package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/internal/telegramtest"
)

func pngBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fileOf is the file a message carries, as a bot reads it.
func fileOf(m *models.Message) (id, uniqueID string, size int64) {
	switch {
	case m.Document != nil:
		return m.Document.FileID, m.Document.FileUniqueID, m.Document.FileSize
	case m.Voice != nil:
		return m.Voice.FileID, m.Voice.FileUniqueID, m.Voice.FileSize
	case len(m.Photo) > 0:
		p := m.Photo[len(m.Photo)-1]
		return p.FileID, p.FileUniqueID, int64(p.FileSize)
	}
	return "", "", 0
}

// TestFiles: a file a user sends reaches the bot as Telegram delivers it, and getFile plus the
// download URL give back its bytes, through the library's GetFile and FileDownloadLink.
func TestFiles(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	b := newBot(t, srv)
	chat := telegramtest.GroupChat(7, "市教育局")
	srv.AddBotToGroup(chat, alice, "")
	nudge, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: chat.ID, Text: "#16 请报送进展"})
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.7\n用地指标批复\n%%EOF\n")
	photo := pngBytes(t, 64, 48)
	voice := []byte("OggS\x00\x02fake opus")
	tests := []struct {
		name    string
		send    func() models.Message
		check   func(m *models.Message) string // what is wrong, "" if nothing
		content []byte
		folder  string
	}{
		{"document replying to the bot, with a command caption", func() models.Message {
			return srv.SendDocument(chat, bob, nudge.ID, "用地指标批复.pdf", "application/pdf", pdf, "/report 16 批复见附件")
		}, func(m *models.Message) string {
			d := m.Document
			switch {
			case d == nil || d.FileName != "用地指标批复.pdf" || d.MimeType != "application/pdf" || d.FileSize != int64(len(pdf)):
				return "document"
			case m.ReplyToMessage == nil || m.ReplyToMessage.ID != nudge.ID:
				return "reply_to_message"
			case m.Caption != "/report 16 批复见附件" || len(m.CaptionEntities) != 1 || m.CaptionEntities[0].Type != models.MessageEntityTypeBotCommand:
				return "caption"
			case m.Text != "":
				return "text"
			}
			return ""
		}, pdf, "documents/"},
		{"photo without caption", func() models.Message {
			return srv.SendPhoto(chat, bob, 0, photo, "")
		}, func(m *models.Message) string {
			switch {
			case len(m.Photo) != 1 || m.Photo[0].Width != 64 || m.Photo[0].Height != 48 || m.Photo[0].FileSize != len(photo):
				return "photo"
			case m.ReplyToMessage != nil || m.Caption != "" || m.CaptionEntities != nil:
				return "reply or caption"
			}
			return ""
		}, photo, "photos/"},
		{"voice replying to the bot", func() models.Message {
			return srv.SendVoice(chat, bob, nudge.ID, voice, 3, "")
		}, func(m *models.Message) string {
			if v := m.Voice; v == nil || v.Duration != 3 || v.MimeType != "audio/ogg" || v.FileSize != int64(len(voice)) {
				return "voice"
			}
			return ""
		}, voice, "voice/"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := tt.send()
			ups := getUpdates(t, srv, nil)
			m := ups[len(ups)-1].Message
			if m == nil || m.ID != sent.ID || m.From == nil || m.From.ID != bob.ID {
				t.Fatalf("last update: got %+v, want message %d from bob", ups[len(ups)-1], sent.ID)
			}
			if what := tt.check(m); what != "" {
				t.Errorf("delivered message: wrong %s: got %+v", what, m)
			}
			id, uniqueID, size := fileOf(m)
			if id == "" || uniqueID == "" || id == uniqueID || seen[id] || seen[uniqueID] {
				t.Errorf("got file_id %q and file_unique_id %q, want two new opaque strings", id, uniqueID)
			}
			seen[id], seen[uniqueID] = true, true

			f, err := b.GetFile(context.Background(), &bot.GetFileParams{FileID: id})
			if err != nil {
				t.Fatalf("getFile: %v", err)
			}
			if f.FileID != id || f.FileUniqueID != uniqueID || f.FileSize != size || !strings.HasPrefix(f.FilePath, tt.folder) {
				t.Errorf("getFile: got %+v, want %s, %s, size %d, a path in %s", f, id, uniqueID, size, tt.folder)
			}
			link := b.FileDownloadLink(f)
			if want := srv.URL() + "/file/bot" + srv.Token() + "/" + f.FilePath; link != want {
				t.Errorf("download link: got %s, want %s", link, want)
			}
			resp, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, tt.content) {
				t.Errorf("download: got %d and %d bytes %q, want 200 and the %d bytes sent", resp.StatusCode, len(got), got, len(tt.content))
			}
			if d := srv.Downloads(); len(d) == 0 || d[len(d)-1].Path != f.FilePath || d[len(d)-1].Status != http.StatusOK {
				t.Errorf("downloads: got %+v, want the last one %s, 200", d, f.FilePath)
			}
		})
	}
}

// TestFileErrors: what Telegram answers for a file it does not have, a file too big for a bot,
// and a download with the wrong token.
func TestFileErrors(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.GroupChat(7, "g")
	small := srv.SendDocument(chat, alice, 0, "a.txt", "text/plain", []byte("abc"), "")
	big := srv.SendDocument(chat, alice, 0, "big.bin", "application/octet-stream", make([]byte, 20<<20+1), "")
	_, _, r := callForm(t, srv, "getFile", url.Values{"file_id": {small.Document.FileID}})
	var f models.File
	if err := json.Unmarshal(r.Result, &f); err != nil || f.FilePath == "" {
		t.Fatalf("getFile: got %s, %v; want a file", r.Result, err)
	}
	good := srv.URL() + "/file/bot" + srv.Token() + "/" + f.FilePath
	tests := []struct {
		name       string
		do         func() (int, string)
		wantStatus int
		wantBody   string
	}{
		{"unknown file_id", func() (int, string) {
			status, body, _ := callForm(t, srv, "getFile", url.Values{"file_id": {"BQACAgUAAxkBAAnope"}})
			return status, body
		}, 400, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`},
		{"no file_id", func() (int, string) {
			status, body, _ := callForm(t, srv, "getFile", url.Values{})
			return status, body
		}, 400, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`},
		{"over 20 MB", func() (int, string) {
			status, body, _ := callForm(t, srv, "getFile", url.Values{"file_id": {big.Document.FileID}})
			return status, body
		}, 400, `{"ok":false,"error_code":400,"description":"Bad Request: file is too big"}`},
		{"download, right token", func() (int, string) { return get(t, good) }, 200, "abc"},
		{"download, wrong token", func() (int, string) {
			return get(t, srv.URL()+"/file/bot999:WRONG/"+f.FilePath)
		}, 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		{"download, no token", func() (int, string) { return get(t, srv.URL()+"/file/bot/"+f.FilePath) },
			401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		{"download, unknown path", func() (int, string) {
			return get(t, srv.URL()+"/file/bot"+srv.Token()+"/documents/file_99.txt")
		}, 404, `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{"download, path outside", func() (int, string) {
			return get(t, srv.URL()+"/file/bot"+srv.Token()+"/../bot"+srv.Token()+"/getMe")
		}, 404, `{"ok":false,"error_code":404,"description":"Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tt.do()
			if status != tt.wantStatus || body != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func get(tb testing.TB, link string) (int, string) {
	tb.Helper()
	resp, err := http.Get(link)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
