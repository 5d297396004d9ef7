package plantable

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// Test fixtures: plan tables written from a grid of strings as .xlsx, .docx and .csv, and
// the shipped plan's table read from its text form. Other tests of the package use them.

// writeXLSX writes rows into sheet of a new workbook at path, from A1, and merges the
// ranges ("B2:B9"; "A1:F1" for a merged title row). Cells a merge covers, other than its
// top-left, are left empty, as Excel leaves them. Whole numbers are written as numbers, as
// a 序号 column is.
func writeXLSX(tb testing.TB, path, sheet string, rows [][]string, merges ...string) {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		tb.Fatalf("writeXLSX: %v", err)
	}
	covered := map[[2]int]bool{}
	for _, m := range merges {
		first, last, ok := strings.Cut(m, ":")
		if !ok {
			tb.Fatalf("writeXLSX: merge %q: want a range like B2:B9", m)
		}
		c1, r1, err1 := excelize.CellNameToCoordinates(first)
		c2, r2, err2 := excelize.CellNameToCoordinates(last)
		if err1 != nil || err2 != nil {
			tb.Fatalf("writeXLSX: merge %q: %v %v", m, err1, err2)
		}
		for r := r1; r <= r2; r++ {
			for c := c1; c <= c2; c++ {
				if r != r1 || c != c1 {
					covered[[2]int{c, r}] = true
				}
			}
		}
	}
	for i, row := range rows {
		for j, text := range row {
			if text == "" || covered[[2]int{j + 1, i + 1}] {
				continue
			}
			name, _ := excelize.CoordinatesToCellName(j+1, i+1)
			var err error
			if n, nerr := strconv.Atoi(text); nerr == nil && strconv.Itoa(n) == text {
				err = f.SetCellInt(sheet, name, int64(n))
			} else {
				err = f.SetCellStr(sheet, name, text)
			}
			if err != nil {
				tb.Fatalf("writeXLSX: %s: %v", name, err)
			}
		}
	}
	for _, m := range merges {
		first, last, _ := strings.Cut(m, ":")
		if err := f.MergeCell(sheet, first, last); err != nil {
			tb.Fatalf("writeXLSX: merge %s: %v", m, err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		tb.Fatalf("writeXLSX: %v", err)
	}
}

// docxTitle is the paragraph writeDOCX puts before the table, as a plan has its title.
const docxTitle = "工作任务清单及责任分工"

// writeDOCX writes a minimal Word document at path: a title paragraph, then rows as one
// table. vmerge[{r, c}] (0-based into rows) marks a cell that continues a vertical merge:
// it is written empty with <w:vMerge/>, and the cell above that starts the run gets
// <w:vMerge w:val="restart"/>. spans[{r, c}] = n makes cell c cover n grid columns
// (w:gridSpan); the n-1 cells of rows[r] to its right are not written. A "\n" in a cell
// starts a new paragraph, a "\t" is a w:tab.
func writeDOCX(tb testing.TB, path string, rows [][]string, vmerge map[[2]int]bool, spans map[[2]int]int) {
	tb.Helper()
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	b.WriteString(`<w:p><w:r><w:t>` + docxTitle + `</w:t></w:r></w:p>`)
	b.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>`)
	for range width {
		b.WriteString(`<w:gridCol w:w="1500"/>`)
	}
	b.WriteString(`</w:tblGrid>`)
	for r, row := range rows {
		b.WriteString(`<w:tr>`)
		for c := 0; c < len(row); c++ {
			b.WriteString(`<w:tc><w:tcPr>`)
			n := spans[[2]int{r, c}]
			if n > 1 {
				fmt.Fprintf(&b, `<w:gridSpan w:val="%d"/>`, n)
			}
			cont := vmerge[[2]int{r, c}]
			switch {
			case cont:
				b.WriteString(`<w:vMerge/>`)
			case vmerge[[2]int{r + 1, c}]:
				b.WriteString(`<w:vMerge w:val="restart"/>`)
			}
			b.WriteString(`</w:tcPr>`)
			text := row[c]
			if cont {
				text = ""
			}
			for _, para := range strings.Split(text, "\n") {
				b.WriteString(`<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>`)
				for i, part := range strings.Split(para, "\t") {
					b.WriteString(`<w:r>`)
					if i > 0 {
						b.WriteString(`<w:tab/>`)
					}
					b.WriteString(`<w:t xml:space="preserve">` + html.EscapeString(part) + `</w:t></w:r>`)
				}
				b.WriteString(`</w:p>`)
			}
			b.WriteString(`</w:tc>`)
			if n > 1 {
				c += n - 1
			}
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl><w:p/><w:sectPr/></w:body></w:document>`)
	writeZip(tb, path, map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml": b.String(),
	})
}

// writeZip writes files into a zip archive at path.
func writeZip(tb testing.TB, path string, files map[string]string) {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels"} {
		if body, ok := files[name]; ok {
			writeZipFile(tb, zw, name, body)
		}
	}
	for name, body := range files {
		if name != "[Content_Types].xml" && name != "_rels/.rels" {
			writeZipFile(tb, zw, name, body)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatalf("writeZip: %v", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatalf("writeZip: %v", err)
	}
}

func writeZipFile(tb testing.TB, zw *zip.Writer, name, body string) {
	tb.Helper()
	w, err := zw.Create(name)
	if err == nil {
		_, err = w.Write([]byte(body))
	}
	if err != nil {
		tb.Fatalf("writeZip: %s: %v", name, err)
	}
}

// writeCSV writes rows as CSV at path in enc: "utf8", "utf8bom", "gbk", "gb18030", or
// "utf16" (Excel's "Unicode text": UTF-16LE with a BOM, tab-separated).
func writeCSV(tb testing.TB, path string, rows [][]string, enc string) {
	tb.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if enc == "utf16" {
		w.Comma = '\t'
	}
	if err := w.WriteAll(rows); err != nil {
		tb.Fatalf("writeCSV: %v", err)
	}
	data := buf.Bytes()
	var err error
	switch enc {
	case "utf8":
	case "utf8bom":
		data = append([]byte{0xEF, 0xBB, 0xBF}, data...)
	case "gbk":
		data, err = simplifiedchinese.GBK.NewEncoder().Bytes(data)
	case "gb18030":
		data, err = simplifiedchinese.GB18030.NewEncoder().Bytes(data)
	case "utf16":
		data, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(data)
	default:
		tb.Fatalf("writeCSV: unknown encoding %q", enc)
	}
	if err != nil {
		tb.Fatalf("writeCSV: %s: %v", enc, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatalf("writeCSV: %v", err)
	}
}

// seedName is the shipped plan's text form: the repository keeps a copy of the plan's source
// table (../shared/seeds/000_70db61f56b48e6c4.txt) as config/testdata/seed.txt.
const seedName = "seed.txt"

var seed struct {
	once sync.Once
	grid [][]string
	err  error
}

// seedGrid reads the seed once for seedRows and seedMerges.
func seedGrid() ([][]string, error) {
	seed.once.Do(func() { seed.grid, seed.err = loadSeed() })
	return seed.grid, seed.err
}

// seedDirs are where the seeds are from the package's directory (go test runs there) and
// from the repository's.
var seedDirs = []string{"../config/testdata", "config/testdata"}

func findSeed() (string, error) {
	var err error
	for _, dir := range seedDirs {
		p := filepath.Join(dir, seedName)
		if _, err = os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the shipped plan's text form %s is missing: want it in config/testdata/: %w", seedName, err)
}

// seedPath is the seed's text form, or the test fails saying where it should be.
func seedPath(tb testing.TB) string {
	tb.Helper()
	p, err := findSeed()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func loadSeed() ([][]string, error) {
	p, err := findSeed()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	tables, err := readText(seedName, data, ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	var grid [][]string
	for _, r := range tables[0].Rows {
		if len(grid) == 0 && (len(r.Cells) == 0 || r.Cells[0].Text != "序号") {
			continue // the 附件 line and the title
		}
		row := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			row[i] = c.Text
		}
		grid = append(grid, row)
	}
	if len(grid) != 51 {
		return nil, fmt.Errorf("seed: got %d rows from the header on, want 51 (header + 50 tasks)", len(grid))
	}
	for i, r := range grid {
		if len(r) != 6 {
			return nil, fmt.Errorf("seed: row %d has %d cells, want 6", i, len(r))
		}
	}
	return grid, nil
}

// seedRows is the shipped plan's table as a grid: the header row and its 50 tasks, six
// columns, with blanks where the text form has them (重点工作 and 任务目标 under the task
// that first names them). The caller may change the copy it gets.
func seedRows(tb testing.TB) [][]string {
	tb.Helper()
	grid, err := seedGrid()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]string, len(grid))
	for i, r := range grid {
		out[i] = append([]string(nil), r...)
	}
	return out
}

// seedRuns lists, for columns B (重点工作) and C (任务目标) of the seed grid, the runs of rows
// [first, last] (0-based) that a blank below a filled cell makes: what a real merge would
// cover. A goal's run stops where a new area starts.
func seedRuns() [][3]int {
	grid, err := seedGrid()
	if err != nil {
		return nil // seedRows reports it
	}
	var runs [][3]int // col, first, last
	for _, col := range []int{1, 2} {
		for i := 1; i < len(grid); {
			j := i + 1
			for j < len(grid) && grid[j][col] == "" && (col == 1 || grid[j][1] == "") {
				j++
			}
			if j-i > 1 {
				runs = append(runs, [3]int{col, i, j - 1})
			}
			i = j
		}
	}
	return runs
}

// seedMerges gives the xlsx ranges that turn the seed's blanks in columns B and C into real
// merged cells, for the grid of seedRows written from A1 — or, with below, that many rows
// lower (1 for a title row above the header).
func seedMerges(below ...int) []string {
	off := 0
	for _, b := range below {
		off += b
	}
	var merges []string
	for _, r := range seedRuns() {
		letter := string(rune('A' + r[0]))
		merges = append(merges, fmt.Sprintf("%s%d:%s%d", letter, r[1]+1+off, letter, r[2]+1+off))
	}
	return merges
}

// seedVMerge gives writeDOCX's vmerge for the seed grid: the cells below the first of each
// run of seedRuns.
func seedVMerge() map[[2]int]bool {
	v := map[[2]int]bool{}
	for _, r := range seedRuns() {
		for row := r[1] + 1; row <= r[2]; row++ {
			v[[2]int{row, r[0]}] = true
		}
	}
	return v
}
