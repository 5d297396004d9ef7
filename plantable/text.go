package plantable

import (
	"fmt"
	"strings"
)

// The flattened text form is what a table becomes when a document is saved as plain text:
// each cell on a line of its own, indented by a tab ("\t" alone is an empty cell), the
// cells of one row on consecutive lines, and a blank line after each row. Lines that are not
// indented are the document's titles and notes; each becomes a row of one cell so that the
// interpreter can skip or report it. Rows are not padded: a note row keeps its one cell.
//
// A cell whose text ends in an empty paragraph leaves a blank line inside its row (the
// shipped plan's task 49 does); a row cut short by a blank line is therefore joined with
// the next group of cells when together they make exactly the table's usual width.

// readText reads the flattened text form as one table.
func readText(name string, data []byte, _ ReadOptions) ([]*Table, error) {
	s, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	if tabSeparated(s) {
		// Excel's "Unicode text" (.txt) is a table of tab-separated lines, not this form.
		t, err := parseCSV(s, '\t')
		if err != nil {
			return nil, err
		}
		pad(t, rowColPlace)
		return []*Table{t}, nil
	}
	type group struct {
		row   Row
		note  bool // a title or note line, never joined
		after bool // the group that follows comes after blank lines only
	}
	var groups []group
	open := false // the last group is a row still taking cells
	for i, line := range strings.Split(s, "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		switch {
		case strings.HasPrefix(line, "\t"):
			if !open {
				groups = append(groups, group{row: Row{Line: n}})
				open = true
			}
			g := &groups[len(groups)-1]
			g.row.Cells = append(g.row.Cells, Cell{Text: line[1:], Place: fmt.Sprintf("第%d行", n)})
		case strings.TrimSpace(line) == "":
			if open {
				groups[len(groups)-1].after = true
			}
			open = false
		default:
			open = false
			groups = append(groups, group{note: true, row: Row{Line: n, Cells: []Cell{{Text: line, Place: fmt.Sprintf("第%d行", n)}}}})
		}
	}

	// The table's usual width is the commonest number of cells of a row of two or more.
	count := map[int]int{}
	width := 0
	for _, g := range groups {
		if w := len(g.row.Cells); !g.note && w >= 2 {
			count[w]++
			if count[w] > count[width] {
				width = w
			}
		}
	}
	t := &Table{}
	for i := 0; i < len(groups); i++ {
		g := groups[i]
		for !g.note && g.after && i+1 < len(groups) && !groups[i+1].note &&
			len(g.row.Cells) < width && len(g.row.Cells)+len(groups[i+1].row.Cells) == width {
			i++
			g.row.Cells = append(g.row.Cells, groups[i].row.Cells...)
			g.after = groups[i].after
		}
		t.Rows = append(t.Rows, g.row)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("no table found: %w", errEmpty)
	}
	return []*Table{t}, nil
}

// tabSeparated tells a tab-separated table from the flattened form: more of its lines hold
// a tab after some text than are a tab and one cell.
func tabSeparated(s string) bool {
	flat, inner := 0, 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch i := strings.LastIndexByte(line, '\t'); {
		case i < 0:
		case i == 0:
			flat++
		default:
			inner++
		}
	}
	return inner > flat
}
