package plantable

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// gridTable builds a table as the CSV reader would: one row per line, places "第N行第M列".
func gridTable(tb testing.TB, file string, rows ...[]string) *Table {
	tb.Helper()
	t := &Table{File: file}
	for i, r := range rows {
		row := Row{Line: i + 1}
		for j, text := range r {
			row.Cells = append(row.Cells, Cell{Text: text, Place: fmt.Sprintf("第%d行第%d列", i+1, j+1)})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// otherPlan is a plan written differently from the shipped one: other header words in
// another order, a merged title row, a 填报单位 line, a 备注 column and one that is not read,
// a note row, a line below the table, a deadline in each form and departments joined by each
// separator, full-width and decorated numbers.
var otherPlan = [][]string{
	{"XX市2023年重点工作任务清单", "", "", "", "", "", "", "", ""},
	{"填报单位：市政府督查室", "", "", "", "", "", "", "", ""},
	{"编号", "工作\n任务", "具体目标", "时间节点", "牵头单位", "配合单位", "备注", "联系人", "类  别"},
	{"１", "推进数字政府\n建设", "建成一体化政务服务平台。", "2023年", "市政数局", "市发改委、市财政局", "", "张三", "数字政府"},
	{"2.", "", "政务服务事项  全部网上可办。", "2023年6月", "市政数局", "市公安局,市人社局", "按季度报送进展", "", ""},
	{"（3）", "优化营商环境", "企业开办时间压缩至1个工作日。", "2023年6月底前", "市发改委", "市市场监管局；市税务局", "", "", "营商环境"},
	{"4、", "", "工程建设项目审批时间压缩至60天。", "2023年6月30日", "市住建局", "市自然资源局/市发改委", "", "", ""},
	{"", "", "注：与第3项一并考核", "", "", "", "", "", ""},
	{"5", "发展职业教育", "新建中职学校两所。", "2023-06-30", "湖口县、德安县人民政府", "市教育局\n市人社局", "", "", "教育"},
	{"6", "", "完成中职学校达标建设。", "2023.9.30", "市教育局", "", "", "", ""},
	{"7", "", "建成实训基地三个。", "2023/12/31", "市教育局", "市财政局", "", "", ""},
	{"8", "", "", "2023年上半年", "市教育局", "", "", "", ""},
	{"9", "加强宣传", "每年举办职业教育活动周。", "每年12月底", "市委宣传部", "市教育局", "", "", "宣传"},
	{"10", "", "设立职业教育专项资金。", "2021年起每年", "市委宣传部", "", "", "", ""},
	{"11", "", "营造良好舆论氛围。", "长期坚持", "市委宣传部", "", "", "", ""},
	{"12", "", "评选表彰先进典型。", "2023年底", "市委宣传部", "", "", "", ""},
	{"", "", "", "", "", "", "", "", ""},
	{"填报人：李四　联系电话：12345678", "", "", "", "", "", "", "", ""},
}

var otherToday = time.Date(2023, 1, 5, 9, 0, 0, 0, time.UTC)

func otherOptions() Options {
	known := map[string]bool{"市政数局": true, "市发改委": true, "市教育局": true}
	return Options{
		Known:              func(n string) bool { return known[n] },
		StandingReview:     90 * 24 * time.Hour,
		StandingReviewText: "90d",
		Today:              otherToday,
	}
}

var otherTasks = []Task{
	{ID: 1, Area: "数字政府", Goal: "推进数字政府建设", Metric: "建成一体化政务服务平台。", Departments: []string{"市政数局", "市发改委", "市财政局"}, Deadline: "2023年"},
	{ID: 2, Area: "数字政府", Goal: "推进数字政府建设", Metric: "政务服务事项 全部网上可办。", Departments: []string{"市政数局", "市公安局", "市人社局"}, Deadline: "2023年6月", Note: "按季度报送进展"},
	{ID: 3, Area: "营商环境", Goal: "优化营商环境", Metric: "企业开办时间压缩至1个工作日。", Departments: []string{"市发改委", "市市场监管局", "市税务局"}, Deadline: "2023年6月"},
	{ID: 4, Area: "营商环境", Goal: "优化营商环境", Metric: "工程建设项目审批时间压缩至60天。", Departments: []string{"市住建局", "市自然资源局", "市发改委"}, Deadline: "2023年6月30日", Note: "注：与第3项一并考核"},
	{ID: 5, Area: "教育", Goal: "发展职业教育", Metric: "新建中职学校两所。", Departments: []string{"湖口县人民政府", "德安县人民政府", "市教育局", "市人社局"}, Deadline: "2023年6月30日"},
	{ID: 6, Area: "教育", Goal: "发展职业教育", Metric: "完成中职学校达标建设。", Departments: []string{"市教育局"}, Deadline: "2023年9月30日"},
	{ID: 7, Area: "教育", Goal: "发展职业教育", Metric: "建成实训基地三个。", Departments: []string{"市教育局", "市财政局"}, Deadline: "2023年12月31日"},
	{ID: 8, Area: "教育", Goal: "发展职业教育", Metric: "", Departments: []string{"市教育局"}, Deadline: "2023年6月"},
	{ID: 9, Area: "宣传", Goal: "加强宣传", Metric: "每年举办职业教育活动周。", Departments: []string{"市委宣传部", "市教育局"}, Deadline: "2023年12月", Recurrence: "yearly"},
	{ID: 10, Area: "宣传", Goal: "加强宣传", Metric: "设立职业教育专项资金。", Departments: []string{"市委宣传部"}, Deadline: "2021年", Recurrence: "yearly"},
	{ID: 11, Area: "宣传", Goal: "加强宣传", Metric: "营造良好舆论氛围。", Departments: []string{"市委宣传部"}, Deadline: "2023年4月5日", Recurrence: "90d"},
	{ID: 12, Area: "宣传", Goal: "加强宣传", Metric: "评选表彰先进典型。", Departments: []string{"市委宣传部"}, Deadline: "2023年"},
}

func checkTasks(tb testing.TB, got, want []Task) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d tasks, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g := got[i]
		g.Place = ""
		if !reflect.DeepEqual(g, want[i]) {
			tb.Errorf("task %d:\n got %+v\nwant %+v", want[i].ID, g, want[i])
		}
	}
}

func TestInterpretOtherPlanXLSX(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plan.xlsx")
	writeXLSX(t, p, "任务清单", otherPlan, "A1:I1")
	tables, err := Open(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Interpret(tables, otherOptions())
	if err != nil {
		t.Fatalf("Interpret: %v", err)
	}
	checkTasks(t, res.Tasks, otherTasks)
	if got, want := res.Tasks[0].Place, "plan.xlsx 任务清单!A4"; got != want {
		t.Errorf("task 1's place: got %q, want %q", got, want)
	}
	want := Summary{
		Source: "plan.xlsx 任务清单",
		Columns: map[string]string{
			"序号": "A (编号)", "任务目标": "B (工作任务)", "量化指标": "C (具体目标)", "完成时限": "D (时间节点)",
			"责任部门": "E (牵头单位), F (配合单位)", "备注": "G (备注)", "重点工作": "I (类别)",
		},
		Ignored: []string{"备注 (kept as notes)", "联系人 (ignored)"},
		Areas:   []AreaCount{{"数字政府", 2}, {"营商环境", 2}, {"教育", 4}, {"宣传", 4}},
		Known:   []string{"市政数局", "市发改委", "市教育局"},
		New: []string{"市财政局", "市公安局", "市人社局", "市市场监管局", "市税务局", "市住建局", "市自然资源局",
			"湖口县人民政府", "德安县人民政府", "市委宣传部"},
		First: "2021年", Last: "2023年",
		Yearly: 2, Standing: 1, NoteRows: 1,
		Skipped: []string{"第1行 XX市2023年重点工作任务清单", "第2行 填报单位：市政府督查室", "第18行 填报人：李四　联系电话：12345678"},
	}
	if !reflect.DeepEqual(res.Summary, want) {
		t.Errorf("summary:\n got %+v\nwant %+v", res.Summary, want)
	}
}

func TestInterpretOtherPlanGBKCSV(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plan.csv")
	writeCSV(t, p, otherPlan, "gbk")
	tables, err := Open(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Interpret(tables, otherOptions())
	if err != nil {
		t.Fatalf("Interpret: %v", err)
	}
	checkTasks(t, res.Tasks, otherTasks)
	// The header's 工作\n任务 takes two lines of the file: the first task's record is on line 5.
	if got, want := res.Tasks[0].Place, "plan.csv 第5行第1列"; got != want {
		t.Errorf("task 1's place: got %q, want %q", got, want)
	}
	if got, want := res.Summary.Columns["责任部门"], "第5列 (牵头单位), 第6列 (配合单位)"; got != want {
		t.Errorf("责任部门 columns: got %q, want %q", got, want)
	}
}

// Real merges take the value above in every column; a cell spanned from its left is empty; a
// header split over two rows by merged cells is one header.
func TestInterpretMergedRows(t *testing.T) {
	tb := gridTable(t, "plan.docx",
		[]string{"序号", "重点工作", "任务内容", "", "责任单位", "", "完成时限"},
		[]string{"", "", "任务目标", "量化指标", "牵头单位", "配合单位", ""},
		[]string{"1", "领域甲", "目标甲", "指标一", "市教育局", "市财政局", "2022年"},
		[]string{"2", "", "", "指标二", "", "市人社局", ""},
		[]string{"3", "", "目标乙", "横跨两列的指标", "", "市国资委", "2023年"},
	)
	set := func(r, c int, spanned bool) {
		tb.Rows[r].Cells[c].Merged, tb.Rows[r].Cells[c].Spanned = true, spanned
	}
	set(0, 3, true)
	set(0, 5, true)
	for _, c := range []int{0, 1, 6} {
		set(1, c, false)
	}
	for _, c := range []int{1, 2, 4, 6} {
		set(3, c, false)
	}
	set(4, 1, false)
	set(4, 4, true) // spanned from 量化指标: empty, not the metric's text
	res, err := Interpret([]*Table{tb}, Options{})
	if err != nil {
		t.Fatalf("Interpret: %v", err)
	}
	checkTasks(t, res.Tasks, []Task{
		{ID: 1, Area: "领域甲", Goal: "目标甲", Metric: "指标一", Departments: []string{"市教育局", "市财政局"}, Deadline: "2022年"},
		{ID: 2, Area: "领域甲", Goal: "目标甲", Metric: "指标二", Departments: []string{"市教育局", "市人社局"}, Deadline: "2022年"},
		{ID: 3, Area: "领域甲", Goal: "目标乙", Metric: "横跨两列的指标", Departments: []string{"市国资委"}, Deadline: "2023年"},
	})
	wantCols := map[string]string{
		"序号": "第1列 (序号)", "重点工作": "第2列 (重点工作)", "任务目标": "第3列 (任务目标)", "量化指标": "第4列 (量化指标)",
		"责任部门": "第5列 (牵头单位), 第6列 (配合单位)", "完成时限": "第7列 (完成时限)",
	}
	if !reflect.DeepEqual(res.Summary.Columns, wantCols) {
		t.Errorf("columns: got %v, want %v", res.Summary.Columns, wantCols)
	}
}

// Every problem of a bad table is reported at once, in table order, each with its place,
// and nothing else is returned.
func TestInterpretProblems(t *testing.T) {
	header := []string{"序号", "重点工作", "任务目标", "量化指标", "责任部门", "完成时限"}
	tests := []struct {
		name string
		opt  Options
		rows [][]string
		want string
	}{
		{"no header", Options{}, [][]string{{"工作计划"}, {"一", "二", "三"}},
			"bad.csv: no header found: looked for a row naming 序号/编号, 任务目标/工作任务/主要任务 (or 量化指标/具体目标/工作目标), " +
				"责任部门/责任单位/牵头单位/牵头及责任单位/配合单位 and 完成时限/时间节点/完成时间"},
		{"header without a deadline column", Options{}, [][]string{{"序号", "任务目标", "责任部门", "备注"}, {"1", "目标", "市教育局", ""}},
			"bad.csv 第1行第1列: the header on 第1行 has no column for 完成时限/时间节点/完成时间"},
		{"no task", Options{}, [][]string{header, {"注：本表由各单位填报"}},
			"bad.csv 第1行第1列: no task under the header on 第1行: a task row has a number in its 序号 column"},
		{"unknown deadline", Options{}, [][]string{header, {"1", "A", "目标", "指标", "市教育局", "视情况"}},
			`bad.csv 第2行第6列: unknown deadline "视情况"`},
		{"no such date", Options{}, [][]string{header, {"1", "A", "目标", "指标", "市教育局", "2022年6月31日"}},
			`bad.csv 第2行第6列: unknown deadline "2022年6月31日"`},
		{"two deadlines", Options{}, [][]string{header, {"1", "A", "目标", "指标", "市教育局", "2021年、2022年"}},
			`bad.csv 第2行第6列: two deadlines in one cell "2021年、2022年": write the one the task must meet, or split the task`},
		{"empty department", Options{}, [][]string{header, {"1", "A", "目标", "指标", "", "2022年"}},
			"bad.csv 第2行第5列: empty department (责任部门)"},
		{"empty deadline", Options{}, [][]string{header, {"1", "A", "目标", "指标", "市教育局", " "}},
			"bad.csv 第2行第6列: empty deadline (完成时限)"},
		{"short row", Options{}, [][]string{header, {"1", "A", "目标", "指标"}},
			"bad.csv 第2行第5列: empty department (责任部门)\nbad.csv 第2行第6列: empty deadline (完成时限)"},
		{"empty goal", Options{}, [][]string{header, {"1", "A", "", "指标", "市教育局", "2022年"}},
			"bad.csv 第2行第3列: empty goal (任务目标)"},
		{"duplicate 序号", Options{}, [][]string{header, {"1", "A", "目标", "指标", "市教育局", "2022年"}, {"１", "", "", "指标二", "市教育局", "2022年"}},
			"bad.csv 第3行第1列: duplicate 序号 1 (first at bad.csv 第2行第1列)"},
		{"序号 0", Options{}, [][]string{header, {"0", "A", "目标", "指标", "市教育局", "2022年"}},
			`bad.csv 第2行第1列: bad 序号 "0": want a task number from 1`},
		{"standing without the option", Options{}, [][]string{header, {"1", "A", "目标", "指标", "市教育局", "长期坚持"}},
			`bad.csv 第2行第6列: no fixed date "长期坚持": pass -standing-review 90d to review it every 90 days, or write a deadline`},
		{"note row before the first task", Options{}, [][]string{header, {"", "", "", "说明：以下为新增任务", "", ""}, {"1", "A", "目标", "指标", "市教育局", "2022年"}},
			"bad.csv 第2行第4列: a row without a 序号 before the first task: number it, or move it above the header"},
		{"every problem at once, in table order", Options{}, [][]string{
			header,
			{"1", "A", "目标", "指标", "", "视情况"},
			{"2", "", "", "指标", "市教育局", "2022年"},
			{"1", "", "", "指标", "市教育局", "持续推进"},
		}, "bad.csv 第2行第5列: empty department (责任部门)\n" +
			`bad.csv 第2行第6列: unknown deadline "视情况"` + "\n" +
			"bad.csv 第4行第1列: duplicate 序号 1 (first at bad.csv 第2行第1列)\n" +
			`bad.csv 第4行第6列: no fixed date "持续推进": pass -standing-review 90d to review it every 90 days, or write a deadline`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Interpret([]*Table{gridTable(t, "bad.csv", tt.rows...)}, tt.opt)
			if res != nil {
				t.Errorf("got a result with the problems: %+v", res)
			}
			if _, ok := err.(Problems); !ok {
				t.Fatalf("got error %T %v, want Problems", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}

// Columns that are not read are listed: a second column for a field, a column with text but
// no header; and a plan without a 任务目标 column takes the 量化指标 text as the goal.
func TestInterpretIgnoredColumns(t *testing.T) {
	tb := gridTable(t, "plan.csv",
		[]string{"序号", "具体目标", "工作目标", "责任单位", "完成时间", ""},
		[]string{"1", "建成平台", "另一个目标", "市教育局", "2023年", "张三"},
	)
	res, err := Interpret([]*Table{tb}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkTasks(t, res.Tasks, []Task{{ID: 1, Goal: "建成平台", Departments: []string{"市教育局"}, Deadline: "2023年"}})
	want := []string{"工作目标 (第3列, a second 量化指标 column, ignored)", "第6列 (no header, ignored)"}
	if !slices.Equal(res.Summary.Ignored, want) {
		t.Errorf("ignored: got %q, want %q", res.Summary.Ignored, want)
	}
}

// Section headings and a repeated header are skipped and listed; a note row goes to the task
// above, after its 备注.
func TestInterpretSkippedRows(t *testing.T) {
	header := []string{"序号", "任务目标", "责任部门", "完成时限", "备注"}
	tb := gridTable(t, "plan.csv",
		[]string{"附件2"},
		header,
		[]string{"一、数字政府", "", "", "", ""},
		[]string{"1", "建成平台", "市政数局", "2023年", "按月报送"},
		header,
		[]string{"说明", "", "与市大数据中心共建", "", ""},
		[]string{"", "", "", "", "经费另行安排"},
		[]string{"2", "上线应用", "市政数局", "2023年6月", ""},
	)
	res, err := Interpret([]*Table{tb}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkTasks(t, res.Tasks, []Task{
		{ID: 1, Goal: "建成平台", Departments: []string{"市政数局"}, Deadline: "2023年", Note: "按月报送\n说明 与市大数据中心共建\n经费另行安排"},
		{ID: 2, Goal: "上线应用", Departments: []string{"市政数局"}, Deadline: "2023年6月"},
	})
	wantSkipped := []string{"第1行 附件2", "第3行 一、数字政府", "第5行 序号 (the header again)"}
	if !slices.Equal(res.Summary.Skipped, wantSkipped) || res.Summary.NoteRows != 2 {
		t.Errorf("got skipped %q and %d note rows, want %q and 2", res.Summary.Skipped, res.Summary.NoteRows, wantSkipped)
	}
}

// A merged 序号 would give two rows one number.
func TestInterpretMergedID(t *testing.T) {
	tb := gridTable(t, "plan.xlsx",
		[]string{"序号", "任务目标", "责任部门", "完成时限"},
		[]string{"1", "目标", "市教育局", "2022年"},
		[]string{"", "目标二", "市人社局", "2022年"},
	)
	tb.Rows[2].Cells[0].Merged = true
	_, err := Interpret([]*Table{tb}, Options{})
	want := "plan.xlsx 第3行第1列: 序号 1 covers two rows (a merged cell, first at plan.xlsx 第2行第1列): give each row its own number"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// A bad workbook's problem names its sheet and cell as Excel does.
func TestInterpretProblemPlaceXLSX(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plan.xlsx")
	writeXLSX(t, p, "任务清单", [][]string{
		{"工作任务清单"},
		{"序号", "重点工作", "任务目标", "量化指标", "责任部门", "完成时限"},
		{"1", "A", "目标", "指标", "市教育局", "2022年"},
		{"2", "", "", "指标", "市教育局", "视情况"},
	})
	tables, err := Open(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Interpret(tables, Options{})
	want := `plan.xlsx 任务清单!F4: unknown deadline "视情况"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// Of several tables, the first with a header is read, and the summary says which.
func TestInterpretFirstTableWithHeader(t *testing.T) {
	intro := gridTable(t, "plan.docx", []string{"说明"}, []string{"本表为2023年工作任务"})
	intro.Sheet = "表1"
	plan := gridTable(t, "plan.docx", []string{"序号", "工作任务", "责任单位", "完成时间"}, []string{"1", "目标", "市教育局", "2023年"})
	plan.Sheet = "表2"
	later := gridTable(t, "plan.docx", []string{"序号", "工作任务", "责任单位", "完成时间"}, []string{"9", "别的", "市人社局", "2024年"})
	later.Sheet = "表3"
	res, err := Interpret([]*Table{intro, plan, later}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Source != "plan.docx 表2" || len(res.Tasks) != 1 || res.Tasks[0].ID != 1 {
		t.Errorf("got source %q and tasks %+v, want plan.docx 表2 and its one task", res.Summary.Source, res.Tasks)
	}
	if got, want := res.Tasks[0].Place, "plan.docx 第2行第1列"; got != want {
		t.Errorf("place: got %q, want %q", got, want)
	}
}

func TestNormText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"推进数字政府建设", "推进数字政府建设"},
		{"推进数字政府\n建设", "推进数字政府建设"},
		{"推进数字政府\r\n  建设。\n", "推进数字政府建设。"},
		{"“互联网+\n职业教育”", "“互联网+职业教育”"},
		{"Internet\nPlus", "Internet Plus"},
		{"1+X\n证书", "1+X证书"},
		{"  指标   三项 ", "指标 三项"},
		{"深入开展\u00a0“大国工匠进校园”", "深入开展\u00a0“大国工匠进校园”"},
		{"开展\u3000活动", "开展\u3000活动"},
		{"\n\n", ""},
	}
	for _, tt := range tests {
		if got := normText(tt.in); got != tt.want {
			t.Errorf("normText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"12", 12, true}, {"１２", 12, true}, {"12.", 12, true}, {"12．", 12, true}, {"12、", 12, true},
		{"（12）", 12, true}, {"(12)", 12, true}, {" 3 ", 3, true},
		{"一、", 0, false}, {"一", 0, false}, {"注", 0, false}, {"", 0, false}, {"1.2", 0, false}, {"12345678901", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseID(%q): got %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHeaderField(t *testing.T) {
	tests := []struct {
		in   string
		want field
	}{
		{"序号", fID}, {"编 号", fID}, {"完成\n时限", fDeadline}, {"完成时限（年月）", fDeadline}, {"*责任单位", fDept},
		{"牵头单位：", fLead}, {"牵头及责任单位", fDept}, {"量化指标", fMetric}, {"重点工作", fArea}, {"备注", fNote},
		{"联系人", fNone}, {"推进数字政府建设", fNone},
	}
	for _, tt := range tests {
		if got := headerField(tt.in); got != tt.want {
			t.Errorf("headerField(%q): got %d, want %d", tt.in, got, tt.want)
		}
	}
}
