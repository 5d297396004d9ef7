package telegramtest

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

const (
	maxMessageLength  = 4096
	maxCallbackData   = 64
	errNotModified    = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	errQueryInvalid   = "query is too old and response timeout expired or query ID is invalid"
	errWebhookActive  = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	errTerminatedPoll = "terminated by other getUpdates request; make sure that only one bot instance is running"
)

func isGroupType(t models.ChatType) bool {
	return t == models.ChatTypeGroup || t == models.ChatTypeSupergroup || t == models.ChatTypeChannel
}

func notMemberError(cs *chatState) *apiError {
	switch cs.chat.Type {
	case models.ChatTypePrivate:
		return forbidden("bot was blocked by the user")
	case models.ChatTypeChannel:
		return forbidden("bot is not a member of the channel chat")
	}
	kind := "group"
	if cs.chat.Type == models.ChatTypeSupergroup {
		kind = "supergroup"
	}
	if cs.kicked {
		return forbidden("bot was kicked from the " + kind + " chat")
	}
	return forbidden("bot is not a member of the " + kind + " chat")
}

func (s *Server) lookupChatLocked(raw string) *chatState {
	raw = strings.TrimSpace(raw)
	if name, ok := strings.CutPrefix(raw, "@"); ok {
		for _, cs := range s.chats {
			if cs.chat.Username != "" && strings.EqualFold(cs.chat.Username, name) {
				return cs
			}
		}
		return nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil
	}
	return s.chats[id]
}

// resolveChatLocked finds the chat_id chat the way the Bot API would refuse it:
// unknown, migrated to a supergroup, or the bot kicked / blocked.
func (s *Server) resolveChatLocked(p *params) (*chatState, *apiError) {
	raw := strings.TrimSpace(p.str("chat_id"))
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	cs := s.lookupChatLocked(raw)
	if cs == nil {
		return nil, badRequest("chat not found")
	}
	if cs.migratedTo != 0 {
		e := badRequest("group chat was upgraded to a supergroup chat")
		e.MigrateToChatID = cs.migratedTo
		return nil, e
	}
	if !cs.member || cs.kicked {
		return nil, notMemberError(cs)
	}
	return cs, nil
}

// formatParams computes the displayed text and entities of a text parameter,
// from "entities" when given, else by parsing with parse_mode.
func formatParams(p *params) (string, []models.MessageEntity, *apiError) {
	text := p.str("text")
	var (
		plain    string
		entities []models.MessageEntity
	)
	if p.has("entities") && strings.TrimSpace(p.str("entities")) != "" {
		if _, err := p.json("entities", &entities); err != nil {
			return "", nil, badRequest("can't parse entities JSON object")
		}
		plain, entities = trimFormatted(text, entities)
	} else {
		var e *apiError
		plain, entities, e = formatText(text, p.str("parse_mode"))
		if e != nil {
			return "", nil, e
		}
	}
	if plain == "" {
		return "", nil, badRequest("message text is empty")
	}
	if utf8.RuneCountInString(plain) > maxMessageLength {
		return "", nil, badRequest("message is too long")
	}
	return plain, entities, nil
}

var inlineButtonActions = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game", "pay",
}

type markup struct {
	inline *models.InlineKeyboardMarkup
	raw    json.RawMessage
	key    string // canonical JSON of a non-empty inline keyboard
}

// parseReplyMarkup validates reply_markup. inlineOnly is for the edit methods,
// which accept only inline keyboards.
func parseReplyMarkup(p *params, inlineOnly bool) (markup, *apiError) {
	v := strings.TrimSpace(p.str("reply_markup"))
	if v == "" {
		return markup{}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &obj); err != nil {
		return markup{}, badRequest("can't parse reply keyboard markup JSON object")
	}
	res := markup{raw: json.RawMessage(v)}
	ik, ok := obj["inline_keyboard"]
	if !ok {
		if inlineOnly {
			return markup{}, badRequest("can't parse inline keyboard markup JSON object")
		}
		for _, k := range []string{"keyboard", "remove_keyboard", "force_reply"} {
			if _, ok := obj[k]; ok {
				return res, nil
			}
		}
		return markup{}, badRequest("can't parse reply keyboard markup JSON object")
	}
	var rows [][]map[string]json.RawMessage
	if err := json.Unmarshal(ik, &rows); err != nil {
		return markup{}, badRequest("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
	}
	buttons := 0
	for _, row := range rows {
		for _, b := range row {
			buttons++
			var text string
			if err := json.Unmarshal(b["text"], &text); err != nil {
				return markup{}, badRequest("can't parse inline keyboard button: Field \"text\" must be of type String")
			}
			actions := 0
			for _, k := range inlineButtonActions {
				if _, ok := b[k]; ok {
					actions++
				}
			}
			if ct, ok := b["copy_text"]; ok {
				var c models.CopyTextButton
				if json.Unmarshal(ct, &c) == nil && c.Text != "" {
					actions++
				}
			}
			if actions == 0 {
				return markup{}, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
			if raw, ok := b["callback_data"]; ok {
				var data string
				if err := json.Unmarshal(raw, &data); err != nil || data == "" || len(data) > maxCallbackData {
					return markup{}, badRequest("BUTTON_DATA_INVALID")
				}
			}
		}
	}
	var m models.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return markup{}, badRequest("can't parse inline keyboard markup JSON object")
	}
	if buttons == 0 {
		return res, nil // an empty inline keyboard is no keyboard
	}
	key, _ := json.Marshal(m)
	res.inline, res.key = &m, string(key)
	return res, nil
}

// replyTargetLocked resolves reply_parameters (or the legacy reply_to_message_id).
func (s *Server) replyTargetLocked(cs *chatState, p *params) (*models.Message, *apiError) {
	var rp struct {
		MessageID int             `json:"message_id"`
		ChatID    json.RawMessage `json:"chat_id"`
		Allow     bool            `json:"allow_sending_without_reply"`
	}
	ok, err := p.json("reply_parameters", &rp)
	if err != nil {
		return nil, badRequest("can't parse reply parameters JSON object")
	}
	if !ok {
		id, has := p.int64("reply_to_message_id")
		if !has || id == 0 {
			return nil, nil
		}
		rp.MessageID, rp.Allow = int(id), p.bool("allow_sending_without_reply")
	}
	target := cs
	if c := strings.TrimSpace(string(rp.ChatID)); c != "" && c != "null" {
		var name string
		if json.Unmarshal(rp.ChatID, &name) == nil {
			c = name
		}
		if target = s.lookupChatLocked(c); target == nil {
			return nil, badRequest("chat not found")
		}
	}
	sm := target.messages[rp.MessageID]
	if sm == nil {
		if rp.Allow {
			return nil, nil
		}
		return nil, badRequest("message to be replied not found")
	}
	m := sm.msg
	m.ReplyToMessage = nil // Telegram does not nest replies
	return &m, nil
}

func entitiesEqual(a, b []models.MessageEntity) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return string(ja) == string(jb)
}

func (s *Server) getMe(_ context.Context, _ *params) (any, *apiError) {
	u := s.bot
	u.CanJoinGroups = true
	return u, nil
}

func (s *Server) sendMessage(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	plain, entities, e := formatParams(p)
	if e != nil {
		return nil, e
	}
	replyTo, e := s.replyTargetLocked(cs, p)
	if e != nil {
		return nil, e
	}
	mk, e := parseReplyMarkup(p, false)
	if e != nil {
		return nil, e
	}
	if e := checkLinkPreview(p); e != nil { // media.go
		return nil, e
	}
	now := time.Now()
	if retry, ok := s.limiter.allow(now, cs.chat.ID, isGroupType(cs.chat.Type)); !ok {
		return nil, tooManyRequests(retry)
	}
	bot := s.bot
	m := models.Message{
		ID:             cs.nextMsgID,
		From:           &bot,
		Date:           int(now.Unix()),
		Chat:           cs.chat,
		Text:           plain,
		Entities:       entities,
		ReplyToMessage: replyTo,
		ReplyMarkup:    mk.inline,
	}
	cs.nextMsgID++
	cs.messages[m.ID] = &storedMessage{msg: m, markupKey: mk.key, fromBot: true}
	rec := Message{
		ChatID:          cs.chat.ID,
		MessageID:       m.ID,
		Text:            p.str("text"),
		PlainText:       plain,
		Entities:        entities,
		ParseMode:       p.str("parse_mode"),
		ReplyMarkup:     mk.inline,
		ReplyMarkupJSON: mk.raw,
		Params:          p.copyValues(),
		Time:            now,
	}
	if replyTo != nil {
		rec.ReplyToMessageID = replyTo.ID
	}
	s.sent = append(s.sent, rec)
	s.notifyLocked()
	return m, nil
}

// editTargetLocked finds the bot message an edit method refers to.
func (s *Server) editTargetLocked(p *params) (*chatState, *storedMessage, *apiError) {
	if !p.has("chat_id") && p.has("inline_message_id") {
		return nil, nil, badRequest("MESSAGE_ID_INVALID") // inline messages are not emulated
	}
	cs, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, nil, e
	}
	id := p.int("message_id")
	if id == 0 {
		return nil, nil, badRequest("message identifier is not specified")
	}
	sm := cs.messages[id]
	if sm == nil {
		return nil, nil, badRequest("message to edit not found")
	}
	if !sm.fromBot {
		return nil, nil, badRequest("message can't be edited")
	}
	return cs, sm, nil
}

func (s *Server) editMessageText(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, sm, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	if sm.msg.Text == "" {
		return nil, badRequest("there is no text in the message to edit")
	}
	plain, entities, e := formatParams(p)
	if e != nil {
		return nil, e
	}
	mk, e := parseReplyMarkup(p, true)
	if e != nil {
		return nil, e
	}
	if plain == sm.msg.Text && entitiesEqual(entities, sm.msg.Entities) && mk.key == sm.markupKey {
		return nil, badRequest(errNotModified)
	}
	now := time.Now()
	if retry, ok := s.limiter.allow(now, cs.chat.ID, isGroupType(cs.chat.Type)); !ok {
		return nil, tooManyRequests(retry)
	}
	m := sm.msg
	m.Text, m.Entities, m.ReplyMarkup, m.EditDate = plain, entities, mk.inline, int(now.Unix())
	cs.messages[m.ID] = &storedMessage{msg: m, markupKey: mk.key, fromBot: true}
	s.edits = append(s.edits, Edit{
		Method:          "editMessageText",
		ChatID:          cs.chat.ID,
		MessageID:       m.ID,
		Text:            p.str("text"),
		PlainText:       plain,
		Entities:        entities,
		ParseMode:       p.str("parse_mode"),
		ReplyMarkup:     mk.inline,
		ReplyMarkupJSON: mk.raw,
		Params:          p.copyValues(),
		Time:            now,
	})
	s.notifyLocked()
	return m, nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, sm, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	mk, e := parseReplyMarkup(p, true)
	if e != nil {
		return nil, e
	}
	if mk.key == sm.markupKey {
		return nil, badRequest(errNotModified)
	}
	now := time.Now()
	m := sm.msg
	m.ReplyMarkup, m.EditDate = mk.inline, int(now.Unix())
	cs.messages[m.ID] = &storedMessage{msg: m, markupKey: mk.key, fromBot: true}
	s.edits = append(s.edits, Edit{
		Method:          "editMessageReplyMarkup",
		ChatID:          cs.chat.ID,
		MessageID:       m.ID,
		ReplyMarkup:     mk.inline,
		ReplyMarkupJSON: mk.raw,
		Params:          p.copyValues(),
		Time:            now,
	})
	s.notifyLocked()
	return m, nil
}

func (s *Server) answerCallbackQuery(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := p.str("callback_query_id")
	cb := s.callbacks[id]
	if cb == nil {
		return nil, badRequest(errQueryInvalid)
	}
	cb.answered = true
	s.answers = append(s.answers, CallbackAnswer{
		CallbackQueryID: id,
		Text:            p.str("text"),
		ShowAlert:       p.bool("show_alert"),
		URL:             p.str("url"),
		CacheTime:       p.int("cache_time"),
		Data:            cb.data,
		ChatID:          cb.chatID,
		MessageID:       cb.messageID,
		Time:            time.Now(),
	})
	s.notifyLocked()
	return true, nil
}

// commandsKey identifies a command list by scope and language code, like Telegram.
func commandsKey(rawScope, lang string) (string, *apiError) {
	typ, chat, user := "default", "", int64(0)
	if strings.TrimSpace(rawScope) != "" {
		var sc struct {
			Type   string          `json:"type"`
			ChatID json.RawMessage `json:"chat_id"`
			UserID int64           `json:"user_id"`
		}
		if err := json.Unmarshal([]byte(rawScope), &sc); err != nil {
			return "", badRequest("can't parse BotCommandScope JSON object")
		}
		chatOf := func() string {
			var name string
			if json.Unmarshal(sc.ChatID, &name) == nil {
				return name
			}
			return strings.TrimSpace(string(sc.ChatID))
		}
		switch sc.Type {
		case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		case "chat", "chat_administrators":
			chat = chatOf()
		case "chat_member":
			chat, user = chatOf(), sc.UserID
		default:
			return "", badRequest("unsupported bot command scope type %q", sc.Type)
		}
		typ = sc.Type
	}
	return typ + "|" + chat + "|" + strconv.FormatInt(user, 10) + "|" + lang, nil
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(_ context.Context, p *params) (any, *apiError) {
	var cmds []models.BotCommand
	if _, err := p.json("commands", &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands specified")
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Description)); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	key, e := commandsKey(p.str("scope"), p.str("language_code"))
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, p *params) (any, *apiError) {
	key, e := commandsKey(p.str("scope"), p.str("language_code"))
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand{}, s.commands[key]...), nil
}

func (s *Server) deleteMyCommands(_ context.Context, p *params) (any, *apiError) {
	key, e := commandsKey(p.str("scope"), p.str("language_code"))
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	s.notifyLocked()
	return true, nil
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(ctx context.Context, p *params) (any, *apiError) {
	raw := strings.TrimSpace(p.str("url"))
	if raw == "" {
		return s.deleteWebhook(ctx, p)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	secret := p.str("secret_token")
	if secret != "" && !secretTokenRE.MatchString(secret) {
		return nil, badRequest("bad webhook: secret token contains unallowed characters")
	}
	maxConn := p.int("max_connections")
	if maxConn <= 0 {
		maxConn = 40
	}
	maxConn = min(maxConn, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.setAllowedLocked(p); e != nil {
		return nil, e
	}
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	desc := "Webhook was set"
	if s.webhook.url == raw && s.webhook.secret == secret {
		desc = "Webhook is already set"
	}
	s.webhook = webhookState{url: raw, secret: secret, maxConnections: maxConn, hasCert: p.files["certificate"], gen: s.webhook.gen + 1}
	s.notifyLocked()
	return described{result: true, description: desc}, nil
}

func (s *Server) deleteWebhook(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	desc := "Webhook was deleted"
	if s.webhook.url == "" {
		desc = "Webhook is already deleted"
	}
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.webhook = webhookState{maxConnections: 40, gen: s.webhook.gen + 1}
	s.notifyLocked()
	return described{result: true, description: desc}, nil
}

func (s *Server) getWebhookInfo(_ context.Context, _ *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := models.WebhookInfo{
		URL:                  s.webhook.url,
		HasCustomCertificate: s.webhook.hasCert,
		PendingUpdateCount:   len(s.queue),
		LastErrorDate:        int(s.webhook.lastErrorDate),
		LastErrorMessage:     s.webhook.lastErrorMsg,
		AllowedUpdates:       append([]string(nil), s.allowedList...),
	}
	if s.webhook.url != "" {
		info.MaxConnections = s.webhook.maxConnections
		info.IPAddress = "127.0.0.1"
	}
	return info, nil
}

// chatInfo is the part of ChatFullInfo the fake knows.
type chatInfo struct {
	ID                int64                    `json:"id"`
	Type              models.ChatType          `json:"type"`
	Title             string                   `json:"title,omitempty"`
	Username          string                   `json:"username,omitempty"`
	FirstName         string                   `json:"first_name,omitempty"`
	LastName          string                   `json:"last_name,omitempty"`
	AccentColorID     int                      `json:"accent_color_id"`
	MaxReactionCount  int                      `json:"max_reaction_count"`
	AcceptedGiftTypes models.AcceptedGiftTypes `json:"accepted_gift_types"`
}

func (s *Server) getChat(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	c := cs.chat
	return chatInfo{
		ID: c.ID, Type: c.Type, Title: c.Title, Username: c.Username, FirstName: c.FirstName, LastName: c.LastName,
		MaxReactionCount:  11,
		AcceptedGiftTypes: models.AcceptedGiftTypes{UnlimitedGifts: true, LimitedGifts: true, UniqueGifts: true},
	}, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.resolveChatLocked(p); e != nil {
		return nil, e
	}
	if !chatActions[p.str("action")] {
		return nil, badRequest("wrong parameter action in request")
	}
	return true, nil
}
