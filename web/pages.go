package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/record"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

type overviewData struct {
	Summary     string
	Chart       any
	Areas       []i18n.AreaCount
	Red         int
	Yellow      int
	Blue        int
	None        int
	Done        int
	Overdue     []deptCount
	MaxOverdue  int
	Silent      []silence
	DueSoon     []record.Row
	Unbound     int
	OverdueFill string
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess session) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wd := wordsFor(snap.cfg.Language)
	colors := snap.colorCounts()
	d := overviewData{
		Summary: wd.TotalTasks(len(snap.plan.Tasks), countResponsible(snap.rows)),
		Areas:   record.Areas(snap.plan, snap.rows), Red: colors[scheduler.Red], Yellow: colors[scheduler.Yellow], Blue: colors[scheduler.Blue],
		None: colors[scheduler.None], Overdue: snap.overdueByDepartment(), Silent: snap.silent(), DueSoon: snap.dueSoon(),
		OverdueFill: fillRed,
	}
	for _, row := range snap.rows {
		if row.Responsible && row.Assessment.Done {
			d.Done++
		}
	}
	d.Chart = areaBars(d.Areas, wd)
	for _, o := range d.Overdue {
		d.MaxOverdue = max(d.MaxOverdue, o.Count)
	}
	s.render(w, r, http.StatusOK, "overview", page{Title: wd.Overview, Nav: "overview", Session: &sess, Data: d})
}

func countResponsible(rows []record.Row) int {
	n := 0
	for _, r := range rows {
		if r.Responsible {
			n++
		}
	}
	return n
}

// filterOf reads the 任务 list's query: area, dept, color, status, q, sort, desc=1.
func filterOf(q url.Values) Filter {
	f := Filter{Area: q.Get("area"), Department: q.Get("dept"), Color: q.Get("color"), Status: q.Get("status"), Query: q.Get("q"), Sort: q.Get("sort"), Desc: q.Get("desc") == "1"}
	if !slices.Contains(sortKeys, f.Sort) {
		f.Sort = ""
	}
	return f
}

// query is the filter as a query string, with sort and order as given.
func (f Filter) query(sort string, desc bool) string {
	v := url.Values{}
	for k, x := range map[string]string{"area": f.Area, "dept": f.Department, "color": f.Color, "status": f.Status, "q": f.Query, "sort": sort} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if desc {
		v.Set("desc", "1")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

type column struct {
	Label, URL, Arrow string
}

type option struct {
	Value, Label string
	Selected     bool
}

type tasksData struct {
	Filter               Filter
	Rows                 []record.Row
	Total                int
	Columns              []column
	Areas, Depts, Colors []option
	Statuses             []option
	CSV, JSON, XLSX      string
	SortedBy             string
}

func (s *Server) tasks(w http.ResponseWriter, r *http.Request, sess session) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wd := wordsFor(snap.cfg.Language)
	f := filterOf(r.URL.Query())
	d := tasksData{Filter: f, Rows: f.Apply(snap.rows), Total: len(snap.rows)}
	labels := []string{"#", wd.Area, wd.Goal, wd.Department, wd.Status, wd.Percent, wd.Color, wd.LastReport, wd.By, wd.At, wd.Deadline, wd.DaysLeft}
	for i, key := range sortKeys {
		c := column{Label: labels[i]}
		current := f.Sort == key || (f.Sort == "" && key == "id")
		desc := current && !f.Desc // a second click turns the order round
		c.URL = "/tasks" + f.query(key, desc)
		if current {
			c.Arrow = "▲"
			if f.Desc {
				c.Arrow = "▼"
			}
		}
		d.Columns = append(d.Columns, c)
	}
	seen := map[string]bool{}
	for _, t := range snap.plan.Tasks {
		if !seen[t.Area] {
			seen[t.Area] = true
			d.Areas = append(d.Areas, option{t.Area, t.Area, f.Area == t.Area})
		}
	}
	for _, name := range snap.cfg.DepartmentNames {
		d.Depts = append(d.Depts, option{name, name, f.Department == name})
	}
	for _, c := range []string{"red", "yellow", "blue", "none"} {
		d.Colors = append(d.Colors, option{c, wd.ColorName(strings.TrimPrefix(c, "none")), f.Color == c})
	}
	for _, st := range []store.Status{store.StatusNotStarted, store.StatusInProgress, store.StatusBlocked, store.StatusDone} {
		d.Statuses = append(d.Statuses, option{string(st), wd.texts.StatusName(st), f.Status == string(st)})
	}
	q := f.query(f.Sort, f.Desc)
	d.CSV, d.JSON = "/tasks.csv"+q, "/tasks.json"+q
	if s.workbook != nil {
		d.XLSX = "/tasks.xlsx" + q
	}
	s.render(w, r, http.StatusOK, "tasks", page{Title: wd.Tasks, Nav: "tasks", Session: &sess, Data: d})
}

type updateView struct {
	store.Update
	Correction bool
	Corrected  bool // a later update corrects this one
}

type deptHistory struct {
	Row          record.Row
	Updates      []updateView
	Heading, URL string // the section's title and where it links, "" for no link
}

// histView is what the "history" template gets: one department's record on one task.
type histView struct {
	W   *words
	Loc *time.Location
	deptHistory
}

type reminder struct {
	Department, Kind, Key string
	At                    time.Time
}

type taskData struct {
	Row         record.Row // the task's first row, for its fields
	Depts       []deptHistory
	Reminders   []reminder
	Problems    []store.Problem
	Verified    bool
	TargetTexts []string
}

func (s *Server) task(w http.ResponseWriter, r *http.Request, sess session) {
	id, err := strconv.Atoi(r.PathValue("id"))
	snap, serr := s.snapshot(r.Context())
	if serr != nil {
		s.fail(w, r, serr)
		return
	}
	wd := wordsFor(snap.cfg.Language)
	t, ok := snap.plan.Task(id)
	if err != nil || !ok {
		s.render(w, r, http.StatusNotFound, "message", page{Title: wd.NotFound, Session: &sess, Data: wd.NotFound})
		return
	}
	ups, err := s.data.Updates(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	problems, err := store.Verify(r.Context(), oneChain{s.data, id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := taskData{Problems: problems, Verified: len(problems) == 0}
	corrected := map[string]bool{}
	for _, u := range ups {
		if u.Corrects != "" {
			corrected[u.Corrects] = true
		}
	}
	for _, row := range snap.rows {
		if row.Task.ID != id {
			continue
		}
		if d.Row.Task == nil {
			d.Row = row
		}
		h := deptHistory{Row: row, Heading: row.Department, URL: deptURL(row.Department)}
		for _, u := range ups {
			if u.Department == row.Department {
				h.Updates = append(h.Updates, updateView{Update: u, Correction: u.Corrects != "", Corrected: corrected[u.ID]})
			}
		}
		d.Depts = append(d.Depts, h)
	}
	for _, tg := range t.Target {
		d.TargetTexts = append(d.TargetTexts, targetText(tg.Name, tg.Min, tg.Max, tg.Unit))
	}
	d.Reminders = remindersOf(snap.ledger, id)
	s.render(w, r, http.StatusOK, "task", page{Title: "#" + strconv.Itoa(id) + " " + t.Goal, Nav: "tasks", Session: &sess, Data: d})
}

func targetText(name string, lo, hi *float64, unit string) string {
	var b strings.Builder
	b.WriteString(name)
	if lo != nil {
		b.WriteString(" ≥ " + strconv.FormatFloat(*lo, 'f', -1, 64))
	}
	if hi != nil {
		b.WriteString(" ≤ " + strconv.FormatFloat(*hi, 'f', -1, 64))
	}
	if unit != "" {
		b.WriteString(" " + unit)
	}
	return b.String()
}

// remindersOf lists the ledger's nudges and escalations about task (keys n|<task>|… and
// e|<task>|…, see package scheduler), oldest first.
func remindersOf(ledger store.Ledger, task int) []reminder {
	var out []reminder
	for _, e := range ledger {
		key, at := e.Key, e.At
		parts := strings.SplitN(key, "|", 5)
		if len(parts) != 5 || (parts[0] != "n" && parts[0] != "e") || parts[1] != strconv.Itoa(task) {
			continue
		}
		kind := "nudge"
		if parts[0] == "e" {
			kind = "escalation"
		}
		out = append(out, reminder{Department: parts[2], Kind: kind, Key: parts[3] + " " + parts[4], At: at})
	}
	slices.SortFunc(out, func(a, b reminder) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Department+a.Key, b.Department+b.Key)
	})
	return out
}

// oneChain is the store seen as holding one task's chain, so that store.Verify checks just
// that task, with the store's own rules.
type oneChain struct {
	Data
	task int
}

func (o oneChain) Chains(ctx context.Context) ([]int, error) {
	_, n, err := o.Head(ctx, o.task)
	if err != nil || n == 0 {
		return nil, err
	}
	return []int{o.task}, nil
}

type deptData struct {
	Name    string
	Bound   bool
	Rows    []deptHistory
	Open    int
	Overdue int
}

func (s *Server) department(w http.ResponseWriter, r *http.Request, sess session) {
	name := r.PathValue("name")
	if !sess.All() && sess.Department != name {
		s.forbidden(w, r, sess)
		return
	}
	snap, err := s.snapshot(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wd := wordsFor(snap.cfg.Language)
	if _, ok := snap.cfg.Departments[name]; !ok {
		s.render(w, r, http.StatusNotFound, "message", page{Title: wd.NotFound, Session: &sess, Data: wd.NotFound})
		return
	}
	_, bound := snap.bindings[name]
	d := deptData{Name: name, Bound: bound}
	chains := map[int][]store.Update{}
	for _, row := range snap.rows {
		if row.Department != name {
			continue
		}
		ups, ok := chains[row.Task.ID]
		if !ok {
			if ups, err = s.data.Updates(r.Context(), row.Task.ID); err != nil {
				s.fail(w, r, err)
				return
			}
			chains[row.Task.ID] = ups
		}
		h := deptHistory{Row: row, Heading: "#" + strconv.Itoa(row.Task.ID) + " " + row.Task.Goal}
		if sess.All() { // a department's session reads its own page only
			h.URL = taskURL(row.Task.ID)
		}
		corrected := map[string]bool{}
		for _, u := range ups {
			if u.Corrects != "" {
				corrected[u.Corrects] = true
			}
		}
		for _, u := range ups {
			if u.Department == name {
				h.Updates = append(h.Updates, updateView{Update: u, Correction: u.Corrects != "", Corrected: corrected[u.ID]})
			}
		}
		if row.Responsible && !row.Assessment.Done {
			d.Open++
		}
		if row.Color == scheduler.Red {
			d.Overdue++
		}
		d.Rows = append(d.Rows, h)
	}
	s.render(w, r, http.StatusOK, "dept", page{Title: name, Nav: "dept", Session: &sess, Data: d})
}

type progressData struct {
	Chart       any
	Items, Done int
	Expected    float64
}

func (s *Server) progress(w http.ResponseWriter, r *http.Request, sess session) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wd := wordsFor(snap.cfg.Language)
	points, items, err := s.curve(r.Context(), snap)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := progressData{Chart: curveChart(points, items, wd, snap.cfg.Location), Items: items}
	for _, p := range points {
		if p.Known {
			d.Done, d.Expected = p.Done, p.Expected
		}
	}
	s.render(w, r, http.StatusOK, "progress", page{Title: wd.Progress, Nav: "progress", Session: &sess, Data: d})
}
