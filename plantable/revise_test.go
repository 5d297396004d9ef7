package plantable

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/duban/duban/config"
)

// planOf numbers goals as a table would: 序号 1, 2, 3… in order.
func planOf(rows ...Task) []Task {
	out := slices.Clone(rows)
	for i := range out {
		out[i].ID = i + 1
	}
	return out
}

func row(goal, deadline string, deps ...string) Task {
	return Task{Area: "领域", Goal: goal, Metric: goal + "的指标", Departments: deps, Deadline: deadline}
}

func existingOf(tasks []Task) []PlanTask {
	out := make([]PlanTask, len(tasks))
	for i, t := range tasks {
		out[i] = PlanTask{Task: t}
	}
	return out
}

func ids(ts []PlanTask) []int {
	var out []int
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestRevise(t *testing.T) {
	a, b, c, d, e := row("甲", "2022年", "市教育局"), row("乙", "2022年", "市人社局"), row("丙", "2021年", "市财政局"),
		row("丁", "2022年", "市教育局"), row("戊", "2022年", "市民政局")
	first := existingOf(planOf(a, b, c, d, e))
	first[2].Target = []config.Target{{Name: "比例", Min: floatp(30), Unit: "%"}}
	first[2].Start = "2021-03-01"

	tests := []struct {
		name     string
		existing []PlanTask
		imported []Task
		wantIDs  []int
		wantDiff string
	}{
		{"same table", first, planOf(a, b, c, d, e), []int{1, 2, 3, 4, 5}, "no change to the tasks\n"},
		{"whitespace re-wrapped", first, planOf(a, b, Task{Area: c.Area, Goal: " 丙 ", Metric: "丙的\n指标", Departments: c.Departments, Deadline: c.Deadline}, d, e),
			[]int{1, 2, 3, 4, 5}, "task 3: goal (任务目标) 丙 →  丙 \ntask 3: metric (量化指标) 丙的指标 → 丙的\n指标\n"},
		{"inserted, removed, deadline and departments changed", first,
			planOf(a, row("新", "2022年6月", "市总工会"), b, withDeadline(c, "2022年6月30日"), withDeps(e, "市民政局", "市教育局")),
			[]int{1, 6, 2, 3, 5},
			"task 3: deadline (完成时限) 2021年 → 2022年6月30日\n" +
				"task 5: departments (责任部门) 市民政局 → 市民政局、市教育局\n" +
				"task 2: now 序号 3 in the table, keeps id 2 (its updates stay on it)\n" +
				"task 3: now 序号 4 in the table, keeps id 3 (its updates stay on it)\n" +
				"task 6: added: 新 (序号 2 in the table, which an existing task has: given id 6)\n" +
				"task 4: removed: 丁 (no longer in the table; its record stays in the store)\n"},
		{"text edited under the same number", first, planOf(a, b, c, row("丁改", "2022年", "市教育局"), e),
			[]int{1, 2, 3, 4, 5},
			"task 4: goal (任务目标) 丁 → 丁改\ntask 4: metric (量化指标) 丁的指标 → 丁改的指标\n"},
		{"added at a free number", first, planOf(a, b, c, d, e, row("己", "2022年", "市教育局")),
			[]int{1, 2, 3, 4, 5, 6}, "task 6: added: 己\n"},
		{"a taken number is not reused", first, planOf(a, b, c, e, row("己", "2022年", "市教育局")),
			[]int{1, 2, 3, 5, 6},
			"task 5: now 序号 4 in the table, keeps id 5 (its updates stay on it)\n" +
				"task 6: added: 己 (序号 5 in the table, which an existing task has: given id 6)\n" +
				"task 4: removed: 丁 (no longer in the table; its record stays in the store)\n"},
		{"new plan", nil, planOf(a, b), []int{1, 2}, "task 1: added: 甲\ntask 2: added: 乙\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged, diff := Revise(tt.existing, tt.imported)
			if got := ids(merged); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("ids: got %v, want %v", got, tt.wantIDs)
			}
			var out bytes.Buffer
			if err := diff.Write(&out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.wantDiff {
				t.Errorf("diff:\ngot\n%s\nwant\n%s", out.String(), tt.wantDiff)
			}
			if diff.Empty() != (tt.wantDiff == "no change to the tasks\n") {
				t.Errorf("Empty: got %v", diff.Empty())
			}
			// What the table does not carry stays on the task it was written for.
			for _, m := range merged {
				if m.Goal == "丙" && (m.Start != "2021-03-01" || len(m.Target) != 1) {
					t.Errorf("task %d lost its start or target: %+v", m.ID, m)
				}
			}
		})
	}
}

func withDeadline(t Task, d string) Task { t.Deadline = d; return t }

func withDeps(t Task, deps ...string) Task { t.Departments = deps; return t }

// TestReviseKeepsHandRecurrence: the shipped plan made tasks 44 and 50 yearly by hand while
// the table says 2021年; an import of the table keeps them yearly and reports no change, but
// a table that says 每年 itself wins.
func TestReviseKeepsHandRecurrence(t *testing.T) {
	existing := []PlanTask{{Task: Task{ID: 44, Goal: "健全经费投入机制", Metric: "专项资金", Departments: []string{"市财政局"},
		Deadline: "2021年", Recurrence: "yearly"}, Until: "2025年"}}
	imported := []Task{{ID: 44, Goal: "健全经费投入机制", Metric: "专项资金", Departments: []string{"市财政局"}, Deadline: "2021年"}}
	merged, diff := Revise(existing, imported)
	if !diff.Empty() {
		t.Errorf("got a diff %+v, want none", diff)
	}
	if !reflect.DeepEqual(merged, existing) {
		t.Errorf("got %+v, want %+v", merged, existing)
	}

	imported[0].Recurrence, imported[0].Deadline = "90d", "2027年3月2日" // now standing, reviewed every 90 days
	merged, diff = Revise(existing, imported)
	want := []Change{{ID: 44, Field: "deadline", Old: "2021年", New: "2027年3月2日"}, {ID: 44, Field: "recurrence", Old: "yearly", New: "90d"}}
	if !reflect.DeepEqual(diff.Changed, want) {
		t.Errorf("got %+v, want %+v", diff.Changed, want)
	}

	// Imported again a day later: the next review stays where the first import put it.
	later := slices.Clone(imported)
	later[0].Deadline = "2027年3月3日"
	if _, diff := Revise(merged, later); !diff.Empty() {
		t.Errorf("standing task imported again: got %+v, want no change", diff)
	}
}

func TestParseExistingShipped(t *testing.T) {
	ex, err := ReadExisting("../tasks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Start != "2021-01-01" || len(ex.Tasks) != 50 {
		t.Fatalf("got start %q and %d tasks, want 2021-01-01 and 50", ex.Start, len(ex.Tasks))
	}
	if got := ex.Tasks[43]; got.ID != 44 || got.Recurrence != "yearly" || len(got.Target) != 2 || *got.Target[1].Min != 200 {
		t.Errorf("task 44: got %+v", got)
	}
	if got := ex.Tasks[2].Departments; !slices.Equal(got, []string{"湖口县人民政府", "德安县人民政府", "共青城市人民政府", "柴桑区人民政府"}) {
		t.Errorf("task 3 departments: got %v", got)
	}
	if !bytes.HasPrefix([]byte(ex.Head), []byte("# tasks.yaml — the work plan duban follows up.\n")) || bytes.Contains([]byte(ex.Head), []byte("start: ")) {
		t.Errorf("head comment: got %q", ex.Head)
	}
}
