package sender

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/duban/duban/config"
)

// The token is in every Bot API request URL, and so in any error that quotes the URL: Go's
// own (*url.Error), a proxy's error page that go-telegram/bot copies into its error, or an
// answer's description. Every error from the client NewTelegram makes, and every error
// Scrub is given, comes out with the token replaced by this, as go-telegram/bot itself
// writes it in the URL of a failed request.
const hidden = "***"

// NewTelegram is the go-telegram/bot client for token that duban uses everywhere: it does not
// call getMe (the caller does, with retries), and what it reads from Telegram — errors and
// answers — never carries the token, so no log line or error made from them can show it.
// onError receives the library's own background errors, already scrubbed; nil drops them.
// A token that could not be the one @BotFather gave is refused, without showing it.
func NewTelegram(token, apiURL string, onError func(error)) (*tgbot.Bot, error) {
	if err := config.CheckToken(token); err != nil {
		return nil, fmt.Errorf("telegram.token: %w", err)
	}
	if onError == nil {
		onError = func(error) {}
	}
	client := &scrubbingClient{http: &http.Client{Timeout: 30 * time.Second}, token: token}
	return tgbot.New(token,
		tgbot.WithServerURL(apiURL),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, client),
		tgbot.WithErrorsHandler(func(err error) { onError(Scrub(err, token)) }),
	)
}

// Scrub returns err with the token removed from its text, in every spelling a URL or a quoted
// string gives it; errors.Is and errors.As still see what err wraps. An error that does not
// show the token is returned as it is.
func Scrub(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	msg := err.Error()
	if clean := ScrubText(msg, token); clean != msg {
		return &scrubbed{msg: clean, err: err}
	}
	return err
}

// ScrubText is Scrub for a string.
func ScrubText(s, token string) string {
	for _, spelling := range spellings(token) {
		s = strings.ReplaceAll(s, spelling, hidden)
	}
	return s
}

// spellings are the ways a token shows in text: as is, escaped for a URL's path or query,
// quoted by %q (a CR becomes \r); then the secret after the colon alone, in the same ways,
// since a colon may be escaped in yet another way. Longest first, so that a shorter one never
// leaves part of a longer one behind.
func spellings(token string) []string {
	forms := []string{token}
	if _, secret, ok := strings.Cut(token, ":"); ok && len(secret) >= 8 {
		forms = append(forms, secret)
	}
	var out []string
	for _, f := range forms {
		quoted := strconv.Quote(f)
		out = append(out, f, url.PathEscape(f), url.QueryEscape(f), quoted[1:len(quoted)-1])
	}
	return out
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrubbingClient is the HTTP client under go-telegram/bot: it scrubs the token from transport
// errors and from the answers' bodies, which the library copies into its errors (the whole
// body when it is not JSON, the description when it is). A body is read whole, as the
// library does anyway.
type scrubbingClient struct {
	http  *http.Client
	token string
}

// maxAnswer bounds an answer held in memory; Bot API answers are far smaller.
const maxAnswer = 64 << 20

func (c *scrubbingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, Scrub(err, c.token)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, Scrub(fmt.Errorf("read answer: %w", err), c.token)
	}
	for _, spelling := range spellings(c.token) {
		body = bytes.ReplaceAll(body, []byte(spelling), []byte(hidden))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}
