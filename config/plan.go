package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Plan is the work plan from tasks.yaml, checked against config.yaml: every department name
// resolved, every deadline an instant in the configured zone.
type Plan struct {
	Start time.Time // zero when the file gives none
	Tasks []*Task   // in file order
	// Warnings are things that will not stop the daemon but that a person should see, such as a
	// group with no members: its tasks reach nobody through it.
	Warnings []string

	byID map[int]*Task
}

// Task is one row of the plan.
type Task struct {
	ID     int
	Area   string // 重点工作
	Goal   string // 任务目标
	Metric string // 量化指标, as written
	// Departments are the names as the plan writes them (departments, groups or aliases); the
	// first leads (牵头单位).
	Departments []string
	// Responsible are the departments that are followed up, each on its own: Departments with
	// groups expanded and aliases resolved, the lead's first, each once.
	Responsible []string
	// Leads are the departments the first listed name stands for.
	Leads []string

	Deadline     time.Time // the last instant of the deadline's day, month or year
	DeadlineText string    // as written, e.g. "2022年"
	Start        time.Time // the task's start, or the plan's; zero if neither is given
	Recurrence   string    // "" or "yearly", or a review cadence such as "90d"
	// Every is the review cadence of a standing task (recurrence: 90d): after each deadline
	// the task opens again with its deadline that much later. Zero otherwise.
	Every  time.Duration
	Until  time.Time // the last deadline of a recurring task; zero: no end
	Target []Target
	Line   int // where the task starts in tasks.yaml
}

// Target is one number the metric asks for.
type Target struct {
	Name string   `yaml:"name"`
	Min  *float64 `yaml:"min"`
	Max  *float64 `yaml:"max"`
	Unit string   `yaml:"unit"`
}

// Task returns the task with that id.
func (p *Plan) Task(id int) (*Task, bool) {
	t, ok := p.byID[id]
	return t, ok
}

// TasksFor returns the tasks a department is responsible for, in plan order.
func (p *Plan) TasksFor(department string) []*Task {
	var out []*Task
	for _, t := range p.Tasks {
		if slices.Contains(t.Responsible, department) {
			out = append(out, t)
		}
	}
	return out
}

// IsLead reports whether the department leads the task.
func (t *Task) IsLead(department string) bool { return slices.Contains(t.Leads, department) }

// PlanFile and TaskFile are tasks.yaml as written (what duban import reads back of an
// existing file, too); Plan and Task are what it means.
type PlanFile struct {
	Start string     `yaml:"start"`
	Tasks []TaskFile `yaml:"tasks"`
}

type TaskFile struct {
	ID          int      `yaml:"id"`
	Area        string   `yaml:"area"`
	Goal        string   `yaml:"goal"`
	Metric      string   `yaml:"metric"`
	Departments []string `yaml:"departments"`
	Deadline    string   `yaml:"deadline"`
	Start       string   `yaml:"start"`
	Recurrence  string   `yaml:"recurrence"`
	Until       string   `yaml:"until"`
	Target      []Target `yaml:"target"`
}

// LoadPlan reads and validates the tasks file against a validated Config.
func LoadPlan(path string, c *Config) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	return ParsePlan(path, data, c)
}

// Load reads config.yaml and the tasks file it names. A bad file yields Errors naming every
// problem with its file and line.
func Load(path string) (*Config, *Plan, error) {
	c, err := LoadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	p, err := LoadPlan(c.TasksPath(), c)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// taskName names a task's entry by its id in error messages: people know tasks by 序号, not by
// their position in the file.
func taskName(parent string, i int, n *yaml.Node) string {
	if parent != "tasks" || n.Kind != yaml.MappingNode {
		return ""
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == "id" {
			if _, err := strconv.Atoi(n.Content[j+1].Value); err == nil {
				return "task " + n.Content[j+1].Value
			}
		}
	}
	return fmt.Sprintf("tasks[%d]", i)
}

// ParsePlan is LoadPlan on bytes already read.
func ParsePlan(file string, data []byte, c *Config) (*Plan, error) {
	errs := &errorList{file: file}
	var pf PlanFile
	d := decodeStrict(data, &pf, errs, taskName)
	if d == nil {
		return nil, errs.err()
	}
	p := &Plan{byID: map[int]*Task{}}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	if pf.Start != "" {
		start, err := ParseTime(pf.Start, loc, false)
		if err != nil {
			errs.add(d.line("start"), "start", "%v", err)
		}
		p.Start = start
	}
	if len(pf.Tasks) == 0 && d.at("tasks") == nil {
		errs.add(0, "tasks", "missing: the file must list the plan's tasks under tasks:")
	}
	emptyGroups := map[string][]int{}
	for i, tf := range pf.Tasks {
		t := p.task(i, tf, d, c, loc, errs)
		if t == nil {
			continue
		}
		for _, name := range tf.Departments {
			if c.IsGroup(name) && len(c.Members(name)) == 0 {
				emptyGroups[name] = append(emptyGroups[name], t.ID)
			}
		}
		p.Tasks = append(p.Tasks, t)
	}
	for _, g := range orderedKeys(c.doc, "groups", emptyGroups) {
		p.Warnings = append(p.Warnings, fmt.Sprintf("group %s has no members in %s, so task %s reaches nobody through it", g, c.File, joinInts(emptyGroups[g])))
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// task validates and resolves one entry; it returns nil when the entry cannot stand as a task
// (no usable id), having recorded why.
func (p *Plan) task(i int, tf TaskFile, d *document, c *Config, loc *time.Location, errs *errorList) *Task {
	at := func(keys ...any) int { return d.line(append([]any{"tasks", i}, keys...)...) }
	name := taskName("tasks", i, d.at("tasks", i))
	field := func(f string) string { return joinPath(name, f) }

	if tf.ID <= 0 {
		errs.add(at("id"), field("id"), "want a positive task number (序号), got %d", tf.ID)
		return nil
	}
	if first, dup := p.byID[tf.ID]; dup {
		errs.add(at("id"), field("id"), "duplicate task id %d (first at line %d)", tf.ID, first.Line)
		return nil
	}
	t := &Task{
		ID: tf.ID, Area: tf.Area, Goal: strings.TrimSpace(tf.Goal), Metric: tf.Metric,
		Departments: tf.Departments, DeadlineText: tf.Deadline, Recurrence: tf.Recurrence,
		Target: tf.Target, Start: p.Start, Line: at(),
	}
	p.byID[t.ID] = t
	if t.Goal == "" {
		errs.add(at("goal"), field("goal"), "missing: every task needs its goal (任务目标)")
	}
	if len(tf.Departments) == 0 {
		errs.add(at("departments"), field("departments"), "missing: every task needs at least one responsible department (责任部门)")
	}
	for j, dep := range tf.Departments {
		switch {
		case !c.Known(dep):
			errs.add(at("departments", j), field(fmt.Sprintf("departments[%d]", j)), "unknown department %q (not a department, group or alias in %s)", dep, c.File)
		case slices.Contains(tf.Departments[:j], dep):
			errs.add(at("departments", j), field(fmt.Sprintf("departments[%d]", j)), "%q is listed twice", dep)
		}
		for _, m := range c.Members(dep) {
			if !slices.Contains(t.Responsible, m) {
				t.Responsible = append(t.Responsible, m)
			}
			if j == 0 {
				t.Leads = append(t.Leads, m)
			}
		}
	}

	if tf.Deadline == "" {
		errs.add(at("deadline"), field("deadline"), "missing: every task needs a deadline (完成时限) such as 2022年 or 2022-06-30")
	} else if dl, err := ParseTime(tf.Deadline, loc, true); err != nil {
		errs.add(at("deadline"), field("deadline"), "%v", err)
	} else {
		t.Deadline = dl
	}
	if tf.Start != "" {
		if start, err := ParseTime(tf.Start, loc, false); err != nil {
			errs.add(at("start"), field("start"), "%v", err)
		} else {
			t.Start = start
		}
	}
	if !t.Start.IsZero() && !t.Deadline.IsZero() && !t.Start.Before(t.Deadline) {
		errs.add(at("start"), field("start"), "the start %s is not before the deadline %s", t.Start.Format(time.DateOnly), t.Deadline.Format(time.DateOnly))
	}
	switch tf.Recurrence {
	case "", "yearly":
	default:
		// A standing task (长期坚持) with no date of its own is reviewed every so often.
		every, err := ParseDuration(tf.Recurrence)
		if err != nil || time.Duration(every) < 24*time.Hour || time.Duration(every)%(24*time.Hour) != 0 {
			errs.add(at("recurrence"), field("recurrence"), "want yearly, a review cadence in whole days such as 90d, or nothing; got %q", tf.Recurrence)
		} else {
			t.Every = time.Duration(every)
		}
	}
	if tf.Until != "" {
		until, err := ParseTime(tf.Until, loc, true)
		switch {
		case err != nil:
			errs.add(at("until"), field("until"), "%v", err)
		case tf.Recurrence == "":
			errs.add(at("until"), field("until"), "until needs recurrence: yearly (or a review cadence)")
		case !t.Deadline.IsZero() && until.Before(t.Deadline):
			errs.add(at("until"), field("until"), "%s is before the first deadline %s", until.Format(time.DateOnly), t.Deadline.Format(time.DateOnly))
		default:
			t.Until = until
		}
	}
	for j, tg := range tf.Target {
		f := field(fmt.Sprintf("target[%d]", j))
		if strings.TrimSpace(tg.Name) == "" {
			errs.add(at("target", j), f, "missing name: say what is measured")
		}
		if tg.Min == nil && tg.Max == nil {
			errs.add(at("target", j), f, "needs min or max")
		}
	}
	return t
}

var (
	yearRe  = regexp.MustCompile(`^(\d{4})\s*年(?:底|末)?$`)
	monthRe = regexp.MustCompile(`^(\d{4})\s*年\s*(\d{1,2})\s*月(?:底|末)?$`)
	dayRe   = regexp.MustCompile(`^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$|^(\d{4})-(\d{2})-(\d{2})$`)
)

// ParseTime reads a deadline or start as plans write them: "2021年" (the year), "2022年6月"
// (the month), "2022年6月30日" or "2022-06-30" (the day), all in loc, or an RFC 3339 instant.
// With end set, a period means its last instant (a deadline), otherwise its first (a start).
func ParseTime(s string, loc *time.Location, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var y, m, dd int
	var next func(time.Time) time.Time
	atoi := func(v string) int { n, _ := strconv.Atoi(v); return n }
	switch {
	case yearRe.MatchString(s):
		g := yearRe.FindStringSubmatch(s)
		y, m, dd = atoi(g[1]), 1, 1
		next = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	case monthRe.MatchString(s):
		g := monthRe.FindStringSubmatch(s)
		y, m, dd = atoi(g[1]), atoi(g[2]), 1
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case dayRe.MatchString(s):
		g := dayRe.FindStringSubmatch(s)
		if g[1] == "" {
			g = g[3:] // the 2022-06-30 form
		}
		y, m, dd = atoi(g[1]), atoi(g[2]), atoi(g[3])
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	default:
		return time.Time{}, fmt.Errorf("bad date %q: want 2022年, 2022年6月, 2022年6月30日, 2022-06-30 or 2022-06-30T18:00:00+08:00", s)
	}
	first := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, loc)
	if first.Year() != y || int(first.Month()) != m || first.Day() != dd {
		return time.Time{}, fmt.Errorf("bad date %q: there is no such date", s)
	}
	if !end {
		return first, nil
	}
	return next(first).Add(-time.Nanosecond), nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// DaysUntil counts calendar days in loc from now to the deadline's day: 0 on the day itself,
// negative once it has passed. People count deadlines in days, not in 24-hour spans.
func DaysUntil(deadline, now time.Time, loc *time.Location) int {
	d, n := deadline.In(loc), now.In(loc)
	dd := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	nd := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	return int(dd.Sub(nd).Hours() / 24)
}
