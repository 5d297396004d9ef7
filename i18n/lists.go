package i18n

import (
	"fmt"
	"strings"
)

// listWords are the words of the bot's multi-line answers — /departments, /tasks, /status
// and the nudges — in one language; the layouts are here, once.
type listWords struct {
	DeptLine, DeptUnbound, DeptBroken, DeptBound, DeptNever, DeptLast, DeptTitle string

	TasksDone, TasksTitle, TaskItem, TasksFooter string

	StatusTitle, StatusMetric, StatusLine, StatusLead, StatusSnoozed, StatusAt, StatusText string

	NudgeStages                                  map[string]string
	NudgeOne, NudgeTitle, NudgeItem, NudgeFooter string
}

func (t *Texts) departments(lines []DepartmentLine) string {
	w := &t.lists
	bound := 0
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, w.DeptLine, e(l.Name), l.Tasks)
		switch {
		case !l.Bound:
			b.WriteString(w.DeptUnbound)
		case l.Broken != "":
			fmt.Fprintf(&b, w.DeptBroken, e(l.Broken))
		default:
			bound++
			fmt.Fprintf(&b, w.DeptBound, e(l.Title), l.Chat)
		}
		if l.LastReport.IsZero() {
			b.WriteString(w.DeptNever)
		} else {
			fmt.Fprintf(&b, w.DeptLast, l.LastReport.Format("2006-01-02"))
		}
	}
	return fmt.Sprintf(w.DeptTitle, len(lines), bound) + b.String()
}

func (t *Texts) tasks(dept string, open []TaskLine) string {
	w := &t.lists
	if len(open) == 0 {
		return fmt.Sprintf(w.TasksDone, e(dept))
	}
	var b strings.Builder
	fmt.Fprintf(&b, w.TasksTitle, e(dept), len(open))
	for _, l := range open {
		fmt.Fprintf(&b, w.TaskItem, colorMark(l.Color), l.ID, goalShort(l.Goal, 40), l.Deadline.Format("2006-01-02"), t.days(l.DaysLeft), t.progress(l.Status, l.Percent))
	}
	b.WriteString(w.TasksFooter)
	return b.String()
}

func (t *Texts) taskStatus(task TaskLine, metric string, lines []StatusLine) string {
	w := &t.lists
	var b strings.Builder
	fmt.Fprintf(&b, w.StatusTitle, task.ID, e(task.Goal), task.Deadline.Format("2006-01-02"), t.days(task.DaysLeft))
	if metric != "" {
		fmt.Fprintf(&b, w.StatusMetric, goalShort(metric, 120))
	}
	for _, l := range lines {
		role := ""
		if l.Lead {
			role = w.StatusLead
		}
		fmt.Fprintf(&b, w.StatusLine, colorMark(l.Color), e(l.Department), role, t.progress(l.Status, l.Percent))
		if !l.SnoozedUntil.IsZero() {
			fmt.Fprintf(&b, w.StatusSnoozed, l.SnoozedUntil.Format("2006-01-02"))
		}
		if !l.At.IsZero() {
			fmt.Fprintf(&b, w.StatusAt, l.At.Format("01-02 15:04"))
		}
		if l.Text != "" {
			fmt.Fprintf(&b, w.StatusText, e(l.By), goalShort(l.Text, 200))
		}
	}
	return b.String()
}

func (t *Texts) nudge(dept string, items []NudgeItem) string {
	w := &t.lists
	if len(items) == 1 {
		it := items[0]
		return fmt.Sprintf(w.NudgeOne, w.NudgeStages[it.Stage], colorMark(it.Color), it.Task, e(it.Goal),
			it.Deadline.Format("2006-01-02"), t.days(it.DaysLeft), t.progress(it.Status, it.Percent))
	}
	var b strings.Builder
	fmt.Fprintf(&b, w.NudgeTitle, e(dept), len(items))
	for _, it := range items {
		fmt.Fprintf(&b, w.NudgeItem, colorMark(it.Color), it.Task, goalShort(it.Goal, 40), w.NudgeStages[it.Stage],
			it.Deadline.Format("2006-01-02"), t.days(it.DaysLeft), t.progress(it.Status, it.Percent))
	}
	fmt.Fprintf(&b, w.NudgeFooter, items[0].Task)
	return b.String()
}

// useLists wires a language's words into the shared layouts.
func (t *Texts) useLists(w listWords) {
	t.lists = w
	t.Departments, t.Tasks, t.TaskStatus, t.Nudge = t.departments, t.tasks, t.taskStatus, t.nudge
}
