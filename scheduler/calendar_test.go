package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/duban/duban/config"
)

func calendar(tb testing.TB, yaml string) *config.Calendar {
	tb.Helper()
	c, err := config.ParseConfig("config.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	return &c.Calendar
}

func formatTicks(ts []time.Time, loc *time.Location) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.In(loc).Format("01-02 Mon 15:04 MST")
	}
	return out
}

// TestHolidaysAndMakeUpDays: 2026's National Day week — no nudges Oct 1-7, a nudge on the
// make-up Saturday Oct 10, weekdays otherwise.
func TestHolidaysAndMakeUpDays(t *testing.T) {
	cal := calendar(t, "calendar:\n  holidays: [2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]\n  workdays: [2026-10-10]\n")
	s, err := NudgeSchedule("0 9 * * 1-5", cal, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	got := formatTicks(Ticks(s, at("2026-09-28 00:00"), at("2026-10-13 00:00")), shanghai)
	want := []string{
		"09-28 Mon 09:00 CST", "09-29 Tue 09:00 CST", "09-30 Wed 09:00 CST",
		"10-08 Thu 09:00 CST", "10-09 Fri 09:00 CST", "10-10 Sat 09:00 CST", "10-12 Mon 09:00 CST",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Without a calendar the cron alone decides.
	plain, _ := NudgeSchedule("0 9 * * 1-5", calendar(t, "timezone: Asia/Shanghai\n"), shanghai)
	if n := len(Ticks(plain, at("2026-09-28 00:00"), at("2026-10-13 00:00"))); n != 11 {
		t.Errorf("no calendar: got %d ticks, want the 11 weekdays", n)
	}
}

// TestYearBoundaryHoliday: New Year's Day is skipped, the ticks either side stay.
func TestYearBoundaryHoliday(t *testing.T) {
	s, _ := NudgeSchedule("0 9 * * 1-5", calendar(t, "calendar:\n  holidays: [2027-01-01]\n"), shanghai)
	got := formatTicks(Ticks(s, at("2026-12-30 12:00"), at("2027-01-05 00:00")), shanghai)
	want := []string{"12-31 Thu 09:00 CST", "01-04 Mon 09:00 CST"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDaylightSaving: in a zone with DST the nudge stays at 09:00 local across both changes,
// and a time that does not exist or happens twice fires once.
func TestDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		return d
	}
	nine, _ := Schedule("0 9 * * *", berlin)
	got := formatTicks(Ticks(nine, day("2026-03-28 00:00"), day("2026-03-31 00:00")), berlin)
	if want := []string{"03-28 Sat 09:00 CET", "03-29 Sun 09:00 CEST", "03-30 Mon 09:00 CEST"}; !slices.Equal(got, want) {
		t.Errorf("spring forward: got %q, want %q", got, want)
	}
	got = formatTicks(Ticks(nine, day("2026-10-24 00:00"), day("2026-10-27 00:00")), berlin)
	if want := []string{"10-24 Sat 09:00 CEST", "10-25 Sun 09:00 CET", "10-26 Mon 09:00 CET"}; !slices.Equal(got, want) {
		t.Errorf("fall back: got %q, want %q", got, want)
	}
	// 02:30 happens twice on 2026-10-25 and not at all on 2026-03-29.
	early, _ := Schedule("30 2 * * *", berlin)
	if n := len(Ticks(early, day("2026-10-25 00:00"), day("2026-10-25 12:00"))); n != 1 {
		t.Errorf("02:30 on the fall-back day: got %d ticks, want 1", n)
	}
	// cron(8) runs a time of day that the clocks skip at the moment they jump: so do we.
	got = formatTicks(Ticks(early, day("2026-03-28 00:00"), day("2026-03-31 00:00")), berlin)
	if want := []string{"03-28 Sat 02:30 CET", "03-29 Sun 03:00 CEST", "03-30 Mon 02:30 CEST"}; !slices.Equal(got, want) {
		t.Errorf("02:30 across spring forward: got %q, want %q", got, want)
	}
	// A time after the gap is not pulled forward, and an hourly schedule neither doubles nor
	// skips an hour: 02:00 does not exist, so 01:00, 03:00 (the jump), 04:00.
	threeThirty, _ := Schedule("30 3 * * *", berlin)
	got = formatTicks(Ticks(threeThirty, day("2026-03-29 00:00"), day("2026-03-30 00:00")), berlin)
	if want := []string{"03-29 Sun 03:30 CEST"}; !slices.Equal(got, want) {
		t.Errorf("03:30 on the spring-forward day: got %q, want %q", got, want)
	}
	hourly, _ := Schedule("0 * * * *", berlin)
	got = formatTicks(Ticks(hourly, day("2026-03-29 00:30"), day("2026-03-29 04:30")), berlin)
	if want := []string{"03-29 Sun 01:00 CET", "03-29 Sun 03:00 CEST", "03-29 Sun 04:00 CEST"}; !slices.Equal(got, want) {
		t.Errorf("hourly across spring forward: got %q, want %q", got, want)
	}
	// The policy counts days in the zone too: a deadline on the far side of the change is
	// still "1 day left" the day before.
	if got := config.DaysUntil(day("2026-03-29 23:59"), day("2026-03-28 09:00"), berlin); got != 1 {
		t.Errorf("days across spring forward: got %d, want 1", got)
	}
}
