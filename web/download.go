package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

// The downloads are of exactly the rows the 任务 list's filter shows, in its order, in the
// shapes of `duban export` without -all: the CSV's columns and the JSON's fields are export's
// (export.go's writeCSV and writeJSON, which live in package main and so cannot be called
// from here; the format is the contract, and the tests hold both to it).

func (s *Server) filtered(r *http.Request) (*config.Config, []Row, error) {
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
	if err := writeCSV(&b, rows, c); err != nil {
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
	if err := writeJSON(&b, rows, c); err != nil {
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

// writeCSV is export's CSV without -all: UTF-8 with a byte order mark, CRLF, the i18n
// header, one row per task and department.
func writeCSV(b *bytes.Buffer, rows []Row, c *config.Config) error {
	texts := i18n.For(c.Language)
	b.WriteString("\ufeff")
	cw := csv.NewWriter(b)
	cw.UseCRLF = true
	if err := cw.Write(texts.CSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		at, text := "", ""
		if r.State.Last.ID != "" {
			at = r.State.Last.At.In(c.Location).Format("2006-01-02 15:04")
			text = csvText(texts, r.State.Last)
		}
		pct := ""
		if r.State.Percent != nil {
			pct = strconv.Itoa(*r.State.Percent)
		}
		if err := cw.Write([]string{
			strconv.Itoa(r.Task.ID), csvCell(r.Task.Area), csvCell(r.Task.Goal), csvCell(r.Department),
			texts.StatusName(r.State.Status), pct, at, csvCell(text), r.Deadline.In(c.Location).Format(time.DateOnly),
			strconv.Itoa(r.DaysLeft), texts.ColorNames[string(r.Color)],
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell keeps a spreadsheet from running a text cell as a formula (OWASP), as export does.
func csvCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

func csvText(texts *i18n.Texts, u store.Update) string {
	if u.Attachment == nil {
		return u.Text
	}
	file := "📎 " + texts.AttachmentName(u.Attachment)
	if u.Text == "" {
		return file
	}
	return u.Text + " " + file
}

// The JSON shape of `duban export` (its field names are read by scripts), grouped by task
// as there: rows of one task that the filter keeps stay together under it.
type jsonExport struct {
	Tasks []jsonTask `json:"tasks"`
}

type jsonTask struct {
	ID          int              `json:"id"`
	Area        string           `json:"area"`
	Goal        string           `json:"goal"`
	Deadline    string           `json:"deadline"`
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
	Color       string       `json:"color"`
	Updates     []jsonUpdate `json:"updates"`
}

type jsonUpdate struct {
	ID         string          `json:"id"`
	At         string          `json:"at"`
	Text       string          `json:"text"`
	Status     store.Status    `json:"status"`
	Percent    *int            `json:"percent"`
	Value      *float64        `json:"value,omitempty"`
	By         string          `json:"by"`
	UserID     int64           `json:"user_id"`
	Chat       int64           `json:"chat"`
	Message    int             `json:"message_id"`
	Source     store.Source    `json:"source"`
	Corrects   string          `json:"corrects,omitempty"`
	Attachment *jsonAttachment `json:"attachment,omitempty"`
	Hash       string          `json:"hash"`
}

type jsonAttachment struct {
	Kind         string `json:"kind"`
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name"`
	MimeType     string `json:"mime_type"`
	Size         int64  `json:"size"`
}

func writeJSON(b *bytes.Buffer, rows []Row, c *config.Config) error {
	out := jsonExport{Tasks: []jsonTask{}}
	index := map[int]int{}
	for _, r := range rows {
		i, ok := index[r.Task.ID]
		if !ok {
			i = len(out.Tasks)
			index[r.Task.ID] = i
			out.Tasks = append(out.Tasks, jsonTask{
				ID: r.Task.ID, Area: r.Task.Area, Goal: r.Task.Goal,
				Deadline: r.Deadline.In(c.Location).Format(time.DateOnly), DaysLeft: r.DaysLeft,
				Departments: []jsonDepartment{},
			})
		}
		jd := jsonDepartment{
			Name: r.Department, Lead: r.Lead, Responsible: r.Responsible, Status: r.State.Status,
			Percent: r.State.Percent, Value: r.State.Value, Color: string(r.Color), Updates: []jsonUpdate{},
		}
		if u := r.State.Last; u.ID != "" {
			ju := jsonUpdate{
				ID: u.ID, At: u.At.In(c.Location).Format(time.RFC3339), Text: u.Text, Status: u.Status,
				Percent: u.Percent, Value: u.Value, By: u.UserName, UserID: u.UserID, Chat: u.ChatID,
				Message: u.MessageID, Source: u.Source, Corrects: u.Corrects, Hash: u.Hash,
			}
			if a := u.Attachment; a != nil {
				ju.Attachment = &jsonAttachment{Kind: a.Kind, FileID: a.FileID, FileUniqueID: a.FileUniqueID, FileName: a.FileName, MimeType: a.MimeType, Size: a.Size}
			}
			jd.Updates = append(jd.Updates, ju)
		}
		out.Tasks[i].Departments = append(out.Tasks[i].Departments, jd)
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
