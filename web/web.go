// Package web is duban's read-only web view for the supervisors (督查室): the plan on one
// screen in three colours (总览), every task × department (任务) with filters and downloads,
// a task's whole record (任务详情), one department's page (单位) and the progress curve
// (进度曲线). Pages are rendered on the server with html/template, charts are SVG drawn here,
// and the one stylesheet is embedded: nothing loads from outside, no script runs.
//
// Nobody gets in by default. Sign-in is a one-time link the bot hands out (/web): IssueLink
// makes it, /login redeems it for a session cookie. A session reads everything, or one
// department's own page only (Scope). Tokens and sessions live in the store (AuthStore), so
// that any daemon serves any session. Every page reads the store afresh: it shows a report as
// soon as it is recorded.
package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
)

// Data is what the web view reads of the progress store; store/sqlite and store/redis
// provide it (the bot's and export's reads, plus Head for checking one task's chain).
type Data interface {
	Latest(ctx context.Context) ([]store.State, error)
	Updates(ctx context.Context, task int) ([]store.Update, error)
	Head(ctx context.Context, task int) (hash string, count int64, err error)
	Ledger(ctx context.Context) (store.Ledger, error)
	Snoozes(ctx context.Context) (map[string]time.Time, error)
	Bindings(ctx context.Context) ([]store.Binding, error)
}

// WorkbookFunc writes the xlsx workbook of rows (package workbook); the download of the 任务
// list calls it with exactly the rows the filter shows.
type WorkbookFunc func(ctx context.Context, w io.Writer, c *config.Config, rows []record.Row) error

// Options are a Server's parts.
type Options struct {
	// Plan returns the config and plan in force; they change on a reload (SIGHUP).
	Plan func() (*config.Config, *config.Plan)
	Data Data
	Auth AuthStore
	// URL is the public address people open (web.url), for sign-in links; an https URL makes
	// the session cookie Secure.
	URL string
	Now func() time.Time
	Log *slog.Logger
	// Workbook, if set, serves /tasks.xlsx; nil: no workbook download is offered.
	Workbook WorkbookFunc
}

// Server serves the web view. Safe for concurrent use.
type Server struct {
	plan     func() (*config.Config, *config.Plan)
	data     Data
	auth     AuthStore
	url      string
	secure   bool
	now      func() time.Time
	log      *slog.Logger
	workbook WorkbookFunc
	limit    *limiter
	pages    *template.Template
	mux      *http.ServeMux
}

//go:embed templates/*.html static/*
var assets embed.FS

// pageTemplates are parsed when the first Server is made, not at package init: a daemon with
// the web view off (the default) does not pay for them at every start (3 ms of 14).
var pageTemplates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html"))
})

// New returns a Server.
func New(o Options) *Server {
	s := &Server{
		plan: o.Plan, data: o.Data, auth: o.Auth, url: o.URL, now: o.Now, log: o.Log,
		workbook: o.Workbook, limit: newLimiter(), pages: pageTemplates(),
	}
	if u, err := url.Parse(o.URL); err == nil && u.Scheme == "https" {
		s.secure = true
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /static/style.css", serveCSS)
	mux.Handle("POST /logout", s.signedIn(s.logout))
	mux.Handle("GET /{$}", s.allOnly(s.overview))
	mux.Handle("GET /tasks", s.allOnly(s.tasks))
	mux.Handle("GET /tasks.csv", s.allOnly(s.downloadCSV))
	mux.Handle("GET /tasks.json", s.allOnly(s.downloadJSON))
	mux.Handle("GET /tasks.xlsx", s.allOnly(s.downloadXLSX))
	mux.Handle("GET /task/{id}", s.allOnly(s.task))
	mux.Handle("GET /progress", s.allOnly(s.progress))
	mux.Handle("GET /dept/{name}", s.signedIn(s.department))
	mux.Handle("/", s.signedIn(func(w http.ResponseWriter, r *http.Request, sess session) {
		s.render(w, r, http.StatusNotFound, "message", page{Title: s.words().NotFound, Session: &sess, Data: s.words().NotFound})
	}))
	s.mux = mux
	return s
}

// Handler is the web view with its security headers, for the daemon to serve on web.listen.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// No script at all, nothing from elsewhere; SVG presentation attributes need no
		// inline style.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		s.mux.ServeHTTP(w, r)
	})
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("static/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(b)
}

func (s *Server) words() *words {
	c, _ := s.plan()
	return wordsFor(c.Language)
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, sess session)

// signedIn refuses a request without a live session: 401 and the sign-in page.
func (s *Server) signedIn(h sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok, err := s.sessionOf(r)
		if err != nil {
			s.fail(w, r, fmt.Errorf("read web session: %w", err))
			return
		}
		if !ok {
			s.loginPage(w, r, http.StatusUnauthorized, "")
			return
		}
		h(w, r, sess)
	})
}

// allOnly is signedIn for the pages only an all-scope session reads: a department's session
// gets 403 and a link to its own page.
func (s *Server) allOnly(h sessionHandler) http.Handler {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, sess session) {
		if !sess.All() {
			s.forbidden(w, r, sess)
			return
		}
		h(w, r, sess)
	})
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, sess session) {
	wd := s.words()
	s.render(w, r, http.StatusForbidden, "forbidden", page{Title: wd.Forbidden, Session: &sess, Data: s.home(sess.Scope)})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, problem string) {
	wd := s.words()
	s.render(w, r, status, "login", page{Title: wd.LoginTitle, Data: problem})
}

// fail answers 500 and logs the error; the page says nothing of it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web: request failed", "path", r.URL.Path, "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// page is what every template gets.
type page struct {
	W       *words
	Title   string
	Nav     string // which tab is current
	Session *session
	Now     time.Time
	Loc     *time.Location
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	c, _ := s.plan()
	p.W, p.Now, p.Loc = wordsFor(c.Language), s.now(), c.Location
	var b strings.Builder
	if err := s.pages.ExecuteTemplate(&b, name, p); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

func deptURL(name string) string { return "/dept/" + url.PathEscape(name) }

func taskURL(id int) string { return "/task/" + strconv.Itoa(id) }

var funcs = template.FuncMap{
	"deptURL": deptURL,
	"taskURL": taskURL,
	"pct": func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	},
	"date": func(t time.Time, loc *time.Location) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.DateOnly)
	},
	"when": func(t time.Time, loc *time.Location) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	},
	"status": func(w *words, st store.Status) string {
		if st == "" {
			return ""
		}
		return w.texts.StatusName(st)
	},
	"attachment": func(w *words, a *store.Attachment) string { return w.texts.AttachmentName(a) },
	"bar":        countBar,
	"hist":       func(p page, h deptHistory) histView { return histView{W: p.W, Loc: p.Loc, deptHistory: h} },
	"short": func(h string) string {
		if len(h) > 12 {
			return h[:12]
		}
		return h
	},
}
