package telegramtest_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/duban/duban/internal/telegramtest"
)

// callUpload POSTs a multipart request with fields and, when name is not "", a file part
// field carrying data.
func callUpload(tb testing.TB, srv *telegramtest.Server, method string, fields map[string]string, field, name string, data []byte) (int, apiResponse) {
	tb.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	if name != "" {
		fw, err := w.CreateFormFile(field, name)
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = fw.Write(data)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, methodURL(srv, method), &body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	code, _, r := do(tb, req)
	return code, r
}

// TestBotMedia: the fake takes sendPhoto and sendDocument uploads as Telegram does and
// refuses what Telegram refuses; a photo's file_id can be sent again.
func TestBotMedia(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.GroupChat(7, "督查室")
	srv.AddChat(chat)
	id := "-7"
	photo := pngBytes(t, 64, 48)
	tests := []struct {
		name, method, field, file string
		data                      []byte
		fields                    map[string]string
		wantCode                  int
		wantDesc                  string
	}{
		{"photo", "sendPhoto", "photo", "chart.png", photo, map[string]string{"chat_id": id, "caption": "<b>周报</b>", "parse_mode": "HTML"}, 200, ""},
		{"document", "sendDocument", "document", "台账.xlsx", []byte("PK"), map[string]string{"chat_id": id}, 200, ""},
		{"no file", "sendPhoto", "photo", "", nil, map[string]string{"chat_id": id}, 400, "Bad Request: there is no photo in the request"},
		{"not an image", "sendPhoto", "photo", "x.png", []byte("not a png"), map[string]string{"chat_id": id}, 400, "Bad Request: IMAGE_PROCESS_FAILED"},
		{"too narrow", "sendPhoto", "photo", "x.png", pngBytes(t, 2, 100), map[string]string{"chat_id": id}, 400, "Bad Request: PHOTO_INVALID_DIMENSIONS"},
		{"empty document", "sendDocument", "document", "x.xlsx", []byte{}, map[string]string{"chat_id": id}, 400, "Bad Request: file must be non-empty"},
		{"long caption", "sendDocument", "document", "x.xlsx", []byte("PK"), map[string]string{"chat_id": id, "caption": strings.Repeat("字", 1025)}, 400, "Bad Request: message caption is too long"},
		{"unknown chat", "sendDocument", "document", "x.xlsx", []byte("PK"), map[string]string{"chat_id": "-99"}, 400, "Bad Request: chat not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, r := callUpload(t, srv, tt.method, tt.fields, tt.field, tt.file, tt.data)
			if code != tt.wantCode || r.Description != tt.wantDesc {
				t.Errorf("got %d %q, want %d %q", code, r.Description, tt.wantCode, tt.wantDesc)
			}
		})
	}
	media := srv.SentMediaTo(chat.ID)
	if len(media) != 2 {
		t.Fatalf("got %d media accepted, want 2", len(media))
	}
	if p := media[0]; !bytes.Equal(p.Data, photo) || p.FileName != "chart.png" || p.PlainCaption != "周报" || len(p.CaptionEntities) != 1 || p.Width != 64 || p.Height != 48 {
		t.Errorf("photo: got %q %dx%d of %d bytes, caption %q with %d entities; want chart.png 64x48, caption 周报 in bold",
			p.FileName, p.Width, p.Height, len(p.Data), p.PlainCaption, len(p.CaptionEntities))
	}
	if m, ok := srv.StoredMessage(chat.ID, media[1].MessageID); !ok || m.Document == nil || m.Document.FileName != "台账.xlsx" {
		t.Errorf("document message: got %+v, want one carrying 台账.xlsx", m.Document)
	}
	code, _, r := callForm(t, srv, "sendPhoto", url.Values{"chat_id": {id}, "photo": {media[0].FileID}})
	if code != 200 || len(srv.SentMedia()) != 3 || !bytes.Equal(srv.SentMedia()[2].Data, photo) {
		t.Errorf("the photo again by file_id: got %d %q, want it accepted with the same bytes", code, r.Description)
	}
	if code, _, r := callForm(t, srv, "sendPhoto", url.Values{"chat_id": {id}, "photo": {"https://example.org/x.png"}}); code != 400 {
		t.Errorf("a URL: got %d %q, want 400", code, r.Description)
	}
}

// TestLinkPreviewOptions: sendMessage parses link_preview_options, refusing a malformed one,
// and Message.LinkPreviewDisabled reads it back.
func TestLinkPreviewOptions(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.GroupChat(7, "督查室")
	srv.AddChat(chat)
	if code, _, r := callForm(t, srv, "sendMessage", url.Values{"chat_id": {"-7"}, "text": {"x"}, "link_preview_options": {"{not json"}}); code != 400 ||
		r.Description != "Bad Request: can't parse link preview options JSON object" {
		t.Errorf("malformed: got %d %q, want 400 can't parse", code, r.Description)
	}
	callForm(t, srv, "sendMessage", url.Values{"chat_id": {"-7"}, "text": {"https://duban.test/login?t=x"}, "link_preview_options": {`{"is_disabled":true}`}})
	callForm(t, srv, "sendMessage", url.Values{"chat_id": {"-7"}, "text": {"https://example.org"}})
	sent := srv.SentTo(chat.ID)
	if len(sent) != 2 || !sent[0].LinkPreviewDisabled() || sent[1].LinkPreviewDisabled() {
		t.Errorf("got %d messages, previews disabled %v; want 2, the first only", len(sent), []bool{len(sent) > 0 && sent[0].LinkPreviewDisabled(), len(sent) > 1 && sent[1].LinkPreviewDisabled()})
	}
}
