package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/sqlite"
)

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// build builds duban with go build into the scratch directory, once; $DUBAN_BINARY names a
// binary built already instead (as for the fault suite).
func (e *env) build() (string, error) {
	if bin := os.Getenv("DUBAN_BINARY"); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(e.dir, "duban")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out.String())
	}
	return bin, nil
}

// childEnv is the environment without the variables that beat config.yaml.
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "DUBAN_STORE", "DUBAN_CONFIG":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// memory is a process's resident set from /proc/PID/smaps_rollup, in KiB: all of it and its
// anonymous part (the heap, stacks, the runtime's own); the rest is file-backed (the
// binary's code and read-only data, shared with the page cache and dropped first under
// pressure).
type memory struct{ rss, anon int64 }

func residentMemory(pid int) (memory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	var found int
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "Rss":
			dst = &m.rss
		case "Anonymous":
			dst = &m.anon
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/smaps_rollup: %s: %w", pid, k, err)
		}
		*dst = n
		found++
	}
	if found != 2 {
		return memory{}, fmt.Errorf("no Rss and Anonymous in /proc/%d/smaps_rollup", pid)
	}
	return m, nil
}

// statusKB reads one "Name:   N kB" line of /proc/PID/status.
func statusKB(pid int, name string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", name, pid)
}

// startIdle is how long the start row lets the daemon idle before reading its memory:
// $DUBAN_START_IDLE (a duration), else 2 s. Early on, the heap has not reached the size of
// its first collection's goal yet; a longer idle shows where it settles.
func startIdle() (time.Duration, error) {
	v := os.Getenv("DUBAN_START_IDLE")
	if v == "" {
		return 2 * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("DUBAN_START_IDLE=%q: want a positive duration", v)
	}
	return d, nil
}

// start runs the built binary against the fake runs times: process start to its first
// getUpdates, and its resident memory after idling (2 s, see startIdle). With
// $DUBAN_START_BASELINE naming another build (an older commit's), that one is run as many
// times, alternating with this one so that both see the same machine, and is the baseline.
func (e *env) start(ctx context.Context, runs int) ([]row, []string, error) {
	bin, err := e.build()
	if err != nil {
		return nil, nil, err
	}
	idle, err := startIdle()
	if err != nil {
		return nil, nil, err
	}
	base := os.Getenv("DUBAN_START_BASELINE")
	var ours, theirs startRuns
	for range runs {
		r, err := e.startOnce(ctx, bin, idle)
		if err != nil {
			return nil, nil, err
		}
		ours.add(r)
		if base != "" {
			r, err := e.startOnce(ctx, base, idle)
			if err != nil {
				return nil, nil, fmt.Errorf("baseline %s: %w", base, err)
			}
			theirs.add(r)
		}
	}
	ours.sort()
	theirs.sort()
	med := ours.starts[len(ours.starts)/2]
	r := row{
		what:     fmt.Sprintf("start to first getUpdates; idle RSS after %s (%d runs, shipped-size plan: 37 departments, 50 tasks)", fmtDur(idle), runs),
		duban:    ours.String(),
		baseline: "issue 12's figures: 14–26 ms; 18–21 MB",
		ratio:    "—",
		goal:     "keep: ≤ 26 ms, ≤ 21 MB",
		met:      metIf(med <= 26*time.Millisecond && ours.medianRSS() <= 21),
	}
	if base != "" {
		baseMed := theirs.starts[len(theirs.starts)/2]
		r.baseline = filepath.Base(base) + ", alternating with it: " + theirs.String()
		r.ratio = fmt.Sprintf("%.2f×; %.2f×", med.Seconds()/baseMed.Seconds(), ours.medianRSS()/theirs.medianRSS())
		r.goal = "keep the baseline's"
		r.met = metIf(med.Seconds() <= 1.1*baseMed.Seconds() && ours.medianRSS() <= 1.05*theirs.medianRSS())
	}
	return []row{r}, nil, nil
}

// startRuns are the figures of several starts of one binary.
type startRuns struct {
	starts, getMes []time.Duration
	rss, anon      []int64 // KiB
}

func (s *startRuns) add(r startRun) {
	s.starts, s.getMes = append(s.starts, r.toPoll), append(s.getMes, r.toGetMe)
	s.rss, s.anon = append(s.rss, r.mem.rss), append(s.anon, r.mem.anon)
}

func (s *startRuns) sort() {
	slices.Sort(s.starts)
	slices.Sort(s.getMes)
	slices.Sort(s.rss)
	slices.Sort(s.anon)
}

func (s *startRuns) medianRSS() float64 { return float64(s.rss[len(s.rss)/2]) / 1024 }

func (s *startRuns) String() string {
	mb := func(kib int64) float64 { return float64(kib) / 1024 }
	n := len(s.starts)
	return fmt.Sprintf("%s–%s (median %s; its first request, getMe, at median %s); %.1f–%.1f MB (median %.1f), of it anonymous %.1f–%.1f MB",
		fmtDur(s.starts[0]), fmtDur(s.starts[n-1]), fmtDur(s.starts[n/2]), fmtDur(s.getMes[n/2]),
		mb(s.rss[0]), mb(s.rss[n-1]), s.medianRSS(), mb(s.anon[0]), mb(s.anon[n-1]))
}

func (e *env) startOnce(ctx context.Context, bin string, idle time.Duration) (startRun, error) {
	tb := &runTB{}
	defer tb.close()
	tg := e.fake(tb)
	tg.AddChat(supervisors)
	depts := make([]string, 37)
	for i := range depts {
		depts[i] = deptName(i)
	}
	tasks := make([]taskSpec, 50)
	for i := range tasks {
		tasks[i] = taskSpec{id: i + 1, goal: fmt.Sprintf("任务%d", i+1), depts: []string{depts[i%37], depts[(i+1)%37], depts[(i+2)%37]}, deadline: "2027-06-30"}
	}
	_, _, cfgPath, err := e.writeConfig(tg.URL(), "", supervisors.ID, depts, tasks)
	if err != nil {
		return startRun{}, err
	}
	logf, err := os.Create(filepath.Join(filepath.Dir(cfgPath), "duban.log"))
	if err != nil {
		return startRun{}, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, bin, "run", "-config", cfgPath)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = childEnv(), filepath.Dir(cfgPath), logf, logf
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return startRun{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	// The fake logs a request when it answers it, and a long poll is answered late: the
	// first getUpdates is seen as the first poll waiting, looked for every 0.2 ms.
	var first time.Time
	deadline := began.Add(30 * time.Second)
	for tg.Polling() == 0 {
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(logf.Name())
			return startRun{}, fmt.Errorf("duban run: no getUpdates within 30 s; its log:\n%s", raw)
		}
		time.Sleep(200 * time.Microsecond)
	}
	first = time.Now()
	var getMe time.Duration
	for _, r := range tg.Requests() {
		if r.Method == "getMe" {
			getMe = r.Time.Sub(began)
			break
		}
	}
	// Idle is what is measured: nothing to wait for but the time.
	time.Sleep(idle)
	mem, err := residentMemory(cmd.Process.Pid)
	if err != nil {
		return startRun{}, err
	}
	return startRun{toPoll: first.Sub(began), toGetMe: getMe, mem: mem}, nil
}

// startRun is one start of the binary.
type startRun struct {
	toPoll, toGetMe time.Duration
	mem             memory
}

// export records n updates into an embedded store (10,000 tasks × 3 departments, or fewer
// for a small n) and times `duban export -format json -all` on it against reading the same
// rows raw through the store.
func (e *env) export(ctx context.Context, n int) ([]row, []string, error) {
	bin, err := e.build()
	if err != nil {
		return nil, nil, err
	}
	nTasks := min(10_000, max(n/10, 1))
	depts := []string{deptName(0), deptName(1), deptName(2)}
	tasks := make([]taskSpec, nTasks)
	for i := range tasks {
		tasks[i] = taskSpec{id: i + 1, goal: fmt.Sprintf("目标%d", i+1), depts: depts, deadline: tickAt.AddDate(0, 0, i%730-365).Format(time.DateOnly)}
	}
	_, _, cfgPath, err := e.writeConfig("http://127.0.0.1:1", "", 0, depts, tasks)
	if err != nil {
		return nil, nil, err
	}
	dbDir := filepath.Join(filepath.Dir(cfgPath), "data")
	if err := mkdir(dbDir); err != nil {
		return nil, nil, err
	}
	dbPath := filepath.Join(dbDir, "duban.db")
	st, err := sqlite.Open(ctx, dbPath, "duban:")
	if err != nil {
		return nil, nil, err
	}
	var batch []store.Update
	for k := range n {
		pct := k % 100
		batch = append(batch, store.Update{Task: k%nTasks + 1, Department: depts[(k/nTasks)%3], At: tickAt.Add(time.Duration(k) * time.Second),
			ChatID: -1, MessageID: k + 1, UserID: 7, UserName: "办事员", Text: fmt.Sprintf("进行中 %d%% 第%d次报送", pct, k), Status: store.StatusInProgress,
			Percent: &pct, Source: store.SourceReply})
		if len(batch) == 1000 || k == n-1 {
			if _, _, err := st.Record(ctx, 0, batch); err != nil {
				st.Close()
				return nil, nil, fmt.Errorf("record: %w", err)
			}
			batch = batch[:0]
		}
	}
	st.Close()

	type run struct {
		d     time.Duration
		rssKB int64
		bytes int64
	}
	exportOnce := func() (run, error) {
		cmd := exec.CommandContext(ctx, bin, "export", "-format", "json", "-all", "-config", cfgPath)
		cmd.Env, cmd.Dir = childEnv(), filepath.Dir(cfgPath)
		var cnt countWriter
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &cnt, &stderr
		began := time.Now()
		if err := cmd.Start(); err != nil {
			return run{}, fmt.Errorf("duban export: %w", err)
		}
		// Not the rusage's ru_maxrss: Go starts a child with vfork, and Linux carries the
		// high-water mark of the memory the child shared until exec (this process's, which
		// holds the tick rows' plans) into it. The child's own VmHWM starts afresh at exec.
		done := make(chan struct{})
		peak := make(chan int64, 1)
		go func() {
			var hwm int64
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				if kb, err := statusKB(cmd.Process.Pid, "VmHWM"); err == nil {
					hwm = max(hwm, kb)
				}
				select {
				case <-done:
					peak <- hwm
					return
				case <-t.C:
				}
			}
		}()
		err := cmd.Wait()
		close(done)
		rss := <-peak
		if err != nil {
			return run{}, fmt.Errorf("duban export: %w: %s", err, stderr.String())
		}
		return run{d: time.Since(began), rssKB: rss, bytes: cnt.n}, nil
	}
	rawOnce := func() (time.Duration, int, error) {
		began := time.Now()
		ro, err := sqlite.OpenReadOnly(ctx, dbPath, "duban:")
		if err != nil {
			return 0, 0, err
		}
		defer ro.Close()
		chains, err := ro.Chains(ctx)
		if err != nil {
			return 0, 0, err
		}
		rows := 0
		for _, t := range chains {
			ups, err := ro.Updates(ctx, t)
			if err != nil {
				return 0, 0, err
			}
			rows += len(ups)
		}
		return time.Since(began), rows, nil
	}
	// Three rounds, the two one after the other in each; the best of each.
	var ex run
	var raw time.Duration
	var rows int
	for i := range 3 {
		r, err := exportOnce()
		if err != nil {
			return nil, nil, err
		}
		d, nrows, err := rawOnce()
		if err != nil {
			return nil, nil, err
		}
		rows = nrows
		if i == 0 || r.d < ex.d {
			ex.d, ex.bytes = r.d, r.bytes
		}
		ex.rssKB = max(ex.rssKB, r.rssKB)
		if i == 0 || d < raw {
			raw = d
		}
	}
	var fails []string
	if rows != n {
		fails = append(fails, fmt.Sprintf("export: the store holds %d updates, want %d", rows, n))
	}
	ratio := ex.d.Seconds() / raw.Seconds()
	out := []row{{
		what: fmt.Sprintf("`duban export -format json -all`, %d updates (%d tasks × 3), embedded store", n, nTasks),
		duban: fmt.Sprintf("%s, peak RSS %.0f MB (%.1f KB per update), %.1f MB of JSON", fmtDur(ex.d), float64(ex.rssKB)/1024,
			float64(ex.rssKB)/float64(n), float64(ex.bytes)/1e6),
		baseline: fmt.Sprintf("the same rows read raw through the store, in process: %s", fmtDur(raw)),
		ratio:    fmt.Sprintf("%.2f×", ratio),
		goal:     "keep (issue: 1.07–1.16×); memory flat in updates",
		met:      metIf(ratio <= 1.2),
	}}
	return out, fails, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
