package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/duban/duban/bot"
	"github.com/duban/duban/config"
	"github.com/duban/duban/plantable"
	"github.com/duban/duban/sender"
)

// planPreview is what an admin's plan file in a private chat gets (bot.PlanPreviewer): the
// file fetched from the Bot API, then imported as `duban import -dry-run` would, against the
// config and tasks.yaml in force. Nothing is written.
type planPreview struct {
	tg    *tgbot.Bot
	token string // only to scrub it from errors: the download URL holds it
	http  *http.Client
	plan  func() (*config.Config, *config.Plan)
	now   func() time.Time
}

var _ bot.PlanPreviewer = (*planPreview)(nil)

func (p *planPreview) PreviewPlan(ctx context.Context, fileID, name string) (bot.PlanPreview, error) {
	data, err := p.fetch(ctx, fileID)
	if err != nil {
		return bot.PlanPreview{}, sender.Scrub(err, p.token)
	}
	tables, err := plantable.Read(name, data, plantable.ReadOptions{})
	if err != nil {
		return bot.PlanPreview{Problems: []string{err.Error()}}, nil
	}
	c, _ := p.plan()
	now := p.now().In(c.Location)
	opt := plantable.Options{Known: c.Known, Today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.Location)}
	existing, err := plantable.ReadExisting(c.TasksPath())
	if errors.Is(err, fs.ErrNotExist) {
		existing, err = nil, nil
	}
	if err != nil {
		return bot.PlanPreview{}, fmt.Errorf("read %s: %w", c.TasksPath(), err)
	}
	o, err := plantable.Import(tables, opt, existing)
	var problems plantable.Problems
	switch {
	case errors.As(err, &problems):
		pv := bot.PlanPreview{}
		for _, pr := range problems {
			pv.Problems = append(pv.Problems, pr.String())
		}
		return pv, nil
	case err != nil:
		return bot.PlanPreview{Problems: []string{err.Error()}}, nil
	}
	var report bytes.Buffer
	o.WriteSummary(&report, c.File)
	if o.Revising {
		fmt.Fprintf(&report, "\nchanges to %s:\n", c.TasksPath())
		if err := o.Diff.Write(&report); err != nil {
			return bot.PlanPreview{}, err
		}
	}
	return bot.PlanPreview{Report: report.String(), Plan: o.Plan}, nil
}

// fetch downloads a file a user sent, at most bot.MaxPlanFile bytes.
func (p *planPreview) fetch(ctx context.Context, fileID string) ([]byte, error) {
	link, _, err := sender.FileLink(ctx, p.tg, p.token, fileID)
	if err != nil {
		return nil, err
	}
	body, err := sender.OpenLink(ctx, p.http, p.token, link)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, bot.MaxPlanFile+1))
	if err == nil && len(data) > bot.MaxPlanFile {
		err = fmt.Errorf("larger than %d bytes", bot.MaxPlanFile)
	}
	return data, err
}
