// Package sender is the one way duban's messages reach Telegram. Every message goes through
// the same short pipeline:
//
//	split (4096 characters, on line boundaries)
//	→ rate limit (overall, per chat, per group)
//	→ send
//	→ classify the outcome: accepted, retry (429 after retry_after, 5xx and network errors
//	  with backoff; a call whose answer was lost after it went out is counted as ambiguous,
//	  since Telegram may have delivered it and the retry may be a duplicate), moved (a group upgraded to a supergroup: send again to the new id),
//	  forbidden (the bot was removed: the binding is broken) or rejected
//	→ report the message ids Telegram accepted.
//
// A photo or a document (SendPhoto, SendDocument: an upload with a caption) is one part that
// goes through the same pacing, retries and classification.
//
// A message counts as sent only when Telegram answered with its message id.
package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Telegram is the call the sender makes; *bot.Bot has it.
type Telegram interface {
	SendMessage(ctx context.Context, params *bot.SendMessageParams) (*models.Message, error)
}

// MediaTelegram is a Telegram that also uploads photos and documents; *bot.Bot is one. A
// Sender over a Telegram that is not refuses SendPhoto and SendDocument.
type MediaTelegram interface {
	Telegram
	SendPhoto(ctx context.Context, params *bot.SendPhotoParams) (*models.Message, error)
	SendDocument(ctx context.Context, params *bot.SendDocumentParams) (*models.Message, error)
}

var _ MediaTelegram = (*bot.Bot)(nil)

// Message is one message to one chat, in HTML parse mode: every piece of user or task text in
// Text must already be escaped (see EscapeHTML), and no tag may span a line break, because a
// long text is split between lines.
type Message struct {
	ChatID   int64
	Text     string
	ReplyTo  int // message id to reply to, 0 for none
	ThreadID int // forum topic, 0 for none
	// Keyboard is attached to the last part when the text is split.
	Keyboard *models.InlineKeyboardMarkup
	// NoPreview turns Telegram's link preview off (link_preview_options.is_disabled): to
	// build one, Telegram fetches the link, which would spend a single-use sign-in link.
	NoPreview bool
}

// Media is one photo or document to one chat, uploaded with its bytes. Caption is in HTML
// parse mode, escaped like Message.Text, and at most MaxCaption characters once parsed.
type Media struct {
	ChatID   int64
	ThreadID int    // forum topic, 0 for none
	Name     string // the file name the chat shows (a photo's is not shown)
	Data     []byte
	Caption  string
}

// MaxCaption is Telegram's limit on a photo's or document's caption, in characters after
// entities are parsed.
const MaxCaption = 1024

// Limits are Telegram's published sending limits; tests scale them down.
type Limits struct {
	Overall time.Duration // spacing of messages across all chats (30/s: 1s/30)
	// OverallPerWindow requests at most in any OverallWindow, across all chats (30 in 1 s);
	// 0: spacing alone.
	OverallPerWindow int
	OverallWindow    time.Duration
	PerChat          time.Duration // spacing within one chat (1/s)
	PerGroup         int           // messages per GroupWindow in one group or supergroup (20)
	GroupWindow      time.Duration // (1 minute)
	RetryAfterUnit   time.Duration // what one unit of a 429's retry_after means (1 s)
}

// DefaultLimits are Telegram's: about 30 messages a second overall, one a second per chat and
// 20 a minute per group.
var DefaultLimits = Limits{
	Overall: time.Second / 30, OverallPerWindow: 30, OverallWindow: time.Second,
	PerChat: time.Second, PerGroup: 20, GroupWindow: time.Minute,
	RetryAfterUnit: time.Second,
}

// Options tune a Sender. Zero values take the defaults.
type Options struct {
	Limits      Limits
	MaxAttempts int           // sends of one part that failed with a retryable error (5)
	Backoff     time.Duration // first wait after a failure, doubling (1 s)
	MaxBackoff  time.Duration // (30 s)
	// MaxRetryAfter is the longest 429 wait the sender sits out; a longer one is returned as a
	// retryable error so the caller can try later (10 min).
	MaxRetryAfter time.Duration

	// Moved is told that a group became a supergroup, so the binding follows the chat.
	Moved func(ctx context.Context, oldID, newID int64)
	// Forbidden is told that a chat cannot be written to (the bot was removed or blocked).
	Forbidden func(ctx context.Context, chatID int64, reason string)
	// Observe counts outcomes for /metrics: "sent", "retry", "ambiguous" (a retry of a call
	// that may have been delivered), "429", "forbidden", "failed".
	Observe func(outcome string)

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// Sender delivers messages within Telegram's limits. It is safe for concurrent use; callers
// that need order within a chat send one message after another.
type Sender struct {
	tg          Telegram
	opts        Options
	overallTurn chan struct{} // held by the one request waiting for room in the overall window

	mu       sync.Mutex
	overall  time.Time             // when the next message may go, across all chats
	inflight int                   // requests sent and not yet answered
	answered []time.Time           // answers within the last OverallWindow
	chats    map[int64]*chatWindow // per chat: spacing, group window and 429 pauses
}

type chatWindow struct {
	turn   chan struct{} // held by the one request in flight to this chat
	next   time.Time     // earliest next send
	recent []time.Time   // a group's answered sends within the last GroupWindow
}

// New returns a Sender that sends through tg.
func New(tg Telegram, opts Options) *Sender {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	if opts.Limits.RetryAfterUnit == 0 {
		opts.Limits.RetryAfterUnit = time.Second
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.MaxRetryAfter == 0 {
		opts.MaxRetryAfter = 10 * time.Minute
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.sleep == nil {
		opts.sleep = sleepCtx
	}
	if opts.Observe == nil {
		opts.Observe = func(string) {}
	}
	return &Sender{tg: tg, opts: opts, chats: map[int64]*chatWindow{}, overallTurn: make(chan struct{}, 1)}
}

// Error is a message that was not delivered. Retryable says whether sending it again later may
// work (Telegram was down or asked to wait longer than MaxRetryAfter).
type Error struct {
	ChatID    int64
	Retryable bool
	Sent      []int // ids of the parts that did go out before the failure
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("send to chat %d: %v", e.ChatID, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrForbidden is wrapped by the Error for a chat the bot may no longer write to.
var ErrForbidden = errors.New("the bot cannot write to this chat")

// Send delivers m and returns the ids of the messages Telegram accepted, one per part.
func (s *Sender) Send(ctx context.Context, m Message) ([]int, error) {
	return s.SendFrom(ctx, m, 0, Hooks{})
}

// Hooks let a caller record a message part by part, so that a retry sends only the parts
// still missing.
type Hooks struct {
	// Before is called just before each attempt to send a part, once its pacing is over: an
	// error stops the message there, unsent. A fenced ledger write here keeps a daemon that
	// lost its lease while it waited from sending what its successor may have sent.
	Before func(ctx context.Context, part int) error
	// Sent is told each part Telegram accepted, with its id; an error stops the message after
	// that part.
	Sent func(ctx context.Context, part, id int) error
}

// Parts is how many parts Send cuts m into.
func Parts(m Message) int { return len(Split(m.Text, MaxLength)) }

// SendFrom delivers m's parts from index from on (the parts Send would send, cut the same
// way) and returns the ids of those Telegram accepted. ReplyTo goes with part 0 only, the
// keyboard with the last part. On an error the Error's Sent lists the ids of the parts sent
// before it.
func (s *Sender) SendFrom(ctx context.Context, m Message, from int, h Hooks) ([]int, error) {
	parts := Split(m.Text, MaxLength)
	if from < 0 || from > len(parts) {
		return nil, &Error{ChatID: m.ChatID, Err: fmt.Errorf("part %d of a message of %d parts", from, len(parts))}
	}
	ids := make([]int, 0, len(parts)-from)
	chat := m.ChatID
	for i := from; i < len(parts); i++ {
		params := &bot.SendMessageParams{
			ChatID:          chat,
			Text:            parts[i],
			ParseMode:       models.ParseModeHTML,
			MessageThreadID: m.ThreadID,
		}
		if m.ReplyTo != 0 && i == 0 {
			params.ReplyParameters = &models.ReplyParameters{MessageID: m.ReplyTo, AllowSendingWithoutReply: true}
		}
		if m.Keyboard != nil && i == len(parts)-1 {
			params.ReplyMarkup = m.Keyboard
		}
		if m.NoPreview {
			params.LinkPreviewOptions = &models.LinkPreviewOptions{IsDisabled: &disabled}
		}
		var before func(context.Context) error
		if h.Before != nil {
			before = func(ctx context.Context) error { return h.Before(ctx, i) }
		}
		msg, moved, err := s.sendOne(ctx, chat, func(ctx context.Context, chat int64) (*models.Message, error) {
			params.ChatID = chat
			return s.tg.SendMessage(ctx, params)
		}, before)
		if err != nil {
			err.Sent = ids
			return ids, err
		}
		chat = moved // a migration moves the rest of the parts too
		ids = append(ids, msg.ID)
		if h.Sent != nil {
			if err := h.Sent(ctx, i, msg.ID); err != nil {
				return ids, &Error{ChatID: chat, Retryable: true, Sent: ids, Err: err}
			}
		}
	}
	return ids, nil
}

// disabled is link_preview_options.is_disabled's true, for NoPreview.
var disabled = true

// SendPhoto uploads m as a photo, under the same pacing, retries and classification as a
// message, and returns its message id. It is one part (0) for h.
func (s *Sender) SendPhoto(ctx context.Context, m Media, h Hooks) (int, error) {
	return s.sendMedia(ctx, m, h, func(ctx context.Context, tg MediaTelegram, chat int64) (*models.Message, error) {
		// A fresh reader for every attempt: the last one consumed its bytes.
		return tg.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: chat, MessageThreadID: m.ThreadID, Caption: m.Caption, ParseMode: models.ParseModeHTML,
			Photo: &models.InputFileUpload{Filename: m.Name, Data: bytes.NewReader(m.Data)}})
	})
}

// SendDocument uploads m as a document (a file the chat can download), as SendPhoto does.
func (s *Sender) SendDocument(ctx context.Context, m Media, h Hooks) (int, error) {
	return s.sendMedia(ctx, m, h, func(ctx context.Context, tg MediaTelegram, chat int64) (*models.Message, error) {
		return tg.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chat, MessageThreadID: m.ThreadID, Caption: m.Caption, ParseMode: models.ParseModeHTML,
			Document: &models.InputFileUpload{Filename: m.Name, Data: bytes.NewReader(m.Data)}})
	})
}

func (s *Sender) sendMedia(ctx context.Context, m Media, h Hooks, call func(context.Context, MediaTelegram, int64) (*models.Message, error)) (int, error) {
	tg, ok := s.tg.(MediaTelegram)
	if !ok {
		return 0, &Error{ChatID: m.ChatID, Err: errors.New("this Telegram client cannot upload files")}
	}
	var before func(context.Context) error
	if h.Before != nil {
		before = func(ctx context.Context) error { return h.Before(ctx, 0) }
	}
	msg, chat, err := s.sendOne(ctx, m.ChatID, func(ctx context.Context, chat int64) (*models.Message, error) {
		return call(ctx, tg, chat)
	}, before)
	if err != nil {
		return 0, err
	}
	if h.Sent != nil {
		if err := h.Sent(ctx, 0, msg.ID); err != nil {
			return msg.ID, &Error{ChatID: chat, Retryable: true, Sent: []int{msg.ID}, Err: err}
		}
	}
	return msg.ID, nil
}

// sendOne is the retry loop for one part: call sends it to a chat id, which a migration
// changes; sendOne returns the id it went to. before, if set, runs just before each attempt.
func (s *Sender) sendOne(ctx context.Context, chat int64, call func(context.Context, int64) (*models.Message, error), before func(context.Context) error) (*models.Message, int64, *Error) {
	backoff := s.opts.Backoff
	failures := 0
	for {
		done, err := s.take(ctx, chat)
		if err != nil {
			return nil, chat, &Error{ChatID: chat, Retryable: true, Err: err}
		}
		if before != nil {
			if err := before(ctx); err != nil {
				done()
				return nil, chat, &Error{ChatID: chat, Err: fmt.Errorf("not sent: %w", err)}
			}
		}
		msg, err := call(ctx, chat)
		done()
		if err == nil {
			s.opts.Observe("sent")
			return msg, chat, nil
		}
		var tooMany *bot.TooManyRequestsError
		var moved *bot.MigrateError
		switch {
		case errors.As(err, &tooMany):
			s.opts.Observe("429")
			pause := time.Duration(max(tooMany.RetryAfter, 1)) * s.opts.Limits.RetryAfterUnit
			if pause > s.opts.MaxRetryAfter {
				return nil, chat, &Error{ChatID: chat, Retryable: true, Err: err}
			}
			s.pause(chat, pause)
			continue // a 429 is Telegram pacing us, not a failure of the message
		case errors.As(err, &moved):
			newID := int64(moved.MigrateToChatID)
			if s.opts.Moved != nil {
				s.opts.Moved(ctx, chat, newID)
			}
			chat = newID
			continue
		case errors.Is(err, bot.ErrorForbidden):
			s.opts.Observe("forbidden")
			if s.opts.Forbidden != nil {
				s.opts.Forbidden(ctx, chat, err.Error())
			}
			return nil, chat, &Error{ChatID: chat, Err: fmt.Errorf("%w: %v", ErrForbidden, err)}
		case ctx.Err() != nil:
			return nil, chat, &Error{ChatID: chat, Retryable: true, Err: ctx.Err()}
		case !Retryable(err):
			s.opts.Observe("failed")
			return nil, chat, &Error{ChatID: chat, Err: err}
		}
		failures++
		if failures >= s.opts.MaxAttempts {
			s.opts.Observe("failed")
			return nil, chat, &Error{ChatID: chat, Retryable: true, Err: fmt.Errorf("gave up after %d attempts: %w", failures, err)}
		}
		if Ambiguous(err) {
			s.opts.Observe("ambiguous")
		} else {
			s.opts.Observe("retry")
		}
		// Full jitter, so that many chats failing at once do not retry in step.
		if err := s.opts.sleep(ctx, backoff/2+rand.N(backoff/2+1)); err != nil {
			return nil, chat, &Error{ChatID: chat, Retryable: true, Err: err}
		}
		backoff = min(backoff*2, s.opts.MaxBackoff)
	}
}

var statusRe = regexp.MustCompile(`, (\d{3}) `)

// Retryable reports whether sending again may succeed: network errors, timeouts, 5xx and
// answers that were not Telegram's JSON (a proxy's error page). A 4xx will fail the same way.
func Retryable(err error) bool {
	for _, permanent := range []error{bot.ErrorBadRequest, bot.ErrorUnauthorized, bot.ErrorNotFound, bot.ErrorForbidden, bot.ErrorConflict} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	if m := statusRe.FindStringSubmatch(err.Error()); m != nil && strings.Contains(err.Error(), "error response from telegram") {
		code, _ := strconv.Atoi(m[1])
		return code >= 500 || code == 429
	}
	return true
}

// Ambiguous reports whether a failed request may still have reached Telegram, so that
// sending again may deliver the message twice: the request went out and no answer came back
// (the connection dropped or timed out mid-call). A refused connection, a failed DNS lookup
// and any HTTP answer (Telegram's error or a proxy's page) are definite: nothing was sent.
func Ambiguous(err error) bool {
	if err == nil || !Retryable(err) || strings.Contains(err.Error(), "error response from telegram") {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var dns *net.DNSError
	return !errors.As(err, &dns)
}

// take waits for chat's turn and returns once a message may go to it now; done must be
// called when Telegram has answered. One request per chat is in flight at a time and the
// per-chat and per-group limits count from Telegram's answers, not from when a request left:
// Telegram sees a request no earlier than it was sent, so spacing measured on our side after
// each answer is never tighter than the limit on its side, whatever the network's jitter.
// The overall limit, across chats, is paced by reservation.
func (s *Sender) take(ctx context.Context, chat int64) (done func(), err error) {
	l := s.opts.Limits
	s.mu.Lock()
	w := s.chats[chat]
	if w == nil {
		w = &chatWindow{turn: make(chan struct{}, 1)}
		s.chats[chat] = w
	}
	s.mu.Unlock()
	select {
	case w.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-w.turn }

	// First the chat's own pace, holding only its turn: a chat paused by a 429 or a full
	// group window must not hold up any other chat.
	s.mu.Lock()
	now := s.opts.now()
	at := laterOf(now, w.next)
	if chat < 0 && l.PerGroup > 0 { // groups and supergroups have negative ids
		cut := 0
		for cut < len(w.recent) && !w.recent[cut].After(at.Add(-l.GroupWindow)) {
			cut++
		}
		w.recent = w.recent[cut:]
		if len(w.recent) >= l.PerGroup {
			at = laterOf(at, w.recent[len(w.recent)-l.PerGroup].Add(l.GroupWindow))
		}
	}
	s.mu.Unlock()
	if err := s.opts.sleep(ctx, at.Sub(now)); err != nil {
		release()
		return nil, err
	}
	// Then the overall limit, taken only now that the chat is ready: at most
	// OverallPerWindow requests in any OverallWindow, counting those in flight, with their
	// window counted from Telegram's answers as for a chat.
	if err := s.takeOverall(ctx); err != nil {
		release()
		return nil, err
	}
	s.mu.Lock()
	now = s.opts.now()
	slot := laterOf(now, s.overall)
	s.overall = slot.Add(l.Overall)
	s.mu.Unlock()
	if err := s.opts.sleep(ctx, slot.Sub(now)); err != nil {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
		release()
		return nil, err
	}
	return func() {
		s.mu.Lock()
		answered := s.opts.now()
		w.next = laterOf(w.next, answered.Add(l.PerChat))
		if chat < 0 && l.PerGroup > 0 {
			w.recent = append(w.recent, answered)
		}
		s.inflight--
		if l.OverallPerWindow > 0 {
			s.answered = append(s.answered, answered)
		}
		s.mu.Unlock()
		release()
	}, nil
}

// takeOverall waits until a request may be in flight under the overall window.
func (s *Sender) takeOverall(ctx context.Context) error {
	l := s.opts.Limits
	// One waiter at a time watches the window, the others queue behind it in turn: with a
	// hundred chats' answers ready at once, each watching on its own woke a hundred goroutines
	// every few milliseconds.
	select {
	case s.overallTurn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.overallTurn }()
	for {
		s.mu.Lock()
		now := s.opts.now()
		cut := 0
		for cut < len(s.answered) && !s.answered[cut].After(now.Add(-l.OverallWindow)) {
			cut++
		}
		s.answered = s.answered[cut:]
		if l.OverallPerWindow <= 0 || s.inflight+len(s.answered) < l.OverallPerWindow {
			s.inflight++
			s.mu.Unlock()
			return nil
		}
		// Full: look again when the oldest answer leaves the window, or soon, since a request
		// in flight may be answered first.
		wait := l.OverallWindow / time.Duration(l.OverallPerWindow)
		if len(s.answered) > 0 {
			wait = min(wait, s.answered[0].Add(l.OverallWindow).Sub(now))
		}
		s.mu.Unlock()
		if err := s.opts.sleep(ctx, max(wait, time.Millisecond)); err != nil {
			return err
		}
	}
}

// pause holds a chat back after a 429, as Telegram asked.
func (s *Sender) pause(chat int64, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.chats[chat]; w != nil {
		w.next = laterOf(w.next, s.opts.now().Add(d))
	}
}

func laterOf(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// MaxLength is Telegram's limit on a message's text, in UTF-16 code units after entities are
// parsed. Splitting on the escaped HTML is conservative: entities only get shorter.
const MaxLength = 4096

// Split cuts text into parts of at most max UTF-16 units, on line boundaries where it can and
// never inside an HTML tag or entity. A line longer than max is cut between characters.
func Split(text string, max int) []string {
	if utf16Len(text) <= max {
		return []string{text}
	}
	var parts []string
	var cur strings.Builder
	curLen := 0
	flush := func() {
		if s := strings.TrimRight(cur.String(), "\n"); s != "" {
			parts = append(parts, s)
		}
		cur.Reset()
		curLen = 0
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		n := utf16Len(line)
		if curLen+n > max {
			flush()
		}
		for n > max { // one line longer than a message: cut it at a safe point
			head := cutAt(line, max)
			parts = append(parts, head)
			line = line[len(head):]
			n = utf16Len(line)
		}
		cur.WriteString(line)
		curLen += n
	}
	flush()
	return parts
}

// cutAt returns the longest prefix of s within max UTF-16 units that does not end inside a
// tag (<b>) or an entity (&amp;).
func cutAt(s string, max int) string {
	units, safe := 0, 0
	inTag, inEntity := false, false
	for i, r := range s {
		w := len(utf16.Encode([]rune{r}))
		if units+w > max {
			break
		}
		units += w
		switch {
		case r == '<':
			inTag = true
		case r == '>':
			inTag = false
		case r == '&':
			inEntity = true
		case r == ';':
			inEntity = false
		}
		if !inTag && !inEntity {
			safe = i + len(string(r))
		}
	}
	if safe == 0 {
		safe = len(s)
	}
	return s[:safe]
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// EscapeHTML makes text safe inside a message sent in HTML parse mode.
func EscapeHTML(s string) string {
	return htmlEscaper.Replace(s)
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
