package plantable

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/duban/duban/config"
)

// shippedTasks are the entries of the shipped tasks.yaml as written (config.TaskFile), read
// with yaml.v3 alone: not through config's validation, which the import's output is tested
// against elsewhere.
func shippedTasks(tb testing.TB) []config.TaskFile {
	tb.Helper()
	data, err := os.ReadFile("../tasks.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var f config.PlanFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		tb.Fatal(err)
	}
	if len(f.Tasks) != 50 {
		tb.Fatalf("tasks.yaml: got %d tasks, want 50", len(f.Tasks))
	}
	return f.Tasks
}

// shippedConfig is the shipped config.yaml, which names every department of the plan.
func shippedConfig(tb testing.TB) *config.Config {
	tb.Helper()
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := config.ParseConfig("config.yaml", data, func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var seedToday = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// The shipped plan's table imports to the shipped tasks.yaml: the same 50 tasks, texts byte
// for byte, the same department lists; the only difference is the recurrence tasks.yaml adds
// by hand to tasks 44 and 50 (their cells say 2021年).
func TestSeedInterpretsToShippedPlan(t *testing.T) {
	tables, err := Open(seedPath(t), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := shippedConfig(t)
	res, err := Interpret(tables, Options{Known: c.Known, Today: seedToday})
	if err != nil {
		t.Fatalf("Interpret: %v", err)
	}
	want := shippedTasks(t)
	if len(res.Tasks) != len(want) {
		t.Fatalf("got %d tasks, want %d", len(res.Tasks), len(want))
	}
	handRecurrence := map[int]string{44: "yearly", 50: "yearly"}
	for i, got := range res.Tasks {
		w := want[i]
		if got.ID != w.ID {
			t.Errorf("task %d: got id %d, want %d", i, got.ID, w.ID)
		}
		for _, f := range []struct{ name, got, want string }{
			{"area", got.Area, w.Area},
			{"goal", got.Goal, w.Goal},
			{"metric", got.Metric, w.Metric},
			{"deadline", got.Deadline, w.Deadline},
			{"note", got.Note, ""},
		} {
			if f.got != f.want {
				t.Errorf("task %d: %s: got %q, want %q", w.ID, f.name, f.got, f.want)
			}
		}
		if !slices.Equal(got.Departments, w.Departments) {
			t.Errorf("task %d: departments: got %q, want %q", w.ID, got.Departments, w.Departments)
		}
		wantRec := w.Recurrence
		if hand, ok := handRecurrence[w.ID]; ok {
			if wantRec != hand {
				t.Errorf("task %d: tasks.yaml's recurrence is %q, want %q (added by hand): update this test", w.ID, wantRec, hand)
			}
			wantRec = "" // the table says 2021年
		}
		if got.Recurrence != wantRec {
			t.Errorf("task %d: recurrence: got %q, want %q", w.ID, got.Recurrence, wantRec)
		}
		if _, err := config.ParseTime(got.Deadline, time.UTC, true); err != nil {
			t.Errorf("task %d: deadline %q: %v", w.ID, got.Deadline, err)
		}
	}

	s := res.Summary
	wantAreas := []AreaCount{
		{"健全完善现代职业教育体系", 15}, {"深化产教融合校企合作协同育人", 14},
		{"提高技术技能人才培养质量", 8}, {"构建多元办学格局", 3}, {"健全改革发展保障机制", 10},
	}
	if !reflect.DeepEqual(s.Areas, wantAreas) {
		t.Errorf("areas: got %v, want %v", s.Areas, wantAreas)
	}
	if len(s.New) != 0 {
		t.Errorf("new departments: got %q, want none (config.yaml knows them all)", s.New)
	}
	if len(s.Known) != 33 || s.Known[0] != "各县（市、区）人民政府" || s.Known[32] != "市总工会" {
		t.Errorf("known departments: got %d (%q), want 33 from 各县（市、区）人民政府 to 市总工会", len(s.Known), s.Known)
	}
	wantSkipped := []string{"第2行 附件", "第3行 工作任务清单及责任分工"}
	if !slices.Equal(s.Skipped, wantSkipped) {
		t.Errorf("skipped: got %q, want %q", s.Skipped, wantSkipped)
	}
	wantColumns := map[string]string{
		"序号": "第1列 (序号)", "重点工作": "第2列 (重点工作)", "任务目标": "第3列 (任务目标)",
		"量化指标": "第4列 (量化指标)", "责任部门": "第5列 (责任部门)", "完成时限": "第6列 (完成时限)",
	}
	if !reflect.DeepEqual(s.Columns, wantColumns) {
		t.Errorf("columns: got %v, want %v", s.Columns, wantColumns)
	}
	if s.Source != "seed.txt" || s.First != "2021年" || s.Last != "2022年" ||
		s.Yearly != 0 || s.Standing != 0 || s.NoteRows != 0 || len(s.Ignored) != 0 {
		t.Errorf("summary: got source %q, first %q, last %q, yearly %d, standing %d, note rows %d, ignored %q; want the seed's file, 2021年, 2022年, and none of the rest",
			s.Source, s.First, s.Last, s.Yearly, s.Standing, s.NoteRows, s.Ignored)
	}
}

// The seed written as a workbook with real merged cells and a merged title row, as a .docx
// with vertical merges, and as CSV in UTF-8 with BOM and in GB18030 imports to the same tasks as
// the text form.
func TestSeedFormatsAgree(t *testing.T) {
	tables, err := Open(seedPath(t), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := Interpret(tables, Options{Today: seedToday})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	grid := seedRows(t)
	blanked := seedRows(t) // the grid with merged cells' text removed
	titled := append([][]string{{"工作任务清单及责任分工", "", "", "", "", ""}}, blanked...)
	// GB18030 rather than GBK: task 50's no-break spaces are not in GBK (the second plan's
	// test reads a GBK file).
	paths := map[string]func(testing.TB, string){
		"plan.xlsx": func(tb testing.TB, p string) {
			writeXLSX(tb, p, "任务清单", titled, append([]string{"A1:F1"}, seedMerges(1)...)...)
		},
		"plan.docx":   func(tb testing.TB, p string) { writeDOCX(tb, p, grid, seedVMerge(), nil) },
		"bom.csv":     func(tb testing.TB, p string) { writeCSV(tb, p, grid, "utf8bom") },
		"gb18030.csv": func(tb testing.TB, p string) { writeCSV(tb, p, grid, "gb18030") },
	}
	for name, write := range paths {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			write(t, p)
			tables, err := Open(p, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Interpret(tables, Options{Today: seedToday})
			if err != nil {
				t.Fatalf("Interpret: %v", err)
			}
			if len(res.Tasks) != len(base.Tasks) {
				t.Fatalf("got %d tasks, want %d", len(res.Tasks), len(base.Tasks))
			}
			for i, got := range res.Tasks {
				w := base.Tasks[i]
				got.Place, w.Place = "", ""
				if !reflect.DeepEqual(got, w) {
					t.Errorf("task %d: got %+v, want %+v", w.ID, got, w)
				}
			}
		})
	}
}
