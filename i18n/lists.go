package i18n

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/duban/duban/store"
)

// listWords are the words of the bot's multi-line answers — /departments, /tasks, /status
// and the nudges — in one language; the layouts are here, once.
type listWords struct {
	DeptLine, DeptUnbound, DeptBroken, DeptBound, DeptNever, DeptLast, DeptTitle string

	TasksDone, TasksTitle, TaskItem, TasksFooter string

	StatusTitle, StatusMetric, StatusLine, StatusLead, StatusSnoozed, StatusAt, StatusText string
	// StatusFile shows an attachment by its name, or for a photo, voice, … by FileKinds
	// (store.Attachment's Kind; "" is the word for any other).
	StatusFile string
	FileKinds  map[string]string

	// ItemMetric puts a shortened metric beside a goal in nudges and /tasks.
	ItemMetric string

	NudgeStages                                  map[string]string
	NudgeOne, NudgeTitle, NudgeItem, NudgeFooter string
}

func (t *Texts) departments(lines []DepartmentLine) string {
	w := &t.lists
	bound := 0
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, w.DeptLine, e(l.Name), l.Tasks)
		switch {
		case !l.Bound:
			b.WriteString(w.DeptUnbound)
		case l.Broken != "":
			fmt.Fprintf(&b, w.DeptBroken, e(l.Broken))
		default:
			bound++
			fmt.Fprintf(&b, w.DeptBound, e(l.Title), l.Chat)
		}
		if l.LastReport.IsZero() {
			b.WriteString(w.DeptNever)
		} else {
			fmt.Fprintf(&b, w.DeptLast, l.LastReport.Format("2006-01-02"))
		}
	}
	return fmt.Sprintf(w.DeptTitle, len(lines), bound) + b.String()
}

func (t *Texts) tasks(dept string, open []TaskLine) string {
	w := &t.lists
	if len(open) == 0 {
		return fmt.Sprintf(w.TasksDone, e(dept))
	}
	var b strings.Builder
	fmt.Fprintf(&b, w.TasksTitle, e(dept), len(open))
	for _, l := range open {
		fmt.Fprintf(&b, w.TaskItem, colorMark(l.Color), l.ID, goalShort(l.Goal, 40)+t.metric(l.Metric), l.Deadline.Format("2006-01-02"), t.days(l.DaysLeft), t.progress(l.Status, l.Percent))
	}
	b.WriteString(w.TasksFooter)
	return b.String()
}

func (t *Texts) taskStatus(task TaskLine, metric string, lines []StatusLine) string {
	w := &t.lists
	var b strings.Builder
	fmt.Fprintf(&b, w.StatusTitle, task.ID, e(task.Goal), task.Deadline.Format("2006-01-02"), t.days(task.DaysLeft))
	if metric != "" {
		fmt.Fprintf(&b, w.StatusMetric, goalShort(metric, 120))
	}
	for _, l := range lines {
		role := ""
		if l.Lead {
			role = w.StatusLead
		}
		fmt.Fprintf(&b, w.StatusLine, colorMark(l.Color), e(l.Department), role, t.progress(l.Status, l.Percent))
		if !l.SnoozedUntil.IsZero() {
			fmt.Fprintf(&b, w.StatusSnoozed, l.SnoozedUntil.Format("2006-01-02"))
		}
		if !l.At.IsZero() {
			fmt.Fprintf(&b, w.StatusAt, l.At.Format("01-02 15:04"))
		}
		if l.Text != "" || l.Attachment != nil {
			fmt.Fprintf(&b, w.StatusText, e(l.By), strings.TrimSpace(goalShort(l.Text, 200)+" "+t.file(l.Attachment)))
		}
	}
	return b.String()
}

func (t *Texts) nudge(dept string, items []NudgeItem) string {
	w := &t.lists
	if len(items) == 1 {
		it := items[0]
		return fmt.Sprintf(w.NudgeOne, w.NudgeStages[it.Stage], colorMark(it.Color), it.Task, e(it.Goal)+t.metric(it.Metric),
			it.Deadline.Format("2006-01-02"), t.days(it.DaysLeft), t.progress(it.Status, it.Percent))
	}
	var b strings.Builder
	fmt.Fprintf(&b, w.NudgeTitle, e(dept), len(items))
	for _, it := range items {
		fmt.Fprintf(&b, w.NudgeItem, colorMark(it.Color), it.Task, goalShort(it.Goal, 40)+t.metric(it.Metric), w.NudgeStages[it.Stage],
			it.Deadline.Format("2006-01-02"), t.days(it.DaysLeft), t.progress(it.Status, it.Percent))
	}
	fmt.Fprintf(&b, w.NudgeFooter, items[0].Task)
	return b.String()
}

// metric is a goal's companion in a list: the metric shortened, escaped, "" for none.
func (t *Texts) metric(m string) string {
	if m = ShortMetric(m); m == "" {
		return ""
	}
	return fmt.Sprintf(t.lists.ItemMetric, e(m))
}

// file names an attachment, escaped; "" for none.
func (t *Texts) file(a *store.Attachment) string {
	if a == nil {
		return ""
	}
	name := a.FileName
	if name == "" {
		if name = t.lists.FileKinds[a.Kind]; name == "" {
			name = t.lists.FileKinds[""]
		}
	}
	return fmt.Sprintf(t.lists.StatusFile, e(name))
}

// useLists wires a language's words into the shared layouts.
func (t *Texts) useLists(w listWords) {
	t.lists = w
	t.Departments, t.Tasks, t.TaskStatus, t.Nudge = t.departments, t.tasks, t.taskStatus, t.nudge
}

// metricRunes is about what fits beside a goal on one line of a phone's chat; minClause keeps
// a lead-in such as "一是：" from being taken for the first clause.
const (
	metricRunes = 30
	minClause   = 4
)

// ShortMetric shortens a task's 量化指标 for a chat line, so that tasks sharing one goal
// (#24–#28) can be told apart. A metric of up to 30 characters is kept whole. A longer one is
// cut after its first clause (at ，。；： and the like, but not inside brackets or in a ratio
// such as 20：1) when that ends within 30 characters; else at the last 、 or space past half
// of that; else at 30, backing off a number or a Latin word. The cut is between whole
// characters and is marked "…". It returns plain text: the texts of this package escape it.
func ShortMetric(metric string) string {
	s := strings.Join(strings.Fields(metric), " ")
	r := []rune(s)
	if len(r) <= metricRunes || len(trimPauses(r)) <= metricRunes {
		return s
	}
	cut, depth := -1, 0
	weak := -1
	for i := 0; i <= metricRunes; i++ {
		c := r[i]
		switch {
		case strings.ContainsRune(openers, c):
			depth++
		case strings.ContainsRune(closers, c):
			depth = max(depth-1, 0)
		}
		if depth > 0 || i < minClause {
			continue
		}
		if clauseEnd(r, i) {
			cut = i
			break
		}
		if i >= metricRunes/2 && (c == '、' || c == ' ') {
			weak = i
		}
	}
	switch {
	case cut >= 0:
	case weak >= 0:
		cut = weak
	default:
		// No pause to cut at: cut at the limit, but not inside a number or a Latin word.
		cut = metricRunes
		for cut > metricRunes/2 && numberish(r[cut-1]) && numberish(r[cut]) {
			cut--
		}
		if cut == metricRunes/2 {
			cut = metricRunes
		}
		// Nor between a character and the marks or joiners that belong to it (👩‍💻, é).
		for cut > 1 && (joined(r[cut]) || r[cut-1] == zwj) {
			cut--
		}
	}
	return string(trimPauses(r[:cut])) + "…"
}

const (
	openers = "《（(“「『【[‘"
	closers = "》）)”」』】]’"
	pauses  = "，。；：！？、,.;:!? " + openers
)

// clauseEnd reports whether r[i] ends a clause: Chinese full stops and commas, or Latin ones
// followed by a space. Between two digits (20：1, 1,000, 99.5) it does not.
func clauseEnd(r []rune, i int) bool {
	c := r[i]
	if i > 0 && i+1 < len(r) && isDigit(r[i-1]) && isDigit(r[i+1]) {
		return false
	}
	switch c {
	case '，', '。', '；', '：', '！', '？':
		return true
	case ',', '.', ';', ':', '!', '?':
		return i+1 == len(r) || r[i+1] == ' '
	}
	return false
}

func isDigit(c rune) bool { return c >= '0' && c <= '9' || c >= '０' && c <= '９' }

// numberish runes hold together: "35%", "99.5", "1+X" and Latin words are not cut.
func numberish(c rune) bool {
	return c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || strings.ContainsRune("%.+-", c)) ||
		isDigit(c) || c == '％' || c == '‰'
}

const zwj = '\u200d'

func joined(c rune) bool {
	return c == zwj || unicode.In(c, unicode.Mn, unicode.Me) || c >= 0x1f3fb && c <= 0x1f3ff // skin tones
}

// trimPauses drops the punctuation and spaces a cut leaves at the end.
func trimPauses(r []rune) []rune {
	for len(r) > 0 && strings.ContainsRune(pauses, r[len(r)-1]) {
		r = r[:len(r)-1]
	}
	return r
}
