// Package bot is duban's Telegram side: it receives updates (long polling with an offset it
// owns, or a webhook), binds department chats, turns replies, commands and button presses
// into progress updates, and acknowledges each one once it is stored.
//
// The inbound path keeps the first promise: a reply acknowledged in chat is never lost.
// Handle records before it acknowledges, and returns an error — so that the poller holds the
// offset, or the webhook answers 503 and Telegram redelivers — whenever the store could not
// take the record. A redelivered update is recorded once (the store deduplicates on
// update_id) and acknowledged again.
//
// Handle does not wait for Telegram to take its answer: it records, queues the answer to the
// chat (answers.go) and returns, so that a chat whose answers must wait for its rate window
// holds up neither the recording nor anyone else. The poller handles each chat's updates in a
// lane of its own (lanes.go).
package bot

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
	"github.com/duban/duban/web"
)

// Store is what the bot needs of the progress store.
type Store interface {
	Record(ctx context.Context, tgUpdate int64, ups []store.Update) ([]store.Update, bool, error)
	Updates(ctx context.Context, task int) ([]store.Update, error)
	Latest(ctx context.Context) ([]store.State, error)
	MessageRef(ctx context.Context, chatID int64, messageID int) (store.Sent, bool, error)
	Confirm(ctx context.Context, sent store.Sent) error
	Bind(ctx context.Context, b store.Binding) error
	Unbind(ctx context.Context, department string) error
	Bindings(ctx context.Context) ([]store.Binding, error)
	MigrateChat(ctx context.Context, oldID, newID int64) error
	// ChatMigrations is every group known to have become a supergroup: old id → new id.
	ChatMigrations(ctx context.Context) (map[int64]int64, error)
	MarkBroken(ctx context.Context, department, reason string) error
	CreateCode(ctx context.Context, code, department string, expires time.Time) error
	RedeemCode(ctx context.Context, code string, now time.Time) (string, error)
	Snooze(ctx context.Context, task int, department string, until time.Time) error
	Snoozes(ctx context.Context) (map[string]time.Time, error)
	Ledger(ctx context.Context) (store.Ledger, error)
	// The outbox of acknowledgements (outbox.go): written before the update is confirmed,
	// deleted once sent, sent again by the next leader.
	PutAnswer(ctx context.Context, a store.Answer) error
	// RecordAnswered is Record with the acknowledgement made from what was recorded put in
	// the outbox in the same write.
	RecordAnswered(ctx context.Context, tgUpdate int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error)
	DoneAnswer(ctx context.Context, chatID, update int64) error
	Answers(ctx context.Context) ([]store.Answer, error)
}

// Telegram is what the bot calls besides sending messages.
type Telegram interface {
	AnswerCallbackQuery(ctx context.Context, p *tgbot.AnswerCallbackQueryParams) (bool, error)
	EditMessageReplyMarkup(ctx context.Context, p *tgbot.EditMessageReplyMarkupParams) (*models.Message, error)
	SetMyCommands(ctx context.Context, p *tgbot.SetMyCommandsParams) (bool, error)
}

var _ Telegram = (*tgbot.Bot)(nil)

// Sender delivers a message and returns the ids Telegram gave its parts.
type Sender interface {
	Send(ctx context.Context, m sender.Message) ([]int, error)
}

var _ Sender = (*sender.Sender)(nil)

// Digester renders the digest on demand (/digest); the scheduler provides it.
type Digester interface {
	Digest(ctx context.Context, now time.Time) (string, error)
}

// WebView signs people in to the web view (/web); *web.Server provides it, when web.url is
// set. The bot decides who gets which scope; the web view only honours it.
type WebView interface {
	// IssueLink makes a one-time sign-in link for scope, valid web.LinkTTL.
	IssueLink(ctx context.Context, scope web.Scope) (string, error)
	// RevokeUser ends every session a Telegram user signed in, and says how many.
	RevokeUser(ctx context.Context, user int64) (int, error)
}

// Options are a Bot's parts.
type Options struct {
	Config   *config.Config
	Plan     *config.Plan
	Store    Store
	Telegram Telegram
	Sender   Sender
	Username string // the bot's @username without '@', for deep links and /cmd@bot
	Token    string // only to derive the key that signs buttons; never kept or shown
	Digest   Digester
	Log      *slog.Logger
	Now      func() time.Time
	// Observe counts handled updates by kind for /metrics ("report", "command", …).
	Observe func(kind string, took time.Duration)
	// Dropped counts answers not sent, by reason: "refusal" (a chat bound to no department
	// told so once already within RefuseEvery), "queue_full", "shutdown".
	Dropped func(reason string)
	// RefuseEvery is how often a chat bound to no department is told so; zero: RefuseEvery.
	RefuseEvery time.Duration
}

// Bot handles Telegram updates. Safe for concurrent use.
type Bot struct {
	plan     atomic.Pointer[planState]
	store    *cachedBindings
	tg       Telegram
	send     Sender
	username string
	key      []byte
	digest   Digester
	web      WebView        // nil: the web view is off
	plans    PlanPreviewer  // nil: plan files are not previewed
	docs     DocumentSender // sends the previewed tasks.yaml
	log      *slog.Logger
	now      func() time.Time
	observe  func(string, time.Duration)
	dropped  func(string)
	answers  *answerQueue
	refused  *refusals

	outboxMu sync.Mutex
	outboxed map[outboxKey]bool      // outbox entries queued in this process and not yet over
	resends  map[*sentSince]struct{} // the resends reading the outbox now
}

// planState is the config and plan in force; SetPlan swaps both at once on a reload.
type planState struct {
	cfg   *config.Config
	plan  *config.Plan
	texts *i18n.Texts
}

// New returns a Bot.
func New(o Options) *Bot {
	mac := hmac.New(sha256.New, []byte(o.Token))
	mac.Write([]byte("duban button signing key"))
	b := &Bot{
		store: &cachedBindings{Store: o.Store}, tg: o.Telegram, send: o.Sender, username: o.Username,
		key: mac.Sum(nil), digest: o.Digest, log: o.Log, now: o.Now, observe: o.Observe,
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.observe == nil {
		b.observe = func(string, time.Duration) {}
	}
	b.dropped = o.Dropped
	if b.dropped == nil {
		b.dropped = func(string) {}
	}
	b.answers = newAnswerQueue(b.log, b.dropped, AnswersPerChat, AnswersTotal)
	b.refused = &refusals{window: cmp.Or(o.RefuseEvery, RefuseEvery), last: map[int64]time.Time{}}
	b.SetPlan(o.Config, o.Plan)
	return b
}

// CloseAnswers stops taking answers and sends those still queued for at most grace; the rest
// are logged and dropped (what they answer is recorded). Call it once nothing is handled any
// more: after the poller and the webhook have stopped.
func (b *Bot) CloseAnswers(grace time.Duration) { b.answers.close(grace) }

// SetDigester gives /digest its source; call it before handling updates.
func (b *Bot) SetDigester(d Digester) { b.digest = d }

// SetWeb gives /web its sign-in links; without it /web says the web view is off. Call it
// before handling updates.
func (b *Bot) SetWeb(w WebView) { b.web = w }

// SetPlan puts a new config and plan in force, as on SIGHUP.
func (b *Bot) SetPlan(c *config.Config, p *config.Plan) {
	b.plan.Store(&planState{cfg: c, plan: p, texts: i18n.For(c.Language)})
}

func (b *Bot) state() *planState { return b.plan.Load() }

// errRetry marks a failure after which the update must be delivered again: the store did not
// answer. Everything else is answered in chat and the update is done with.
type errRetry struct{ err error }

func (e errRetry) Error() string { return "store unavailable, will retry: " + e.err.Error() }
func (e errRetry) Unwrap() error { return e.err }

// retry wraps a store error for the poller unless the store rejected the input itself.
func retry(err error) error {
	if err == nil {
		return nil
	}
	for _, final := range []error{store.ErrInvalid, store.ErrCodeInvalid, store.ErrNotFound, store.ErrExists} {
		if errors.Is(err, final) {
			return err
		}
	}
	return errRetry{err}
}

// IsRetry reports whether Handle failed in a way that needs the update again.
func IsRetry(err error) bool {
	var r errRetry
	return errors.As(err, &r)
}

// Handle processes one update. It returns an error only when the update must be delivered
// again (IsRetry); anything the user got wrong is answered in chat instead.
func (b *Bot) Handle(ctx context.Context, upd *models.Update) (err error) {
	start := b.now()
	kind := "other"
	defer func() {
		if r := recover(); r != nil { // a bug in one handler must not stop every department's replies
			b.log.Error("handler panicked", "update", upd.ID, "panic", r)
			err, kind = nil, "panic"
		}
		b.observe(kind, b.now().Sub(start))
	}()
	switch {
	case upd.Message != nil:
		kind = "message"
		return b.onMessage(ctx, upd.ID, upd.Message, false)
	case upd.EditedMessage != nil:
		kind = "edit"
		return b.onMessage(ctx, upd.ID, upd.EditedMessage, true)
	case upd.CallbackQuery != nil:
		kind = "button"
		return b.onButton(ctx, upd.ID, upd.CallbackQuery)
	case upd.MyChatMember != nil:
		kind = "membership"
		return b.onMembership(ctx, upd.MyChatMember)
	}
	return nil
}

// chatDepartment returns the department bound to a chat, or "" if none.
func (b *Bot) chatDepartment(ctx context.Context, chatID int64) (store.Binding, bool, error) {
	bd, ok, err := b.store.ByChat(ctx, chatID)
	if err != nil {
		return store.Binding{}, false, retry(err)
	}
	return bd, ok, nil
}

// SeedBindings copies the chats written in config.yaml into the store, so that the store is
// the one place the bot looks. A binding made at run time (/bind) is left alone, and so is a
// chat another department holds by one; a chat that has since become a supergroup binds its
// new id, never back the old one. Each of these is logged and told to the supervisors (and
// the admins, for an old id), at every start and reload until config.yaml is mended.
func (b *Bot) SeedBindings(ctx context.Context) error {
	st := b.state()
	migrations, err := b.store.ChatMigrations(ctx)
	if err != nil {
		return fmt.Errorf("read chat migrations: %w", err)
	}
	for _, name := range st.cfg.DepartmentNames {
		chat := st.cfg.Departments[name].Chat
		if chat == 0 {
			continue
		}
		if target := followMigrations(migrations, chat); target != chat {
			b.log.Warn("config.yaml names a group that has become a supergroup: binding its new id; write the new id in config.yaml",
				"department", name, "config_chat", chat, "chat", target)
			b.tellSupervisors(ctx, st.texts.ConfigOldChat(name, chat, target), true)
			chat = target
		}
		bindings, err := b.store.Bindings(ctx)
		if err != nil {
			return fmt.Errorf("read bindings: %w", err)
		}
		var cur, holder store.Binding
		for _, bd := range bindings {
			if bd.Department == name {
				cur = bd
			} else if bd.ChatID == chat {
				holder = bd
			}
		}
		switch {
		case cur.ChatID == chat:
			continue
		case cur.Department != "" && cur.BoundBy != 0:
			b.log.Info("config.yaml names another chat than the one bound in chat; keeping the latter",
				"department", name, "config_chat", chat, "chat", cur.ChatID)
			continue
		case holder.Department != "" && holder.BoundBy != 0:
			b.log.Warn("config.yaml names a chat another department holds by /bind; left to it",
				"department", name, "chat", chat, "holder", holder.Department)
			b.tellSupervisors(ctx, st.texts.ConfigChatHeld(name, chat, holder.Department), false)
			continue
		}
		if err := b.bindChat(ctx, store.Binding{Department: name, ChatID: chat, Title: "config.yaml", BoundAt: b.now()}, "config.yaml"); err != nil {
			return fmt.Errorf("bind %s from config.yaml: %w", name, err)
		}
	}
	return nil
}

// followMigrations is the chat id now in use for chat: its supergroup's, if it became one.
func followMigrations(migrations map[int64]int64, chat int64) int64 {
	for range len(migrations) { // bounded: a cycle cannot come from Telegram, but data can be odd
		next, ok := migrations[chat]
		if !ok || next == chat {
			break
		}
		chat = next
	}
	return chat
}

// formerChats are the ids chat had before it became a supergroup: buttons signed there, and
// notes recorded there, are still this chat's.
func (b *Bot) formerChats(ctx context.Context, chat int64) ([]int64, error) {
	migrations, err := b.store.ChatMigrations(ctx)
	if err != nil {
		return nil, retry(err)
	}
	var former []int64
	for from := range migrations {
		if from != chat && followMigrations(migrations, from) == chat {
			former = append(former, from)
		}
	}
	slices.Sort(former)
	return former, nil
}

// bindChat binds nb and logs and announces every binding that replaces: the department's
// previous chat is told it is no longer the department's, a department that held the chat
// is told it lost it, and the supervisors hear of both. by says who: a person, config.yaml.
func (b *Bot) bindChat(ctx context.Context, nb store.Binding, by string) error {
	before, err := b.store.Bindings(ctx)
	if err != nil {
		return err
	}
	if err := b.store.Bind(ctx, nb); err != nil {
		return err
	}
	t := b.state().texts
	for _, old := range before {
		switch {
		case old.Department == nb.Department && old.ChatID != nb.ChatID:
			b.log.Warn("binding replaced", "department", nb.Department, "old_chat", old.ChatID, "new_chat", nb.ChatID, "by", by)
			b.tell(ctx, old.ChatID, t.ChatNoLongerBound(nb.Department, "", by))
			b.tellSupervisors(ctx, t.BindingMoved(nb.Department, old.ChatID, nb.ChatID, by), false, old.ChatID)
		case old.Department != nb.Department && old.ChatID == nb.ChatID:
			b.log.Warn("binding replaced", "department", old.Department, "old_chat", old.ChatID, "new_chat", 0,
				"taken_by", nb.Department, "by", by)
			b.tell(ctx, old.ChatID, t.ChatNoLongerBound(old.Department, nb.Department, by))
			b.tellSupervisors(ctx, t.BindingTaken(old.Department, old.ChatID, nb.Department, by), false, old.ChatID)
		}
	}
	return nil
}

// tell queues a notice to a chat; a notice that does not go out is logged, not returned: what
// it tells of is done.
func (b *Bot) tell(_ context.Context, chat int64, text string) {
	if chat == 0 {
		return
	}
	b.answers.enqueue(answer{chat: chat, what: "notice", send: func(ctx context.Context) {
		if _, err := b.send.Send(ctx, sender.Message{ChatID: chat, Text: text}); err != nil {
			b.log.Warn("notice not delivered", "chat", chat, "err", err)
		}
	}})
}

// tellSupervisors sends a notice to the supervisors chat, and with admins to every admin's
// private chat too; chats in told already have it.
func (b *Bot) tellSupervisors(ctx context.Context, text string, admins bool, told ...int64) {
	cfg := b.state().cfg
	to := []int64{cfg.Supervisors.Chat}
	if admins {
		to = append(to, cfg.Telegram.Admins...)
	}
	for _, chat := range to {
		if chat != 0 && !slices.Contains(told, chat) {
			told = append(told, chat)
			b.tell(ctx, chat, text)
		}
	}
}

// personName says who did something, for the log and the notices: name and Telegram id.
func personName(m *models.Message) string {
	if id := personID(m); id != 0 {
		return fmt.Sprintf("%s (%d)", displayName(m.From), id)
	}
	return m.Chat.Title // an anonymous admin or a channel speaks as the chat
}

func (b *Bot) isAdmin(userID int64) bool {
	return slices.Contains(b.state().cfg.Telegram.Admins, userID)
}

func (b *Bot) isSupervisorsChat(chatID int64) bool {
	c := b.state().cfg.Supervisors.Chat
	return c != 0 && c == chatID
}

// reply queues text in answer to a message, in memory only: what goes through here (help,
// refusals, usage) answers an update that recorded nothing, so a daemon killed before it is
// sent loses only the explanation, never a record, and nobody is told 已记录 who was not.
// Acknowledgements of what was recorded go through the outbox instead (outbox.go).
func (b *Bot) reply(_ context.Context, m *models.Message, text string) {
	msg := sender.Message{ChatID: m.Chat.ID, ThreadID: threadOf(m), Text: text, ReplyTo: m.ID}
	b.answers.enqueue(answer{chat: m.Chat.ID, what: "reply", send: func(ctx context.Context) {
		if _, err := b.send.Send(ctx, msg); err != nil {
			b.log.Warn("reply not delivered", "chat", msg.ChatID, "err", err)
		}
	}})
}

// refuseUnbound tells a chat bound to no department so, at most once per RefuseEvery: a
// flood of reports in a group anyone added the bot to gets one answer, the rest are counted.
func (b *Bot) refuseUnbound(ctx context.Context, m *models.Message) {
	if !b.refused.allow(m.Chat.ID) {
		b.dropped("refusal")
		return
	}
	b.reply(ctx, m, b.state().texts.NotBound())
}

// later queues a call to Telegram other than a message (a keyboard's mark) behind the chat's
// answers, so that it keeps their order and holds up no handler.
func (b *Bot) later(chat int64, what string, call func(ctx context.Context) error) {
	b.answers.enqueue(answer{chat: chat, what: what, send: func(ctx context.Context) {
		if err := call(ctx); err != nil {
			b.log.Warn(what+" not done", "chat", chat, "err", err)
		}
	}})
}

func threadOf(m *models.Message) int {
	if m.IsTopicMessage {
		return m.MessageThreadID
	}
	return 0
}

func displayName(u *models.User) string {
	if u == nil {
		return ""
	}
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = "@" + u.Username
	}
	return name
}

func userID(u *models.User) int64 {
	if u == nil {
		return 0
	}
	return u.ID
}
