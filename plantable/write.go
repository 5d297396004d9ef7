package plantable

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// WritePlan writes tasks.yaml in the shipped file's style: one block entry per task,
// departments as a flow list, targets as flow maps, and a string quoted only where YAML
// needs it (or where it holds a % or a colon, as the shipped plan quotes them, or an
// invisible character, written as an escape so that a reader sees it). head is the comment
// that opens the file: the existing file's when revising, NewHead's when not.
//
// A task's note (备注) has no key in tasks.yaml, which config reads strictly: it is written as
// a comment above the task, which ReadExisting reads back. A standing task (长期坚持, imported
// with a review cadence) is written as `recurrence: 90d` with its first review as the
// deadline; the scheduler opens it again every 90 days after that.
func WritePlan(w io.Writer, head, start string, tasks []PlanTask) error {
	var b bytes.Buffer
	for line := range strings.Lines(strings.TrimRight(head, "\n")) {
		line = strings.TrimRight(line, "\n")
		if line != "" && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			line = "# " + line
		}
		b.WriteString(line + "\n")
	}
	if head != "" {
		b.WriteString("\n")
	}
	if start != "" {
		fmt.Fprintf(&b, "start: %s\n\n", scalar(start, false))
	}
	b.WriteString("tasks:\n")
	// Deadlines and departments repeat from row to row: each is worked out once.
	seen := map[[2]string]string{}
	scalar := func(s string, flow bool) string {
		k := [2]string{s, strconv.FormatBool(flow)}
		if v, ok := seen[k]; ok {
			return v
		}
		v := scalar(s, flow)
		seen[k] = v
		return v
	}
	for _, t := range tasks {
		if t.Note != "" {
			for i, line := range strings.Split(t.Note, "\n") {
				if i == 0 {
					line = notePrefix + line
				}
				fmt.Fprintf(&b, "  # %s\n", line)
			}
		}
		fmt.Fprintf(&b, "  - id: %d\n", t.ID)
		field := func(key, value string) {
			if value != "" {
				fmt.Fprintf(&b, "    %s: %s\n", key, scalar(value, false))
			}
		}
		field("area", t.Area)
		field("goal", t.Goal)
		field("metric", t.Metric)
		deps := make([]string, len(t.Departments))
		for i, d := range t.Departments {
			deps[i] = scalar(d, true)
		}
		fmt.Fprintf(&b, "    departments: [%s]\n", strings.Join(deps, ", "))
		field("deadline", t.Deadline)
		field("start", t.Start)
		if standing(t.Recurrence) {
			fmt.Fprintf(&b, "    recurrence: %s  # %s\n", scalar(t.Recurrence, false), standingComment)
		} else {
			field("recurrence", t.Recurrence)
		}
		field("until", t.Until)
		if len(t.Target) > 0 {
			b.WriteString("    target:\n")
			for _, tg := range t.Target {
				parts := []string{"name: " + scalar(tg.Name, true)}
				if tg.Min != nil {
					parts = append(parts, "min: "+strconv.FormatFloat(*tg.Min, 'f', -1, 64))
				}
				if tg.Max != nil {
					parts = append(parts, "max: "+strconv.FormatFloat(*tg.Max, 'f', -1, 64))
				}
				if tg.Unit != "" { // the shipped plan quotes every unit
					parts = append(parts, "unit: "+quote(tg.Unit))
				}
				fmt.Fprintf(&b, "      - {%s}\n", strings.Join(parts, ", "))
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

const (
	notePrefix      = "备注: "
	standingComment = "长期坚持: reviewed this often; the deadline is the first review"
)

// noteFromComment reads back a note WritePlan wrote above a task.
func noteFromComment(c string) (string, bool) {
	var lines []string
	found := false
	for line := range strings.Lines(c) {
		line = strings.TrimPrefix(strings.TrimRight(line, "\n"), "#")
		line = strings.TrimPrefix(line, " ")
		if !found {
			rest, ok := strings.CutPrefix(line, notePrefix)
			if !ok {
				continue
			}
			found, line = true, rest
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), found
}

// NewHead is the comment that opens a tasks.yaml an import writes from nothing.
func NewHead(source string, today time.Time) string {
	return fmt.Sprintf(`# tasks.yaml — the work plan duban follows up, imported from %s on %s by duban import.
#
# Revise the table and import it again (duban import -o tasks.yaml FILE) rather than editing
# the tasks here: the import keeps every task's id, so recorded updates stay on their tasks,
# and prints what changed. What the table has no column for (start, until, target) may be
# added here by hand: the next import keeps it, and this comment too. Every field is
# explained in the README, "The plan".
`, source, today.Format(time.DateOnly))
}

// scalar writes s as a YAML scalar: plain when it reads back as the same string, else
// double-quoted. flow is for a flow list or map, where , [ ] { } end a plain scalar.
func scalar(s string, flow bool) string {
	if !needsQuotes(s) && (plainCJK(s) || plainReadsBack(s, flow)) {
		return s
	}
	return quote(s)
}

// plainCJK is the fast answer for most of a plan's text, which would otherwise cost a YAML
// parse per cell (most of a 10,000-row import): a string that starts with a non-ASCII
// character (a Chinese one) and holds none of the characters that end or change a plain
// scalar reads back as itself, since only ASCII forms resolve to numbers, dates or booleans.
// needsQuotes has already refused % : # quotes and invisible characters.
func plainCJK(s string) bool {
	if s[0] < utf8.RuneSelf || strings.ContainsAny(s, ",[]{}") || strings.TrimSpace(s) != s {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.Is(unicode.Han, r)
}

// needsQuotes is the shipped plan's own habit, beyond what YAML requires: a % or a colon is
// quoted (a reader should not have to know YAML's rules to trust "5:5" or "35%"), and so is
// any character that does not show.
func needsQuotes(s string) bool {
	if s == "" || strings.ContainsAny(s, "%:#\"'\\") {
		return true
	}
	for _, r := range s {
		if invisible(r) {
			return true
		}
	}
	return false
}

func invisible(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0xa0) || (unicode.IsSpace(r) && r != ' ') ||
		unicode.Is(unicode.Cf, r) || r == utf8RuneError
}

const utf8RuneError = '\uFFFD'

// plainReadsBack checks with yaml.v3 itself that s, written plain, is read as the string s.
func plainReadsBack(s string, flow bool) bool {
	doc := "k: " + s
	if flow {
		doc = "k: [" + s + "]"
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil || len(n.Content) != 1 || len(n.Content[0].Content) != 2 {
		return false
	}
	v := n.Content[0].Content[1]
	if flow {
		if v.Kind != yaml.SequenceNode || len(v.Content) != 1 {
			return false
		}
		v = v.Content[0]
	}
	return v.Kind == yaml.ScalarNode && v.Style == 0 && v.Value == s && (v.Tag == "!!str" || v.Tag == "!!timestamp")
}

// quote writes a YAML double-quoted scalar, escaping what does not show as \u00a0 (the
// shipped plan's own form).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case invisible(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case invisible(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// WriteFileAtomic replaces path with data whole or not at all: a temporary file in the same
// folder, synced, then renamed over it. An existing file's permissions are kept.
func WriteFileAtomic(path string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
