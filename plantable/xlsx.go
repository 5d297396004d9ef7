package plantable

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"
)

// oleMagic starts an OLE compound file: what Excel writes for a workbook saved with a
// password (the encrypted .xlsx inside an "EncryptionInfo"/"EncryptedPackage" pair) and
// for an old .xls.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// utf16le("EncryptionInfo"), the stream name of an encrypted OOXML package.
var encryptionInfo = []byte("E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o\x00")

// readXLSX reads every sheet of a workbook (or opt.Sheet) as a Table. It streams the
// rows with excelize's Rows iterator, which yields formatted values as Excel shows them,
// rather than GetRows' whole-sheet copy.
func readXLSX(_ string, data []byte, opt ReadOptions) ([]*Table, error) {
	if bytes.HasPrefix(data, oleMagic) {
		if bytes.Contains(data, encryptionInfo) {
			return nil, fmt.Errorf("the workbook is password-protected: save it without a password and import again")
		}
		return nil, fmt.Errorf("an Excel 97–2003 workbook named .xlsx is not read: save as .xlsx")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an .xlsx workbook: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if opt.Sheet != "" {
		found := false
		for _, s := range sheets {
			found = found || s == opt.Sheet
		}
		if !found {
			return nil, fmt.Errorf("no sheet %q: the workbook has %s", opt.Sheet, quoteList(sheets))
		}
		sheets = []string{opt.Sheet}
	}
	parts := sheetParts(data)
	var tables []*Table
	for _, sheet := range sheets {
		t, err := readSheet(f, sheet, parts[sheet])
		if err != nil {
			return nil, fmt.Errorf("sheet %s: %w", sheet, err)
		}
		tables = append(tables, t)
	}
	return tables, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// A span is a merged range, 1-based and inclusive.
type span struct{ c1, r1, c2, r2 int }

func readSheet(f *excelize.File, sheet string, part *zip.File) (*Table, error) {
	spans, err := sheetSpans(f, sheet, part)
	if err != nil {
		return nil, err
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].r1 < spans[j].r1 })

	place := func(row, col int) string {
		name, _ := excelize.CoordinatesToCellName(col, row)
		return sheet + "!" + name
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &Table{Sheet: sheet}
	var active []span // the spans that cover the current row
	next := 0         // the first span of spans not yet active
	for r := 1; rows.Next(); r++ {
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		kept := active[:0]
		for _, s := range active {
			if s.r2 >= r {
				kept = append(kept, s)
			}
		}
		active = kept
		for ; next < len(spans) && spans[next].r1 <= r; next++ {
			if spans[next].r2 >= r {
				active = append(active, spans[next])
			}
		}
		n := len(cols)
		for _, s := range active {
			n = max(n, s.c2)
		}
		if n == 0 {
			continue
		}
		row := Row{Line: r, Cells: make([]Cell, n)}
		blank := len(active) == 0
		for c := range row.Cells {
			cell := &row.Cells[c]
			cell.Place = place(r, c+1)
			if c < len(cols) {
				cell.Text = cols[c]
				blank = blank && cols[c] == ""
			}
		}
		for _, s := range active {
			for c := s.c1; c <= s.c2; c++ {
				cell := &row.Cells[c-1]
				if c > s.c1 {
					cell.Merged, cell.Spanned, cell.Text = true, true, ""
				} else if r > s.r1 {
					cell.Merged, cell.Text = true, ""
				}
			}
		}
		if !blank {
			t.Rows = append(t.Rows, row)
		}
	}
	if err := rows.Error(); err != nil {
		return nil, err
	}
	pad(t, place)
	return t, nil
}

// sheetSpans lists the merged ranges of a sheet. excelize's GetMergeCells unmarshals the
// whole worksheet, and Rows then marshals it back: for a 10,000-row sheet that tripled the
// time and memory of the read. The ranges are read from the sheet's XML instead, from the
// end of its sheetData on, where <mergeCells> stands; GetMergeCells is the fallback.
func sheetSpans(f *excelize.File, sheet string, part *zip.File) ([]span, error) {
	var refs []string
	if part == nil || scanMerges(part, &refs) != nil {
		merges, err := f.GetMergeCells(sheet, true)
		if err != nil {
			return nil, err
		}
		refs = refs[:0]
		for _, m := range merges {
			refs = append(refs, m.GetStartAxis()+":"+m.GetEndAxis())
		}
	}
	spans := make([]span, 0, len(refs))
	for _, ref := range refs {
		first, last, ok := strings.Cut(ref, ":")
		if !ok {
			last = first // a one-cell "merge"
		}
		c1, r1, err := excelize.CellNameToCoordinates(first)
		if err != nil {
			return nil, fmt.Errorf("merged range %s: %w", ref, err)
		}
		c2, r2, err := excelize.CellNameToCoordinates(last)
		if err != nil {
			return nil, fmt.Errorf("merged range %s: %w", ref, err)
		}
		spans = append(spans, span{min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)})
	}
	return spans, nil
}

// scanMerges appends the ref of every <mergeCell> of the sheet part to refs.
func scanMerges(part *zip.File, refs *[]string) error {
	rc, err := part.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if i := bytes.LastIndex(b, []byte("sheetData>")); i >= 0 {
		b = b[i+len("sheetData>"):]
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			// The tail ends with </worksheet>, whose start was cut off: an error, and the end.
			return nil
		}
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == "mergeCell" {
			for _, a := range e.Attr {
				if a.Name.Local == "ref" {
					*refs = append(*refs, a.Value)
				}
			}
		}
	}
}

// sheetParts maps each sheet's name to its part in the workbook's zip, through
// xl/workbook.xml and its relationships. A sheet it cannot place is left out.
func sheetParts(data []byte) map[string]*zip.File {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	decode := func(name string, v any) bool {
		f := files[name]
		if f == nil {
			return false
		}
		rc, err := f.Open()
		if err != nil {
			return false
		}
		defer rc.Close()
		return xml.NewDecoder(rc).Decode(v) == nil
	}
	type rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	resolve := func(dir, target string) string {
		if strings.HasPrefix(target, "/") {
			return strings.TrimPrefix(path.Clean(target), "/")
		}
		return path.Join(dir, target)
	}
	book := "xl/workbook.xml"
	var root rels
	if decode("_rels/.rels", &root) {
		for _, r := range root.Rel {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				book = resolve("", r.Target)
			}
		}
	}
	dir := path.Dir(book)
	var bookRels rels
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if !decode(path.Join(dir, "_rels", path.Base(book)+".rels"), &bookRels) || !decode(book, &wb) {
		return nil
	}
	targets := map[string]string{}
	for _, r := range bookRels.Rel {
		targets[r.ID] = resolve(dir, r.Target)
	}
	parts := map[string]*zip.File{}
	for _, s := range wb.Sheets {
		if f := files[targets[s.RID]]; f != nil {
			parts[s.Name] = f
		}
	}
	return parts
}
