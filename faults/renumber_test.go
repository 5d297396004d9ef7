package faults_test

import (
	"testing"
	"time"
)

// TestRenumberedAcrossRestart (issue 9, fault suite 7; the defect of point 1): Telegram numbers
// its updates afresh after a week without any, far below the ids it gave before. The daemon
// process reports, is stopped (SIGTERM) or killed (SIGKILL) during the quiet week, and
// started again after it: the first reports of the new numbering are recorded and answered,
// on the embedded store and on Redis.
func TestRenumberedAcrossRestart(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"embedded", "redis"} {
		for _, how := range []string{"sigterm", "sigkill"} {
			t.Run(kind+"/"+how, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t)
				s := setup{dataDir: t.TempDir()}
				if kind == "redis" {
					s.redisURL = startRedis(t).URL
				}
				d := w.newDaemon(t, kind, s)
				w.tg.Renumber(900_000) // before the quiet week, ids are high
				p := d.start(t)
				before := []reply{w.sendReport("市教育局", w.tasks["市教育局"][0], 1)}
				waitFor(t, 20*time.Second, "the report acknowledged and confirmed to Telegram", func() bool {
					return w.acked(before[0]) && w.tg.Pending() == 0
				})
				// Let the missed tick finish, so that what comes next is only the quiet week.
				waitFor(t, 30*time.Second, "the missed tick's reminders", func() bool { return len(w.nudges().missing) <= len(w.depts)-len(w.due()) })
				if how == "sigterm" {
					p.stop(t)
				} else {
					p.kill9()
				}
				w.tg.Renumber(7) // a week later Telegram numbers afresh
				p = d.start(t)
				var after []reply
				for i, dept := range []string{"市教育局", "市人社局", "市财政局"} {
					after = append(after, w.sendReport(dept, w.tasks[dept][0], 10+i))
				}
				took := waitFor(t, 20*time.Second, "the renumbered reports acknowledged", func() bool {
					for _, r := range after {
						if !w.acked(r) {
							return false
						}
					}
					return true
				})
				p.stop(t)
				rc := checkRecord(t, openStore(t, s), append(before, after...))
				figure(t, "%s store, restart by %s across a renumbering (900000 -> 7): %d reports, %d lost; the new ones answered in %v",
					kind, how, rc.sent, rc.lost, took.Round(10*time.Millisecond))
			})
		}
	}
}
