package scheduler

import (
	"testing"
	"time"
)

// TestLedgerEntryMatchesItsKey: a ledger key, parsed once by the State, matches exactly the
// stage whose key is that string, as comparing the strings did.
func TestLedgerEntryMatchesItsKey(t *testing.T) {
	day := int32(civilDay(2026, time.December, 31))
	type ask struct {
		escalation bool
		kind       stageKind
		n, t       int64
		label      string
	}
	tests := []struct {
		key  string
		ask  ask
		want bool
	}{
		{"n|1|甲局|2026-12-31|before:7d", ask{false, kindBefore, 0, 0, "7d"}, true},
		{"n|1|甲局|2026-12-31|before:7d", ask{false, kindBefore, 0, 0, "3d"}, false},
		{"n|1|甲局|2026-12-31|before:7d", ask{true, kindBefore, 0, 0, "7d"}, false},
		{"n|1|甲局|2026-12-30|before:7d", ask{false, kindBefore, 0, 0, "7d"}, false},
		{"n|1|甲局|2026-12-31|overdue:2", ask{false, kindOverdue, 2, 0, ""}, true},
		{"n|1|甲局|2026-12-31|overdue:02", ask{false, kindOverdue, 2, 0, ""}, false},
		{"n|1|甲局|2026-12-31|overdue:+2", ask{false, kindOverdue, 2, 0, ""}, false},
		{"n|1|甲局|2026-12-31|overdue", ask{false, kindOverdue, 0, 0, ""}, false},
		{"e|1|甲局|2026-12-31|overdue", ask{true, kindOverdue, 0, 0, ""}, true},
		{"e|1|甲局|2026-12-31|overdue", ask{false, kindOverdue, 0, 0, ""}, false},
		{"e|1|甲局|2026-12-31|unanswered:1764547200", ask{true, kindUnanswered, 0, 1764547200, ""}, true},
		{"e|1|甲局|2026-12-31|unanswered:0", ask{true, kindUnanswered, 0, 0, ""}, true},
		{"e|1|甲局|2026-12-31|unanswered:1764547201", ask{true, kindUnanswered, 0, 1764547200, ""}, false},
		{"n|1|甲局|2026-12-31|stale:1764547200:3", ask{false, kindStale, 3, 1764547200, ""}, true},
		{"n|1|甲局|2026-12-31|stale:1764547200:3", ask{false, kindStale, 2, 1764547200, ""}, false},
		{"n|1|甲局|2026-12-31|stale:1764547200:x", ask{false, kindStale, 0, 1764547200, ""}, false},
		{"n|1|甲局|2026-13-01|before:7d", ask{false, kindBefore, 0, 0, "7d"}, false},
		{"n|1|甲局|2026-1-31|before:7d", ask{false, kindBefore, 0, 0, "7d"}, false},
	}
	for _, tt := range tests {
		st := emptyState()
		st.MarkSent(tt.key, time.Unix(1764547200, 0))
		ps := st.pair(1, "甲局", false)
		if ps == nil {
			t.Fatalf("%s: no pair state", tt.key)
		}
		got := wasSent(ps.sent, tt.ask.escalation, tt.ask.kind, day, tt.ask.n, tt.ask.t, st.labelID(tt.ask.label, false))
		if got != tt.want {
			t.Errorf("%s, asked %+v: got %v, want %v", tt.key, tt.ask, got, tt.want)
		}
	}
}

// TestStaleCountsOddEntries: stale:<t>:<anything> counts towards the next request's number,
// as a prefix match on the key did; stale:<t'>… does not.
func TestStaleCountsOddEntries(t *testing.T) {
	st := emptyState()
	for _, key := range []string{"n|1|甲局|2026-12-31|stale:100:1", "n|1|甲局|2026-12-31|stale:100:x", "n|1|甲局|2026-12-31|stale:1000:1", "n|1|甲局|2026-12-30|stale:100:2"} {
		st.MarkSent(key, time.Unix(1764547200, 0))
	}
	if got := countStale(st.pair(1, "甲局", false).sent, int32(civilDay(2026, time.December, 31)), 100); got != 2 {
		t.Errorf("got %d requests since 100 in the period, want 2", got)
	}
}

// TestCivilDay: the integer count of days agrees with the time package's, and parseDay reads
// back what appendDate writes.
func TestCivilDay(t *testing.T) {
	for _, y := range []int{-401, -1, 0, 1, 1600, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999, 10000} {
		for m := time.January; m <= time.December; m++ {
			for _, d := range []int{1, 28, 29, 30, 31} {
				date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
				if date.Day() != d {
					continue // no such day
				}
				want := int(date.Unix() / 86400)
				if got := civilDay(y, m, d); got != want {
					t.Fatalf("civilDay(%d-%d-%d): got %d, want %d", y, m, d, got, want)
				}
				if y < 0 {
					continue // periodOf writes no such year
				}
				if got := parseDay(string(appendDate(nil, y, m, d))); int(got) != want {
					t.Errorf("parseDay(%s): got %d, want %d", appendDate(nil, y, m, d), got, want)
				}
			}
		}
	}
}
