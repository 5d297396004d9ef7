package daemon_test

import (
	"context"
	"testing"
	"time"
)

// TestReportAfterAQuietWeek: after a week without updates Telegram numbers them afresh, far
// below the offset the daemon stored. A department's report with a new, low id is recorded
// and answered, whether the daemon ran through the quiet week or was restarted during it,
// on both stores.
func TestReportAfterAQuietWeek(t *testing.T) {
	for _, be := range backends(t) {
		for _, tc := range []struct {
			name    string
			restart bool
		}{
			{"running", false},
			{"restarted", true},
		} {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				tg := newFakeTelegram(t)
				tg.Renumber(900_000) // before the quiet week, ids are high
				c, p := testConfig(t, tg)
				st, reopen := be.open(t)
				r := startRig(t, tg, c, p, st)
				r.bindByInvite(t, "市教育局", eduGroup)
				tg.Send(eduGroup, clerk, "/report 16 进行中 60%")
				r.waitText(t, eduGroup.ID, "已记录 #16 进行中 60%")
				tg.WaitFor(t, 10*time.Second, "the report confirmed to Telegram", func() bool { return tg.Pending() == 0 })
				stored, err := st.Offset(context.Background())
				if err != nil || stored <= 900_000 {
					t.Fatalf("stored offset before the quiet week: got %d, %v; want above 900000", stored, err)
				}

				if tc.restart {
					if err := r.stop(); err != nil {
						t.Fatalf("stop: %v", err)
					}
					be.closer(st)
				} else {
					// Let the poller settle into waiting with nothing to confirm.
					calls := tg.Calls("getUpdates")
					tg.WaitFor(t, 10*time.Second, "an idle poll", func() bool { return tg.Calls("getUpdates") >= calls+2 })
				}
				tg.Renumber(7) // the quiet week is over: Telegram numbers afresh
				if tc.restart {
					st = reopen(t)
					r = startRig(t, tg, c, p, st)
				}

				upd := tg.Send(eduGroup, clerk, "/report 16 已完成")
				r.waitText(t, eduGroup.ID, "已记录 #16 已完成")
				ups := r.updates(t, 16)
				if len(ups) != 2 || ups[1].Status != "done" {
					t.Fatalf("task 16 after the quiet week: got %d updates (%+v), want the second done", len(ups), ups)
				}
				tg.WaitFor(t, 10*time.Second, "the new report confirmed to Telegram", func() bool { return tg.Pending() == 0 })
				if got, err := st.Offset(context.Background()); err != nil || got > 100 {
					t.Errorf("stored offset after the renumbered report (message %d): got %d, %v; want the new numbering's, below 100", upd.ID, got, err)
				}
			})
		}
	}
}
