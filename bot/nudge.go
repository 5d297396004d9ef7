package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

// Nudge is one message to one department about its due items; the scheduler decides what is
// due, the bot says it.
type Nudge struct {
	Department string
	ChatID     int64
	Items      []i18n.NudgeItem
	Keys       []string // the reminder ledger keys this message satisfies
	Stage      string   // what the ledger records as the message's stage
}

// SendNudge sends a nudge — with status buttons when it is about one task — and records it
// in the ledger with its message ids, so that a reply to it finds its tasks. The items are
// shown most urgent first.
func (b *Bot) SendNudge(ctx context.Context, n Nudge) (store.Sent, error) {
	st := b.state()
	items := slices.Clone(n.Items)
	slices.SortStableFunc(items, func(a, c i18n.NudgeItem) int { return cmp.Compare(a.DaysLeft, c.DaysLeft) })
	tasks := make([]int, len(items))
	for i, it := range items {
		tasks[i] = it.Task
	}
	msg := sender.Message{ChatID: n.ChatID, Text: st.texts.Nudge(n.Department, items)}
	if len(items) == 1 {
		msg.Keyboard = b.keyboard(n.ChatID, items[0].Task, "")
	}
	ids, err := b.send.Send(ctx, msg)
	if err != nil && len(ids) == 0 {
		return store.Sent{}, fmt.Errorf("nudge %s: %w", n.Department, err)
	}
	sent := store.Sent{Keys: n.Keys, Department: n.Department, Tasks: tasks, Stage: n.Stage, ChatID: n.ChatID, MessageIDs: ids, At: b.now()}
	if cerr := b.store.Confirm(ctx, sent); cerr != nil {
		return sent, fmt.Errorf("nudge %s sent but not recorded: %w", n.Department, cerr)
	}
	return sent, err
}
