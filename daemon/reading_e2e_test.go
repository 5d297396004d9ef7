package daemon_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

// troublePhrases are the words the issue found recorded as done, and more of their kind: none
// may ever be recorded as done.
var troublePhrases = []string{
	"无法按期完成，场地还没落实", "不能按期完成", "难以完成", "完成不了", "任务未按时完成", "待完成",
	"预计年底完成", "12月底前完成", "not yet done", "进度99.5%", "未完成", "尚未完成", "还没完成",
	"无法按期完成", "not done yet", "计划6月完成", "力争年底完成", "确保按期完成", "年底前完成", "6月完成",
	"基本完成", "已完成一半", "完成了三分之二", "一期已完成、二期在建", "已完成招标", "已完成前期调研",
	"遇到困难", "资金未到位", "受阻", "延期", "进展缓慢", "未开始", "尚未启动", "还没开始", "已完成？",
}

// notDoneCorpus is every phrase of the status corpus that must not read as done.
func notDoneCorpus(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("../report/testdata/status.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) == 4 && cols[1] != "done" && !strings.Contains(cols[0], `\n`) {
			out = append(out, cols[0])
		}
	}
	return out
}

// TestNeverDoneOnTrouble sends the phrases the issue found recorded as done, as /report and as
// a reply to a single-task nudge, and every corpus phrase that is not a completion as
// /report, on each store: none is recorded as done, and each is acknowledged.
func TestNeverDoneOnTrouble(t *testing.T) {
	corpus := notDoneCorpus(t)
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg := r.tg

			sent := r.nudge(t, "市教育局", eduGroup.ID, 19)
			acked := func() int { return r.countText(eduGroup.ID, "已记录 #") }
			before := acked()
			// The phrases as /report and as replies; the whole corpus as /report.
			for _, ph := range troublePhrases {
				tg.Send(eduGroup, clerk, "/report 16 "+ph)
				tg.Reply(eduGroup, clerk, sent.MessageIDs[0], ph)
			}
			for _, ph := range corpus {
				tg.Send(eduGroup, clerk, "/report 36 "+ph)
			}
			defer func() {
				if t.Failed() {
					for _, m := range tg.SentTo(eduGroup.ID) {
						if !strings.Contains(m.PlainText, "已记录 #") {
							t.Logf("not an ack: %q", m.PlainText)
						}
					}
				}
			}()
			want := before + 2*len(troublePhrases) + len(corpus)
			// A bounded count, not a timing: under -race on a busy machine 400 replies take a while.
			tg.WaitFor(t, 2*time.Minute, "every phrase acknowledged", func() bool { return acked() >= want })
			for task, n := range map[int]int{16: len(troublePhrases), 19: len(troublePhrases), 36: len(corpus)} {
				ups := r.updates(t, task)
				if len(ups) != n {
					t.Errorf("task %d: got %d updates, want %d", task, len(ups), n)
				}
				for _, u := range ups {
					if u.Status == store.StatusDone || u.Percent != nil && *u.Percent == 100 {
						t.Errorf("task %d: %q recorded as %s %v, want never done", task, u.Text, u.Status, *u.Percent)
					}
				}
			}
			if n := r.countText(eduGroup.ID, "不再提醒"); n != 0 {
				t.Errorf("got %d acknowledgements saying the task is done, want 0", n)
			}
			t.Logf("%d phrases as /report and as a reply, %d more as /report: none recorded as done", len(troublePhrases), len(corpus))
		})
	}
}

// TestAskWhenUnsure: an uncertain completion is kept as a note and asked about with buttons;
// a press records the status as a correction of that note, and 仅作备注 records nothing more.
func TestAskWhenUnsure(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg := r.tg

			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)
			tg.Reply(eduGroup, clerk, sent.MessageIDs[0], "12月底前完成")
			ack := r.waitText(t, eduGroup.ID, "❓ #16 暂记为备注")
			if !strings.Contains(ack.PlainText, "已记录 #16 备注") || strings.Contains(ack.PlainText, "不再提醒") {
				t.Errorf("ack: got %q, want a note and the question, not done", ack.PlainText)
			}
			ups := r.updates(t, 16)
			if len(ups) != 1 || ups[0].Status != "" || ups[0].Text != "12月底前完成" {
				t.Fatalf("after an uncertain reply: got %+v, want one note with the words", ups)
			}
			stored, _ := tg.StoredMessage(eduGroup.ID, ack.MessageID)
			kb := stored.ReplyMarkup
			if kb == nil || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 3 {
				t.Fatalf("ask keyboard: got %+v, want one row of 3 buttons", kb)
			}
			labels := []string{kb.InlineKeyboard[0][0].Text, kb.InlineKeyboard[0][1].Text, kb.InlineKeyboard[0][2].Text}
			if strings.Join(labels, "|") != "记为：已完成|记为：进行中|仅作备注" {
				t.Errorf("ask buttons: got %q, want 记为：已完成|记为：进行中|仅作备注", labels)
			}

			// Altered data, or the same data pressed in another chat, records nothing. (The fake
			// refuses to answer presses not made through Press; the bot's attempt to answer is
			// the sign that the update was handled.)
			data := kb.InlineKeyboard[0][0].CallbackData
			calls := tg.Calls("answerCallbackQuery")
			forged := []byte(data)
			forged[len(forged)-1] ^= 1
			foreign := stored
			foreign.Chat = hrGroup
			for _, cq := range []*models.CallbackQuery{
				{ID: "forged", From: clerk, Data: string(forged), Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &stored}},
				{ID: "foreign", From: clerk, Data: data, Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &foreign}},
			} {
				tg.Enqueue(models.Update{CallbackQuery: cq})
			}
			tg.WaitFor(t, 10*time.Second, "both presses handled", func() bool { return tg.Calls("answerCallbackQuery") >= calls+2 })
			if n := len(r.updates(t, 16)); n != 1 {
				t.Errorf("after forged presses: got %d updates, want 1", n)
			}

			// 记为：已完成 records done as a correction of the note, signed by the presser.
			tg.Press(eduGroup, clerk, ack.MessageID, data)
			r.waitText(t, eduGroup.ID, "已更正 #16 为：已完成")
			ups = r.updates(t, 16)
			if len(ups) != 2 || ups[1].Status != store.StatusDone || ups[1].Corrects != ups[0].ID ||
				ups[1].Source != store.SourceButton || ups[1].UserID != clerk.ID {
				t.Fatalf("after the press: got %+v, want a done correcting %s by %d", ups, ups[0].ID, clerk.ID)
			}
			marked, _ := tg.StoredMessage(eduGroup.ID, ack.MessageID)
			if got := marked.ReplyMarkup.InlineKeyboard[0][0].Text; got != "✅ 记为：已完成" {
				t.Errorf("pressed button: got %q, want it marked ✅", got)
			}

			// 仅作备注 keeps the note and records nothing more.
			tg.Send(eduGroup, clerk, "/report 19 已完成招标")
			ack2 := r.waitText(t, eduGroup.ID, "❓ #19 暂记为备注")
			stored2, _ := tg.StoredMessage(eduGroup.ID, ack2.MessageID)
			tg.Press(eduGroup, clerk, ack2.MessageID, stored2.ReplyMarkup.InlineKeyboard[0][2].CallbackData)
			r.tg.WaitFor(t, 10*time.Second, "the note kept", func() bool {
				for _, a := range tg.CallbackAnswers() {
					if strings.Contains(a.Text, "#19 保留为备注") {
						return true
					}
				}
				return false
			})
			if ups := r.updates(t, 19); len(ups) != 1 || ups[0].Status != "" {
				t.Errorf("after 仅作备注: got %+v, want the one note", ups)
			}

			// A certain report is not asked about.
			tg.Send(eduGroup, clerk, "/report 22 #22 进行中 60% 招生计划已下达")
			plain := r.waitText(t, eduGroup.ID, "已记录 #22 进行中 60%")
			if s, _ := tg.StoredMessage(eduGroup.ID, plain.MessageID); s.ReplyMarkup != nil {
				t.Errorf("a certain report got buttons: %+v", s.ReplyMarkup)
			}
		})
	}
}

// TestRepliesKeepTheirTask: a date-led reply to an acknowledgement stays on its task, a
// multi-task reply stores each task's own lines, an empty /report asks for words, and a
// message from an anonymous admin is the department's.
func TestRepliesKeepTheirTask(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg := r.tg

			// "10 月底前完成" under the acknowledgement of #22 is about #22, not #10.
			tg.Send(eduGroup, clerk, "/report 22 进行中 40%")
			ack := r.waitText(t, eduGroup.ID, "已记录 #22 进行中 40%")
			tg.Reply(eduGroup, clerk, ack.MessageID, "10 月底前完成")
			r.waitText(t, eduGroup.ID, "❓ #22 暂记为备注")
			if ups := r.updates(t, 22); len(ups) != 2 || ups[1].Text != "10 月底前完成" || ups[1].Status != "" {
				t.Errorf("task 22: got %+v, want the date-led reply as a note on it", ups)
			}
			if ups := r.updates(t, 10); len(ups) != 0 {
				t.Errorf("task 10: got %+v, want nothing", ups)
			}
			// Under a single-task nudge, a bare leading number is words; #N names a task.
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)
			tg.Reply(eduGroup, clerk, sent.MessageIDs[0], "3 所学校已完成验收，2 所在建")
			r.waitText(t, eduGroup.ID, "已记录 #16 进行中")
			if ups := r.updates(t, 16); len(ups) != 1 || ups[0].Text != "3 所学校已完成验收，2 所在建" {
				t.Errorf("task 16: got %+v, want the reply on it", ups)
			}

			// Each task of a multi-task reply keeps only its own lines.
			multi := r.nudge(t, "市教育局", eduGroup.ID, 19, 30)
			tg.Reply(eduGroup, clerk, multi.MessageIDs[0], "#19 遇到困难\n资金未到位\n#30 已完成 验收材料已报")
			r.waitText(t, eduGroup.ID, "已记录 #19 遇到困难")
			u19, u30 := r.updates(t, 19), r.updates(t, 30)
			if len(u19) != 1 || u19[0].Text != "#19 遇到困难\n资金未到位" {
				t.Errorf("task 19: got %+v, want only its own lines", u19)
			}
			if len(u30) != 1 || u30[0].Text != "#30 已完成 验收材料已报" || u30[0].Status != store.StatusDone {
				t.Errorf("task 30: got %+v, want only its own line, done", u30)
			}
			tg.Send(eduGroup, clerk, "/status 19")
			status := r.waitText(t, eduGroup.ID, "资金未到位")
			if strings.Contains(status.PlainText, "验收材料已报") {
				t.Errorf("/status 19 shows #30's words: %q", status.PlainText)
			}

			// "/report 36" with no words asks for them and records nothing.
			tg.Send(eduGroup, clerk, "/report 36")
			r.waitText(t, eduGroup.ID, "请写明 #36 的进展")
			if ups := r.updates(t, 36); len(ups) != 0 {
				t.Errorf("an empty /report recorded %+v, want nothing", ups)
			}

			// An anonymous admin speaks for the group: recorded under the group's name.
			tg.SendAsChat(eduGroup, eduGroup, 0, "/report 36 进行中 30% 方案已报")
			r.waitText(t, eduGroup.ID, "已记录 #36 进行中 30%")
			if ups := r.updates(t, 36); len(ups) != 1 || ups[0].UserID != eduGroup.ID || ups[0].UserName != eduGroup.Title {
				t.Errorf("anonymous admin: got %+v, want recorded as the group %d %q", ups, eduGroup.ID, eduGroup.Title)
			}
			// So does a member posting as a channel, replying to a nudge.
			channel := telegramtest.Chat{ID: -100777, Type: "channel", Title: "市教育局发布"}
			tg.SendAsChat(eduGroup, channel, sent.MessageIDs[0], "进行中 70%")
			r.waitText(t, eduGroup.ID, "已记录 #16 进行中 70%")
			if ups := r.updates(t, 16); len(ups) != 2 || ups[1].UserName != channel.Title {
				t.Errorf("channel post: got %+v, want recorded as %q", ups, channel.Title)
			}
		})
	}
}
