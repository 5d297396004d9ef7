package scheduler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/store"
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
	years := []int{-401, -1, 0, 1, 1600, 1900, 1969, 9999, 10000}
	for y := tableFrom - 1; y <= tableFrom+len(yearStart); y++ { // parseDay's table and either side
		years = append(years, y)
	}
	for _, y := range years {
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

// refParse is how a ledger key was read before the parse was made to allocate nothing and
// read the key once: strings.Cut, strconv and time.Date. parseKey must read every key alike.
func refParse(st *State, key string, at int64) (task int, dept string, e sentEntry, ok bool) {
	kind, rest, ok1 := strings.Cut(key, "|")
	taskS, rest, ok2 := strings.Cut(rest, "|")
	dept, rest, ok3 := strings.Cut(rest, "|")
	period, stage, ok4 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || !ok3 || !ok4 || (kind != "n" && kind != "e") {
		return 0, "", e, false
	}
	id, err := strconv.Atoi(taskS)
	if err != nil {
		return 0, "", e, false
	}
	canonical := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && strconv.FormatInt(n, 10) == s
	}
	day := int32(noDay)
	if len(period) >= len("0-01-01") && period[len(period)-6] == '-' && period[len(period)-3] == '-' {
		y, ok := canonical(period[:len(period)-6])
		m, d := twoDigits(period[len(period)-5:]), twoDigits(period[len(period)-2:])
		if ok && m >= 0 && d >= 0 && y >= -1_000_000 && y <= 1_000_000 {
			t := time.Date(int(y), time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if ty, tm, td := t.Date(); ty == int(y) && int(tm) == m && td == d {
				day = int32(t.Unix() / 86400)
			}
		}
	}
	e = sentEntry{escalation: kind == "e", period: day, at: at}
	if kind == "e" {
		switch {
		case stage == "overdue":
			e.kind = kindOverdue
		case strings.HasPrefix(stage, "unanswered:"):
			if t, ok := canonical(stage[len("unanswered:"):]); ok {
				e.kind, e.t = kindUnanswered, t
			}
		}
		return id, dept, e, true
	}
	switch {
	case strings.HasPrefix(stage, "before:"):
		e.kind, e.label = kindBefore, st.labelID(stage[len("before:"):], true)
	case strings.HasPrefix(stage, "overdue:"):
		if n, ok := canonical(stage[len("overdue:"):]); ok {
			e.kind, e.n = kindOverdue, n
		}
	case strings.HasPrefix(stage, "stale:"):
		ts, ns, found := strings.Cut(stage[len("stale:"):], ":")
		if t, ok := canonical(ts); found && ok {
			e.kind, e.t = kindStaleOdd, t
			if n, ok := canonical(ns); ok {
				e.kind, e.n = kindStale, n
			}
		}
	}
	return id, dept, e, true
}

// TestParseKeyAsBefore: parseKey reads keys, usual and odd, as the strings were read before.
func TestParseKeyAsBefore(t *testing.T) {
	keys := []string{
		"n|1|甲局|2026-12-31|before:7d", "n|12|甲局|2026-12-31|overdue:3", "n|7|甲局|2026-12-31|stale:1764547200:2",
		"e|7|甲局|2026-12-31|overdue", "e|7|甲局|2026-12-31|unanswered:1764547200", "e|7|甲局|2026-12-31|unanswered:0",
		"n|+7|甲局|2026-12-31|overdue:1", "n|-7|甲局|2026-12-31|overdue:1", "n|007|甲局|2026-12-31|overdue:1",
		"n|1234567890123456789|甲局|2026-12-31|overdue:1", "n|99999999999999999999|甲局|2026-12-31|overdue:1",
		"n||甲局|2026-12-31|overdue:1", "n|x|甲局|2026-12-31|overdue:1", "n|1|甲局|2026-02-29|overdue:1",
		"n|1|甲局|2024-02-29|overdue:1", "n|1|甲局|2100-02-29|overdue:1", "n|1|甲局|2000-02-29|overdue:1",
		"n|1|甲局|0000-01-01|overdue:1", "n|1|甲局|0-01-01|overdue:1", "n|1|甲局|-5-01-01|overdue:1",
		"n|1|甲局|-0-01-01|overdue:1", "n|1|甲局|12026-01-01|overdue:1", "n|1|甲局|02026-01-01|overdue:1",
		"n|1|甲局|2026-00-10|overdue:1", "n|1|甲局|2026-12-00|overdue:1", "n|1|甲局|2026-13-01|overdue:1",
		"n|1|甲局|2026-1-031|overdue:1", "n|1|甲局|2026-12-31", "n|1|甲局", "n|1", "n", "", "x|1|甲局|2026-12-31|overdue:1",
		"n|1|甲局|ab|cdefghi|before:7d", "n|1|甲局|2026|12-31|before:7d", "n|1|甲局|2026-12-31|", "n|1|甲局|2026-12-31||x",
		"n|1|甲局|2026-12-31|overdue:", "n|1|甲局|2026-12-31|overdue:-0", "n|1|甲局|2026-12-31|overdue:-3",
		"n|1|甲局|2026-12-31|overdue:9223372036854775807", "n|1|甲局|2026-12-31|overdue:9223372036854775808",
		"n|1|甲局|2026-12-31|overdue:-9223372036854775808", "n|1|甲局|2026-12-31|stale:1:", "n|1|甲局|2026-12-31|stale:1",
		"n|1|甲局|2026-12-31|stale::1", "n|1|甲局|2026-12-31|stale:01:1", "n|1|甲局|2026-12-31|before:",
		"n|1|甲局|2026-12-31|bogus", "e|1|甲局|2026-12-31|overdue:1", "e|1|甲局|2026-12-31|unanswered:x",
		"n|1||2026-12-31|overdue:1", "n|1|a|b|2026-12-31|overdue:1", "n|1|甲局|2026-12-31|before:7d|more",
	}
	for i := range 3000 { // and variations of the usual keys, cut and spliced
		base := keys[i%6]
		j, k := (i*7)%len(base), (i*13)%len(base)
		keys = append(keys, base[:min(j, k)]+base[max(j, k):], base[:j]+"|"+base[j:], base[:j]+"0"+base[j:])
	}
	st, ref := emptyState(), emptyState()
	for _, key := range keys {
		var got sentEntry
		id, dept, ok := st.parseKey(key, 42, &got)
		wid, wdept, want, wok := refParse(ref, key, 42)
		if ok != wok || ok && (id != wid || dept != wdept || got != want) {
			t.Errorf("%q: got %v %d %q %+v, want %v %d %q %+v", key, ok, id, dept, got, wok, wid, wdept, want)
		}
	}
}

// TestNewStateIndexesAsMarkSent: the whole ledger indexed at once (parsed, then sorted by task)
// gives every pair the entries marking each key one by one gives, ids near and far, for
// departments few and many.
func TestNewStateIndexesAsMarkSent(t *testing.T) {
	at := time.Unix(1764547200, 0)
	for _, tt := range []struct {
		name  string
		ids   []int
		depts int
	}{
		{"dense", []int{1, 2, 3, 5, 8, 13, 21}, 3},
		{"many departments", []int{1, 2, 3, 4}, 40},
		{"far apart", []int{1, 1 << 40, -5, 7, 1<<31 - 1, -1 << 31, 1 << 31}, 3},
	} {
		ledger := map[string]time.Time{"u|2|3": at, "d|2026-W49|supervisors": at}
		for _, id := range tt.ids {
			for d := range tt.depts {
				for k, stage := range []string{"before:7d", "overdue:2", "stale:100:1", "before:3d"} {
					if (id+d+k)%3 != 0 {
						ledger[fmt.Sprintf("n|%d|局%d|2026-12-31|%s", id, d, stage)] = at.Add(time.Duration(k) * time.Hour)
					}
				}
				ledger[fmt.Sprintf("e|%d|局%d|2026-12-31|overdue", id, d)] = at
			}
		}
		got := NewState(nil, store.LedgerOf(ledger), nil)
		want := emptyState()
		for key, at := range ledger {
			want.MarkSent(key, at)
		}
		if !got.told["u|2|3"] {
			t.Errorf("%s: the u| key is not told", tt.name)
		}
		for _, id := range tt.ids {
			for d := range tt.depts {
				dept := fmt.Sprintf("局%d", d)
				g, w := got.pair(id, dept, false), want.pair(id, dept, false)
				if g == nil || w == nil {
					t.Fatalf("%s: %d %s: got pair %v, want %v", tt.name, id, dept, g != nil, w != nil)
				}
				if gs, ws := entryStrings(got, g.sent), entryStrings(want, w.sent); !slices.Equal(gs, ws) {
					t.Errorf("%s: %d %s: got %q, want %q", tt.name, id, dept, gs, ws)
				}
			}
		}
	}
}

// entryStrings are a pair's entries, sorted, their labels by name (the two states number
// them in the order they met them).
func entryStrings(st *State, es []sentEntry) []string {
	var out []string
	for _, e := range es {
		label := ""
		if e.label > 0 {
			label = st.labelNames[e.label-1]
		}
		out = append(out, fmt.Sprintf("%v %d %d %d %d %s %d", e.escalation, e.kind, e.period, e.n, e.t, label, e.at))
	}
	slices.Sort(out)
	return out
}
