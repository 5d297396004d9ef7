package redis

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

// pipelineCounter counts the pipelines a client sends (but a new connection's set-up) and
// runs beforeEval once, before the first pipeline that holds an EVALSHA (Record's script).
type pipelineCounter struct {
	pipelines  atomic.Int64
	once       sync.Once
	beforeEval func()
}

func (c *pipelineCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *pipelineCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return next
}
func (c *pipelineCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if name := cmds[0].Name(); name != "hello" && name != "client" { // not a new connection's set-up
			c.pipelines.Add(1)
		}
		for _, cmd := range cmds {
			if cmd.Name() == "evalsha" && c.beforeEval != nil {
				c.once.Do(c.beforeEval)
				break
			}
		}
		return next(ctx, cmds)
	}
}

func testUpdate(task int, department, text string) store.Update {
	return store.Update{Task: task, Department: department, At: time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC),
		ChatID: -1001, MessageID: 1, UserID: 42, UserName: "张三", Text: text, Source: store.SourceReply}
}

// TestPipeSharesRoundTrips: the outbox writes of 100 lanes that wait at the same moment go
// out in one pipeline.
func TestPipeSharesRoundTrips(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "pipe"))
	counter := &pipelineCounter{}
	s.client.AddHook(counter)
	p := s.pipe
	p.turn <- struct{}{} // as if a pipeline were in flight
	const lanes = 100
	errs := make(chan error, lanes)
	for i := range lanes {
		go func() {
			errs <- s.PutAnswer(context.Background(), store.Answer{ChatID: -1001, Update: int64(i + 1), Text: "已记录"})
		}()
	}
	for queued := 0; queued < lanes; runtime.Gosched() {
		p.mu.Lock()
		queued = len(p.queue)
		p.mu.Unlock()
	}
	<-p.turn
	for range lanes {
		if err := <-errs; err != nil {
			t.Fatalf("put answer: %v", err)
		}
	}
	if got := counter.pipelines.Load(); got != 1 {
		t.Errorf("pipelines: got %d, want 1", got)
	}
	answers, err := s.Answers(context.Background())
	if err != nil || len(answers) != lanes {
		t.Errorf("answers: got %d, %v; want %d", len(answers), err, lanes)
	}
}

// TestRecordRaces: whatever another writer does between Record's read (or its cached
// head) and its script, the script writes nothing and Record computes afresh.
func TestRecordRaces(t *testing.T) {
	url := redisURL(t)
	const edu = "市教育局"
	tests := []struct {
		name string
		// between runs on the other Store, of the same prefix and another client.
		between func(t *testing.T, other *Store)
		tg      int64
		// wantSeq is the seq Record's update gets; wantFresh false: the other's was returned.
		wantSeq   int64
		wantFresh bool
		wantState func(t *testing.T, st store.State)
	}{
		{
			name: "another record on the task",
			between: func(t *testing.T, other *Store) {
				if _, _, err := other.Record(context.Background(), 0, []store.Update{testUpdate(1, "市财政局", "另一个部门")}); err != nil {
					t.Fatal(err)
				}
			},
			wantSeq: 3, wantFresh: true,
		},
		{
			name: "an entry added behind the store's back",
			between: func(t *testing.T, other *Store) {
				u := testUpdate(1, edu, "手工加入")
				u.Seq, u.ID = 2, "1-2"
				values, err := streamValues(u)
				if err != nil {
					t.Fatal(err)
				}
				if err := other.client.XAdd(context.Background(), &goredis.XAddArgs{Stream: other.chainKey(1), ID: streamID(2), Values: values}).Err(); err != nil {
					t.Fatal(err)
				}
			},
			wantSeq: 3, wantFresh: true,
		},
		{
			name: "the same telegram update recorded",
			between: func(t *testing.T, other *Store) {
				if _, _, err := other.Record(context.Background(), 900, []store.Update{testUpdate(1, edu, "先到")}); err != nil {
					t.Fatal(err)
				}
			},
			tg: 900, wantSeq: 2, wantFresh: false,
		},
		{
			name: "the state edited by hand",
			between: func(t *testing.T, other *Store) {
				text, err := other.client.HGet(context.Background(), other.latestKey(), store.SnoozeKey(1, edu)).Result()
				if err != nil {
					t.Fatal(err)
				}
				text = strings.Replace(text, `"updates":1`, `"updates":7`, 1)
				if err := other.client.HSet(context.Background(), other.latestKey(), store.SnoozeKey(1, edu), text).Err(); err != nil {
					t.Fatal(err)
				}
			},
			wantSeq: 2, wantFresh: true,
			// As without a race: the next state is derived from what latest holds.
			wantState: func(t *testing.T, st store.State) {
				if st.Updates != 8 {
					t.Errorf("state: got %d updates, want 8 (derived from the edited 7)", st.Updates)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, warm := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/cached %v", tt.name, warm), func(t *testing.T) {
				prefix := storetest.NewPrefix(t, "race")
				first := openLease(t, prefix)
				if _, _, err := first.Record(context.Background(), 0, []store.Update{testUpdate(1, edu, "第一条")}); err != nil {
					t.Fatal(err)
				}
				s := first
				if !warm { // a Store that has read nothing yet
					var err error
					if s, err = Open(context.Background(), url, prefix); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
				}
				other, err := Open(context.Background(), url, prefix)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { other.Close() })
				s.client.AddHook(&pipelineCounter{beforeEval: func() { tt.between(t, other) }})

				got, fresh, err := s.Record(context.Background(), tt.tg, []store.Update{testUpdate(1, edu, "第二条")})
				if err != nil {
					t.Fatalf("record: %v", err)
				}
				if fresh != tt.wantFresh || len(got) != 1 || got[0].Seq != tt.wantSeq {
					t.Fatalf("record: got %d updates (first seq %v), fresh %v; want seq %d, fresh %v",
						len(got), seqs(got), fresh, tt.wantSeq, tt.wantFresh)
				}
				head, n, err := s.Head(context.Background(), 1)
				if err != nil || n != tt.wantSeq || head != got[0].Hash {
					t.Errorf("head: got %d, %q, %v; want %d, the update's hash", n, head, err, tt.wantSeq)
				}
				ups, err := s.Updates(context.Background(), 1)
				if err != nil || int64(len(ups)) != tt.wantSeq {
					t.Errorf("updates: got %d, %v; want %d", len(ups), err, tt.wantSeq)
				}
				if tt.wantState != nil {
					states, err := s.LatestFor(context.Background(), edu)
					if err != nil || len(states) != 1 {
						t.Fatalf("latest for: got %v, %v", states, err)
					}
					tt.wantState(t, states[0])
				}
			})
		}
	}
}

func seqs(ups []store.Update) []int64 {
	out := make([]int64, len(ups))
	for i, u := range ups {
		out[i] = u.Seq
	}
	return out
}

// TestRecordScriptFails: a script that fails (here: a chain key that is not a stream)
// writes nothing, and the cache does not hide the failure from the next call.
func TestRecordScriptFails(t *testing.T) {
	s := openLease(t, storetest.NewPrefix(t, "fails"))
	ctx := context.Background()
	if _, _, err := s.Record(ctx, 0, []store.Update{testUpdate(1, "市教育局", "第一条")}); err != nil {
		t.Fatal(err)
	}
	if err := s.client.Set(ctx, s.chainKey(2), "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	batch := []store.Update{testUpdate(1, "市教育局", "第二条"), testUpdate(2, "市财政局", "坏了")}
	for i := range 2 {
		if _, _, err := s.Record(ctx, 77, batch); err == nil {
			t.Fatalf("record %d onto a broken chain: got no error, want one", i+1)
		}
	}
	if ups, err := s.Updates(ctx, 1); err != nil || len(ups) != 1 {
		t.Errorf("updates of task 1: got %d, %v; want 1", len(ups), err)
	}
	if _, n, err := s.Head(ctx, 1); err != nil || n != 1 {
		t.Errorf("head of task 1: got %d, %v; want 1", n, err)
	}
	if ok, err := s.client.Exists(ctx, s.seenKey(77)).Result(); err != nil || ok != 0 {
		t.Errorf("seen 77: got %d, %v; want it absent", ok, err)
	}
}
