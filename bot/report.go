package bot

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
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

// settleWait bounds how long a reply waits for the index of an acknowledgement being sent
// to its chat; it only ever waits when the message replied to is not in the index.
const settleWait = 5 * time.Second

// stageAck marks the bot's acknowledgements in the message index, so that a reply to an
// acknowledgement ("补充：…") finds its task like a reply to a nudge does.
const stageAck = "ack"

// report records what a department wrote about one or more tasks, then acknowledges it.
// Who may report: only a bound chat, only for tasks its department holds. A message that
// names a task the department does not hold records nothing at all, so that a department
// never has half a message on record.
//
// What the words mean is read by report.Parse. Where it is not certain that a task is done
// (report.Doubt), the update is recorded as a note and the acknowledgement asks, with
// buttons, what to record: nothing is recorded as done on a guess.
func (b *Bot) report(ctx context.Context, updateID int64, m *models.Message, text string, source store.Source, edited bool) error {
	st := b.state()
	t := st.texts
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	if !bound {
		b.refuseUnbound(ctx, m)
		return nil
	}
	dept := binding.Department

	var replied []int // the tasks of the message replied to
	if m.ReplyToMessage != nil {
		ref, found, err := b.store.MessageRef(ctx, m.Chat.ID, m.ReplyToMessage.ID)
		// The acknowledgement replied to may be out with its index not yet written (the answer
		// queue writes it once Telegram has taken it): wait for it, briefly, and look again.
		if err == nil && !found && b.answers.settle(ctx, m.Chat.ID, settleWait) {
			ref, found, err = b.store.MessageRef(ctx, m.Chat.ID, m.ReplyToMessage.ID)
		}
		if err != nil {
			return retry(err)
		}
		if found {
			replied = ref.Tasks
		}
	}
	// A reply about one task is about that task unless it says "#N": "10 月底前完成" under
	// the nudge of #22 is about #22.
	items := report.Split(text, report.SplitOptions{HashOnly: len(replied) == 1 && source != sourceCommand, Command: source == sourceCommand})
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

	attachment := attachmentOf(m)
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
	for _, it := range items {
		if it.Text == "" && attachment == nil { // "/report 46": an empty note helps no one
			b.reply(ctx, m, t.ReportNeedsText(it.Task))
			return nil
		}
	}

	now := b.now()
	ups := make([]store.Update, 0, len(items))
	doubts := map[int]report.Doubt{}
	for _, it := range items {
		task, _ := st.plan.Task(it.Task)
		p := report.Parse(it.Text, task)
		u := b.update(task, dept, m, source, updateID)
		if len(items) > 1 { // each task keeps its own lines, not the whole message
			u.Text = it.Lines
		}
		u.At, u.Status, u.Percent, u.Value, u.Attachment = now, p.Status, p.Percent, p.Value, attachment
		if p.Doubt != report.DoubtNone {
			doubts[task.ID] = p.Doubt
		}
		if edited {
			if u.Corrects, err = b.correctedUpdate(ctx, task.ID, m); err != nil {
				return err
			}
		}
		ups = append(ups, u)
	}
	// The acknowledgement goes to the outbox in the same write as the record, before the
	// update can be confirmed, so that a daemon killed before it is sent leaves it to the next
	// leader (outbox.go). A redelivered update was recorded the first time; it is acknowledged
	// again, from what was stored, because the first acknowledgement may never have gone out.
	_, a, _, err := b.store.RecordAnswered(ctx, updateID, ups, func(recorded []store.Update) store.Answer {
		return b.acknowledgement(updateID, m, dept, recorded, doubts)
	})
	if err != nil {
		return b.recordFailed(ctx, m, err)
	}
	b.queueAnswer(a)
	return nil
}

// update fills in who said it, where and how.
func (b *Bot) update(task *config.Task, dept string, m *models.Message, source store.Source, updateID int64) store.Update {
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	id, name := author(m)
	return store.Update{
		Task: task.ID, Department: dept, ChatID: m.Chat.ID, MessageID: m.ID,
		UserID: id, UserName: name, Text: text,
		Source: source, TelegramUpdate: updateID,
	}
}

// author is who wrote a message. An anonymous group admin, or a member posting as the group
// or as a channel, is the chat Telegram names as its sender (sender_chat): the group's own
// voice, recorded under its id and title.
func author(m *models.Message) (int64, string) {
	if m.SenderChat != nil {
		return m.SenderChat.ID, m.SenderChat.Title
	}
	return userID(m.From), displayName(m.From)
}

// attachmentOf is the file a message carries, nil if none. A photo comes in several sizes:
// the largest is kept.
func attachmentOf(m *models.Message) *store.Attachment {
	switch {
	case m.Document != nil:
		d := m.Document
		return &store.Attachment{Kind: "document", FileID: d.FileID, FileUniqueID: d.FileUniqueID, FileName: d.FileName, MimeType: d.MimeType, Size: d.FileSize}
	case len(m.Photo) > 0:
		p := slices.MaxFunc(m.Photo, func(a, b models.PhotoSize) int { return a.Width*a.Height - b.Width*b.Height })
		return &store.Attachment{Kind: "photo", FileID: p.FileID, FileUniqueID: p.FileUniqueID, MimeType: "image/jpeg", Size: int64(p.FileSize)}
	case m.Voice != nil:
		v := m.Voice
		return &store.Attachment{Kind: "voice", FileID: v.FileID, FileUniqueID: v.FileUniqueID, MimeType: v.MimeType, Size: v.FileSize}
	case m.Video != nil:
		v := m.Video
		return &store.Attachment{Kind: "video", FileID: v.FileID, FileUniqueID: v.FileUniqueID, FileName: v.FileName, MimeType: v.MimeType, Size: v.FileSize}
	case m.Audio != nil:
		a := m.Audio
		return &store.Attachment{Kind: "audio", FileID: a.FileID, FileUniqueID: a.FileUniqueID, FileName: a.FileName, MimeType: a.MimeType, Size: a.FileSize}
	case m.VideoNote != nil:
		v := m.VideoNote
		return &store.Attachment{Kind: "video_note", FileID: v.FileID, FileUniqueID: v.FileUniqueID, Size: int64(v.FileSize)}
	case m.Animation != nil:
		a := m.Animation
		return &store.Attachment{Kind: "animation", FileID: a.FileID, FileUniqueID: a.FileUniqueID, FileName: a.FileName, MimeType: a.MimeType, Size: a.FileSize}
	}
	return nil
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

// acknowledgement is the reply "已记录 #12 进行中 60%" with each task's goal and metric, as an
// outbox entry; once sent it is indexed (stageAck), so that a reply to it adds to the same
// task. A task whose reading was uncertain gets the question and a row of buttons to settle
// it (see ask.go).
func (b *Bot) acknowledgement(updateID int64, m *models.Message, dept string, recorded []store.Update, doubts map[int]report.Doubt) store.Answer {
	st := b.state()
	t := st.texts
	lines := make([]string, 0, len(recorded))
	tasks := make([]int, 0, len(recorded))
	var asked []store.Update
	for _, u := range recorded {
		l := i18n.RecordedLine{Task: u.Task, Status: u.Status, Percent: u.Percent, Value: u.Value,
			Correction: u.Corrects != "", Attachment: u.Attachment}
		if task, ok := st.plan.Task(u.Task); ok {
			l.Goal, l.Metric = task.Goal, task.Metric
		}
		line := t.Recorded(l)
		if d, ok := doubts[u.Task]; ok && u.Status == "" {
			line += "\n" + t.Asked(u.Task, string(d))
			asked = append(asked, u)
		}
		lines = append(lines, line)
		tasks = append(tasks, u.Task)
	}
	text := t.RecordedAll(lines, slices.ContainsFunc(recorded, func(u store.Update) bool { return u.Status == store.StatusDone }))
	// The index is written once Telegram has given the message its id.
	a := store.Answer{ChatID: m.Chat.ID, Update: updateID, ThreadID: threadOf(m), ReplyTo: m.ID, Text: text,
		Department: dept, Tasks: tasks, Stage: stageAck, At: b.now()}
	if kb := b.askKeyboard(m.Chat.ID, asked); kb != nil {
		if j, err := json.Marshal(kb); err == nil {
			a.Keyboard = string(j)
		}
	}
	return a
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
