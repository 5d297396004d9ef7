package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duban/duban/internal/telegramtest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunReloadsOnHangup runs `duban run` against the fake Bot API and sends it SIGHUP: a bad
// tasks.yaml is reported and the plan in force kept; a good one is put in force.
func TestRunReloadsOnHangup(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.WithoutLimits())
	dir := t.TempDir()
	raw, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		`api_url: ""`, `api_url: "`+tg.URL()+`"`,
		`listen: "127.0.0.1:8080"`, `listen: "127.0.0.1:0"`,
		`nudge: "0 9 * * 1-5"`, `nudge: "0 0 1 1 *"`,
		`digest: "0 9 * * 1"`, `digest: "0 0 1 1 *"`,
		"admins: []", "admins: [7]", // /status in a private chat is for admins
	).Replace(string(raw))
	cfg := filepath.Join(dir, "config.yaml")
	tasks, _ := os.ReadFile("tasks.yaml")
	for name, data := range map[string][]byte{cfg: []byte(text), filepath.Join(dir, "tasks.yaml"): tasks} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TELEGRAM_BOT_TOKEN", tg.Token())

	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"run", "-config", cfg}, &bytes.Buffer{}, &stderr) }()
	defer func() {
		cancel()
		select {
		case code := <-exited:
			if code != exitOK {
				t.Errorf("duban run: exit %d, want 0 after SIGINT; stderr:\n%s", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("duban run did not stop within 20 s")
		}
	}()
	tg.WaitFor(t, 10*time.Second, "the daemon polling", func() bool { return tg.Polling() > 0 })

	user := telegramtest.NewUser(7, "督查员")
	chat := telegramtest.PrivateChat(user)
	hangup := func(want string) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(stderr.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("after SIGHUP, stderr lacks %q:\n%s", want, stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	bad := strings.Replace(string(tasks), "departments: [市卫健委]", "departments: [市卫生局]", 1)
	if err := os.WriteFile(filepath.Join(dir, "tasks.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	hangup(`reload failed; the plan in force is kept`)
	if !strings.Contains(stderr.String(), `task 6: departments[0]: unknown department \"市卫生局\"`) {
		t.Errorf("the reload error does not name the problem:\n%s", stderr.String())
	}
	tg.Send(chat, user, "/status 6")
	waitSent(t, tg, chat.ID, "市卫健委（牵头）")

	good := string(tasks) + "  - id: 51\n    area: 新增\n    goal: 新增的任务\n    departments: [市教育局]\n    deadline: 2027年\n"
	if err := os.WriteFile(filepath.Join(dir, "tasks.yaml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	hangup("msg=reloaded tasks=51")
	tg.Send(chat, user, "/status 51")
	waitSent(t, tg, chat.ID, "#51 新增的任务")
}

func waitSent(tb testing.TB, tg *telegramtest.Server, chat int64, want string) {
	tb.Helper()
	tg.WaitFor(tb, 10*time.Second, "a message containing "+want, func() bool {
		for _, m := range tg.SentTo(chat) {
			if strings.Contains(m.PlainText, want) {
				return true
			}
		}
		return false
	})
}
