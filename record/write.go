package record

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
	"github.com/duban/duban/workbook"
)

// WriteCSV writes one row per task and department (with all, one per update of Updates,
// each showing what that update said), UTF-8 with a byte order mark so that Excel shows
// Chinese instead of mojibake; the header and statuses follow c.Language.
func WriteCSV(w io.Writer, rows []Row, c *config.Config, all bool) error {
	cw, err := newCSVWriter(w, c, all)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.row(r); err != nil {
			return err
		}
	}
	return cw.flush()
}

// StreamCSV writes the record at now with every update, as WriteCSV with all writes the rows
// Collect with all reads, byte for byte; but it reads one task's chain at a time and writes
// its rows before the next, so that memory stays flat however many updates there are.
// r is read from a second goroutine as well, a few chains ahead of the writing.
func StreamCSV(ctx context.Context, w io.Writer, r Reader, c *config.Config, p *config.Plan, now time.Time) error {
	rd, err := readChains(ctx, r, c, p, now)
	if err != nil {
		return err
	}
	cw, err := newCSVWriter(w, c, true)
	if err != nil {
		return err
	}
	err = eachTask(ctx, r, rd, func(t Task) error {
		for _, row := range t.Rows {
			if err := cw.row(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return cw.flush()
}

// csvWriter writes the CSV's rows after its byte order mark and header.
type csvWriter struct {
	cw    *csv.Writer
	c     *config.Config
	texts *i18n.Texts
	all   bool
	cells []string // reused: csv.Writer keeps none of them
}

func newCSVWriter(w io.Writer, c *config.Config, all bool) (*csvWriter, error) {
	texts := i18n.For(c.Language)
	// One buffer for the mark and the rows: csv.Writer writes into it rather than its own.
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true // what Excel writes and expects
	if err := cw.Write(texts.CSVHeader); err != nil {
		return nil, err
	}
	return &csvWriter{cw: cw, c: c, texts: texts, all: all, cells: make([]string, 0, len(texts.CSVHeader))}, nil
}

func (w *csvWriter) row(r Row) error {
	c, texts := w.c, w.texts
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
			if w.all { // each row says what that update said
				status, percent = u.Status, u.Percent
			}
		}
		pct := ""
		if percent != nil {
			pct = strconv.Itoa(*percent)
		}
		w.cells = append(w.cells[:0],
			strconv.Itoa(r.Task.ID), CSVCell(r.Task.Area), CSVCell(r.Task.Goal), CSVCell(r.Department),
			texts.StatusName(status), pct, at, CSVCell(workbook.ReportText(texts, u)), deadline, left, texts.ColorNames[string(r.Color)])
		if err := w.cw.Write(w.cells); err != nil {
			return err
		}
	}
	return nil
}

func (w *csvWriter) flush() error {
	w.cw.Flush() // into the buffer, and the buffer into w
	return w.cw.Error()
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

// The JSON shape is read by scripts: keep the field names, their order and the indentation
// byte for byte. It is written by hand rather than through encoding/json, for speed and so
// that an export can stream task by task, but it is what encoding/json wrote of these
// (record's tests hold that encoder and compare):
//
//	{"tasks": [{
//	  "id": int, "area", "goal", "deadline": "2006-01-02" ("" when removed; of the current
//	  period for a yearly task), "days_left": int,
//	  "departments": [{
//	    "name", "lead": bool, "responsible": bool, "status", "percent": int or null,
//	    "value": number (absent when none), "color": red, yellow, blue or "" (三色督办),
//	    "updates": [{
//	      "id", "at": RFC 3339, "text", "status", "percent": int or null, "value" (absent
//	      when none), "by", "user_id", "chat", "message_id", "source", "corrects" (absent
//	      when empty), "attachment" (absent when none: {"kind", "file_id", "file_unique_id",
//	      "file_name", "mime_type", "size"}, every field there, empty or 0 when Telegram gave
//	      none, so scripts need not guess), "hash"}]}],
//	  "removed": true (absent unless the task is no longer in the plan: a revision removed
//	  it, its record is kept)}]}
//
// indented by two spaces, with HTML characters unescaped, and a newline at the end.

// WriteJSON writes tasks in the shape of `duban export -format json`: each task with its
// rows as departments, each with its Updates; times in c.Location.
func WriteJSON(w io.Writer, tasks []Task, c *config.Config) error {
	jw := &jsonWriter{w: w, loc: c.Location}
	for _, t := range tasks {
		if err := jw.task(t); err != nil {
			return err
		}
	}
	return jw.close()
}

// StreamJSON writes the record at now with every update, as WriteJSON writes the tasks
// Collect with all reads, byte for byte; but it reads one task's chain at a time and writes
// the task before the next, so that memory stays flat however many updates there are.
// r is read from a second goroutine as well, a few chains ahead of the writing.
func StreamJSON(ctx context.Context, w io.Writer, r Reader, c *config.Config, p *config.Plan, now time.Time) error {
	rd, err := readChains(ctx, r, c, p, now)
	if err != nil {
		return err
	}
	jw := &jsonWriter{w: w, loc: c.Location}
	if err := eachTask(ctx, r, rd, jw.task); err != nil {
		return err
	}
	return jw.close()
}

// jsonFlushAt is how much JSON is gathered before it is written: few writes, little memory.
const jsonFlushAt = 64 << 10

// jsonWriter writes the export's JSON one task at a time.
type jsonWriter struct {
	w     io.Writer
	loc   *time.Location
	buf   []byte
	tasks int
}

func (jw *jsonWriter) task(t Task) error {
	b := jw.buf
	if jw.tasks == 0 {
		b = append(b, "{\n  \"tasks\": [\n    {"...)
	} else {
		b = append(b, ",\n    {"...)
	}
	jw.tasks++
	b = appendField(b, 6, "id", true)
	b = strconv.AppendInt(b, int64(t.Task.ID), 10)
	b = appendField(b, 6, "area", false)
	b = appendJSONString(b, t.Task.Area)
	b = appendField(b, 6, "goal", false)
	b = appendJSONString(b, t.Task.Goal)
	b = appendField(b, 6, "deadline", false)
	if t.Removed {
		b = append(b, `""`...)
	} else {
		b = append(b, '"')
		b = t.Deadline.In(jw.loc).AppendFormat(b, time.DateOnly)
		b = append(b, '"')
	}
	b = appendField(b, 6, "days_left", false)
	b = strconv.AppendInt(b, int64(t.DaysLeft), 10)
	b = appendField(b, 6, "departments", false)
	if len(t.Rows) == 0 {
		b = append(b, "[]"...)
	} else {
		b = append(b, '[')
		for i, r := range t.Rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        {"...)
			var err error
			if b, err = jw.appendDepartment(b, r); err != nil {
				return fmt.Errorf("task %d: %w", t.Task.ID, err)
			}
			b = append(b, "\n        }"...)
		}
		b = append(b, "\n      ]"...)
	}
	if t.Removed {
		b = appendField(b, 6, "removed", false)
		b = append(b, "true"...)
	}
	b = append(b, "\n    }"...)
	jw.buf = b
	if len(b) >= jsonFlushAt {
		return jw.flush()
	}
	return nil
}

// appendDepartment appends a row's fields, at the depth of a department.
func (jw *jsonWriter) appendDepartment(b []byte, r Row) ([]byte, error) {
	const d = 10
	var err error
	b = appendField(b, d, "name", true)
	b = appendJSONString(b, r.Department)
	b = appendField(b, d, "lead", false)
	b = strconv.AppendBool(b, r.Lead)
	b = appendField(b, d, "responsible", false)
	b = strconv.AppendBool(b, r.Responsible)
	b = appendField(b, d, "status", false)
	b = appendJSONString(b, string(r.State.Status))
	b = appendField(b, d, "percent", false)
	b = appendOptionalInt(b, r.State.Percent)
	if r.State.Value != nil {
		b = appendField(b, d, "value", false)
		if b, err = appendJSONFloat(b, *r.State.Value); err != nil {
			return nil, fmt.Errorf("department %s: %w", r.Department, err)
		}
	}
	b = appendField(b, d, "color", false)
	b = appendJSONString(b, string(r.Color))
	b = appendField(b, d, "updates", false)
	if len(r.Updates) == 0 {
		return append(b, "[]"...), nil
	}
	b = append(b, '[')
	for i := range r.Updates {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n            {"...)
		if b, err = jw.appendUpdate(b, &r.Updates[i]); err != nil {
			return nil, fmt.Errorf("update %s: %w", r.Updates[i].ID, err)
		}
		b = append(b, "\n            }"...)
	}
	return append(b, "\n          ]"...), nil
}

// appendUpdate appends an update's fields, at the depth of an update.
func (jw *jsonWriter) appendUpdate(b []byte, u *store.Update) ([]byte, error) {
	const d = 14
	var err error
	b = appendField(b, d, "id", true)
	b = appendJSONString(b, u.ID)
	b = appendField(b, d, "at", false)
	b = append(b, '"')
	b = u.At.In(jw.loc).AppendFormat(b, time.RFC3339)
	b = append(b, '"')
	b = appendField(b, d, "text", false)
	b = appendJSONString(b, u.Text)
	b = appendField(b, d, "status", false)
	b = appendJSONString(b, string(u.Status))
	b = appendField(b, d, "percent", false)
	b = appendOptionalInt(b, u.Percent)
	if u.Value != nil {
		b = appendField(b, d, "value", false)
		if b, err = appendJSONFloat(b, *u.Value); err != nil {
			return nil, err
		}
	}
	b = appendField(b, d, "by", false)
	b = appendJSONString(b, u.UserName)
	b = appendField(b, d, "user_id", false)
	b = strconv.AppendInt(b, u.UserID, 10)
	b = appendField(b, d, "chat", false)
	b = strconv.AppendInt(b, u.ChatID, 10)
	b = appendField(b, d, "message_id", false)
	b = strconv.AppendInt(b, int64(u.MessageID), 10)
	b = appendField(b, d, "source", false)
	b = appendJSONString(b, string(u.Source))
	if u.Corrects != "" {
		b = appendField(b, d, "corrects", false)
		b = appendJSONString(b, u.Corrects)
	}
	if a := u.Attachment; a != nil {
		const ad = d + 2
		b = appendField(b, d, "attachment", false)
		b = append(b, '{')
		b = appendField(b, ad, "kind", true)
		b = appendJSONString(b, a.Kind)
		b = appendField(b, ad, "file_id", false)
		b = appendJSONString(b, a.FileID)
		b = appendField(b, ad, "file_unique_id", false)
		b = appendJSONString(b, a.FileUniqueID)
		b = appendField(b, ad, "file_name", false)
		b = appendJSONString(b, a.FileName)
		b = appendField(b, ad, "mime_type", false)
		b = appendJSONString(b, a.MimeType)
		b = appendField(b, ad, "size", false)
		b = strconv.AppendInt(b, a.Size, 10)
		b = append(b, '\n')
		b = append(b, spaces[:d]...)
		b = append(b, '}')
	}
	b = appendField(b, d, "hash", false)
	b = appendJSONString(b, u.Hash)
	return b, nil
}

// close ends the document and writes what is left.
func (jw *jsonWriter) close() error {
	if jw.tasks == 0 {
		jw.buf = append(jw.buf, "{\n  \"tasks\": []\n}\n"...)
	} else {
		jw.buf = append(jw.buf, "\n  ]\n}\n"...)
	}
	return jw.flush()
}

func (jw *jsonWriter) flush() error {
	_, err := jw.w.Write(jw.buf)
	jw.buf = jw.buf[:0]
	return err
}

// spaces indent up to the deepest field, an attachment's.
const spaces = "                "

// appendField appends a field's name on its own line, depth spaces in, after a comma unless
// it is the object's first.
func appendField(b []byte, depth int, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '\n')
	b = append(b, spaces[:depth]...)
	b = append(b, '"')
	b = append(b, name...)
	return append(b, `": `...)
}

func appendOptionalInt(b []byte, n *int) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

// appendJSONFloat appends f as encoding/json does: like %g, but with ES6's exponent cutoffs
// and no padding of the exponent. JSON has no NaN or infinity: those are an error.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("value %v: JSON has no such number", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does without HTML escaping: " and \
// escaped, control characters as \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 (which break JavaScript) as \u2028 and \u2029.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		} else {
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
