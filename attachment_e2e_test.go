package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

// TestDocumentReplyKeptAndExported runs the daemon as `duban run` does, against the fake Bot
// API, on each store: a document sent with /report in its caption, and a photo sent as a reply
// to the acknowledgement, are recorded with their files; then `duban export` shows them and
// `duban export -files` downloads the very bytes that were sent.
func TestDocumentReplyKeptAndExported(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			tg := telegramtest.New(t, telegramtest.WithoutLimits())
			group := telegramtest.GroupChat(-1001, "市教育局工作群")
			clerk := telegramtest.NewUser(2001, "王五")
			tg.AddChat(group)
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			raw, _ := os.ReadFile(path)
			text := strings.Replace(string(raw), "市教育局:     { chat: 0 }", "市教育局:     { chat: -1001 }", 1)
			text = strings.Replace(text, `listen: "127.0.0.1:8080"`, `listen: "127.0.0.1:0"`, 1)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("TELEGRAM_BOT_TOKEN", tg.Token())
			t.Setenv("TELEGRAM_API_URL", tg.URL())

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int)
			go func() {
				var out, errOut bytes.Buffer
				done <- run(ctx, []string{"run", "-config", path}, &out, &errOut)
			}()
			stopped := false
			stop := func() {
				if stopped {
					return
				}
				stopped = true
				cancel()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Error("duban run did not stop within 20 s")
				}
			}
			defer stop()

			pdf := []byte("%PDF-1.7\n用地指标批复\n%%EOF\n")
			tg.SendDocument(group, clerk, 0, "用地指标批复.pdf", "application/pdf", pdf, "/report 16 进行中 批复已下达")
			var ack telegramtest.Message
			tg.WaitFor(t, 10*time.Second, "the acknowledgement", func() bool {
				for _, m := range tg.SentTo(group.ID) {
					if strings.Contains(m.PlainText, "已记录 #16 进行中 📎 用地指标批复.pdf") {
						ack = m
						return true
					}
				}
				return false
			})
			jpeg := bytes.Repeat([]byte{0xff, 0xd8, 0x02}, 200)
			tg.SendPhoto(group, clerk, ack.MessageID, jpeg, "")
			tg.WaitFor(t, 10*time.Second, "the photo acknowledged", func() bool {
				for _, m := range tg.SentTo(group.ID) {
					if strings.Contains(m.PlainText, "已记录 #16 备注 📎 图片") {
						return true
					}
				}
				return false
			})
			stop()

			code, out, errOut := runCLI(t, "export", "-config", path, "-all")
			if code != exitOK {
				t.Fatalf("export: exit %d: %s", code, errOut)
			}
			for _, want := range []string{`"file_name": "用地指标批复.pdf"`, `"kind": "photo"`, `"text": "/report 16 进行中 批复已下达"`} {
				if !strings.Contains(out, want) {
					t.Errorf("export -all lacks %s; got:\n%s", want, out)
				}
			}
			c, err := config.LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := openStore(context.Background(), c, true)
			if err != nil {
				t.Fatal(err)
			}
			ups, err := s.Updates(context.Background(), 16)
			s.Close()
			if err != nil || len(ups) != 2 || ups[0].Attachment == nil || ups[0].Status != store.StatusInProgress ||
				ups[1].Attachment == nil || ups[1].Attachment.Kind != "photo" || ups[1].Status != "" {
				t.Fatalf("updates of #16: got %+v, %v; want the document in progress, then the photo as a note", ups, err)
			}

			dir := filepath.Join(t.TempDir(), "files")
			if code, out, errOut := runCLI(t, "export", "-config", path, "-files", dir); code != exitOK {
				t.Fatalf("export -files: exit %d\n%s%s", code, out, errOut)
			}
			for name, want := range map[string][]byte{"16-1-用地指标批复.pdf": pdf, "16-2-photo.jpg": jpeg} {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: got %d bytes, %v; want the %d bytes sent", name, len(got), err, len(want))
				}
			}
		})
	}
}
