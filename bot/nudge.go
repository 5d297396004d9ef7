package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// NudgeMessage is the message to a department about its due items — with status buttons
// when it is about one task. Items come most urgent first.
func (b *Bot) NudgeMessage(dept string, chat int64, items []i18n.NudgeItem) sender.Message {
	st := b.state()
	// The metric tells apart tasks that share a goal (#24–#28); the plan in force has it.
	items = slices.Clone(items)
	for i, it := range items {
		if task, ok := st.plan.Task(it.Task); ok && it.Metric == "" {
			items[i].Metric = task.Metric
		}
	}
	msg := sender.Message{ChatID: chat, Text: st.texts.Nudge(dept, items)}
	if len(items) == 1 {
		msg.Keyboard = b.keyboard(chat, items[0].Task, "")
	}
	return msg
}

// partSender is a Sender that can resume a message at a part; *sender.Sender is one.
type partSender interface {
	SendFrom(ctx context.Context, m sender.Message, from int, h sender.Hooks) ([]int, error)
}

var _ partSender = (*sender.Sender)(nil)

// SendFrom sends m's parts from index from on, telling h about each (see sender.Hooks): the
// scheduler records a message part by part with it.
func (b *Bot) SendFrom(ctx context.Context, m sender.Message, from int, h sender.Hooks) ([]int, error) {
	if ps, ok := b.send.(partSender); ok {
		return ps.SendFrom(ctx, m, from, h)
	}
	// A Sender that sends whole messages only (a test's): the parts cannot be told apart.
	if from != 0 {
		return nil, fmt.Errorf("send from part %d: the sender sends whole messages only", from)
	}
	if h.Before != nil {
		if err := h.Before(ctx, 0); err != nil {
			return nil, err
		}
	}
	ids, err := b.send.Send(ctx, m)
	if h.Sent != nil {
		for i, id := range ids {
			if herr := h.Sent(ctx, i, id); herr != nil {
				return ids[:i+1], errors.Join(err, herr)
			}
		}
	}
	return ids, err
}

// Nudge sends one message to a department about its due items (see NudgeMessage) and
// confirms keys in the reminder ledger with the message's ids, so that a reply to it finds
// its tasks. The scheduler does not use it: it records its messages part by part.
func (b *Bot) Nudge(ctx context.Context, dept string, chat int64, items []i18n.NudgeItem, keys []string) (store.Sent, error) {
	tasks := make([]int, len(items))
	for i, it := range items {
		tasks[i] = it.Task
	}
	ids, err := b.send.Send(ctx, b.NudgeMessage(dept, chat, items))
	if err != nil && len(ids) == 0 {
		return store.Sent{}, fmt.Errorf("nudge %s: %w", dept, err)
	}
	sent := store.Sent{Keys: keys, Department: dept, Tasks: tasks, Stage: "nudge", ChatID: chat, MessageIDs: ids, At: b.now()}
	// Sent is sent: recording it is retried a few times on its own clock.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var cerr error
	for wait := 100 * time.Millisecond; ; wait *= 4 {
		if cerr = b.store.Confirm(cctx, sent); cerr == nil || cctx.Err() != nil || errors.Is(cerr, store.ErrInvalid) {
			break
		}
		select {
		case <-cctx.Done():
		case <-time.After(wait):
		}
	}
	if cerr != nil {
		return sent, fmt.Errorf("nudge %s sent but not recorded: %w", dept, cerr)
	}
	return sent, err
}

// Notify sends a text (an escalation, a digest) to a chat.
func (b *Bot) Notify(ctx context.Context, chat int64, text string) ([]int, error) {
	return b.send.Send(ctx, sender.Message{ChatID: chat, Text: text})
}
