package daemon

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/web"
	"github.com/duban/duban/workbook"
)

// planPair is the config and plan in force, swapped whole on a reload so that the web view
// never reads one with the other's predecessor.
type planPair struct {
	cfg  *config.Config
	plan *config.Plan
}

func (d *Daemon) currentPlan() (*config.Config, *config.Plan) {
	p := d.plan.Load()
	return p.cfg, p.plan
}

// newWebView builds the web view when web.url is set; nil when it is off.
func (d *Daemon) newWebView() *web.Server {
	c := d.o.Config
	if c.Web.URL == "" {
		return nil
	}
	now := d.o.Now
	if now == nil {
		now = time.Now
	}
	return web.New(web.Options{
		Plan: d.currentPlan, Data: d.o.Store, Auth: d.o.Store, URL: c.Web.URL, Now: now, Log: d.log,
		Workbook: webWorkbook(d.o.Store, now),
	})
}

// webWorkbook is the web view's xlsx download: the rows the filter shows, with every update
// of each, as `duban export -format xlsx` writes the whole record.
func webWorkbook(data web.Data, now func() time.Time) web.WorkbookFunc {
	return func(ctx context.Context, w io.Writer, c *config.Config, rows []web.Row) error {
		tasks, err := workbookTasks(ctx, data, rows)
		if err != nil {
			return err
		}
		return workbook.Write(w, tasks, workbook.Options{Language: c.Language, Location: c.Location}, now())
	}
}

// workbookTasks turns the web view's rows into the workbook's. Rows of one task that follow
// each other become one workbook.Task, so the sheet keeps the list's order whatever column
// it is sorted by. The standing (done, overdue, unanswered) is the rows' own assessment,
// the one their colours come from.
func workbookTasks(ctx context.Context, data web.Data, rows []web.Row) ([]workbook.Task, error) {
	var out []workbook.Task
	updates := map[int]map[string][]store.Update{} // each task's read once, by department
	for _, r := range rows {
		id := r.Task.ID
		if _, ok := updates[id]; !ok {
			ups, err := data.Updates(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("read updates of task %d: %w", id, err)
			}
			byDept := map[string][]store.Update{}
			for _, u := range ups {
				byDept[u.Department] = append(byDept[u.Department], u)
			}
			updates[id] = byDept
		}
		if n := len(out); n == 0 || out[n-1].ID != id {
			out = append(out, workbook.Task{ID: id, Area: r.Task.Area, Goal: r.Task.Goal, Deadline: r.Deadline, DaysLeft: r.DaysLeft})
		}
		wd := workbook.Department{Name: r.Department, Responsible: r.Responsible, Status: r.State.Status, Percent: r.State.Percent,
			Color: string(r.Color), Updates: updates[id][r.Department]}
		if r.State.Last.ID != "" { // a department that never reported has none
			last := r.State.Last
			wd.Last = &last
		}
		if r.Responsible {
			a := r.Assessment
			wd.Done, wd.Overdue, wd.Unanswered, wd.LastReport = a.Done, a.Overdue && !a.Done, a.Unanswered, a.LastReport
		}
		t := &out[len(out)-1]
		t.Departments = append(t.Departments, wd)
	}
	return out, nil
}
