package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
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
