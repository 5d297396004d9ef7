package i18n

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// TestComplete fails when a language leaves a text out, so no user ever sees an empty message.
func TestComplete(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		v := reflect.ValueOf(*For(lang))
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.IsZero() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
				t.Errorf("%s: %s is empty", lang, v.Type().Field(i).Name)
			}
		}
		for _, s := range []store.Status{store.StatusNotStarted, store.StatusInProgress, store.StatusDone, store.StatusBlocked} {
			if For(lang).StatusNames[s] == "" {
				t.Errorf("%s: no name for status %s", lang, s)
			}
		}
		if got, want := len(For(lang).CSVHeader), len(For("zh").CSVHeader); got != want {
			t.Errorf("%s: got %d CSV columns, want %d", lang, got, want)
		}
	}
	if For("fr") != For("zh") {
		t.Error("For(fr): got a language of its own, want the default zh")
	}
}

// TestDigestFormats renders the shared layouts in both languages with every part present:
// a format with the wrong verbs shows as %!, which vet cannot see in formats held in fields.
func TestDigestFormats(t *testing.T) {
	pct := 60
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	item := DigestItem{Task: 12, Goal: "目标<b>", Department: "市教育局", DaysLeft: -3, Status: store.StatusInProgress, Percent: &pct, Expected: 80, Until: at}
	d := Digest{
		Date: at, Areas: []AreaCount{{Area: "体系", Done: 1, InProgress: 2, Blocked: 3, NotStarted: 4}},
		Red: []DigestItem{item}, Yellow: []DigestItem{item}, Blue: []DigestItem{item}, Snoozed: []DigestItem{item}, DueSoon: []DigestItem{item},
		Silent:   []SilentDepartment{{Department: "甲"}, {Department: "乙", Last: at}},
		Unbound:  []string{"丙", "丁"},
		Updates:  []DigestUpdate{{Task: 12, Department: "甲", At: at, Status: store.StatusDone, Text: "完成 & 上报"}},
		Overdue:  []DepartmentItems{{Department: "甲", Tasks: []int{1, 2}}},
		AllClear: true, UnboundOverdue: 5,
	}
	dept := DepartmentDigest{Department: "甲", Open: []DigestTask{{TaskLine: TaskLine{ID: 12, Goal: "目标", Deadline: at, DaysLeft: 3, Status: store.StatusBlocked}, Color: "red", LastText: "卡住", LastAt: at}}}
	esc := []EscalationLine{{Task: 1, Goal: "g", Department: "甲", Kind: "overdue", DaysLeft: -2}, {Task: 2, Goal: "g", Department: "乙", Kind: "unanswered", Unanswered: 3}}
	for _, lang := range []string{"zh", "en"} {
		tx := For(lang)
		line := TaskLine{ID: 12, Goal: "目标<b>", Deadline: at, DaysLeft: -1, Status: store.StatusInProgress, Percent: &pct, Color: "red"}
		nudge := NudgeItem{Task: 12, Goal: "目标<b>", Deadline: at, DaysLeft: 2, Stage: "before", Color: "blue", Status: store.StatusNotStarted}
		for name, out := range map[string]string{
			"supervisors": tx.SupervisorDigest(d), "department": tx.DepartmentDigests(dept), "escalations": tx.Escalations(esc), "supervisors tick": tx.SupervisorsTick(esc, 2, 5) + tx.SupervisorsTick(nil, 2, 5) + tx.SupervisorsTick(esc, 0, 0),
			"departments": tx.Departments([]DepartmentLine{{Name: "甲", Bound: true, Chat: -1, Title: "群", Tasks: 2, LastReport: at}, {Name: "乙"}, {Name: "丙", Bound: true, Broken: "kicked"}}),
			"tasks":       tx.Tasks("甲", []TaskLine{line}) + tx.Tasks("乙", nil),
			"status":      tx.TaskStatus(line, "指标", []StatusLine{{Department: "甲", Lead: true, Status: store.StatusDone, At: at, SnoozedUntil: at, Text: "完成 & 上报", By: "王五"}}),
			"nudge one":   tx.Nudge("甲", []NudgeItem{nudge}),
			"nudge many":  tx.Nudge("甲", []NudgeItem{nudge, nudge}),
		} {
			if strings.Contains(out, "%!") || strings.Contains(out, "目标<b>") || strings.Contains(out, "完成 & 上报") {
				t.Errorf("%s %s: a bad format or unescaped text:\n%s", lang, name, out)
			}
		}
	}
}
