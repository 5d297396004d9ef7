package daemon_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
)

// logBuffer keeps what the daemon logs, for a test to read while it runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the lines logged that contain every one of parts.
func (l *logBuffer) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok && line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) want(tb testing.TB, parts ...string) {
	tb.Helper()
	if len(l.lines(parts...)) == 0 {
		tb.Errorf("log: got no line with %q, want one", parts)
	}
}

func checkBound(tb testing.TB, st daemon.Store, want map[string]int64) {
	tb.Helper()
	bs, err := st.Bindings(context.Background())
	got := map[string]int64{}
	for _, b := range bs {
		got[b.Department] = b.ChatID
	}
	if err != nil || !maps.Equal(got, want) {
		tb.Errorf("bindings: got %v, %v; want %v", got, err, want)
	}
}

// TestBindingReplacementsAreToldAndLogged: a clerk cannot bind a chat that is another
// department's; when an admin does, or config.yaml moves a department, every binding replaced
// is logged (department, old chat, new chat, who) and told to the supervisors and to the chat
// that lost it; config.yaml never takes a chat bound with /bind.
func TestBindingReplacementsAreToldAndLogged(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			c, p := testConfig(t, tg)
			st, _ := be.open(t)
			logs := &logBuffer{}
			r := startRig(t, tg, c, p, st, func(o *daemon.Options) {
				o.Log = slog.New(slog.NewTextHandler(io.MultiWriter(logs, tbWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo}))
			})
			ctx := context.Background()
			r.bindByInvite(t, "市教育局", eduGroup)

			// A clerk's /bind in 市教育局's chat with a code for 市人社局 is refused, and the code
			// still works where it belongs.
			code := r.invite(t, "市人社局")
			tg.Send(eduGroup, clerk, "/bind "+code)
			r.waitText(t, eduGroup.ID, "本群已绑定为「市教育局」。改绑为其他单位须由管理员操作")
			checkBound(t, st, map[string]int64{"市教育局": eduGroup.ID})
			logs.want(t, "bind refused", "department=市教育局", "code_for=市人社局")
			tg.AddBotToGroup(hrGroup, clerk, "")
			tg.Send(hrGroup, clerk, "/bind "+code)
			r.waitText(t, hrGroup.ID, "本群已绑定为「市人社局」")
			checkBound(t, st, map[string]int64{"市教育局": eduGroup.ID, "市人社局": hrGroup.ID})
			if n := r.countText(supGroup.ID, "⚠️"); n != 0 {
				t.Errorf("notices to the supervisors after bindings that replaced nothing: got %d, want 0", n)
			}

			// An admin may bind 市教育局 onto 市人社局's chat: both replacements are told.
			tg.Send(hrGroup, admin, "/bind "+r.invite(t, "市教育局"))
			r.waitText(t, hrGroup.ID, "本群已绑定为「市教育局」")
			checkBound(t, st, map[string]int64{"市教育局": hrGroup.ID})
			r.waitText(t, hrGroup.ID, "本群原绑定「市人社局」，现已改绑为「市教育局」（操作：督查员 (1001)）")
			r.waitText(t, eduGroup.ID, "本群不再是「市教育局」的督办群")
			r.waitText(t, supGroup.ID, "「市教育局」的绑定已更换：群 -1001 → -1002（操作：督查员 (1001)）")
			r.waitText(t, supGroup.ID, "群 -1002 原绑定「市人社局」，现已改绑为「市教育局」")
			logs.want(t, "binding replaced", "department=市教育局", "old_chat=-1001", "new_chat=-1002", `by="督查员 (1001)"`)
			logs.want(t, "binding replaced", "department=市人社局", "old_chat=-1002", "new_chat=0", "taken_by=市教育局")

			// config.yaml naming a chat held by /bind leaves it; naming a free one binds it.
			finGroup := telegramtest.GroupChat(-1003, "市财政局工作群")
			finGroup2 := telegramtest.GroupChat(-1004, "市财政局新群")
			tg.AddChat(finGroup)
			tg.AddChat(finGroup2)
			withChats := func(chats map[string]int64) *config.Config {
				c2 := *c
				c2.Departments = maps.Clone(c.Departments)
				for d, chat := range chats {
					c2.Departments[d] = config.Chat{Chat: chat}
				}
				return &c2
			}
			if err := r.d.Reload(ctx, withChats(map[string]int64{"市人社局": hrGroup.ID, "市财政局": finGroup.ID}), p); err != nil {
				t.Fatalf("reload: %v", err)
			}
			checkBound(t, st, map[string]int64{"市教育局": hrGroup.ID, "市财政局": finGroup.ID})
			r.waitText(t, supGroup.ID, "config.yaml 把群 -1002 给了「市人社局」，但该群已由「市教育局」用 /bind 绑定，未改动")
			logs.want(t, "config.yaml names a chat another department holds", "department=市人社局", "holder=市教育局")

			// A later config.yaml moving 市财政局 is a replacement like any other.
			if err := r.d.Reload(ctx, withChats(map[string]int64{"市财政局": finGroup2.ID}), p); err != nil {
				t.Fatalf("reload: %v", err)
			}
			checkBound(t, st, map[string]int64{"市教育局": hrGroup.ID, "市财政局": finGroup2.ID})
			r.waitText(t, finGroup.ID, "本群不再是「市财政局」的督办群：该单位已改绑到另一个群（操作：config.yaml）")
			r.waitText(t, supGroup.ID, "「市财政局」的绑定已更换：群 -1003 → -1004（操作：config.yaml）")
			logs.want(t, "binding replaced", "department=市财政局", "old_chat=-1003", "new_chat=-1004", "by=config.yaml")

			bs, _ := st.Bindings(ctx)
			for _, b := range bs {
				if b.Department == "市财政局" && (b.BoundBy != 0 || b.Title != "config.yaml") {
					t.Errorf("binding from config.yaml: got %+v, want bound by 0 with title config.yaml", b)
				}
			}
		})
	}
}
