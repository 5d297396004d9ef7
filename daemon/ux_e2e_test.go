package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

// shortMetric is task id's metric as the lists show it.
func (r *rig) shortMetric(tb testing.TB, id int) string {
	tb.Helper()
	task, ok := r.plan.Task(id)
	if !ok || task.Metric == "" {
		tb.Fatalf("task %d: no metric in the plan", id)
	}
	return i18n.ShortMetric(task.Metric)
}

// TestMetricsTellTasksApart: #24 and #25 share their goal; a nudge, /tasks and /status show
// each with its own metric.
func TestMetricsTellTasksApart(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg := r.tg
			m24, m25 := r.shortMetric(t, 24), r.shortMetric(t, 25)
			if m24 == m25 {
				t.Fatalf("ShortMetric: got %q for both #24 and #25, want them different", m24)
			}
			t24, _ := r.plan.Task(24)
			t25, _ := r.plan.Task(25)
			if t24.Goal != t25.Goal {
				t.Fatalf("the plan: got goals %q and %q, want #24 and #25 to share one", t24.Goal, t25.Goal)
			}

			sent := r.nudge(t, "市教育局", eduGroup.ID, 24, 25)
			nudge, _ := tg.StoredMessage(eduGroup.ID, sent.MessageIDs[0])
			for _, want := range []string{"#24 " + t24.Goal + "（" + m24 + "）", "#25 " + t25.Goal + "（" + m25 + "）"} {
				if !strings.Contains(nudge.Text, want) {
					t.Errorf("nudge: got\n%s\nwant it to contain %q", nudge.Text, want)
				}
			}
			one := r.nudge(t, "市教育局", eduGroup.ID, 25)
			if msg, _ := tg.StoredMessage(eduGroup.ID, one.MessageIDs[0]); !strings.Contains(msg.Text, m25) {
				t.Errorf("single-task nudge: got\n%s\nwant it to contain %q", msg.Text, m25)
			}

			tg.Send(eduGroup, clerk, "/tasks")
			list := r.waitText(t, eduGroup.ID, "「市教育局」未完成的任务")
			for _, want := range []string{"#24 " + t24.Goal + "（" + m24 + "）", "#25 " + t25.Goal + "（" + m25 + "）"} {
				if !strings.Contains(list.PlainText, want) {
					t.Errorf("/tasks: got\n%s\nwant it to contain %q", list.PlainText, want)
				}
			}

			// /status shows the metric under the goal, longer than the lists do.
			tg.Send(eduGroup, clerk, "/status 24")
			r.waitText(t, eduGroup.ID, "指标："+strings.TrimSuffix(m24, "…"))
			tg.Send(eduGroup, clerk, "/status 25")
			r.waitText(t, eduGroup.ID, "指标："+strings.TrimSuffix(m25, "…"))
		})
	}
}

// TestTickNudgeWithMetricsFits: the first tick's nudge lists all 33 of 市教育局's tasks with
// their metrics; every part stays within Telegram's limit and no item is cut in two.
func TestTickNudgeWithMetricsFits(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg := r.tg
			if _, err := r.d.Scheduler().Tick(context.Background(), time.Date(2026, 12, 1, 9, 0, 0, 0, cst)); err != nil {
				t.Fatal(err)
			}
			r.waitText(t, eduGroup.ID, "以下 33 项任务请报送进展")
			var all strings.Builder
			seen := map[string]bool{}
			for _, m := range tg.SentTo(eduGroup.ID) {
				if n := len(utf16.Encode([]rune(m.PlainText))); n > 4096 {
					t.Errorf("a message of %d UTF-16 units, want at most 4096", n)
				}
				for _, id := range taskRe.FindAllStringSubmatch(m.PlainText, -1) {
					seen[id[1]] = true
				}
				all.WriteString(m.PlainText)
			}
			if len(seen) != 33 {
				t.Errorf("got %d whole items in the nudge, want 33", len(seen))
			}
			for _, id := range []int{24, 25, 26, 27, 28} {
				if want := r.shortMetric(t, id); !strings.Contains(all.String(), want) {
					t.Errorf("the tick's nudge lacks #%d's metric %q", id, want)
				}
			}
		})
	}
}

// anonymousAdmin is the stand-in Telegram puts in From for an anonymous group admin.
var anonymousAdmin = telegramtest.User{ID: 1087968824, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}

// TestAdminOnlySaysHowToBecomeOne: a clerk refused an admin command is told its user id and
// where it goes.
func TestAdminOnlySaysHowToBecomeOne(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := freshRig(t, be)
			tg := r.tg
			tg.Send(telegramtest.PrivateChat(clerk), clerk, "/invite 市人社局")
			got := r.waitText(t, clerk.ID, "只有管理员可以使用这个命令")
			if !strings.Contains(got.PlainText, "telegram.admins") || !strings.Contains(got.PlainText, itoa(clerk.ID)) {
				t.Errorf("AdminOnly: got %q, want telegram.admins and the user id %d", got.PlainText, clerk.ID)
			}
			r.bindByInvite(t, "市教育局", eduGroup)
			tg.Send(eduGroup, clerk, "/departments")
			got = r.waitText(t, eduGroup.ID, "只有管理员可以使用这个命令")
			if !strings.Contains(got.PlainText, "telegram.admins") || !strings.Contains(got.PlainText, itoa(clerk.ID)) {
				t.Errorf("AdminOnly in a group: got %q, want telegram.admins and the user id %d", got.PlainText, clerk.ID)
			}

			// An anonymous group admin writes as the group, with a stand-in bot as From: its id
			// is not the person's, so the answer points to /whoami in a private chat.
			before := r.countText(eduGroup.ID, "只有管理员可以使用这个命令")
			tg.Enqueue(models.Update{Message: &models.Message{ID: 7001, Date: int(time.Now().Unix()), Chat: eduGroup,
				From: &anonymousAdmin, SenderChat: &eduGroup, Text: "/departments"}})
			eventually(t, "the anonymous admin answered", func() bool { return r.countText(eduGroup.ID, "只有管理员可以使用这个命令") == before+1 })
			msgs := tg.SentTo(eduGroup.ID)
			if got := msgs[len(msgs)-1].PlainText; !strings.Contains(got, "/whoami") || strings.Contains(got, itoa(anonymousAdmin.ID)) {
				t.Errorf("AdminOnly to an anonymous admin: got %q, want /whoami and not the stand-in's id %d", got, anonymousAdmin.ID)
			}
		})
	}
}

// TestWhoAmIPrivateOrGroup: in a private chat /whoami gives the user's id only; in a group it
// gives the group's too.
func TestWhoAmIPrivateOrGroup(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := freshRig(t, be)
			tg := r.tg
			tg.Send(telegramtest.PrivateChat(clerk), clerk, "/whoami")
			private := r.waitText(t, clerk.ID, "您的 ID："+itoa(clerk.ID))
			if strings.Contains(private.PlainText, "本群") {
				t.Errorf("/whoami in private: got %q, want no word of a group", private.PlainText)
			}
			r.bindByInvite(t, "市教育局", eduGroup)
			tg.Send(eduGroup, clerk, "/whoami")
			group := r.waitText(t, eduGroup.ID, "本群 ID："+itoa(eduGroup.ID))
			if !strings.Contains(group.PlainText, "您的用户 ID："+itoa(clerk.ID)) || !strings.Contains(group.PlainText, "本群绑定单位：市教育局") {
				t.Errorf("/whoami in the group: got %q, want the user's id and the group's department", group.PlainText)
			}
		})
	}
}

// TestSnoozeCapped: a snooze longer than MaxSnooze is refused with the limit and pauses
// nothing; 90 days is accepted.
func TestSnoozeCapped(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg, st := r.tg, r.store
			ctx := context.Background()

			tg.Send(eduGroup, clerk, "/snooze 16 120d")
			r.waitText(t, eduGroup.ID, "最长 90 天")
			if sn, err := st.Snoozes(ctx); err != nil || len(sn) != 0 {
				t.Errorf("after /snooze 16 120d: got snoozes %v, %v; want none", sn, err)
			}

			start := time.Now()
			tg.Send(eduGroup, clerk, "/snooze 16 90d")
			r.waitText(t, eduGroup.ID, "已暂停 #16（市教育局）的提醒")
			sn, err := st.Snoozes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			until, ok := sn["16|市教育局"]
			if want := start.Add(90 * 24 * time.Hour); !ok || until.Before(want.Add(-time.Minute)) || until.After(want.Add(time.Minute)) {
				t.Errorf("after /snooze 16 90d: got snoozes %v, want 16|市教育局 until about %s", sn, want)
			}
		})
	}
}

// TestStatusShowsAttachment: /status shows the file a department's last report came with.
func TestStatusShowsAttachment(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := boundRig(t, be)
			tg, st := r.tg, r.store
			ctx := context.Background()
			for i, u := range []store.Update{
				{Task: 16, Department: "市教育局", Text: "已报批 <附件>", Status: store.StatusInProgress,
					Attachment: &store.Attachment{Kind: "document", FileID: "f1", FileUniqueID: "u1", FileName: "用地指标批复.pdf", Size: 1024}},
				{Task: 22, Department: "市教育局", Status: store.StatusInProgress,
					Attachment: &store.Attachment{Kind: "photo", FileID: "f2", FileUniqueID: "u2"}},
			} {
				u.At, u.ChatID, u.MessageID, u.UserID, u.UserName, u.Source = time.Now(), eduGroup.ID, 900+i, clerk.ID, "王五", store.SourceReply
				if _, _, err := st.Record(ctx, int64(9000+i), []store.Update{u}); err != nil {
					t.Fatalf("Record: %v", err)
				}
			}
			tg.Send(eduGroup, clerk, "/status 16")
			r.waitText(t, eduGroup.ID, "王五：已报批 <附件> 📎 用地指标批复.pdf")
			tg.Send(eduGroup, clerk, "/status 22")
			r.waitText(t, eduGroup.ID, "王五：📎 图片")
		})
	}
}
