package daemon_test

import (
	"context"
	"testing"
	"time"

	"github.com/duban/duban/daemon"
)

// TestTickFansOutAcrossChats (issue 9, point 3): a tick to all 37 departments while the
// first three departments' chats answer every sendMessage with 502. The sender retries those
// with its backoff (100 ms, doubling, 5 attempts), and the other 34 chats do not wait for
// them: every healthy chat's nudge, and the supervisors' escalation, is accepted before the
// faulty chats' last attempt. Sent one department after another, the healthy ones would come
// after the faulty ones' retries.
func TestTickFansOutAcrossChats(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg, faults, c, p := faultedTelegram(t)
			st, _ := be.open(t)
			chats := bindAll(t, tg, c, st)
			faulty := map[int64]bool{}
			for _, dept := range c.DepartmentNames[:3] {
				faulty[chats[dept]] = true
			}
			faults.setFail(func(chat int64, _ int) bool { return faulty[chat] })
			r := startRig(t, tg, c, p, st, func(o *daemon.Options) { o.SendBackoff = 100 * time.Millisecond })

			rep, err := r.d.Scheduler().Tick(context.Background(), time.Date(2026, 12, 1, 9, 0, 0, 0, cst))
			if err == nil || rep.Failed != 3 || rep.Messages != 34 {
				t.Fatalf("tick: got %+v, %v; want 34 messages and 3 failed", rep, err)
			}
			lastHealthy, lastFaulty, attempts := -1, -1, 0
			for i, s := range faults.seen() {
				switch {
				case faulty[s.chat]:
					lastFaulty = i
					attempts++
				case !s.failed:
					lastHealthy = i
				}
			}
			if attempts != 3*5 {
				t.Errorf("faulty chats: got %d attempts, want 5 each", attempts)
			}
			if lastHealthy > lastFaulty {
				t.Errorf("the last healthy chat's message went out as request %d, after the faulty chats' last retry (%d): one chat's backoff held up the others", lastHealthy, lastFaulty)
			}
			for dept, chat := range chats {
				if want := 1; !faulty[chat] && len(tg.SentTo(chat)) != want {
					t.Errorf("%s: got %d messages, want %d", dept, len(tg.SentTo(chat)), want)
				}
			}
			if len(tg.SentTo(supGroup.ID)) != 3 {
				t.Errorf("supervisors: got %d parts, want the escalation's 3", len(tg.SentTo(supGroup.ID)))
			}
		})
	}
}
