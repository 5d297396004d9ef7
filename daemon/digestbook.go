package daemon

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/duban/duban/chart"
	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/record"
	"github.com/duban/duban/workbook"
)

// digestBook is the 台账 workbook attached to the supervisors' weekly digest
// (scheduler.Workbook): the whole record with every update, collected by package record as
// `duban export -format xlsx` and the web view's download collect it, so all three agree.
type digestBook struct {
	data record.Reader
	plan func() (*config.Config, *config.Plan) // the config and plan in force
}

// Build collects the record at now and writes it as a workbook named like the web view's
// download (duban-20261201-0900.xlsx).
func (b digestBook) Build(ctx context.Context, now time.Time) (string, []byte, error) {
	c, p := b.plan()
	snap, err := record.Collect(ctx, b.data, c, p, true, now)
	if err != nil {
		return "", nil, fmt.Errorf("collect the record: %w", err)
	}
	var buf bytes.Buffer
	if err := workbook.Write(&buf, record.Workbook(snap.Rows), workbook.Options{Language: c.Language, Location: c.Location}, now); err != nil {
		return "", nil, fmt.Errorf("write the workbook: %w", err)
	}
	return "duban-" + now.In(c.Location).Format("20060102-1504") + ".xlsx", buf.Bytes(), nil
}

// digestChart is the supervisors' digest chart (scheduler.Chart), drawn by package chart from
// the digest's own numbers.
type digestChart struct{}

func (digestChart) Draw(d i18n.Digest, lang string) ([]byte, string, error) {
	data := chart.FromDigest(d)
	png, err := chart.Digest(data, lang)
	if err != nil {
		return nil, "", fmt.Errorf("draw the digest chart: %w", err)
	}
	return png, chart.Caption(data, lang), nil
}
