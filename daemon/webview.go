package daemon

import (
	"context"
	"io"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
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
	return func(ctx context.Context, w io.Writer, c *config.Config, rows []record.Row) error {
		tasks, err := workbookTasks(ctx, data, rows)
		if err != nil {
			return err
		}
		return workbook.Write(w, tasks, workbook.Options{Language: c.Language, Location: c.Location}, now())
	}
}

// workbookTasks turns the web view's rows, which hold each department's latest update, into
// the workbook's, with every update.
func workbookTasks(ctx context.Context, data record.UpdatesReader, rows []record.Row) ([]workbook.Task, error) {
	if err := record.FillUpdates(ctx, data, rows); err != nil {
		return nil, err
	}
	return record.Workbook(rows), nil
}
