package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is the bot token the fake accepts unless WithToken says otherwise.
// Its numeric prefix is the bot's user id, as with real tokens (bot.Bot.ID parses it).
const DefaultToken = "123456:TEST-TOKEN"

// DefaultBotUsername is the bot's username unless WithBotUsername says otherwise.
const DefaultBotUsername = "test_bot"

// Chat and User are the library's own types, so values can be passed to and from
// github.com/go-telegram/bot without conversion.
type (
	Chat = models.Chat
	User = models.User
)

// NewUser returns a human user with the given id and first name.
func NewUser(id int64, firstName string) User {
	return User{ID: id, FirstName: firstName}
}

// PrivateChat returns the private chat between the bot and u; its id is u's id.
func PrivateChat(u User) Chat {
	return Chat{ID: u.ID, Type: models.ChatTypePrivate, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
}

// GroupChat returns a basic group. Group ids are negative; a positive id is negated.
func GroupChat(id int64, title string) Chat {
	if id > 0 {
		id = -id
	}
	return Chat{ID: id, Type: models.ChatTypeGroup, Title: title}
}

// SupergroupChat returns a supergroup. Supergroup ids look like -100XXXXXXXXXX;
// a positive id n becomes -(1000000000000+n), a negative id is used as is.
func SupergroupChat(id int64, title string) Chat {
	if id > 0 {
		id = -(supergroupBase + id)
	}
	return Chat{ID: id, Type: models.ChatTypeSupergroup, Title: title}
}

const supergroupBase = 1_000_000_000_000

// Limits are the flood limits the fake enforces on sendMessage and
// editMessageText, in Telegram time (see WithTimeScale). A zero field disables
// that limit.
type Limits struct {
	// PerChat is the minimum interval between messages in one chat (Telegram: about 1 s).
	PerChat time.Duration
	// PerChatBurst is how many messages a chat may receive back to back before
	// PerChat spacing applies; 0 or 1 means strictly one per PerChat.
	PerChatBurst int
	// PerGroupPerMinute caps messages per group or supergroup in any sliding minute (Telegram: 20).
	PerGroupPerMinute int
	// GlobalPerSecond caps messages over all chats in any sliding second (Telegram: 30).
	GlobalPerSecond int
}

// DefaultLimits are Telegram's documented limits.
func DefaultLimits() Limits {
	return Limits{PerChat: time.Second, PerChatBurst: 1, PerGroupPerMinute: 20, GlobalPerSecond: 30}
}

type config struct {
	token          string
	username       string
	firstName      string
	limits         Limits
	scale          float64
	webhookBackoff time.Duration
	webhookClient  *http.Client
}

// Option configures a Server.
type Option func(*config)

// WithToken sets the token the fake accepts. Its part before ':' must be the bot's
// numeric id.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithBotUsername sets the bot's username (without '@').
func WithBotUsername(username string) Option { return func(c *config) { c.username = username } }

// WithLimits replaces the flood limits (default DefaultLimits).
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithoutLimits turns every flood limit off.
func WithoutLimits() Option { return func(c *config) { c.limits = Limits{} } }

// WithTimeScale makes the fake's clock run 1/scale times faster than Telegram's:
// one Telegram second lasts scale wall-clock seconds. It scales the flood-limit
// windows and getUpdates' timeout. retry_after is still reported in whole
// Telegram seconds, so a client honouring it must wait retry_after*scale seconds
// (Server.RetryAfter converts). The default is 1. scale must be > 0.
func WithTimeScale(scale float64) Option { return func(c *config) { c.scale = scale } }

// WithWebhookBackoff sets the wall-clock pause before redelivering an update the
// webhook did not acknowledge with a 2xx (default 10 ms; not scaled).
func WithWebhookBackoff(d time.Duration) Option { return func(c *config) { c.webhookBackoff = d } }

// WithWebhookClient sets the HTTP client used for webhook deliveries, e.g. the
// Client() of an httptest.NewTLSServer. The default has a 5 s timeout.
func WithWebhookClient(hc *http.Client) Option { return func(c *config) { c.webhookClient = hc } }

// Message is a message the fake accepted from the bot (sendMessage).
type Message struct {
	ChatID    int64
	MessageID int
	// Text is the "text" parameter exactly as the bot sent it, markup included.
	Text string
	// PlainText is the text a user sees: markup parsed, HTML entities decoded,
	// surrounding white space trimmed. It is models.Message.Text in the result.
	PlainText string
	Entities  []models.MessageEntity
	ParseMode string
	// ReplyToMessageID is the message replied to (reply_parameters or the legacy
	// reply_to_message_id), 0 if none or if it was missing and allowed to be.
	ReplyToMessageID int
	// ReplyMarkup is the inline keyboard, nil if there is none or reply_markup
	// is another kind of keyboard; ReplyMarkupJSON is reply_markup as sent.
	ReplyMarkup     *models.InlineKeyboardMarkup
	ReplyMarkupJSON json.RawMessage
	// Params are all request parameters as strings (nested objects as JSON).
	Params map[string]string
	Time   time.Time
}

// Edit is an accepted editMessageText or editMessageReplyMarkup.
type Edit struct {
	Method    string // "editMessageText" or "editMessageReplyMarkup"
	ChatID    int64
	MessageID int
	// Text, PlainText, Entities and ParseMode are set for editMessageText only.
	Text      string
	PlainText string
	Entities  []models.MessageEntity
	ParseMode string
	// ReplyMarkup is the new inline keyboard; nil means the keyboard was removed.
	ReplyMarkup     *models.InlineKeyboardMarkup
	ReplyMarkupJSON json.RawMessage
	Params          map[string]string
	Time            time.Time
}

// CallbackAnswer is an accepted answerCallbackQuery.
type CallbackAnswer struct {
	CallbackQueryID string
	Text            string
	ShowAlert       bool
	URL             string
	CacheTime       int
	// Data, ChatID and MessageID describe the button press being answered.
	Data      string
	ChatID    int64
	MessageID int
	Time      time.Time
}

// Request is one Bot API call the fake answered.
type Request struct {
	Method string // canonical spelling, e.g. "sendMessage"
	// ChatID is the chat_id parameter when it was numeric, else 0.
	ChatID      int64
	Time        time.Time
	Status      int // HTTP status; equals error_code for errors, 200 on success
	Description string
	RetryAfter  int
}

// WebhookDelivery is one attempt to POST an update to the webhook.
type WebhookDelivery struct {
	UpdateID    int64
	URL         string
	SecretToken string // the X-Telegram-Bot-Api-Secret-Token sent, "" if none
	Status      int    // HTTP status of the webhook's answer, 0 if the request failed
	Err         string // transport error, if any
	Time        time.Time
}

type failure struct {
	code       int
	desc       string
	retryAfter int
}

type queuedUpdate struct {
	id   int64
	kind string
	data json.RawMessage
}

type webhookState struct {
	url            string
	secret         string
	maxConnections int
	hasCert        bool
	gen            uint64
	lastErrorDate  int64
	lastErrorMsg   string
}

type chatState struct {
	chat       Chat
	nextMsgID  int
	messages   map[int]*storedMessage
	member     bool // the bot is in the chat (or the private chat is not blocked)
	kicked     bool
	migratedTo int64
	lastUser   *User
}

type storedMessage struct {
	msg       models.Message
	markupKey string // canonical JSON of the inline keyboard, "" if none
	fromBot   bool
}

type callbackState struct {
	data      string
	chatID    int64
	messageID int
	answered  bool
}

// Server is a fake Telegram Bot API server. All methods are safe for concurrent use.
type Server struct {
	tb  testing.TB
	cfg config
	ts  *httptest.Server
	bot User

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change

	nextUpdateID int64
	queue        []queuedUpdate
	allowed      map[string]bool // nil: Telegram's default set
	allowedList  []string
	pollGen      uint64
	polling      int

	webhook    webhookState
	deliveries []WebhookDelivery

	chats       map[int64]*chatState
	sent        []Message
	edits       []Edit
	answers     []CallbackAnswer
	callbacks   map[string]*callbackState
	nextCallbck int64
	commands    map[string][]models.BotCommand

	calls    map[string]int
	requests []Request
	failures map[string][]failure
	delays   map[string]time.Duration
	limiter  limiter
}

// New starts a fake Bot API server; it is closed by tb.Cleanup.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := config{
		token:          DefaultToken,
		username:       DefaultBotUsername,
		firstName:      "Test Bot",
		limits:         DefaultLimits(),
		scale:          1,
		webhookBackoff: 10 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.scale <= 0 || math.IsNaN(cfg.scale) || math.IsInf(cfg.scale, 0) {
		tb.Fatalf("telegramtest: time scale must be a positive number, got %v", cfg.scale)
	}
	if cfg.webhookClient == nil {
		cfg.webhookClient = &http.Client{Timeout: 5 * time.Second}
	}
	botID, err := strconv.ParseInt(strings.SplitN(cfg.token, ":", 2)[0], 10, 64)
	if err != nil || botID <= 0 || !strings.Contains(cfg.token, ":") {
		tb.Fatalf("telegramtest: token %q must look like \"<bot id>:<secret>\"", cfg.token)
	}
	s := &Server{
		tb:           tb,
		cfg:          cfg,
		bot:          User{ID: botID, IsBot: true, FirstName: cfg.firstName, Username: cfg.username},
		closed:       make(chan struct{}),
		changed:      make(chan struct{}),
		nextUpdateID: 1,
		chats:        map[int64]*chatState{},
		callbacks:    map[string]*callbackState{},
		nextCallbck:  4_300_000_000_000_000_001,
		commands:     map[string][]models.BotCommand{},
		calls:        map[string]int{},
		failures:     map[string][]failure{},
		delays:       map[string]time.Duration{},
		webhook:      webhookState{maxConnections: 40},
	}
	s.limiter = newLimiter(cfg.limits, cfg.scale)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.wg.Add(1)
	go s.webhookLoop()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server. Pending long polls return immediately. It is called
// automatically by tb.Cleanup; calling it more than once is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.ts.Close()
		s.wg.Wait()
	})
}

// URL is the server's base URL, for bot.WithServerURL.
func (s *Server) URL() string { return s.ts.URL }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.cfg.token }

// BotUsername is the bot's username, without '@'.
func (s *Server) BotUsername() string { return s.cfg.username }

// BotUser is the bot's own user, as getMe returns it.
func (s *Server) BotUser() User { return s.bot }

// TimeScale is the factor given to WithTimeScale (1 by default).
func (s *Server) TimeScale() float64 { return s.cfg.scale }

// RetryAfter converts a retry_after of the given Telegram seconds into the
// wall-clock wait that frees the limit under the server's time scale.
func (s *Server) RetryAfter(seconds int) time.Duration {
	return s.scaled(time.Duration(seconds) * time.Second)
}

func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.scale)
}

// notifyLocked wakes everything waiting for a state change. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) changedChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Sent returns every message the fake accepted, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// SentTo returns the accepted messages sent to chatID, in order.
func (s *Server) SentTo(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []Message
	for _, m := range s.sent {
		if m.ChatID == chatID {
			res = append(res, m)
		}
	}
	return res
}

// Edits returns every accepted editMessageText and editMessageReplyMarkup, in order.
func (s *Server) Edits() []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Edit(nil), s.edits...)
}

// CallbackAnswers returns every accepted answerCallbackQuery, in order.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// Commands returns the commands set for the default scope and language code
// lang ("" for all languages), nil if none.
func (s *Server) Commands(lang string) []models.BotCommand {
	return s.CommandsForScope(nil, lang)
}

// CommandsForScope returns the commands set for scope (nil: default) and lang.
func (s *Server) CommandsForScope(scope models.BotCommandScope, lang string) []models.BotCommand {
	raw := ""
	if scope != nil {
		b, err := scope.MarshalCustom()
		if err != nil {
			s.tb.Errorf("telegramtest: marshal scope: %v", err)
			return nil
		}
		raw = string(b)
	}
	key, aerr := commandsKey(raw, lang)
	if aerr != nil {
		s.tb.Errorf("telegramtest: %s", aerr.Description)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commands[key]...)
}

// Calls returns how many requests for method (case-insensitive) reached the fake,
// whatever their outcome.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// Requests returns every answered Bot API call, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// WebhookDeliveries returns every webhook delivery attempt, in order.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookDelivery(nil), s.deliveries...)
}

// Pending is the number of queued updates not yet confirmed by getUpdates'
// offset (or, with a webhook, not yet acknowledged by it).
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Polling is the number of getUpdates requests currently long-polling.
func (s *Server) Polling() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polling
}

// StoredMessage returns the current state of a message in a chat (bot's or
// user's), as Telegram would include it in an update.
func (s *Server) StoredMessage(chatID int64, messageID int) (models.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || cs.messages[messageID] == nil {
		return models.Message{}, false
	}
	return cs.messages[messageID].msg, true
}

// FailNext makes the next n requests for method fail with the given error code
// and description ("" picks Telegram's usual text for the code, e.g.
// "Internal Server Error", "Bad Gateway", "Too Many Requests: retry after N").
// retryAfter > 0 adds parameters.retry_after (a 429 always gets one, at least 1).
// Injected failures take precedence over everything but authentication.
func (s *Server) FailNext(method string, n int, code int, description string, retryAfter int) {
	if code == http.StatusTooManyRequests && retryAfter <= 0 {
		retryAfter = 1
	}
	if description == "" {
		description = defaultDescription(code, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	for range n {
		s.failures[key] = append(s.failures[key], failure{code: code, desc: description, retryAfter: retryAfter})
	}
}

func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict"
	}
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Error " + strconv.Itoa(code)
}

// Delay makes every later request for method wait d (wall clock) before it is
// handled; d <= 0 removes the delay. The request is still handled if the client
// gives up meanwhile, as a request that reached Telegram would be, so a client
// that times out and retries can cause duplicates.
func (s *Server) Delay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	if d <= 0 {
		delete(s.delays, key)
		return
	}
	s.delays[key] = d
}

// WaitSentContext waits until at least n messages were accepted and returns them.
func (s *Server) WaitSentContext(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		if len(s.sent) >= n {
			res := append([]Message(nil), s.sent...)
			s.mu.Unlock()
			return res, nil
		}
		ch := s.changed
		got := len(s.sent)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Sent(), fmt.Errorf("telegramtest: %d of %d messages sent: %w", got, n, ctx.Err())
		case <-s.closed:
			return s.Sent(), fmt.Errorf("telegramtest: server closed with %d of %d messages sent", got, n)
		}
	}
}

// WaitSent waits up to timeout until at least n messages were accepted and
// returns them all; on timeout it fails the test with tb.Fatalf, so call it from
// the test goroutine.
func (s *Server) WaitSent(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	msgs, err := s.WaitSentContext(ctx, n)
	if err != nil {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, fmt.Sprintf("%d: %q", m.ChatID, m.Text))
		}
		tb.Fatalf("%v (waited %v); sent so far: [%s]", err, timeout, strings.Join(texts, ", "))
	}
	return msgs
}

// WaitFor waits up to timeout until cond returns true, re-evaluating it after
// every change of the fake's state (a request handled, an update queued or
// confirmed, a webhook delivery...). cond must not block; it may call the
// Server's methods. On timeout it fails the test with tb.Fatalf naming what.
func (s *Server) WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		ch := s.changedChan()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			tb.Fatalf("telegramtest: timed out after %v waiting for %s", timeout, what)
		case <-s.closed:
			tb.Fatalf("telegramtest: server closed while waiting for %s", what)
		}
	}
}
