package faults_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// TestLeaderLost (issue 9, fault suite 5): two or three daemons share one Redis (a server of
// the test's own); the first leads, catches up the day's missed tick and sends its reminders
// to 37 departments. After a random number of them it is killed with SIGKILL, or stopped with
// SIGSTOP past its 15 s lease and continued once another has taken over. Another daemon
// leads within the lease, every report sent meanwhile is recorded once, and each reminder is
// sent at most once: nothing the first one claimed is sent again by the others, and a stopped
// leader that wakes up does not send what the new leader sent.
//
// The short mode runs two daemons with the leader killed and three with it stopped; with
// DUBAN_LONG=1 all four.
func TestLeaderLost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		daemons int
		how     string
	}{{2, "kill"}, {3, "stop"}}
	if long {
		cases = append(cases, struct {
			daemons int
			how     string
		}{3, "kill"}, struct {
			daemons int
			how     string
		}{2, "stop"})
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d-daemons-%s", tc.daemons, tc.how), func(t *testing.T) {
			t.Parallel()
			leaderLost(t, tc.daemons, tc.how)
		})
	}
}

func leaderLost(t *testing.T, daemons int, how string) {
	w := newWorld(t)
	rs := startRedis(t)
	w.tg.Delay("sendMessage", 40*time.Millisecond)
	due := w.due()
	var procs []*proc
	for i := range daemons {
		d := w.newDaemon(t, fmt.Sprintf("d%d", i+1), setup{redisURL: rs.URL, dataDir: t.TempDir()})
		p := d.start(t)
		if i == 0 {
			waitFor(t, 20*time.Second, "the first daemon leading", p.leading)
		}
		procs = append(procs, p)
	}
	leader := procs[0]
	k := 3 + rand.IntN(15)
	waitFor(t, 30*time.Second, "reminders going out", func() bool { return w.nudges().messages >= k })
	pairs := w.reportable()
	var sent []reply
	report := func() {
		pr := pairs[len(sent)%len(pairs)]
		sent = append(sent, w.sendReport(pr[0].(string), pr[1].(int), len(sent)))
	}
	for range 5 {
		report()
	}
	atLoss := w.nudges().messages
	switch how {
	case "kill":
		leader.kill9()
	case "stop":
		leader.signal(syscall.SIGSTOP)
	}
	var next *proc
	takeover := waitFor(t, 40*time.Second, "another daemon leading", func() bool {
		for _, p := range procs[1:] {
			if p.leading() {
				next = p
				return true
			}
		}
		return false
	})
	for range 10 {
		report()
	}
	if how == "stop" {
		leader.signal(syscall.SIGCONT) // it wakes up believing it still leads
	}
	waitFor(t, 60*time.Second, "every report acknowledged", func() bool {
		for _, r := range sent {
			if !w.acked(r) {
				return false
			}
		}
		return true
	})
	// Give a woken leader time to do what it would do wrong: finish its tick, renew, poll.
	time.Sleep(pick(3*time.Second, 20*time.Second))
	afterLoss := w.nudges()
	for _, p := range procs {
		p.stop(t)
	}
	rc := checkRecord(t, openStore(t, setup{redisURL: rs.URL}), sent)
	if afterLoss.duplicates != 0 {
		t.Errorf("reminders: %d sent twice with the leader %s, want each at most once", afterLoss.duplicates, how)
	}
	figure(t, "%d daemons, leader %s after %d of %d reminders: %s led %v later; %d reports, %d lost, %d recorded twice; %d departments reminded by the end of the test, %d duplicates",
		daemons, map[string]string{"kill": "killed (SIGKILL)", "stop": "stopped (SIGSTOP) past its lease"}[how], atLoss, len(due), next.name,
		takeover.Round(100*time.Millisecond), rc.sent, rc.lost, rc.doubled, afterLoss.departments, afterLoss.duplicates)
}
