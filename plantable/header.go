package plantable

import (
	"fmt"
	"regexp"
	"strings"
)

// A field is what a column of the plan means.
type field int

const (
	fNone     field = iota
	fID             // 序号
	fArea           // 重点工作
	fGoal           // 任务目标
	fMetric         // 量化指标
	fDept           // 责任部门 (and 配合单位): departments after the lead column's
	fLead           // 牵头单位: departments listed first
	fDeadline       // 完成时限
	fNote           // 备注: kept as the task's note
	nFields
)

// fieldName is the field's name in the summary and in problems: the shipped plan's header.
var fieldName = [nFields]string{
	fID: "序号", fArea: "重点工作", fGoal: "任务目标", fMetric: "量化指标",
	fDept: "责任部门", fLead: "责任部门", fDeadline: "完成时限", fNote: "备注",
}

// headerWords are the words plans write over each column. They are matched whole, after
// normalising (spaces and line breaks dropped, full-width folded, a bracketed remark such as
// "（年月）" and a trailing colon or asterisk removed): a whole-word match cannot mistake a
// task's text for a header.
var headerWords = map[string]field{
	"序号": fID, "编号": fID, "任务序号": fID, "任务编号": fID,
	"重点工作": fArea, "工作类别": fArea, "类别": fArea, "领域": fArea, "重点领域": fArea, "工作领域": fArea,
	"任务目标": fGoal, "工作任务": fGoal, "主要任务": fGoal, "重点任务": fGoal, "任务": fGoal,
	"量化指标": fMetric, "具体目标": fMetric, "工作目标": fMetric, "目标任务": fMetric, "具体任务": fMetric, "工作内容": fMetric,
	"责任部门": fDept, "责任单位": fDept, "牵头及责任单位": fDept, "配合单位": fDept, "配合部门": fDept, "协办单位": fDept, "责任主体": fDept,
	"牵头单位": fLead, "牵头部门": fLead,
	"完成时限": fDeadline, "时间节点": fDeadline, "完成时间": fDeadline, "完成期限": fDeadline, "时限": fDeadline, "时限要求": fDeadline,
	"备注": fNote, "说明": fNote,
}

// lookedFor lists the words of each required column, for the "no header found" problem.
var lookedFor = [nFields]string{
	fID:       "序号/编号",
	fGoal:     "任务目标/工作任务/主要任务 (or 量化指标/具体目标/工作目标)",
	fDept:     "责任部门/责任单位/牵头单位/牵头及责任单位/配合单位",
	fDeadline: "完成时限/时间节点/完成时间",
}

var headerRemark = regexp.MustCompile(`\([^()]*\)$`)

// headerField says which field a header cell names, fNone if it names none.
func headerField(text string) field {
	s := foldWidth(squeeze(text))
	s = strings.TrimRight(s, ":*")
	s = headerRemark.ReplaceAllString(s, "")
	s = strings.TrimLeft(s, "*")
	return headerWords[s]
}

// A header is the row (or the two rows, when merged cells split it) that names the columns.
type header struct {
	table *Table
	row   int // index in table.Rows of the header's (last) row: data starts after it
	first int // index of its first row
	cols  []field
	words []string // the header cell's text per column, normalised, for the summary
}

// col returns the first column of a field, -1 if none.
func (h *header) col(f field) int {
	for i, g := range h.cols {
		if g == f {
			return i
		}
	}
	return -1
}

// missing lists what a header lacks of the required columns.
func (h *header) missing() []field {
	var out []field
	if h.col(fID) < 0 {
		out = append(out, fID)
	}
	if h.col(fGoal) < 0 && h.col(fMetric) < 0 {
		out = append(out, fGoal)
	}
	if h.col(fDept) < 0 && h.col(fLead) < 0 {
		out = append(out, fDept)
	}
	if h.col(fDeadline) < 0 {
		out = append(out, fDeadline)
	}
	return out
}

// rowFields reads the header words of one row.
func rowFields(r Row) ([]field, []string, int) {
	cols := make([]field, len(r.Cells))
	words := make([]string, len(r.Cells))
	n := 0
	seen := map[field]bool{}
	for i, c := range r.Cells {
		words[i] = squeeze(c.Text)
		if f := headerField(c.Text); f != fNone {
			cols[i] = f
			if !seen[f] {
				seen[f] = true
				n++
			}
		}
	}
	return cols, words, n
}

// findHeader looks for the first row, in table order, that names the required columns. A
// row naming three or more fields is a header; when the row under it names fields too and
// is not a task (merged header cells: "责任单位" over "牵头单位 | 配合单位"), the two rows
// are one header and the lower row's words win, being the more precise. It returns the
// first header found with every required column, else the first one found (with missing
// columns), else nil.
func findHeader(tables []*Table) *header {
	var partial *header
	for _, t := range tables {
		for i := range t.Rows {
			cols, words, n := rowFields(t.Rows[i])
			if n < 3 {
				continue
			}
			h := &header{table: t, row: i, first: i, cols: cols, words: words}
			if i+1 < len(t.Rows) {
				below, bwords, bn := rowFields(t.Rows[i+1])
				if bn > 0 && !looksLikeTask(t.Rows[i+1], h) {
					h.row = i + 1
					for c := range below {
						if c >= len(h.cols) {
							h.cols = append(h.cols, fNone)
							h.words = append(h.words, "")
						}
						if below[c] != fNone {
							h.cols[c], h.words[c] = below[c], bwords[c]
						}
					}
				}
			}
			if len(h.missing()) == 0 {
				return h
			}
			if partial == nil {
				partial = h
			}
		}
	}
	return partial
}

// looksLikeTask reports whether the row under a header row starts the data: its 序号 cell
// holds a number.
func looksLikeTask(r Row, h *header) bool {
	c := h.col(fID)
	if c < 0 || c >= len(r.Cells) {
		return false
	}
	_, ok := parseID(r.Cells[c].Text)
	return ok
}

// colLabel names a column in the summary: the xlsx column letter, else "第5列".
func colLabel(h *header, c int) string {
	r := h.table.Rows[h.first]
	if c < len(r.Cells) {
		p := r.Cells[c].Place
		if i := strings.LastIndexByte(p, '!'); i >= 0 {
			return strings.TrimRight(p[i+1:], "0123456789")
		}
	}
	return fmt.Sprintf("第%d列", c+1)
}

var idRe = regexp.MustCompile(`^(?:\((\d+)\)|(\d+)[.、]?)$`)

// parseID reads a 序号: 12, １２, "12.", "12、", "（12）". Chinese numerals (一、二、) are
// not task numbers: plans use them for section headings, which are skipped.
func parseID(s string) (int, bool) {
	g := idRe.FindStringSubmatch(foldWidth(squeeze(s)))
	if g == nil {
		return 0, false
	}
	d := g[1] + g[2]
	if len(d) > 9 {
		return 0, false
	}
	n := 0
	for _, r := range d {
		n = n*10 + int(r-'0')
	}
	return n, true
}
