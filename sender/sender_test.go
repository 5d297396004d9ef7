package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// fakeTelegram answers SendMessage with whatever its function field says.
type fakeTelegram struct {
	mu    sync.Mutex
	calls []*bot.SendMessageParams
	send  func(n int, p *bot.SendMessageParams) error // n counts calls from 1
}

func (f *fakeTelegram) SendMessage(_ context.Context, p *bot.SendMessageParams) (*models.Message, error) {
	f.mu.Lock()
	cp := *p
	f.calls = append(f.calls, &cp)
	n := len(f.calls)
	f.mu.Unlock()
	if f.send != nil {
		if err := f.send(n, p); err != nil {
			return nil, err
		}
	}
	return &models.Message{ID: 100 + n}, nil
}

// fakeClock is time that moves only when the sender sleeps, so no test waits for real time.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	slept  []time.Duration
	cancel func() // called on the first sleep when set
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.slept = append(c.slept, d)
	}
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil && d > 0 {
		cancel()
	}
	return ctx.Err()
}

func newTestSender(tb testing.TB, tg Telegram, opts Options) (*Sender, *fakeClock) {
	tb.Helper()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	opts.now, opts.sleep = clock.now, clock.sleep
	return New(tg, opts), clock
}

func TestSendOutcomes(t *testing.T) {
	serverErr := errors.New("error response from telegram for method sendMessage, 502 Bad Gateway")
	tests := []struct {
		name          string
		fail          func(n int) error
		wantIDs       []int
		wantErr       error // errors.Is target, or nil
		wantRetryable bool
		wantCalls     int
		wantObserved  string
	}{
		{"accepted", nil, []int{101}, nil, false, 1, "sent"},
		{"5xx then accepted", func(n int) error {
			if n < 3 {
				return serverErr
			}
			return nil
		}, []int{103}, nil, false, 3, "retry retry sent"},
		{"5xx every time", func(int) error { return serverErr }, nil, serverErr, true, 5, "retry retry retry retry failed"},
		{"network error is retried", func(n int) error {
			if n == 1 {
				return fmt.Errorf("error do request for method sendMessage, %w", errors.New("connection reset"))
			}
			return nil
		}, []int{102}, nil, false, 2, "ambiguous sent"},
		{"refused connection is a plain retry", func(n int) error {
			if n == 1 {
				return fmt.Errorf("error do request for method sendMessage, %w", &url.Error{Op: "Post", URL: "http://api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}})
			}
			return nil
		}, []int{102}, nil, false, 2, "retry sent"},
		{"answer lost after the request went out is ambiguous", func(n int) error {
			if n <= 2 {
				return fmt.Errorf("error do request for method sendMessage, %w", &url.Error{Op: "Post", URL: "http://api", Err: io.EOF})
			}
			return nil
		}, []int{103}, nil, false, 3, "ambiguous ambiguous sent"},
		{"429 waits and is not a failure", func(n int) error {
			if n <= 6 {
				return &bot.TooManyRequestsError{Message: "too many requests", RetryAfter: 2}
			}
			return nil
		}, []int{107}, nil, false, 7, "429 429 429 429 429 429 sent"},
		{"429 longer than MaxRetryAfter is handed back", func(int) error {
			return &bot.TooManyRequestsError{Message: "too many requests", RetryAfter: 7200}
		}, nil, nil, true, 1, "429"},
		{"bad request is not retried", func(int) error {
			return fmt.Errorf("%w, %s", bot.ErrorBadRequest, "Bad Request: can't parse entities")
		}, nil, bot.ErrorBadRequest, false, 1, "failed"},
		{"forbidden breaks the binding", func(int) error {
			return fmt.Errorf("%w, %s", bot.ErrorForbidden, "Forbidden: bot was kicked from the group chat")
		}, nil, ErrForbidden, false, 1, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &fakeTelegram{}
			if tt.fail != nil {
				tg.send = func(n int, _ *bot.SendMessageParams) error { return tt.fail(n) }
			}
			var observed []string
			var forbidden []int64
			s, _ := newTestSender(t, tg, Options{
				Observe:   func(o string) { observed = append(observed, o) },
				Forbidden: func(_ context.Context, chat int64, _ string) { forbidden = append(forbidden, chat) },
			})
			ids, err := s.Send(context.Background(), Message{ChatID: -1001, Text: "hi"})
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) && !(len(ids) == 0 && len(tt.wantIDs) == 0) {
				t.Errorf("ids: got %v, want %v", ids, tt.wantIDs)
			}
			if len(tg.calls) != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", len(tg.calls), tt.wantCalls)
			}
			if got := strings.Join(observed, " "); got != tt.wantObserved {
				t.Errorf("observed: got %q, want %q", got, tt.wantObserved)
			}
			var se *Error
			switch {
			case tt.wantIDs != nil && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantIDs == nil && !errors.As(err, &se):
				t.Fatalf("got %v, want a *sender.Error", err)
			case se != nil:
				if se.Retryable != tt.wantRetryable {
					t.Errorf("retryable: got %v, want %v", se.Retryable, tt.wantRetryable)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("got %v, want it to wrap %v", err, tt.wantErr)
				}
			}
			if wantForbidden := errors.Is(tt.wantErr, ErrForbidden); wantForbidden != (len(forbidden) == 1) {
				t.Errorf("Forbidden hook: got calls %v, want called=%v", forbidden, wantForbidden)
			}
		})
	}
}

func TestRetryAfterIsObeyed(t *testing.T) {
	tg := &fakeTelegram{send: func(n int, _ *bot.SendMessageParams) error {
		if n == 1 {
			return &bot.TooManyRequestsError{Message: "too many requests", RetryAfter: 5}
		}
		return nil
	}}
	s, clock := newTestSender(t, tg, Options{})
	start := clock.now()
	if _, err := s.Send(context.Background(), Message{ChatID: 42, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if waited := clock.now().Sub(start); waited < 5*time.Second {
		t.Errorf("waited %v before the second try, want at least the 5 s retry_after", waited)
	}
}

func TestMigrationFollowsTheChat(t *testing.T) {
	tg := &fakeTelegram{send: func(_ int, p *bot.SendMessageParams) error {
		if p.ChatID.(int64) == -1001 {
			return &bot.MigrateError{Message: "Bad Request: group chat was upgraded to a supergroup chat", MigrateToChatID: -1009876}
		}
		return nil
	}}
	var moved [2]int64
	s, _ := newTestSender(t, tg, Options{Moved: func(_ context.Context, o, n int64) { moved = [2]int64{o, n} }})
	long := strings.Repeat("第一行\n", 700) + strings.Repeat("第二段\n", 700) // two parts
	ids, err := s.Send(context.Background(), Message{ChatID: -1001, Text: long})
	if err != nil {
		t.Fatal(err)
	}
	if moved != [2]int64{-1001, -1009876} {
		t.Errorf("Moved: got %v, want [-1001 -1009876]", moved)
	}
	if len(ids) != 2 {
		t.Fatalf("got %d parts accepted, want 2", len(ids))
	}
	if last := tg.calls[len(tg.calls)-1].ChatID.(int64); last != -1009876 {
		t.Errorf("second part went to %d, want the supergroup -1009876", last)
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tg := &fakeTelegram{send: func(int, *bot.SendMessageParams) error {
		return errors.New("error response from telegram for method sendMessage, 500 Internal Server Error")
	}}
	s, clock := newTestSender(t, tg, Options{})
	clock.cancel = cancel
	_, err := s.Send(ctx, Message{ChatID: 1, Text: "hi"})
	var se *Error
	if !errors.As(err, &se) || !se.Retryable || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want a retryable error wrapping context.Canceled", err)
	}
	if len(tg.calls) != 1 {
		t.Errorf("calls: got %d, want 1 (no retry after cancel)", len(tg.calls))
	}
}

func TestGroupLimit(t *testing.T) {
	tg := &fakeTelegram{}
	s, clock := newTestSender(t, tg, Options{})
	start := clock.now()
	var at []time.Time
	tg.send = func(int, *bot.SendMessageParams) error { at = append(at, clock.now()); return nil }
	for i := 0; i < 45; i++ {
		if _, err := s.Send(context.Background(), Message{ChatID: -100500, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range at {
		if i > 0 && at[i].Sub(at[i-1]) < time.Second {
			t.Errorf("messages %d and %d: %v apart, want at least 1 s in one chat", i, i+1, at[i].Sub(at[i-1]))
		}
		if i >= 20 && at[i].Sub(at[i-20]) < time.Minute {
			t.Errorf("messages %d to %d: 21 within %v, want at most 20 a minute in a group", i-19, i+1, at[i].Sub(at[i-20]))
		}
	}
	if total := at[len(at)-1].Sub(start); total > 3*time.Minute {
		t.Errorf("45 messages took %v, want no more than the limits need (about 2 min)", total)
	}
}

func TestPrivateChatsAreNotGroupLimited(t *testing.T) {
	tg := &fakeTelegram{}
	s, clock := newTestSender(t, tg, Options{})
	start := clock.now()
	for i := 0; i < 30; i++ {
		if _, err := s.Send(context.Background(), Message{ChatID: 777, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if took := clock.now().Sub(start); took > 30*time.Second {
		t.Errorf("30 messages to a private chat took %v, want about 29 s (1/s, no group window)", took)
	}
}

func TestSplit(t *testing.T) {
	line := strings.Repeat("字", 99) + "\n" // 100 units
	tests := []struct {
		name      string
		text      string
		max       int
		wantParts int
	}{
		{"short", "你好", 4096, 1},
		{"exactly max", strings.Repeat("a", 4096), 4096, 1},
		{"lines", strings.Repeat(line, 100), 4096, 3},
		{"one long line", strings.Repeat("a", 10000), 4096, 3},
		{"emoji count double", strings.Repeat("😀", 2049), 4096, 2},
	}
	for _, tt := range tests {
		parts := Split(tt.text, tt.max)
		if len(parts) != tt.wantParts {
			t.Errorf("%s: got %d parts, want %d", tt.name, len(parts), tt.wantParts)
		}
		for i, p := range parts {
			if utf16Len(p) > tt.max {
				t.Errorf("%s: part %d has %d units, want at most %d", tt.name, i, utf16Len(p), tt.max)
			}
		}
		if strings.ReplaceAll(strings.Join(parts, ""), "\n", "") != strings.ReplaceAll(tt.text, "\n", "") {
			t.Errorf("%s: the parts do not add up to the text", tt.name)
		}
	}
	for _, p := range Split("&amp;&amp;&amp;", 7) {
		if strings.Count(p, "&") != strings.Count(p, ";") {
			t.Errorf("Split cut inside an entity: %q", p)
		}
	}
	if got := Split("<b>ab</b>cd", 5); got[0] != "<b>ab" {
		t.Errorf("Split: got %q, want the cut after a whole tag", got)
	}
}

func TestEscapeHTML(t *testing.T) {
	if got, want := EscapeHTML(`<b>A&B</b> "q"`), "&lt;b&gt;A&amp;B&lt;/b&gt; &quot;q&quot;"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestOneSlowChatDoesNotHoldUpOthers: while a message waits out a chat's long 429 pause, a
// message to another chat goes at once. (Real time, with a wide margin: the wait is 3 s, the
// bound 1 s.)
func TestOneSlowChatDoesNotHoldUpOthers(t *testing.T) {
	tg := &fakeTelegram{}
	s := New(tg, Options{Limits: Limits{Overall: time.Millisecond, PerChat: time.Millisecond, RetryAfterUnit: time.Millisecond}})
	if _, err := s.Send(context.Background(), Message{ChatID: -1, Text: "first"}); err != nil {
		t.Fatal(err)
	}
	s.pause(-1, 3*time.Second) // Telegram asked chat -1 to wait
	slow := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), Message{ChatID: -1, Text: "waits"})
		slow <- err
	}()
	for { // until the slow message has booked its wait
		s.mu.Lock()
		w := s.chats[-1]
		busy := len(w.turn) == 1
		s.mu.Unlock()
		if busy {
			break
		}
		runtime.Gosched()
	}
	start := time.Now()
	if _, err := s.Send(context.Background(), Message{ChatID: -2, Text: "other chat"}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("a message to another chat waited %v behind the paused one, want no wait", waited)
	}
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
}

// TestSendFromPart: a message of three parts resumed at part 1 sends parts 1 and 2 only, the
// keyboard on the last and no reply on either; the hooks see each part, before and after.
func TestSendFromPart(t *testing.T) {
	line := strings.Repeat("字", 2000) + "\n"
	text := line + line + line + line + line // 10,000 characters: three parts
	m := Message{ChatID: -7, Text: text, ReplyTo: 5, Keyboard: &models.InlineKeyboardMarkup{}}
	if got := Parts(m); got != 3 {
		t.Fatalf("parts: got %d, want 3", got)
	}
	tg := &fakeTelegram{}
	s, _ := newTestSender(t, tg, Options{})
	var before, sent []int
	ids, err := s.SendFrom(context.Background(), m, 1, Hooks{
		Before: func(_ context.Context, part int) error { before = append(before, part); return nil },
		Sent:   func(_ context.Context, part, id int) error { sent = append(sent, part, id); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[101 102]" || fmt.Sprint(before) != "[1 2]" || fmt.Sprint(sent) != "[1 101 2 102]" {
		t.Errorf("got ids %v, before %v, sent %v; want [101 102], [1 2], [1 101 2 102]", ids, before, sent)
	}
	whole := Split(text, MaxLength)
	for i, c := range tg.calls {
		if c.Text != whole[i+1] {
			t.Errorf("call %d: got part of %d characters, want part %d", i, len([]rune(c.Text)), i+1)
		}
		if c.ReplyParameters != nil {
			t.Errorf("call %d: got a reply to %d, want none after part 0", i, c.ReplyParameters.MessageID)
		}
		if (c.ReplyMarkup != nil) != (i == 1) {
			t.Errorf("call %d: keyboard %v, want it on the last part only", i, c.ReplyMarkup != nil)
		}
	}
	if _, err := s.SendFrom(context.Background(), m, 4, Hooks{}); err == nil {
		t.Error("send from part 4 of 3: got no error")
	}
}

// TestSendHooksStop: a Before that fails stops the message before its part goes out, and
// across 5xx retries Before runs before every attempt; a Sent that fails stops it after.
func TestSendHooksStop(t *testing.T) {
	line := strings.Repeat("字", 3000) + "\n"
	m := Message{ChatID: -7, Text: line + line + line}
	serverErr := errors.New("error response from telegram for method sendMessage, 502 Bad Gateway")
	tg := &fakeTelegram{send: func(n int, _ *bot.SendMessageParams) error {
		if n == 2 || n == 3 { // part 1 fails twice, then goes
			return serverErr
		}
		return nil
	}}
	s, _ := newTestSender(t, tg, Options{})
	fenced := errors.New("fenced")
	var attempts []int
	ids, err := s.SendFrom(context.Background(), m, 0, Hooks{Before: func(_ context.Context, part int) error {
		attempts = append(attempts, part)
		if part == 2 {
			return fenced
		}
		return nil
	}})
	var se *Error
	if !errors.As(err, &se) || !errors.Is(err, fenced) || se.Retryable {
		t.Fatalf("got %v, want a final Error wrapping the Before's", err)
	}
	if fmt.Sprint(ids) != "[101 104]" || fmt.Sprint(se.Sent) != "[101 104]" || len(tg.calls) != 4 {
		t.Errorf("got ids %v (Sent %v) in %d calls; want [101 104] in 4", ids, se.Sent, len(tg.calls))
	}
	if fmt.Sprint(attempts) != "[0 1 1 1 2]" {
		t.Errorf("Before ran for parts %v, want [0 1 1 1 2]", attempts)
	}

	tg2 := &fakeTelegram{}
	s2, _ := newTestSender(t, tg2, Options{})
	ids, err = s2.SendFrom(context.Background(), m, 0, Hooks{Sent: func(context.Context, int, int) error { return fenced }})
	if !errors.Is(err, fenced) || fmt.Sprint(ids) != "[101]" || len(tg2.calls) != 1 {
		t.Errorf("a failing Sent: got %v, ids %v in %d calls; want the error, [101] in 1", err, ids, len(tg2.calls))
	}
}

// BenchmarkWaitingForTheWindow is a hundred chats' messages ready at once, paced by the
// overall window (Telegram's limits at 1/25 of their time, real clock): what the waiting
// costs in CPU, reported as cpu-µs/msg (this process's user and system time).
func BenchmarkWaitingForTheWindow(b *testing.B) {
	const chats = 100
	l := DefaultLimits
	const scale = 25
	l.Overall /= scale
	l.OverallWindow /= scale
	l.PerChat /= scale
	l.GroupWindow /= scale
	s := New(&fakeTelegram{}, Options{Limits: l})
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	ctx := context.Background()
	b.ResetTimer()
	start := cpu()
	var wg sync.WaitGroup
	for c := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < b.N; i += chats {
				if _, err := s.Send(ctx, Message{ChatID: int64(1000 + c), Text: "已记录"}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64((cpu()-start).Microseconds())/float64(b.N), "cpu-µs/msg")
}
