package bot

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-telegram/bot/models"
)

// AllowedUpdates are the update kinds the bot asks Telegram for.
var AllowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// QuietReset is how long without updates the poller trusts its offset (Telegram renumbers
// updates at random after a week without any).
const QuietReset = 6 * 24 * time.Hour

// OffsetStore keeps the poller's place in the update stream across restarts.
type OffsetStore interface {
	Offset(ctx context.Context) (int64, error)
	SetOffset(ctx context.Context, next int64) error   // never moves it back
	ResetOffset(ctx context.Context, next int64) error // after Telegram renumbered
}

// Poller receives updates by long polling. It owns the offset — the library's own poller
// confirms an update to Telegram before its handler has run — and moves it past an update
// only once Handle is done with it: recorded, answered, or deliberately dropped. While the
// store is down Handle fails, the offset holds, and Telegram keeps the update.
type Poller struct {
	APIURL  string // e.g. https://api.telegram.org
	Token   string
	Store   OffsetStore
	Handle  func(ctx context.Context, upd *models.Update) error
	Timeout time.Duration // long-poll timeout (Telegram's cap: 50 s)
	// Backoff is the first pause after a failure, doubling to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	Log                 *slog.Logger
	// Contact is told of every successful call to Telegram, for /healthz.
	Contact func(time.Time)
	// RetryAfterUnit is what one retry_after second means (tests scale it).
	RetryAfterUnit time.Duration
	// Now is the clock for QuietReset; nil is time.Now.
	Now func() time.Time

	client *http.Client
}

// Run polls until ctx ends. It returns an error only for a token Telegram rejects.
func (p *Poller) Run(ctx context.Context) error {
	p.defaults()
	offset, err := p.loadOffset(ctx)
	if err != nil {
		return nil // ctx ended
	}
	backoff := p.Backoff
	lastUpdate, renumbered := p.Now(), false
	for ctx.Err() == nil {
		// After a week without updates Telegram numbers the next one at random, possibly
		// below our offset, and an offset above an update confirms (deletes) it unseen. So
		// after six quiet days ask from the earliest unconfirmed update instead; the store
		// records an update delivered twice once.
		if offset != 0 && p.Now().Sub(lastUpdate) > QuietReset {
			p.Log.Info("no updates for days: asking Telegram from its earliest unconfirmed update", "offset", offset)
			offset, renumbered = 0, true
		}
		updates, err := p.getUpdates(ctx, offset)
		if err != nil {
			var apiErr *APIError
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.As(err, &apiErr) && apiErr.Code == http.StatusUnauthorized:
				return fmt.Errorf("telegram rejected the bot token: %w", err)
			case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
				p.Log.Warn("telegram asks to wait", "retry_after", apiErr.RetryAfter)
				sleep(ctx, time.Duration(apiErr.RetryAfter)*p.RetryAfterUnit)
			default:
				p.Log.Warn("getUpdates failed", "err", err, "retry_in", backoff)
				sleep(ctx, backoff)
				backoff = min(backoff*2, p.MaxBackoff)
			}
			continue
		}
		backoff = p.Backoff
		if len(updates) > 0 {
			lastUpdate = p.Now()
		}
		for i := range updates {
			if !p.handle(ctx, &updates[i]) {
				return nil // ctx ended with the update unhandled: it is delivered again next start
			}
			offset = updates[i].ID + 1
			save := p.Store.SetOffset
			if renumbered { // the new numbering may start below the stored offset
				save, renumbered = p.Store.ResetOffset, false
			}
			if err := save(ctx, offset); err != nil && ctx.Err() == nil {
				// Not fatal: the next getUpdates confirms it to Telegram anyway, and an update
				// delivered again after a restart is recorded once.
				p.Log.Warn("offset not saved", "offset", offset, "err", err)
			}
		}
	}
	return nil
}

// handle retries one update until Handle is done with it; false when ctx ended first.
func (p *Poller) handle(ctx context.Context, upd *models.Update) bool {
	backoff := p.Backoff
	for {
		err := p.Handle(ctx, upd)
		if err == nil || !IsRetry(err) {
			if err != nil {
				p.Log.Error("update dropped", "update", upd.ID, "err", err)
			}
			return true
		}
		p.Log.Warn("update held back until the store answers", "update", upd.ID, "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(backoff*2, p.MaxBackoff)
	}
}

func (p *Poller) loadOffset(ctx context.Context) (int64, error) {
	backoff := p.Backoff
	for {
		offset, err := p.Store.Offset(ctx)
		if err == nil {
			return offset, nil
		}
		p.Log.Warn("offset not readable yet", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return 0, ctx.Err()
		}
		backoff = min(backoff*2, p.MaxBackoff)
	}
}

func (p *Poller) defaults() {
	if p.Timeout == 0 {
		p.Timeout = 50 * time.Second
	}
	if p.Backoff == 0 {
		p.Backoff = 500 * time.Millisecond
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = 30 * time.Second
	}
	if p.RetryAfterUnit == 0 {
		p.RetryAfterUnit = time.Second
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	if p.Contact == nil {
		p.Contact = func(time.Time) {}
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	// The HTTP timeout must outlast the long poll, or every quiet poll ends in an error.
	p.client = &http.Client{Timeout: p.Timeout + 15*time.Second}
}

// APIError is an answer from Telegram with ok=false.
type APIError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Method, e.Code, e.Description)
}

func (p *Poller) getUpdates(ctx context.Context, offset int64) ([]models.Update, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(p.Timeout / time.Second),
		"allowed_updates": AllowedUpdates,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.APIURL+"/bot"+p.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: bad API URL") // the URL holds the token: never show it
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which holds the token
		}
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: read answer: %w", err)
	}
	var answer struct {
		OK          bool            `json:"ok"`
		Result      []models.Update `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("getUpdates: answer is not Telegram's JSON (HTTP %d): %w", resp.StatusCode, err)
	}
	if !answer.OK {
		return nil, &APIError{Method: "getUpdates", Code: answer.ErrorCode, Description: answer.Description, RetryAfter: answer.Parameters.RetryAfter}
	}
	p.Contact(time.Now())
	return answer.Result, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// WebhookHandler receives updates that Telegram posts. It answers 2xx only once Handle is
// done with the update — 503 makes Telegram deliver it again while the store is down — and
// 401 to a request without the secret token, which did not come from Telegram.
func (b *Bot) WebhookHandler(secretToken string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(secretToken)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var upd models.Update
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&upd); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if err := b.Handle(r.Context(), &upd); err != nil {
			b.log.Warn("webhook update held back", "update", upd.ID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
