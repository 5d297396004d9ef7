package plantable

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
)

func TestScalar(t *testing.T) {
	tests := []struct {
		in   string
		flow bool
		want string
	}{
		{"2022年", false, "2022年"},
		{"2022-06-30", false, "2022-06-30"},
		{"实现职普办学规模大体相当", false, "实现职普办学规模大体相当"},
		{"比例不低于5:5。", false, `"比例不低于5:5。"`},
		{"达到35%以上", false, `"达到35%以上"`},
		{"开展\u00a0“大国工匠进校园”", false, `"开展\u00a0“大国工匠进校园”"`},
		{"", false, `""`},
		{"- 列表", false, `"- 列表"`},
		{"true", false, `"true"`},
		{"123", false, `"123"`},
		{" 前后空格 ", false, `" 前后空格 "`},
		{"两行\n文字", false, `"两行\n文字"`},
		{`引号"和\`, false, `"引号\"和\\"`},
		{"a, b", false, "a, b"},
		{"a, b", true, `"a, b"`},
		{"[x]", false, `"[x]"`},
		{"各县（市、区）人民政府", true, "各县（市、区）人民政府"},
		{"零宽\u200b字符", false, `"零宽\u200b字符"`},
	}
	for _, tt := range tests {
		if got := scalar(tt.in, tt.flow); got != tt.want {
			t.Errorf("scalar(%q, flow %v): got %s, want %s", tt.in, tt.flow, got, tt.want)
		}
	}
}

func floatp(v float64) *float64 { return &v }

// handTasks are tasks with everything WritePlan must get right: quoting, notes, a standing
// task, a yearly one with until, targets.
func handTasks() []PlanTask {
	return []PlanTask{
		{Task: Task{ID: 1, Area: "健全完善现代职业教育体系", Goal: "实现职普办学规模大体相当", Metric: "比例不低于5:5。",
			Departments: []string{"各县（市、区）人民政府"}, Deadline: "2022年"},
			Target: []config.Target{{Name: "中职招生数占高中阶段招生数比例", Min: floatp(50), Unit: "%"}}},
		{Task: Task{ID: 2, Area: "健全完善现代职业教育体系", Goal: "夯实中等职业学校基础地位", Metric: "开展\u00a0“大国工匠进校园”",
			Departments: []string{"湖口县人民政府", "德安县人民政府"}, Deadline: "2022年6月30日", Note: "备注一\n第二行"}},
		{Task: Task{ID: 7, Area: "健全改革发展保障机制", Goal: "健全经费投入机制", Metric: "",
			Departments: []string{"市财政局"}, Deadline: "2021年", Recurrence: "yearly"},
			Until: "2025年", Start: "2021-03-01",
			Target: []config.Target{{Name: "专项资金", Min: floatp(1200), Max: floatp(1500.5), Unit: "万元/年"}}},
		{Task: Task{ID: 9, Area: "健全改革发展保障机制", Goal: "加强宣传舆论引导", Metric: "长期坚持的任务",
			Departments: []string{"市委宣传部", "市教育局"}, Deadline: "2027年3月2日", Recurrence: "90d"}},
	}
}

func TestWritePlanRoundTrip(t *testing.T) {
	tasks := handTasks()
	head := NewHead("plan.xlsx 任务清单", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	var b bytes.Buffer
	if err := WritePlan(&b, head, "2021-01-01", tasks); err != nil {
		t.Fatal(err)
	}
	ex, err := ParseExisting("tasks.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, b.String())
	}
	if ex.Head != head {
		t.Errorf("head: got %q, want %q", ex.Head, head)
	}
	if ex.Start != "2021-01-01" {
		t.Errorf("start: got %q, want 2021-01-01", ex.Start)
	}
	if !reflect.DeepEqual(ex.Tasks, tasks) {
		t.Errorf("read back:\ngot  %+v\nwant %+v\nfile:\n%s", ex.Tasks, tasks, b.String())
	}

	p, err := config.ParsePlan("tasks.yaml", b.Bytes(), shippedConfig(t))
	if err != nil {
		t.Fatalf("config rejects the written plan: %v\n%s", err, b.String())
	}
	if len(p.Tasks) != len(tasks) {
		t.Fatalf("got %d tasks, want %d", len(p.Tasks), len(tasks))
	}
	for i, pt := range p.Tasks {
		want := tasks[i]
		wantRec := want.Recurrence // a standing task's review cadence too, such as 90d
		if pt.ID != want.ID || pt.Goal != want.Goal || pt.Metric != want.Metric || pt.DeadlineText != want.Deadline ||
			!reflect.DeepEqual(pt.Departments, want.Departments) || pt.Recurrence != wantRec || len(pt.Target) != len(want.Target) {
			t.Errorf("task %d: got %+v, want %+v", want.ID, pt, want)
		}
	}
	for _, want := range []string{
		"  # 备注: 备注一\n  # 第二行\n  - id: 2\n",
		"    metric: \"开展\\u00a0“大国工匠进校园”\"\n",
		"    departments: [湖口县人民政府, 德安县人民政府]\n",
		"      - {name: 专项资金, min: 1200, max: 1500.5, unit: \"万元/年\"}\n",
		"    deadline: 2027年3月2日\n    recurrence: 90d  # 长期坚持: reviewed this often; the deadline is the first review\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("written plan lacks %q:\n%s", want, b.String())
		}
	}
}

// TestWriteShippedPlan: the shipped tasks.yaml, read and written again, is the same file byte
// for byte: WritePlan writes the shipped style, and ReadExisting misses no field.
func TestWriteShippedPlan(t *testing.T) {
	data, err := os.ReadFile("../tasks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseExisting("tasks.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Tasks) != 50 {
		t.Fatalf("got %d tasks, want 50", len(ex.Tasks))
	}
	var b bytes.Buffer
	if err := WritePlan(&b, ex.Head, ex.Start, ex.Tasks); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(data) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(data), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d: got %q, want %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
	if _, err := config.ParsePlan("tasks.yaml", b.Bytes(), shippedConfig(t)); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tasks.yaml")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("got %q, %v; want new", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode: got %v, want 0600 kept", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("got %d files in the folder, want 1 (no temporary file left)", len(entries))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "dir.yaml"), []byte("x")); err == nil {
		t.Error("writing into a missing folder: got no error")
	}
}
