package daemon_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

var codeRe = regexp.MustCompile(`startgroup=([a-z0-9]+)`)

// invite runs /invite as the admin in a private chat and returns the code.
func (r *rig) invite(tb testing.TB, dept string) string {
	tb.Helper()
	before := len(r.tg.SentTo(adminChat.ID))
	r.tg.Send(adminChat, admin, "/invite "+dept)
	var code string
	r.tg.WaitFor(tb, 10*time.Second, "an invite for "+dept, func() bool {
		sent := r.tg.SentTo(adminChat.ID)
		for _, m := range sent[before:] {
			if mm := codeRe.FindStringSubmatch(m.PlainText); mm != nil {
				code = mm[1]
				return true
			}
		}
		return false
	})
	return code
}

func (r *rig) nudge(tb testing.TB, dept string, chat int64, tasks ...int) store.Sent {
	tb.Helper()
	var items []i18n.NudgeItem
	var keys []string
	for _, id := range tasks {
		task, _ := r.plan.Task(id)
		items = append(items, i18n.NudgeItem{Task: id, Goal: task.Goal, Deadline: task.Deadline, DaysLeft: 7, Stage: "before", Status: store.StatusNotStarted})
		keys = append(keys, strconv.Itoa(id)+"|"+dept+"|before:7d")
	}
	sent, err := r.d.Bot().Nudge(context.Background(), dept, chat, items, keys)
	if err != nil {
		tb.Fatalf("SendNudge: %v", err)
	}
	return sent
}

// TestDepartmentFlow is a department's whole day in chat, on each store: bound by an invite,
// nudged, replying, pressing buttons, using commands, being refused, correcting itself.
func TestDepartmentFlow(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := freshRig(t, be)
			tg, st := r.tg, r.store
			ctx := context.Background()

			// Commands are registered in both languages.
			if len(tg.Commands("en")) == 0 || len(tg.Commands("zh")) == 0 {
				t.Errorf("setMyCommands: got en %d zh %d commands, want both set", len(tg.Commands("en")), len(tg.Commands("zh")))
			}

			// Binding: an admin's invite, then the deep link adds the bot to the group.
			code := r.invite(t, "市教育局")
			tg.AddBotToGroup(eduGroup, admin, code)
			r.waitText(t, eduGroup.ID, "本群已绑定为「市教育局」，共 33 项任务")
			bindings, err := st.Bindings(ctx)
			if err != nil || len(bindings) != 1 || bindings[0].Department != "市教育局" || bindings[0].ChatID != eduGroup.ID || bindings[0].BoundBy != admin.ID {
				t.Fatalf("bindings: got %+v, %v; want 市教育局 on %d bound by %d", bindings, err, eduGroup.ID, admin.ID)
			}
			// A code works once; the same /bind again in the bound group (as a redelivery would
			// bring it) says the group is bound rather than that the code is bad.
			tg.AddBotToGroup(hrGroup, admin, "")
			tg.Send(hrGroup, admin, "/bind "+code)
			r.waitText(t, hrGroup.ID, "绑定码无效、已使用或已过期")
			before := r.countText(eduGroup.ID, "本群已绑定为「市教育局」")
			tg.Send(eduGroup, admin, "/bind "+code)
			eventually(t, "the repeated bind answered", func() bool { return r.countText(eduGroup.ID, "本群已绑定为「市教育局」") == before+1 })
			// A non-admin cannot invite.
			tg.Send(telegramtest.PrivateChat(clerk), clerk, "/invite 市人社局")
			r.waitText(t, clerk.ID, "只有管理员可以使用这个命令")

			// A single-task nudge has the three status buttons.
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)
			nudgeMsg, _ := tg.StoredMessage(eduGroup.ID, sent.MessageIDs[0])
			if nudgeMsg.ReplyMarkup == nil || len(nudgeMsg.ReplyMarkup.InlineKeyboard[0]) != 3 {
				t.Fatalf("nudge keyboard: got %+v, want one row of 3 buttons", nudgeMsg.ReplyMarkup)
			}

			// Reply to the nudge: recorded, then acknowledged.
			replyText := "进行中 60% 招生计划已下达 <b>附表</b> & 说明"
			reply := tg.Reply(eduGroup, clerk, sent.MessageIDs[0], replyText)
			ack := r.waitText(t, eduGroup.ID, "已记录 #16 进行中 60%")
			if ack.ReplyToMessageID != reply.ID {
				t.Errorf("ack replies to %d, want the clerk's message %d", ack.ReplyToMessageID, reply.ID)
			}
			ups := r.updates(t, 16)
			if len(ups) != 1 {
				t.Fatalf("task 16: got %d updates, want 1", len(ups))
			}
			u := ups[0]
			if u.Department != "市教育局" || u.Status != store.StatusInProgress || u.Percent == nil || *u.Percent != 60 ||
				u.Text != replyText || u.Source != store.SourceReply || u.UserID != clerk.ID || u.UserName != "王五" ||
				u.ChatID != eduGroup.ID || u.MessageID != reply.ID {
				t.Errorf("task 16 update: got %+v", u)
			}

			// A reply to the acknowledgement adds to the same task.
			tg.Reply(eduGroup, clerk, ack.MessageID, "补充：已报送方案")
			r.waitText(t, eduGroup.ID, "已记录 #16 备注")
			if ups := r.updates(t, 16); len(ups) != 2 || ups[1].Status != "" || ups[1].Text != "补充：已报送方案" {
				t.Errorf("a reply to the acknowledgement: got %+v, want a note on task 16", ups[len(ups)-1])
			}

			// Button: recorded, answered, keyboard marked, details invited.
			var doneData string
			for _, b := range nudgeMsg.ReplyMarkup.InlineKeyboard[0] {
				if b.Text == "已完成" {
					doneData = b.CallbackData
				}
			}
			cbID := tg.Press(eduGroup, clerk, sent.MessageIDs[0], doneData)
			tg.WaitFor(t, 10*time.Second, "the button answered", func() bool {
				for _, a := range tg.CallbackAnswers() {
					if a.CallbackQueryID == cbID {
						return true
					}
				}
				return false
			})
			if got := tg.CallbackAnswers()[0].Text; got != "已记录：已完成" {
				t.Errorf("callback answer: got %q, want 已记录：已完成", got)
			}
			r.waitText(t, eduGroup.ID, "已记录 #16 已完成。请回复本消息补充具体进展")
			edits := tg.Edits()
			if len(edits) != 1 || !strings.Contains(string(edits[0].ReplyMarkupJSON), "✅ 已完成") {
				t.Errorf("keyboard edit: got %+v, want one edit marking ✅ 已完成", edits)
			}
			if ups := r.updates(t, 16); len(ups) != 3 || ups[2].Status != store.StatusDone || ups[2].Source != store.SourceButton {
				t.Errorf("after the button: got %+v, want a third update, done, by button", ups)
			}

			// Altered button data records nothing. (The fake only knows presses made through
			// Press, so it refuses to answer these; the bot's attempt to answer is the sign
			// that the update was handled.)
			bad := []byte(doneData)
			bad[len(bad)-1] ^= 1
			tg.Enqueue(models.Update{CallbackQuery: &models.CallbackQuery{
				ID: "forged", From: clerk, Data: string(bad),
				Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &nudgeMsg},
			}})
			r.waitAnswerAttempts(t, 1)
			// The same button data pressed in another chat records nothing either.
			foreign := nudgeMsg
			foreign.Chat = hrGroup
			tg.Enqueue(models.Update{CallbackQuery: &models.CallbackQuery{
				ID: "foreign", From: clerk, Data: doneData,
				Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &foreign},
			}})
			r.waitAnswerAttempts(t, 2)
			if n := len(r.updates(t, 16)); n != 3 {
				t.Errorf("after forged presses: got %d updates on task 16, want still 3", n)
			}

			// A nudge listing several tasks needs the task number in the reply.
			multi := r.nudge(t, "市教育局", eduGroup.ID, 22, 30)
			tg.Reply(eduGroup, clerk, multi.MessageIDs[0], "已完成")
			r.waitText(t, eduGroup.ID, "这条提醒包含多项任务（#22、#30）")
			if n := len(r.updates(t, 22)) + len(r.updates(t, 30)); n != 0 {
				t.Errorf("an ambiguous reply recorded %d updates, want 0", n)
			}
			tg.Reply(eduGroup, clerk, multi.MessageIDs[0], "#22 进行中 50%\n#30 已完成")
			if ack := r.waitText(t, eduGroup.ID, "已记录 #22 进行中 50%"); !strings.Contains(ack.PlainText, "已记录 #30 已完成") {
				t.Errorf("multi-task ack: got %q, want #22 and #30 in one message", ack.PlainText)
			}
			if u22, u30 := r.updates(t, 22), r.updates(t, 30); len(u22) != 1 || len(u30) != 1 || u30[0].Status != store.StatusDone {
				t.Errorf("multi-task reply: got task 22 %+v, task 30 %+v", u22, u30)
			}

			// Commands.
			tg.Send(eduGroup, clerk, "/report 36 遇到困难 资金未到位")
			r.waitText(t, eduGroup.ID, "已记录 #36 遇到困难")
			tg.Send(eduGroup, clerk, "/report@"+tg.BotUsername()+" 12 已完成")
			r.waitText(t, eduGroup.ID, "未记录：#12 不是市教育局的任务。")
			if n := len(r.updates(t, 12)); n != 0 {
				t.Errorf("a refused report recorded %d updates on task 12, want 0", n)
			}
			tg.Send(hrGroup, clerk, "/report 17 已完成")
			r.waitText(t, hrGroup.ID, "本群还没有绑定责任单位")
			if n := len(r.updates(t, 17)); n != 0 {
				t.Errorf("a report from an unbound chat recorded %d updates, want 0", n)
			}
			tg.Send(eduGroup, clerk, "/tasks")
			r.waitText(t, eduGroup.ID, "「市教育局」未完成的任务")
			tg.Send(eduGroup, clerk, "/status 16")
			r.waitText(t, eduGroup.ID, "• 市教育局（牵头）：已完成 100%")

			// An edit is a correction: a new update that points at the one it corrects.
			tg.Edit(eduGroup, clerk, reply.ID, "进行中 80% 招生计划已下达")
			r.waitText(t, eduGroup.ID, "已记录 #16 进行中 80%（更正）")
			ups = r.updates(t, 16)
			if len(ups) != 4 || ups[3].Corrects != ups[0].ID || *ups[3].Percent != 80 {
				t.Errorf("correction: got %+v, want a third update correcting %s", ups[len(ups)-1], ups[0].ID)
			}

			// An edited /report is a correction too.
			cmd := tg.Send(eduGroup, clerk, "/report 22 进行中 70%")
			r.waitText(t, eduGroup.ID, "已记录 #22 进行中 70%")
			tg.Edit(eduGroup, clerk, cmd.ID, "/report 22 进行中 75%")
			r.waitText(t, eduGroup.ID, "已记录 #22 进行中 75%（更正）")
			if u22 := r.updates(t, 22); len(u22) != 3 || u22[2].Corrects != u22[1].ID {
				t.Errorf("corrected command: got %+v, want the third update correcting the second", u22)
			}

			// Kicked: the binding is broken and the supervisors hear of it.
			tg.Kick(eduGroup)
			r.waitText(t, supGroup.ID, "无法再向「市教育局」的群发送消息")
			bindings, _ = st.Bindings(ctx)
			if len(bindings) != 1 || bindings[0].Broken == "" {
				t.Errorf("after the kick: got bindings %+v, want 市教育局's marked broken", bindings)
			}
			// Added back, the group is the department's again.
			tg.AddBotToGroup(eduGroup, admin, "")
			eventually(t, "the binding mended", func() bool {
				b, _ := st.Bindings(ctx)
				return len(b) == 1 && b[0].Broken == "" && b[0].ChatID == eduGroup.ID
			})
		})
	}
}

// TestGroupUpgradeKeepsBinding: a group that becomes a supergroup keeps its department.
func TestGroupUpgradeKeepsBinding(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := freshRig(t, be)
			tg := r.tg
			r.bindByInvite(t, "市人社局", hrGroup)
			super := tg.MigrateGroup(hrGroup)
			eventually(t, "the binding moved", func() bool {
				b, _ := r.store.Bindings(context.Background())
				return len(b) == 1 && b[0].ChatID == super.ID
			})
			r.nudge(t, "市人社局", super.ID, 12)
			tg.Send(super, clerk, "/report 12 进行中 30%")
			r.waitText(t, super.ID, "已记录 #12 进行中 30%")
		})
	}
}

// TestRestartNeitherLosesNorDoubles: the daemon dies right after a reply is stored, before
// it is acknowledged or confirmed to Telegram. The next daemon gets the update again,
// records it once and acknowledges it.
func TestRestartNeitherLosesNorDoubles(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			c, p := testConfig(t, tg)
			real, reopen := be.open(t)
			fs := &faultyStore{Store: real}
			r := startRig(t, tg, c, p, fs)
			r.bindByInvite(t, "市教育局", eduGroup)
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)

			crashed := make(chan struct{})
			crash := func() {
				go r.stop() // the process dies with the record stored and nothing else done
				<-crashed
			}
			fs.afterRecord.Store(&crash)
			tg.Reply(eduGroup, clerk, sent.MessageIDs[0], "进行中 40%")
			eventually(t, "the record stored", func() bool { return len(r.updates(t, 16)) == 1 })
			close(crashed)
			if err := r.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if got := r.countText(eduGroup.ID, "已记录 #16"); got != 0 {
				t.Logf("the first daemon acknowledged before dying (%d), which is allowed", got)
			}

			be.closer(real) // the dead process's lock and connections go with it
			second := startRig(t, tg, c, p, reopen(t))
			second.waitText(t, eduGroup.ID, "已记录 #16 进行中 40%")
			if n := len(second.updates(t, 16)); n != 1 {
				t.Errorf("after the restart: got %d updates on task 16, want exactly 1", n)
			}
			tg.WaitFor(t, 10*time.Second, "the update confirmed to Telegram", func() bool { return tg.Pending() == 0 })
		})
	}
}

// TestStoreOutageHoldsUpdates: while the store fails, the reply stays with Telegram
// (unconfirmed), the department hears nothing, and once the store answers it is recorded and
// acknowledged once.
func TestStoreOutageHoldsUpdates(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			c, p := testConfig(t, tg)
			real, _ := be.open(t)
			fs := &faultyStore{Store: real}
			r := startRig(t, tg, c, p, fs)
			r.bindByInvite(t, "市教育局", eduGroup)
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)

			// A bind that fails half-way (the code redeemed, the binding not written) is
			// retried and works: the code was put back.
			fs.failBinds.Store(1)
			r.bindByInvite(t, "市人社局", hrGroup)

			fs.failRecords.Store(5)
			tg.Reply(eduGroup, clerk, sent.MessageIDs[0], "进行中 40%")
			eventually(t, "the failing attempts", func() bool { return fs.failRecords.Load() <= 0 })
			r.waitText(t, eduGroup.ID, "已记录 #16 进行中 40%")
			if n := len(r.updates(t, 16)); n != 1 {
				t.Errorf("got %d updates on task 16, want 1", n)
			}
			if n := r.countText(eduGroup.ID, "已记录 #16"); n != 1 {
				t.Errorf("got %d acknowledgements, want 1", n)
			}
		})
	}
}

// TestHealthAndMetrics reads /healthz and /metrics as a monitoring system would.
func TestHealthAndMetrics(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.WithoutLimits())
	c, p := testConfig(t, tg)
	st, _ := backends(t)[0].open(t)
	r := startRig(t, tg, c, p, st)
	tg.Send(adminChat, admin, "/help")
	r.waitText(t, adminChat.ID, "如何报送进展")

	resp, err := http.Get("http://" + r.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health["store"] != "ok" || health["telegram_last_ok"] == "" {
		t.Errorf("/healthz: got %d %v, want 200 with the store ok and a last Telegram contact", resp.StatusCode, health)
	}
	// The update is counted once its handler returns, just after the reply went out.
	var body string
	eventually(t, "the /help update counted", func() bool {
		resp, err := http.Get("http://" + r.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(raw)
		return strings.Contains(body, `duban_updates_handled_total{kind="message"} 1`)
	})
	for _, want := range []string{`duban_telegram_sends_total{outcome="sent"}`, "duban_update_handler_seconds_bucket", "duban_store_errors_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestRejectedTokenStopsTheDaemon: a token revoked while running ends the daemon with an
// error, instead of leaving it up and deaf.
func TestRejectedTokenStopsTheDaemon(t *testing.T) {
	tg := telegramtest.New(t, telegramtest.WithoutLimits())
	c, p := testConfig(t, tg)
	st, _ := backends(t)[0].open(t)
	r := startRig(t, tg, c, p, st)
	tg.FailNext("getUpdates", 1, 401, "Unauthorized", 0)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon is still running after Telegram rejected its token")
	}
	if r.runErr == nil || !strings.Contains(r.runErr.Error(), "telegram rejected the bot token") {
		t.Errorf("got %v, want an error saying the token was rejected", r.runErr)
	}
	r.stop = func() error { return nil } // it has stopped
}
