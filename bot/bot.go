// Package bot is duban's Telegram side: it receives updates (long polling with an offset it
// owns, or a webhook), binds department chats, turns replies, commands and button presses
// into progress updates, and acknowledges each one once it is stored.
//
// The inbound path keeps the first promise: a reply acknowledged in chat is never lost.
// Handle records before it acknowledges, and returns an error — so that the poller holds the
// offset, or the webhook answers 500 and Telegram redelivers — whenever the store could not
// take the record. A redelivered update is recorded once (the store deduplicates on
// update_id) and acknowledged again.
package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
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
	MarkBroken(ctx context.Context, department, reason string) error
	CreateCode(ctx context.Context, code, department string, expires time.Time) error
	RedeemCode(ctx context.Context, code string, now time.Time) (string, error)
	Snooze(ctx context.Context, task int, department string, until time.Time) error
	Snoozes(ctx context.Context) (map[string]time.Time, error)
	Ledger(ctx context.Context) (map[string]time.Time, error)
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
}

// Bot handles Telegram updates. Safe for concurrent use.
type Bot struct {
	plan     atomic.Pointer[planState]
	store    Store
	tg       Telegram
	send     Sender
	username string
	key      []byte
	digest   Digester
	log      *slog.Logger
	now      func() time.Time
	observe  func(string, time.Duration)
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
		store: o.Store, tg: o.Telegram, send: o.Sender, username: o.Username,
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
	b.SetPlan(o.Config, o.Plan)
	return b
}

// SetDigester gives /digest its source; call it before handling updates.
func (b *Bot) SetDigester(d Digester) { b.digest = d }

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
	bindings, err := b.store.Bindings(ctx)
	if err != nil {
		return store.Binding{}, false, retry(err)
	}
	for _, bd := range bindings {
		if bd.ChatID == chatID {
			return bd, true, nil
		}
	}
	return store.Binding{}, false, nil
}

// SeedBindings copies the chats written in config.yaml into the store, so that the store is
// the one place the bot looks; a binding made at run time is left alone.
func (b *Bot) SeedBindings(ctx context.Context) error {
	st := b.state()
	bindings, err := b.store.Bindings(ctx)
	if err != nil {
		return fmt.Errorf("read bindings: %w", err)
	}
	have := map[string]store.Binding{}
	for _, bd := range bindings {
		have[bd.Department] = bd
	}
	for _, name := range st.cfg.DepartmentNames {
		chat := st.cfg.Departments[name].Chat
		if chat == 0 {
			continue
		}
		if cur, ok := have[name]; ok && (cur.BoundBy != 0 || cur.ChatID == chat) {
			continue
		}
		if err := b.store.Bind(ctx, store.Binding{Department: name, ChatID: chat, Title: "config.yaml", BoundAt: b.now()}); err != nil {
			return fmt.Errorf("bind %s from config.yaml: %w", name, err)
		}
	}
	return nil
}

func (b *Bot) isAdmin(userID int64) bool {
	return slices.Contains(b.state().cfg.Telegram.Admins, userID)
}

func (b *Bot) isSupervisorsChat(chatID int64) bool {
	c := b.state().cfg.Supervisors.Chat
	return c != 0 && c == chatID
}

// reply sends text in answer to a message. A failed acknowledgement is logged, not returned:
// what it acknowledges is already stored, and the sender has retried.
func (b *Bot) reply(ctx context.Context, m *models.Message, text string) []int {
	return b.replyWith(ctx, m, text, nil)
}

// replyWith is reply with buttons under the message (nil for none).
func (b *Bot) replyWith(ctx context.Context, m *models.Message, text string, keyboard *models.InlineKeyboardMarkup) []int {
	ids, err := b.send.Send(ctx, sender.Message{ChatID: m.Chat.ID, ThreadID: threadOf(m), Text: text, ReplyTo: m.ID, Keyboard: keyboard})
	if err != nil {
		b.log.Warn("reply not delivered", "chat", m.Chat.ID, "err", err)
	}
	return ids
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
