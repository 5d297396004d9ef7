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

// Nudge sends one message to a department about its due items — with status buttons when
// it is about one task — and confirms keys in the reminder ledger with the message's ids, so
// that a reply to it finds its tasks. Items come most urgent first.
func (b *Bot) Nudge(ctx context.Context, dept string, chat int64, items []i18n.NudgeItem, keys []string) (store.Sent, error) {
	st := b.state()
	tasks := make([]int, len(items))
	// The metric tells apart tasks that share a goal (#24–#28); the plan in force has it.
	items = slices.Clone(items)
	for i, it := range items {
		tasks[i] = it.Task
		if task, ok := st.plan.Task(it.Task); ok && it.Metric == "" {
			items[i].Metric = task.Metric
		}
	}
	msg := sender.Message{ChatID: chat, Text: st.texts.Nudge(dept, items)}
	if len(items) == 1 {
		msg.Keyboard = b.keyboard(chat, items[0].Task, "")
	}
	ids, err := b.send.Send(ctx, msg)
	if err != nil && len(ids) == 0 {
		return store.Sent{}, fmt.Errorf("nudge %s: %w", dept, err)
	}
	sent := store.Sent{Keys: keys, Department: dept, Tasks: tasks, Stage: "nudge", ChatID: chat, MessageIDs: ids, At: b.now()}
	// Sent is sent: recording it is retried a few times on its own clock, since an
	// unrecorded reminder goes out again once its claim lapses.
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
