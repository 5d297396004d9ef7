package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiError is a Bot API error answer.
type apiError struct {
	Code            int
	Description     string
	RetryAfter      int
	MigrateToChatID int64
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusBadRequest, Description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func forbidden(desc string) *apiError {
	return &apiError{Code: http.StatusForbidden, Description: "Forbidden: " + desc}
}

func conflict(desc string) *apiError {
	return &apiError{Code: http.StatusConflict, Description: "Conflict: " + desc}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{
		Code:        http.StatusTooManyRequests,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		RetryAfter:  retryAfter,
	}
}

type responseParameters struct {
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
	RetryAfter      int   `json:"retry_after,omitempty"`
}

type response struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Description string              `json:"description,omitempty"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

// described is a successful result that also carries a description, like
// setWebhook's {"ok":true,"result":true,"description":"Webhook was set"}.
type described struct {
	result      any
	description string
}

// params are a request's parameters: query string and body merged, every value
// a string, nested objects as their JSON text (the way multipart carries them).
type params struct {
	values  map[string]string
	files   map[string]bool
	uploads map[string]upload // the files' names and bytes (media.go)
}

func (p *params) has(k string) bool { _, ok := p.values[k]; return ok }

func (p *params) str(k string) string { return p.values[k] }

func (p *params) int64(k string) (int64, bool) {
	v, ok := p.values[k]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func (p *params) int(k string) int {
	n, _ := p.int64(k)
	return int(n)
}

func (p *params) bool(k string) bool {
	v := strings.ToLower(strings.TrimSpace(p.values[k]))
	return v == "true" || v == "1"
}

func (p *params) json(k string, dst any) (bool, error) {
	v, ok := p.values[k]
	if !ok || strings.TrimSpace(v) == "" {
		return false, nil
	}
	return true, json.Unmarshal([]byte(v), dst)
}

func (p *params) copyValues() map[string]string {
	m := make(map[string]string, len(p.values))
	for k, v := range p.values {
		m[k] = v
	}
	return m
}

const maxBody = 50 << 20

// parseParams accepts what the real Bot API accepts: a query string plus an
// application/json, application/x-www-form-urlencoded or multipart/form-data body.
func parseParams(r *http.Request) (*params, error) {
	p := &params{values: map[string]string{}, files: map[string]bool{}, uploads: map[string]upload{}}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p.values[k] = v[0]
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	mediaType, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("multipart: %w", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, fmt.Errorf("multipart: %w", err)
			}
			if part.FileName() != "" {
				p.files[part.FormName()] = true
				p.uploads[part.FormName()] = upload{name: part.FileName(), data: data}
				continue
			}
			p.values[part.FormName()] = string(data)
		}
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, v := range q {
			if len(v) > 0 {
				p.values[k] = v[0]
			}
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, raw := range m {
			raw = bytes.TrimSpace(raw)
			switch {
			case bytes.Equal(raw, []byte("null")):
			case len(raw) > 0 && raw[0] == '"':
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, err
				}
				p.values[k] = s
			default:
				p.values[k] = string(raw)
			}
		}
	}
	return p, nil
}

type handlerFunc func(s *Server, ctx context.Context, p *params) (any, *apiError)

type method struct {
	name string
	fn   handlerFunc
}

// methods maps lower-cased method names (the Bot API is case-insensitive) to handlers.
var methods = map[string]method{}

func register(name string, fn handlerFunc) {
	methods[strings.ToLower(name)] = method{name: name, fn: fn}
}

func init() {
	register("getMe", (*Server).getMe)
	register("getUpdates", (*Server).getUpdates)
	register("sendMessage", (*Server).sendMessage)
	register("editMessageText", (*Server).editMessageText)
	register("editMessageReplyMarkup", (*Server).editMessageReplyMarkup)
	register("answerCallbackQuery", (*Server).answerCallbackQuery)
	register("setMyCommands", (*Server).setMyCommands)
	register("getMyCommands", (*Server).getMyCommands)
	register("deleteMyCommands", (*Server).deleteMyCommands)
	register("setWebhook", (*Server).setWebhook)
	register("deleteWebhook", (*Server).deleteWebhook)
	register("getWebhookInfo", (*Server).getWebhookInfo)
	register("getChat", (*Server).getChat)
	register("sendChatAction", (*Server).sendChatAction)
}

// zeroCopyText is what models.InlineKeyboardButton's non-pointer CopyText field
// marshals to when unset; Telegram never sends it, so the fake drops it. (Inside a
// JSON string the quotes would be escaped, so this cannot match user text.)
var zeroCopyText = []byte(`,"copy_text":{"text":""}`)

// marshal is json.Marshal minus the library's zero-value artefacts.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(b, zeroCopyText, nil), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: fake could not encode its answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	resp := response{OK: false, ErrorCode: e.Code, Description: e.Description}
	if e.RetryAfter > 0 || e.MigrateToChatID != 0 {
		resp.Parameters = &responseParameters{RetryAfter: e.RetryAfter, MigrateToChatID: e.MigrateToChatID}
	}
	writeJSON(w, e.Code, resp)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok { // file downloads: files.go
		s.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeError(w, &apiError{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	if token != s.cfg.token {
		writeError(w, &apiError{Code: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	}
	m, known := methods[strings.ToLower(name)]
	if !known {
		s.mu.Lock()
		s.calls[strings.ToLower(name)]++
		s.requests = append(s.requests, Request{Method: name, Time: time.Now(), Status: http.StatusNotFound, Description: "Not Found"})
		s.notifyLocked()
		s.mu.Unlock()
		writeError(w, &apiError{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	p, err := parseParams(r)
	if err != nil {
		p = &params{values: map[string]string{}}
	}
	chatID, _ := p.int64("chat_id")

	s.mu.Lock()
	key := strings.ToLower(m.name)
	s.calls[key]++
	delay := s.delays[key]
	var injected *failure
	if q := s.failures[key]; len(q) > 0 {
		injected = &q[0]
		s.failures[key] = q[1:]
	}
	s.notifyLocked()
	s.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.closed:
		}
		t.Stop()
	}

	var (
		result any
		aerr   *apiError
	)
	switch {
	case err != nil:
		aerr = badRequest("can't parse request body: %v", err)
	case injected != nil:
		aerr = &apiError{Code: injected.code, Description: injected.desc, RetryAfter: injected.retryAfter}
	default:
		// Handlers run even if the client went away (as a request that reached
		// Telegram would); only getUpdates' long poll watches the context.
		result, aerr = m.fn(s, r.Context(), p)
	}

	req := Request{Method: m.name, ChatID: chatID, Time: time.Now(), Status: http.StatusOK}
	if aerr != nil {
		req.Status, req.Description, req.RetryAfter = aerr.Code, aerr.Description, aerr.RetryAfter
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.notifyLocked()
	s.mu.Unlock()

	if aerr != nil {
		writeError(w, aerr)
		return
	}
	resp := response{OK: true, Result: result}
	if d, ok := result.(described); ok {
		resp.Result, resp.Description = d.result, d.description
	}
	writeJSON(w, http.StatusOK, resp)
}
