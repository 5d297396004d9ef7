package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// laneScale is how long one Telegram second lasts in these tests: 500 ms, so that a group's
// window of 20 messages a minute is 30 s of wall time, far longer than recording takes even
// on a loaded machine: what the tests count does not depend on the machine's speed.
const laneScale = 0.5

// within waits for cond, polling the store, for up to a minute: a bounded count, not a timing.
func within(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after 1m waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func laneScaled(d time.Duration) time.Duration { return time.Duration(float64(d) * laneScale) }

// limitedTelegram is the fake Bot API with Telegram's real flood limits, on the scaled clock.
func limitedTelegram(tb testing.TB) *telegramtest.Server {
	tb.Helper()
	tg := telegramtest.New(tb, telegramtest.WithLimits(telegramtest.DefaultLimits()), telegramtest.WithTimeScale(laneScale))
	tg.AddChat(supGroup)
	return tg
}

// limitedSending is sender.DefaultLimits on the same clock as limitedTelegram.
func limitedSending(o *daemon.Options) {
	l := sender.DefaultLimits
	o.SendLimits = sender.Limits{
		Overall: laneScaled(l.Overall), OverallPerWindow: l.OverallPerWindow, OverallWindow: laneScaled(l.OverallWindow),
		PerChat: laneScaled(l.PerChat), PerGroup: l.PerGroup, GroupWindow: laneScaled(l.GroupWindow),
		RetryAfterUnit: laneScaled(l.RetryAfterUnit),
	}
	o.RetryAfterUnit = laneScaled(time.Second)
	o.AnswerGrace = 200 * time.Millisecond // answers left at the end are logged, not awaited
}

// acks counts the acknowledgements of recorded reports sent to chat.
func (r *rig) acks(chat int64) int { return r.countText(chat, "已记录 #") }

// metric reads one counter from /metrics.
func (r *rig) metric(tb testing.TB, name string) float64 {
	tb.Helper()
	resp, err := http.Get("http://" + r.addr + "/metrics")
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		tb.Fatalf("/metrics has no %s:\n%s", name, body)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestFloodFromAnUnboundGroup: anyone can add the bot to a group. 40 /report messages from
// a group bound to no department, then one report from 市教育局, with Telegram's flood
// limits on: the department's report is recorded and acknowledged at once, not after the
// group's refusals (which took 79 s when each answer waited for the group's rate window);
// the group is told once that it is not bound, the other refusals are dropped and counted in
// /metrics, and all 41 updates are confirmed to Telegram.
func TestFloodFromAnUnboundGroup(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := limitedTelegram(t)
			r := directRig(t, be, tg, limitedSending)

			stranger := telegramtest.GroupChat(-3001, "随便建的群")
			someone := telegramtest.NewUser(3001, "路人")
			for i := range 40 {
				tg.Send(stranger, someone, fmt.Sprintf("/report 16 已完成 第%d条", i+1))
			}
			tg.Send(eduGroup, clerk, "/report 16 进行中 60%")
			ack := r.waitText(t, eduGroup.ID, "已记录 #16 进行中 60%")

			refusedBefore := 0
			for _, m := range tg.Sent() {
				if m.ChatID == eduGroup.ID && m.MessageID == ack.MessageID {
					break
				}
				if m.ChatID == stranger.ID {
					refusedBefore++
				}
			}
			if refusedBefore >= 40 {
				t.Errorf("the department's acknowledgement came after %d refusals to the unbound group, want before the flood's answers finish", refusedBefore)
			}
			if ups := r.updates(t, 16); len(ups) != 1 || ups[0].Department != "市教育局" {
				t.Errorf("task 16: got %d updates (%+v), want the department's one", len(ups), ups)
			}
			tg.WaitFor(t, time.Minute, "all 41 updates confirmed", func() bool { return tg.Pending() == 0 })
			// The refusal is queued behind the group's pace: wait for it, then count.
			tg.WaitFor(t, time.Minute, "the unbound group answered", func() bool {
				return r.countText(stranger.ID, "本群还没有绑定责任单位") >= 1
			})
			if n := r.countText(stranger.ID, "本群还没有绑定责任单位"); n < 1 || n > 2 {
				t.Errorf("unbound group: got %d \"not bound\" answers, want one or two", n)
			}
			if n := len(tg.SentTo(stranger.ID)); n > 2 {
				t.Errorf("unbound group: got %d messages, want at most 2", n)
			}
			eventually(t, "the dropped refusals counted", func() bool {
				return r.metric(t, "duban_refusals_dropped_total") >= 38
			})
			t.Logf("40 reports from an unbound group: %d answered, the department acknowledged after %d of them", len(tg.SentTo(stranger.ID)), refusedBefore)
		})
	}
}

// TestHundredRepliesFromOneChat: 100 reports from one chat, with Telegram's flood limits on,
// are recorded in the order they were written, without waiting for their acknowledgements
// (a group gets 20 messages a minute), and all are confirmed.
func TestHundredRepliesFromOneChat(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := limitedTelegram(t)
			r := directRig(t, be, tg, limitedSending)

			const n = 100
			for i := range n {
				tg.Send(eduGroup, clerk, fmt.Sprintf("/report 16 进行中 记录%03d", i))
			}
			within(t, "100 reports recorded", func() bool { return len(r.updates(t, 16)) >= n })
			got := r.acks(eduGroup.ID)
			if got >= n/2 {
				t.Errorf("acknowledgements sent by the time all %d were recorded: got %d, want recording not to wait for them (under %d)", n, got, n/2)
			}
			t.Logf("%d reports recorded, %d acknowledgements sent by then", n, got)
			ups := r.updates(t, 16)
			if len(ups) != n {
				t.Fatalf("task 16: got %d updates, want %d", len(ups), n)
			}
			for i, u := range ups {
				if want := fmt.Sprintf("记录%03d", i); !strings.Contains(u.Text, want) {
					t.Errorf("update %d: got %q, want %s (the order written)", i, u.Text, want)
				}
			}
			tg.WaitFor(t, time.Minute, "all 100 updates confirmed", func() bool { return tg.Pending() == 0 })
		})
	}
}

// TestInterleavedChatsKeepTheirOrder: 10 departments' groups write 25 reports each,
// interleaved, with Telegram's flood limits on (a group's 21st answer waits for its
// window): each chat's reports are recorded in its own order, without waiting for the
// acknowledgements, and all are confirmed.
func TestInterleavedChatsKeepTheirOrder(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := limitedTelegram(t)
			c, p := testConfig(t, tg)
			st, _ := be.open(t)
			type dept struct {
				name string
				task int
				chat telegramtest.Chat
				user telegramtest.User
			}
			var depts []dept
			used := map[int]bool{}
			for _, name := range c.DepartmentNames {
				for _, task := range p.TasksFor(name) {
					if !used[task.ID] && len(depts) < 10 {
						used[task.ID] = true
						i := int64(len(depts))
						d := dept{name, task.ID, telegramtest.GroupChat(-4001-i, name+"工作群"), telegramtest.NewUser(4001+i, "办事员")}
						tg.AddChat(d.chat)
						bindDirect(t, st, d.name, d.chat)
						depts = append(depts, d)
						break
					}
				}
			}
			if len(depts) != 10 {
				t.Fatalf("got %d departments with a task of their own, want 10", len(depts))
			}
			r := startRig(t, tg, c, p, st, limitedSending)

			const each = 25
			for j := range each {
				for _, d := range depts {
					tg.Send(d.chat, d.user, fmt.Sprintf("/report %d 进行中 记录%03d", d.task, j))
				}
			}
			mine := func(d dept) []store.Update {
				var out []store.Update
				for _, u := range r.updates(t, d.task) {
					if u.ChatID == d.chat.ID {
						out = append(out, u)
					}
				}
				return out
			}
			within(t, "every report recorded", func() bool {
				for _, d := range depts {
					if len(mine(d)) < each {
						return false
					}
				}
				return true
			})
			acks := 0
			for _, d := range depts {
				acks += r.acks(d.chat.ID)
			}
			total := each * len(depts)
			if acks >= total-10 {
				t.Errorf("acknowledgements sent by the time all %d reports were recorded: got %d, want recording not to wait for the groups' rate windows (under %d)", total, acks, total-10)
			}
			t.Logf("%d reports from %d chats recorded, %d acknowledgements sent by then", total, len(depts), acks)
			for _, d := range depts {
				ups := mine(d)
				if len(ups) != each {
					t.Errorf("%s: got %d updates, want %d", d.name, len(ups), each)
					continue
				}
				for j, u := range ups {
					if want := fmt.Sprintf("记录%03d", j); !strings.Contains(u.Text, want) {
						t.Errorf("%s update %d: got %q, want %s (the chat's order)", d.name, j, u.Text, want)
					}
				}
			}
			tg.WaitFor(t, time.Minute, "all updates confirmed", func() bool { return tg.Pending() == 0 })
		})
	}
}

// holdingStore records as the real store does, but the record numbered holdAt, once stored,
// holds its handler until the daemon stops: the daemon dies with that update recorded and not
// yet confirmed to Telegram.
type holdingStore struct {
	daemon.Store
	records atomic.Int32
	holdAt  int32
	held    chan struct{}
}

func (h *holdingStore) Record(ctx context.Context, id int64, ups []store.Update) ([]store.Update, bool, error) {
	got, fresh, err := h.Store.Record(ctx, id, ups)
	h.hold(ctx, err)
	return got, fresh, err
}

// RecordAnswered holds as Record does: a report is recorded through it.
func (h *holdingStore) RecordAnswered(ctx context.Context, id int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error) {
	got, a, fresh, err := h.Store.RecordAnswered(ctx, id, ups, answer)
	h.hold(ctx, err)
	return got, a, fresh, err
}

func (h *holdingStore) hold(ctx context.Context, err error) {
	if err == nil && h.records.Add(1) == h.holdAt {
		close(h.held)
		<-ctx.Done()
	}
}

// TestStopWithAnswersQueued: 30 reports from one chat are recorded while their
// acknowledgements still wait for the group's rate window; the daemon stops (as a crash
// would, the last update recorded but not confirmed, the answers still queued). No record is
// lost; the restarted daemon gets the unconfirmed update again, records it once, and
// acknowledges it.
func TestStopWithAnswersQueued(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := limitedTelegram(t)
			tg.AddChat(eduGroup)
			c, p := testConfig(t, tg)
			real, reopen := be.open(t)
			bindDirect(t, real, "市教育局", eduGroup)
			const n = 30
			hs := &holdingStore{Store: real, holdAt: n, held: make(chan struct{})}
			r := startRig(t, tg, c, p, hs, limitedSending)

			var msgs []int
			for i := range n {
				msgs = append(msgs, tg.Send(eduGroup, clerk, fmt.Sprintf("/report 16 进行中 记录%03d", i)).ID)
			}
			select {
			case <-hs.held:
			case <-time.After(time.Minute):
				t.Fatalf("the %dth report was never recorded", n)
			}
			if got := r.acks(eduGroup.ID); got >= n-5 {
				t.Errorf("acknowledgements sent when all %d were recorded: got %d, want most still queued (under %d)", n, got, n-5)
			} else {
				t.Logf("stopping with %d reports recorded and %d acknowledgements sent", n, got)
			}
			if err := r.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if tg.Pending() == 0 {
				t.Fatalf("every update confirmed at the stop, want the held one still at Telegram")
			}
			be.closer(real)

			st := reopen(t)
			r2 := startRig(t, tg, c, p, st, limitedSending)
			tg.WaitFor(t, time.Minute, "the redelivered update confirmed", func() bool { return tg.Pending() == 0 })
			ups := r2.updates(t, 16)
			if len(ups) != n {
				t.Fatalf("task 16 after the restart: got %d updates, want %d, each once", len(ups), n)
			}
			for i, u := range ups {
				if want := fmt.Sprintf("记录%03d", i); !strings.Contains(u.Text, want) {
					t.Errorf("update %d: got %q, want %s", i, u.Text, want)
				}
			}
			tg.WaitFor(t, time.Minute, "the redelivered report acknowledged", func() bool {
				for _, m := range tg.SentTo(eduGroup.ID) {
					if m.ReplyToMessageID == msgs[n-1] && strings.Contains(m.PlainText, "已记录 #16") {
						return true
					}
				}
				return false
			})
		})
	}
}

// slowIndex writes the message index 200 ms late, as a loaded store might.
type slowIndex struct{ daemon.Store }

func (s slowIndex) Confirm(ctx context.Context, sent store.Sent) error {
	time.Sleep(200 * time.Millisecond)
	return s.Store.Confirm(ctx, sent)
}

// TestReplyToAnAcknowledgementAtOnce: the acknowledgement's message index is written once
// Telegram has taken it, by the answer queue; a reply to it that comes at once, before the
// index is written, still finds its task.
func TestReplyToAnAcknowledgementAtOnce(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			r := directRig(t, be, tg, withStore(func(st daemon.Store) daemon.Store { return slowIndex{st} }))
			const rounds = 5
			for i := range rounds {
				before := len(tg.SentTo(eduGroup.ID))
				tg.Send(eduGroup, clerk, fmt.Sprintf("/report 16 进行中 第%d轮", i))
				var ack telegramtest.Message
				tg.WaitFor(t, 10*time.Second, "the acknowledgement", func() bool {
					for _, m := range tg.SentTo(eduGroup.ID)[before:] {
						if strings.Contains(m.PlainText, "已记录 #16") {
							ack = m
							return true
						}
					}
					return false
				})
				tg.Reply(eduGroup, clerk, ack.MessageID, fmt.Sprintf("补充说明%d", i))
				tg.WaitFor(t, 10*time.Second, "the reply answered", func() bool { return len(tg.SentTo(eduGroup.ID)) >= before+2 })
			}
			if n := r.countText(eduGroup.ID, "请写明任务编号"); n != 0 {
				t.Errorf("replies to an acknowledgement asked for the task number %d times, want 0", n)
			}
			eventually(t, "every report and reply recorded", func() bool { return len(r.updates(t, 16)) == 2*rounds })
		})
	}
}
