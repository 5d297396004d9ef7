package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/go-telegram/bot/models"
)

// updateKind is the allowed_updates name of the update's type.
func updateKind(u *models.Update) string {
	switch {
	case u.Message != nil:
		return models.AllowedUpdateMessage
	case u.EditedMessage != nil:
		return models.AllowedUpdateEditedMessage
	case u.ChannelPost != nil:
		return models.AllowedUpdateChannelPost
	case u.EditedChannelPost != nil:
		return models.AllowedUpdateEditedChannelPost
	case u.BusinessConnection != nil:
		return models.AllowedUpdateBusinessConnection
	case u.BusinessMessage != nil:
		return models.AllowedUpdateBusinessMessage
	case u.EditedBusinessMessage != nil:
		return models.AllowedUpdateEditedBusinessMessage
	case u.DeletedBusinessMessages != nil:
		return models.AllowedUpdateDeletedBusinessMessages
	case u.MessageReaction != nil:
		return models.AllowedUpdateMessageReaction
	case u.MessageReactionCount != nil:
		return models.AllowedUpdateMessageReactionCount
	case u.InlineQuery != nil:
		return models.AllowedUpdateInlineQuery
	case u.ChosenInlineResult != nil:
		return models.AllowedUpdateChosenInlineResult
	case u.CallbackQuery != nil:
		return models.AllowedUpdateCallbackQuery
	case u.ShippingQuery != nil:
		return models.AllowedUpdateShippingQuery
	case u.PreCheckoutQuery != nil:
		return models.AllowedUpdatePreCheckoutQuery
	case u.PurchasedPaidMedia != nil:
		return models.AllowedUpdatePurchasedPaidMedia
	case u.Poll != nil:
		return models.AllowedUpdatePoll
	case u.PollAnswer != nil:
		return models.AllowedUpdatePollAnswer
	case u.MyChatMember != nil:
		return models.AllowedUpdateMyChatMember
	case u.ChatMember != nil:
		return models.AllowedUpdateChatMember
	case u.ChatJoinRequest != nil:
		return models.AllowedUpdateChatJoinRequest
	case u.ChatBoost != nil:
		return models.AllowedUpdateChatBoost
	case u.RemovedChatBoost != nil:
		return models.AllowedUpdateRemovedChatBoost
	}
	return ""
}

func (s *Server) allowedLocked(kind string) bool {
	if s.allowed == nil {
		// Telegram's default: everything except these three.
		switch kind {
		case models.AllowedUpdateChatMember, models.AllowedUpdateMessageReaction, models.AllowedUpdateMessageReactionCount:
			return false
		}
		return true
	}
	return s.allowed[kind]
}

// setAllowedLocked applies a sticky allowed_updates parameter, if present. An
// empty list restores the default. Like Telegram, it only filters updates
// created afterwards; already queued ones are still delivered.
func (s *Server) setAllowedLocked(p *params) *apiError {
	if strings.TrimSpace(p.str("allowed_updates")) == "" {
		return nil
	}
	var list []string
	if _, err := p.json("allowed_updates", &list); err != nil {
		return badRequest("can't parse allowed_updates JSON array")
	}
	if len(list) == 0 {
		s.allowed, s.allowedList = nil, nil
		return nil
	}
	s.allowed = map[string]bool{}
	s.allowedList = nil
	for _, k := range list {
		if !s.allowed[k] {
			s.allowed[k] = true
			s.allowedList = append(s.allowedList, k)
		}
	}
	return nil
}

// enqueueLocked assigns the next update_id and queues u, unless allowed_updates
// filters it out (then it returns 0).
func (s *Server) enqueueLocked(u models.Update) int64 {
	kind := updateKind(&u)
	if !s.allowedLocked(kind) {
		return 0
	}
	u.ID = s.nextUpdateID
	data, err := marshal(&u)
	if err != nil {
		s.tb.Errorf("telegramtest: marshal update: %v", err)
		return 0
	}
	s.nextUpdateID++
	s.queue = append(s.queue, queuedUpdate{id: u.ID, kind: kind, data: data})
	s.notifyLocked()
	return u.ID
}

// Enqueue queues an arbitrary update (its ID is overwritten) and returns the
// update_id assigned, 0 if allowed_updates filters it out.
func (s *Server) Enqueue(u models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enqueueLocked(u)
}

// confirmLocked applies getUpdates' offset: a positive offset forgets updates
// with a smaller update_id, a negative one keeps only the last -offset updates.
func (s *Server) confirmLocked(offset int64) {
	n := len(s.queue)
	switch {
	case offset > 0:
		i := 0
		for i < len(s.queue) && s.queue[i].id < offset {
			i++
		}
		s.queue = s.queue[i:]
	case offset < 0:
		if keep := -offset; int64(len(s.queue)) > keep {
			s.queue = s.queue[int64(len(s.queue))-keep:]
		}
	}
	if len(s.queue) != n {
		s.notifyLocked()
	}
}

func (s *Server) firstUpdatesLocked(limit int) []json.RawMessage {
	res := make([]json.RawMessage, 0, min(limit, len(s.queue)))
	for _, u := range s.queue[:min(limit, len(s.queue))] {
		res = append(res, u.data)
	}
	return res
}

func (s *Server) getUpdates(ctx context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook.url != "" {
		return nil, conflict(errWebhookActive)
	}
	if e := s.setAllowedLocked(p); e != nil {
		return nil, e
	}
	if offset, ok := p.int64("offset"); ok {
		s.confirmLocked(offset)
	}
	limit := p.int("limit")
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout := max(p.int("timeout"), 0)

	// A newer getUpdates terminates an older one that is still waiting.
	s.pollGen++
	gen := s.pollGen
	s.notifyLocked()

	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(s.scaled(time.Duration(timeout) * time.Second))
		defer t.Stop()
		expire = t.C
	}
	waiting := false
	defer func() { // runs before the deferred Unlock
		if waiting {
			s.polling--
			s.notifyLocked()
		}
	}()
	for {
		if gen != s.pollGen {
			return nil, conflict(errTerminatedPoll)
		}
		if s.webhook.url != "" {
			return nil, conflict(errWebhookActive)
		}
		if ups := s.firstUpdatesLocked(limit); len(ups) > 0 || expire == nil {
			return ups, nil
		}
		if !waiting {
			waiting = true
			s.polling++
			s.notifyLocked()
		}
		ch := s.changed
		s.mu.Unlock()
		var expired, gone bool
		select {
		case <-ch:
		case <-expire:
			expired = true
		case <-ctx.Done():
			gone = true
		case <-s.closed:
			gone = true
		}
		s.mu.Lock()
		if gone {
			return []json.RawMessage{}, nil
		}
		if expired {
			expire = nil // one last look, then answer
		}
	}
}

// webhookLoop delivers queued updates to the webhook one at a time, in order,
// retrying an update until the webhook answers 2xx.
func (s *Server) webhookLoop() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closed:
		case <-ctx.Done():
		}
		cancel()
	}()
	for {
		s.mu.Lock()
		for s.webhook.url == "" || len(s.queue) == 0 {
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-s.closed:
				return
			}
			s.mu.Lock()
		}
		u, wh := s.queue[0], s.webhook
		s.mu.Unlock()

		status, err := s.deliver(ctx, wh, u)
		now := time.Now()
		ok := err == nil && status >= 200 && status < 300

		s.mu.Lock()
		d := WebhookDelivery{UpdateID: u.id, URL: wh.url, SecretToken: wh.secret, Status: status, Time: now}
		if err != nil {
			d.Err = err.Error()
		}
		s.deliveries = append(s.deliveries, d)
		if s.webhook.gen == wh.gen && len(s.queue) > 0 && s.queue[0].id == u.id {
			if ok {
				s.queue = s.queue[1:]
			} else {
				s.webhook.lastErrorDate = now.Unix()
				s.webhook.lastErrorMsg = webhookErrorMessage(status, err)
			}
		}
		s.notifyLocked()
		s.mu.Unlock()

		if !ok {
			t := time.NewTimer(s.cfg.webhookBackoff)
			select {
			case <-t.C:
			case <-s.closed:
				t.Stop()
				return
			}
		}
	}
}

func (s *Server) deliver(ctx context.Context, wh webhookState, u queuedUpdate) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.url, bytes.NewReader(u.data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", wh.secret)
	}
	resp, err := s.cfg.webhookClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// webhookErrorMessage mimics getWebhookInfo's last_error_message.
func webhookErrorMessage(status int, err error) string {
	if err != nil {
		var timeout interface{ Timeout() bool }
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return "Connection refused"
		case errors.As(err, &timeout) && timeout.Timeout():
			return "Read timeout expired"
		}
		return err.Error()
	}
	return fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
}
