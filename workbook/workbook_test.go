package workbook

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

var shanghai = time.FixedZone("CST", 8*3600)

func ptr(n int) *int { return &n }

// sample is two tasks: one overdue with two departments reporting (one a correction, one
// with a file), one due soon that nobody reported on.
func sample() []Task {
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	u1 := store.Update{ID: "16-1", Seq: 1, Task: 16, Department: "市教育局", At: at, UserName: "王五", Text: "进行中 50%",
		Status: store.StatusInProgress, Percent: ptr(50), Hash: "aa11"}
	u2 := store.Update{ID: "16-2", Seq: 2, Task: 16, Department: "市人社局", At: at.Add(time.Hour), UserName: "李四", Text: "=已上报",
		Attachment: &store.Attachment{Kind: "document", FileName: "用地指标批复.pdf"}, Hash: "bb22"}
	u3 := store.Update{ID: "16-3", Seq: 3, Task: 16, Department: "市教育局", At: at.Add(2 * time.Hour), UserName: "王五", Text: "进行中 60%",
		Status: store.StatusInProgress, Percent: ptr(60), Corrects: "16-1", Hash: "cc33"}
	return []Task{
		{ID: 16, Area: "深化产教融合", Goal: "促进产教深度融合", Deadline: time.Date(2021, 12, 31, 0, 0, 0, 0, shanghai), DaysLeft: -1796,
			Departments: []Department{
				{Name: "市教育局", Responsible: true, Status: store.StatusInProgress, Percent: ptr(60), Color: "red", Last: &u3,
					Updates: []store.Update{u1, u3}, Overdue: true, Unanswered: 2, LastReport: u3.At},
				{Name: "市人社局", Responsible: true, Status: store.StatusNotStarted, Color: "yellow", Last: &u2,
					Updates: []store.Update{u2}, Overdue: false, Unanswered: 3, LastReport: u2.At},
			}},
		{ID: 17, Area: "深化产教融合", Goal: "建设实训基地", Deadline: time.Date(2026, 12, 5, 0, 0, 0, 0, shanghai), DaysLeft: 4,
			Departments: []Department{
				{Name: "市教育局", Responsible: true, Status: store.StatusNotStarted, Color: "blue"},
				{Name: "市财政局", Responsible: false, Status: store.StatusDone, Done: true},
			}},
	}
}

func build(t *testing.T, tasks []Task, lang string) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, tasks, Options{Language: lang, Location: shanghai}, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("read the workbook back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func rows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	got, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// style is the fill colour and wrapping of a cell.
func style(t *testing.T, f *excelize.File, sheet, cell string) (fill string, wrap bool) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fill.Color) > 0 {
		fill = s.Fill.Color[0]
	}
	return fill, s.Alignment != nil && s.Alignment.WrapText
}

func TestWorkbookSheets(t *testing.T) {
	f := build(t, sample(), "zh")
	if got, want := strings.Join(f.GetSheetList(), ","), "台账,进展记录,单位汇总"; got != want {
		t.Fatalf("sheets: got %s, want %s", got, want)
	}
	texts := i18n.For("zh")
	for sheet, header := range map[string][]string{"台账": texts.CSVHeader, "进展记录": texts.Workbook.UpdatesHeader, "单位汇总": texts.Workbook.DepartmentsHeader} {
		got := rows(t, f, sheet)
		if strings.Join(got[0], "|") != strings.Join(header, "|") {
			t.Errorf("%s header: got %q, want %q", sheet, got[0], header)
		}
		panes, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
			t.Errorf("%s panes: got %+v, want the header row frozen", sheet, panes)
		}
		if w, _ := f.GetColWidth(sheet, "A"); w < 5 || w > 30 {
			t.Errorf("%s column A: got width %v, want one set for it", sheet, w)
		}
	}
}

func TestWorkbookLedger(t *testing.T) {
	f := build(t, sample(), "zh")
	got := rows(t, f, "台账")
	want := [][]string{
		{"16", "深化产教融合", "促进产教深度融合", "市教育局", "进行中", "60", "2026-12-01 11:00", "进行中 60%", "2021-12-31", "-1796", "红色（逾期）"},
		{"16", "深化产教融合", "促进产教深度融合", "市人社局", "未开始", "", "2026-12-01 10:00", "=已上报 📎 用地指标批复.pdf", "2021-12-31", "-1796", "黄色（滞后或未回复）"},
		{"17", "深化产教融合", "建设实训基地", "市教育局", "未开始", "", "", "", "2026-12-05", "4", "蓝色（临期）"},
		{"17", "深化产教融合", "建设实训基地", "市财政局", "已完成", "", "", "", "2026-12-05", "4", ""},
	}
	if len(got) != len(want)+1 {
		t.Fatalf("台账: got %d rows, want %d (the header and one per task and department)", len(got), len(want)+1)
	}
	for i, w := range want {
		// GetRows drops empty cells at a row's end.
		if g := strings.Join(got[i+1], "|"); g != strings.TrimRight(strings.Join(w, "|"), "|") {
			t.Errorf("台账 row %d: got %s, want %s", i+2, g, strings.Join(w, "|"))
		}
	}
	for row, fill := range map[string]string{"2": "FFC7CE", "3": "FFEB9C", "4": "DDEBF7", "5": ""} {
		for _, col := range []string{"A", "C", "F", "K"} { // the whole row, empty cells too
			gotFill, wrap := style(t, f, "台账", col+row)
			if gotFill != fill || !wrap {
				t.Errorf("台账 %s%s: got fill %q, wrap %v; want fill %q, wrapped", col, row, gotFill, wrap, fill)
			}
		}
	}
	// Numbers are numbers (a cell with no type is a number in SpreadsheetML), and a text that
	// looks like a formula stays text.
	for cell, want := range map[string]excelize.CellType{"A2": excelize.CellTypeUnset, "J2": excelize.CellTypeUnset, "H3": excelize.CellTypeInlineString} {
		if ct, _ := f.GetCellType("台账", cell); ct != want {
			t.Errorf("台账 %s: got type %v, want %v", cell, ct, want)
		}
	}
	if formula, _ := f.GetCellFormula("台账", "H3"); formula != "" {
		t.Errorf("台账 H3: got formula %q, want the words as text", formula)
	}
}

func TestWorkbookUpdates(t *testing.T) {
	f := build(t, sample(), "zh")
	got := rows(t, f, "进展记录")
	want := []string{
		"16-1|16|市教育局|2026-12-01 09:00:00|王五|进行中|50|进行中 50%|||aa11",
		"16-2|16|市人社局|2026-12-01 10:00:00|李四|||=已上报|用地指标批复.pdf||bb22",
		"16-3|16|市教育局|2026-12-01 11:00:00|王五|进行中|60|进行中 60%||16-1|cc33",
	}
	if len(got) != len(want)+1 {
		t.Fatalf("进展记录: got %d rows, want %d", len(got), len(want)+1)
	}
	for i, w := range want {
		if g := strings.Join(got[i+1], "|"); g != w {
			t.Errorf("进展记录 row %d: got %s, want %s (the chain's order, times in the zone)", i+2, g, w)
		}
	}
}

func TestWorkbookDepartments(t *testing.T) {
	f := build(t, sample(), "zh")
	got := rows(t, f, "单位汇总")
	// 市财政局 is on task 17 only as a department no longer responsible: not counted.
	want := []string{"市教育局|2|0|1|2026-12-01 11:00|2", "市人社局|1|0|0|2026-12-01 10:00|3"}
	if len(got) != len(want)+1 {
		t.Fatalf("单位汇总: got %d rows %q, want %d", len(got), got, len(want)+1)
	}
	for i, w := range want {
		if g := strings.Join(got[i+1], "|"); g != w {
			t.Errorf("单位汇总 row %d: got %s, want %s", i+2, g, w)
		}
	}
	if fill, _ := style(t, f, "单位汇总", "D2"); fill != "FFC7CE" {
		t.Errorf("单位汇总 D2 (1 overdue): got fill %q, want red", fill)
	}
	if fill, _ := style(t, f, "单位汇总", "D3"); fill != "" {
		t.Errorf("单位汇总 D3 (none overdue): got fill %q, want none", fill)
	}
}

func TestWorkbookEnglish(t *testing.T) {
	f := build(t, sample(), "en")
	if got, want := strings.Join(f.GetSheetList(), ","), "Record,Updates,Departments"; got != want {
		t.Fatalf("sheets: got %s, want %s", got, want)
	}
	got := rows(t, f, "Record")
	if got[0][0] != "id" || got[1][4] != i18n.For("en").StatusName(store.StatusInProgress) || got[1][3] != "市教育局" {
		t.Errorf("Record: got %q, %q; want English words, names as written", got[0], got[1])
	}
}

// TestWorkbookEmpty: a plan with no tasks still makes a workbook, with its headers.
func TestWorkbookEmpty(t *testing.T) {
	f := build(t, nil, "zh")
	for _, sheet := range []string{"台账", "进展记录", "单位汇总"} {
		if got := rows(t, f, sheet); len(got) != 1 {
			t.Errorf("%s: got %d rows, want the header only", sheet, len(got))
		}
	}
}

// TestWorkbookOddText: what people send, control characters and all, cannot break the file,
// and a text longer than a cell holds is cut rather than refused.
func TestWorkbookOddText(t *testing.T) {
	tasks := sample()
	odd := "a\x01b\x00c\u2028d\n第二行\t"
	long := strings.Repeat("长", 40000)
	tasks[0].Departments[0].Last.Text = odd
	tasks[0].Departments[1].Last.Text = long
	f := build(t, tasks, "zh")
	got := rows(t, f, "台账")
	if !strings.Contains(got[1][7], "第二行") || !strings.HasPrefix(got[1][7], "a") {
		t.Errorf("台账 H2: got %q, want the words around the control characters", got[1][7])
	}
	if n := len([]rune(got[2][7])); n != 32767 {
		t.Errorf("台账 H3: got %d characters, want 32767 (the most a cell holds)", n)
	}
}

// TestWorkbookOddTextSecondReader: the workbook of TestWorkbookOddText opens in openpyxl,
// which refuses malformed XML, with the words around the control characters intact.
func TestWorkbookOddTextSecondReader(t *testing.T) {
	var py string
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import openpyxl").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no python3 with openpyxl: CI=true needs it (apt-get install python3-openpyxl)")
		}
		t.Skip("no python3 with openpyxl (apt-get install python3-openpyxl)")
	}
	tasks := sample()
	tasks[0].Departments[0].Last.Text = "a\x01b\x00c\u2028d\n第二行\t"
	path := filepath.Join(t.TempDir(), "odd.xlsx")
	var buf bytes.Buffer
	if err := Write(&buf, tasks, Options{Location: shanghai}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1])["台账"]
print(ws.dimensions, repr(ws["H2"].value))`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl could not read the workbook: %v\n%s", err, out)
	}
	if got := string(out); !strings.HasPrefix(got, "A1:K5 'a") || !strings.Contains(got, `\n第二行`) {
		t.Errorf("openpyxl: got %s, want A1:K5 and the words of H2", got)
	}
}
