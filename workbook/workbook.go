// Package workbook builds the 台账 workbook (xlsx) supervisors open in Excel or WPS: sheet
// 台账, one row per task and department with the CSV export's columns, each row filled in its
// 三色 colour; sheet 进展记录, every update of the record; sheet 单位汇总, each department's
// tasks, done, overdue, last report and reminders unanswered.
//
// It writes with github.com/xuri/excelize/v2, a maintained library that writes files Excel,
// WPS and LibreOffice open without a repair prompt, rather than hand-written SpreadsheetML.
// The sheets go through excelize's stream writer, so a plan of 10,000 tasks with 100,000
// updates is built without holding every cell as an object.
//
// Its input (Task, Department) is the record's rows as package record collects them from the
// store and scheduler.Assess (record.Workbook), so that the export, the web view and the
// digest show the same figures. It imports neither config nor scheduler (nor record, which
// imports scheduler): the scheduler can attach a workbook to the digest without an import
// cycle. ReportText is here, not in record, because record imports workbook: the CSV's
// 最近报送内容 calls it from there.
package workbook

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

// Task is one task of the plan with every department on it, lead first.
type Task struct {
	ID          int
	Area        string
	Goal        string
	Deadline    time.Time // of the current period, for a yearly task
	DaysLeft    int       // calendar days; negative: overdue
	Departments []Department
}

// Department is one department on one task.
type Department struct {
	Name string
	// Responsible is false for a department that reported on a task the plan no longer gives
	// it: its row and updates are kept, the summary leaves it out.
	Responsible bool
	Status      store.Status
	Percent     *int
	Color       string // "red", "yellow", "blue" or "" (三色督办)
	// Last is the latest update, nil when the department never reported.
	Last *store.Update
	// Updates is every update of the department on the task (for 进展记录), in any order.
	Updates []store.Update

	// From scheduler.Assess, for 单位汇总: done in the current period, open past the deadline
	// (red), reminders sent since the last report, and when that was (zero: never).
	Done       bool
	Overdue    bool
	Unanswered int
	LastReport time.Time
}

// Options say how the workbook reads: its language ("zh", the default, or "en") and the time
// zone its dates and times are shown in (nil: UTC).
type Options struct {
	Language string
	Location *time.Location
}

// The three colours as light tints (Excel's own "bad", "neutral" and a pale blue), so that
// black text stays legible on them and on a black-and-white printout.
var fills = map[string]string{"red": "FFC7CE", "yellow": "FFEB9C", "blue": "DDEBF7"}

// Column widths, in characters: the long texts wide and wrapped, the numbers narrow.
var (
	ledgerWidths      = []float64{7, 20, 44, 18, 11, 9, 17, 44, 12, 12, 18}
	updatesWidths     = []float64{10, 7, 18, 19, 12, 11, 9, 44, 24, 12, 20}
	departmentsWidths = []float64{22, 9, 9, 9, 19, 14}
)

// Write builds the workbook of tasks at now and writes it to w.
func Write(w io.Writer, tasks []Task, o Options, now time.Time) error {
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	texts := i18n.For(o.Language)
	words := texts.Workbook
	f := excelize.NewFile()
	defer f.Close() // removes the stream writer's temporary files, if it made any
	b := &builder{f: f, texts: texts, loc: loc}
	if err := b.styles(); err != nil {
		return fmt.Errorf("workbook: styles: %w", err)
	}
	// A new file has one sheet, Sheet1: it becomes 台账, so no empty sheet is left over.
	if err := f.SetSheetName("Sheet1", words.LedgerSheet); err != nil {
		return fmt.Errorf("workbook: %w", err)
	}
	for _, name := range []string{words.UpdatesSheet, words.DepartmentsSheet} {
		if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("workbook: sheet %s: %w", name, err)
		}
	}
	if err := b.ledger(words.LedgerSheet, tasks); err != nil {
		return fmt.Errorf("workbook: sheet %s: %w", words.LedgerSheet, err)
	}
	if err := b.updates(words.UpdatesSheet, tasks); err != nil {
		return fmt.Errorf("workbook: sheet %s: %w", words.UpdatesSheet, err)
	}
	if err := b.departments(words.DepartmentsSheet, tasks); err != nil {
		return fmt.Errorf("workbook: sheet %s: %w", words.DepartmentsSheet, err)
	}
	f.SetActiveSheet(0)
	lang := "zh-CN"
	if o.Language == "en" {
		lang = "en-US"
	}
	stamp := now.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Title: words.LedgerSheet, Creator: "duban", Created: stamp, Modified: stamp, Language: lang}); err != nil {
		return fmt.Errorf("workbook: properties: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("workbook: write: %w", err)
	}
	return nil
}

type builder struct {
	f     *excelize.File
	texts *i18n.Texts
	loc   *time.Location
	// header is the header row's style; body the rows' by colour ("" for none); warn marks a
	// figure that needs attention in 单位汇总.
	header int
	body   map[string]int
	warn   int
	cells  []excelize.Cell
	refs   []any // &cells[i], as SetRow takes them
}

func (b *builder) styles() error {
	border := []excelize.Border{
		{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1},
	}
	wrap := &excelize.Alignment{WrapText: true, Vertical: "top"}
	var err error
	b.header, err = b.f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9D9D9"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "center"},
		Border:    border,
	})
	if err != nil {
		return err
	}
	b.body = map[string]int{}
	if b.body[""], err = b.f.NewStyle(&excelize.Style{Alignment: wrap, Border: border}); err != nil {
		return err
	}
	for _, color := range []string{"red", "yellow", "blue"} { // in order: the same file every time
		fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fills[color]}}
		if b.body[color], err = b.f.NewStyle(&excelize.Style{Fill: fill, Alignment: wrap, Border: border}); err != nil {
			return err
		}
	}
	b.warn = b.body["red"]
	return nil
}

// sheet starts a sheet: column widths, the header row frozen, a filter on the header over
// rows data rows (set before streaming, which takes the sheet's settings as they are then).
func (b *builder) sheet(name string, header []string, widths []float64, rows int) (*excelize.StreamWriter, error) {
	last, err := excelize.CoordinatesToCellName(len(header), rows+1)
	if err != nil {
		return nil, err
	}
	if err := b.f.AutoFilter(name, "A1:"+last, nil); err != nil {
		return nil, err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: b.header, Value: h}
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: 30}); err != nil {
		return nil, err
	}
	return sw, nil
}

// row writes values at row n (1-based) in one style; nil leaves a cell empty but styled.
// The cells are reused from row to row (SetRow keeps none), which spares an allocation per
// cell of a large record.
func (b *builder) row(sw *excelize.StreamWriter, n, style int, values ...any) error {
	if len(b.cells) < len(values) {
		b.cells = make([]excelize.Cell, len(values))
		b.refs = make([]any, len(values))
		for i := range b.cells {
			b.refs[i] = &b.cells[i]
		}
	}
	for i, v := range values {
		b.cells[i] = excelize.Cell{StyleID: style, Value: v}
	}
	return sw.SetRow("A"+strconv.Itoa(n), b.refs[:len(values)])
}

// ledger is 台账: the CSV export's rows and columns, each row in its colour. Text cells are
// kept as written: the workbook stores them as strings, which a spreadsheet never runs as a
// formula, so they need no leading ' as the CSV's do.
func (b *builder) ledger(name string, tasks []Task) error {
	n := 0
	for _, t := range tasks {
		n += len(t.Departments)
	}
	sw, err := b.sheet(name, b.texts.CSVHeader, ledgerWidths, n)
	if err != nil {
		return err
	}
	r := 1
	for _, t := range tasks {
		var deadline, left any = t.Deadline.In(b.loc).Format(time.DateOnly), t.DaysLeft
		if t.Deadline.IsZero() { // a task no longer in the plan: nothing to count down to
			deadline, left = nil, nil
		}
		for _, d := range t.Departments {
			var at, text any
			if d.Last != nil {
				at, text = d.Last.At.In(b.loc).Format("2006-01-02 15:04"), ReportText(b.texts, *d.Last)
			}
			r++
			if err := b.row(sw, r, b.body[d.Color],
				t.ID, t.Area, t.Goal, d.Name, b.texts.StatusName(d.Status), percent(d.Percent), at, text,
				deadline, left, b.texts.ColorNames[d.Color]); err != nil {
				return err
			}
		}
	}
	return sw.Flush()
}

// updates is 进展记录: every update, task by task in the order of its chain.
func (b *builder) updates(name string, tasks []Task) error {
	n := 0
	for _, t := range tasks {
		for _, d := range t.Departments {
			n += len(d.Updates)
		}
	}
	sw, err := b.sheet(name, b.texts.Workbook.UpdatesHeader, updatesWidths, n)
	if err != nil {
		return err
	}
	r := 1
	var chain []store.Update
	for _, t := range tasks {
		chain = chain[:0]
		for _, d := range t.Departments {
			chain = append(chain, d.Updates...)
		}
		slices.SortFunc(chain, func(x, y store.Update) int { return cmp.Compare(x.Seq, y.Seq) })
		for _, u := range chain {
			var status, file, corrects any
			if u.Status != "" { // "" is a note, which leaves the status as it was
				status = b.texts.StatusName(u.Status)
			}
			if u.Attachment != nil {
				file = b.texts.AttachmentName(u.Attachment)
			}
			if u.Corrects != "" {
				corrects = u.Corrects
			}
			r++
			if err := b.row(sw, r, b.body[""],
				u.ID, u.Task, u.Department, u.At.In(b.loc).Format(time.DateTime), u.UserName, status, percent(u.Percent),
				u.Text, file, corrects, u.Hash); err != nil {
				return err
			}
		}
	}
	return sw.Flush()
}

// summary is one department's line in 单位汇总.
type summary struct {
	name                        string
	tasks, done, overdue, unans int
	last                        time.Time
}

// departments is 单位汇总: per department, in the order the plan first names them, what it is
// responsible for. The figures are the scheduler's (Done, Overdue, Unanswered), summed.
func (b *builder) departments(name string, tasks []Task) error {
	index := map[string]int{}
	var sums []summary
	for _, t := range tasks {
		for _, d := range t.Departments {
			if !d.Responsible {
				continue
			}
			i, ok := index[d.Name]
			if !ok {
				i = len(sums)
				index[d.Name] = i
				sums = append(sums, summary{name: d.Name})
			}
			s := &sums[i]
			s.tasks++
			if d.Done {
				s.done++
			}
			if d.Overdue {
				s.overdue++
			}
			s.unans += d.Unanswered
			if d.LastReport.After(s.last) {
				s.last = d.LastReport
			}
		}
	}
	sw, err := b.sheet(name, b.texts.Workbook.DepartmentsHeader, departmentsWidths, len(sums))
	if err != nil {
		return err
	}
	for i, s := range sums {
		var last any
		if !s.last.IsZero() {
			last = s.last.In(b.loc).Format("2006-01-02 15:04")
		}
		plain := excelize.Cell{StyleID: b.body[""]}
		cells := []any{cell(plain, s.name), cell(plain, s.tasks), cell(plain, s.done), cell(plain, s.overdue), cell(plain, last), cell(plain, s.unans)}
		// The figures a supervisor acts on stand out in red.
		if s.overdue > 0 {
			cells[3] = excelize.Cell{StyleID: b.warn, Value: s.overdue}
		}
		if s.unans > 0 {
			cells[5] = excelize.Cell{StyleID: b.warn, Value: s.unans}
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func cell(c excelize.Cell, v any) excelize.Cell {
	c.Value = v
	return c
}

// percent is a number cell, or an empty one when none was given.
func percent(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// ReportText is what an update said with the file sent with it named after the words, as
// 台账 and the CSV's 最近报送内容 show it: "批复已下达 📎 用地指标批复.pdf", "📎 图片" for a
// photo without a caption.
func ReportText(texts *i18n.Texts, u store.Update) string {
	if u.Attachment == nil {
		return u.Text
	}
	file := "📎 " + texts.AttachmentName(u.Attachment)
	if u.Text == "" {
		return file
	}
	return u.Text + " " + file
}
