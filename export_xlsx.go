package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/workbook"
)

// exportXLSX is `duban export -format xlsx -o FILE`: the 台账 workbook, with every update of
// the record (so -all changes nothing), written to path atomically.
func exportXLSX(ctx context.Context, s record.Reader, c *config.Config, p *config.Plan, now time.Time, path string) error {
	tasks, err := workbookInput(ctx, s, c, p, now)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		return workbook.Write(w, tasks, workbook.Options{Language: c.Language, Location: c.Location}, now)
	})
}

// workbookInput is the record with every update, as the workbook holds it.
func workbookInput(ctx context.Context, s record.Reader, c *config.Config, p *config.Plan, now time.Time) ([]workbook.Task, error) {
	snap, err := record.Collect(ctx, s, c, p, true, now)
	if err != nil {
		return nil, err
	}
	return record.Workbook(snap.Rows), nil
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
