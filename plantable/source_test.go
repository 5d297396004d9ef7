package plantable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// c is a cell as a test wants it.
func c(text, place string) Cell { return Cell{Text: text, Place: place} }

// merged is a cell below the first row of a merge; spanned one right of its first column.
func merged(place string) Cell  { return Cell{Merged: true, Place: place} }
func spanned(place string) Cell { return Cell{Merged: true, Spanned: true, Place: place} }

func checkRows(t *testing.T, what string, got []Row, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d rows, want %d:\n%s", what, len(got), len(want), dumpRows(got))
		return
	}
	for i := range want {
		if got[i].Line != want[i].Line {
			t.Errorf("%s: row %d: got line %d, want %d", what, i, got[i].Line, want[i].Line)
		}
		if !reflect.DeepEqual(got[i].Cells, want[i].Cells) {
			t.Errorf("%s: row %d (line %d):\n got %+v\nwant %+v", what, i, want[i].Line, got[i].Cells, want[i].Cells)
		}
	}
}

func dumpRows(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  line %d: %+v\n", r.Line, r.Cells)
	}
	return b.String()
}

func openOne(t *testing.T, path string, opt ReadOptions) *Table {
	t.Helper()
	tables, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	if len(tables) != 1 {
		t.Fatalf("Open(%s): got %d tables, want 1", filepath.Base(path), len(tables))
	}
	if got, want := tables[0].File, filepath.Base(path); got != want {
		t.Errorf("Open(%s): got File %q, want %q", path, got, want)
	}
	return tables[0]
}

func TestReadText(t *testing.T) {
	text := "\n附件\n清单\n\t序号\n\t工作\n\t目标\n\n\t1\n\t甲\n\t目标一\n\n\t2\n\t\n\t目标二\n第二段\n\n\t3\n\t\n\n\t尾\n\n \n"
	// line:  1  2    3    4      5      6     7 8   9    10     11 12 13  14      15     16 17  18 19 20  21 22
	path := filepath.Join(t.TempDir(), "plan.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := openOne(t, path, ReadOptions{})
	if tb.Sheet != "" {
		t.Errorf("got Sheet %q, want \"\"", tb.Sheet)
	}
	checkRows(t, "plan.txt", tb.Rows, []Row{
		{Line: 2, Cells: []Cell{c("附件", "第2行")}},
		{Line: 3, Cells: []Cell{c("清单", "第3行")}},
		{Line: 4, Cells: []Cell{c("序号", "第4行"), c("工作", "第5行"), c("目标", "第6行")}},
		{Line: 8, Cells: []Cell{c("1", "第8行"), c("甲", "第9行"), c("目标一", "第10行")}},
		{Line: 12, Cells: []Cell{c("2", "第12行"), c("", "第13行"), c("目标二", "第14行")}},
		{Line: 15, Cells: []Cell{c("第二段", "第15行")}},
		// A row cut by a blank line is joined with the next cells when together they make the
		// table's width: the shipped plan's task 49.
		{Line: 17, Cells: []Cell{c("3", "第17行"), c("", "第18行"), c("尾", "第20行")}},
	})
}

// TestReadTextSplitRow: the blank line inside a row joins only to make the usual width.
func TestReadTextSplitRow(t *testing.T) {
	text := "\ta\n\tb\n\tc\n\n\t1\n\t2\n\n\t3\n\n\tx\n\n\ty\n"
	tables, err := Read("p.txt", []byte(text), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tables[0].Rows {
		var s []string
		for _, c := range r.Cells {
			s = append(s, c.Text)
		}
		got = append(got, strings.Join(s, ","))
	}
	want := []string{"a,b,c", "1,2,3", "x", "y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got rows %q, want %q", got, want)
	}
}

func TestReadTextSeed(t *testing.T) {
	tb := openOne(t, seedPath(t), ReadOptions{})
	if got, want := len(tb.Rows), 53; got != want {
		t.Fatalf("got %d rows, want %d (附件, the title, the header, 50 tasks)", got, want)
	}
	head := tb.Rows[2]
	var words []string
	for _, c := range head.Cells {
		words = append(words, c.Text)
	}
	if got, want := strings.Join(words, " "), "序号 重点工作 任务目标 量化指标 责任部门 完成时限"; got != want || head.Line != 4 {
		t.Errorf("header: got %q at line %d, want %q at line 4", got, head.Line, want)
	}
	r49 := tb.Rows[2+49]
	if len(r49.Cells) != 6 {
		t.Fatalf("task 49: got %d cells, want 6: %+v", len(r49.Cells), r49.Cells)
	}
	if got, want := r49.Cells[4], c("市委组织部、市教育局、市人社局、市财政局", "第352行"); got != want {
		t.Errorf("task 49's departments: got %+v, want %+v", got, want)
	}
	if !strings.HasSuffix(r49.Cells[3].Text, "定期进行督查。") {
		t.Errorf("task 49's metric: got %q, want it to end 定期进行督查。", r49.Cells[3].Text)
	}
	last := tb.Rows[52]
	if last.Line != 355 || last.Cells[0].Text != "50" || last.Cells[5].Text != "2021年" {
		t.Errorf("task 50: got line %d %+v, want line 355, 50 … 2021年", last.Line, last.Cells)
	}
	blankB := 0
	for _, r := range tb.Rows[3:] {
		if r.Cells[1].Text == "" {
			blankB++
		}
	}
	if blankB == 0 || blankB >= 50 {
		t.Errorf("got %d tasks with a blank 重点工作, want some but not all", blankB)
	}
}

func TestReadXLSX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.xlsx")
	rows := [][]string{
		{"工作任务清单"},
		{"序号", "重点工作", "任务目标", "量化指标"},
		{"1", "领域甲", "目标一", "指标一"},
		{"2", "", "目标二"},
		{},
		{"3", "领域乙", "跨两列"},
	}
	writeXLSX(t, path, "任务清单", rows, "A1:D1", "B3:B4", "C6:D6")
	// The merges come from the sheet's XML, not excelize's whole-sheet GetMergeCells.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	if part := sheetParts(data)["任务清单"]; part == nil {
		t.Errorf("sheetParts: no part for 任务清单")
	} else if err := scanMerges(part, &refs); err != nil || len(refs) != 3 {
		t.Errorf("scanMerges: got %q, %v; want the 3 ranges", refs, err)
	}
	tb := openOne(t, path, ReadOptions{})
	if tb.Sheet != "任务清单" {
		t.Errorf("got Sheet %q, want 任务清单", tb.Sheet)
	}
	p := func(cell string) string { return "任务清单!" + cell }
	checkRows(t, "plan.xlsx", tb.Rows, []Row{
		{Line: 1, Cells: []Cell{c("工作任务清单", p("A1")), spanned(p("B1")), spanned(p("C1")), spanned(p("D1"))}},
		{Line: 2, Cells: []Cell{c("序号", p("A2")), c("重点工作", p("B2")), c("任务目标", p("C2")), c("量化指标", p("D2"))}},
		{Line: 3, Cells: []Cell{c("1", p("A3")), c("领域甲", p("B3")), c("目标一", p("C3")), c("指标一", p("D3"))}},
		{Line: 4, Cells: []Cell{c("2", p("A4")), merged(p("B4")), c("目标二", p("C4")), c("", p("D4"))}},
		// Row 5 is empty and not read.
		{Line: 6, Cells: []Cell{c("3", p("A6")), c("领域乙", p("B6")), c("跨两列", p("C6")), spanned(p("D6"))}},
	})
}

func TestReadXLSXSheets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.xlsx")
	writeXLSX(t, path, "任务清单", [][]string{{"序号"}, {"1"}})
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("说明"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStr("说明", "A2", "填报说明"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	all, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range all {
		got = append(got, fmt.Sprintf("%s:%d:%s", tb.Sheet, tb.Rows[0].Line, tb.Rows[0].Cells[0].Place))
	}
	if want := []string{"任务清单:1:任务清单!A1", "说明:2:说明!A2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got sheets %q, want %q", got, want)
	}
	one := openOne(t, path, ReadOptions{Sheet: "说明"})
	if got := one.Rows[0].Cells[0].Text; got != "填报说明" {
		t.Errorf("-sheet 说明: got %q, want 填报说明", got)
	}
	_, err = Open(path, ReadOptions{Sheet: "Sheet9"})
	if want := `plan.xlsx: no sheet "Sheet9": the workbook has "任务清单", "说明"`; err == nil || err.Error() != want {
		t.Errorf("-sheet Sheet9: got %v, want %s", err, want)
	}
}

// TestReadXLSXDate: a date cell comes out as Excel shows it under its number format.
func TestReadXLSXDate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.xlsx")
	f := excelize.NewFile()
	day := time.Date(2022, 6, 30, 0, 0, 0, 0, time.UTC)
	iso := "yyyy-mm-dd"
	cn := `yyyy"年"m"月"d"日"`
	for i, format := range []*string{nil, &iso, &cn} {
		cell := fmt.Sprintf("A%d", i+1)
		if err := f.SetCellValue("Sheet1", cell, day); err != nil {
			t.Fatal(err)
		}
		if format != nil {
			style, err := f.NewStyle(&excelize.Style{CustomNumFmt: format})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellStyle("Sheet1", cell, cell, style); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tb := openOne(t, path, ReadOptions{})
	var got []string
	for _, r := range tb.Rows {
		got = append(got, r.Cells[0].Text)
	}
	// Without a format of its own, excelize's SetCellValue gives a time its built-in date
	// format, which excelize shows as "06-30-22".
	want := []string{"06-30-22", "2022-06-30", "2022年6月30日"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadDOCX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.docx")
	rows := [][]string{
		{"序号", "重点工作", "任务目标", "量化指标"},
		{"1", "领域甲", "目标一", "两段\n第二段\t有制表"},
		{"2", "", "目标二", "指标二"},
		{"3", "", "跨两列", ""},
	}
	writeDOCX(t, path, rows, map[[2]int]bool{{2, 1}: true, {3, 1}: true}, map[[2]int]int{{3, 2}: 2})
	tb := openOne(t, path, ReadOptions{})
	if tb.Sheet != "表1" {
		t.Errorf("got Sheet %q, want 表1", tb.Sheet)
	}
	p := func(r, c int) string { return fmt.Sprintf("表1 第%d行第%d列", r, c) }
	checkRows(t, "plan.docx", tb.Rows, []Row{
		{Line: 1, Cells: []Cell{c("序号", p(1, 1)), c("重点工作", p(1, 2)), c("任务目标", p(1, 3)), c("量化指标", p(1, 4))}},
		{Line: 2, Cells: []Cell{c("1", p(2, 1)), c("领域甲", p(2, 2)), c("目标一", p(2, 3)), c("两段\n第二段\t有制表", p(2, 4))}},
		{Line: 3, Cells: []Cell{c("2", p(3, 1)), merged(p(3, 2)), c("目标二", p(3, 3)), c("指标二", p(3, 4))}},
		{Line: 4, Cells: []Cell{c("3", p(4, 1)), merged(p(4, 2)), c("跨两列", p(4, 3)), spanned(p(4, 4))}},
	})
}

// TestReadDOCXXML reads Word XML that writeDOCX does not write: two tables, a nested table,
// w:gridBefore, w:br, a short row, and text outside tables.
func TestReadDOCXXML(t *testing.T) {
	body := `<w:p><w:r><w:t>标题</w:t></w:r></w:p>
<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>
 <w:tr><w:tc><w:p><w:r><w:t>a</w:t><w:br/><w:t>b</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>外</w:t></w:r></w:p>
   <w:tbl><w:tr><w:tc><w:p><w:r><w:t>内1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>内2</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:tc>
   <w:tc><w:p><w:r><w:t>c</w:t></w:r></w:p></w:tc></w:tr>
 <w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr><w:tc><w:tcPr><w:vMerge w:val="continue"/></w:tcPr><w:p/></w:tc></w:tr>
</w:tbl>
<w:p><w:r><w:t>中间</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>二</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`
	path := filepath.Join(t.TempDir(), "plan.docx")
	writeMinimalDOCX(t, path, body)
	tables, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 {
		t.Fatalf("got %d tables, want 2", len(tables))
	}
	p := func(r, c int) string { return fmt.Sprintf("表1 第%d行第%d列", r, c) }
	checkRows(t, "表1", tables[0].Rows, []Row{
		{Line: 1, Cells: []Cell{c("a\nb", p(1, 1)), c("外\n内1\n内2", p(1, 2)), c("c", p(1, 3))}},
		{Line: 2, Cells: []Cell{c("", p(2, 1)), merged(p(2, 2)), c("", p(2, 3))}},
	})
	checkRows(t, "表2", tables[1].Rows, []Row{{Line: 1, Cells: []Cell{c("二", "表2 第1行第1列")}}})
	two := openOne(t, path, ReadOptions{Sheet: "表2"})
	if two.Sheet != "表2" {
		t.Errorf("-sheet 表2: got %q", two.Sheet)
	}
	_, err = Open(path, ReadOptions{Sheet: "表3"})
	if want := `plan.docx: no table "表3": the document has 2 table(s), 表1 to 表2`; err == nil || err.Error() != want {
		t.Errorf("-sheet 表3: got %v, want %s", err, want)
	}
}

func writeMinimalDOCX(tb testing.TB, path, body string) {
	tb.Helper()
	writeZip(tb, path, map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
			body + `</w:body></w:document>`,
	})
}

func TestReadCSV(t *testing.T) {
	rows := [][]string{
		{"序号", "重点工作", "任务目标"},
		{"1", "领域，甲", "两行\n目标"},
		{"2", "", "目标二"},
		{"3"},
	}
	// the third record starts on line 4: the second holds a line break.
	want := []Row{
		{Line: 1, Cells: []Cell{c("序号", "第1行第1列"), c("重点工作", "第1行第2列"), c("任务目标", "第1行第3列")}},
		{Line: 2, Cells: []Cell{c("1", "第2行第1列"), c("领域，甲", "第2行第2列"), c("两行\n目标", "第2行第3列")}},
		{Line: 4, Cells: []Cell{c("2", "第4行第1列"), c("", "第4行第2列"), c("目标二", "第4行第3列")}},
		{Line: 5, Cells: []Cell{c("3", "第5行第1列"), c("", "第5行第2列"), c("", "第5行第3列")}},
	}
	for _, tc := range []struct{ name, enc string }{
		{"plan.csv", "utf8"}, {"plan.csv", "utf8bom"}, {"plan.csv", "gbk"}, {"plan.csv", "gb18030"},
		{"plan.csv", "utf16"}, {"plan.txt", "utf16"},
	} {
		t.Run(tc.enc+"/"+tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name)
			writeCSV(t, path, rows, tc.enc)
			checkRows(t, tc.enc, openOne(t, path, ReadOptions{}).Rows, want)
		})
	}
	t.Run("semicolon", func(t *testing.T) {
		tables, err := Read("plan.csv", []byte("序号;重点工作\n1;甲\n"), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, "semicolon", tables[0].Rows, []Row{
			{Line: 1, Cells: []Cell{c("序号", "第1行第1列"), c("重点工作", "第1行第2列")}},
			{Line: 2, Cells: []Cell{c("1", "第2行第1列"), c("甲", "第2行第2列")}},
		})
	})
}

// resolve gives a table's grid with every merged cell holding the value it shows: the one
// to its left for a span, above for a vertical merge.
func resolve(tb *Table) [][]string {
	var grid [][]string
	for i, r := range tb.Rows {
		row := make([]string, len(r.Cells))
		for j, c := range r.Cells {
			switch {
			case c.Spanned && j > 0:
				row[j] = row[j-1]
			case c.Merged && i > 0 && j < len(grid[i-1]):
				row[j] = grid[i-1][j]
			default:
				row[j] = c.Text
			}
		}
		grid = append(grid, row)
	}
	return grid
}

// fromHeader drops the rows above the one that starts 序号: titles.
func fromHeader(grid [][]string) [][]string {
	for i, r := range grid {
		if len(r) > 0 && r[0] == "序号" {
			return grid[i:]
		}
	}
	return nil
}

// TestSeedFormats: the shipped plan written as each kind of file reads back to the same
// grid as its text form, once merges are resolved.
func TestSeedFormats(t *testing.T) {
	rows := seedRows(t)
	want := fromHeader(resolve(openOne(t, seedPath(t), ReadOptions{})))
	if len(want) != 51 {
		t.Fatalf("text form: got %d rows from the header, want 51", len(want))
	}
	// Merges make the blanks under each 重点工作 and 任务目标 real.
	if n := len(seedMerges()); n < 5 {
		t.Fatalf("seedMerges: got %d ranges, want the seed's runs of blanks", n)
	}
	// What the text form's blanks become once a real merge fills them.
	filled := make([][]string, len(rows))
	for i := range rows {
		filled[i] = append([]string(nil), rows[i]...)
	}
	vmerge := seedVMerge()
	for i := range filled {
		for j := range filled[i] {
			if vmerge[[2]int{i, j}] {
				filled[i][j] = filled[i-1][j]
			}
		}
	}
	dir := t.TempDir()
	titled := append([][]string{{"工作任务清单及责任分工"}}, rows...)
	for _, tc := range []struct {
		name  string
		write func(path string)
		want  [][]string
	}{
		{"plan.xlsx", func(p string) {
			writeXLSX(t, p, "任务清单", titled, append([]string{"A1:F1"}, seedMerges(1)...)...)
		}, filled},
		{"plan.docx", func(p string) { writeDOCX(t, p, rows, seedVMerge(), nil) }, filled},
		{"bom.csv", func(p string) { writeCSV(t, p, titled, "utf8bom") }, want},
		// GBK has no U+00A0, which task 50 holds; Excel would write a space or "?".
		{"gbk.csv", func(p string) { writeCSV(t, p, nbspToSpace(titled), "gbk") }, nbspToSpace(want)},
		{"gb18030.csv", func(p string) { writeCSV(t, p, titled, "gb18030") }, want},
		{"unicode.txt", func(p string) { writeCSV(t, p, titled, "utf16") }, want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			tc.write(path)
			got := fromHeader(resolve(openOne(t, path, ReadOptions{})))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows from the header, want %d", len(got), len(tc.want))
			}
			for i := range tc.want {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("row %d: got %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
	// The merged forms fill exactly the text form's blanks in B and C, nothing else.
	changed := 0
	for i := range rows {
		for j := range rows[i] {
			if rows[i][j] != filled[i][j] {
				changed++
				if rows[i][j] != "" || (j != 1 && j != 2) {
					t.Errorf("seedVMerge fills row %d col %d, which holds %q", i, j, rows[i][j])
				}
			}
		}
	}
	if changed == 0 {
		t.Error("seedVMerge fills nothing")
	}
}

func nbspToSpace(grid [][]string) [][]string {
	out := make([][]string, len(grid))
	for i, r := range grid {
		out[i] = make([]string, len(r))
		for j, s := range r {
			out[i][j] = strings.ReplaceAll(s, "\u00a0", " ")
		}
	}
	return out
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	locked := filepath.Join(dir, "locked.xlsx")
	f := excelize.NewFile()
	if err := f.SetCellStr("Sheet1", "A1", "序号"); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(locked, excelize.Options{Password: "x"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	notable := filepath.Join(dir, "notable.docx")
	writeMinimalDOCX(t, notable, `<w:p><w:r><w:t>只有文字</w:t></w:r></w:p>`)

	for _, tc := range []struct{ path, want string }{
		{write("corrupt.xlsx", []byte("\x8f\x13 not a zip at all, just bytes \x00\x01")), "corrupt.xlsx: not an .xlsx workbook: zip: not a valid zip file"},
		{locked, "locked.xlsx: the workbook is password-protected: save it without a password and import again"},
		{write("empty.xlsx", nil), "empty.xlsx: the file is empty: nothing to import"},
		{write("empty.csv", nil), "empty.csv: the file is empty: nothing to import"},
		{write("blank.csv", []byte("\n\n")), "blank.csv: the file is empty: nothing to import"},
		{write("blank.txt", []byte("\n \n")), "blank.txt: no table found: nothing to import"},
		{write("old.xlsx", append(append([]byte(nil), oleMagic...), "an .xls"...)), "old.xlsx: an Excel 97–2003 workbook named .xlsx is not read: save as .xlsx"},
		{write("locked.docx", append(append(append([]byte(nil), oleMagic...), encryptionInfo...), "EncryptedPackage"...)), "locked.docx: the document is password-protected: save it without a password and import again"},
		{write("corrupt.docx", []byte("PK but not really")), "corrupt.docx: not a Word .docx file (zip: not a valid zip file)"},
		{notable, "notable.docx: no table found"},
		{write("plan.xls", []byte("x")), "plan.xls: .xls (Excel 97–2003) is not read: save as .xlsx"},
		{write("plan.doc", []byte("x")), "plan.doc: .doc (Word 97–2003) is not read: save as .docx"},
		{write("plan.pdf", []byte("%PDF")), "plan.pdf: unknown file type .pdf: want .xlsx, .docx, .csv or .txt"},
		{filepath.Join(dir, "missing.csv"), "missing.csv: open " + filepath.Join(dir, "missing.csv") + ": no such file or directory"},
	} {
		_, err := Open(tc.path, ReadOptions{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("Open(%s): got error %v, want %s", filepath.Base(tc.path), err, tc.want)
		}
	}
	// Underlying errors stay reachable.
	_, err := Open(filepath.Join(dir, "missing.csv"), ReadOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want it to wrap os.ErrNotExist", err)
	}
}

// benchRows is the size of the benchmark: a 10,000-row plan.
const benchRows = 10000

func benchXLSX(b *testing.B) string {
	b.Helper()
	rows := [][]string{{"序号", "重点工作", "任务目标", "量化指标", "责任部门", "完成时限"}}
	var merges []string
	for i := 1; i <= benchRows; i++ {
		area, goal := "", ""
		if i%20 == 1 {
			area = fmt.Sprintf("重点工作%d", i/20)
			merges = append(merges, fmt.Sprintf("B%d:B%d", i+1, min(i+20, benchRows+1)))
		}
		if i%5 == 1 {
			goal = fmt.Sprintf("任务目标%d", i/5)
			merges = append(merges, fmt.Sprintf("C%d:C%d", i+1, min(i+5, benchRows+1)))
		}
		rows = append(rows, []string{fmt.Sprint(i), area, goal,
			fmt.Sprintf("量化指标第%d条：各县（市、区）完成率不低于90%%。", i), "市教育局、市人社局", "2022年6月30日"})
	}
	path := filepath.Join(b.TempDir(), "big.xlsx")
	writeXLSX(b, path, "任务清单", rows, merges...)
	return path
}

// BenchmarkReadXLSX compares Open on a 10,000-row workbook with excelize's own streaming
// read of the same file (open, Rows, Columns of every row):
//
//	go test -run '^$' -bench ReadXLSX -benchmem ./plantable/
func BenchmarkReadXLSX(b *testing.B) {
	path := benchXLSX(b)
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			tables, err := Open(path, ReadOptions{})
			if err != nil || len(tables[0].Rows) != benchRows+1 {
				b.Fatalf("got %v", err)
			}
		}
	})
	// The whole import, as duban import runs it: read, interpret, revise (over nothing) and
	// write tasks.yaml.
	b.Run("Import", func(b *testing.B) {
		today := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
		for b.Loop() {
			tables, err := Open(path, ReadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			o, err := Import(tables, Options{Today: today}, nil)
			if err != nil || len(o.Tasks) != benchRows {
				b.Fatalf("got %v", err)
			}
		}
	})
	b.Run("excelize", func(b *testing.B) {
		for b.Loop() {
			f, err := excelize.OpenFile(path)
			if err != nil {
				b.Fatal(err)
			}
			rows, err := f.Rows("任务清单")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				if _, err := rows.Columns(); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			f.Close()
			if n != benchRows+1 {
				b.Fatalf("got %d rows", n)
			}
		}
	})
}
