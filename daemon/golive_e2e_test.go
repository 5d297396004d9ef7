package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
)

// unboundFigures counts, from the plan alone, what the supervisors should be told at now
// when no department has a chat: the departments with tasks, and their overdue items (task ×
// department). A yearly task's current period ends at the end of this year, so it is not
// overdue in December.
func unboundFigures(p *config.Plan, now time.Time) (departments, overdue int) {
	seen := map[string]bool{}
	for _, t := range p.Tasks {
		for _, d := range t.Responsible {
			seen[d] = true
			if t.Recurrence != "yearly" && now.After(t.Deadline) {
				overdue++
			}
		}
	}
	return len(seen), overdue
}

// TestGoLiveNoFlood: the shipped plan, every deadline past, the supervisors chat set and no
// department bound. A tick sends the supervisors one short message with the numbers and no
// item. Once 市教育局 is bound, the next tick nudges it and escalates its overdue items, once,
// and the numbers drop; a tick with nothing changed sends the supervisors nothing new.
func TestGoLiveNoFlood(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			r := freshRig(t, be)
			tg := r.tg
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
			depts, overdue := unboundFigures(r.plan, now)

			rep, err := r.d.Scheduler().Tick(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Messages != 0 || rep.Escalations != 0 || !rep.UnboundTold {
				t.Errorf("nobody bound: got %+v, want no department message, no escalation, the numbers told", rep)
			}
			line := fmt.Sprintf("尚有 %d 个单位未绑定群聊，其 %d 项逾期任务待绑定后督办", depts, overdue)
			first := r.waitText(t, supGroup.ID, line)
			t.Logf("the supervisors read: %s", first.PlainText)
			if sup := tg.SentTo(supGroup.ID); len(sup) != 1 {
				t.Errorf("nobody bound: got %d messages to the supervisors, want 1", len(sup))
			}
			if text := first.PlainText; strings.ContainsAny(text, "#•🔴") || len([]rune(text)) > 80 {
				t.Errorf("nobody bound: got %q (%d characters), want one short line with no item", text, len([]rune(text)))
			}

			// 市教育局 is bound as an admin does it; it holds 33 tasks, all overdue but #50 (yearly).
			r.bindByInvite(t, "市教育局", eduGroup)
			rep, err = r.d.Scheduler().Tick(ctx, now.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Messages != 1 || rep.Items != 33 || rep.Escalations != 32 || !rep.UnboundTold {
				t.Errorf("市教育局 bound: got %+v, want its 33 items nudged, 32 escalated, the new numbers told", rep)
			}
			r.waitText(t, eduGroup.ID, "以下 33 项任务请报送进展")
			second := r.waitText(t, supGroup.ID, fmt.Sprintf("尚有 %d 个单位未绑定群聊，其 %d 项逾期任务待绑定后督办", depts-1, overdue-32))
			if got := strings.Count(second.PlainText, "• 市教育局 #"); got != 32 || strings.Count(second.PlainText, "• ") != 32 {
				t.Errorf("市教育局 bound: got %d of its items escalated, want its 32 overdue ones and no other:\n%s", got, second.PlainText)
			}
			if n := len(tg.SentTo(supGroup.ID)); n != 2 {
				t.Errorf("市教育局 bound: got %d messages to the supervisors in all, want 2", n)
			}

			// Nothing changed: the same hour again, and the next morning.
			for _, at := range []time.Time{now.Add(time.Hour), now.AddDate(0, 0, 1)} {
				rep, err := r.d.Scheduler().Tick(ctx, at)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Escalations != 0 || rep.UnboundTold {
					t.Errorf("tick at %s, nothing changed: got %+v, want nothing for the supervisors", at.Format(time.DateTime), rep)
				}
			}
			if n := len(tg.SentTo(supGroup.ID)); n != 2 {
				t.Errorf("nothing changed: got %d messages to the supervisors in all, want still 2", n)
			}
		})
	}
}
