package record

import "github.com/duban/duban/workbook"

// Workbook turns rows into the workbook's input. Rows of one task that follow each other
// become one workbook.Task, so the sheet keeps the rows' order whatever they are sorted by.
// 进展记录 holds the rows' Updates: collect with all, or call FillUpdates, for every update.
// The standing in 单位汇总 (done, overdue, unanswered) is the rows' own assessment, the one
// their colours come from, and only a responsible department's counts.
func Workbook(rows []Row) []workbook.Task {
	var out []workbook.Task
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].ID != r.Task.ID {
			out = append(out, workbook.Task{ID: r.Task.ID, Area: r.Task.Area, Goal: r.Task.Goal, Deadline: r.Deadline, DaysLeft: r.DaysLeft})
		}
		d := workbook.Department{Name: r.Department, Responsible: r.Responsible, Status: r.State.Status, Percent: r.State.Percent,
			Color: string(r.Color), Updates: r.Updates}
		if r.State.Last.ID != "" { // a department that never reported has none
			last := r.State.Last
			d.Last = &last
		}
		if r.Responsible {
			a := r.Assessment
			d.Done, d.Overdue, d.Unanswered, d.LastReport = a.Done, a.Overdue && !a.Done, a.Unanswered, a.LastReport
		}
		t := &out[len(out)-1]
		t.Departments = append(t.Departments, d)
	}
	return out
}
