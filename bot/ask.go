package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/store"
)

// When a report's completion is uncertain ("10月底前完成", "已完成招标", "基本完成"), it is
// recorded as a note and its acknowledgement carries a row of buttons per such task:
// 记为：已完成 / 记为：进行中 / 仅作备注. A press on one of the first two records that status as
// a correction of the note, signed like the nudges' buttons; 仅作备注 records nothing more.
//
// The data is "a:<update id>:<choice>:<signature>", the signature an HMAC over the chat, the
// update and the choice, so it cannot be replayed in another chat or altered.

type askChoice struct {
	code   string
	status store.Status // "" keeps the note
}

var askChoices = []askChoice{
	{"d", store.StatusDone},
	{"p", store.StatusInProgress},
	{"n", ""},
}

func (b *Bot) signAsk(chatID int64, updateID, code string) string {
	mac := hmac.New(sha256.New, b.key)
	fmt.Fprintf(mac, "ask|%d|%s|%s", chatID, updateID, code)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
}

// askKeyboard is the buttons for the notes in asked, one row each; nil when there are none.
// The task number labels each button when there are several rows.
func (b *Bot) askKeyboard(chatID int64, asked []store.Update) *models.InlineKeyboardMarkup {
	if len(asked) == 0 {
		return nil
	}
	t := b.state().texts
	rows := make([][]models.InlineKeyboardButton, 0, len(asked))
	for _, u := range asked {
		row := make([]models.InlineKeyboardButton, 0, len(askChoices))
		for _, c := range askChoices {
			label := t.AskChoice(c.status)
			if len(asked) > 1 {
				label = fmt.Sprintf("#%d %s", u.Task, label)
			}
			row = append(row, models.InlineKeyboardButton{
				Text:         label,
				CallbackData: "a:" + u.ID + ":" + c.code + ":" + b.signAsk(chatID, u.ID, c.code),
			})
		}
		rows = append(rows, row)
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// parseAsk checks an ask button's data against the chat it was pressed in.
func (b *Bot) parseAsk(chatID int64, data string) (updateID string, choice askChoice, ok bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 4 || parts[0] != "a" {
		return "", askChoice{}, false
	}
	if _, _, err := store.ParseID(parts[1]); err != nil {
		return "", askChoice{}, false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(b.signAsk(chatID, parts[1], parts[2]))) {
		return "", askChoice{}, false
	}
	i := slices.IndexFunc(askChoices, func(c askChoice) bool { return c.code == parts[2] })
	if i < 0 {
		return "", askChoice{}, false
	}
	return parts[1], askChoices[i], true
}

// onAsk settles an uncertain report: the status pressed is recorded as a correction of the
// note, by the chat's department, and the choice is marked on the buttons.
func (b *Bot) onAsk(ctx context.Context, updateID int64, cq *models.CallbackQuery, m *models.Message, answer func(string)) error {
	t := b.state().texts
	noteID, choice, ok := b.parseAsk(m.Chat.ID, cq.Data)
	// An acknowledgement sent before the group became a supergroup is signed with its old id,
	// and its note recorded under it.
	former, err := b.formerChats(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	for _, c := range former {
		if ok {
			break
		}
		noteID, choice, ok = b.parseAsk(c, cq.Data)
	}
	if !ok {
		answer(t.ButtonInvalid())
		return nil
	}
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	if !bound {
		answer(t.NotBound())
		return nil
	}
	taskID, _, _ := store.ParseID(noteID)
	ups, err := b.store.Updates(ctx, taskID)
	if err != nil {
		return retry(err)
	}
	i := slices.IndexFunc(ups, func(u store.Update) bool { return u.ID == noteID })
	if i < 0 || ups[i].Department != binding.Department || ups[i].ChatID != m.Chat.ID && !slices.Contains(former, ups[i].ChatID) {
		answer(t.ButtonInvalid()) // not this department's note, or not from this chat
		return nil
	}
	if choice.status == "" {
		answer(t.AskKept(taskID))
		b.markAsked(ctx, m, noteID, choice.code)
		return nil
	}
	u := store.Update{
		Task: taskID, Department: binding.Department, At: b.now(), ChatID: m.Chat.ID, MessageID: m.ID,
		UserID: cq.From.ID, UserName: displayName(&cq.From), Text: t.AskChoice(choice.status),
		Status: choice.status, Source: sourceButton, Corrects: noteID, TelegramUpdate: updateID,
	}
	if _, ok, err := b.recordPress(ctx, updateID, u, answer); !ok {
		return err
	}
	answer(t.ButtonRecorded(choice.status))
	b.markAsked(ctx, m, noteID, choice.code)
	b.acknowledgePress(ctx, updateID, m, binding.Department, taskID, t.AskCorrected(taskID, choice.status))
	return nil
}

// markAsked puts ✅ on the button pressed for one note, and takes it off that note's others;
// the rows of other tasks in the same acknowledgement stay as they are.
func (b *Bot) markAsked(ctx context.Context, m *models.Message, noteID, code string) {
	if m.ReplyMarkup == nil {
		return
	}
	const mark = "✅ "
	rows := make([][]models.InlineKeyboardButton, len(m.ReplyMarkup.InlineKeyboard))
	for i, row := range m.ReplyMarkup.InlineKeyboard {
		rows[i] = slices.Clone(row)
		for j, btn := range rows[i] {
			parts := strings.Split(btn.CallbackData, ":")
			if len(parts) != 4 || parts[1] != noteID {
				continue
			}
			label := strings.TrimPrefix(btn.Text, mark)
			if parts[2] == code {
				label = mark + label
			}
			rows[i][j].Text = label
		}
	}
	b.later(m.Chat.ID, "keyboard update", func(ctx context.Context) error {
		_, err := b.tg.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{
			ChatID: m.Chat.ID, MessageID: m.ID, ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: rows},
		})
		return err
	})
}
