package bot

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// OutboxMaxAge is how old an acknowledgement left in the outbox may be and still be sent by
// the next leader: a day later, a reply to the department's message makes little sense.
const OutboxMaxAge = 24 * time.Hour

// OutboxRetry is how often the leader sends again the acknowledgements still in the outbox,
// and how old one must be to be sent again: one whose send gave up (Telegram down for longer
// than the sender's retries) waits at most this long after the outage, and one another
// process is still sending (a webhook follower) is left alone that long.
const OutboxRetry = time.Minute

// outboxDoneWait bounds the index and outbox writes after a send, which run even once the
// shutdown grace has cancelled the sends: Telegram has the message by then.
const outboxDoneWait = 5 * time.Second

type outboxKey struct{ chat, update int64 }

// answerDurably writes an acknowledgement to the outbox, then queues it. The outbox entry is
// written before the handler returns, so before the poller can confirm the update: a daemon
// killed with the answer still queued leaves it to the next leader (ResendAnswers). A failed
// write is logged and the answer queued anyway: the record is what must never be lost.
func (b *Bot) answerDurably(ctx context.Context, a store.Answer) {
	if err := b.store.PutAnswer(ctx, a); err != nil {
		b.log.Warn("acknowledgement not written to the outbox; it is sent, but lost if the daemon dies first",
			"chat", a.ChatID, "update", a.Update, "err", err)
	}
	b.queueAnswer(a)
}

// acknowledgePress acknowledges in the chat a button press that recorded a status on task, in
// reply to the message that carried the button, through the outbox like a report's.
func (b *Bot) acknowledgePress(ctx context.Context, updateID int64, m *models.Message, dept string, task int, text string) {
	b.answerDurably(ctx, store.Answer{ChatID: m.Chat.ID, Update: updateID, ThreadID: threadOf(m), ReplyTo: m.ID,
		Text: text, Department: dept, Tasks: []int{task}, Stage: stageAck, At: b.now()})
}

// queueAnswer queues an outbox entry's message. An entry already queued in this process (a
// redelivered update, or a resend racing its handler) is not queued twice. Once the message
// is sent and its index written, the entry is deleted; if the send is cut short by the
// shutdown, or the queue drops it, the entry stays for the next leader.
func (b *Bot) queueAnswer(a store.Answer) { b.queueAnswerUnless(a, nil) }

// queueAnswerUnless is queueAnswer, except for an entry in done (if not nil): one whose send
// ended, and whose outbox entry was deleted, since a resend read the outbox.
func (b *Bot) queueAnswerUnless(a store.Answer, done *sentSince) {
	k := outboxKey{a.ChatID, a.Update}
	b.outboxMu.Lock()
	if b.outboxed == nil {
		b.outboxed = map[outboxKey]bool{}
	}
	if b.outboxed[k] || done != nil && done.keys[k] {
		b.outboxMu.Unlock()
		return
	}
	b.outboxed[k] = true
	b.outboxMu.Unlock()
	sent := false // its send is over and its entry deleted: a copy read before is stale
	over := func() {
		b.outboxMu.Lock()
		delete(b.outboxed, k)
		if sent {
			for d := range b.resends {
				d.keys[k] = true
			}
		}
		b.outboxMu.Unlock()
	}
	msg := sender.Message{ChatID: a.ChatID, ThreadID: a.ThreadID, Text: a.Text, ReplyTo: a.ReplyTo}
	if a.Keyboard != "" {
		var kb models.InlineKeyboardMarkup
		if err := json.Unmarshal([]byte(a.Keyboard), &kb); err != nil {
			b.log.Warn("outbox: keyboard unreadable; sent without it", "chat", a.ChatID, "update", a.Update, "err", err)
		} else {
			msg.Keyboard = &kb
		}
	}
	queued := b.answers.enqueue(answer{chat: a.ChatID, what: "reply", indexed: true, send: func(ctx context.Context) {
		defer over()
		ids, err := b.send.Send(ctx, msg)
		if len(ids) == 0 && ctx.Err() != nil {
			return // cut short by the shutdown: the next leader sends it
		}
		var se *sender.Error
		if len(ids) == 0 && errors.As(err, &se) && se.Retryable {
			// Telegram was down for longer than the sender's retries: the entry stays, and
			// RetryAnswers sends it again once Telegram answers.
			b.log.Warn("acknowledgement not delivered yet; kept in the outbox to be sent again",
				"chat", a.ChatID, "update", a.Update, "err", err)
			return
		}
		if err != nil {
			b.log.Warn("reply not delivered", "chat", msg.ChatID, "err", err)
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outboxDoneWait)
		defer cancel()
		b.index(wctx, a.ChatID, a.Department, a.Tasks, ids, a.Stage)
		// Sent, or refused for good (a 400, the bot removed): either way it is over.
		sent = true
		if err := b.store.DoneAnswer(wctx, a.ChatID, a.Update); err != nil {
			b.log.Warn("outbox entry not deleted; it may be sent again by the next leader",
				"chat", a.ChatID, "update", a.Update, "err", err)
		}
	}})
	if !queued {
		over()
	}
}

// sentSince is the outbox entries whose send ended, and which were deleted, since a resend
// read the outbox: that read may still hold them, and they must not be sent a second time.
type sentSince struct{ keys map[outboxKey]bool }

// watchSends returns a sentSince that collects from now on, until unwatchSends.
func (b *Bot) watchSends() *sentSince {
	done := &sentSince{keys: map[outboxKey]bool{}}
	b.outboxMu.Lock()
	defer b.outboxMu.Unlock()
	if b.resends == nil {
		b.resends = map[*sentSince]struct{}{}
	}
	b.resends[done] = struct{}{}
	return done
}

func (b *Bot) unwatchSends(done *sentSince) {
	b.outboxMu.Lock()
	defer b.outboxMu.Unlock()
	delete(b.resends, done)
}

// ResendAnswers queues every acknowledgement left in the outbox — by a daemon killed before
// it sent them — oldest first. One older than OutboxMaxAge is deleted with a log line
// instead. The leader calls it as it starts, before it takes updates.
func (b *Bot) ResendAnswers(ctx context.Context) { b.resendAnswers(ctx, 0) }

// RetryAnswers sends again, every `every` (zero: OutboxRetry) until ctx ends, the
// acknowledgements that stayed in the outbox at least that long: those whose send gave up
// while Telegram was down. The leader runs it while it leads.
func (b *Bot) RetryAnswers(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = OutboxRetry
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.resendAnswers(ctx, every)
		}
	}
}

// resendAnswers queues the outbox entries written at least minAge ago.
func (b *Bot) resendAnswers(ctx context.Context, minAge time.Duration) {
	done := b.watchSends() // before the read: a send that ends after it is seen
	defer b.unwatchSends(done)
	left, err := b.store.Answers(ctx)
	if err != nil {
		b.log.Warn("outbox not read; acknowledgements left by a previous run wait for the next start", "err", err)
		return
	}
	now := b.now()
	resent := 0
	for _, a := range left {
		if now.Sub(a.At) < minAge {
			continue
		}
		if now.Sub(a.At) > OutboxMaxAge {
			b.log.Warn("outbox: acknowledgement too old to send; deleted",
				"chat", a.ChatID, "update", a.Update, "written", a.At, "department", a.Department)
			if err := b.store.DoneAnswer(ctx, a.ChatID, a.Update); err != nil {
				b.log.Warn("outbox entry not deleted", "chat", a.ChatID, "update", a.Update, "err", err)
			}
			continue
		}
		b.queueAnswerUnless(a, done)
		resent++
	}
	switch {
	case resent > 0 && minAge == 0:
		b.log.Info("outbox: acknowledgements left by a previous run queued", "answers", resent)
	case resent > 0:
		b.log.Info("outbox: acknowledgements not yet delivered queued again", "answers", resent)
	}
}
