package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/sqlite"
)

// long is DUBAN_LONG=1: the soak.
var long = os.Getenv("DUBAN_LONG") == "1"

// pick is the short mode's figure or the long mode's.
func pick[T any](short, soak T) T {
	if long {
		return soak
	}
	return short
}

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds duban once per test run (go build -o into a temporary directory) and
// returns its path. DUBAN_BINARY names a binary built already instead.
func binary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("DUBAN_BINARY"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "duban-faults-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "duban")
		cmd := exec.Command("go", "build", "-o", buildPath, ".")
		cmd.Dir = ".."
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out.String())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// freePort is a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ---- Redis ----

// redisServer is a redis-server of the test's own, on a free loopback port, persisting every
// write (appendonly, fsync always) so that a kill -9 loses nothing it acknowledged.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
	URL  string

	waitExited chan struct{}
}

// startRedis starts a redis-server; without the binary the test skips, or fails under CI=true.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH and CI=true: the Redis fault tests must run")
		}
		t.Skip("redis-server is not on PATH: the Redis fault tests skip (CI=true would fail)")
	}
	r := &redisServer{t: t, dir: t.TempDir()}
	for attempt := 0; ; attempt++ {
		r.port = freePort(t)
		if err := r.start(); err == nil {
			break
		} else if attempt == 5 {
			t.Fatalf("redis-server: %v", err)
		}
	}
	r.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
	t.Cleanup(r.Kill9)
	return r
}

func (r *redisServer) start() error {
	logPath := filepath.Join(r.dir, "redis.log")
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", fmt.Sprint(r.port),
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", logPath)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			raw, _ := os.ReadFile(logPath)
			return fmt.Errorf("exited at start: %s", lastLines(string(raw), 5))
		default:
		}
		if redisPing(r.port) {
			r.cmd = cmd
			r.waitExited = exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("did not answer PING within 10 s")
}

// redisPing is true when a Redis on port answers PING (with PONG, or LOADING while it reads
// its append-only file: then it is up but not ready).
func redisPing(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Kill9 kills the server with SIGKILL.
func (r *redisServer) Kill9() {
	r.t.Helper()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.waitExited
	r.cmd = nil
}

// Restart starts the server again on the same port and directory: it reads its append-only
// file back.
func (r *redisServer) Restart() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatalf("redis-server restart: %v", err)
	}
}

// ---- the fake Bot API ----

// People and chats of the tests.
var (
	admin    = telegramtest.NewUser(1001, "督查员")
	clerk    = telegramtest.NewUser(2001, "王五")
	supGroup = telegramtest.GroupChat(-500, "督查室")
)

// world is one fake Telegram, the plan, and the department chats, shared by the daemons a
// test runs.
type world struct {
	t     *testing.T
	tg    *telegramtest.Server
	front *telegramtest.Front
	cfg   *config.Config
	plan  *config.Plan
	depts []string         // in config.yaml's order
	chats map[string]int64 // department -> its group's id
	names map[int64]string // and back
	tasks map[string][]int // department -> tasks it is responsible for
}

func newWorld(t *testing.T) *world {
	t.Helper()
	tg := telegramtest.New(t, telegramtest.WithoutLimits())
	tg.AddChat(supGroup)
	c, err := config.LoadConfigEnv("../config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.LoadPlan(c.TasksPath(), c)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, tg: tg, front: tg.NewFront(t), cfg: c, plan: p, depts: c.DepartmentNames,
		chats: map[string]int64{}, names: map[int64]string{}, tasks: map[string][]int{}}
	for i, d := range w.depts {
		id := int64(-3001 - i)
		w.chats[d], w.names[id] = id, d
		tg.AddChat(telegramtest.GroupChat(id, d+"工作群"))
	}
	for _, task := range p.Tasks {
		for _, d := range task.Responsible {
			w.tasks[d] = append(w.tasks[d], task.ID)
		}
	}
	return w
}

func (w *world) chat(dept string) telegramtest.Chat {
	return telegramtest.GroupChat(w.chats[dept], dept+"工作群")
}

// due lists the departments a tick now owes a reminder, by the policy the daemon runs, with
// every department bound and nothing recorded or sent yet.
func (w *world) due() []string {
	st := scheduler.NewState(nil, nil, nil)
	st.SetBound(w.chats)
	dec := scheduler.Decide(w.plan, st, scheduler.SettingsFrom(w.cfg), time.Now())
	var out []string
	for _, n := range dec.Nudges {
		if !slices.Contains(out, n.Department) {
			out = append(out, n.Department)
		}
	}
	slices.Sort(out)
	return out
}

// reportable lists (department, task) pairs to report on, round robin over departments.
func (w *world) reportable() [][2]any {
	var out [][2]any
	for i := 0; ; i++ {
		added := false
		for _, d := range w.depts {
			if ts := w.tasks[d]; i < len(ts) {
				out = append(out, [2]any{d, ts[i]})
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// reply is one report a department's clerk sent, and what came of it.
type reply struct {
	dept    string
	task    int
	chat    int64
	message int // the user's message id in its chat
	text    string
}

// sendReport sends "/report <task> 进行中 <pct>% <note>" from dept's chat.
func (w *world) sendReport(dept string, task, n int) reply {
	text := fmt.Sprintf("/report %d 进行中 %d%% 第%d次报送", task, 10+n%80, n)
	m := w.tg.Send(w.chat(dept), clerk, text)
	return reply{dept: dept, task: task, chat: w.chats[dept], message: m.ID, text: text}
}

// acked is true once the bot answered r (its acknowledgement replies to r's message).
func (w *world) acked(r reply) bool {
	for _, m := range w.tg.SentTo(r.chat) {
		if m.ReplyToMessageID == r.message && strings.Contains(m.PlainText, "已记录") {
			return true
		}
	}
	return false
}

// isNudge tells a reminder from an acknowledgement or another answer.
func isNudge(m telegramtest.Message) bool {
	return m.ReplyToMessageID == 0 && strings.Contains(m.PlainText, "#") && !strings.Contains(m.PlainText, "已记录")
}

// nudgeTally counts reminder messages per department: how many departments got theirs, and
// the duplicates (the same text sent to the same chat more than once).
type nudgeTally struct {
	departments int // departments that got at least one reminder
	messages    int
	duplicates  int
	missing     []string
}

func (w *world) nudges() nudgeTally {
	var t nudgeTally
	for _, d := range w.depts {
		seen := map[string]int{}
		for _, m := range w.tg.SentTo(w.chats[d]) {
			if isNudge(m) {
				seen[m.PlainText]++
				t.messages++
			}
		}
		if len(seen) == 0 {
			t.missing = append(t.missing, d)
			continue
		}
		t.departments++
		for _, n := range seen {
			t.duplicates += n - 1
		}
	}
	return t
}

// ---- the daemon process ----

// setup is how a daemon is configured: the store and the schedules.
type setup struct {
	redisURL string // "" for the embedded store
	prefix   string
	dataDir  string // the embedded store's directory, and where config files go
	// nudge is schedule.nudge; "" picks a daily time six hours ago, so that every start
	// catches that tick up (catch_up 24h) until the ledger says it ran.
	nudge string
}

// writeConfig writes a config.yaml for the world into dir and returns its path.
func (w *world) writeConfig(t *testing.T, s setup, dir string, httpPort int) string {
	t.Helper()
	raw, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	nudge := s.nudge
	if nudge == "" {
		at := time.Now().In(loc).Add(-6 * time.Hour)
		nudge = fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())
	}
	tasks, _ := filepath.Abs("../tasks.yaml")
	storePath := filepath.Join(s.dataDir, "duban.db")
	prefix := s.prefix
	if prefix == "" {
		prefix = "duban:"
	}
	repl := []struct{ re, to string }{
		{`(?m)^tasks: .*$`, "tasks: " + tasks},
		{`(?m)^  admins: .*$`, fmt.Sprintf("  admins: [%d]", admin.ID)},
		{`(?m)^  url: "".*$`, fmt.Sprintf("  url: %q", s.redisURL)},
		{`(?m)^  path: .*$`, fmt.Sprintf("  path: %q", storePath)},
		{`(?m)^  prefix: .*$`, fmt.Sprintf("  prefix: %q", prefix)},
		{`(?m)^  nudge: .*$`, fmt.Sprintf("  nudge: %q", nudge)},
		{`(?m)^  digest: .*$`, `  digest: "0 0 1 1 *"`},
		{`(?m)^  catch_up: .*$`, "  catch_up: 24h"},
		{`(?m)^supervisors: .*$`, fmt.Sprintf("supervisors: { chat: %d }", supGroup.ID)},
		{`(?m)^  listen: .*$`, fmt.Sprintf("  listen: \"127.0.0.1:%d\"", httpPort)},
	}
	for _, r := range repl {
		re := regexp.MustCompile(r.re)
		if !re.MatchString(text) {
			t.Fatalf("config.yaml: no line matches %s", r.re)
		}
		text = re.ReplaceAllLiteralString(text, r.to)
	}
	dept := regexp.MustCompile(`(?m)^  (\S+):(\s+)\{ chat: 0 \}`)
	text = dept.ReplaceAllStringFunc(text, func(line string) string {
		m := dept.FindStringSubmatch(line)
		id, ok := w.chats[m[1]]
		if !ok {
			t.Fatalf("config.yaml: department %s not in the world", m[1])
		}
		return fmt.Sprintf("  %s:%s{ chat: %d }", m[1], m[2], id)
	})
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is one `duban run` process.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	addr   string
	log    *syncBuffer
	exited chan struct{}
}

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

// daemon is a config for `duban run`, started and restarted as processes.
type daemon struct {
	w      *world
	name   string
	config string
	port   int
	runs   []*proc
}

// newDaemon writes a config for s into a directory of its own (its own identity file on
// Redis: another instance) and returns the daemon, not started.
func (w *world) newDaemon(t *testing.T, name string, s setup) *daemon {
	t.Helper()
	dir := t.TempDir()
	if s.dataDir == "" {
		s.dataDir = dir
	}
	port := freePort(t)
	return &daemon{w: w, name: name, config: w.writeConfig(t, s, dir, port), port: port}
}

// start runs the daemon and waits (bounded) for its /healthz to answer.
func (d *daemon) start(t *testing.T) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), "run", "-config", d.config)
	cmd.Env = append(os.Environ(), "TELEGRAM_BOT_TOKEN="+d.w.tg.Token(), "TELEGRAM_API_URL="+d.w.front.URL(),
		"DUBAN_STORE=", "DUBAN_CONFIG=")
	p := &proc{t: t, name: fmt.Sprintf("%s#%d", d.name, len(d.runs)+1), cmd: cmd,
		addr: fmt.Sprintf("127.0.0.1:%d", d.port), log: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	d.runs = append(d.runs, p)
	t.Cleanup(func() {
		p.signal(syscall.SIGCONT)
		p.kill9()
		// Whatever the faults, the log never shows the token (nor its secret half alone).
		token := d.w.tg.Token()
		_, secret, _ := strings.Cut(token, ":")
		if out := p.log.String(); strings.Contains(out, token) || strings.Contains(out, secret) {
			t.Errorf("the log of %s shows the bot token", p.name)
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", p.name, lastLines(p.log.String(), 40))
		}
	})
	p.waitHealthy(t, 20*time.Second)
	return p
}

func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill9 kills the process with SIGKILL and waits for it to be gone.
func (p *proc) kill9() {
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// stop ends the process with SIGTERM, as a service manager does, and waits (bounded).
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill9()
		t.Errorf("%s did not stop within 30 s of SIGTERM", p.name)
	}
}

// waitHealthy polls /healthz until it answers 200, bounded.
func (p *proc) waitHealthy(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.exited:
			t.Fatalf("%s exited at start:\n%s", p.name, lastLines(p.log.String(), 30))
		default:
		}
		resp, err := client.Get("http://" + p.addr + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /healthz did not answer 200 within %v (last: %v)\n%s", p.name, within, err, lastLines(p.log.String(), 30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leading is true once the process logged that it leads.
func (p *proc) leading() bool { return strings.Contains(p.log.String(), "msg=leading") }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---- waiting and checking ----

// waitFor polls cond, bounded: for conditions on processes and stores, which the fake cannot
// wake a waiter for.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// openStore opens what the daemons wrote, once they are stopped.
func openStore(t *testing.T, s setup) storeReader {
	t.Helper()
	ctx := context.Background()
	if s.redisURL != "" {
		prefix := s.prefix
		if prefix == "" {
			prefix = "duban:"
		}
		st, err := redis.Open(ctx, s.redisURL, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	st, err := sqlite.OpenReadOnly(ctx, filepath.Join(s.dataDir, "duban.db"), "duban:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

type storeReader interface {
	Ledger(ctx context.Context) (store.Ledger, error)
	Updates(ctx context.Context, task int) ([]store.Update, error)
	Chains(ctx context.Context) ([]int, error)
}

// tickRan is true once the ledger says a nudge tick ran to its end.
func tickRan(t *testing.T, st storeReader) bool {
	t.Helper()
	ledger, err := st.Ledger(context.Background())
	if err != nil {
		return false
	}
	for _, e := range ledger {
		if strings.HasPrefix(e.Key, "t|nudge|") {
			return true
		}
	}
	return false
}

// recordedAll is true when every reply sent is in the record.
func recordedAll(st storeReader, sent []reply) bool {
	ctx := context.Background()
	byTask := map[int][]store.Update{}
	for _, r := range sent {
		ups, ok := byTask[r.task]
		if !ok {
			var err error
			if ups, err = st.Updates(ctx, r.task); err != nil {
				return false
			}
			byTask[r.task] = ups
		}
		if !slices.ContainsFunc(ups, func(u store.Update) bool { return u.ChatID == r.chat && u.MessageID == r.message }) {
			return false
		}
	}
	return true
}

// recordCheck compares the replies sent with the record: lost are sent but not recorded,
// doubled recorded more than once.
type recordCheck struct {
	sent, recorded, lost, doubled int
}

func checkRecord(t *testing.T, st storeReader, sent []reply) recordCheck {
	t.Helper()
	ctx := context.Background()
	type key struct {
		chat int64
		msg  int
	}
	got := map[key]int{}
	chains, err := st.Chains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range chains {
		ups, err := st.Updates(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range ups {
			got[key{u.ChatID, u.MessageID}]++
		}
	}
	rc := recordCheck{sent: len(sent)}
	var lost []string
	for _, r := range sent {
		switch n := got[key{r.chat, r.message}]; {
		case n == 0:
			rc.lost++
			lost = append(lost, fmt.Sprintf("%s #%d message %d", r.dept, r.task, r.message))
		case n > 1:
			rc.doubled++
			rc.recorded++
		default:
			rc.recorded++
		}
	}
	if rc.lost > 0 {
		slices.Sort(lost)
		t.Errorf("%d of %d replies lost: %s", rc.lost, rc.sent, strings.Join(lost, "; "))
	}
	if rc.doubled > 0 {
		t.Errorf("%d replies recorded more than once", rc.doubled)
	}
	return rc
}

// figure logs a line RELIABILITY.md quotes.
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: "+format, append([]any{t.Name()}, args...)...)
}
