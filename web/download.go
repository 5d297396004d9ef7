package web

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
)

// The downloads are of exactly the rows the 任务 list's filter shows, in its order, written
// by package record as `duban export` without -all writes them; the JSON groups the rows of
// one task under it, wherever the sort put them.

func (s *Server) filtered(r *http.Request) (*config.Config, []record.Row, error) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		return nil, nil, err
	}
	return snap.cfg, filterOf(r.URL.Query()).Apply(snap.rows), nil
}

func attachmentHeader(w http.ResponseWriter, name, contentType string, now time.Time) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="duban-%s.%s"`, now.Format("20060102-1504"), name))
}

func (s *Server) downloadCSV(w http.ResponseWriter, r *http.Request, _ session) {
	c, rows, err := s.filtered(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := record.WriteCSV(&b, rows, c, false); err != nil {
		s.fail(w, r, err)
		return
	}
	attachmentHeader(w, "csv", "text/csv; charset=utf-8", s.now().In(c.Location))
	_, _ = w.Write(b.Bytes())
}

func (s *Server) downloadJSON(w http.ResponseWriter, r *http.Request, _ session) {
	c, rows, err := s.filtered(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := record.WriteJSON(&b, record.ByTask(rows), c); err != nil {
		s.fail(w, r, err)
		return
	}
	attachmentHeader(w, "json", "application/json; charset=utf-8", s.now().In(c.Location))
	_, _ = w.Write(b.Bytes())
}

// downloadXLSX is the hook for package workbook: Options.Workbook writes the file.
func (s *Server) downloadXLSX(w http.ResponseWriter, r *http.Request, sess session) {
	if s.workbook == nil {
		http.NotFound(w, r)
		return
	}
	c, rows, err := s.filtered(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := s.workbook(r.Context(), &b, c, rows); err != nil {
		s.fail(w, r, fmt.Errorf("workbook: %w", err))
		return
	}
	attachmentHeader(w, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", s.now().In(c.Location))
	_, _ = w.Write(b.Bytes())
}
