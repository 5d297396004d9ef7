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
	"reflect"
	"time"

	"github.com/go-telegram/bot/models"
	gojson "github.com/goccy/go-json"

	"github.com/duban/duban/sender"
)

// AllowedUpdates are the update kinds the bot asks Telegram for.
var AllowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// batchLimit is the most updates one getUpdates answers (Telegram's limit, the default).
const batchLimit = 100

// OffsetStore keeps the poller's place in the update stream: the update_id after the last
// update handled. The poller never sends it to Telegram (see Poller); it follows the
// numbering down when Telegram numbers updates afresh.
type OffsetStore interface {
	Offset(ctx context.Context) (int64, error)
	SetOffset(ctx context.Context, next int64) error   // never moves it back
	ResetOffset(ctx context.Context, next int64) error // after Telegram renumbered
}

// Poller receives updates by long polling. It owns the offset — the library's own poller
// confirms an update to Telegram before its handler has run — and moves it past an update
// only once Handle is done with it: recorded, refused, or deliberately dropped. While the
// store is down Handle fails, the offset holds, and Telegram keeps the update.
//
// Each chat's updates are handled in a lane of their own (lanes.go): in order within the
// chat, side by side across chats, so that a chat that floods the bot or whose handling is
// slow holds up no other. Handle only records and queues its answer (answers.go), so how
// fast answers may go out holds up nothing either. An offset confirms every update below it,
// so the poller confirms up to the lowest update still being handled; the ones above it that
// are done wait, and are not handed out again when Telegram returns them meanwhile.
//
// The offset it sends is only ever one it learnt from Telegram in this run: the lowest
// update still being handled, or the last handled update's id + 1, to confirm what is done.
// Once a getUpdates has come back, every update below its offset is confirmed, so with
// nothing left to confirm the next one asks with no offset (the earliest unconfirmed
// update), and so does the first after a start. After a week without updates Telegram
// numbers them afresh, possibly far below the old ids, and an offset above a new update would
// confirm (delete) it unseen; since no old offset is ever sent — not from before the quiet
// week, not from before a restart — no timer is needed. The cost: after a crash, the updates
// handled since the last getUpdates come again, and the store records each once.
type Poller struct {
	APIURL  string // e.g. https://api.telegram.org
	Token   string
	Store   OffsetStore
	Handle  func(ctx context.Context, upd *models.Update) error
	Timeout time.Duration // long-poll timeout (Telegram's cap: 50 s)
	// Backoff is the first pause after a failure, doubling to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Recheck is how soon to ask again for new updates while one is still being handled
	// (Telegram answers at once then, so the poll cannot wait for them); default 500 ms.
	Recheck time.Duration
	Log     *slog.Logger
	// Contact is told of every successful call to Telegram, for /healthz.
	Contact func(time.Time)
	// RetryAfterUnit is what one retry_after second means (tests scale it).
	RetryAfterUnit time.Duration

	client *http.Client
}

// Run polls until ctx ends, and returns once every update handed out has been handled or
// left to Telegram. It returns an error only for a token Telegram rejects.
func (p *Poller) Run(ctx context.Context) error {
	p.defaults()
	stored, err := p.loadOffset(ctx)
	if err != nil {
		return nil // ctx ended
	}
	work := newInflight()
	ctx, cancel := context.WithCancel(ctx)
	ln := newLanes(ctx, p.Log, func(upd *models.Update) bool { return p.handle(ctx, upd) }, work.finish)
	// No handler outlives Run: the lanes end with ctx (see handle), cancelled first also when
	// Run returns on its own (a rejected token).
	defer ln.wait()
	defer cancel()
	backoff := p.Backoff
	for ctx.Err() == nil {
		offset := work.offset() // 0: nothing handled waits to be confirmed
		if offset != 0 && offset != stored {
			stored = p.saveOffset(ctx, offset, stored)
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
			continue // offset kept: the updates it confirms may not have reached Telegram
		}
		backoff = p.Backoff
		work.confirmed(offset) // this call confirmed everything below its offset
		fresh := 0
		for i := range updates {
			if upd := &updates[i]; work.add(upd.ID) { // else: in a lane, or done and unconfirmed
				ln.dispatch(upd)
				fresh++
			}
		}
		// A full window handed to the lanes is what the same offset would bring again: wait
		// for the lanes before asking, as when nothing new came.
		if (fresh == 0 || len(updates) >= maxUpdatesPerPoll) && work.busy() {
			// Telegram answers at once while an update at or past the offset waits, so rather
			// than ask again and again: until the offset can move, or a while, for new updates.
			if !work.wait(ctx, offset, pollStep, p.Recheck) {
				return nil
			}
		}
	}
	return nil
}

// maxUpdatesPerPoll is the most updates one getUpdates brings (Telegram's default limit).
const maxUpdatesPerPoll = 100

// pollStep is how far the offset must move before the next getUpdates while updates are
// being handled: half of the 100 updates a getUpdates brings, so that each poll brings
// about 50 new ones to the lanes instead of one.
const pollStep = 50

// saveOffset keeps next as the stored offset and returns what is stored now. Below the
// stored offset, Telegram numbered updates afresh (far below), or one handled before a
// restart came again: the store follows. Not saving is not fatal: the offset Telegram is told
// is this run's own, and an update delivered again after a restart is recorded once.
func (p *Poller) saveOffset(ctx context.Context, next, stored int64) int64 {
	save := p.Store.SetOffset
	if next < stored {
		if next < stored-batchLimit {
			p.Log.Info("telegram numbers its updates afresh", "offset", next, "stored_offset", stored)
		}
		save = p.Store.ResetOffset
	}
	if err := save(ctx, next); err != nil {
		if ctx.Err() == nil {
			p.Log.Warn("offset not saved", "offset", next, "err", err)
		}
		return stored
	}
	return next
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
	if p.Recheck == 0 {
		p.Recheck = 500 * time.Millisecond
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
	args := map[string]any{
		"timeout":         int(p.Timeout / time.Second),
		"allowed_updates": AllowedUpdates,
	}
	if offset != 0 {
		args["offset"] = offset // else: from the earliest unconfirmed update
	}
	body, _ := json.Marshal(args)
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
	answer, err := decodeGetUpdates(raw)
	if err != nil {
		return nil, fmt.Errorf("getUpdates: answer is not Telegram's JSON (HTTP %d): %w", resp.StatusCode, err)
	}
	if !answer.OK {
		return nil, &APIError{Method: "getUpdates", Code: answer.ErrorCode, Description: sender.ScrubText(answer.Description, p.Token), RetryAfter: answer.Parameters.RetryAfter}
	}
	p.Contact(time.Now())
	return answer.Result, nil
}

// getUpdatesAnswer is Telegram's answer to getUpdates.
type getUpdatesAnswer struct {
	OK          bool            `json:"ok"`
	Result      []models.Update `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// decodeGetUpdates decodes a getUpdates answer into room for a full batch: growing the slice
// from nothing, by doubling, was a sixth of what decoding a flood's batch allocated
// (BenchmarkDecodeUpdates).
func decodeGetUpdates(raw []byte) (getUpdatesAnswer, error) {
	answer := getUpdatesAnswer{Result: make([]models.Update, 0, batchLimit)}
	err := decodeUpdates(raw, &answer)
	return answer, err
}

// decodeUpdates decodes what Telegram sends of updates (a getUpdates answer, a webhook's
// update) with goccy/go-json, a drop-in encoding/json: decoding go-telegram/bot's Update,
// a struct of hundreds of fields, was a tenth of the CPU a reply cost with encoding/json
// (BenchmarkDecodeUpdates: it takes a third of the time). A body its own Valid refuses, and
// one it panics on, goes to encoding/json: fuzzing found v0.10.5 panicking on a broken body
// (v0.12.0 does not). TestDecodeUpdatesAsEncodingJSON and FuzzDecodeUpdates check that it
// decodes as encoding/json does.
func decodeUpdates(raw []byte, v any) (err error) {
	if !gojson.Valid(raw) {
		return json.Unmarshal(raw, v) // its verdict, and its error saying where
	}
	defer func() {
		if r := recover(); r != nil {
			reflect.ValueOf(v).Elem().SetZero()
			err = json.Unmarshal(raw, v)
		}
	}()
	return gojson.Unmarshal(raw, v)
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
// done with the update — recorded, its answer queued — (503 makes Telegram deliver it again
// while the store is down), and 401 to a request without the secret token, which did not
// come from Telegram.
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
		raw, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err == nil {
			err = decodeUpdates(raw, &upd)
		}
		if err != nil {
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
