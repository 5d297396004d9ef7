package i18n

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/duban/duban/store"
)

// digestWords are the words of the escalations and digests in one language. The layout is
// here, once, so both languages say the same things in the same order; each format takes its
// arguments already escaped. Times come in the plan's zone (the scheduler converts them), so
// a date is printed as people there read it.
type digestWords struct {
	EscalationTitle string // %d items
	EscalationItem  string // department, task, goal
	EscOverdue      string // days, progress
	EscUnanswered   string // count
	UnboundHead     string // starts a tick's message that is only UnboundNote
	UnboundNote     string // departments without a chat, their overdue items

	Title        string // date
	Glance       string
	AreaLine     string // area, done, in progress, blocked, not started
	OverdueTitle string
	OverdueLine  string // department, count, task numbers
	Yellow       string
	Blue         string
	DueSoon      string
	SectionTitle string // title, count
	More         string // count
	Item         string // task, goal
	ItemDept     string // department
	ItemState    string // days, progress
	ItemExpected string // percent
	SnoozedTitle string
	SnoozedLine  string // task, department, date
	SilentTitle  string // count
	SilentNever  string // department
	SilentLast   string // department, date
	UnboundTitle string // count, names
	UnboundItems string // overdue items of the departments without a chat
	NameSep      string
	UpdatesTitle string // count
	MoreUpdates  string // count
	UpdateLine   string // date, task, department, progress, text
	AllClear     string

	DeptTitle  string // department, count
	DeptItem   string // mark, task, goal, deadline, days, progress
	DeptLast   string // date, text
	DeptFooter string // task
}

func (t *Texts) escalations(items []EscalationLine) string {
	w := &t.digest
	var b strings.Builder
	fmt.Fprintf(&b, w.EscalationTitle, len(items))
	for _, it := range items {
		fmt.Fprintf(&b, w.EscalationItem, e(it.Department), it.Task, goalShort(it.Goal, 30))
		if it.Kind == "overdue" {
			fmt.Fprintf(&b, w.EscOverdue, t.days(it.DaysLeft), t.progress(it.Status, it.Percent))
		} else {
			fmt.Fprintf(&b, w.EscUnanswered, it.Unanswered)
		}
	}
	return b.String()
}

func (t *Texts) supervisorsTick(items []EscalationLine, departments, overdue int) string {
	w := &t.digest
	if departments == 0 && overdue == 0 {
		return t.escalations(items)
	}
	note := fmt.Sprintf(w.UnboundNote, departments, overdue)
	if len(items) == 0 {
		return w.UnboundHead + note
	}
	return t.escalations(items) + "\n\n" + note
}

func (t *Texts) digestItem(it DigestItem) string {
	w := &t.digest
	s := fmt.Sprintf(w.Item, it.Task, goalShort(it.Goal, 24)) + fmt.Sprintf(w.ItemDept, e(it.Department)) +
		fmt.Sprintf(w.ItemState, t.days(it.DaysLeft), t.progress(it.Status, it.Percent))
	if it.Expected >= 0 {
		s += fmt.Sprintf(w.ItemExpected, it.Expected)
	}
	return s
}

// digestSection lists items under a title, the first limit of them.
func (t *Texts) digestSection(b *strings.Builder, title string, items []DigestItem, limit int) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, t.digest.SectionTitle, title, len(items))
	for i, it := range items {
		if i == limit {
			fmt.Fprintf(b, t.digest.More, len(items)-limit)
			break
		}
		b.WriteString("\n• " + t.digestItem(it))
	}
}

func (t *Texts) supervisorDigest(d Digest) string {
	w := &t.digest
	var b strings.Builder
	fmt.Fprintf(&b, w.Title, d.Date.Format("2006-01-02"))
	b.WriteString(w.Glance)
	for _, a := range d.Areas {
		fmt.Fprintf(&b, w.AreaLine, e(a.Area), a.Done, a.InProgress, a.Blocked, a.NotStarted)
	}
	if len(d.Overdue) > 0 {
		b.WriteString(w.OverdueTitle)
		for _, o := range d.Overdue {
			ids := make([]string, len(o.Tasks))
			for i, id := range o.Tasks {
				ids[i] = "#" + strconv.Itoa(id)
			}
			fmt.Fprintf(&b, w.OverdueLine, e(o.Department), len(o.Tasks), strings.Join(ids, " "))
		}
	}
	t.digestSection(&b, w.Yellow, d.Yellow, 20)
	t.digestSection(&b, w.Blue, d.Blue, 20)
	t.digestSection(&b, w.DueSoon, d.DueSoon, 20)
	if len(d.Snoozed) > 0 {
		b.WriteString(w.SnoozedTitle)
		for _, it := range d.Snoozed {
			fmt.Fprintf(&b, w.SnoozedLine, it.Task, e(it.Department), it.Until.Format("2006-01-02"))
		}
	}
	if len(d.Silent) > 0 {
		fmt.Fprintf(&b, w.SilentTitle, len(d.Silent))
		for _, s := range d.Silent {
			if s.Last.IsZero() {
				fmt.Fprintf(&b, w.SilentNever, e(s.Department))
			} else {
				fmt.Fprintf(&b, w.SilentLast, e(s.Department), s.Last.Format("2006-01-02"))
			}
		}
	}
	if len(d.Unbound) > 0 {
		esc := make([]string, len(d.Unbound))
		for i, u := range d.Unbound {
			esc[i] = e(u)
		}
		fmt.Fprintf(&b, w.UnboundTitle, len(d.Unbound), strings.Join(esc, w.NameSep))
		if d.UnboundOverdue > 0 {
			fmt.Fprintf(&b, w.UnboundItems, d.UnboundOverdue)
		}
	}
	fmt.Fprintf(&b, w.UpdatesTitle, len(d.Updates))
	for i, u := range d.Updates {
		if i == 30 {
			fmt.Fprintf(&b, w.MoreUpdates, len(d.Updates)-30)
			break
		}
		fmt.Fprintf(&b, w.UpdateLine, u.At.Format("01-02"), u.Task, e(u.Department), t.progress(u.Status, u.Percent), goalShort(u.Text, 60))
	}
	if d.AllClear {
		b.WriteString(w.AllClear)
	}
	return b.String()
}

func (t *Texts) departmentDigest(d DepartmentDigest) string {
	w := &t.digest
	var b strings.Builder
	fmt.Fprintf(&b, w.DeptTitle, e(d.Department), len(d.Open))
	for _, l := range d.Open {
		fmt.Fprintf(&b, w.DeptItem, colorMark(l.Color), l.ID, goalShort(l.Goal, 40), l.Deadline.Format("2006-01-02"), t.days(l.DaysLeft), t.progress(l.Status, l.Percent))
		if l.LastText != "" {
			fmt.Fprintf(&b, w.DeptLast, l.LastAt.Format("01-02"), goalShort(l.LastText, 60))
		}
	}
	first := 0
	if len(d.Open) > 0 {
		first = d.Open[0].ID
	}
	fmt.Fprintf(&b, w.DeptFooter, first)
	return b.String()
}

// useDigest wires a language's words into the shared layout.
func (t *Texts) useDigest(days func(int) string, progress func(store.Status, *int) string, w digestWords) {
	t.days, t.progress, t.digest = days, progress, w
	t.Escalations = t.escalations
	t.SupervisorsTick = t.supervisorsTick
	t.SupervisorDigest = t.supervisorDigest
	t.DepartmentDigests = t.departmentDigest
}
