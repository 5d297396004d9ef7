// Package i18n holds every text duban shows to people, one file per language (zh.go, en.go),
// so that wording is changed in one place and both languages always say the same things.
//
// Every function escapes the strings it is given for Telegram's HTML parse mode: callers pass
// department names, goals and users' words as they are.
package i18n

import (
	"html"
	"time"

	"github.com/duban/duban/store"
)

// Texts is everything said in one language. Every field must be set in every language; a
// test checks that none is left empty.
type Texts struct {
	StatusNames map[store.Status]string // 进行中, …
	// CSV export header, one per column: id, area, goal, department, status, percent,
	// last update time, last update text, deadline, days left (negative: overdue), warning.
	CSVHeader []string
	// NotInPlan stands for the goal of a task that has updates in the record but is no longer
	// in tasks.yaml (a revision removed it): the export with -all keeps its record.
	NotInPlan string
	// ColorNames are the three-colour warnings (三色督办) in words, "" for none.
	ColorNames map[string]string
	// Workbook names the xlsx export's sheets and heads those the CSV has no header for.
	Workbook WorkbookWords
	// Commands is the command menu: name and description.
	Commands [][2]string

	Welcome        func(admin bool) string
	Help           func(admin bool) string
	AddedToGroup   func(botUsername string) string
	UnknownCommand func(cmd string) string
	// AdminOnly refuses an admin command and says how to become one; user is 0 when unknown
	// (an anonymous group admin).
	AdminOnly func(user int64) string

	NotBound         func() string
	NeedTaskNumber   func() string
	NeedTaskNumberOf func(tasks []int) string
	UnknownTask      func(id int) string
	NotYourTask      func(id int, department string) string
	NothingRecorded  func(refusals []string) string
	CouldNotRecord   func() string
	ReportUsage      func() string
	// ReportNeedsText answers a report that says nothing ("/report 46").
	ReportNeedsText func(task int) string
	// Recorded is one line of an acknowledgement; RecordedAll puts the lines together.
	Recorded    func(l RecordedLine) string
	RecordedAll func(lines []string, anyDone bool) string
	// Asked follows the line of a report whose completion was uncertain: it says how it was
	// read (doubt is report.Doubt: "date", "part", "mostly" or "mixed") and asks for a press.
	// AskChoice labels the buttons ("" status: keep it as a note); AskKept and AskCorrected
	// answer a press.
	Asked        func(task int, doubt string) string
	AskChoice    func(s store.Status) string
	AskKept      func(task int) string
	AskCorrected func(task int, s store.Status) string

	Button              func(s store.Status) string
	ButtonExpired       func() string
	ButtonInvalid       func() string
	ButtonRecorded      func(s store.Status) string
	ButtonInviteDetails func(task int, s store.Status) string

	BindUsage   func() string
	BindInGroup func() string
	BindBadCode func() string
	Bound       func(department string, tasks int) string

	InviteUsage       func() string
	InviteGroup       func(group string, members []string) string
	UnknownDepartment func(name string) string
	Invite            func(department, code, link string, expires time.Time) string

	UnbindUsage        func() string
	NotBoundDepartment func(department string) string
	Unbound            func(department string) string
	BindingBroken      func(department, reason string) string
	// BindTaken refuses a /bind by someone not an admin in a chat already bound.
	BindTaken func(department string) string
	// BindingMoved tells the supervisors that a department's binding moved to another chat,
	// BindingTaken that a chat bound to department now belongs to taker; by says who did it
	// (a person, config.yaml). ChatNoLongerBound tells the chat itself; now is the department
	// it belongs to now, "" for none.
	BindingMoved      func(department string, oldChat, newChat int64, by string) string
	BindingTaken      func(department string, chat int64, taker, by string) string
	ChatNoLongerBound func(department, now, by string) string
	// ConfigOldChat: config.yaml names the id a group had before it became a supergroup.
	// ConfigChatHeld: config.yaml gives department a chat another holds by /bind.
	ConfigOldChat  func(department string, oldChat, newChat int64) string
	ConfigChatHeld func(department string, chat int64, holder string) string

	Departments func(lines []DepartmentLine) string
	Tasks       func(department string, open []TaskLine) string
	StatusUsage func() string
	TaskStatus  func(task TaskLine, metric string, lines []StatusLine) string

	DigestNotHere     func() string
	DigestUnavailable func() string

	// A plan file (xlsx, docx, csv, txt) an admin sends in a private chat: what importing it
	// would do, never applied from the chat. PlanPreview heads the import's summary (report,
	// as duban import prints it) and says tasks.yaml follows as a document; PlanProblems heads
	// the list of problems found; PlanTooBig and PlanUnreadable refuse the file.
	PlanPreview    func(file, report string) string
	PlanProblems   func(file string, problems []string) string
	PlanTooBig     func(file string, maxMB int) string
	PlanUnreadable func(file string) string
	PlanDocument   func(file string) string // the caption of the tasks.yaml sent back
	// WhoAmI shows the user's id (what goes into telegram.admins; 0: hidden, an anonymous
	// admin) and, in a group, the chat's.
	WhoAmI func(user, chat int64, department string, admin, supervisors, private bool) string

	// The web view's sign-in (/web). WebLink gives a one-time link, valid minutes; department
	// "" reads everything. WebOff: web.url is not set. WebNotHere refuses a group that is
	// neither the supervisors' nor bound to a department. WebLoggedOut and WebRevoked say how
	// many sessions ended; WebNoUser refuses a logout by someone Telegram hides (an anonymous
	// group admin).
	WebLink      func(link, department string, minutes int) string
	WebOff       func() string
	WebNotHere   func() string
	WebUsage     func() string
	WebLoggedOut func(sessions int) string
	WebRevoked   func(user int64, sessions int) string
	WebNoUser    func() string

	Nudge             func(department string, items []NudgeItem) string
	Escalations       func(items []EscalationLine) string
	SupervisorsTick   func(items []EscalationLine, unboundDepartments, unboundOverdue int) string // Escalations, then the line summing up departments without a chat (unless both are 0)
	SupervisorDigest  func(d Digest) string
	DepartmentDigests func(d DepartmentDigest) string
	Snoozed           func(task int, department string, until time.Time) string
	SnoozeUsage       func() string
	SnoozeTooLong     func(maxDays int) string

	// The shared layouts' words (digest.go) and the language's way with days and progress.
	digest   digestWords
	lists    listWords
	days     func(n int) string
	progress func(s store.Status, percent *int) string
}

// WorkbookWords are the xlsx export's words. Its 台账 sheet has the CSV's columns
// (CSVHeader).
type WorkbookWords struct {
	LedgerSheet, UpdatesSheet, DepartmentsSheet string
	// UpdatesHeader: update id, task, department, time, by, status, percent, text,
	// attachment, corrects, hash.
	UpdatesHeader []string
	// DepartmentsHeader: department, tasks, done, overdue, last report, unanswered reminders.
	DepartmentsHeader []string
}

// RecordedLine is one task of an acknowledgement.
type RecordedLine struct {
	Task       int
	Goal       string
	Metric     string // 量化指标 as written; the layout shortens it
	Status     store.Status
	Percent    *int
	Value      *float64
	Correction bool
	Attachment *store.Attachment
}

// DepartmentLine is one row of /departments.
type DepartmentLine struct {
	Name       string
	Bound      bool
	Chat       int64
	Title      string
	Broken     string
	Tasks      int
	LastReport time.Time // zero: never
}

// TaskLine is one task as a department sees it.
type TaskLine struct {
	ID       int
	Goal     string
	Metric   string // 量化指标 as written; the layouts shorten it (ShortMetric)
	Deadline time.Time
	DaysLeft int // negative: overdue
	Status   store.Status
	Percent  *int
	Color    string // "", "blue", "yellow", "red"
}

// StatusLine is one department's line in /status.
type StatusLine struct {
	Department   string
	Lead         bool
	Status       store.Status
	Percent      *int
	Color        string
	SnoozedUntil time.Time
	At           time.Time // zero: never reported
	Text, By     string    // empty when the viewer may not see them
	// Attachment is the file sent with the last report, nil if none or hidden like Text.
	Attachment *store.Attachment
}

// NudgeItem is one task in a nudge.
type NudgeItem struct {
	Task     int
	Goal     string
	Metric   string // 量化指标 as written, "" for none; the layouts shorten it (ShortMetric)
	Deadline time.Time
	DaysLeft int
	Stage    string // "before", "overdue" or "stale"
	Color    string // "", "blue", "yellow", "red" (三色督办)
	Status   store.Status
	Percent  *int
}

// EscalationLine is one item the supervisors are told about.
type EscalationLine struct {
	Task       int
	Goal       string
	Department string
	Kind       string // "overdue" or "unanswered"
	DaysLeft   int
	Unanswered int
	Status     store.Status
	Percent    *int
}

// Digest is the supervisors' weekly digest.
type Digest struct {
	Date     time.Time
	Areas    []AreaCount
	Red      []DigestItem // overdue
	Yellow   []DigestItem // behind schedule or unanswered
	Blue     []DigestItem // deadline near
	Snoozed  []DigestItem
	Silent   []SilentDepartment
	Unbound  []string       // departments without a chat that hold open tasks
	Updates  []DigestUpdate // received in the last week
	DueSoon  []DigestItem   // deadline within 30 days
	Overdue  []DepartmentItems
	AllClear bool
	// UnboundOverdue counts the overdue items of the Unbound departments, which Overdue leaves
	// out: they are escalated once bound.
	UnboundOverdue int
}

// AreaCount is one 重点工作 at a glance.
type AreaCount struct {
	Area                                  string
	Done, InProgress, Blocked, NotStarted int
}

// DigestItem is one department on one task.
type DigestItem struct {
	Task       int
	Goal       string
	Department string
	DaysLeft   int
	Status     store.Status
	Percent    *int
	Expected   int // -1: no span to judge by
	Until      time.Time
}

// DepartmentItems groups overdue task numbers by department.
type DepartmentItems struct {
	Department string
	Tasks      []int
}

// SilentDepartment has not reported for longer than stale_after.
type SilentDepartment struct {
	Department string
	Last       time.Time // zero: never
}

// DigestUpdate is one update received this week.
type DigestUpdate struct {
	Task       int
	Department string
	At         time.Time
	Status     store.Status
	Percent    *int
	Text       string
	By         string
}

// DepartmentDigest is one department's weekly list of its open tasks.
type DepartmentDigest struct {
	Department string
	Open       []DigestTask
}

// DigestTask is one open task in a department's digest.
type DigestTask struct {
	TaskLine
	Color    string
	LastText string
	LastAt   time.Time
}

// For returns the texts of a language ("zh" or "en"); anything else gets Chinese, the default.
func For(lang string) *Texts {
	if lang == "en" {
		return &english
	}
	return &chinese
}

// StatusName is a status as people read it; an unknown one is shown as stored.
func (t *Texts) StatusName(s store.Status) string {
	if name, ok := t.StatusNames[s]; ok {
		return name
	}
	return string(s)
}

// AttachmentName names a file sent with a report in plain text, not escaped (the CSV export
// shows it): its file name, or for a photo, voice, … the word for its kind; "" for none.
func (t *Texts) AttachmentName(a *store.Attachment) string {
	switch {
	case a == nil:
		return ""
	case a.FileName != "":
		return a.FileName
	case t.lists.FileKinds[a.Kind] != "":
		return t.lists.FileKinds[a.Kind]
	}
	return t.lists.FileKinds[""]
}

var e = html.EscapeString

// colorMark is the three colours as people see them in chat.
func colorMark(c string) string {
	switch c {
	case "red":
		return "🔴"
	case "yellow":
		return "🟡"
	case "blue":
		return "🔵"
	}
	return ""
}

// goalShort keeps a nudge readable: a goal is cut to n characters.
func goalShort(goal string, n int) string {
	r := []rune(goal)
	if len(r) <= n {
		return e(goal)
	}
	return e(string(r[:n])) + "…"
}
