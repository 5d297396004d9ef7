package plantable

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readCSV reads a CSV file as one table. Excel writes CSV in the system's code page (GBK
// on Chinese Windows) and "Unicode text" as tab-separated UTF-16LE; decodeText handles the
// encodings, and the separator is the first of comma, tab and semicolon that gives more
// than one column.
func readCSV(name string, data []byte, _ ReadOptions) ([]*Table, error) {
	s, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("the file is empty: %w", errEmpty)
	}
	var t *Table
	for _, sep := range []rune{',', '\t', ';'} {
		t, err = parseCSV(s, sep)
		if err != nil {
			return nil, err
		}
		if width(t) > 1 {
			break
		}
	}
	if width(t) < 2 {
		t, _ = parseCSV(s, ',')
	}
	pad(t, rowColPlace)
	return []*Table{t}, nil
}

func parseCSV(s string, sep rune) (*Table, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.Comma = sep
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	t := &Table{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable CSV file: %w", err)
		}
		line, _ := r.FieldPos(0)
		row := Row{Line: line, Cells: make([]Cell, len(rec))}
		for i, f := range rec {
			l, _ := r.FieldPos(i)
			row.Cells[i] = Cell{Text: f, Place: rowColPlace(l, i+1)}
		}
		t.Rows = append(t.Rows, row)
	}
}

func width(t *Table) int {
	w := 0
	for _, r := range t.Rows {
		w = max(w, len(r.Cells))
	}
	return w
}
