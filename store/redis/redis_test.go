package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

var _ storetest.Backend = (*Store)(nil)

// redisURL returns $REDIS_URL, skipping the test without it — except
// under CI, where a missing Redis must fail rather than pass unnoticed.
func redisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("REDIS_URL is not set and CI=true")
		}
		tb.Skip("REDIS_URL is not set")
	}
	return url
}

// opener opens stores on the Redis at url and deletes their keys when the
// test ends.
func opener(url string) storetest.Opener {
	return func(tb testing.TB, prefix string) storetest.Backend {
		tb.Helper()
		s, err := Open(context.Background(), url, prefix)
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() {
			s.Close()
			deleteKeys(tb, url, prefix)
		})
		return s
	}
}

// deleteKeys removes every key under prefix. SCAN is fine here: this is
// test cleanup, not a hot path.
func deleteKeys(tb testing.TB, url, prefix string) {
	tb.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	client := goredis.NewClient(opts)
	defer client.Close()
	ctx := context.Background()
	iter := client.Scan(ctx, 0, KeyPattern(prefix), 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scan keys of %s: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			tb.Errorf("delete keys of %s: %v", prefix, err)
		}
	}
}

// tamper edits the raw streams with plain Redis commands.
type tamper struct{}

// Rewrite rebuilds the task's stream with one entry edited: a stream entry
// cannot be changed in place, and XADD refuses an ID below the last.
func (tamper) Rewrite(tb testing.TB, b storetest.Backend, task int, seq int64, edit func(*store.Update)) {
	tb.Helper()
	s := b.(*Store)
	ctx := context.Background()
	key := s.chainKey(task)
	msgs, err := s.client.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		tb.Fatal(err)
	}
	found := false
	_, err = s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, key)
		for _, msg := range msgs {
			u, err := decodeStream(msg)
			if err != nil {
				return err
			}
			if u.Seq == seq {
				edit(&u)
				found = true
			}
			values, err := streamValues(u)
			if err != nil {
				return err
			}
			p.XAdd(ctx, &goredis.XAddArgs{Stream: key, ID: msg.ID, Values: values})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if !found {
		tb.Fatalf("rewrite: task %d has no update %d", task, seq)
	}
}

func (tamper) Delete(tb testing.TB, b storetest.Backend, task int, seq int64) {
	tb.Helper()
	s := b.(*Store)
	n, err := s.client.XDel(context.Background(), s.chainKey(task), streamID(seq)).Result()
	if err != nil || n != 1 {
		tb.Fatalf("xdel: got %d deleted, %v; want 1", n, err)
	}
}

func (tamper) Insert(tb testing.TB, b storetest.Backend, u store.Update) {
	tb.Helper()
	s := b.(*Store)
	values, err := streamValues(u)
	if err != nil {
		tb.Fatal(err)
	}
	err = s.client.XAdd(context.Background(), &goredis.XAddArgs{
		Stream: s.chainKey(u.Task), ID: streamID(u.Seq), Values: values,
	}).Err()
	if err != nil {
		tb.Fatalf("xadd: %v", err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(redisURL(t)), storetest.WithTamper(tamper{}))
}

// server is a throwaway redis-server of the test's own, for crashing.
type server struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func newServer(tb testing.TB) *server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("redis-server is not installed and CI=true")
		}
		tb.Skip("redis-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := &server{bin: bin, dir: tb.TempDir(), port: port}
	srv.start(tb)
	tb.Cleanup(func() { srv.kill() })
	return srv
}

func (srv *server) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", srv.port) }

// start runs redis-server on the same port and directory as before and
// returns once it logs that it accepts connections, after loading its AOF.
func (srv *server) start(tb testing.TB) {
	tb.Helper()
	cmd := exec.Command(srv.bin,
		"--port", strconv.Itoa(srv.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--dir", srv.dir, "--daemonize", "no", "--loglevel", "notice")
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	srv.cmd = cmd
	ready := make(chan error, 1)
	go func() {
		lines := bufio.NewScanner(out)
		var log []string
		for lines.Scan() {
			log = append(log, lines.Text())
			if strings.Contains(lines.Text(), "Ready to accept connections") {
				ready <- nil
				io.Copy(io.Discard, out) // keep the pipe drained
				return
			}
		}
		ready <- fmt.Errorf("redis-server exited before it was ready:\n%s", strings.Join(log, "\n"))
	}()
	select {
	case err := <-ready:
		if err != nil {
			tb.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		tb.Fatal("redis-server did not become ready within 30s")
	}
}

// kill crashes the server: SIGKILL, no chance to flush or save.
func (srv *server) kill() {
	if srv.cmd == nil {
		return
	}
	srv.cmd.Process.Kill()
	srv.cmd.Wait()
	srv.cmd = nil
}

// TestRestart runs the suite on a server of its own, including the case in
// which the server crashes and comes back under the same Store.
func TestRestart(t *testing.T) {
	srv := newServer(t)
	storetest.Run(t, opener(srv.url()),
		storetest.WithTamper(tamper{}),
		storetest.WithOutage(func(testing.TB) { srv.kill() }, srv.start))
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, url string
		want      string
	}{
		{"bad scheme", "http://127.0.0.1:6379/0", "invalid URL scheme"},
		{"unparsable", "redis://user:s3cret@[::1/0", "missing ']'"},
		{"nothing listening", "redis://user:s3cret@127.0.0.1:1/0", "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.url, "duban")
			if err == nil {
				s.Close()
				t.Fatalf("open %s: got nil error, want one", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("got error %q, want it without the password", err)
			}
		})
	}
	if _, err := Open(ctx, "redis://127.0.0.1:6379/0", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("open with an empty prefix: got %v, want store.ErrInvalid", err)
	}
}

// Every key a store writes must lie under its prefix, so that bots sharing
// a Redis never touch each other's data. Checked on a server of the test's
// own, where every key in the database is the store's.
func TestEveryKeyIsUnderThePrefix(t *testing.T) {
	srv := newServer(t)
	prefix := storetest.NewPrefix(t, "keys")
	s := opener(srv.url())(t, prefix).(*Store)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	steps := []error{
		func() error {
			_, _, err := s.Record(ctx, 1, []store.Update{{Task: 1, Department: "市教育局", Source: store.SourceReply}})
			return err
		}(),
		func() error { _, err := s.Claim(ctx, "held", "a", at, time.Minute); return err }(),
		s.Confirm(ctx, store.Sent{Keys: []string{"sent"}, ChatID: 5, MessageIDs: []int{6}, At: at}),
		s.Bind(ctx, store.Binding{Department: "市教育局", ChatID: 5}),
		s.CreateCode(ctx, "CODE", "市教育局", at),
		s.Snooze(ctx, 1, "市教育局", at),
		s.SetOffset(ctx, 9),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	keys, err := s.client.Keys(ctx, "*").Result() // a test's own server: KEYS is fine
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	base := "{" + prefix + "}:"
	want := []string{
		base + "bindings", base + "chain:1", base + "chains", base + "chats", base + "claims",
		base + "code:CODE", base + "head:1", base + "latest", base + "latest-for:市教育局",
		base + "ledger", base + "messages", base + "offset", base + "seen:1", base + "sent", base + "snoozes",
		base + "records", base + "records:seq",
	}
	sort.Strings(want)
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("got keys\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
}

func openBench(b *testing.B) *Store {
	b.Helper()
	return opener(redisURL(b))(b, storetest.NewPrefix(b, "bench")).(*Store)
}

func BenchmarkRecord(b *testing.B) { storetest.BenchRecord(b, openBench(b)) }

func BenchmarkLatest(b *testing.B) { storetest.BenchLatest(b, openBench(b)) }

// BenchmarkLedger is Ledger of a 100,000-task plan's steady ledger (about 450,000 keys).
func BenchmarkLedger(b *testing.B) { storetest.BenchLedger(b, openBench(b), 450_000) }

// BenchmarkBaselineSetGet is one plain SET then GET on the same Redis, the
// floor that Record and Latest compare against.
func BenchmarkBaselineSetGet(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	key := s.base + "baseline"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.client.Set(ctx, key, "进展", 0).Err(); err != nil {
			b.Fatal(err)
		}
		if err := s.client.Get(ctx, key).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLedgerEitherProtocol: the ledger reads the same over RESP2 (Open's client, HGETALL as a
// flat list) and over RESP3 (a caller's default client, HGETALL as a map).
func TestLedgerEitherProtocol(t *testing.T) {
	url := redisURL(t)
	resp2 := opener(url)(t, storetest.NewPrefix(t, "resp")).(*Store)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 123, time.UTC)
	sent := store.Sent{Department: "市教育局", Stage: "before:7d", ChatID: -100, MessageIDs: []int{1}, At: at}
	for i := range 300 {
		sent.Keys = append(sent.Keys, fmt.Sprintf("n|%d|市教育局|2027-06-30|before:7d", i+1))
	}
	if err := resp2.Confirm(ctx, sent); err != nil {
		t.Fatal(err)
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts) // go-redis's default: RESP3
	defer client.Close()
	resp3 := New(client, strings.TrimSuffix(strings.TrimPrefix(resp2.base, "{"), "}:"))
	if !resp2.resp2 || resp3.resp2 {
		t.Fatalf("got resp2 %v for Open's client and %v for a default one, want true and false", resp2.resp2, resp3.resp2)
	}
	flat, err := resp2.Ledger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fromMap, err := resp3.Ledger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := func(a, b store.LedgerEntry) int { return strings.Compare(a.Key, b.Key) }
	slices.SortFunc(flat, byKey)
	slices.SortFunc(fromMap, byKey)
	if len(flat) != 300 || !slices.Equal(flat, fromMap) {
		t.Errorf("got %d keys over RESP2 and %d over RESP3, want the same 300", len(flat), len(fromMap))
	}
	for _, e := range flat {
		if !e.At.Equal(at) {
			t.Fatalf("%s: got sent at %v, want %v", e.Key, e.At, at)
		}
	}
}
