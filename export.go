package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// progressReader is what export needs of a store.
type progressReader interface {
	Latest(ctx context.Context) ([]store.State, error)
	Updates(ctx context.Context, task int) ([]store.Update, error)
	Ledger(ctx context.Context) (map[string]time.Time, error)
	Snoozes(ctx context.Context) (map[string]time.Time, error)
}

func cmdExport(ctx context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "export", "")
	format := fs.String("format", "json", "json or csv (UTF-8 with BOM, opens cleanly in Excel)")
	all := fs.Bool("all", false, "every update of every department, not only the latest")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "json" && *format != "csv" {
		return usageError{fmt.Errorf("export: -format: want json or csv, got %q", *format)}
	}
	c, p, err := config.Load(*path)
	if err != nil {
		return err
	}
	// Read-only: export runs beside the daemon and must neither lock nor change anything.
	s, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	rows, err := collectExport(ctx, s, c, p, *all, now)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if *format == "csv" {
		return writeCSV(env.stdout, rows, c, *all)
	}
	return writeJSON(env.stdout, rows, c)
}

// exportTask is one task with every department on it, lead first.
type exportTask struct {
	task        *config.Task
	deadline    time.Time // of the current period, for a yearly task
	daysLeft    int
	departments []exportDepartment
}

type exportDepartment struct {
	name        string
	responsible bool // false: it reported on the task but the plan no longer names it
	state       store.State
	color       scheduler.Color // the scheduler's three-colour warning, "" for none
	updates     []store.Update
}

// collectExport reads the latest state in one call, and with all every task's chain: the
// whole record, in the order it was written.
func collectExport(ctx context.Context, s progressReader, c *config.Config, p *config.Plan, all bool, now time.Time) ([]exportTask, error) {
	states, err := s.Latest(ctx)
	if err != nil {
		return nil, err
	}
	ledger, err := s.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	snoozes, err := s.Snoozes(ctx)
	if err != nil {
		return nil, err
	}
	view, settings := scheduler.NewState(states, ledger, snoozes), scheduler.SettingsFrom(c)
	byKey := map[string]store.State{}
	others := map[int][]string{}
	for _, st := range states {
		byKey[store.SnoozeKey(st.Task, st.Department)] = st
	}
	for _, st := range states {
		if t, ok := p.Task(st.Task); ok && !slices.Contains(t.Responsible, st.Department) {
			others[st.Task] = append(others[st.Task], st.Department)
		}
	}
	var out []exportTask
	for _, t := range p.Tasks {
		var chain []store.Update
		if all {
			if chain, err = s.Updates(ctx, t.ID); err != nil {
				return nil, err
			}
		}
		et := exportTask{task: t}
		add := func(name string, responsible bool) {
			a := scheduler.Assess(t, name, view, settings, now)
			et.deadline, et.daysLeft = a.Deadline, a.DaysLeft
			d := exportDepartment{name: name, responsible: responsible}
			if responsible {
				d.color = a.Color
			}
			st, ok := byKey[store.SnoozeKey(t.ID, name)]
			if ok {
				d.state = st
			} else {
				d.state = store.State{Task: t.ID, Department: name, Status: store.StatusNotStarted}
			}
			switch {
			case all:
				for _, u := range chain {
					if u.Department == name {
						d.updates = append(d.updates, u)
					}
				}
			case ok:
				d.updates = []store.Update{st.Last}
			}
			et.departments = append(et.departments, d)
		}
		for _, name := range t.Responsible {
			add(name, true)
		}
		for _, name := range others[t.ID] {
			add(name, false)
		}
		out = append(out, et)
	}
	return out, nil
}

// The JSON shape is read by scripts: keep the field names.
type jsonExport struct {
	Tasks []jsonTask `json:"tasks"`
}

type jsonTask struct {
	ID          int              `json:"id"`
	Area        string           `json:"area"`
	Goal        string           `json:"goal"`
	Deadline    string           `json:"deadline"` // of the current period, for a yearly task
	DaysLeft    int              `json:"days_left"`
	Departments []jsonDepartment `json:"departments"`
}

type jsonDepartment struct {
	Name        string       `json:"name"`
	Lead        bool         `json:"lead"`
	Responsible bool         `json:"responsible"`
	Status      store.Status `json:"status"`
	Percent     *int         `json:"percent"`
	Value       *float64     `json:"value,omitempty"`
	Color       string       `json:"color"` // red, yellow, blue or "" (三色督办)
	Updates     []jsonUpdate `json:"updates"`
}

type jsonUpdate struct {
	ID       string       `json:"id"`
	At       string       `json:"at"`
	Text     string       `json:"text"`
	Status   store.Status `json:"status"`
	Percent  *int         `json:"percent"`
	Value    *float64     `json:"value,omitempty"`
	By       string       `json:"by"`
	UserID   int64        `json:"user_id"`
	Chat     int64        `json:"chat"`
	Message  int          `json:"message_id"`
	Source   store.Source `json:"source"`
	Corrects string       `json:"corrects,omitempty"`
	Hash     string       `json:"hash"`
}

func writeJSON(w io.Writer, rows []exportTask, c *config.Config) error {
	out := jsonExport{Tasks: []jsonTask{}}
	for _, r := range rows {
		jt := jsonTask{
			ID: r.task.ID, Area: r.task.Area, Goal: r.task.Goal,
			Deadline:    r.deadline.In(c.Location).Format(time.DateOnly),
			DaysLeft:    r.daysLeft,
			Departments: []jsonDepartment{},
		}
		for _, d := range r.departments {
			jd := jsonDepartment{
				Name: d.name, Lead: r.task.IsLead(d.name), Responsible: d.responsible,
				Status: d.state.Status, Percent: d.state.Percent, Value: d.state.Value,
				Color: string(d.color), Updates: []jsonUpdate{},
			}
			for _, u := range d.updates {
				jd.Updates = append(jd.Updates, jsonUpdate{
					ID: u.ID, At: u.At.In(c.Location).Format(time.RFC3339), Text: u.Text,
					Status: u.Status, Percent: u.Percent, Value: u.Value, By: u.UserName, UserID: u.UserID,
					Chat: u.ChatID, Message: u.MessageID, Source: u.Source, Corrects: u.Corrects, Hash: u.Hash,
				})
			}
			jt.Departments = append(jt.Departments, jd)
		}
		out.Tasks = append(out.Tasks, jt)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeCSV writes one row per task and department (with all, one per update, each showing
// what that update said), UTF-8 with a byte order mark so that Excel shows Chinese instead of
// mojibake.
func writeCSV(w io.Writer, rows []exportTask, c *config.Config, all bool) error {
	texts := i18n.For(c.Language)
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel writes and expects
	if err := cw.Write(texts.CSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		deadline := r.deadline.In(c.Location).Format(time.DateOnly)
		left := strconv.Itoa(r.daysLeft)
		for _, d := range r.departments {
			lines := d.updates
			if len(lines) == 0 {
				lines = []store.Update{{}}
			}
			for _, u := range lines {
				status, percent, at := d.state.Status, d.state.Percent, ""
				if u.ID != "" {
					at = u.At.In(c.Location).Format("2006-01-02 15:04")
					if all { // each row says what that update said
						status, percent = u.Status, u.Percent
					}
				}
				pct := ""
				if percent != nil {
					pct = strconv.Itoa(*percent)
				}
				if err := cw.Write([]string{
					strconv.Itoa(r.task.ID), r.task.Area, r.task.Goal, d.name,
					texts.StatusName(status), pct, at, u.Text, deadline, left, texts.ColorNames[string(d.color)],
				}); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
