package daemon_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
)

// webURL is the tests' web.url; the links the bot gives are followed on the daemon's real
// listener instead.
const webURL = "http://duban.test"

var webLinkRe = regexp.MustCompile(regexp.QuoteMeta(webURL) + `/login\?t=[A-Za-z0-9_-]+`)

// browser is a person's browser: a cookie jar, on the daemon's listener.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, addr string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &browser{t: t, base: "http://" + addr, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// get fetches path (or a link the bot gave, moved onto the listener) and follows redirects.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	path = strings.TrimPrefix(path, webURL)
	res, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("GET %s: read: %v", path, err)
	}
	return res.StatusCode, string(body)
}

func (b *browser) want(path string, status int, contains ...string) string {
	b.t.Helper()
	got, body := b.get(path)
	if got != status {
		b.t.Fatalf("GET %s: got %d, want %d\n%.600s", path, got, status, body)
	}
	for _, s := range contains {
		if !strings.Contains(body, s) {
			b.t.Errorf("GET %s: got a page without %q\n%.600s", path, s, body)
		}
	}
	return body
}

// webLink sends /web in chat as from and returns the link the bot answers with.
func (r *rig) webLink(tb testing.TB, chat telegramtest.Chat, from telegramtest.User) string {
	tb.Helper()
	before := len(r.tg.SentTo(chat.ID))
	r.tg.Send(chat, from, "/web")
	var link string
	r.tg.WaitFor(tb, 10*time.Second, "a /web link in "+itoa(chat.ID), func() bool {
		for _, m := range r.tg.SentTo(chat.ID)[before:] {
			if l := webLinkRe.FindString(m.PlainText); l != "" {
				link = l
				// A tappable link, with the preview off: Telegram fetching a preview would
				// spend the token.
				if esc := strings.ReplaceAll(l, "&", "&amp;"); !strings.Contains(m.Text, `<a href="`+esc+`">`+esc+"</a>") {
					tb.Errorf("/web answer: got %q, want the link as <a href>", m.Text)
				}
				if !m.LinkPreviewDisabled() {
					tb.Errorf("/web answer: got link_preview_options %q, want is_disabled true", m.Params["link_preview_options"])
				}
				if !strings.Contains(m.PlainText, "10 分钟") || !strings.Contains(m.PlainText, "仅可使用一次") || !strings.Contains(m.PlainText, "切勿转发") {
					tb.Errorf("/web answer: got %q, want it to say 10 minutes, single use, not to be forwarded", m.PlainText)
				}
				return true
			}
		}
		return false
	})
	return link
}

// TestWebSignIn: the web view as a supervisor and a department meet it, on both stores. The
// admin's /web link opens the overview, once; a department's group's link opens its own page
// and nothing else; no session, no page; a report recorded in the chat shows on the next
// request; /web logout and /web revoke end sessions.
func TestWebSignIn(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			c, p := testConfig(t, tg)
			c.Web.URL = webURL
			st, _ := be.open(t)
			r := startRig(t, tg, c, p, st)
			r.bindByInvite(t, "市教育局", eduGroup)

			anon := newBrowser(t, r.addr)
			anon.want("/", http.StatusUnauthorized)
			anon.want("/tasks.csv", http.StatusUnauthorized)
			anon.want("/dept/"+url.PathEscape("市教育局"), http.StatusUnauthorized)
			// /healthz and /metrics keep their paths beside the web view.
			anon.want("/healthz", http.StatusOK, `"status":"ok"`)
			anon.want("/metrics", http.StatusOK, "duban_")

			// The admin, in a private chat: everything.
			link := r.webLink(t, adminChat, admin)
			sup := newBrowser(t, r.addr)
			sup.want(link, http.StatusOK, "三色督办", "各重点工作任务进展")
			sup.want("/tasks", http.StatusOK)
			sup.want("/dept/"+url.PathEscape("市人社局"), http.StatusOK)
			// The link is spent: a second browser with it gets the sign-in page.
			newBrowser(t, r.addr).want(link, http.StatusUnauthorized)

			// A report recorded through the Bot API shows on the task page at once.
			tg.Send(eduGroup, clerk, "/report 16 进行中 60% 招生计划已下达网页可见")
			r.waitText(t, eduGroup.ID, "已记录 #16 进行中 60%")
			sup.want("/task/16", http.StatusOK, "招生计划已下达网页可见")
			// The workbook download carries the update too, in 进展记录, for the rows filtered.
			xlsx := sup.want("/tasks.xlsx?q="+url.QueryEscape("招生计划已下达网页可见"), http.StatusOK)
			f, err := excelize.OpenReader(strings.NewReader(xlsx))
			if err != nil {
				t.Fatalf("open the workbook: %v", err)
			}
			defer f.Close()
			rows, err := f.GetRows("进展记录")
			if err != nil || len(rows) != 2 || !strings.Contains(strings.Join(rows[1], "|"), "|16|市教育局|") ||
				!strings.Contains(strings.Join(rows[1], "|"), "招生计划已下达网页可见") {
				t.Errorf("进展记录: got %v (%v), want the header and the update just recorded", rows, err)
			}

			// The department's group: its own page only.
			deptLink := r.webLink(t, eduGroup, clerk)
			dept := newBrowser(t, r.addr)
			dept.want(deptLink, http.StatusOK, "市教育局", "招生计划已下达网页可见")
			dept.want("/", http.StatusForbidden)
			dept.want("/task/16", http.StatusForbidden)
			dept.want("/tasks.csv", http.StatusForbidden)
			dept.want("/dept/"+url.PathEscape("市人社局"), http.StatusForbidden)

			// The supervisors chat: everything.
			supLink := r.webLink(t, supGroup, clerk)
			newBrowser(t, r.addr).want(supLink, http.StatusOK, "三色督办")

			// Nobody else gets a link.
			stranger := telegramtest.NewUser(3001, "路人")
			tg.Send(telegramtest.PrivateChat(stranger), stranger, "/web")
			r.waitText(t, stranger.ID, "只有管理员可以使用这个命令")
			r.waitText(t, stranger.ID, "3001")
			tg.AddBotToGroup(hrGroup, clerk, "")
			tg.Send(hrGroup, clerk, "/web")
			r.waitText(t, hrGroup.ID, "本群未绑定责任单位")
			tg.Send(eduGroup, clerk, "/web revoke 1001")
			r.waitText(t, eduGroup.ID, "只有管理员可以使用这个命令")

			// /web logout ends the admin's own session; the department's stays.
			tg.Send(adminChat, admin, "/web logout")
			r.waitText(t, adminChat.ID, "已退出您的 1 个网页登录")
			sup.want("/", http.StatusUnauthorized)
			dept.want("/dept/"+url.PathEscape("市教育局"), http.StatusOK)

			// An admin's /web revoke ends another's (the clerk asked for the department's link
			// and the supervisors chat's).
			tg.Send(adminChat, admin, "/web revoke 2001")
			r.waitText(t, adminChat.ID, "已注销用户 2001 的 2 个网页登录")
			dept.want("/dept/"+url.PathEscape("市教育局"), http.StatusUnauthorized)
		})
	}
}

// TestWebOwnListener: with web.listen the web view has a listener of its own, and
// http.listen keeps /healthz and /metrics only.
func TestWebOwnListener(t *testing.T) {
	be := backends(t)[0]
	tg := newFakeTelegram(t)
	c, p := testConfig(t, tg)
	c.Web.URL, c.Web.Listen = webURL, "127.0.0.1:0"
	st, _ := be.open(t)
	listening := make(chan string, 4)
	r := startRig(t, tg, c, p, st, func(o *daemon.Options) {
		inner := o.Listening
		o.Listening = func(a string) { listening <- a; inner(a) }
	})
	var addrs []string
	for len(addrs) < 2 {
		select {
		case a := <-listening:
			addrs = append(addrs, a)
		case <-time.After(5 * time.Second):
			t.Fatalf("listeners: got %v, want http.listen's and web.listen's", addrs)
		}
	}
	monitoring, webAddr := newBrowser(t, addrs[0]), newBrowser(t, addrs[1])
	monitoring.want("/healthz", http.StatusOK)
	monitoring.want("/", http.StatusNotFound)
	webAddr.want("/", http.StatusUnauthorized)
	webAddr.want("/healthz", http.StatusUnauthorized)
	link := r.webLink(t, adminChat, admin)
	webAddr.want(link, http.StatusOK, "三色督办")

	// A reload (SIGHUP) puts its config in force in the web view too.
	en := *c
	en.Language = "en"
	if err := r.d.Reload(context.Background(), &en, p); err != nil {
		t.Fatalf("reload: %v", err)
	}
	webAddr.want("/", http.StatusOK, "Three-colour warnings")
}

// TestWebOff: without web.url nothing is served besides /healthz and /metrics, and /web says
// how to turn the web view on.
func TestWebOff(t *testing.T) {
	r := boundRig(t, backends(t)[0])
	newBrowser(t, r.addr).want("/", http.StatusNotFound)
	r.tg.Send(adminChat, admin, "/web")
	r.waitText(t, adminChat.ID, "网页版台账未开启")
	r.waitText(t, adminChat.ID, "web.url")
}

// TestWebOnEveryDaemon: with two daemons on one Redis, the one that does not lead serves the
// web view too, and a link issued through the leader signs in on it; the session then reads
// on either.
func TestWebOnEveryDaemon(t *testing.T) {
	for _, be := range backends(t) {
		if be.name != "redis" {
			continue
		}
		tg := newFakeTelegram(t)
		c, p := testConfig(t, tg)
		c.Web.URL = webURL
		st, reopen := be.open(t)
		lease := func(name string) func(*daemon.Options) {
			return func(o *daemon.Options) {
				o.Instance, o.LeaseTTL, o.LeaseRenew, o.LeaseRetry = name, time.Second, 200*time.Millisecond, 100*time.Millisecond
			}
		}
		a := startRig(t, tg, c, p, st, lease("a"))
		b := startRig(t, tg, c, p, reopen(t), lease("b"))
		eventually(t, "one leader", func() bool { return a.d.Leading() != b.d.Leading() })
		leader, follower := a, b
		if b.d.Leading() {
			leader, follower = b, a
		}
		link := leader.webLink(t, adminChat, admin)
		onFollower := newBrowser(t, follower.addr)
		onFollower.want(link, http.StatusOK, "三色督办")
		onLeader := *onFollower
		onLeader.base = "http://" + leader.addr
		onLeader.want("/tasks", http.StatusOK)
	}
}
