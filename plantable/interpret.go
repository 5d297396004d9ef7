package plantable

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duban/duban/config"
)

// Interpret reads the plan's rows as a 督查室 clerk reads the table:
//
//   - The header is found by its words (header.go), in any column order, on the first table
//     that has one; everything above it (titles, a 填报单位 line, notes) is skipped and listed
//     in Summary.Skipped.
//   - A row whose 序号 is a number (12, １２, "12.", "12、", "（12）") is a task. A row with
//     text in one cell only, in the first or the 序号 column, is a line of the document — a
//     title, a section heading (一、…), a note below the table — and is skipped and listed,
//     as is the header row repeated (a workbook printed over several pages).
//     Any other row with text but no number is a note row: its texts, joined with a space,
//     go to the note of the task above (Task.Note, one line each; a 备注 column's text comes
//     first); a note row before the first task is a problem. A row with no text is skipped.
//   - A merged cell (an xlsx merge, a docx w:vMerge) has the value of the cell above, in every
//     column; a cell covered by a merge from its left (Spanned) is empty, the text being the
//     left column's. A blank cell takes the value of the task above only for 重点工作 and
//     任务目标, as the shipped plan is written; a blank 责任部门 or 完成时限 is a problem, a
//     blank 量化指标 an empty metric.
//   - A 序号 written twice is a problem naming both places, and so is a 序号 covered by a
//     merge: duban needs one number per task.
//   - With no 任务目标 column, the 量化指标 text is the goal (tasks.yaml needs one) and the
//     metric is empty.
//   - With a 牵头单位 column and a 配合单位 or 责任单位 column, the departments are the lead
//     column's names, then the others', each once (departments.go says how a cell splits).
//   - 完成时限: deadline.go. A standing task (长期坚持) takes Options.StandingReview.
//
// Every problem is reported at once, in table order, with its place; nothing is returned
// with them.

// Options are what Interpret needs besides the table.
type Options struct {
	// Known reports whether config.yaml knows a name (a department, group or alias); nil:
	// every name is new.
	Known func(name string) bool
	// StandingReview gives a task with no fixed date (长期坚持, 持续推进, 长期, 持续) a review
	// cadence: its deadline is the end of the day Today+StandingReview and its Recurrence the
	// option as written (StandingReviewText, e.g. "90d"), meaning "reviewed every 90 days".
	// 0 refuses such tasks, naming the cell.
	StandingReview     time.Duration
	StandingReviewText string
	// Today is the import's date: the start of a standing task's review and the year of
	// 每年 when the cell writes none.
	Today time.Time
}

// A Problem is one thing wrong with the table, at its place: "plan.xlsx 任务清单!E14".
type Problem struct {
	Place string
	Msg   string
}

func (p Problem) String() string {
	if p.Place == "" {
		return p.Msg
	}
	return p.Place + ": " + p.Msg
}

// Problems are every problem of a table, in table order.
type Problems []Problem

func (p Problems) Error() string {
	s := make([]string, len(p))
	for i, q := range p {
		s[i] = q.String()
	}
	return strings.Join(s, "\n")
}

// Summary says what Interpret read and how, for the person importing.
type Summary struct {
	Source  string            // the table the tasks came from: "plan.xlsx 任务清单"
	Columns map[string]string // field (序号, 重点工作, …) → source column: "E (牵头及责任单位)"
	Ignored []string          // columns not read as a field: "备注 (kept as notes)", "联系人 (ignored)"
	Areas   []AreaCount       // tasks per 重点工作, in first-seen order
	// Known and New are the department names (after splitting), first-seen order, that
	// Options.Known knows and does not.
	Known, New  []string
	First, Last string // the earliest and latest deadline, in tasks.yaml's form
	Yearly      int    // tasks with recurrence yearly
	Standing    int    // tasks with no fixed date, given a review cadence
	NoteRows    int    // note rows attached to the task above
	Skipped     []string
}

// AreaCount is the number of tasks of one 重点工作.
type AreaCount struct {
	Area  string
	Tasks int
}

// Result is the plan's tasks and what was made of the table.
type Result struct {
	Tasks   []Task
	Summary Summary
}

// Interpret reads the tasks of the first table whose header it finds.
func Interpret(tables []*Table, opt Options) (*Result, error) {
	if len(tables) == 0 {
		return nil, Problems{{Msg: "no table to read"}}
	}
	h := findHeader(tables)
	if h == nil {
		return nil, Problems{{Place: tables[0].File, Msg: "no header found: looked for a row naming " + lookedForAll()}}
	}
	if missing := h.missing(); len(missing) > 0 {
		var words []string
		for _, f := range missing {
			words = append(words, lookedFor[f])
		}
		return nil, Problems{{
			Place: place(h.table, h.table.Rows[h.first].Cells[0]),
			Msg:   fmt.Sprintf("the header on 第%d行 has no column for %s", h.table.Rows[h.first].Line, strings.Join(words, ", ")),
		}}
	}
	in := newInterp(h, opt)
	in.run()
	if len(in.problems) > 0 {
		slices.SortStableFunc(in.problems, func(a, b located) int {
			return cmp.Or(cmp.Compare(a.row, b.row), cmp.Compare(a.col, b.col))
		})
		ps := make(Problems, len(in.problems))
		for i, p := range in.problems {
			ps[i] = p.Problem
		}
		return nil, ps
	}
	return &Result{Tasks: in.tasks, Summary: in.summary()}, nil
}

func lookedForAll() string {
	return lookedFor[fID] + ", " + lookedFor[fGoal] + ", " + lookedFor[fDept] + " and " + lookedFor[fDeadline]
}

// place names a cell in problems: the file, then the cell.
func place(t *Table, c Cell) string {
	if c.Place == "" {
		return t.File
	}
	return t.File + " " + c.Place
}

type located struct {
	row, col int
	Problem
}

// interp is one run of Interpret over the header's table.
type interp struct {
	h   *header
	opt Options
	// one column per field, -1 if none; depts are every department column, lead columns first
	col      [nFields]int
	depts    []int
	tasks    []Task
	problems []located
	ids      map[int]string // 序号 → the place it was first seen
	above    []string       // the last own text of each column, which a merged cell below takes
	noteRows int
	skipped  []string
	ignored  []string
	columns  map[string]string
	// deadlines caches parseDeadline: a plan writes the same few deadlines on every row.
	deadlines map[string]parsedDeadline
}

type parsedDeadline struct {
	d   deadline
	err error
}

// deadline is parseDeadline, once per distinct cell text.
func (in *interp) deadline(text string) (deadline, error) {
	if p, ok := in.deadlines[text]; ok {
		return p.d, p.err
	}
	d, err := parseDeadline(text, in.opt.Today)
	if in.deadlines == nil {
		in.deadlines = map[string]parsedDeadline{}
	}
	in.deadlines[text] = parsedDeadline{d, err}
	return d, err
}

func newInterp(h *header, opt Options) *interp {
	in := &interp{h: h, opt: opt, ids: map[int]string{}, columns: map[string]string{}}
	for f := range in.col {
		in.col[f] = -1
	}
	var leads, others []int
	for c, f := range h.cols {
		label := colLabel(h, c)
		switch {
		case f == fLead:
			leads = append(leads, c)
		case f == fDept:
			others = append(others, c)
		case f == fNone:
			switch {
			case h.words[c] != "":
				in.ignored = append(in.ignored, h.words[c]+" (ignored)")
			case columnHasText(h, c):
				in.ignored = append(in.ignored, label+" (no header, ignored)")
			}
		case in.col[f] >= 0:
			in.ignored = append(in.ignored, fmt.Sprintf("%s (%s, a second %s column, ignored)", h.words[c], label, fieldName[f]))
		default:
			in.col[f] = c
			in.columns[fieldName[f]] = fmt.Sprintf("%s (%s)", label, h.words[c])
			if f == fNote {
				in.ignored = append(in.ignored, h.words[c]+" (kept as notes)")
			}
		}
	}
	in.depts = append(leads, others...)
	var labels []string
	for _, c := range in.depts {
		labels = append(labels, fmt.Sprintf("%s (%s)", colLabel(h, c), h.words[c]))
	}
	in.columns[fieldName[fDept]] = strings.Join(labels, ", ")
	return in
}

// columnHasText reports whether any row under the header has text in column c.
func columnHasText(h *header, c int) bool {
	for _, r := range h.table.Rows[h.row+1:] {
		if c < len(r.Cells) && strings.TrimSpace(r.Cells[c].Text) != "" {
			return true
		}
	}
	return false
}

func (in *interp) problem(row, col int, c Cell, format string, args ...any) {
	in.problems = append(in.problems, located{row, col, Problem{place(in.h.table, c), fmt.Sprintf(format, args...)}})
}

func (in *interp) run() {
	t := in.h.table
	for i := in.h.first; i < in.h.row+1; i++ { // the header's rows set what merges below take
		in.remember(t.Rows[i])
	}
	for i, r := range t.Rows[:in.h.first] {
		if text := firstText(r); text != "" {
			in.skipped = append(in.skipped, fmt.Sprintf("第%d行 %s", t.Rows[i].Line, brief(text)))
		}
	}
	for i := in.h.row + 1; i < len(t.Rows); i++ {
		in.row(i, t.Rows[i])
	}
	if len(in.tasks) == 0 && len(in.problems) == 0 {
		first := t.Rows[in.h.first]
		in.problem(in.h.row, 0, first.Cells[0], "no task under the header on 第%d行: a task row has a number in its 序号 column", first.Line)
	}
}

// remember keeps each column's own text for the merged cells below.
func (in *interp) remember(r Row) {
	for c, cell := range r.Cells {
		for len(in.above) <= c {
			in.above = append(in.above, "")
		}
		if !cell.Merged {
			in.above[c] = cell.Text
		}
	}
}

// firstText is the first own text of a row.
func firstText(r Row) string {
	for _, c := range r.Cells {
		if !c.Merged && strings.TrimSpace(c.Text) != "" {
			return c.Text
		}
	}
	return ""
}

// ownTexts counts the cells of a row with text of their own, and gives the column of the
// first.
func ownTexts(r Row) (n, first int) {
	first = -1
	for c, cell := range r.Cells {
		if !cell.Merged && strings.TrimSpace(cell.Text) != "" {
			if first < 0 {
				first = c
			}
			n++
		}
	}
	return n, first
}

// cell returns column c of a row and its value: its text, the text above for a merged cell,
// "" for one spanned from its left.
func (in *interp) cell(r Row, c int) (Cell, string) {
	if c < 0 {
		return Cell{}, ""
	}
	if c >= len(r.Cells) {
		// A short row (CSV, text: readers of those do not pad): the missing cell is empty
		// and named by its row and column.
		return Cell{Place: rowColPlace(r.Line, c+1)}, ""
	}
	cell := r.Cells[c]
	switch {
	case cell.Spanned:
		return cell, ""
	case cell.Merged && c < len(in.above):
		return cell, in.above[c]
	}
	return cell, cell.Text
}

func (in *interp) row(i int, r Row) {
	defer in.remember(r)
	n, first := ownTexts(r)
	if n == 0 {
		return // an empty row, or one wholly inside merges above
	}
	idCell, idText := in.cell(r, in.col[fID])
	id, isTask := parseID(idText)
	if !isTask {
		if n == 1 && (first == 0 || first == in.col[fID]) {
			in.skipped = append(in.skipped, fmt.Sprintf("第%d行 %s", r.Line, brief(r.Cells[first].Text)))
			return
		}
		if _, _, words := rowFields(r); words >= 3 {
			// the header again, as a workbook printed over several pages repeats it
			in.skipped = append(in.skipped, fmt.Sprintf("第%d行 %s (the header again)", r.Line, brief(r.Cells[first].Text)))
			return
		}
		in.noteRow(i, r, first)
		return
	}
	var ps []located
	bad := func(col int, c Cell, format string, args ...any) {
		ps = append(ps, located{i, col, Problem{place(in.h.table, c), fmt.Sprintf(format, args...)}})
	}
	task := Task{ID: id, Place: place(in.h.table, idCell)}
	switch firstAt, dup := in.ids[id]; {
	case id <= 0:
		bad(in.col[fID], idCell, "bad 序号 %q: want a task number from 1", normText(idText))
	case idCell.Merged:
		bad(in.col[fID], idCell, "序号 %d covers two rows (a merged cell, first at %s): give each row its own number", id, firstAt)
	case dup:
		bad(in.col[fID], idCell, "duplicate 序号 %d (first at %s)", id, firstAt)
	default:
		in.ids[id] = task.Place
	}

	var prev *Task
	if len(in.tasks) > 0 {
		prev = &in.tasks[len(in.tasks)-1]
	}
	// inherit gives a blank area or goal the task above's, as the shipped plan's blanks mean.
	inherit := func(own string, from func(*Task) string) string {
		if own = normText(own); own == "" && prev != nil {
			return from(prev)
		}
		return own
	}
	_, area := in.cell(r, in.col[fArea])
	task.Area = inherit(area, func(t *Task) string { return t.Area })
	_, metric := in.cell(r, in.col[fMetric])
	task.Metric = normText(metric)
	if in.col[fGoal] >= 0 {
		goalCell, goal := in.cell(r, in.col[fGoal])
		if task.Goal = inherit(goal, func(t *Task) string { return t.Goal }); task.Goal == "" {
			bad(in.col[fGoal], goalCell, "empty goal (任务目标)")
		}
	} else {
		task.Goal, task.Metric = task.Metric, ""
		if task.Goal == "" {
			metricCell, _ := in.cell(r, in.col[fMetric])
			bad(in.col[fMetric], metricCell, "empty goal (量化指标, read as the goal)")
		}
	}

	for _, c := range in.depts {
		_, text := in.cell(r, c)
		for _, name := range splitDepartments(text) {
			if !slices.Contains(task.Departments, name) {
				task.Departments = append(task.Departments, name)
			}
		}
	}
	if len(task.Departments) == 0 {
		deptCell, _ := in.cell(r, in.depts[0])
		bad(in.depts[0], deptCell, "empty department (责任部门)")
	}

	dlCell, dlText := in.cell(r, in.col[fDeadline])
	switch d, err := in.deadline(dlText); {
	case strings.TrimSpace(dlText) == "":
		bad(in.col[fDeadline], dlCell, "empty deadline (完成时限)")
	case err != nil:
		bad(in.col[fDeadline], dlCell, "%v", err)
	case d.Standing && in.opt.StandingReview <= 0:
		bad(in.col[fDeadline], dlCell, "no fixed date %q: pass -standing-review 90d to review it every 90 days, or write a deadline", normText(dlText))
	case d.Standing:
		task.Deadline = reviewDeadline(in.opt.Today, in.opt.StandingReview)
		task.Recurrence = reviewText(in.opt)
	default:
		task.Deadline, task.Recurrence = d.Text, d.Recurrence
	}

	_, note := in.cell(r, in.col[fNote])
	task.Note = normText(note)
	in.problems = append(in.problems, ps...)
	in.tasks = append(in.tasks, task)
}

// noteRow attaches a row without a number to the task above.
func (in *interp) noteRow(i int, r Row, first int) {
	var texts []string
	for _, cell := range r.Cells {
		if !cell.Merged && !cell.Spanned {
			if t := normText(cell.Text); t != "" {
				texts = append(texts, t)
			}
		}
	}
	if len(in.tasks) == 0 {
		in.problem(i, first, r.Cells[first], "a row without a 序号 before the first task: number it, or move it above the header")
		return
	}
	t := &in.tasks[len(in.tasks)-1]
	t.Note = strings.TrimPrefix(t.Note+"\n"+strings.Join(texts, " "), "\n")
	in.noteRows++
}

func (in *interp) summary() Summary {
	s := Summary{
		Source:   in.h.table.File,
		Columns:  in.columns,
		Ignored:  in.ignored,
		NoteRows: in.noteRows,
		Skipped:  in.skipped,
	}
	if in.h.table.Sheet != "" {
		s.Source += " " + in.h.table.Sheet
	}
	var first, last time.Time
	seen := map[string]bool{}
	for _, t := range in.tasks {
		if i := slices.IndexFunc(s.Areas, func(a AreaCount) bool { return a.Area == t.Area }); i >= 0 {
			s.Areas[i].Tasks++
		} else {
			s.Areas = append(s.Areas, AreaCount{t.Area, 1})
		}
		for _, d := range t.Departments {
			if seen[d] {
				continue
			}
			seen[d] = true
			if in.opt.Known != nil && in.opt.Known(d) {
				s.Known = append(s.Known, d)
			} else {
				s.New = append(s.New, d)
			}
		}
		switch t.Recurrence {
		case "":
		case "yearly":
			s.Yearly++
		default:
			s.Standing++
		}
		// Every deadline here was written by parseDeadline, which config.ParseTime reads.
		end, err := config.ParseTime(t.Deadline, time.UTC, true)
		if err != nil {
			continue
		}
		if first.IsZero() || end.Before(first) {
			first, s.First = end, t.Deadline
		}
		if last.IsZero() || end.After(last) {
			last, s.Last = end, t.Deadline
		}
	}
	return s
}
