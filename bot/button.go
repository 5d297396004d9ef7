package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/store"
)

// Buttons on a single-task nudge carry "s:<task>:<status>:<signature>". The signature is an
// HMAC over the chat, the task and the status, so a button pressed in another chat, or data
// altered by a client, records nothing. It fits Telegram's 64-byte callback_data.
type buttonStatus struct {
	code   string
	status store.Status
}

var buttonStatuses = []buttonStatus{
	{"p", store.StatusInProgress},
	{"d", store.StatusDone},
	{"b", store.StatusBlocked},
}

func (b *Bot) sign(chatID int64, task int, code string) string {
	mac := hmac.New(sha256.New, b.key)
	fmt.Fprintf(mac, "%d|%d|%s", chatID, task, code)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
}

// keyboard is the row of status buttons for one task in one chat; chosen marks the status
// last pressed.
func (b *Bot) keyboard(chatID int64, task int, chosen store.Status) *models.InlineKeyboardMarkup {
	t := b.state().texts
	row := make([]models.InlineKeyboardButton, 0, len(buttonStatuses))
	for _, bs := range buttonStatuses {
		label := t.Button(bs.status)
		if bs.status == chosen {
			label = "✅ " + label
		}
		row = append(row, models.InlineKeyboardButton{
			Text:         label,
			CallbackData: fmt.Sprintf("s:%d:%s:%s", task, bs.code, b.sign(chatID, task, bs.code)),
		})
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

// parseButton checks a button's data against the chat it was pressed in.
func (b *Bot) parseButton(chatID int64, data string) (int, store.Status, bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 4 || parts[0] != "s" {
		return 0, "", false
	}
	task, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, "", false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(b.sign(chatID, task, parts[2]))) {
		return 0, "", false
	}
	i := slices.IndexFunc(buttonStatuses, func(bs buttonStatus) bool { return bs.code == parts[2] })
	if i < 0 {
		return 0, "", false
	}
	return task, buttonStatuses[i].status, true
}

// onButton records a status pressed on a nudge, answers the press, marks the choice on the
// keyboard and invites a reply with details.
func (b *Bot) onButton(ctx context.Context, updateID int64, cq *models.CallbackQuery) error {
	st := b.state()
	t := st.texts
	m := cq.Message.Message
	// A press is answered at once, not queued behind the chat's messages: Telegram shows the
	// button loading until then, and the call is not under the messages' rate limits. The
	// timeout bounds how long a slow Telegram holds this chat's lane.
	answer := func(text string) {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := b.tg.AnswerCallbackQuery(actx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: text}); err != nil {
			b.log.Warn("callback not answered", "err", err)
		}
	}
	if m == nil {
		answer(t.ButtonExpired())
		return nil
	}
	if strings.HasPrefix(cq.Data, "a:") {
		return b.onAsk(ctx, updateID, cq, m, answer)
	}
	taskID, status, ok := b.parseButton(m.Chat.ID, cq.Data)
	if !ok {
		// A nudge sent before the group became a supergroup is signed with its old id.
		former, err := b.formerChats(ctx, m.Chat.ID)
		if err != nil {
			return err
		}
		for _, c := range former {
			if taskID, status, ok = b.parseButton(c, cq.Data); ok {
				break
			}
		}
	}
	if !ok {
		answer(t.ButtonInvalid())
		return nil
	}
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	task, known := st.plan.Task(taskID)
	switch {
	case !bound:
		answer(t.NotBound())
		return nil
	case !known:
		answer(t.UnknownTask(taskID))
		return nil
	case !slices.Contains(task.Responsible, binding.Department):
		answer(t.NotYourTask(taskID, binding.Department))
		return nil
	}
	u := store.Update{
		Task: taskID, Department: binding.Department, At: b.now(), ChatID: m.Chat.ID, MessageID: m.ID,
		UserID: cq.From.ID, UserName: displayName(&cq.From), Text: t.Button(status),
		Status: status, Source: sourceButton, TelegramUpdate: updateID,
	}
	recorded, ok, err := b.recordPress(ctx, updateID, u, answer)
	if !ok {
		return err
	}
	answer(t.ButtonRecorded(status))
	marked := b.keyboard(m.Chat.ID, taskID, recorded[0].Status)
	b.later(m.Chat.ID, "keyboard update", func(ctx context.Context) error {
		_, err := b.tg.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: m.Chat.ID, MessageID: m.ID, ReplyMarkup: marked})
		return err
	})
	b.acknowledgePress(ctx, updateID, m, binding.Department, taskID, t.ButtonInviteDetails(taskID, recorded[0].Status))
	return nil
}

// recordPress records what a button press says; a press on 已完成 counts as 100%. When it is
// not recorded, ok is false and either err asks for the update again (the press is left
// unanswered: Telegram shows the button loading, and it can be pressed again) or the press was
// answered with the refusal.
func (b *Bot) recordPress(ctx context.Context, updateID int64, u store.Update, answer func(string)) (recorded []store.Update, ok bool, err error) {
	if u.Status == store.StatusDone {
		full := 100
		u.Percent = &full
	}
	recorded, _, err = b.store.Record(ctx, updateID, []store.Update{u})
	if err != nil {
		if err = retry(err); IsRetry(err) {
			return nil, false, err
		}
		answer(b.state().texts.CouldNotRecord())
		return nil, false, nil
	}
	return recorded, true, nil
}
