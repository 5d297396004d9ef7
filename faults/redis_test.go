package faults_test

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestRedisKilledDuringReplies (issue 9, fault suite 1): the daemon's Redis (a server of the
// test's own, appendonly with fsync always) is killed with SIGKILL while departments report,
// stays down for a while (2 s; a minute with DUBAN_LONG=1) while they go on reporting, and is
// started again. Every report is recorded once: those acknowledged before the kill survive
// it, those sent during the outage are recorded after it (Telegram keeps them unconfirmed).
func TestRedisKilledDuringReplies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := startRedis(t)
	s := setup{redisURL: rs.URL, dataDir: t.TempDir()}
	d := w.newDaemon(t, "redis", s)
	p := d.start(t)
	st := openStore(t, s)
	waitFor(t, 30*time.Second, "the missed tick run", func() bool { return tickRan(t, st) })

	pairs := w.reportable()
	var sent []reply
	report := func() {
		n := len(sent)
		pr := pairs[n%len(pairs)]
		sent = append(sent, w.sendReport(pr[0].(string), pr[1].(int), n))
	}
	for range 20 {
		report()
		time.Sleep(5 * time.Millisecond)
	}
	rs.Kill9()
	killedAt := len(sent)
	outage := pick(2*time.Second, time.Minute)
	for start := time.Now(); time.Since(start) < outage; {
		report()
		time.Sleep(pick(50*time.Millisecond, 500*time.Millisecond))
	}
	rs.Restart()
	back := time.Now()
	for range 10 {
		report()
	}
	waitFor(t, 60*time.Second, "every report acknowledged", func() bool {
		for _, r := range sent {
			if !w.acked(r) {
				return false
			}
		}
		return true
	})
	recovery := time.Since(back)
	p.stop(t)
	rc := checkRecord(t, st, sent)
	figure(t, "Redis down %v: %d reports (%d before the kill, %d during the outage, 10 after), %d lost, %d recorded twice; all acknowledged %v after Redis was back",
		outage, rc.sent, killedAt, len(sent)-killedAt-10, rc.lost, rc.doubled, recovery.Round(10*time.Millisecond))
}

// TestRedisKilledDuringTick (issue 9, fault suite 1): Redis is killed with SIGKILL while the
// tick sends the day's reminders to 37 departments, after a random number of them, and
// started again 2 s later. In the short mode the daemon is then restarted (SIGTERM) and
// catches the tick up at start; with DUBAN_LONG=1 the same daemon finishes the tick on its
// own retry (scheduler.RetryEvery, a minute). Each department gets its reminder; one whose
// send was confirmed while Redis was down may get it twice (at most one duplicate each).
func TestRedisKilledDuringTick(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := startRedis(t)
	s := setup{redisURL: rs.URL, dataDir: t.TempDir()}
	d := w.newDaemon(t, "redis", s)
	w.tg.Delay("sendMessage", 30*time.Millisecond)
	due := w.due()
	k := 3 + rand.IntN(20)
	p := d.start(t)
	waitFor(t, 30*time.Second, "reminders going out", func() bool { return w.nudges().messages >= k })
	rs.Kill9()
	atKill := w.nudges().messages
	time.Sleep(2 * time.Second) // the outage
	rs.Restart()
	back := time.Now()
	if !long {
		p.stop(t)
		p = d.start(t)
	}
	st := openStore(t, s)
	waitFor(t, pick(30*time.Second, 150*time.Second), "every department reminded and the tick done", func() bool {
		return w.nudges().departments == len(due) && tickRan(t, st)
	})
	recovery := time.Since(back)
	p.stop(t)
	n := w.nudges()
	if n.duplicates > len(due) {
		t.Errorf("reminders: %d duplicates, want at most one per department", n.duplicates)
	}
	how := "daemon restarted"
	if long {
		how = "same daemon, its own retry"
	}
	figure(t, "Redis killed after %d of %d reminders, down 2 s (%s): %d departments reminded, 0 lost, %d duplicates; tick done %v after Redis was back",
		atKill, len(due), how, n.departments, n.duplicates, recovery.Round(10*time.Millisecond))
}
