package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

// inChat is a message the bot sent before a group became a supergroup, as the supergroup shows
// it: Telegram keeps its id. The fake does not carry a group's history into its supergroup, so
// the updates that refer to such a message are queued by hand with it.
func inChat(m models.Message, chat telegramtest.Chat) *models.Message {
	m.Chat, m.ReplyToMessage = chat, nil
	return &m
}

// buttonData is the callback data of the button labelled label (✅ or not) under m.
func buttonData(tb testing.TB, m models.Message, label string) string {
	tb.Helper()
	if m.ReplyMarkup != nil {
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			for _, btn := range row {
				if strings.TrimPrefix(btn.Text, "✅ ") == label {
					return btn.CallbackData
				}
			}
		}
	}
	tb.Fatalf("message %d has no button %q: %+v", m.ID, label, m.ReplyMarkup)
	return ""
}

func press(tg *telegramtest.Server, chat telegramtest.Chat, m models.Message, data string) {
	tg.Enqueue(models.Update{CallbackQuery: &models.CallbackQuery{
		ID: "press-" + data[:12], From: clerk, ChatInstance: "1", Data: data,
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: inChat(m, chat)},
	}})
}

func lastUpdate(tb testing.TB, r *rig, task int) store.Update {
	tb.Helper()
	ups := r.updates(tb, task)
	if len(ups) == 0 {
		return store.Update{}
	}
	return ups[len(ups)-1]
}

// TestGroupUpgradeFollowsEarlierMessages: a department's group, written in config.yaml,
// becomes a supergroup. A reply in the supergroup to a nudge sent before is recorded on the
// nudge's task, the nudge's buttons and an acknowledgement's ask buttons still record, and a
// restart with config.yaml still naming the old id keeps the binding on the new one and says
// so to the supervisors and the admins.
func TestGroupUpgradeFollowsEarlierMessages(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			tg.AddChat(eduGroup)
			tg.AddChat(adminChat)
			c, p := testConfig(t, tg)
			c.Departments["市教育局"] = config.Chat{Chat: eduGroup.ID}
			st, reopen := be.open(t)
			r := startRig(t, tg, c, p, st)
			ctx := context.Background()
			boundTo := func(s daemon.Store, chat int64) bool {
				bs, err := s.Bindings(ctx)
				return err == nil && len(bs) == 1 && bs[0].Department == "市教育局" && bs[0].ChatID == chat
			}
			eventually(t, "config.yaml's chat bound", func() bool { return boundTo(st, eduGroup.ID) })

			// Before the upgrade: a nudge with its buttons, and an uncertain reply, kept as a
			// note and asked about.
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)
			nudge, _ := tg.StoredMessage(eduGroup.ID, sent.MessageIDs[0])
			tg.Reply(eduGroup, clerk, nudge.ID, "12月底前完成")
			asked := r.waitText(t, eduGroup.ID, "❓ #16 暂记为备注")
			ask, _ := tg.StoredMessage(eduGroup.ID, asked.MessageID)
			note := lastUpdate(t, r, 16)

			super := tg.MigrateGroup(eduGroup)
			eventually(t, "the binding moved to the supergroup", func() bool { return boundTo(st, super.ID) })

			// A reply in the supergroup to the nudge sent before.
			tg.Enqueue(models.Update{Message: &models.Message{
				ID: 900, From: &clerk, Chat: super, Date: int(time.Now().Unix()),
				Text: "进行中 60% 招生计划已下达", ReplyToMessage: inChat(nudge, super),
			}})
			r.waitText(t, super.ID, "已记录 #16 进行中 60%")
			if u := lastUpdate(t, r, 16); u.Status != store.StatusInProgress || u.ChatID != super.ID || u.MessageID != 900 {
				t.Errorf("the reply to the earlier nudge: got %+v, want in progress from chat %d message 900", u, super.ID)
			}

			// Its 已完成 button, signed for the old id.
			press(tg, super, nudge, buttonData(t, nudge, "已完成"))
			eventually(t, "the press on the earlier nudge recorded", func() bool {
				u := lastUpdate(t, r, 16)
				return u.Status == store.StatusDone && u.Source == store.SourceButton && u.ChatID == super.ID
			})
			r.waitText(t, super.ID, "已记录 #16 已完成")

			// The acknowledgement's 记为：进行中, for a note recorded under the old id.
			press(tg, super, ask, buttonData(t, ask, "记为：进行中"))
			eventually(t, "the press on the earlier question recorded", func() bool {
				u := lastUpdate(t, r, 16)
				return u.Corrects == note.ID && u.Status == store.StatusInProgress
			})

			// A restart with config.yaml still naming the old id.
			if err := r.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			be.closer(st)
			st2 := reopen(t)
			second := startRig(t, tg, c, p, st2)
			if !boundTo(st2, super.ID) {
				bs, _ := st2.Bindings(ctx)
				t.Errorf("after a restart with config.yaml naming %d: got bindings %+v, want 市教育局 on %d", eduGroup.ID, bs, super.ID)
			}
			for _, chat := range []int64{supGroup.ID, adminChat.ID} {
				m := second.waitText(t, chat, "已升级为超级群")
				if !strings.Contains(m.PlainText, itoa(eduGroup.ID)) || !strings.Contains(m.PlainText, itoa(super.ID)) {
					t.Errorf("notice to %d: got %q, want the old id %d and the new %d", chat, m.PlainText, eduGroup.ID, super.ID)
				}
			}
		})
	}
}
