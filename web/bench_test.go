package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/redis/redistest"
	"github.com/duban/duban/store/sqlite"
)

// The benchmarks here go through the HTTP handler only (a signed-in session cookie, as a
// browser sends it) and the store, so that they keep measuring what a person waits for
// whatever the package's insides become. The ratios against `duban export -format json` of
// the same record are in the root package's BenchmarkWebView, which runs both in one round.

// benchStore is a store the web view reads and the benchmark writes the record with.
type benchStore interface {
	Data
	AuthStore
	Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error)
	Close() error
}

// benchStores opens a fresh embedded store and, when REDIS_URL is set, a Redis one.
func benchStores(b *testing.B) []struct {
	name string
	open func(b *testing.B) benchStore
} {
	out := []struct {
		name string
		open func(b *testing.B) benchStore
	}{{"sqlite", func(b *testing.B) benchStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "duban.db"), "test:")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}}}
	if url, ok := redistest.URL(b); ok {
		out = append(out, struct {
			name string
			open func(b *testing.B) benchStore
		}{"redis", func(b *testing.B) benchStore {
			s, err := redis.Open(context.Background(), url, redistest.Prefix(b, url))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}})
	}
	return out
}

var benchDepts = []string{"市教育局", "市人社局", "市财政局"}

// generatedPlan is a plan of n tasks × 3 departments (deadlines spread over two years around
// now), written as tasks.yaml and read as the daemon reads it, in the shape of the root
// package's benchRecord (and the scheduler's benchPlan).
func generatedPlan(b *testing.B, c *config.Config, n int, now time.Time) *config.Plan {
	b.Helper()
	var yaml strings.Builder
	yaml.WriteString("tasks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&yaml, "  - id: %d\n    area: 重点工作第%d项\n    goal: 推进职业教育第%d项任务落实到位\n    metric: 完成率不低于百分之九十\n    departments: [%s]\n    deadline: %s\n",
			i, i%12+1, i, strings.Join(benchDepts, ", "), now.AddDate(0, 0, i%730-365).Format(time.DateOnly))
	}
	path := filepath.Join(b.TempDir(), "tasks.yaml")
	if err := os.WriteFile(path, []byte(yaml.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := config.LoadPlan(path, c)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// recordBench writes updates spread over the plan's task × department pairs into s, as
// benchRecord does: for the shipped plan two per pair, for a generated one `updates` in all.
func recordBench(b *testing.B, s benchStore, p *config.Plan, updates int, now time.Time) {
	b.Helper()
	type pair struct {
		task int
		dept string
	}
	var pairs []pair
	if updates == 0 {
		for _, t := range p.Tasks {
			for _, d := range t.Responsible {
				pairs = append(pairs, pair{t.ID, d}, pair{t.ID, d})
			}
		}
		updates = len(pairs)
	} else {
		for i := range updates {
			pairs = append(pairs, pair{i%len(p.Tasks) + 1, benchDepts[(i/len(p.Tasks))%3]})
		}
	}
	statuses := []store.Status{store.StatusInProgress, store.StatusInProgress, store.StatusBlocked, "", store.StatusDone}
	var batch []store.Update
	for i, pr := range pairs {
		pct := (i * 7) % 101
		u := store.Update{Task: pr.task, Department: pr.dept, At: now.Add(-time.Duration(updates-i) * time.Minute),
			ChatID: -1001, MessageID: i + 1, UserID: 2001, UserName: "王五",
			Text:   fmt.Sprintf("进行中 %d%% 第%d次报送：招生计划已下达，实训基地建设方案已报市政府审定", pct, i),
			Status: statuses[i%len(statuses)], Percent: &pct, Source: store.SourceReply}
		if i%10 == 0 {
			u.Attachment = &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkB", FileUniqueID: "AgADbw8A", FileName: "进展材料.pdf", Size: 48213}
		}
		batch = append(batch, u)
		if len(batch) == 1000 || i == len(pairs)-1 { // one transaction each on the embedded store
			if _, _, err := s.Record(context.Background(), 0, batch); err != nil {
				b.Fatalf("record: %v", err)
			}
			batch = batch[:0]
		}
	}
}

// benchServer is the web view on s with a session that reads everything, signed in by a
// one-time link as a person would.
func benchServer(b *testing.B, c *config.Config, p *config.Plan, s benchStore, now time.Time) (http.Handler, *http.Cookie) {
	b.Helper()
	const public = "https://duban.example.gov.cn"
	srv := New(Options{Plan: func() (*config.Config, *config.Plan) { return c, p }, Data: s, Auth: s, URL: public,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := srv.Handler()
	link, err := srv.IssueLink(context.Background(), Scope{User: 1001})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", strings.TrimPrefix(link, public), nil))
	for _, ck := range w.Result().Cookies() {
		if ck.Name == CookieName {
			return h, ck
		}
	}
	b.Fatalf("sign-in: %d, no session cookie", w.Code)
	return nil, nil
}

// fetch serves one GET and returns the body's size in bytes.
func fetch(b *testing.B, h http.Handler, ck *http.Cookie, path string) int {
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

// BenchmarkPages: GET / (总览) and GET /tasks (任务) with a signed-in session, for the shipped
// plan (two updates per task and department) and a generated 10,000-task × 3 plan with
// 100,000 updates, on each store. "KB" is the page's HTML; the overview of the shipped plan
// also reports "KB+css", the page and its one stylesheet (/static/style.css): everything a
// browser loads for it, as nothing else is linked.
//
//	go test -run '^$' -bench Pages -benchmem -cpu 1 -count 6 ./web
func BenchmarkPages(b *testing.B) {
	c, shippedPlan := shipped(b, "")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, c.Location)
	for _, st := range benchStores(b) {
		for _, size := range []struct {
			name           string
			tasks, updates int
		}{{"shipped", 0, 0}, {"tasks=10000", 10_000, 100_000}} {
			b.Run(st.name+"/"+size.name, func(b *testing.B) {
				p := shippedPlan
				if size.tasks > 0 {
					p = generatedPlan(b, c, size.tasks, now)
				}
				s := st.open(b)
				recordBench(b, s, p, size.updates, now)
				h, ck := benchServer(b, c, p, s, now)
				css := fetch(b, h, nil, "/static/style.css")
				for _, page := range []struct{ name, path string }{{"overview", "/"}, {"tasks", "/tasks"}} {
					b.Run(page.name, func(b *testing.B) {
						var n int
						for b.Loop() {
							n = fetch(b, h, ck, page.path)
						}
						b.ReportMetric(float64(n)/1e3, "KB")
						if size.tasks == 0 && page.name == "overview" {
							b.ReportMetric(float64(n+css)/1e3, "KB+css")
						}
					})
				}
			})
		}
	}
}
