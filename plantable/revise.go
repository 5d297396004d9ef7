package plantable

// Revising: the next version of a plan's table over the tasks.yaml made from the last one.
//
// Departments report on a task by its id, and the store keeps every update under that id, so
// an import must never move an id to another task. The imported rows are matched against the
// existing tasks in three steps:
//
//  1. the same goal and metric (compared after collapsing whitespace) is the same task,
//     whatever its number in the new table: a row inserted above it does not move it;
//  2. among the tasks left, the same 序号 is the same task whose text was edited;
//  3. what is left of the table is added, and what is left of tasks.yaml is removed.
//
// A matched task keeps its existing id. An added task takes its number in the table unless
// some existing task (kept or removed) or an earlier added task has it; then it takes one
// more than the highest id seen, so a removed task's record is never inherited. Fields the
// table does not carry (start, until, target) are kept from tasks.yaml; recurrence is the
// table's when the table says yearly or standing, else the one tasks.yaml has (a plan may be
// made yearly by hand, as the shipped plan's tasks 44 and 50 are). A standing task (长期坚持,
// imported with -standing-review) keeps its deadline, the next review, while its cadence stays
// the same: importing again on a later day does not move it.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/duban/duban/config"
)

// PlanTask is one entry of tasks.yaml: a Task and the fields only tasks.yaml has.
type PlanTask struct {
	Task
	Start  string          // the task's own start, as written; "" for the plan's
	Until  string          // the last deadline of a recurring task, as written
	Target []config.Target // the metric's numbers, written by hand
}

// Existing is a tasks.yaml as written, read without checking it against config.yaml.
type Existing struct {
	Head  string // the comment above the first key, "#" marks and all; "" if none
	Start string // the plan's start, as written
	Tasks []PlanTask
}

// ReadExisting reads the tasks.yaml an import revises. A missing file is reported as such
// (errors.Is(err, fs.ErrNotExist)): the import then writes a new one.
func ReadExisting(path string) (*Existing, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseExisting(path, data)
}

// ParseExisting is ReadExisting on bytes already read.
func ParseExisting(file string, data []byte) (*Existing, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(root.Content) == 0 {
		return &Existing{}, nil
	}
	var f config.PlanFile
	if err := root.Content[0].Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	ex := &Existing{Head: headComment(data), Start: f.Start}
	notes := entryNotes(root.Content[0])
	for i, t := range f.Tasks {
		ex.Tasks = append(ex.Tasks, PlanTask{
			Task: Task{ID: t.ID, Area: t.Area, Goal: t.Goal, Metric: t.Metric, Departments: t.Departments,
				Deadline: t.Deadline, Recurrence: t.Recurrence, Note: notes[i]},
			Start: t.Start, Until: t.Until, Target: t.Target,
		})
	}
	return ex, nil
}

// headComment is the file's leading comment lines, up to the first blank line after them or
// the first key, as written: yaml.v3 splits a head comment between the document and its first
// key in ways that do not round-trip, so the text is taken as is.
func headComment(data []byte) string {
	var b strings.Builder
	for line := range strings.Lines(string(data)) {
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			break
		}
		b.WriteString(line)
	}
	if strings.TrimSpace(b.String()) == "" {
		return ""
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// entryNotes reads back, by entry index, the 备注 WritePlan writes as a comment above a task.
func entryNotes(root *yaml.Node) map[int]string {
	notes := map[int]string{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "tasks" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for j, item := range root.Content[i+1].Content {
			head := item.HeadComment
			if len(item.Content) > 0 {
				head += "\n" + item.Content[0].HeadComment
			}
			if j == 0 { // yaml.v3 gives the first entry's comment to the sequence
				head = root.Content[i+1].HeadComment + "\n" + root.Content[i].FootComment + "\n" + head
			}
			if note, ok := noteFromComment(head); ok {
				notes[j] = note
			}
		}
	}
	return notes
}

// Diff is what an import changes in tasks.yaml.
type Diff struct {
	Added      []Added
	Removed    []PlanTask
	Changed    []Change
	Renumbered []Renumber
}

// Added is a task the table has and tasks.yaml did not.
type Added struct {
	ID    int // the id it is given
	Table int // its 序号 in the table: different from ID when that number was taken
	Goal  string
}

// Change is one field of a kept task that the table changes.
type Change struct {
	ID       int
	Field    string // the tasks.yaml key: deadline
	Old, New string
}

// Renumber is a task found under another 序号 in the table; it keeps its id.
type Renumber struct {
	Table, ID int
}

// Empty reports an import that changes nothing.
func (d Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && len(d.Renumbered) == 0
}

// fieldNames are the table's words for the fields, so that a clerk recognises the column.
var fieldNames = map[string]string{
	"area": "重点工作", "goal": "任务目标", "metric": "量化指标", "departments": "责任部门",
	"deadline": "完成时限", "recurrence": "每年", "note": "备注",
}

// Write prints the diff, one line per change, in the order: changed, renumbered, added,
// removed.
func (d Diff) Write(w io.Writer) error {
	var b bytes.Buffer
	if d.Empty() {
		b.WriteString("no change to the tasks\n")
	}
	for _, c := range d.Changed {
		fmt.Fprintf(&b, "task %d: %s (%s) %s → %s\n", c.ID, c.Field, fieldNames[c.Field], orNone(c.Old), orNone(c.New))
	}
	for _, r := range d.Renumbered {
		fmt.Fprintf(&b, "task %d: now 序号 %d in the table, keeps id %d (its updates stay on it)\n", r.ID, r.Table, r.ID)
	}
	for _, a := range d.Added {
		if a.ID != a.Table {
			fmt.Fprintf(&b, "task %d: added: %s (序号 %d in the table, which an existing task has: given id %d)\n", a.ID, a.Goal, a.Table, a.ID)
		} else {
			fmt.Fprintf(&b, "task %d: added: %s\n", a.ID, a.Goal)
		}
	}
	for _, r := range d.Removed {
		fmt.Fprintf(&b, "task %d: removed: %s (no longer in the table; its record stays in the store)\n", r.ID, r.Goal)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Revise matches the imported tasks against the existing ones (see the rule at the top of
// this file) and returns the tasks to write, in the table's order, and what changed.
func Revise(existing []PlanTask, imported []Task) ([]PlanTask, Diff) {
	var d Diff
	match := make([]int, len(imported)) // imported index → existing index, -1 for none
	used := make([]bool, len(existing))
	for i := range match {
		match[i] = -1
	}
	for i, t := range imported {
		k := textKey(t)
		for j, e := range existing {
			if !used[j] && textKey(e.Task) == k {
				match[i], used[j] = j, true
				break
			}
		}
	}
	for i, t := range imported {
		if match[i] >= 0 {
			continue
		}
		for j, e := range existing {
			if !used[j] && e.ID == t.ID {
				match[i], used[j] = j, true
				break
			}
		}
	}

	taken := map[int]bool{}
	highest := 0
	for _, e := range existing {
		taken[e.ID] = true
		highest = max(highest, e.ID)
	}
	for _, t := range imported {
		highest = max(highest, t.ID)
	}
	merged := make([]PlanTask, 0, len(imported))
	for i, t := range imported {
		j := match[i]
		if j < 0 {
			id := t.ID
			if taken[id] || id <= 0 {
				highest++
				id = highest
			}
			taken[id] = true
			nt := t
			nt.ID = id
			merged = append(merged, PlanTask{Task: nt})
			d.Added = append(d.Added, Added{ID: id, Table: t.ID, Goal: t.Goal})
			continue
		}
		e := existing[j]
		m := e // start, until and target stay
		m.Area, m.Goal, m.Metric, m.Departments, m.Deadline, m.Note, m.Place =
			t.Area, t.Goal, t.Metric, t.Departments, t.Deadline, t.Note, t.Place
		if t.Recurrence != "" {
			m.Recurrence = t.Recurrence
		}
		if standing(t.Recurrence) && t.Recurrence == e.Recurrence {
			m.Deadline = e.Deadline // the next review was set by the import that made it standing
		}
		for _, f := range []struct{ name, old, new string }{
			{"area", e.Area, m.Area},
			{"goal", e.Goal, m.Goal},
			{"metric", e.Metric, m.Metric},
			{"departments", strings.Join(e.Departments, "、"), strings.Join(m.Departments, "、")},
			{"deadline", e.Deadline, m.Deadline},
			{"recurrence", e.Recurrence, m.Recurrence},
			{"note", e.Note, m.Note},
		} {
			if f.old != f.new {
				d.Changed = append(d.Changed, Change{ID: e.ID, Field: f.name, Old: f.old, New: f.new})
			}
		}
		if t.ID != e.ID {
			d.Renumbered = append(d.Renumbered, Renumber{Table: t.ID, ID: e.ID})
		}
		merged = append(merged, m)
	}
	for j, e := range existing {
		if !used[j] {
			d.Removed = append(d.Removed, e)
		}
	}
	slices.SortStableFunc(d.Changed, func(a, b Change) int { return a.ID - b.ID })
	return merged, d
}

// standing reports a review cadence (Options.StandingReview) in Recurrence.
func standing(recurrence string) bool { return recurrence != "" && recurrence != "yearly" }

// textKey is what step 1 compares: goal and metric with every run of whitespace made one
// space, so a cell re-wrapped in the new document still matches.
func textKey(t Task) string {
	return strings.Join(strings.Fields(t.Goal), " ") + "\x00" + strings.Join(strings.Fields(t.Metric), " ")
}
