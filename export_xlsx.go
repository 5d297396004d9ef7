package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
	"github.com/duban/duban/workbook"
)

// exportXLSX is `duban export -format xlsx -o FILE`: the 台账 workbook, with every update of
// the record (so -all changes nothing), written to path atomically.
func exportXLSX(ctx context.Context, s progressReader, c *config.Config, p *config.Plan, now time.Time, path string) error {
	tasks, err := workbookInput(ctx, s, c, p, now)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		return workbook.Write(w, tasks, workbook.Options{Language: c.Language, Location: c.Location}, now)
	})
}

// workbookInput collects the record as the export does, with every update, and adds what
// 单位汇总 needs from scheduler.Assess, run on the very snapshot collectExport read so that
// its figures agree with the rows' colours.
func workbookInput(ctx context.Context, s progressReader, c *config.Config, p *config.Plan, now time.Time) ([]workbook.Task, error) {
	snap := &snapshot{progressReader: s}
	rows, err := collectExport(ctx, snap, c, p, true, now)
	if err != nil {
		return nil, err
	}
	return workbookTasks(rows, scheduler.NewState(snap.states, snap.ledger, snap.snoozes), scheduler.SettingsFrom(c), now), nil
}

// snapshot is a progressReader that keeps what it read.
type snapshot struct {
	progressReader
	states          []store.State
	ledger, snoozes map[string]time.Time
}

func (s *snapshot) Latest(ctx context.Context) ([]store.State, error) {
	var err error
	s.states, err = s.progressReader.Latest(ctx)
	return s.states, err
}

func (s *snapshot) Ledger(ctx context.Context) (map[string]time.Time, error) {
	var err error
	s.ledger, err = s.progressReader.Ledger(ctx)
	return s.ledger, err
}

func (s *snapshot) Snoozes(ctx context.Context) (map[string]time.Time, error) {
	var err error
	s.snoozes, err = s.progressReader.Snoozes(ctx)
	return s.snoozes, err
}

// workbookTasks turns the export's rows (collected with all) into the workbook's, with each
// responsible department's standing as the scheduler assesses it.
func workbookTasks(rows []exportTask, view *scheduler.State, settings scheduler.Settings, now time.Time) []workbook.Task {
	out := make([]workbook.Task, 0, len(rows))
	for _, r := range rows {
		t := workbook.Task{ID: r.task.ID, Area: r.task.Area, Goal: r.task.Goal, Deadline: r.deadline, DaysLeft: r.daysLeft,
			Departments: make([]workbook.Department, 0, len(r.departments))}
		for _, d := range r.departments {
			wd := workbook.Department{Name: d.name, Responsible: d.responsible, Status: d.state.Status, Percent: d.state.Percent,
				Color: string(d.color), Updates: d.updates}
			if d.state.Last.ID != "" { // a department that never reported has none
				last := d.state.Last
				wd.Last = &last
			}
			if d.responsible {
				a := scheduler.Assess(r.task, d.name, view, settings, now)
				wd.Done, wd.Overdue, wd.Unanswered, wd.LastReport = a.Done, a.Overdue && !a.Done, a.Unanswered, a.LastReport
			}
			t.Departments = append(t.Departments, wd)
		}
		out = append(out, t)
	}
	return out
}

// writeFileAtomic writes path through a temporary file in the same folder, renamed into
// place once whole: a run cut short leaves the old file, never half a new one.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".duban-export-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// CreateTemp makes the file 0600; an export is for people to open and pass on, as a file
	// written by a shell redirect would be.
	if err = tmp.Chmod(0o644); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("export: %s: %w", path, err)
	}
	return nil
}
