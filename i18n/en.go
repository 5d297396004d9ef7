package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/store"
)

var english Texts

func init() {
	t := &english
	t.StatusNames = map[store.Status]string{
		store.StatusNotStarted: "not started",
		store.StatusInProgress: "in progress",
		store.StatusDone:       "done",
		store.StatusBlocked:    "blocked",
	}
	t.CSVHeader = []string{"id", "area", "goal", "department", "status", "percent", "last update", "last update text", "deadline", "days left (negative: overdue)", "warning"}
	t.NotInPlan = "(no longer in the plan)"
	t.ColorNames = map[string]string{"": "", "red": "red (overdue)", "yellow": "yellow (behind or unanswered)", "blue": "blue (due soon)"}
	t.Workbook = WorkbookWords{
		LedgerSheet: "Record", UpdatesSheet: "Updates", DepartmentsSheet: "Departments",
		UpdatesHeader:     []string{"update", "task", "department", "time", "by", "status", "percent", "text", "attachment", "corrects", "hash"},
		DepartmentsHeader: []string{"department", "tasks", "done", "overdue", "last report", "reminders unanswered"},
	}

	t.Commands = [][2]string{
		{"report", "Report progress: /report ID status percent notes"},
		{"tasks", "This department's open tasks"},
		{"status", "Every department's progress on a task: /status ID"},
		{"help", "How to use the bot"},
		{"snooze", "Pause a task's reminders: /snooze ID 7d"},
		{"whoami", "Show this chat and who you are"},
		{"digest", "The digest (supervisors chat or admins)"},
		{"web", "A sign-in link to the web view (admins, supervisors, departments)"},
		{"bind", "Bind this chat with a code: /bind CODE"},
		{"invite", "(admin) Make a binding code: /invite DEPARTMENT"},
		{"unbind", "(admin) Release a binding"},
		{"departments", "(admin) Every department's chat and last report"},
	}
	days := func(n int) string {
		switch {
		case n > 1:
			return fmt.Sprintf("%d days left", n)
		case n == 1:
			return "1 day left"
		case n == 0:
			return "due today"
		case n == -1:
			return "1 day overdue"
		default:
			return fmt.Sprintf("%d days overdue", -n)
		}
	}
	progress := func(s store.Status, percent *int) string {
		out := t.StatusName(s)
		if percent != nil {
			out += " " + strconv.Itoa(*percent) + "%"
		}
		return out
	}

	t.Welcome = func(bool) string {
		return "Hello! I follow up the work plan: I remind each responsible department before and after its deadlines, record the progress it reports, and send the supervisors a digest."
	}
	t.Help = func(admin bool) string {
		s := "<b>How to report progress</b>\n" +
			"• <b>Reply</b> to a reminder: done / in progress 60% plan issued / blocked: no funding yet\n" +
			"• When a reminder lists several tasks, start with the task number: #12 in progress 60% (one task a line)\n" +
			"• Or send a command: /report 12 in progress 60% plan issued\n" +
			"• A reminder about one task has buttons: in progress / done / blocked\n\n" +
			"<b>Other commands</b>\n" +
			"/tasks this department's open tasks\n/status 12 every department on task 12\n/whoami this chat and you\n/snooze 12 7d pause task 12's reminders for 7 days\n/bind CODE bind this chat to its department\n/web a sign-in link to the web view (a department's group: its own page); /web logout signs you out"
		if admin {
			s += "\n\n<b>Admins</b>\n/invite DEPARTMENT make a binding code and link\n/unbind [DEPARTMENT] release a binding\n/departments every department's chat and last report\n/digest the digest\n/web a sign-in link to the whole web view\n/web revoke USER_ID ends all of that person's web sessions"
		}
		return s
	}
	t.AddedToGroup = func(bot string) string {
		return "Thanks for adding me! An admin sends @" + e(bot) + " /invite DEPARTMENT in a private chat to get a code, then /bind CODE here binds this chat to its department."
	}
	t.UnknownCommand = func(cmd string) string {
		return "There is no /" + e(cmd) + " command. Send /help to see what there is."
	}
	t.AdminOnly = func(user int64) string {
		id := " (send me /whoami in a private chat to see it)"
		if user != 0 {
			id = fmt.Sprintf(" <code>%d</code>", user)
		}
		return "Only admins may use this command. To become one, ask whoever runs this bot to add your user id" + id +
			" to <code>telegram.admins</code> in config.yaml, then reload it (SIGHUP) or restart."
	}

	t.NotBound = func() string {
		return "This chat is not bound to a department yet, so progress cannot be recorded. An admin sends /invite DEPARTMENT for a code, then /bind CODE here."
	}
	t.NeedTaskNumber = func() string {
		return "Please name the task, for example: #12 in progress 60% plan issued. Send /tasks to see this department's tasks."
	}
	t.NeedTaskNumberOf = func(tasks []int) string {
		ids := make([]string, len(tasks))
		for i, id := range tasks {
			ids[i] = "#" + strconv.Itoa(id)
		}
		return "This reminder lists several tasks (" + strings.Join(ids, ", ") + "); start your reply with the task number, for example:\n#" + strconv.Itoa(tasks[0]) + " in progress 60% notes"
	}
	t.UnknownTask = func(id int) string { return fmt.Sprintf("There is no task #%d. ", id) }
	t.NotYourTask = func(id int, dept string) string { return fmt.Sprintf("Task #%d is not %s's. ", id, e(dept)) }
	t.NothingRecorded = func(refusals []string) string {
		return "Nothing recorded: " + strings.Join(refusals, "") + "\nSend /tasks to see this department's tasks."
	}
	t.CouldNotRecord = func() string { return "This progress could not be recorded; please try again later or ask an admin." }
	t.ReportUsage = func() string {
		return "Usage: /report ID status percent notes\nFor example: /report 12 in progress 60% plan issued\nStatus: done, in progress or blocked."
	}
	t.ReportNeedsText = func(task int) string {
		return fmt.Sprintf("Please say how #%d stands, for example: /report %d in progress 60%% notes; or reply to this message.", task, task)
	}
	t.Recorded = func(l RecordedLine) string {
		line := fmt.Sprintf("#%d ", l.Task)
		if l.Status == "" && l.Percent == nil {
			line += "note"
		} else {
			line += progress(l.Status, l.Percent)
		}
		if l.Value != nil {
			line += ", metric " + strconv.FormatFloat(*l.Value, 'f', -1, 64)
		}
		if l.Correction {
			line += " (correction)"
		}
		if f := t.file(l.Attachment); f != "" {
			line += " " + f
		}
		return line + "\n" + goalShort(l.Goal, 40) + t.metric(l.Metric)
	}
	t.RecordedAll = func(lines []string, anyDone bool) string {
		s := "Recorded " + strings.Join(lines, "\nRecorded ")
		if anyDone {
			s += "\n✅ No more reminders about the tasks that are done."
		}
		return s
	}

	t.Asked = func(task int, doubt string) string {
		q := map[string]string{
			"date":   "it gives a date, and it is not clear whether the task was done then or is planned for then.",
			"part":   "what was finished looks like one step, not necessarily the whole task.",
			"mostly": "\"mostly done\" is not done.",
			"mixed":  "it says done and still going at once.",
		}[doubt]
		return fmt.Sprintf("❓ #%d kept as a note for now: %s Please confirm with a button below; until then it is not recorded as done.", task, q)
	}
	t.AskChoice = func(s store.Status) string {
		if s == "" {
			return "Keep as a note"
		}
		return "Record: " + t.StatusName(s)
	}
	t.AskKept = func(task int) string { return fmt.Sprintf("#%d kept as a note.", task) }
	t.AskCorrected = func(task int, s store.Status) string {
		line := fmt.Sprintf("Corrected #%d to: %s", task, t.StatusName(s))
		if s == store.StatusDone {
			line += "\n✅ No more reminders about the tasks that are done."
		}
		return line
	}
	t.Button = func(s store.Status) string { return t.StatusName(s) }
	t.ButtonExpired = func() string { return "This message has expired; reply to the latest reminder." }
	t.ButtonInvalid = func() string { return "Invalid button; nothing recorded." }
	t.ButtonRecorded = func(s store.Status) string { return "Recorded: " + t.StatusName(s) }
	t.ButtonInviteDetails = func(task int, s store.Status) string {
		return fmt.Sprintf("Recorded #%d %s. Please reply to this message with the details (what was done, figures, problems).", task, t.StatusName(s))
	}

	t.BindUsage = func() string { return "Usage: /bind CODE (an admin makes the code with /invite)" }
	t.BindInGroup = func() string { return "Add me to the department's group and send /bind CODE there." }
	t.BindBadCode = func() string { return "That code is unknown, used or expired. Ask an admin for a new /invite." }
	t.Bound = func(dept string, tasks int) string {
		return fmt.Sprintf("✅ This chat is now %s's, with %d tasks.\nI will remind you here before and after deadlines; reply to a reminder or send /report ID status percent to report. /tasks lists the tasks.", e(dept), tasks)
	}

	t.InviteUsage = func() string { return "Usage: /invite DEPARTMENT, for example /invite 市教育局" }
	t.InviteGroup = func(group string, members []string) string {
		esc := make([]string, len(members))
		for i, m := range members {
			esc[i] = e(m)
		}
		return e(group) + " is a group; invite each of its departments: " + strings.Join(esc, ", ")
	}
	t.UnknownDepartment = func(name string) string {
		return "There is no department called " + e(name) + ". /departments lists them all."
	}
	t.Invite = func(dept, code, link string, expires time.Time) string {
		return fmt.Sprintf("Binding code for %s (valid until %s, once):\n<code>%s</code>\n\nOpen the link and pick the department's group:\n%s\n\nor add me to the group and send there:\n<code>/bind %s</code>",
			e(dept), expires.Format("2006-01-02 15:04"), e(code), e(link), e(code))
	}

	t.UnbindUsage = func() string { return "This chat is not bound. Usage: /unbind DEPARTMENT" }
	t.NotBoundDepartment = func(dept string) string { return e(dept) + " has no chat bound." }
	t.Unbound = func(dept string) string { return e(dept) + " is unbound; no more reminders go to its old chat." }
	t.BindingBroken = func(dept, reason string) string {
		return "⚠️ I can no longer write to " + e(dept) + "'s chat (" + e(reason) + "); its binding is marked broken. Invite it again: /invite " + e(dept)
	}
	t.BindTaken = func(dept string) string {
		return "This chat is bound to " + e(dept) + ". Only an admin can bind it to another department: an admin sends /bind CODE here, or /unbind first."
	}
	t.BindingMoved = func(dept string, oldChat, newChat int64, by string) string {
		return fmt.Sprintf("⚠️ %s's binding changed: chat <code>%d</code> → <code>%d</code> (by %s). The old chat gets no more reminders.", e(dept), oldChat, newChat, e(by))
	}
	t.BindingTaken = func(dept string, chat int64, taker, by string) string {
		return fmt.Sprintf("⚠️ Chat <code>%d</code> was %s's and is now %s's (by %s). %s has no chat now and gets no reminders: /invite %s",
			chat, e(dept), e(taker), e(by), e(dept), e(dept))
	}
	t.ChatNoLongerBound = func(dept, now, by string) string {
		if now == "" {
			return "⚠️ This chat is no longer " + e(dept) + "'s: the department was bound to another chat (by " + e(by) + "). If this is wrong, tell an admin."
		}
		return "⚠️ This chat was " + e(dept) + "'s and is now " + e(now) + "'s (by " + e(by) + "). If this is wrong, tell an admin."
	}
	t.ConfigOldChat = func(dept string, oldChat, newChat int64) string {
		return fmt.Sprintf("⚠️ config.yaml gives %s chat <code>%d</code>, which became supergroup <code>%d</code>: the binding stays on the new id. Write <code>%d</code> in config.yaml.",
			e(dept), oldChat, newChat, newChat)
	}
	t.ConfigChatHeld = func(dept string, chat int64, holder string) string {
		return fmt.Sprintf("⚠️ config.yaml gives chat <code>%d</code> to %s, but %s holds it by /bind; left as it is. Mend config.yaml, or /unbind %s first.",
			chat, e(dept), e(holder), e(holder))
	}

	t.StatusUsage = func() string { return "Usage: /status ID, for example /status 12" }

	t.DigestNotHere = func() string { return "The digest is shown in the supervisors chat or to admins." }
	t.DigestUnavailable = func() string { return "The digest is not available yet." }
	t.PlanPreview = func(file, report string) string {
		return fmt.Sprintf("📋 Import preview of %s (<b>not applied</b>):\n\n%s\n\nThe tasks.yaml it makes follows as a document. To apply it, an operator runs on the server: duban import -config config.yaml %s (with -dry-run first), then duban check, then a reload (SIGHUP).",
			e(file), e(report), e(file))
	}
	t.PlanProblems = func(file string, problems []string) string {
		return fmt.Sprintf("⚠️ %s has %d problem(s); no tasks.yaml was made. Mend the file and send it again:\n%s", e(file), len(problems), e(strings.Join(problems, "\n")))
	}
	t.PlanTooBig = func(file string, maxMB int) string {
		return fmt.Sprintf("⚠️ %s is larger than %d MB and cannot be read. Remove unrelated sheets or pictures and send it again.", e(file), maxMB)
	}
	t.PlanUnreadable = func(file string) string {
		return fmt.Sprintf("⚠️ %s could not be fetched from Telegram; send it again later.", e(file))
	}
	t.PlanDocument = func(file string) string {
		return fmt.Sprintf("tasks.yaml made from %s (a preview, not applied)", e(file))
	}
	t.WhoAmI = func(user, chat int64, dept string, admin, supervisors, private bool) string {
		yes := map[bool]string{true: "yes", false: "no"}
		if private {
			s := fmt.Sprintf("Your id: <code>%d</code>\nAdmin: %s", user, yes[admin])
			if dept != "" {
				s += "\nDepartment: " + e(dept)
			}
			if !admin {
				s += "\nThis id in <code>telegram.admins</code> of config.yaml makes you an admin."
			}
			return s
		}
		unit := "not bound"
		if dept != "" {
			unit = e(dept)
		}
		id := fmt.Sprintf("<code>%d</code>", user)
		if user == 0 {
			id = "hidden while you write anonymously; send me /whoami in a private chat"
		}
		return fmt.Sprintf("Your user id: %s\nThis chat's id: <code>%d</code>\nDepartment: %s\nSupervisors chat: %s\nAdmin: %s", id, chat, unit, yes[supervisors], yes[admin])
	}

	t.WebLink = func(link, dept string, minutes int) string {
		what := "everything"
		if dept != "" {
			what = e(dept) + "'s page only"
		}
		return fmt.Sprintf("🔗 A sign-in link to the web view (%s):\n<a href=\"%s\">%s</a>\n\nValid %d minutes, single use. Tap it to sign in; do not forward it: "+
			"whoever has it can sign in. The session lasts 12 hours; /web logout ends it at any time.", what, e(link), e(link), minutes)
	}
	t.WebOff = func() string {
		return "The web view is off. To turn it on, whoever runs this bot sets <code>web.url</code> in config.yaml (the address people open, such as https://duban.example.gov.cn), " +
			"and <code>web.listen</code> for a port of its own (else it shares <code>http.listen</code>), then restarts."
	}
	t.WebNotHere = func() string {
		return "Sign-in links to the web view go to admins in a private chat, the supervisors chat, and a department's bound group (its own page only). This group is bound to no department."
	}
	t.WebUsage = func() string {
		return "Usage: /web for a sign-in link; /web logout ends all your web sessions; /web revoke USER_ID (admins) ends all of that person's."
	}
	t.WebLoggedOut = func(n int) string {
		if n == 0 {
			return "You have no web session."
		}
		return fmt.Sprintf("Signed out: %d web session(s) ended.", n)
	}
	t.WebRevoked = func(user int64, n int) string {
		return fmt.Sprintf("Ended %d web session(s) of user <code>%d</code>.", n, user)
	}
	t.WebNoUser = func() string {
		return "Telegram hides who you are when you write anonymously, so there is no session to end. Send /web logout in a private chat."
	}

	t.useLists(listWords{
		DeptLine: "\n• %s (%d tasks): ", DeptUnbound: "not bound", DeptBroken: "⚠️ binding broken (%s)", DeptBound: "bound to %s (%d)",
		DeptNever: ", never reported", DeptLast: ", last report %s", DeptTitle: "<b>Departments</b> (%d, %d bound)",

		TasksDone:   "Every task of %s is done. 👍",
		TasksTitle:  "<b>Open tasks of %s</b> (%d, most urgent first)",
		TaskItem:    "\n%s#%d %s\n    due %s, %s; %s",
		TasksFooter: "\n\nReply, or send /report ID status percent notes, to report.",

		StatusTitle: "<b>#%d %s</b>\ndue %s, %s", StatusMetric: "\ntarget: %s", StatusLine: "\n• %s%s%s: %s",
		StatusLead: " (lead)", StatusSnoozed: ", reminders paused until %s", StatusAt: ", %s", StatusText: "\n    %s: %s",
		StatusFile: "📎 %s",
		FileKinds: map[string]string{"": "file", "document": "file", "photo": "photo", "voice": "voice message", "video": "video",
			"audio": "audio", "video_note": "video message", "animation": "animation"},
		ItemMetric: " (%s)",

		NudgeStages: map[string]string{"before": "due soon", "overdue": "overdue", "stale": "please update"},
		NudgeOne:    "<b>[Reminder] %s</b>\n%s#%d %s\ndue %s, %s; now: %s\n\nPress a button below, or <b>reply to this message</b> with progress, for example: in progress 60%% plan issued",
		NudgeTitle:  "<b>[Reminder] %s</b>: please report on these %d tasks:",
		NudgeItem:   "\n%s#%d %s\n    %s: due %s, %s; now: %s",
		NudgeFooter: "\n\n<b>Reply to this message</b>, starting with the task number (one task a line), for example:\n#%d in progress 60%% plan issued",
	})

	t.useDigest(days, progress, digestWords{
		EscalationTitle: "<b>[Escalation]</b> %d items need attention:",
		EscalationItem:  "\n• %s #%d %s: ",
		EscOverdue:      "🔴 %s, %s",
		EscUnanswered:   "🟡 %d reminders unanswered",
		UnboundHead:     "<b>[Escalation]</b> ",
		UnboundNote:     "%d departments have no chat yet; their %d overdue items will be escalated once they are bound (/digest lists them).",
		Title:           "<b>[Weekly digest] %s</b>",
		Glance:          "\n\n<b>At a glance</b> (by area: done / in progress / blocked / not started)",
		AreaLine:        "\n• %s: %d / %d / %d / %d",
		OverdueTitle:    "\n\n<b>🔴 Overdue, by department</b>",
		OverdueLine:     "\n• %s (%d): %s",
		Yellow:          "🟡 Behind schedule or unanswered",
		Blue:            "🔵 Due soon",
		DueSoon:         "Due in the next 30 days",
		SectionTitle:    "\n\n<b>%s</b> (%d)",
		More:            "\n…and %d more, see duban export",
		Item:            "#%d %s",
		ItemDept:        " (%s)",
		ItemState:       ": %s, %s",
		ItemExpected:    ", expected %d%% by now",
		SnoozedTitle:    "\n\n<b>Snoozed</b>",
		SnoozedLine:     "\n• #%d %s: until %s",
		SilentTitle:     "\n\n<b>Silent departments</b> (%d)",
		SilentNever:     "\n• %s: never reported",
		SilentLast:      "\n• %s: last report %s",
		UnboundTitle:    "\n\n<b>Departments without a chat</b> (%d): %s",
		UnboundItems:    "\nTheir %d overdue items will be escalated once they are bound.",
		NameSep:         ", ",
		UpdatesTitle:    "\n\n<b>Updates this week</b> (%d)",
		MoreUpdates:     "\n…and %d more, see duban export -all",
		UpdateLine:      "\n• %s #%d %s %s: %s",
		AllClear:        "\n\nEvery task is done.",
		DeptTitle:       "<b>[Weekly digest] %s</b>: %d open tasks",
		DeptItem:        "\n%s#%d %s\n    due %s, %s; %s",
		DeptLast:        "\n    last report %s: %s",
		DeptFooter:      "\n\nReply to this message starting with the task number, for example: #%d in progress 60%% notes",
	})
	t.Snoozed = func(task int, dept string, until time.Time) string {
		return fmt.Sprintf("Reminders about #%d (%s) are paused until %s.", task, e(dept), until.Format("2006-01-02 15:04"))
	}
	t.SnoozeUsage = func() string {
		return "Usage: /snooze ID SPAN, for example /snooze 12 7d (admins may add a department: /snooze 12 7d 市教育局)"
	}
	t.SnoozeTooLong = func(maxDays int) string {
		return fmt.Sprintf("Not paused: reminders pause for at most %d days, for example /snooze 12 %dd. Snooze again when that runs out if you must.", maxDays, maxDays)
	}
}
