package plantable

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Outcome is an import worked out and not yet written: what `duban import` writes, and what
// the bot sends back to an admin who sends it the plan's file.
type Outcome struct {
	Summary  Summary
	Tasks    []PlanTask // the plan to write, ids kept from the existing tasks.yaml
	Diff     Diff       // against the existing tasks.yaml; empty when there was none
	Revising bool       // an existing tasks.yaml was given
	Plan     []byte     // tasks.yaml as WritePlan writes it
}

// Import reads tables into a plan: Interpret, then, over existing (nil: a new tasks.yaml with
// NewHead's comment), Revise, then WritePlan. The error is Problems when the table has any.
func Import(tables []*Table, opt Options, existing *Existing) (*Outcome, error) {
	res, err := Interpret(tables, opt)
	if err != nil {
		return nil, err
	}
	o := &Outcome{Summary: res.Summary, Revising: existing != nil}
	head, start := NewHead(res.Summary.Source, opt.Today), ""
	var old []PlanTask
	if existing != nil {
		old, start = existing.Tasks, existing.Start
		if existing.Head != "" {
			head = existing.Head
		}
	}
	o.Tasks, o.Diff = Revise(old, res.Tasks)
	var b bytes.Buffer
	if err := WritePlan(&b, head, start, o.Tasks); err != nil {
		return nil, err
	}
	o.Plan = b.Bytes()
	return o, nil
}

// WriteSummary prints what the import found: tasks per area, the columns used and ignored,
// the deadlines' range, departments known and new (against names the config the names were
// checked against, "" for none), note rows and skipped lines.
func (o *Outcome) WriteSummary(w io.Writer, against string) {
	s := o.Summary
	fmt.Fprintf(w, "%s: %d tasks in %d areas\n", s.Source, len(o.Tasks), len(s.Areas))
	for _, a := range s.Areas {
		fmt.Fprintf(w, "  %5d  %s\n", a.Tasks, a.Area)
	}
	if len(s.Columns) > 0 {
		var cols []string
		for _, f := range []string{"序号", "重点工作", "任务目标", "量化指标", "责任部门", "完成时限", "备注"} {
			if v, ok := s.Columns[f]; ok {
				cols = append(cols, f+" ← "+v)
			}
		}
		fmt.Fprintf(w, "columns: %s\n", strings.Join(cols, ", "))
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "other columns: %s\n", strings.Join(s.Ignored, ", "))
	}
	fmt.Fprintf(w, "deadlines: %s to %s", s.First, s.Last)
	if s.Yearly > 0 || s.Standing > 0 {
		fmt.Fprintf(w, " (%d yearly, %d standing)", s.Yearly, s.Standing)
	}
	fmt.Fprintln(w)
	if against == "" {
		against = "no config.yaml: every name is new"
	} else {
		against = "against " + against
	}
	fmt.Fprintf(w, "departments: %d known, %d new (%s)\n", len(s.Known), len(s.New), against)
	if len(s.New) > 0 {
		var lines []string
		for chunk := range slices.Chunk(s.New, 8) {
			lines = append(lines, strings.Join(chunk, "、"))
		}
		fmt.Fprintf(w, "  new: %s\n", strings.Join(lines, "\n       "))
	}
	if s.NoteRows > 0 {
		fmt.Fprintf(w, "note rows: %d, kept as the note (备注) of the task above\n", s.NoteRows)
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, "skipped lines: %s\n", strings.Join(s.Skipped, "; "))
	}
}
