package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

// TestStatusWhoMaySee: /status N shows every department's words only to those who may read
// them. In a private chat only admins get it at all; in a group bound to no department it is
// refused with the reason; a bound department sees its own words and the others' statuses;
// the lead, the supervisors chat and admins see every department's words. On both stores.
func TestStatusWhoMaySee(t *testing.T) {
	stranger := telegramtest.NewUser(3001, "路人")
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg := r.tg
			tg.AddChat(hrGroup)
			// A task 市教育局 shares but does not lead: its lead's words are not its to read.
			var task *config.Task
			for _, tk := range r.plan.Tasks {
				if len(tk.Responsible) > 1 && slices.Contains(tk.Responsible, "市教育局") && !tk.IsLead("市教育局") {
					task = tk
					break
				}
			}
			if task == nil {
				t.Fatal("the shipped plan has no task 市教育局 shares without leading it")
			}
			lead := task.Responsible[0]
			leadWords, ownWords := "牵头单位内部情况说明甲", "本局自己的说明乙"
			for i, u := range []store.Update{
				{Task: task.ID, Department: lead, Text: "进行中 40% " + leadWords, Status: store.StatusInProgress},
				{Task: task.ID, Department: "市教育局", Text: "进行中 20% " + ownWords, Status: store.StatusInProgress},
			} {
				u.At, u.ChatID, u.MessageID, u.UserID, u.UserName, u.Source = time.Now(), eduGroup.ID-int64(i), 900+i, clerk.ID, "王五", store.SourceReply
				if _, _, err := r.store.Record(context.Background(), int64(9000+i), []store.Update{u}); err != nil {
					t.Fatalf("Record: %v", err)
				}
			}
			cmd := fmt.Sprintf("/status %d", task.ID)
			heading := fmt.Sprintf("#%d", task.ID)

			// ask sends /status in chat and waits for the answer that has want in it; it
			// returns every message the command brought.
			ask := func(chat telegramtest.Chat, from telegramtest.User, want string) string {
				t.Helper()
				before := len(tg.SentTo(chat.ID))
				tg.Send(chat, from, cmd)
				r.waitText(t, chat.ID, want)
				var got []string
				for _, m := range tg.SentTo(chat.ID)[before:] {
					got = append(got, m.PlainText)
				}
				return strings.Join(got, "\n")
			}
			strangerChat := telegramtest.PrivateChat(stranger)
			if got := ask(strangerChat, stranger, "只有管理员可以使用这个命令"); strings.Contains(got, leadWords) || strings.Contains(got, ownWords) || strings.Contains(got, lead) {
				t.Errorf("a stranger's private chat: got %q, want only the refusal", got)
			}
			if got := ask(hrGroup, clerk, "本群还没有绑定责任单位"); strings.Contains(got, leadWords) || strings.Contains(got, ownWords) || strings.Contains(got, lead) {
				t.Errorf("an unbound group: got %q, want only the refusal", got)
			}
			if got := ask(eduGroup, clerk, heading); !strings.Contains(got, ownWords) || strings.Contains(got, leadWords) || !strings.Contains(got, lead) {
				t.Errorf("the bound department: got %q, want its own words and the lead's status, not the lead's words", got)
			}
			if got := ask(adminChat, admin, heading); !strings.Contains(got, ownWords) || !strings.Contains(got, leadWords) {
				t.Errorf("an admin's private chat: got %q, want every department's words", got)
			}
			if got := ask(supGroup, clerk, heading); !strings.Contains(got, ownWords) || !strings.Contains(got, leadWords) {
				t.Errorf("the supervisors chat: got %q, want every department's words", got)
			}
		})
	}
}

// realisticToken has the shape of a token @BotFather gives.
const realisticToken = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// syncBuffer collects log lines from the daemon's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsNeverShowTheToken: between the daemon and Telegram a proxy fails sendMessage with
// an error page that echoes the request URL — the token is in it — as some proxies do. The
// daemon retries and logs each failure; no line of its log may show the token. On both stores.
func TestLogsNeverShowTheToken(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t, telegramtest.WithToken(realisticToken))
			upstream, _ := url.Parse(tg.URL())
			proxy := httputil.NewSingleHostReverseProxy(upstream)
			var failing atomic.Bool
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if failing.Load() && strings.HasSuffix(r.URL.Path, "/sendMessage") {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(http.StatusBadGateway)
					fmt.Fprintf(w, "<html><h1>502 Bad Gateway</h1><p>upstream timed out: POST %s (%s)</p></html>", r.URL.Path, url.QueryEscape(r.URL.Path))
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)

			c, p := testConfig(t, tg)
			c.Telegram.APIURL = front.URL
			st, _ := be.open(t)
			logs := &syncBuffer{}
			r := startRig(t, tg, c, p, st, func(o *daemon.Options) {
				o.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			r.bindByInvite(t, "市教育局", eduGroup)

			failing.Store(true)
			tg.Send(eduGroup, clerk, "/report 16 进行中 30%")
			eventually(t, "a logged failure to answer", func() bool { return strings.Contains(logs.String(), "502 Bad Gateway") })
			failing.Store(false)
			if n := len(r.updates(t, 16)); n != 1 {
				t.Errorf("got %d updates, want the report recorded once though its answer failed", n)
			}
			_, secret, _ := strings.Cut(realisticToken, ":")
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, secret[:12]) || strings.Contains(line, url.QueryEscape(realisticToken)) {
					t.Errorf("log line shows the token: %s", line)
				}
			}
		})
	}
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMonitoringOffTheWebhookListener: in webhook mode the webhook's listener is the one the
// world reaches; /healthz and /metrics are served only on http.listen, never on it — also when
// a config built in code gives the webhook no address of its own. On both stores.
func TestMonitoringOffTheWebhookListener(t *testing.T) {
	get := func(t *testing.T, u string) int {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, be := range backends(t) {
		for _, own := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/own listener %v", be.name, own), func(t *testing.T) {
				tg := newFakeTelegram(t, telegramtest.WithWebhookBackoff(10*time.Millisecond))
				c, p := testConfig(t, tg)
				hook, monitoring := freeAddr(t), freeAddr(t)
				c.Telegram.Mode = "webhook"
				c.Telegram.Webhook.URL = "http://" + hook + "/telegram/hook"
				c.Telegram.Webhook.SecretToken = "s3cret-token_1"
				c.HTTP.Listen = monitoring
				if own {
					c.Telegram.Webhook.Listen = hook
				} else { // the webhook on http.listen's address: monitoring must leave it
					c.HTTP.Listen = hook
				}
				st, _ := be.open(t)
				r := startRig(t, tg, c, p, st)
				r.bindByInvite(t, "市教育局", eduGroup) // the webhook works

				for _, path := range []string{"/metrics", "/healthz"} {
					if code := get(t, "http://"+hook+path); code != http.StatusNotFound {
						t.Errorf("GET %s on the webhook's listener: got HTTP %d, want 404", path, code)
					}
				}
				if own {
					for _, path := range []string{"/metrics", "/healthz"} {
						if code := get(t, "http://"+monitoring+path); code != http.StatusOK {
							t.Errorf("GET %s on http.listen: got HTTP %d, want 200", path, code)
						}
					}
				}
			})
		}
	}
}
