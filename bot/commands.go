package bot

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// CodeLifetime is how long a binding code from /invite works.
const CodeLifetime = 24 * time.Hour

// MaxSnooze is the longest /snooze: a pause is for a holiday or a wait on another office, and
// one longer than a quarter would quietly take an item out of 督办.
const MaxSnooze = 90 * 24 * time.Hour

func (b *Bot) onCommand(ctx context.Context, updateID int64, m *models.Message, cmd, args string) error {
	st := b.state()
	t := st.texts
	admin := b.isAdmin(userID(m.From))
	switch cmd {
	case "start":
		if args != "" && m.Chat.Type != models.ChatTypePrivate {
			return b.bind(ctx, m, args) // the startgroup deep link: "/start CODE" in the group
		}
		b.reply(ctx, m, t.Welcome(admin)+"\n\n"+t.Help(admin))
	case "help":
		b.reply(ctx, m, t.Help(admin))
	case "bind":
		if args == "" {
			b.reply(ctx, m, t.BindUsage())
			return nil
		}
		return b.bind(ctx, m, args)
	case "invite":
		if !admin {
			b.reply(ctx, m, t.AdminOnly(personID(m)))
			return nil
		}
		return b.invite(ctx, m, args)
	case "unbind":
		if !admin {
			b.reply(ctx, m, t.AdminOnly(personID(m)))
			return nil
		}
		return b.unbind(ctx, m, args)
	case "departments":
		if !admin {
			b.reply(ctx, m, t.AdminOnly(personID(m)))
			return nil
		}
		return b.departments(ctx, m)
	case "report":
		if args == "" {
			b.reply(ctx, m, t.ReportUsage())
			return nil
		}
		return b.report(ctx, updateID, m, args, sourceCommand, false)
	case "tasks":
		return b.tasks(ctx, m)
	case "status":
		return b.status(ctx, m, args)
	case "digest":
		if !admin && !b.isSupervisorsChat(m.Chat.ID) {
			b.reply(ctx, m, t.DigestNotHere())
			return nil
		}
		if b.digest == nil {
			b.reply(ctx, m, t.DigestUnavailable())
			return nil
		}
		text, err := b.digest.Digest(ctx, b.now())
		if err != nil {
			return retry(err)
		}
		b.reply(ctx, m, text)
	case "snooze":
		return b.snooze(ctx, m, args, admin)
	case "web":
		return b.webCommand(ctx, m, args)
	case "whoami":
		binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
		if err != nil {
			return err
		}
		dept := ""
		if bound {
			dept = binding.Department
		}
		b.reply(ctx, m, t.WhoAmI(personID(m), m.Chat.ID, dept, admin, b.isSupervisorsChat(m.Chat.ID), m.Chat.Type == models.ChatTypePrivate))
	default:
		if m.Chat.Type == models.ChatTypePrivate {
			b.reply(ctx, m, t.UnknownCommand(cmd))
		}
	}
	return nil
}

// snooze pauses one item's nudges until a date: "/snooze 12 7d", by the department for its
// own task, or by an admin for any department ("/snooze 12 7d 市教育局").
func (b *Bot) snooze(ctx context.Context, m *models.Message, args string, admin bool) error {
	st := b.state()
	t := st.texts
	fields := strings.Fields(args)
	if len(fields) < 2 {
		b.reply(ctx, m, t.SnoozeUsage())
		return nil
	}
	id, err := strconv.Atoi(strings.TrimPrefix(fields[0], "#"))
	span, derr := config.ParseDuration(fields[1])
	if err != nil || derr != nil {
		b.reply(ctx, m, t.SnoozeUsage())
		return nil
	}
	if time.Duration(span) > MaxSnooze {
		b.reply(ctx, m, t.SnoozeTooLong(int(MaxSnooze/(24*time.Hour))))
		return nil
	}
	task, ok := st.plan.Task(id)
	if !ok {
		b.reply(ctx, m, t.UnknownTask(id))
		return nil
	}
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	var dept string
	switch {
	case len(fields) > 2 && admin:
		name := strings.Join(fields[2:], " ")
		d, ok := b.department(name)
		if !ok {
			b.reply(ctx, m, t.UnknownDepartment(name))
			return nil
		}
		dept = d
	case len(fields) > 2:
		b.reply(ctx, m, t.AdminOnly(personID(m)))
		return nil
	case bound:
		dept = binding.Department
	default:
		b.refuseUnbound(ctx, m)
		return nil
	}
	if !slices.Contains(task.Responsible, dept) {
		b.reply(ctx, m, t.NothingRecorded([]string{t.NotYourTask(id, dept)}))
		return nil
	}
	until := b.now().Add(time.Duration(span))
	if err := b.store.Snooze(ctx, id, dept, until); err != nil {
		return retry(err)
	}
	b.reply(ctx, m, t.Snoozed(id, dept, until.In(st.cfg.Location)))
	return nil
}

// bind redeems a code in the group it binds.
func (b *Bot) bind(ctx context.Context, m *models.Message, code string) error {
	t := b.state().texts
	if m.Chat.Type == models.ChatTypePrivate {
		b.reply(ctx, m, t.BindInGroup())
		return nil
	}
	code = strings.TrimSpace(code)
	dept, err := b.store.RedeemCode(ctx, code, b.now())
	if errors.Is(err, store.ErrCodeInvalid) {
		// The same /bind delivered again after it worked (the offset was not saved) finds
		// its code used: the chat's binding says it worked.
		if binding, bound, berr := b.chatDepartment(ctx, m.Chat.ID); berr != nil {
			return berr
		} else if bound && binding.BoundBy == userID(m.From) && b.now().Sub(binding.BoundAt) < CodeLifetime {
			b.reply(ctx, m, t.Bound(binding.Department, len(b.state().plan.TasksFor(binding.Department))))
			return nil
		}
		b.reply(ctx, m, t.BindBadCode())
		return nil
	}
	if err != nil {
		return retry(err)
	}
	// Put the code back when it binds nothing, so that it can be used (or this update retried).
	restore := func() {
		if cerr := b.store.CreateCode(context.WithoutCancel(ctx), code, dept, b.now().Add(CodeLifetime)); cerr != nil {
			b.log.Error("binding code could not be restored: invite again", "department", dept, "err", cerr)
		}
	}
	// A chat bound to a department changes to another only by an admin: a code that leaked,
	// or a clerk's slip, must not take a department's chat from it.
	if !b.isAdmin(personID(m)) {
		binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
		if err != nil {
			restore()
			return err
		}
		if bound && binding.Department != dept {
			restore()
			b.log.Warn("bind refused: the chat is another department's", "chat", m.Chat.ID, "department", binding.Department,
				"code_for", dept, "by", personName(m))
			b.reply(ctx, m, t.BindTaken(binding.Department))
			return nil
		}
	}
	err = b.bindChat(ctx, store.Binding{Department: dept, ChatID: m.Chat.ID, Title: m.Chat.Title, BoundAt: b.now(), BoundBy: userID(m.From)}, personName(m))
	if err != nil {
		// Redeeming and binding are two writes; putting the code back keeps a failure between
		// them from costing it.
		restore()
		return retry(err)
	}
	b.reply(ctx, m, t.Bound(dept, len(b.state().plan.TasksFor(dept))))
	return nil
}

// invite makes a one-time code for a department and the deep link that binds a group with it.
func (b *Bot) invite(ctx context.Context, m *models.Message, args string) error {
	st := b.state()
	t := st.texts
	name := strings.TrimSpace(args)
	if name == "" {
		b.reply(ctx, m, t.InviteUsage())
		return nil
	}
	dept, ok := b.department(name)
	if !ok {
		if st.cfg.IsGroup(name) {
			b.reply(ctx, m, t.InviteGroup(name, st.cfg.Members(name)))
		} else {
			b.reply(ctx, m, t.UnknownDepartment(name))
		}
		return nil
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	expires := b.now().Add(CodeLifetime)
	if err := b.store.CreateCode(ctx, code, dept, expires); err != nil {
		return retry(err)
	}
	link := fmt.Sprintf("https://t.me/%s?startgroup=%s", b.username, code)
	b.reply(ctx, m, t.Invite(dept, code, link, expires.In(st.cfg.Location)))
	return nil
}

// personID is the id of the person who sent m, 0 when Telegram hides it: an anonymous group
// admin or a channel writes as the chat, and m.From is then a stand-in bot.
func personID(m *models.Message) int64 {
	if m.SenderChat != nil || m.From == nil || m.From.IsBot {
		return 0
	}
	return m.From.ID
}

// department resolves a name a person typed (an alias or a department) to a department.
func (b *Bot) department(name string) (string, bool) {
	c := b.state().cfg
	if c.IsGroup(name) {
		return "", false
	}
	members := c.Members(name)
	if len(members) != 1 {
		return "", false
	}
	return members[0], true
}

// newCode is 20 random base32 characters: unguessable, and inside the deep-link alphabet.
func newCode() (string, error) {
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make binding code: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)), nil
}

// unbind releases a department's chat: the one named, or this chat's.
func (b *Bot) unbind(ctx context.Context, m *models.Message, args string) error {
	t := b.state().texts
	var dept string
	if name := strings.TrimSpace(args); name != "" {
		d, ok := b.department(name)
		if !ok {
			b.reply(ctx, m, t.UnknownDepartment(name))
			return nil
		}
		dept = d
	} else {
		binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
		if err != nil {
			return err
		}
		if !bound {
			b.reply(ctx, m, t.UnbindUsage())
			return nil
		}
		dept = binding.Department
	}
	err := b.store.Unbind(ctx, dept)
	if errors.Is(err, store.ErrNotFound) {
		b.reply(ctx, m, t.NotBoundDepartment(dept))
		return nil
	}
	if err != nil {
		return retry(err)
	}
	b.log.Info("binding released", "department", dept, "by", personName(m))
	b.reply(ctx, m, t.Unbound(dept))
	return nil
}

// departments lists every department with its chat and when it last reported.
func (b *Bot) departments(ctx context.Context, m *models.Message) error {
	st := b.state()
	bindings, err := b.store.Bindings(ctx)
	if err != nil {
		return retry(err)
	}
	states, err := b.store.Latest(ctx)
	if err != nil {
		return retry(err)
	}
	last := map[string]time.Time{}
	for _, s := range states {
		if s.Last.At.After(last[s.Department]) {
			last[s.Department] = s.Last.At
		}
	}
	byDept := map[string]store.Binding{}
	for _, bd := range bindings {
		byDept[bd.Department] = bd
	}
	lines := make([]i18n.DepartmentLine, 0, len(st.cfg.DepartmentNames))
	for _, d := range st.cfg.DepartmentNames {
		bd, bound := byDept[d]
		line := i18n.DepartmentLine{Name: d, Bound: bound, Chat: bd.ChatID, Title: bd.Title, Broken: bd.Broken,
			Tasks: len(st.plan.TasksFor(d))}
		if at, ok := last[d]; ok {
			line.LastReport = at.In(st.cfg.Location)
		}
		lines = append(lines, line)
	}
	b.reply(ctx, m, st.texts.Departments(lines))
	return nil
}

// tasks lists this chat's department's open tasks, most urgent first.
func (b *Bot) tasks(ctx context.Context, m *models.Message) error {
	st := b.state()
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	if !bound {
		b.refuseUnbound(ctx, m)
		return nil
	}
	view, err := b.policyState(ctx)
	if err != nil {
		return err
	}
	now := b.now()
	var open []i18n.TaskLine
	for _, task := range st.plan.TasksFor(binding.Department) {
		a := scheduler.Assess(task, binding.Department, view, scheduler.SettingsFrom(st.cfg), now)
		if a.Done {
			continue
		}
		open = append(open, taskLine(task, a, st.cfg.Location))
	}
	slices.SortStableFunc(open, func(a, c i18n.TaskLine) int { return cmp.Compare(a.DaysLeft, c.DaysLeft) })
	b.reply(ctx, m, st.texts.Tasks(binding.Department, open))
	return nil
}

func taskLine(task *config.Task, a scheduler.Assessment, loc *time.Location) i18n.TaskLine {
	return i18n.TaskLine{
		ID: task.ID, Goal: task.Goal, Metric: task.Metric, Deadline: a.Deadline.In(loc), DaysLeft: a.DaysLeft,
		Status: a.Status, Percent: a.Percent, Color: string(a.Color),
	}
}

// policyState reads what the reminder policy judges by, so that the colours the bot shows are
// the ones the scheduler acts on.
func (b *Bot) policyState(ctx context.Context) (*scheduler.State, error) {
	view, _, err := b.policyView(ctx)
	return view, err
}

// policyView is policyState with the latest states it was made of, for what the policy does
// not carry (an update's attachment).
func (b *Bot) policyView(ctx context.Context) (*scheduler.State, []store.State, error) {
	latest, err := b.store.Latest(ctx)
	if err != nil {
		return nil, nil, retry(err)
	}
	ledger, err := b.store.Ledger(ctx)
	if err != nil {
		return nil, nil, retry(err)
	}
	snoozes, err := b.store.Snoozes(ctx)
	if err != nil {
		return nil, nil, retry(err)
	}
	return scheduler.NewState(latest, ledger, snoozes), latest, nil
}

// status shows every department on a task, the lead first. The lead, the supervisors and the
// admins see what each department last wrote; another department sees its own words and the
// others' statuses. Nobody else sees anything: not a stranger in a private chat, nor a group
// bound to no department.
func (b *Bot) status(ctx context.Context, m *models.Message, args string) error {
	st := b.state()
	t := st.texts
	id, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(args), "#"))
	if err != nil {
		b.reply(ctx, m, t.StatusUsage())
		return nil
	}
	task, ok := st.plan.Task(id)
	if !ok {
		b.reply(ctx, m, t.UnknownTask(id))
		return nil
	}
	binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
	if err != nil {
		return err
	}
	admin := b.isAdmin(userID(m.From))
	// Anyone can write to the bot or add it to a group: a task's record is for those the plan
	// names. In a private chat that is the admins; a group must be a department's or the
	// supervisors'.
	switch {
	case m.Chat.Type == models.ChatTypePrivate && !admin:
		b.reply(ctx, m, t.AdminOnly(personID(m)))
		return nil
	case m.Chat.Type != models.ChatTypePrivate && !bound && !b.isSupervisorsChat(m.Chat.ID):
		b.refuseUnbound(ctx, m)
		return nil
	}
	view, latest, err := b.policyView(ctx)
	if err != nil {
		return err
	}
	files := map[string]*store.Attachment{}
	for _, s := range latest {
		if s.Task == id {
			files[s.Department] = s.Last.Attachment
		}
	}
	seeAll := admin || b.isSupervisorsChat(m.Chat.ID) || (bound && task.IsLead(binding.Department))
	now := b.now()
	settings := scheduler.SettingsFrom(st.cfg)
	lines := make([]i18n.StatusLine, 0, len(task.Responsible))
	var head scheduler.Assessment
	for i, d := range task.Responsible {
		a := scheduler.Assess(task, d, view, settings, now)
		if i == 0 {
			head = a
		}
		line := i18n.StatusLine{Department: d, Lead: task.IsLead(d), Status: a.Status, Percent: a.Percent, Color: string(a.Color)}
		if !a.SnoozedUntil.IsZero() {
			line.SnoozedUntil = a.SnoozedUntil.In(st.cfg.Location)
		}
		if a.HasReported {
			line.At = a.LastReport.In(st.cfg.Location)
			if seeAll || (bound && binding.Department == d) {
				line.Text, line.By, line.Attachment = a.LastText, a.LastReporter, files[d]
			}
		}
		lines = append(lines, line)
	}
	b.reply(ctx, m, t.TaskStatus(taskLine(task, head, st.cfg.Location), task.Metric, lines))
	return nil
}

// onMembership notices the bot being removed from a chat — its binding is broken, and the
// supervisors are told — and being added back, which mends a broken binding.
func (b *Bot) onMembership(ctx context.Context, cm *models.ChatMemberUpdated) error {
	switch cm.NewChatMember.Type {
	case models.ChatMemberTypeLeft, models.ChatMemberTypeBanned:
		return b.ChatLost(ctx, cm.Chat.ID, "removed from the chat")
	}
	binding, bound, err := b.chatDepartment(ctx, cm.Chat.ID)
	if err != nil || !bound || binding.Broken == "" {
		return err
	}
	binding.Broken = ""
	return retry(b.store.Bind(ctx, binding))
}

// ChatLost marks the binding of a chat the bot can no longer write to as broken and tells
// the supervisors; the sender calls it on a 403.
func (b *Bot) ChatLost(ctx context.Context, chatID int64, reason string) error {
	binding, bound, err := b.chatDepartment(ctx, chatID)
	if err != nil || !bound {
		return err
	}
	if err := b.store.MarkBroken(ctx, binding.Department, reason); err != nil {
		return retry(err)
	}
	if sup := b.state().cfg.Supervisors.Chat; sup != 0 && sup != chatID {
		b.tell(ctx, sup, b.state().texts.BindingBroken(binding.Department, reason))
	}
	return nil
}

// ChatMoved keeps a binding when its group becomes a supergroup; the sender calls it.
func (b *Bot) ChatMoved(ctx context.Context, oldID, newID int64) {
	if err := b.store.MigrateChat(ctx, oldID, newID); err != nil {
		b.log.Error("binding not moved to the supergroup", "old", oldID, "new", newID, "err", err)
	}
}

// SetCommands registers the command menus in Chinese and English.
func (b *Bot) SetCommands(ctx context.Context) error {
	for _, lang := range []string{"", "zh", "en"} {
		texts := b.state().texts
		if lang != "" {
			texts = i18n.For(lang)
		}
		var cmds []models.BotCommand
		for _, c := range texts.Commands {
			cmds = append(cmds, models.BotCommand{Command: c[0], Description: c[1]})
		}
		if _, err := b.tg.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: lang}); err != nil {
			return fmt.Errorf("set commands (%q): %w", lang, err)
		}
	}
	return nil
}
