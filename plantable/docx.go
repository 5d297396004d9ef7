package plantable

// The .docx reader is encoding/xml over archive/zip. No Go docx library kept in the
// module cache or the registries' lists reads table merges: the ones found either only
// write documents or flatten a table's cells to text, losing w:vMerge and w:gridSpan, which
// are what make a plan's 重点工作 and 任务目标 columns readable. A table is a small part of
// WordprocessingML, so it is read here directly.

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// readDOCX reads every top-level table (w:tbl) of the document body, in document order,
// as Tables "表1", "表2"…; opt.Sheet "表2" keeps only the second.
func readDOCX(_ string, data []byte, opt ReadOptions) ([]*Table, error) {
	if bytes.HasPrefix(data, oleMagic) {
		if bytes.Contains(data, encryptionInfo) {
			return nil, fmt.Errorf("the document is password-protected: save it without a password and import again")
		}
		return nil, fmt.Errorf("a Word 97–2003 document named .docx is not read: save as .docx")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a Word .docx file (%w)", err)
	}
	part := mainPart(zr)
	f, err := zr.Open(part)
	if err != nil {
		return nil, fmt.Errorf("not a Word .docx file (no %s)", part)
	}
	defer f.Close()
	tables, err := docxTables(f)
	if err != nil {
		return nil, fmt.Errorf("not a readable Word .docx file (%s: %w)", part, err)
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no table found")
	}
	if opt.Sheet != "" {
		for _, t := range tables {
			if t.Sheet == opt.Sheet {
				return []*Table{t}, nil
			}
		}
		return nil, fmt.Errorf("no table %q: the document has %d table(s), 表1 to 表%d", opt.Sheet, len(tables), len(tables))
	}
	return tables, nil
}

// mainPart is the document part that _rels/.rels names, word/document.xml by default.
func mainPart(zr *zip.Reader) string {
	const def = "word/document.xml"
	f, err := zr.Open("_rels/.rels")
	if err != nil {
		return def
	}
	defer f.Close()
	var rels struct {
		Rel []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if xml.NewDecoder(f).Decode(&rels) != nil {
		return def
	}
	for _, r := range rels.Rel {
		if strings.HasSuffix(r.Type, "/officeDocument") && r.Target != "" {
			return strings.TrimPrefix(path.Clean("/"+r.Target), "/")
		}
	}
	return def
}

// A docxCell is one w:tc as written: its text, the grid columns it covers and whether it
// continues a vertical merge.
type docxCell struct {
	text  strings.Builder
	paras int
	span  int
	cont  bool
}

func docxTables(r io.Reader) ([]*Table, error) {
	d := xml.NewDecoder(r)
	var (
		tables   []*Table
		t        *Table
		depth    int // w:tbl nesting: 1 is a top-level table
		grid     int // w:gridCol of the current top-level table
		row      []*docxCell
		before   int // w:gridBefore of the current row
		cell     *docxCell
		inText   bool // inside a w:t
		inRun    int  // inside a w:r, where w:tab and w:br are characters
		fallback int  // inside mc:Fallback, a copy of what mc:Choice says
	)
	val := func(e xml.StartElement) (string, bool) {
		for _, a := range e.Attr {
			if a.Name.Local == "val" {
				return a.Value, true
			}
		}
		return "", false
	}
	num := func(e xml.StartElement) int {
		v, _ := val(e)
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 1
		}
		return min(n, 1000) // a bound against a corrupt span
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return tables, nil
		}
		if err != nil {
			return nil, err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if fallback > 0 || e.Name.Local == "Fallback" {
				fallback++
				continue
			}
			switch e.Name.Local {
			case "tbl":
				depth++
				if depth == 1 {
					t = &Table{Sheet: fmt.Sprintf("表%d", len(tables)+1)}
					grid = 0
				}
			case "gridCol":
				if depth == 1 {
					grid++
				}
			case "tr":
				if depth == 1 {
					row, before = nil, 0
				}
			case "gridBefore":
				if depth == 1 && cell == nil {
					before = num(e)
				}
			case "tc":
				if depth == 1 {
					cell = &docxCell{span: 1}
				}
			case "gridSpan":
				if depth == 1 && cell != nil {
					cell.span = num(e)
				}
			case "vMerge":
				if depth == 1 && cell != nil {
					v, _ := val(e)
					cell.cont = v != "restart"
				}
			case "p":
				if cell != nil {
					if cell.paras > 0 {
						cell.text.WriteByte('\n')
					}
					cell.paras++
				}
			case "r":
				inRun++
			case "t":
				inText = true
			case "tab":
				if cell != nil && inRun > 0 {
					cell.text.WriteByte('\t')
				}
			case "br", "cr":
				if cell != nil && inRun > 0 {
					cell.text.WriteByte('\n')
				}
			}
		case xml.CharData:
			if inText && cell != nil && fallback == 0 {
				cell.text.Write(e)
			}
		case xml.EndElement:
			if fallback > 0 {
				fallback--
				continue
			}
			switch e.Name.Local {
			case "t":
				inText = false
			case "r":
				inRun--
			case "tc":
				if depth == 1 && cell != nil {
					row = append(row, cell)
					cell = nil
				}
			case "tr":
				if depth == 1 && t != nil {
					t.Rows = append(t.Rows, docxRow(t.Sheet, len(t.Rows)+1, before, row))
				}
			case "tbl":
				if depth == 1 && t != nil {
					for len(t.Rows) > 0 && len(t.Rows[0].Cells) < grid {
						// w:tblGrid gives the width even when no row fills it.
						t.Rows[0].Cells = append(t.Rows[0].Cells, Cell{Place: docxPlace(t.Sheet, 1, len(t.Rows[0].Cells)+1)})
					}
					pad(t, func(line, col int) string { return docxPlace(t.Sheet, line, col) })
					tables = append(tables, t)
					t = nil
				}
				depth--
			}
		}
	}
}

func docxPlace(table string, line, col int) string {
	return fmt.Sprintf("%s 第%d行第%d列", table, line, col)
}

// docxRow lays the row's w:tc out on the grid: gridBefore empty columns, then each cell
// over its span, the first column with the text and the others Spanned.
func docxRow(table string, line, before int, tcs []*docxCell) Row {
	r := Row{Line: line}
	add := func(c Cell) {
		c.Place = docxPlace(table, line, len(r.Cells)+1)
		r.Cells = append(r.Cells, c)
	}
	for range before {
		add(Cell{})
	}
	for _, tc := range tcs {
		if tc.cont {
			add(Cell{Merged: true})
		} else {
			add(Cell{Text: tc.text.String()})
		}
		for range tc.span - 1 {
			add(Cell{Merged: true, Spanned: true})
		}
	}
	return r
}
