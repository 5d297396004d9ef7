package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
)

// acksTo counts the acknowledgements in reply to each of msgs in chat.
func acksTo(tg *telegramtest.Server, chat int64, msgs []int) map[int]int {
	n := map[int]int{}
	for _, m := range tg.SentTo(chat) {
		if slices.Contains(msgs, m.ReplyToMessageID) && strings.Contains(m.PlainText, "已记录 #16") {
			n[m.ReplyToMessageID]++
		}
	}
	return n
}

// TestAcknowledgementsSurviveAHardStop: reports are recorded and confirmed to Telegram while
// their acknowledgements cannot go out (Telegram asks the bot to wait 100 s); the daemon is
// then stopped hard, with no grace for its answers, as a kill would. The next daemon on the
// same store acknowledges each of those reports, once, from the outbox, with its message
// index, and leaves the outbox empty.
func TestAcknowledgementsSurviveAHardStop(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			tg := newFakeTelegram(t)
			tg.AddChat(eduGroup)
			c, p := testConfig(t, tg)
			real, reopen := be.open(t)
			bindDirect(t, real, "市教育局", eduGroup)
			hard := func(o *daemon.Options) { o.AnswerGrace = time.Nanosecond }
			// The first acknowledgement is refused with a 100 s wait (100000 × 1 ms), which
			// the sender sits out holding the chat: nothing reaches the group.
			tg.FailNext("sendMessage", 1, http.StatusTooManyRequests, "", 100_000)
			r := startRig(t, tg, c, p, real, hard)

			const n = 5
			var msgs []int
			for i := range n {
				msgs = append(msgs, tg.Send(eduGroup, clerk, fmt.Sprintf("/report 16 进行中 记录%03d", i)).ID)
			}
			eventually(t, "the reports recorded", func() bool { return len(r.updates(t, 16)) == n })
			tg.WaitFor(t, 10*time.Second, "the reports confirmed to Telegram", func() bool { return tg.Pending() == 0 })
			// The 429 must be met before the stop, or the next daemon meets it and sits it out.
			tg.WaitFor(t, 10*time.Second, "the first acknowledgement tried", func() bool { return tg.Calls("sendMessage") > 0 })
			if got := acksTo(tg, eduGroup.ID, msgs); len(got) != 0 {
				t.Fatalf("acknowledgements sent before the stop: %v, want none (the test holds them)", got)
			}
			if err := r.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			be.closer(real)

			st := reopen(t)
			r2 := startRig(t, tg, c, p, st)
			tg.WaitFor(t, 10*time.Second, "every report acknowledged after the restart", func() bool {
				return len(acksTo(tg, eduGroup.ID, msgs)) == n
			})
			eventually(t, "the outbox empty", func() bool {
				left, err := st.Answers(ctx)
				return err == nil && len(left) == 0
			})
			time.Sleep(100 * time.Millisecond) // room for a duplicate to show
			for i, id := range msgs {
				if got := acksTo(tg, eduGroup.ID, msgs)[id]; got != 1 {
					t.Errorf("report %d (message %d): acknowledged %d times, want once", i, id, got)
				}
			}
			// The resent acknowledgements are indexed: a reply to one finds task 16.
			for _, m := range tg.SentTo(eduGroup.ID) {
				if !slices.Contains(msgs, m.ReplyToMessageID) {
					continue
				}
				ref, found, err := st.MessageRef(ctx, eduGroup.ID, m.MessageID)
				if err != nil || !found || !slices.Equal(ref.Tasks, []int{16}) {
					t.Errorf("index of the acknowledgement %d: got %+v, %v, %v; want task 16", m.MessageID, ref, found, err)
				}
			}
			if got := len(r2.updates(t, 16)); got != n {
				t.Errorf("task 16 after the restart: %d updates, want %d", got, n)
			}
		})
	}
}

// TestOutboxEmptyAfterANormalRun: acknowledgements sent as usual leave nothing in the outbox.
func TestOutboxEmptyAfterANormalRun(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			r := directRig(t, be, tg)
			const n = 3
			var msgs []int
			for i := range n {
				msgs = append(msgs, tg.Send(eduGroup, clerk, fmt.Sprintf("/report 16 进行中 记录%03d", i)).ID)
			}
			tg.WaitFor(t, 10*time.Second, "every report acknowledged", func() bool {
				return len(acksTo(tg, eduGroup.ID, msgs)) == n
			})
			eventually(t, "the outbox empty", func() bool {
				left, err := r.store.Answers(context.Background())
				return err == nil && len(left) == 0
			})
		})
	}
}

// TestAcknowledgementGivenUpIsSentLater (issue 9, fault suite 2, long mode): Telegram fails
// every attempt the sender makes at an acknowledgement (an outage longer than its retries).
// The entry stays in the outbox and the leader sends it again once Telegram answers: the
// department is told, once, and the outbox ends empty.
func TestAcknowledgementGivenUpIsSentLater(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			// More failures than the sender's 5 attempts: it gives up on the first send.
			tg.FailNext("sendMessage", 7, http.StatusBadGateway, "", 0)
			r := directRig(t, be, tg, func(o *daemon.Options) {
				o.SendBackoff = time.Millisecond
				o.OutboxRetry = 200 * time.Millisecond
			})
			msg := tg.Send(eduGroup, clerk, "/report 16 进行中 停电后补报").ID
			eventually(t, "the report recorded", func() bool { return len(r.updates(t, 16)) == 1 })
			tg.WaitFor(t, 10*time.Second, "the report acknowledged after the outage", func() bool {
				return acksTo(tg, eduGroup.ID, []int{msg})[msg] > 0
			})
			eventually(t, "the outbox empty", func() bool {
				left, err := r.store.Answers(context.Background())
				return err == nil && len(left) == 0
			})
			time.Sleep(500 * time.Millisecond) // two more sweeps: room for a duplicate to show
			if got := acksTo(tg, eduGroup.ID, []int{msg})[msg]; got != 1 {
				t.Errorf("acknowledged %d times, want once", got)
			}
		})
	}
}

// TestButtonAcknowledgementSurvivesAHardStop: a press on 已完成 is recorded and confirmed
// while its chat acknowledgement cannot go out, and the daemon is stopped hard; the next
// daemon sends that acknowledgement once, from the outbox.
func TestButtonAcknowledgementSurvivesAHardStop(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			tg.AddChat(eduGroup)
			c, p := testConfig(t, tg)
			real, reopen := be.open(t)
			bindDirect(t, real, "市教育局", eduGroup)
			r := startRig(t, tg, c, p, real, func(o *daemon.Options) { o.AnswerGrace = time.Nanosecond })
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)
			var doneData string
			for _, m := range tg.SentTo(eduGroup.ID) {
				if m.MessageID == sent.MessageIDs[0] && m.ReplyMarkup != nil {
					for _, b := range m.ReplyMarkup.InlineKeyboard[0] {
						if b.Text == "已完成" {
							doneData = b.CallbackData
						}
					}
				}
			}
			if doneData == "" {
				t.Fatal("the nudge has no 已完成 button")
			}
			const ack = "已记录 #16 已完成。请回复本消息补充具体进展"
			tg.FailNext("sendMessage", 1, http.StatusTooManyRequests, "", 100_000)
			sends := tg.Calls("sendMessage")
			tg.Press(eduGroup, clerk, sent.MessageIDs[0], doneData)
			eventually(t, "the press recorded", func() bool { return len(r.updates(t, 16)) == 1 })
			tg.WaitFor(t, 10*time.Second, "the press confirmed to Telegram", func() bool { return tg.Pending() == 0 })
			// The acknowledgement's send must have met the 429 before the stop: stopped before it
			// was tried, the next daemon would meet it instead and wait its 100,000 s.
			tg.WaitFor(t, 10*time.Second, "the acknowledgement tried once", func() bool { return tg.Calls("sendMessage") > sends })
			if err := r.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			be.closer(real)
			if got := r.countText(eduGroup.ID, ack); got != 0 {
				t.Fatalf("acknowledged before the stop %d times, want 0 (the test holds it)", got)
			}

			st := reopen(t)
			r2 := startRig(t, tg, c, p, st)
			r2.waitText(t, eduGroup.ID, ack)
			time.Sleep(100 * time.Millisecond) // room for a duplicate to show
			if got := r2.countText(eduGroup.ID, ack); got != 1 {
				t.Errorf("acknowledged %d times after the restart, want once", got)
			}
		})
	}
}
