package record

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
	"github.com/duban/duban/workbook"
)

// WriteCSV writes one row per task and department (with all, one per update of Updates,
// each showing what that update said), UTF-8 with a byte order mark so that Excel shows
// Chinese instead of mojibake; the header and statuses follow c.Language.
func WriteCSV(w io.Writer, rows []Row, c *config.Config, all bool) error {
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
		deadline := r.Deadline.In(c.Location).Format(time.DateOnly)
		left := strconv.Itoa(r.DaysLeft)
		if r.Removed { // no longer in the plan: no deadline to count down to
			deadline, left = "", ""
		}
		lines := r.Updates
		if len(lines) == 0 {
			lines = []store.Update{{}}
		}
		for _, u := range lines {
			status, percent, at := r.State.Status, r.State.Percent, ""
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
				strconv.Itoa(r.Task.ID), CSVCell(r.Task.Area), CSVCell(r.Task.Goal), CSVCell(r.Department),
				texts.StatusName(status), pct, at, CSVCell(workbook.ReportText(texts, u)), deadline, left, texts.ColorNames[string(r.Color)],
			}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVCell keeps a spreadsheet from running a text cell as a formula: a cell that begins with
// = + - @, a tab or a carriage return (OWASP's list) gets a leading ', which Excel,
// LibreOffice and Sheets read as "this is text". Only text cells go through it: numbers such
// as -3 days left must stay numbers. The JSON keeps the words exactly.
func CSVCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
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
	// Removed: the task is no longer in the plan (a revision removed it); its record is kept.
	Removed bool `json:"removed,omitempty"`
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
	// Attachment is the file sent with the update; absent when none was.
	Attachment *jsonAttachment `json:"attachment,omitempty"`
	Hash       string          `json:"hash"`
}

// jsonAttachment has every field, empty or 0 when Telegram gave none, so scripts need not
// guess.
type jsonAttachment struct {
	Kind         string `json:"kind"`
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name"`
	MimeType     string `json:"mime_type"`
	Size         int64  `json:"size"`
}

func attachmentJSON(a *store.Attachment) *jsonAttachment {
	if a == nil {
		return nil
	}
	return &jsonAttachment{Kind: a.Kind, FileID: a.FileID, FileUniqueID: a.FileUniqueID, FileName: a.FileName, MimeType: a.MimeType, Size: a.Size}
}

// WriteJSON writes tasks in the shape of `duban export -format json`: each task with its
// rows as departments, each with its Updates; times in c.Location.
func WriteJSON(w io.Writer, tasks []Task, c *config.Config) error {
	out := jsonExport{Tasks: make([]jsonTask, 0, len(tasks))}
	for _, t := range tasks {
		jt := jsonTask{
			ID: t.Task.ID, Area: t.Task.Area, Goal: t.Task.Goal,
			Deadline:    t.Deadline.In(c.Location).Format(time.DateOnly),
			DaysLeft:    t.DaysLeft,
			Departments: make([]jsonDepartment, 0, len(t.Rows)),
			Removed:     t.Removed,
		}
		if t.Removed {
			jt.Deadline = ""
		}
		for _, r := range t.Rows {
			jd := jsonDepartment{
				Name: r.Department, Lead: r.Lead, Responsible: r.Responsible,
				Status: r.State.Status, Percent: r.State.Percent, Value: r.State.Value,
				Color: string(r.Color), Updates: make([]jsonUpdate, 0, len(r.Updates)),
			}
			for _, u := range r.Updates {
				jd.Updates = append(jd.Updates, jsonUpdate{
					ID: u.ID, At: u.At.In(c.Location).Format(time.RFC3339), Text: u.Text,
					Status: u.Status, Percent: u.Percent, Value: u.Value, By: u.UserName, UserID: u.UserID,
					Chat: u.ChatID, Message: u.MessageID, Source: u.Source, Corrects: u.Corrects,
					Attachment: attachmentJSON(u.Attachment), Hash: u.Hash,
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
