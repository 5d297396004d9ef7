package config

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seedRow is one row of the plan's source table (testdata/seed.txt, a copy of
// shared/seeds/000_70db61f56b48e6c4.txt): the table flattened to text, one cell per
// tab-indented line, a row starting with its 序号.
type seedRow struct {
	id                               int
	area, goal, metric, dept, period string
}

// readSeed parses the table on its own terms, independently of tasks.yaml, so that the test
// compares two readings of the source rather than a file with itself.
func readSeed(tb testing.TB) []seedRow {
	tb.Helper()
	data, err := os.ReadFile("testdata/seed.txt")
	if err != nil {
		tb.Fatalf("read seed: %v", err)
	}
	var cells []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "\t") {
			cells = append(cells, strings.TrimRight(line[1:], " \t"))
		}
	}
	header := slices.Index(cells, "完成时限")
	if header < 0 {
		tb.Fatal("seed: no header row")
	}
	var rows [][]string
	for _, c := range cells[header+1:] {
		if c == strconv.Itoa(len(rows)+1) {
			rows = append(rows, []string{c})
			continue
		}
		if len(rows) == 0 {
			tb.Fatalf("seed: cell %q before the first row", c)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], c)
	}
	var out []seedRow
	for _, r := range rows {
		if len(r) != 6 {
			tb.Fatalf("seed row %s: got %d cells, want 6: %q", r[0], len(r), r)
		}
		id, _ := strconv.Atoi(r[0])
		row := seedRow{id, r[1], r[2], r[3], r[4], r[5]}
		if len(out) > 0 { // a blank cell is merged with the one above
			prev := out[len(out)-1]
			if row.area == "" {
				row.area = prev.area
			}
			if row.goal == "" {
				row.goal = prev.goal
			}
		}
		out = append(out, row)
	}
	return out
}

var placeRe = regexp.MustCompile(`^[^（(]+[县市区]$`)

// splitDepartments splits 责任部门 on 、 and ， outside brackets, and gives a suffix written once
// after a run of places (湖口县、德安县人民政府) to each place in the run.
func splitDepartments(s string) []string {
	var names, seps []string
	depth, start := 0, 0
	for i, r := range s {
		switch {
		case r == '（' || r == '(':
			depth++
		case r == '）' || r == ')':
			depth--
		case (r == '、' || r == '，') && depth == 0:
			names = append(names, strings.TrimSpace(s[start:i]))
			seps = append(seps, string(r))
			start = i + len(string(r))
		}
	}
	names = append(names, strings.TrimSpace(s[start:]))
	seps = append(seps, "")
	for i := 0; i < len(names); {
		j := i
		for j < len(names)-1 && seps[j] == "、" {
			j++
		}
		if suffix := "人民政府"; j > i && strings.HasSuffix(names[j], suffix) && placeRe.MatchString(strings.TrimSuffix(names[j], suffix)) {
			for k := i; k < j; k++ {
				if placeRe.MatchString(names[k]) {
					names[k] += suffix
				}
			}
		}
		i = j + 1
	}
	return names
}

func loadShipped(tb testing.TB) (*Config, *Plan) {
	tb.Helper()
	c, err := LoadConfigEnv("../config.yaml", noEnv)
	if err != nil {
		tb.Fatalf("config.yaml: %v", err)
	}
	p, err := LoadPlan(c.TasksPath(), c)
	if err != nil {
		tb.Fatalf("tasks.yaml: %v", err)
	}
	return c, p
}

// TestTasksMatchSeed checks every task of tasks.yaml against the source table.
func TestTasksMatchSeed(t *testing.T) {
	c, p := loadShipped(t)
	seed := readSeed(t)
	if len(seed) != 50 || len(p.Tasks) != 50 {
		t.Fatalf("got %d seed rows and %d tasks, want 50 of each", len(seed), len(p.Tasks))
	}
	for i, row := range seed {
		task := p.Tasks[i]
		if task.ID != row.id {
			t.Errorf("task at position %d: got id %d, want %d", i+1, task.ID, row.id)
			continue
		}
		check := func(field, got, want string) {
			if got != want {
				t.Errorf("task %d %s:\n got  %q\n want %q", row.id, field, got, want)
			}
		}
		check("area", task.Area, row.area)
		check("goal", task.Goal, row.goal)
		check("metric", task.Metric, row.metric)
		check("deadline", task.DeadlineText, row.period)
		if want := splitDepartments(row.dept); !slices.Equal(task.Departments, want) {
			t.Errorf("task %d departments: got %q, want %q", row.id, task.Departments, want)
		}
		year, _ := strconv.Atoi(strings.TrimSuffix(row.period, "年"))
		if want := time.Date(year+1, 1, 1, 0, 0, 0, 0, c.Location).Add(-time.Nanosecond); !task.Deadline.Equal(want) {
			t.Errorf("task %d deadline: got %v, want the end of %d in %s", row.id, task.Deadline, year, c.Location)
		}
	}
}

// TestHardRows spells out by hand the rows that are easy to get wrong: merged cells, places
// sharing a suffix, brackets inside a name, aliases and a cell with a line break.
func TestHardRows(t *testing.T) {
	_, p := loadShipped(t)
	counties := []string{"浔阳区人民政府", "濂溪区人民政府", "柴桑区人民政府", "武宁县人民政府", "修水县人民政府", "永修县人民政府", "德安县人民政府", "都昌县人民政府", "湖口县人民政府", "彭泽县人民政府", "瑞昌市人民政府", "共青城市人民政府", "庐山市人民政府"}
	tests := []struct {
		id           int
		area, goal   string
		metricPrefix string
		departments  []string
		responsible  []string
		deadline     string
		deadlineDate string
		recurrence   string
	}{
		{1, "健全完善现代职业教育体系", "实现职普办学规模大体相当", "各县（市、区）高中阶段中等职业教育招生数",
			[]string{"各县（市、区）人民政府"}, counties, "2022年", "2022-12-31", ""},
		{3, "健全完善现代职业教育体系", "夯实中等职业学校基础地位", "湖口县、德安县、共青城市、柴桑区完成达标中等职业学校新校区建设。",
			[]string{"湖口县人民政府", "德安县人民政府", "共青城市人民政府", "柴桑区人民政府"},
			[]string{"湖口县人民政府", "德安县人民政府", "共青城市人民政府", "柴桑区人民政府"}, "2021年", "2021-12-31", ""},
		{5, "健全完善现代职业教育体系", "夯实中等职业学校基础地位", "庐山市中等职业学校、都昌县北炎农业职业高级中学",
			[]string{"庐山市人民政府", "都昌县人民政府"}, []string{"庐山市人民政府", "都昌县人民政府"}, "2022年", "2022-12-31", ""},
		{14, "健全完善现代职业教育体系", "发挥职业教育资源培训优势作用", "县级中等职业学校建成服务当地经济社会发展",
			[]string{"各县（市、区）人民政府"}, counties, "2022年", "2022-12-31", ""},
		{19, "深化产教融合校企合作协同育人", "推动校企深度合作", "尽快出台校企合作负面清单。",
			[]string{"市行政审批局", "市国资委", "发改委", "市财政局", "市教育局", "市人社局", "市工商联"},
			[]string{"市行政审批局", "市国资委", "市发改委", "市财政局", "市教育局", "市人社局", "市工商联"}, "2021年", "2021-12-31", ""},
		{23, "深化产教融合校企合作协同育人", "建设一批高水平实训基地", "建设一批资源共享",
			[]string{"市教育局", "市发改委", "市人社局", "市财政局", "市国资委", "市商务局", "市工商联", "职业院校"},
			[]string{"市教育局", "市发改委", "市人社局", "市财政局", "市国资委", "市商务局", "市工商联",
				"九江职业技术学院", "江西财经职业学院", "九江职业大学", "江西九江科技中等专业学校", "修水县中等专业学校", "九江卫生学校", "九江市高级技工学校"},
			"2022年", "2022-12-31", ""},
		{43, "健全改革发展保障机制", "健全经费投入机制", "严格落实教育附加费用于职业教育的比例不低于30%政策",
			[]string{"市财政局", "各县（市、区）人民政府"}, append([]string{"市财政局"}, counties...), "2021年", "2021-12-31", ""},
		{47, "健全改革发展保障机制", "落实职业院校办学自主权", "院校在限额内自主设立内设机构",
			[]string{"市委编办", "市教育局", "市人社局", "各县（市、区）人民政府"}, append([]string{"市委编办", "市教育局", "市人社局"}, counties...), "2022年", "2022-12-31", ""},
		{49, "健全改革发展保障机制", "制定职业教育专项督导制度", "完善职业教育督导评估办法",
			[]string{"市委组织部", "市教育局", "市人社局", "市财政局"}, []string{"市委组织部", "市教育局", "市人社局", "市财政局"}, "2022年", "2022-12-31", ""},
		{50, "健全改革发展保障机制", "加强宣传舆论引导", "每年举办职业教育活动周和全民终身学习活动周",
			[]string{"市委宣传部", "市教育局", "市人社局", "市总工会"}, []string{"市委宣传部", "市教育局", "市人社局", "市总工会"}, "2021年", "2021-12-31", "yearly"},
	}
	for _, tt := range tests {
		task, ok := p.Task(tt.id)
		if !ok {
			t.Errorf("task %d: missing", tt.id)
			continue
		}
		if task.Area != tt.area || task.Goal != tt.goal {
			t.Errorf("task %d: got area %q goal %q, want %q %q", tt.id, task.Area, task.Goal, tt.area, tt.goal)
		}
		if !strings.HasPrefix(task.Metric, tt.metricPrefix) {
			t.Errorf("task %d metric: got %q, want it to start %q", tt.id, task.Metric, tt.metricPrefix)
		}
		if !slices.Equal(task.Departments, tt.departments) {
			t.Errorf("task %d departments: got %q, want %q", tt.id, task.Departments, tt.departments)
		}
		if !slices.Equal(task.Responsible, tt.responsible) {
			t.Errorf("task %d responsible: got %q, want %q", tt.id, task.Responsible, tt.responsible)
		}
		if got := task.Deadline.Format(time.DateOnly); task.DeadlineText != tt.deadline || got != tt.deadlineDate {
			t.Errorf("task %d deadline: got %q (%s), want %q (%s)", tt.id, task.DeadlineText, got, tt.deadline, tt.deadlineDate)
		}
		if task.Recurrence != tt.recurrence {
			t.Errorf("task %d recurrence: got %q, want %q", tt.id, task.Recurrence, tt.recurrence)
		}
	}
	// Task 49's metric spans a line break in the source; it must be one cell, whole.
	if t49, _ := p.Task(49); !strings.HasSuffix(t49.Metric, "由市委督查室定期进行督查。") {
		t.Errorf("task 49 metric: got %q, want it to end 由市委督查室定期进行督查。", t49.Metric)
	}
	// Task 13's metric has two numbers; both are targets.
	if t13, _ := p.Task(13); len(t13.Target) != 2 || *t13.Target[0].Min != 35 || *t13.Target[1].Min != 15 {
		t.Errorf("task 13 targets: got %+v, want 35%% and 15%%", t13.Target)
	}
	if t44, _ := p.Task(44); t44.Recurrence != "yearly" {
		t.Errorf("task 44 recurrence: got %q, want yearly (1200万元/年)", t44.Recurrence)
	}
	if got := len(p.TasksFor("市教育局")); got != 33 {
		t.Errorf("市教育局: got %d tasks, want 33", got)
	}
}

func TestSplitDepartments(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"各县（市、区）人民政府", []string{"各县（市、区）人民政府"}},
		{"湖口县、德安县、共青城市、柴桑区人民政府", []string{"湖口县人民政府", "德安县人民政府", "共青城市人民政府", "柴桑区人民政府"}},
		{"市教育局，各县（市、区）人民政府", []string{"市教育局", "各县（市、区）人民政府"}},
		{"市财政局、市教育局", []string{"市财政局", "市教育局"}},
	}
	for _, tt := range tests {
		if got := splitDepartments(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitDepartments(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
