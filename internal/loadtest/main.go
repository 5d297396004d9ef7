// Command loadtest measures issue 12's figures: it runs the real daemon against the
// project's fake Bot API with Telegram's flood limits on (internal/telegramtest), with a real
// Redis and the embedded store, and prints one markdown table of each figure next to a
// baseline measured in the same run.
//
//	go run ./internal/loadtest [-redis URL] [-scale full|smoke] [-only broadcast,replies,tick,start,export] [-cpuprofile FILE]
//	go run ./internal/loadtest -only replies -stores redis -replies 20000 -cpuprofile-replies FILE
//
// The spread replies run -rounds times (3 at the full scale), the bare handler and duban
// alternating; the row gives the round whose ratio is the median, and the range.
//
// The replies rows give the CPU a reply cost, in this process (the daemon, the fake, the load
// generator) and in the Redis server, from the first report queued to the last stored, next
// to the same for the bare handler: the rows share the machine's cores, so that is what
// bounds the rate. -cpuprofile-replies profiles only that window (more -replies: more samples).
//
// Without -redis it starts a redis-server of its own on a free port (no persistence) and
// stops it at the end; with -redis it writes only under a prefix of its own and deletes it.
// The fake runs on a scaled clock (-timescale; one Telegram second lasts that many wall-clock
// seconds): rates and times paced by Telegram's limits are given in Telegram time, latencies
// of recording in wall-clock time. The smoke scale is what CI runs (smoke_test.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"
)

// scale is how big each row's load is.
type scale struct {
	name                string
	timescale           float64
	bcastTimescale      float64 // the broadcast's, if not timescale: Telegram's own clock at full scale
	bcastOne, bcastFive int
	spread, single      replyLoad
	replyRounds         int // the spread load, bare handler and duban alternating: the ratio is their median
	tickTasks           int
	tickStoreTasks      int // whole ticks through the store
	firstTasks          int
	exportUpdates       int
	startRuns           int // a start takes tens of ms and varies 2–3× on a shared machine: a median of many
}

var scales = map[string]scale{
	"full": {name: "full", timescale: 0.25, bcastTimescale: 1, bcastOne: 2000, bcastFive: 200,
		spread: replyLoad{chats: 100, n: 2000}, single: replyLoad{chats: 1, n: 100}, replyRounds: 3,
		tickTasks: 100_000, tickStoreTasks: 5000, firstTasks: 5000, exportUpdates: 100_000, startRuns: 15},
	"smoke": {name: "smoke", timescale: 0.05, bcastOne: 200, bcastFive: 20,
		spread: replyLoad{chats: 20, n: 200}, single: replyLoad{chats: 1, n: 20}, replyRounds: 1,
		tickTasks: 2000, tickStoreTasks: 500, firstTasks: 100, exportUpdates: 2000, startRuns: 1},
}

// allRows are the rows in the table's order.
var allRows = []string{"broadcast", "replies", "tick", "start", "export"}

var allStores = []string{"redis", "sqlite"}

// row is one line of the table.
type row struct {
	what, duban, baseline, ratio, goal, met string
}

// options are the command line's.
type options struct {
	redisURL  string
	scale     scale
	only      []string
	timescale float64
	verbose   bool
	stores    []string // the replies row's stores: redis, sqlite
	// windowProfile is where a CPU profile of the spread replies' recording window goes
	// (from the first report queued to the last stored), "" none.
	windowProfile string
}

func main() {
	var o options
	var scaleName, only, cpuProfile, stores string
	var spreadN, rounds int
	flag.StringVar(&o.redisURL, "redis", "", "Redis URL to use (a prefix of its own, deleted at the end); empty: start a redis-server of its own")
	flag.StringVar(&scaleName, "scale", "full", "full (issue 12's sizes, minutes) or smoke (seconds, what CI runs)")
	flag.StringVar(&only, "only", strings.Join(allRows, ","), "rows to run, comma-separated")
	flag.Float64Var(&o.timescale, "timescale", 0, "wall-clock seconds per Telegram second on the fake (0: the scale's)")
	flag.BoolVar(&o.verbose, "v", false, "log the daemon's warnings to stderr")
	flag.StringVar(&stores, "stores", "redis,sqlite", "the stores the replies row runs on, comma-separated")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (this process: the daemon, the fake, the baselines) to this file")
	flag.StringVar(&o.windowProfile, "cpuprofile-replies", "", "write a CPU profile of only the spread replies' recording window (first queued to last stored; the last store run) to this file")
	flag.IntVar(&spreadN, "replies", 0, "how many replies the spread load queues (0: the scale's; more gives a window profile more samples)")
	flag.IntVar(&rounds, "rounds", 0, "how many times the spread load runs, the bare handler and duban alternating (0: the scale's); the row gives the round of the median ratio")
	flag.Parse()
	if cpuProfile != "" && o.windowProfile != "" {
		fmt.Fprintln(os.Stderr, "loadtest: -cpuprofile and -cpuprofile-replies cannot both be given (one CPU profile at a time)")
		os.Exit(2)
	}
	s, ok := scales[scaleName]
	if !ok {
		fmt.Fprintf(os.Stderr, "loadtest: unknown -scale %q (full or smoke)\n", scaleName)
		os.Exit(2)
	}
	if spreadN > 0 {
		s.spread.n = spreadN
	}
	if rounds > 0 {
		s.replyRounds = rounds
	}
	o.scale = s
	o.only = strings.Split(only, ",")
	for _, r := range o.only {
		if !contains(allRows, r) {
			fmt.Fprintf(os.Stderr, "loadtest: unknown row %q in -only (%s)\n", r, strings.Join(allRows, ","))
			os.Exit(2)
		}
	}
	o.stores = strings.Split(stores, ",")
	for _, st := range o.stores {
		if !contains(allStores, st) {
			fmt.Fprintf(os.Stderr, "loadtest: unknown store %q in -stores (%s)\n", st, strings.Join(allStores, ","))
			os.Exit(2)
		}
	}
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	rows, fails, err := run(context.Background(), o, os.Stderr)
	stopProfile()
	fmt.Print(table(rows))
	for _, f := range fails {
		fmt.Println("FAIL:", f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if len(fails) > 0 {
		os.Exit(1)
	}
}

// startCPUProfile writes a CPU profile to path until the returned func is called; "" is none.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: cpu profile:", err)
		}
	}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run measures the rows o asks for; progress goes to progress. fails are lost, duplicated
// or refused (429) messages and acknowledgements: what the smoke test fails on.
func run(ctx context.Context, o options, progress io.Writer) (rows []row, fails []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = errors.New(f.msg)
		}
	}()
	dir, err := os.MkdirTemp("", "duban-loadtest-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	e := &env{redisURL: o.redisURL, dir: dir, scale: o.scale.timescale, prefixes: new(atomic.Int64), stores: o.stores, windowProfile: o.windowProfile}
	if o.timescale > 0 {
		e.scale = o.timescale
	}
	level := slog.LevelError + 4 // the daemon's logs would drown the table
	if o.verbose {
		level = slog.LevelWarn
	}
	e.log = slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: level}))
	if e.redisURL == "" {
		url, stop, err := startRedis(dir)
		if err != nil {
			return nil, nil, err
		}
		defer stop()
		e.redisURL = url
	}
	s := o.scale
	steps := map[string]func() ([]row, []string, error){
		"broadcast": func() ([]row, []string, error) {
			if s.bcastTimescale > 0 && o.timescale == 0 {
				b := *e
				b.scale = s.bcastTimescale
				fmt.Fprintf(progress, "loadtest: the broadcast runs at time scale %g\n", b.scale)
				return b.broadcast(ctx, s.bcastOne, s.bcastFive)
			}
			return e.broadcast(ctx, s.bcastOne, s.bcastFive)
		},
		"replies": func() ([]row, []string, error) { return e.replies(ctx, s.spread, s.single, s.replyRounds) },
		"tick": func() ([]row, []string, error) {
			r1, f1, err := e.tick(ctx, s.tickTasks, s.tickStoreTasks)
			if err != nil {
				return r1, f1, err
			}
			r2, f2, err := e.firstTick(ctx, s.firstTasks)
			return append(r1, r2...), append(f1, f2...), err
		},
		"start":  func() ([]row, []string, error) { return e.start(ctx, s.startRuns) },
		"export": func() ([]row, []string, error) { return e.export(ctx, s.exportUpdates) },
	}
	for _, name := range allRows {
		if !contains(o.only, name) {
			continue
		}
		began := time.Now()
		fmt.Fprintf(progress, "loadtest: %s (%s scale, time scale %g)...\n", name, s.name, e.scale)
		r, f, err := steps[name]()
		rows, fails = append(rows, r...), append(fails, f...)
		// Each step's rows as soon as they are measured: a run cut short keeps what it had.
		for _, x := range r {
			fmt.Fprintf(progress, "loadtest: | %s | %s | %s | %s | %s | %s |\n", x.what, x.duban, x.baseline, x.ratio, x.goal, x.met)
		}
		if err != nil {
			return rows, fails, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(progress, "loadtest: %s done in %s\n", name, time.Since(began).Round(100*time.Millisecond))
	}
	return rows, fails, nil
}

// table is the rows as one markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| what | duban | baseline (same run) | ratio | goal | |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.what, r.duban, r.baseline, r.ratio, r.goal, r.met)
	}
	return b.String()
}
