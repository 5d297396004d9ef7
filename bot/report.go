package bot

import (
	"context"
	"slices"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/config"
	"github.com/duban/duban/report"
	"github.com/duban/duban/store"
)

// How a report reached the bot; a mention is stored as a reply, the closest of the store's
// sources, since both are free text in the chat.
const (
	sourceReply   = store.SourceReply
	sourceMention = store.SourceReply
	sourceCommand = store.SourceCommand
	sourceButton  = store.SourceButton
)

// stageAck marks the bot's acknowledgements in the message index, so that a reply to an
// acknowledgement ("补充：…") finds its task like a reply to a nudge does.
const stageAck = "ack"

// report records what a department wrote about one or more tasks, then acknowledges it.
// Who may report: only a bound chat, only for tasks its department holds. A message that
// names a task the department does not hold records nothing at all, so that a department
// never has half a message on record.
func (b *Bot) report(ctx context.Context, updateID int64, m *models.Message, text string, source store.Source, edited bool) error {
	st := b.state()
	t := st.texts
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	if !bound {
		b.reply(ctx, m, t.NotBound())
		return nil
	}
	dept := binding.Department

	items := report.Split(text)
	var replied []int // the tasks of the message replied to
	if m.ReplyToMessage != nil {
		ref, found, err := b.store.MessageRef(ctx, m.Chat.ID, m.ReplyToMessage.ID)
		if err != nil {
			return retry(err)
		}
		if found {
			replied = ref.Tasks
		}
	}
	for i := range items {
		if items[i].Task != 0 {
			continue
		}
		switch len(replied) {
		case 1:
			items[i].Task = replied[0]
		case 0:
			b.reply(ctx, m, t.NeedTaskNumber())
			return nil
		default:
			b.reply(ctx, m, t.NeedTaskNumberOf(replied))
			return nil
		}
	}

	var refusals []string
	for _, it := range items {
		task, ok := st.plan.Task(it.Task)
		switch {
		case !ok:
			refusals = append(refusals, t.UnknownTask(it.Task))
		case !slices.Contains(task.Responsible, dept):
			refusals = append(refusals, t.NotYourTask(it.Task, dept))
		}
	}
	if len(refusals) > 0 {
		b.reply(ctx, m, t.NothingRecorded(refusals))
		return nil
	}

	now := b.now()
	ups := make([]store.Update, 0, len(items))
	for _, it := range items {
		task, _ := st.plan.Task(it.Task)
		p := report.Parse(it.Text, task)
		u := b.update(task, dept, m, source, updateID)
		u.At, u.Status, u.Percent, u.Value = now, p.Status, p.Percent, p.Value
		if edited {
			if u.Corrects, err = b.correctedUpdate(ctx, task.ID, m); err != nil {
				return err
			}
		}
		ups = append(ups, u)
	}
	recorded, _, err := b.store.Record(ctx, updateID, ups)
	if err != nil {
		return b.recordFailed(ctx, m, err)
	}
	// A redelivered update was recorded the first time; it is acknowledged again, from what
	// was stored, because the first acknowledgement may never have gone out.
	b.acknowledge(ctx, m, dept, recorded)
	return nil
}

// update fills in who said it, where and how.
func (b *Bot) update(task *config.Task, dept string, m *models.Message, source store.Source, updateID int64) store.Update {
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	return store.Update{
		Task: task.ID, Department: dept, ChatID: m.Chat.ID, MessageID: m.ID,
		UserID: userID(m.From), UserName: displayName(m.From), Text: text,
		Source: source, TelegramUpdate: updateID,
	}
}

// recordFailed answers a record the store refused on its merits, and hands back any other
// failure for the update to be retried: the department hears nothing until it is stored.
func (b *Bot) recordFailed(ctx context.Context, m *models.Message, err error) error {
	if err = retry(err); IsRetry(err) {
		return err
	}
	b.log.Error("store refused a report", "chat", m.Chat.ID, "err", err)
	b.reply(ctx, m, b.state().texts.CouldNotRecord())
	return nil
}

// correctedUpdate finds the latest update recorded from the same chat message, which an
// edit corrects; "" if the original was never recorded (it was refused, say).
func (b *Bot) correctedUpdate(ctx context.Context, task int, m *models.Message) (string, error) {
	ups, err := b.store.Updates(ctx, task)
	if err != nil {
		return "", retry(err)
	}
	for i := len(ups) - 1; i >= 0; i-- {
		if ups[i].ChatID == m.Chat.ID && ups[i].MessageID == m.ID {
			return ups[i].ID, nil
		}
	}
	return "", nil
}

// acknowledge replies "已记录 #12 进行中 60%" and indexes the reply, so that a reply to it
// adds to the same task.
func (b *Bot) acknowledge(ctx context.Context, m *models.Message, dept string, recorded []store.Update) {
	t := b.state().texts
	lines := make([]string, 0, len(recorded))
	tasks := make([]int, 0, len(recorded))
	for _, u := range recorded {
		lines = append(lines, t.Recorded(u.Task, u.Status, u.Percent, u.Value, u.Corrects != ""))
		tasks = append(tasks, u.Task)
	}
	ids := b.reply(ctx, m, t.RecordedAll(lines, slices.ContainsFunc(recorded, func(u store.Update) bool { return u.Status == store.StatusDone })))
	b.index(ctx, m.Chat.ID, dept, tasks, ids, stageAck)
}

// index remembers which tasks a bot message is about; losing it only means a reply to that
// message must name its task, so a failure is logged.
func (b *Bot) index(ctx context.Context, chatID int64, dept string, tasks, ids []int, stage string) {
	if len(ids) == 0 {
		return
	}
	err := b.store.Confirm(ctx, store.Sent{Department: dept, Tasks: tasks, Stage: stage, ChatID: chatID, MessageIDs: ids, At: b.now()})
	if err != nil {
		b.log.Warn("message index not written", "chat", chatID, "err", err)
	}
}
