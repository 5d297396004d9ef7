package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
)

const publicURL = "https://duban.example.gov.cn"

// expected counts the shipped plan's items the way a person reading tasks.yaml would: the
// 2021 tasks are past their deadline on the rig's clock, the 2022 ones (and the yearly task,
// whose period is now 2022's) four days from theirs.
type expected struct{ items, red, yellow, blue, done int }

func expect(p *config.Plan) expected {
	var e expected
	for _, t := range p.Tasks {
		n := len(t.Responsible)
		e.items += n
		if t.DeadlineText == "2021年" && t.Recurrence == "" {
			e.red += n
		} else {
			e.yellow += n
		}
	}
	// The seed: #16 (2021, one department) done; the blue task's lead on time at 95%.
	e.red--
	e.done = 1
	e.yellow--
	e.blue = 1
	return e
}

func TestPages(t *testing.T) {
	for _, b := range stores(t) {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b.open(t), publicURL, "")
			r.seed()
			all := r.signIn(Scope{User: 1001})
			want := expect(r.plan)

			t.Run("overview", func(t *testing.T) {
				res := r.get("/", all)
				checkOK(t, res)
				for id, n := range map[string]int{"count-red": want.red, "count-yellow": want.yellow, "count-blue": want.blue, "count-done": want.done} {
					if got := idText(res.body, id); got != strconv.Itoa(n) {
						t.Errorf("overview #%s: got %q, want %d", id, got, n)
					}
				}
				for _, s := range []string{"<svg", "健全完善现代职业教育体系", "各单位逾期事项", "单位沉默排行", "30 天内到期",
					fmt.Sprintf("共 %d 项任务，%d 个事项", len(r.plan.Tasks), want.items), "从未报送", "未绑定群聊"} {
					if !strings.Contains(res.body, s) {
						t.Errorf("overview: %q missing", s)
					}
				}
				// Due in 30 days: every open 2022 item, the blue one among them.
				if got := strings.Count(section(res.body, `id="duesoon"`), "<tr>") - 1; got != want.yellow+want.blue {
					t.Errorf("overview due in 30 days: got %d rows, want %d", got, want.yellow+want.blue)
				}
				// 市财政局 reported on 2022-12-03, 24 days before the clock; departments that
				// never reported rank above it.
				silent := section(res.body, `id="silent"`)
				if !regexp.MustCompile(`市财政局</a>(?: <span[^<]*</span>)?</td><td class="num">24</td>`).MatchString(silent) {
					t.Errorf("silence ranking: 市财政局 24 days not found in\n%s", silent)
				}
				if strings.Index(silent, "从未报送") > strings.Index(silent, "市财政局") {
					t.Errorf("silence ranking: never-reported departments should come before 市财政局")
				}
				// 市教育局's overdue items are its 2021 tasks but #16, which it reported done.
				n := 0
				for _, tk := range r.plan.TasksFor("市教育局") {
					if tk.DeadlineText == "2021年" && tk.Recurrence == "" && tk.ID != 16 {
						n++
					}
				}
				if row := fmt.Sprintf(`市教育局</a></td><td class="num">%d</td>`, n); !strings.Contains(section(res.body, `id="overdue"`), row) {
					t.Errorf("overdue by department: want 市教育局 with %d", n)
				}
				if strings.Contains(section(res.body, `id="overdue"`), `href="/task/16"`) {
					t.Errorf("overdue by department: #16 is done, should not be listed")
				}
			})

			t.Run("tasks", func(t *testing.T) {
				res := r.get("/tasks", all)
				checkOK(t, res)
				if got := idText(res.body, "shown"); got != strconv.Itoa(want.items) {
					t.Errorf("tasks: got %s rows shown, want %d", got, want.items)
				}
				cases := []struct {
					query string
					rows  int
					has   string
				}{
					{"?color=blue", 1, r.blueDept},
					{"?color=red", want.red, "遇到困难 资金未到位"},
					{"?status=blocked", 1, "市财政局"},
					{"?status=done", 1, "更正：已完成"},
					{"?q=" + urlq("资金未到位"), 1, "市财政局"},
					{"?q=" + urlq("王五"), 3, "更正：已完成"}, // who reported
					{"?dept=%E5%B8%82%E8%B4%A2%E6%94%BF%E5%B1%80", len(r.plan.TasksFor("市财政局")), "市财政局"},
					{"?area=" + urlq(r.plan.Tasks[0].Area), countArea(r.plan, r.plan.Tasks[0].Area), r.plan.Tasks[0].Goal},
					{"?dept=%E5%B8%82%E8%B4%A2%E6%94%BF%E5%B1%80&status=blocked&color=red", 1, "#19"},
				}
				for _, c := range cases {
					res := r.get("/tasks"+c.query, all)
					checkOK(t, res)
					if got := idText(res.body, "shown"); got != strconv.Itoa(c.rows) {
						t.Errorf("tasks%s: got %s rows, want %d", c.query, got, c.rows)
					}
					if got := strings.Count(section(res.body, `id="tasks"`), "<tr") - 1; got != c.rows {
						t.Errorf("tasks%s: got %d table rows, want %d", c.query, got, c.rows)
					}
					if !strings.Contains(section(res.body, `id="tasks"`), c.has) {
						t.Errorf("tasks%s: %q missing", c.query, c.has)
					}
				}
				// Sorting: by days left, descending, puts the 2022 tasks first; by colour
				// ascending, red first.
				first := firstTaskLink(r.get("/tasks?sort=days&desc=1", all).body)
				if tk, _ := r.plan.Task(first); tk.DeadlineText == "2021年" && tk.Recurrence == "" {
					t.Errorf("tasks sorted by days left descending: got #%d (2021) first, want a 2022 task", first)
				}
				res = r.get("/tasks?sort=color", all)
				if i := strings.Index(res.body, `<tr class="red">`); i < 0 || strings.Contains(res.body[:i], `<tr class="blue">`) {
					t.Errorf("tasks sorted by colour: want red rows before blue")
				}
				res = r.get("/tasks?sort=color&desc=1", all)
				if i := strings.Index(res.body, `<tr class="red">`); i < 0 || !strings.Contains(res.body[:i], `<tr class="blue">`) {
					t.Errorf("tasks sorted by colour descending: want blue rows before red")
				}
				if !strings.Contains(res.body, `href="/tasks?desc=1&amp;sort=color"`) && !strings.Contains(res.body, `href="/tasks?sort=color"`) {
					t.Errorf("tasks: no sort link for the colour column")
				}
				if strings.Contains(res.body, "dl-xlsx") {
					t.Errorf("tasks: workbook link shown without a workbook hook")
				}
			})

			t.Run("task", func(t *testing.T) {
				res := r.get("/task/16", all)
				checkOK(t, res)
				for _, s := range []string{"促进产教深度融合", "用地指标批复.pdf", "更正", `href="#u-16-1"`, `class="corrected"`,
					"哈希链校验通过", "n|16|", "overdue:1", "escalation", "2022-01-03 09:00", "王五"} {
					if !strings.Contains(res.body, s) && !(s == "n|16|" && strings.Contains(res.body, "nudge 2021-12-31 overdue:1")) {
						t.Errorf("task 16: %q missing", s)
					}
				}
				res = r.get("/task/19", all)
				checkOK(t, res)
				// The lead comes first, whatever the order of the plan.
				tk, _ := r.plan.Task(19)
				lead := tk.Leads[0]
				if i, j := strings.Index(res.body, ">"+lead+"</a>"), strings.Index(res.body, ">市财政局</a>"); i < 0 || j < 0 || (lead != "市财政局" && i > j) {
					t.Errorf("task 19: lead %s at %d, 市财政局 at %d: want the lead first", lead, i, j)
				}
				if got := r.get("/task/999", all).status; got != http.StatusNotFound {
					t.Errorf("task 999: got %d, want 404", got)
				}
				if got := r.get("/task/x", all).status; got != http.StatusNotFound {
					t.Errorf("task x: got %d, want 404", got)
				}
			})

			t.Run("department", func(t *testing.T) {
				res := r.get("/dept/"+urlq("市财政局"), all)
				checkOK(t, res)
				if got, want := idText(res.body, "open"), strconv.Itoa(len(r.plan.TasksFor("市财政局"))); got != want {
					t.Errorf("department 市财政局 open: got %s, want %s", got, want)
				}
				for _, s := range []string{"遇到困难 资金未到位", "未绑定群聊", `href="/task/19"`} {
					if !strings.Contains(res.body, s) {
						t.Errorf("department 市财政局: %q missing", s)
					}
				}
				if got := r.get("/dept/"+urlq("不存在局"), all).status; got != http.StatusNotFound {
					t.Errorf("unknown department: got %d, want 404", got)
				}
			})

			t.Run("progress", func(t *testing.T) {
				res := r.get("/progress", all)
				checkOK(t, res)
				if got := idText(res.body, "done"); got != "1" {
					t.Errorf("progress: got %s done, want 1", got)
				}
				if strings.Count(res.body, "<polyline") != 2 {
					t.Errorf("progress: want 2 lines (done, 序时进度)")
				}
			})

			t.Run("downloads", func(t *testing.T) {
				res := r.get("/tasks.csv?color=red&sort=days", all)
				checkOK(t, res)
				if !strings.HasPrefix(res.body, "\ufeff") {
					t.Errorf("csv: no byte order mark")
				}
				rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
				if err != nil {
					t.Fatalf("csv: %v", err)
				}
				if got := len(rows) - 1; got != want.red {
					t.Errorf("csv of red: got %d rows, want %d", got, want.red)
				}
				if rows[0][0] != "序号" || len(rows[0]) != 11 {
					t.Errorf("csv header: got %v, want export's 11 columns from 序号", rows[0])
				}
				for _, row := range rows[1:] {
					if row[10] != "红色（逾期）" {
						t.Errorf("csv of red: row %v has warning %q", row[:4], row[10])
						break
					}
				}
				if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.HasSuffix(cd, `.csv"`) {
					t.Errorf("csv Content-Disposition: got %q", cd)
				}

				res = r.get("/tasks.json?status=done", all)
				checkOK(t, res)
				var doc struct {
					Tasks []struct {
						ID          int `json:"id"`
						Departments []struct {
							Name    string `json:"name"`
							Status  string `json:"status"`
							Color   string `json:"color"`
							Updates []struct {
								Text     string `json:"text"`
								Corrects string `json:"corrects"`
							} `json:"updates"`
						} `json:"departments"`
					} `json:"tasks"`
				}
				if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
					t.Fatalf("json: %v", err)
				}
				if len(doc.Tasks) != 1 || doc.Tasks[0].ID != 16 || len(doc.Tasks[0].Departments) != 1 ||
					doc.Tasks[0].Departments[0].Status != "done" || doc.Tasks[0].Departments[0].Updates[0].Corrects != "16-1" {
					t.Errorf("json of done: got %+v, want task 16, 市教育局 done, its correction of 16-1", doc)
				}
				if got := r.get("/tasks.xlsx", all).status; got != http.StatusNotFound {
					t.Errorf("xlsx without a hook: got %d, want 404", got)
				}
			})
		})
	}
}

// TestWorkbookHook: the workbook download gets exactly the rows the filter shows.
func TestWorkbookHook(t *testing.T) {
	b := stores(t)[0]
	r := newRig(t, b.open(t), publicURL, "")
	r.seed()
	var got []record.Row
	r.srv.workbook = func(ctx context.Context, w io.Writer, c *config.Config, rows []record.Row) error {
		got = rows
		_, err := io.WriteString(w, "PK-fake")
		return err
	}
	all := r.signIn(Scope{})
	if body := r.get("/tasks?status=blocked", all).body; !strings.Contains(body, `href="/tasks.xlsx?status=blocked"`) {
		t.Errorf("tasks: no workbook link with the filter")
	}
	res := r.get("/tasks.xlsx?status=blocked", all)
	checkOK(t, res)
	if len(got) != 1 || got[0].Task.ID != 19 || got[0].Department != "市财政局" || res.body != "PK-fake" {
		t.Errorf("workbook: got %d rows %v and body %q, want #19 市财政局 and the hook's bytes", len(got), got, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
		t.Errorf("workbook Content-Type: got %q", ct)
	}
}

func TestAccess(t *testing.T) {
	for _, b := range stores(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			r := newRig(t, s, publicURL, "")
			r.seed()
			pages := []string{"/", "/tasks", "/tasks?color=red", "/tasks.csv", "/tasks.json", "/tasks.xlsx", "/task/16",
				"/progress", "/dept/" + urlq("市教育局"), "/nope"}

			t.Run("no session", func(t *testing.T) {
				for _, p := range pages {
					for _, cookie := range []string{"", "forged-cookie"} {
						res := r.get(p, cookie)
						if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "/web") {
							t.Errorf("GET %s cookie %q: got %d, want 401 and the sign-in page saying /web", p, cookie, res.status)
						}
						checkHeaders(t, p, res)
					}
				}
				if res := r.request("POST", "/logout", "", "192.0.2.1"); res.status != http.StatusUnauthorized {
					t.Errorf("POST /logout without a session: got %d, want 401", res.status)
				}
			})

			t.Run("department session", func(t *testing.T) {
				dept := r.signIn(Scope{Department: "市教育局", User: 2001})
				res := r.get("/dept/"+urlq("市教育局"), dept)
				checkOK(t, res)
				if strings.Contains(res.body, `href="/task/`) || strings.Contains(res.body, `href="/"`) {
					t.Errorf("department page for a department session links to pages it cannot read")
				}
				for _, p := range []string{"/", "/tasks", "/tasks.csv", "/tasks.json", "/task/16", "/progress", "/dept/" + urlq("市财政局")} {
					res := r.get(p, dept)
					if res.status != http.StatusForbidden {
						t.Errorf("GET %s with 市教育局's session: got %d, want 403", p, res.status)
					}
					if strings.Contains(res.body, "遇到困难") || strings.Contains(res.body, "count-red") {
						t.Errorf("GET %s with 市教育局's session: the refusal shows data", p)
					}
				}
				if _, err := r.srv.IssueLink(context.Background(), Scope{Department: "不存在局"}); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("link for an unknown department: got %v, want store.ErrInvalid", err)
				}
			})

			t.Run("links", func(t *testing.T) {
				link, err := r.srv.IssueLink(context.Background(), Scope{User: 1001})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(link, publicURL+"/login?t=") || len(link) < len(publicURL)+40 {
					t.Errorf("link: got %q, want %s/login?t=<random>", link, publicURL)
				}
				path := strings.TrimPrefix(link, publicURL)
				res := r.get(path, "")
				if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
					t.Fatalf("first use: got %d to %q, want 303 to /", res.status, res.header.Get("Location"))
				}
				c := (&http.Response{Header: res.header}).Cookies()[0]
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || !c.Secure || c.MaxAge != 12*3600 || c.Path != "/" {
					t.Errorf("cookie: got %+v, want HttpOnly, SameSite=Lax, Secure, 12 h, path /", c)
				}
				if res := r.get(path, ""); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "已使用或已过期") {
					t.Errorf("reused link: got %d, want 401 saying it is used or expired", res.status)
				}

				link, _ = r.srv.IssueLink(context.Background(), Scope{})
				r.clock.advance(LinkTTL)
				if res := r.get(strings.TrimPrefix(link, publicURL), ""); res.status != http.StatusUnauthorized {
					t.Errorf("link after 10 minutes: got %d, want 401", res.status)
				}
				link, _ = r.srv.IssueLink(context.Background(), Scope{})
				r.clock.advance(LinkTTL - time.Second)
				if res := r.get(strings.TrimPrefix(link, publicURL), ""); res.status != http.StatusSeeOther {
					t.Errorf("link just before 10 minutes: got %d, want 303", res.status)
				}

				dept := strings.TrimPrefix(must(r.srv.IssueLink(context.Background(), Scope{Department: "市教育局"})), publicURL)
				if res := r.get(dept, ""); res.header.Get("Location") != "/dept/"+urlq("市教育局") {
					t.Errorf("department link: got redirect to %q, want its own page", res.header.Get("Location"))
				}
			})

			t.Run("plain http", func(t *testing.T) {
				plain := newRig(t, s, "http://10.0.0.5:8080", "")
				link := must(plain.srv.IssueLink(context.Background(), Scope{}))
				res := plain.get(strings.TrimPrefix(link, "http://10.0.0.5:8080"), "")
				if c := (&http.Response{Header: res.header}).Cookies(); len(c) != 1 || c[0].Secure {
					t.Errorf("cookie over http: got %+v, want one, not Secure", c)
				}
			})

			t.Run("rate limit", func(t *testing.T) {
				for range 2 * FailBurst { // the page opened without a token tries nothing
					if res := r.request("GET", "/login", "", "198.51.100.7"); res.status != http.StatusUnauthorized {
						t.Fatalf("GET /login without a token: got %d, want 401", res.status)
					}
				}
				for i := range FailBurst {
					if res := r.request("GET", "/login?t=guess"+strconv.Itoa(i), "", "198.51.100.7"); res.status != http.StatusUnauthorized {
						t.Errorf("bad token %d: got %d, want 401", i, res.status)
					}
				}
				good := strings.TrimPrefix(must(r.srv.IssueLink(context.Background(), Scope{})), publicURL)
				if res := r.request("GET", good, "", "198.51.100.7"); res.status != http.StatusTooManyRequests {
					t.Errorf("good token after %d bad ones from one address: got %d, want 429", FailBurst, res.status)
				}
				if res := r.request("GET", good, "", "198.51.100.8"); res.status != http.StatusSeeOther {
					t.Errorf("good token from another address: got %d, want 303 (the limit is per address, and 429 did not use the token)", res.status)
				}
				r.clock.advance(FailEvery)
				if res := r.request("GET", "/login?t=again", "", "198.51.100.7"); res.status != http.StatusUnauthorized {
					t.Errorf("a bad token a minute later: got %d, want 401 (one attempt back)", res.status)
				}
				if res := r.request("GET", "/login?t=again", "", "198.51.100.7"); res.status != http.StatusTooManyRequests {
					t.Errorf("the next at once: got %d, want 429", res.status)
				}
			})

			t.Run("sessions", func(t *testing.T) {
				a := r.signIn(Scope{User: 1001})
				b := r.signIn(Scope{User: 1001})
				c := r.signIn(Scope{User: 3003})
				// Another daemon on the same store serves the same session (failover).
				other := newRig(t, s, publicURL, "")
				other.clock = r.clock
				other.srv.now = r.clock.now
				checkOK(t, other.get("/", a))

				if res := r.request("POST", "/logout", a, "192.0.2.1"); res.status != http.StatusOK {
					t.Errorf("logout: got %d, want 200", res.status)
				}
				if got := r.get("/", a).status; got != http.StatusUnauthorized {
					t.Errorf("after logout: got %d, want 401", got)
				}
				checkOK(t, r.get("/", b))
				if err := r.srv.RevokeSession(context.Background(), hashOf(b)); err != nil {
					t.Errorf("revoke by id: %v", err)
				}
				if got := r.get("/", b).status; got != http.StatusUnauthorized {
					t.Errorf("after revoking by id: got %d, want 401", got)
				}
				d := r.signIn(Scope{User: 3003})
				if n, err := r.srv.RevokeUser(context.Background(), 3003); err != nil || n != 2 {
					t.Errorf("revoke user 3003: got %d, %v; want 2, nil", n, err)
				}
				for _, cookie := range []string{c, d} {
					if got := r.get("/", cookie).status; got != http.StatusUnauthorized {
						t.Errorf("after revoking the user's sessions: got %d, want 401", got)
					}
				}
				e := r.signIn(Scope{User: 1001})
				r.clock.advance(SessionTTL)
				if got := r.get("/", e).status; got != http.StatusUnauthorized {
					t.Errorf("session after 12 h: got %d, want 401", got)
				}
			})
		})
	}
}

// TestReflectsNewReport: a report recorded is on the next page load.
func TestReflectsNewReport(t *testing.T) {
	r := newRig(t, stores(t)[0].open(t), publicURL, "")
	all := r.signIn(Scope{})
	before := idText(r.get("/", all).body, "count-done")
	u := store.Update{Task: 16, Department: "市教育局", At: r.clock.now(), ChatID: -1, MessageID: 1, UserID: 1, UserName: "李四",
		Text: "已完成", Status: store.StatusDone, Source: store.SourceCommand}
	if _, _, err := r.s.Record(context.Background(), 1, []store.Update{u}); err != nil {
		t.Fatal(err)
	}
	if after := idText(r.get("/", all).body, "count-done"); before != "0" || after != "1" {
		t.Errorf("done count: got %s before and %s after a report, want 0 and 1", before, after)
	}
}

func TestEnglish(t *testing.T) {
	r := newRig(t, stores(t)[0].open(t), publicURL, "en")
	r.seed()
	res := r.get("/", "")
	if !strings.Contains(res.body, "Send /web to the bot") || !strings.Contains(res.body, `lang="en"`) {
		t.Errorf("english sign-in page: got\n%s", res.body)
	}
	all := r.signIn(Scope{})
	for path, s := range map[string]string{"/": "Overdue items by department", "/tasks": "Days left", "/task/16": "correction", "/progress": "Done items"} {
		if body := r.get(path, all).body; !strings.Contains(body, s) {
			t.Errorf("english %s: %q missing", path, s)
		}
	}
}

func TestWordsComplete(t *testing.T) {
	for _, w := range []*words{wordsFor("zh"), wordsFor("en")} {
		v := reflect.ValueOf(*w)
		for i := range v.NumField() {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if (f.Kind() == reflect.String && f.String() == "") || (f.Kind() == reflect.Func && f.IsNil()) {
				t.Errorf("words %s: %s is empty", w.Lang, v.Type().Field(i).Name)
			}
		}
	}
}

// TestPageWeight: the overview of the shipped plan stays light (the goal is under 150 KB).
func TestPageWeight(t *testing.T) {
	r := newRig(t, stores(t)[0].open(t), publicURL, "")
	r.seed()
	all := r.signIn(Scope{})
	css, _ := assets.ReadFile("static/style.css")
	for _, p := range []string{"/", "/tasks", "/progress", "/task/19"} {
		start := time.Now()
		res := r.get(p, all)
		took := time.Since(start)
		t.Logf("%-10s %6.1f KB (+ %.1f KB CSS) in %v", p, float64(len(res.body))/1024, float64(len(css))/1024, took.Round(time.Millisecond))
		if p == "/" && len(res.body)+len(css) > 150*1024 {
			t.Errorf("overview: got %d bytes with its CSS, want under 150 KB", len(res.body)+len(css))
		}
	}
}

func TestLimiterMemoryBounded(t *testing.T) {
	l := newLimiter()
	now := time.Unix(0, 0)
	for i := range maxBuckets + 10 {
		l.fail(fmt.Sprint("ip", i), now)
	}
	if got := len(l.buckets); got > maxBuckets+10 {
		t.Errorf("buckets: got %d", got)
	}
	later := now.Add(FailEvery * FailBurst)
	l.fail("new", later)
	if got := len(l.buckets); got > 2 {
		t.Errorf("buckets after the old ones refilled: got %d, want the full ones dropped", got)
	}
}

// Helpers.

func checkOK(t *testing.T, res response) {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("got %d, want 200\n%.2000s", res.status, res.body)
	}
}

func checkHeaders(t *testing.T, path string, res response) {
	t.Helper()
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if got := res.header.Get(k); got != want {
			t.Errorf("GET %s %s: got %q, want %q", path, k, got, want)
		}
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("GET %s CSP: got %q", path, csp)
	}
	if strings.Contains(res.body, "<script") || strings.Contains(res.body, " style=") {
		t.Errorf("GET %s: inline script or style in the page", path)
	}
}

// idText is the text of the element with id in body.
func idText(body, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// section is body from marker to the end of its table.
func section(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, "</table>"); j >= 0 {
		return rest[:j]
	}
	return rest
}

func firstTaskLink(body string) int {
	m := regexp.MustCompile(`<tbody><tr class="[a-z]*"><td><a href="/task/(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func countArea(p *config.Plan, area string) int {
	n := 0
	for _, t := range p.Tasks {
		if t.Area == area {
			n += len(t.Responsible)
		}
	}
	return n
}

func urlq(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
