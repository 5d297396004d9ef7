package main

import (
	"context"
	"fmt"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/sender"
)

// cst is the generated plans' time zone; every tick is at 09:00 on 2026-12-01 there.
var cst = time.FixedZone("CST", 8*3600)

var tickAt = time.Date(2026, 12, 1, 9, 0, 0, 0, cst)

// longGoal is a goal long enough that a department with many tasks gets a nudge of several
// parts (the nudge cuts a goal to 40 characters).
const longGoal = "完善职业教育和培训体系深化产教融合校企合作推动职业教育高质量发展提升技术技能人才培养质量"

// tasksForParts is how many overdue tasks make a department's nudge exactly parts parts long,
// rendered as the bot renders it (the middle of the range, so that colour marks and the
// like do not tip it over).
func tasksForParts(parts int) (int, error) {
	texts := i18n.For("zh")
	partsOf := func(n int) int {
		items := make([]i18n.NudgeItem, n)
		for i := range items {
			items[i] = i18n.NudgeItem{Task: 10000 + i, Goal: longGoal, Metric: "完成率不低于90%", Deadline: time.Date(2026, 6, 30, 23, 59, 59, 0, cst),
				DaysLeft: -154, Stage: "overdue", Color: "red"}
		}
		return sender.Parts(sender.Message{Text: texts.Nudge(deptName(9999), items)})
	}
	lo, hi := 0, 0
	for n := 2; n < 2000; n++ {
		switch p := partsOf(n); {
		case p == parts && lo == 0:
			lo = n
		case p > parts:
			hi = n - 1
			if lo == 0 {
				return 0, fmt.Errorf("no number of tasks gives a nudge of %d parts", parts)
			}
			return (lo + hi) / 2, nil
		}
	}
	return 0, fmt.Errorf("no number of tasks gives a nudge of %d parts", parts)
}

// broadcast: one department per chat; one task each for the first ones (one message), and
// for the others enough tasks that their nudge is five parts. One tick of the real daemon's
// scheduler sends it all through its sender against the fake with Telegram's limits.
func (e *env) broadcast(ctx context.Context, one, five int) ([]row, []string, error) {
	perFive, err := tasksForParts(5)
	if err != nil {
		return nil, nil, err
	}
	tb := &runTB{}
	defer tb.close()
	tg := e.fake(tb)
	tg.AddChat(supervisors)

	depts := make([]string, one+five)
	var tasks []taskSpec
	for i := range depts {
		depts[i] = deptName(i)
		if i < one {
			tasks = append(tasks, taskSpec{id: len(tasks) + 1, goal: fmt.Sprintf("任务%d", i), depts: depts[i : i+1], deadline: "2026-06-30"})
			continue
		}
		for range perFive {
			tasks = append(tasks, taskSpec{id: len(tasks) + 1, goal: longGoal, metric: "完成率不低于90%", depts: depts[i : i+1], deadline: "2026-06-30"})
		}
	}
	// No supervisors' chat: the first tick would escalate every overdue item to it, and that
	// one group's 20 messages a minute would be the broadcast's pace.
	d, _, chats, done, err := e.tickDaemon(ctx, tg, depts, tasks, -100000)
	if err != nil {
		return nil, nil, err
	}
	defer done()

	before := len(tg.Sent())
	start := time.Now()
	rep, err := d.Scheduler().Tick(ctx, tickAt)
	elapsed := time.Since(start)
	if err != nil {
		return nil, nil, fmt.Errorf("broadcast tick: %w", err)
	}
	sent := tg.Sent()[before:]
	n := len(sent)
	// Every chat's parts, once each: a part is told apart by its text.
	perChat := map[int64]map[string]int{}
	for _, m := range sent {
		if perChat[m.ChatID] == nil {
			perChat[m.ChatID] = map[string]int{}
		}
		perChat[m.ChatID][m.Text]++
	}
	var lost, dups, fiveParts, longest int
	for i, chat := range chats {
		want := 1
		if i >= one {
			want = 5
		}
		got := perChat[chat.ID]
		if len(got) < want {
			lost += want - len(got)
		}
		if i >= one && len(got) == 5 {
			fiveParts++
		}
		for _, k := range got {
			dups += k - 1
		}
		longest = max(longest, len(got))
	}
	tooMany := count429(tg)
	floor := telegramFloor(sentPerChat(sent), groupChats(chats))
	rate := float64(n) / e.tgSeconds(elapsed)
	floorRate := float64(n) / floor.Seconds()
	var fails []string
	if lost > 0 || dups > 0 || tooMany > 0 {
		fails = append(fails, fmt.Sprintf("broadcast: %d lost, %d duplicated, %d 429s", lost, dups, tooMany))
	}
	if fiveParts != five {
		fails = append(fails, fmt.Sprintf("broadcast: %d of %d chats got the 5-part nudge", fiveParts, five))
	}
	ratio := rate / floorRate
	rows := []row{{
		what: fmt.Sprintf("broadcast: %d chats × 1 + %d chats × 5 (%d messages, one tick, Redis)", one, five, n),
		duban: fmt.Sprintf("%.1f msg/s (%.1f s), %d 429s, %d lost, %d duplicated; tick report %d messages",
			rate, e.tgSeconds(elapsed), tooMany, lost, dups, rep.Messages),
		baseline: fmt.Sprintf("Telegram's floor: %.1f s = %.1f msg/s", floor.Seconds(), floorRate),
		ratio:    fmt.Sprintf("%.2f of the permitted rate", ratio),
		goal:     "keep at the limit (≥ 0.95), 0 429s, 0 lost",
		met:      metIf(ratio >= 0.95 && tooMany == 0 && lost == 0 && dups == 0),
	}}
	return rows, fails, nil
}

func sentPerChat(sent []telegramtest.Message) map[int64]int {
	out := map[int64]int{}
	for _, m := range sent {
		out[m.ChatID]++
	}
	return out
}

func groupChats(chats []telegramtest.Chat) map[int64]bool {
	out := map[int64]bool{supervisors.ID: true}
	for _, c := range chats {
		out[c.ID] = c.Type == "group" || c.Type == "supergroup"
	}
	return out
}

// telegramFloor is the least time Telegram's limits allow for sending these messages, in
// Telegram time: 30 a second overall (the first 30 at once), one a second in a chat, and
// 20 in any minute in a group.
func telegramFloor(perChat map[int64]int, group map[int64]bool) time.Duration {
	total := 0
	var worst time.Duration
	for chat, k := range perChat {
		total += k
		d := time.Duration(k-1) * time.Second
		if group[chat] && k > 20 {
			d = max(d, time.Duration((k-1)/20)*time.Minute+time.Duration((k-1)%20)*time.Second)
		}
		worst = max(worst, d)
	}
	overall := time.Duration(float64(total) / 30 * float64(time.Second))
	return max(worst, overall)
}

func metIf(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// quantile is a sorted sample's quantile.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}
