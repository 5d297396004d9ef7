package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/redis/redistest"
	"github.com/duban/duban/store/sqlite"
)

// backend is a store as the daemon holds it: what the web view reads and signs in with,
// and what the tests write the record with.
type backend interface {
	Data
	AuthStore
	Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error)
	Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error)
	Confirm(ctx context.Context, sent store.Sent) error
	Bind(ctx context.Context, b store.Binding) error
	Close() error
}

// stores opens a fresh store of each kind; Redis needs REDIS_URL (and fails under CI=true
// without it, as redistest does).
func stores(t *testing.T) []struct {
	name string
	open func(t *testing.T) backend
} {
	out := []struct {
		name string
		open func(t *testing.T) backend
	}{{"sqlite", func(t *testing.T) backend {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "duban.db"), "test:")
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}}}
	if url, ok := redistest.URL(t); ok {
		out = append(out, struct {
			name string
			open func(t *testing.T) backend
		}{"redis", func(t *testing.T) backend {
			s, err := redis.Open(context.Background(), url, redistest.Prefix(t, url))
			if err != nil {
				t.Fatalf("open redis: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}})
	}
	return out
}

// shipped loads the repository's config.yaml and tasks.yaml (50 tasks, 37 departments).
func shipped(t testing.TB, lang string) (*config.Config, *config.Plan) {
	t.Helper()
	c, err := config.LoadConfigEnv("../config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	if lang != "" {
		c.Language = lang
	}
	p, err := config.LoadPlan(c.TasksPath(), c)
	if err != nil {
		t.Fatalf("load plan: %v", err)
	}
	return c, p
}

// clock is the tests' now: 2022-12-27 10:00 in Shanghai, four days before the 2022 tasks'
// deadline, so that the shipped plan shows all three colours: the 2021 tasks red, the 2022
// ones yellow (behind 序时进度) or blue (on time, due within warn_before).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var cst = time.FixedZone("CST", 8*3600)

func newClock() *clock { return &clock{t: time.Date(2022, 12, 27, 10, 0, 0, 0, cst)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	t     *testing.T
	s     backend
	srv   *Server
	h     http.Handler
	clock *clock
	cfg   *config.Config
	plan  *config.Plan
	// blueTask is the 2022 task whose lead reported 95%: the one blue item.
	blueTask int
	blueDept string
}

func newRig(t *testing.T, s backend, publicURL, lang string) *rig {
	t.Helper()
	c, p := shipped(t, lang)
	r := &rig{t: t, s: s, clock: newClock(), cfg: c, plan: p}
	r.srv = New(Options{
		Plan: func() (*config.Config, *config.Plan) { return c, p },
		Data: s, Auth: s, URL: publicURL, Now: r.clock.now,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	r.h = r.srv.Handler()
	for _, task := range p.Tasks {
		if task.DeadlineText == "2022年" && task.Recurrence == "" {
			r.blueTask, r.blueDept = task.ID, task.Responsible[0]
			break
		}
	}
	return r
}

func intp(v int) *int { return &v }

// seed writes a small record: task 16 reported in progress with a file, then corrected to
// done; task 19 blocked at 市财政局; the blue task's lead at 95%; two reminders for task 16.
func (r *rig) seed() {
	r.t.Helper()
	ctx := context.Background()
	at := time.Date(2022, 12, 1, 9, 0, 0, 0, cst)
	up := func(task int, dept, text string, st store.Status, pct *int, at time.Time) store.Update {
		return store.Update{Task: task, Department: dept, At: at, ChatID: -1001, MessageID: 7, UserID: 2001,
			UserName: "王五", Text: text, Status: st, Percent: pct, Source: store.SourceReply}
	}
	first := up(16, "市教育局", "进行中 60% 批复已下达", store.StatusInProgress, intp(60), at)
	first.Attachment = &store.Attachment{Kind: "document", FileID: "BQAC", FileUniqueID: "AgAD", FileName: "用地指标批复.pdf", MimeType: "application/pdf", Size: 48213}
	fix := up(16, "市教育局", "更正：已完成", store.StatusDone, intp(100), at.Add(24*time.Hour))
	fix.Corrects = "16-1"
	blocked := up(19, "市财政局", "遇到困难 资金未到位", store.StatusBlocked, nil, at.Add(48*time.Hour))
	blue := up(r.blueTask, r.blueDept, "进行中 95% 即将完成", store.StatusInProgress, intp(95), at.Add(72*time.Hour))
	for i, u := range []store.Update{first, fix, blocked, blue} {
		if _, _, err := r.s.Record(ctx, int64(100+i), []store.Update{u}); err != nil {
			r.t.Fatalf("record: %v", err)
		}
	}
	for i, key := range []string{"n|16|市教育局|2021-12-31|overdue:1", "e|16|市教育局|2021-12-31|overdue"} {
		sentAt := time.Date(2022, 1, 3, 9, 0, i, 0, cst)
		if ok, err := r.s.Claim(ctx, key, "test", sentAt, time.Minute); err != nil || !ok {
			r.t.Fatalf("claim %s: %v %v", key, ok, err)
		}
		if err := r.s.Confirm(ctx, store.Sent{Keys: []string{key}, Department: "市教育局", Tasks: []int{16}, Stage: "overdue",
			ChatID: -1001, MessageIDs: []int{50 + i}, At: sentAt}); err != nil {
			r.t.Fatalf("confirm %s: %v", key, err)
		}
	}
	if err := r.s.Bind(ctx, store.Binding{Department: "市教育局", ChatID: -1001, Title: "市教育局工作群", BoundAt: at, BoundBy: 1001}); err != nil {
		r.t.Fatalf("bind: %v", err)
	}
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   string
}

// get requests path with the cookie (empty: none) from the address ip.
func (r *rig) request(method, path, cookie, ip string) response {
	r.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = ip + ":5555"
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	}
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, req)
	return response{w.Code, w.Header(), w.Body.String()}
}

func (r *rig) get(path, cookie string) response { return r.request("GET", path, cookie, "192.0.2.1") }

// signIn issues a link for scope, follows it and returns the session cookie's value.
func (r *rig) signIn(scope Scope) string {
	r.t.Helper()
	link, err := r.srv.IssueLink(context.Background(), scope)
	if err != nil {
		r.t.Fatalf("issue link: %v", err)
	}
	path := strings.TrimPrefix(link, "https://duban.example.gov.cn")
	res := r.get(path, "")
	if res.status != http.StatusSeeOther {
		r.t.Fatalf("GET %s: got %d, want 303\n%s", path, res.status, res.body)
	}
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == CookieName {
			return c.Value
		}
	}
	r.t.Fatalf("GET %s: no session cookie in %v", path, res.header)
	return ""
}

// testWriter sends the server's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
