// Package faults is duban's fault suite (issue 9): the daemon built once and run as a real
// process (`duban run -config …`) against the fake Bot API (internal/telegramtest) and the
// embedded store or a redis-server the tests start themselves on free loopback ports, then
// hurt: Redis killed with SIGKILL and restarted during replies and during a tick; Telegram
// answering 5xx, refusing connections and timing out; sends accepted whose answer is lost;
// the daemon killed at random points several times in a row; two and three daemons with the
// leader killed or stopped past its lease; the wall clock jumping and daylight saving time;
// Telegram renumbering its updates after a quiet week across a restart.
//
// Each test checks what a supervisor must be able to trust: no reply that was acknowledged
// (or merely sent: Telegram keeps unconfirmed updates) is missing from the record, and each
// reminder is sent once, with at most one duplicate per crash or per ambiguous send. The
// figures each test logs (replies lost, duplicates, recovery time) are the ones RELIABILITY.md
// reports.
//
// `go test ./faults/` runs the short mode (part of `go test ./...` and of CI). DUBAN_LONG=1
// runs the long soak: 20 kills in a row instead of 5, outages of minutes instead of seconds,
// the leader stopped past its lease, Telegram timing out. redis-server must be on PATH; without
// it the Redis tests skip, except under CI=true, where they fail. Tests that kill or restart
// Redis always run their own server; none touches a Redis it did not start.
package faults
