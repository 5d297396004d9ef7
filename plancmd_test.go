package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// TestPlanShippedTwoYears: `duban plan` over the shipped plan's two years, before and after a
// department reports a task done.
func TestPlanShippedTwoYears(t *testing.T) {
	path := exportConfig(t, "", "duban:")
	code, out, errOut := runCLI(t, "plan", "-config", path, "-from", "2021-01-01", "-to", "2022-12-31")
	if code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"duban plan 2021-01-01 to 2022-12-31, Asia/Shanghai",
		"\n2021-12-01 Wed 09:00\n  市教育局 (10): #16 before 30d (yellow)",
		"\n2022-01-03 Mon 09:00  weekly digest",
		"#16 市教育局 overdue", // the supervisors hear of it the first tick after 2021-12-31
		"104 digests",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}

	// 市教育局 reports task 16 done on 2021-11-30: the plan keeps it quiet from then on.
	c, _, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openStore(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	done := store.Update{Task: 16, Department: "市教育局", At: time.Date(2021, 11, 30, 10, 0, 0, 0, c.Location), Text: "已完成", Status: store.StatusDone, Source: store.SourceReply}
	if _, _, err := s.Record(context.Background(), 1, []store.Update{done}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	code, out, errOut = runCLI(t, "plan", "-config", path, "-from", "2021-12-01", "-to", "2022-12-31", "-department", "市教育局")
	if code != exitOK {
		t.Fatalf("plan -department: exit %d: %s", code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, ": #16 ") || strings.Contains(line, ", #16 ") {
			t.Errorf("task 16 is done for 市教育局 but the plan still names it: %s", line)
			break
		}
	}
	if strings.Contains(out, "市人社局") {
		t.Error("-department 市教育局 shows other departments")
	}
	if !strings.Contains(out, "市教育局 (") {
		t.Error("-department 市教育局 shows nothing for it")
	}
}

func TestPlanUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-from", "2021/01/01"}, `plan: -from: want YYYY-MM-DD, got "2021/01/01"`},
		{[]string{"plan", "-from", "2022-01-01", "-to", "2021-01-01"}, "plan: -to 2021-01-01 is before -from 2022-01-01"},
		{[]string{"plan", "-department", "各县（市、区）人民政府"}, `plan: -department: "各县（市、区）人民政府" is not a department in config.yaml`},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: got exit %d, %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestPlanNotesUnboundDepartments: the plan assumes every department has a chat, and says how
// many have none in the store, since the daemon holds those back until they are bound.
func TestPlanNotesUnboundDepartments(t *testing.T) {
	path := exportConfig(t, "", "duban:")
	note := "The store has %d of 37 departments without a chat"
	code, out, errOut := runCLI(t, "plan", "-config", path, "-from", "2022-01-03", "-to", "2022-01-03")
	if code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	if want := fmt.Sprintf(note, 37); !strings.Contains(out, want) {
		t.Errorf("nobody bound: plan lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "#16 市教育局 overdue") {
		t.Errorf("nobody bound: plan lacks 市教育局's escalation (it assumes every department has a chat):\n%s", out)
	}

	c, p, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openStore(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(context.Background(), store.Binding{Department: "市教育局", ChatID: -1001, BoundAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, out, _ = runCLI(t, "plan", "-config", path, "-from", "2022-01-03", "-to", "2022-01-03")
	if want := fmt.Sprintf(note, 36); !strings.Contains(out, want) {
		t.Errorf("市教育局 bound: plan lacks %q:\n%s", want, out)
	}

	// Given a state that knows who is bound, as the daemon's is, the plan prints the
	// supervisors' line of numbers instead of items, once.
	st := scheduler.NewState(nil, nil, nil)
	st.SetBound(map[string]int64{})
	var b strings.Builder
	from := time.Date(2022, 1, 3, 0, 0, 0, 0, c.Location)
	if err := printPlan(&b, c, p, st, from, from.AddDate(0, 0, 7), "", 37); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "supervisors: 37 departments without a chat hold "); got != 1 || strings.Contains(b.String(), " overdue, reminder") {
		t.Errorf("nobody bound, per the state: got the line %d times (want 1) or nudges:\n%s", got, b.String())
	}
}
