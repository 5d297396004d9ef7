package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// The methods in this file act as Telegram users would and queue the updates
// Telegram would send the bot. Misuse (a chat without an id or type, an unknown
// message, pressing a button that does not exist...) is reported with Errorf on
// the testing.TB given to New, and the zero value is returned.

// groupAdmin is who performs group actions when no user of the chat is known.
var groupAdmin = User{ID: 100000001, FirstName: "Group", LastName: "Admin"}

func (s *Server) misuse(format string, args ...any) {
	s.tb.Helper()
	s.tb.Errorf("telegramtest: "+format, args...)
}

func validChat(c Chat) bool { return c.ID != 0 && c.Type != "" }

// chatLocked returns the state of c, creating it (with the bot a member) if new.
func (s *Server) chatLocked(c Chat) *chatState {
	cs := s.chats[c.ID]
	if cs == nil {
		cs = &chatState{chat: c, nextMsgID: 1, messages: map[int]*storedMessage{}, member: true}
		s.chats[c.ID] = cs
	}
	return cs
}

func (s *Server) userOf(cs *chatState) User {
	if cs.chat.Type == models.ChatTypePrivate {
		return User{ID: cs.chat.ID, FirstName: cs.chat.FirstName, LastName: cs.chat.LastName, Username: cs.chat.Username}
	}
	if cs.lastUser != nil {
		return *cs.lastUser
	}
	return groupAdmin
}

func (s *Server) nextMessageLocked(cs *chatState, from User) models.Message {
	m := models.Message{ID: cs.nextMsgID, From: &from, Date: int(time.Now().Unix()), Chat: cs.chat}
	cs.nextMsgID++
	return m
}

func (s *Server) storeLocked(cs *chatState, m models.Message, fromBot bool) {
	key := ""
	if m.ReplyMarkup != nil {
		if b, err := json.Marshal(m.ReplyMarkup); err == nil {
			key = string(b)
		}
	}
	cs.messages[m.ID] = &storedMessage{msg: m, markupKey: key, fromBot: fromBot}
}

func memberStatus(t models.ChatMemberType, u User) models.ChatMember {
	switch t {
	case models.ChatMemberTypeLeft:
		return models.ChatMember{Type: t, Left: &models.ChatMemberLeft{User: &u}}
	case models.ChatMemberTypeBanned:
		return models.ChatMember{Type: t, Banned: &models.ChatMemberBanned{User: &u}}
	default:
		return models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{User: &u}}
	}
}

func (s *Server) myChatMemberLocked(cs *chatState, from User, oldStatus, newStatus models.ChatMemberType) {
	s.enqueueLocked(models.Update{MyChatMember: &models.ChatMemberUpdated{
		Chat:          cs.chat,
		From:          from,
		Date:          int(time.Now().Unix()),
		OldChatMember: memberStatus(oldStatus, s.bot),
		NewChatMember: memberStatus(newStatus, s.bot),
	}})
}

// userChatLocked prepares chat for a message from a user: registers it, refuses
// migrated groups, and unblocks a private chat the user had blocked (Telegram
// sends my_chat_member kicked -> member when the user restarts the bot).
func (s *Server) userChatLocked(chat Chat, from User) (*chatState, bool) {
	s.tb.Helper()
	if !validChat(chat) {
		s.misuse("chat %+v needs an id and a type (use PrivateChat, GroupChat or SupergroupChat)", chat)
		return nil, false
	}
	cs := s.chatLocked(chat)
	if cs.migratedTo != 0 {
		s.misuse("chat %d was migrated to supergroup %d; send to the new chat", chat.ID, cs.migratedTo)
		return nil, false
	}
	if chat.Type == models.ChatTypePrivate && cs.kicked {
		cs.kicked, cs.member = false, true
		s.myChatMemberLocked(cs, from, models.ChatMemberTypeBanned, models.ChatMemberTypeMember)
	}
	u := from
	cs.lastUser = &u
	return cs, true
}

// deliverLocked stores m and queues it as an update if the bot is in the chat.
func (s *Server) deliverLocked(cs *chatState, m models.Message, edited bool) {
	s.storeLocked(cs, m, false)
	if !cs.member || cs.kicked {
		return
	}
	if edited {
		s.enqueueLocked(models.Update{EditedMessage: &m})
	} else {
		s.enqueueLocked(models.Update{Message: &m})
	}
}

// AddChat makes the fake know chat, with the bot a member, without queueing any
// update, so the bot can message it first (the real API answers "chat not found"
// for chats the bot has never seen).
func (s *Server) AddChat(chat Chat) {
	s.tb.Helper()
	if !validChat(chat) {
		s.misuse("chat %+v needs an id and a type", chat)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chat)
}

// Send queues a text message from a user in chat and returns it as the bot will
// receive it. Like Telegram, bot_command (e.g. "/start", "/help@bot") and
// mention entities are detected in the text.
func (s *Server) Send(chat Chat, from User, text string) models.Message {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.userChatLocked(chat, from)
	if !ok {
		return models.Message{}
	}
	if strings.TrimSpace(text) == "" {
		s.misuse("Send: a user cannot send an empty message")
		return models.Message{}
	}
	m := s.nextMessageLocked(cs, from)
	m.Text, m.Entities = text, detectEntities(text)
	s.deliverLocked(cs, m, false)
	return m
}

// Reply queues a message from a user replying to message replyTo (usually one
// the bot sent) in chat; reply_to_message carries that message's current state.
func (s *Server) Reply(chat Chat, from User, replyTo int, text string) models.Message {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.userChatLocked(chat, from)
	if !ok {
		return models.Message{}
	}
	orig := cs.messages[replyTo]
	if orig == nil {
		s.misuse("Reply: chat %d has no message %d", chat.ID, replyTo)
		return models.Message{}
	}
	m := s.nextMessageLocked(cs, from)
	m.Text, m.Entities = text, detectEntities(text)
	rt := orig.msg
	rt.ReplyToMessage = nil
	m.ReplyToMessage = &rt
	s.deliverLocked(cs, m, false)
	return m
}

// Edit queues an edited_message update: the user edits their own message.
func (s *Server) Edit(chat Chat, from User, messageID int, newText string) models.Message {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.userChatLocked(chat, from)
	if !ok {
		return models.Message{}
	}
	sm := cs.messages[messageID]
	if sm == nil || sm.fromBot || sm.msg.From == nil || sm.msg.From.ID != from.ID {
		s.misuse("Edit: message %d in chat %d is not a message of user %d", messageID, chat.ID, from.ID)
		return models.Message{}
	}
	m := sm.msg
	m.Text, m.Entities, m.EditDate = newText, detectEntities(newText), int(time.Now().Unix())
	s.deliverLocked(cs, m, true)
	return m
}

func hasCallbackButton(mk *models.InlineKeyboardMarkup, data string) bool {
	if mk == nil {
		return false
	}
	for _, row := range mk.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return true
			}
		}
	}
	return false
}

func callbackData(mk *models.InlineKeyboardMarkup) []string {
	var res []string
	if mk == nil {
		return nil
	}
	for _, row := range mk.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != "" {
				res = append(res, b.CallbackData)
			}
		}
	}
	return res
}

func chatInstance(chatID int64) string {
	return strconv.FormatUint((uint64(chatID)*0x9E3779B97F4A7C15)>>1, 10)
}

// Press queues a callback_query: the user presses the inline button with
// callbackData on the bot's message messageID. The button must exist in the
// message's current keyboard. It returns the callback query id, which
// CallbackAnswers reports once the bot answers.
func (s *Server) Press(chat Chat, from User, messageID int, callbackData string) string {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.userChatLocked(chat, from)
	if !ok {
		return ""
	}
	sm := cs.messages[messageID]
	if sm == nil {
		s.misuse("Press: chat %d has no message %d", chat.ID, messageID)
		return ""
	}
	if !hasCallbackButton(sm.msg.ReplyMarkup, callbackData) {
		s.misuse("Press: message %d in chat %d has no button with callback_data %q (it has %q)",
			messageID, chat.ID, callbackData, callbackDataList(sm.msg.ReplyMarkup))
		return ""
	}
	id := strconv.FormatInt(s.nextCallbck, 10)
	s.nextCallbck++
	s.callbacks[id] = &callbackState{data: callbackData, chatID: cs.chat.ID, messageID: messageID}
	m := sm.msg
	if cs.member && !cs.kicked {
		s.enqueueLocked(models.Update{CallbackQuery: &models.CallbackQuery{
			ID:           id,
			From:         from,
			Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &m},
			ChatInstance: chatInstance(cs.chat.ID),
			Data:         callbackData,
		}})
	}
	return id
}

func callbackDataList(mk *models.InlineKeyboardMarkup) string {
	return fmt.Sprint(callbackData(mk))
}

// AddBotToGroup queues what Telegram sends when from adds the bot to a group or
// supergroup: a my_chat_member update (left -> member) and a service message
// with new_chat_members. With a non-empty startParam (the bot was added through
// t.me/<bot>?startgroup=<startParam>) it also queues the message
// "/start@<bot username> <startParam>" from that user.
func (s *Server) AddBotToGroup(chat Chat, from User, startParam string) {
	s.tb.Helper()
	if chat.Type != models.ChatTypeGroup && chat.Type != models.ChatTypeSupergroup {
		s.misuse("AddBotToGroup: chat %d is a %q, not a group or supergroup", chat.ID, chat.Type)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := models.ChatMemberTypeLeft
	if cs := s.chats[chat.ID]; cs != nil {
		if cs.migratedTo != 0 {
			s.misuse("AddBotToGroup: chat %d was migrated to %d", chat.ID, cs.migratedTo)
			return
		}
		if cs.member && !cs.kicked {
			s.misuse("AddBotToGroup: the bot is already a member of chat %d", chat.ID)
			return
		}
		if cs.kicked {
			old = models.ChatMemberTypeBanned
		}
	}
	cs := s.chatLocked(chat)
	cs.chat = chat
	cs.member, cs.kicked = true, false
	u := from
	cs.lastUser = &u
	s.myChatMemberLocked(cs, from, old, models.ChatMemberTypeMember)
	m := s.nextMessageLocked(cs, from)
	m.NewChatMembers = []User{s.bot}
	s.deliverLocked(cs, m, false)
	if startParam != "" {
		m := s.nextMessageLocked(cs, from)
		m.Text = "/start@" + s.cfg.username + " " + startParam
		m.Entities = detectEntities(m.Text)
		s.deliverLocked(cs, m, false)
	}
}

// MigrateGroup upgrades the basic group oldChat to a supergroup and returns the
// new chat (id -100<old id digits>). Like Telegram it queues a service message
// with migrate_to_chat_id in the old chat and one with migrate_from_chat_id in
// the new one; afterwards the Bot API answers requests for the old chat id with
// 400 "Bad Request: group chat was upgraded to a supergroup chat" and
// parameters.migrate_to_chat_id (bot.MigrateError in the library).
func (s *Server) MigrateGroup(oldChat Chat) Chat {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[oldChat.ID]
	if cs == nil || cs.chat.Type != models.ChatTypeGroup || cs.migratedTo != 0 {
		s.misuse("MigrateGroup: %d is not a known, unmigrated basic group", oldChat.ID)
		return Chat{}
	}
	abs := cs.chat.ID
	if abs < 0 {
		abs = -abs
	}
	newChat := Chat{ID: -(supergroupBase + abs), Type: models.ChatTypeSupergroup, Title: cs.chat.Title}
	if s.chats[newChat.ID] != nil {
		s.misuse("MigrateGroup: chat %d already exists", newChat.ID)
		return Chat{}
	}
	from := s.userOf(cs)
	m := s.nextMessageLocked(cs, from)
	m.MigrateToChatID = newChat.ID
	s.deliverLocked(cs, m, false)
	cs.migratedTo = newChat.ID

	ncs := s.chatLocked(newChat)
	ncs.member, ncs.kicked, ncs.lastUser = cs.member, cs.kicked, cs.lastUser
	nm := s.nextMessageLocked(ncs, from)
	nm.MigrateFromChatID = cs.chat.ID
	s.deliverLocked(ncs, nm, false)
	return newChat
}

// Kick removes the bot from chat (for a private chat: the user blocks the bot)
// and queues the my_chat_member update (member -> kicked). Afterwards sending to
// the chat answers 403 "Forbidden: bot was kicked from the group chat" (or
// "... the supergroup chat", "Forbidden: bot was blocked by the user").
func (s *Server) Kick(chat Chat) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chat.ID]
	if cs == nil {
		if !validChat(chat) {
			s.misuse("Kick: unknown chat %+v", chat)
			return
		}
		cs = s.chatLocked(chat)
	}
	if cs.kicked {
		return
	}
	s.myChatMemberLocked(cs, s.userOf(cs), models.ChatMemberTypeMember, models.ChatMemberTypeBanned)
	cs.kicked, cs.member = true, false
}
