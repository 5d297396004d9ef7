package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
	"github.com/duban/duban/web"
)

// webStore is what the web view reads and signs in with; both stores provide it.
type webStore interface {
	web.Data
	web.AuthStore
}

// benchWebRecord is a plan and its record in a real store (the embedded one, or Redis when
// REDIS_URL is set): the shipped plan with two updates per task and department, or the
// generated plan of BenchmarkWorkbook (tasks × 3, updates spread over its pairs). It returns
// the config file `duban export` reads and the store, open for writing, the web view reads.
func benchWebRecord(b *testing.B, storeName, url string, tasks, updates int) (string, *config.Config, *config.Plan, backend) {
	b.Helper()
	ctx := context.Background()
	var path string
	var ups []store.Update
	if tasks == 0 { // the shipped plan
		path = exportConfig(b, url, prefixFor(b, url))
		c, p, err := config.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		at := time.Date(2026, 11, 1, 9, 0, 0, 0, c.Location)
		for _, t := range p.Tasks {
			for i, d := range t.Responsible {
				pct := (t.ID*13 + i*29) % 101
				for n := range 2 {
					ups = append(ups, store.Update{Task: t.ID, Department: d, At: at.Add(time.Duration(len(ups)) * time.Minute),
						ChatID: -1001, MessageID: len(ups) + 1, UserID: 2001, UserName: "王五",
						Text: fmt.Sprintf("进行中 %d%% 第%d次报送：招生计划已下达", pct, n+1), Status: store.StatusInProgress,
						Percent: &pct, Source: store.SourceReply})
				}
			}
		}
	} else {
		c, p, m, _ := benchRecord(b, tasks, updates)
		path = c.File
		if url != "" {
			raw, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			text := strings.Replace(string(raw), `prefix: "duban:"`, `prefix: "`+prefixFor(b, url)+`"`, 1)
			text = strings.Replace(text, `url: ""  `, `url: "`+url+`"  `, 1)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for _, t := range p.Tasks {
			ups = append(ups, m.chains[t.ID]...)
		}
	}
	c, p, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	if (url != "") != (c.Store.URL != "") {
		b.Fatalf("%s: config %s names store %q", storeName, path, c.Store.URL)
	}
	s, err := openStore(ctx, c, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	for len(ups) > 0 { // in batches: one transaction each on the embedded store
		n := min(len(ups), 1000)
		if _, _, err := s.Record(ctx, 0, ups[:n]); err != nil {
			b.Fatalf("record: %v", err)
		}
		ups = ups[n:]
	}
	return path, c, p, s
}

// benchWebServer is the web view on s, as the daemon serves it, and a session cookie that
// reads everything (an admin's), signed in by a link as a person would.
func benchWebServer(b *testing.B, c *config.Config, p *config.Plan, s backend) (http.Handler, *http.Cookie) {
	b.Helper()
	ws, ok := s.(webStore)
	if !ok {
		b.Fatalf("%T does not serve the web view", s)
	}
	const public = "https://duban.example.gov.cn"
	srv := web.New(web.Options{Plan: func() (*config.Config, *config.Plan) { return c, p }, Data: ws, Auth: ws, URL: public,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := srv.Handler()
	link, err := srv.IssueLink(context.Background(), web.Scope{User: 1001})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", strings.TrimPrefix(link, public), nil))
	for _, ck := range w.Result().Cookies() {
		if ck.Name == web.CookieName {
			return h, ck
		}
	}
	b.Fatalf("sign-in by %s: %d, no session cookie", link, w.Code)
	return nil, nil
}

// benchGet serves one request and returns the bytes of its body.
func benchGet(b *testing.B, h http.Handler, ck *http.Cookie, path string) int {
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = "192.0.2.1:5555"
	if ck != nil {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("GET %s: %d\n%.500s", path, w.Code, w.Body.String())
	}
	return w.Body.Len()
}

// benchExport runs `duban export -format json -config path` through the CLI's entry point,
// as a script on the server would (the config and plan read, the store opened read-only),
// and returns the bytes written.
func benchExport(b *testing.B, path string) int {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"export", "-format", "json", "-config", path}, &out, &errOut); code != exitOK {
		b.Fatalf("export: exit %d: %s", code, errOut.String())
	}
	return out.Len()
}

// benchExportRecord is the same export from the open store to the bytes: no config or plan
// read, as the web view has them in memory already.
func benchExportRecord(b *testing.B, c *config.Config, p *config.Plan, s backend) int {
	snap, err := record.Collect(context.Background(), s, c, p, false, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var n int
	if err := record.WriteJSON(writerFunc(func(q []byte) (int, error) { n += len(q); return len(q), nil }), snap.Tasks, c); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkWebView: the web view's 总览 (GET /) and 任务 list (GET /tasks), served through
// its HTTP handler with a signed-in session on a real store, against `duban export -format
// json` of the same record (through the CLI's entry point, and from the open store alone),
// for the shipped plan and for BenchmarkWorkbook's generated 10,000-task × 3 plan with
// 100,000 updates. "ratio" runs them one after another in each round, so that the ratios
// hold on a shared machine whose load changes from one second to the next. The store is set
// up again for each -count round (recording 100,000 updates takes a few seconds).
//
//	go test -run '^$' -bench WebView -benchmem -cpu 1 -count 6 .
func BenchmarkWebView(b *testing.B) {
	for _, st := range storesUnderTest(b) {
		for _, size := range []struct {
			name           string
			tasks, updates int
		}{{"shipped", 0, 0}, {"tasks=10000", 10_000, 100_000}} {
			b.Run(st.name+"/"+size.name, func(b *testing.B) {
				path, c, p, s := benchWebRecord(b, st.name, st.url, size.tasks, size.updates)
				h, ck := benchWebServer(b, c, p, s)
				runs := []struct {
					name string
					run  func(b *testing.B) int
				}{
					{"overview", func(b *testing.B) int { return benchGet(b, h, ck, "/") }},
					{"tasks", func(b *testing.B) int { return benchGet(b, h, ck, "/tasks") }},
					{"export-json", func(b *testing.B) int { return benchExport(b, path) }},
					{"export-json-record", func(b *testing.B) int { return benchExportRecord(b, c, p, s) }},
				}
				for _, r := range runs {
					b.Run(r.name, func(b *testing.B) {
						var n int
						for b.Loop() {
							n = r.run(b)
						}
						b.ReportMetric(float64(n)/1e3, "KB")
					})
				}
				b.Run("ratio", func(b *testing.B) {
					took := make([]time.Duration, len(runs))
					for b.Loop() {
						for i, r := range runs {
							start := time.Now()
							r.run(b)
							took[i] += time.Since(start)
						}
					}
					for i, name := range []string{"overview", "tasks"} {
						b.ReportMetric(float64(took[i])/float64(took[2]), name+"/export")
						b.ReportMetric(float64(took[i])/float64(took[3]), name+"/export-record")
					}
					b.ReportMetric(0, "ns/op")
				})
			})
		}
	}
}
