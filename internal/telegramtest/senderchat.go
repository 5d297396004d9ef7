package telegramtest

import "github.com/go-telegram/bot/models"

// The bots Telegram names as From when a message's real sender is a chat (sender_chat): an
// anonymous group admin, or a member posting as the group, comes from GroupAnonymousBot; a
// member posting as a channel comes from Channel_Bot.
var (
	anonymousAdmin = User{ID: 1087968824, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}
	channelBot     = User{ID: 136817688, IsBot: true, FirstName: "Channel", Username: "Channel_Bot"}
)

// SendAsChat queues a message in group chat whose sender is the chat as: the group itself
// (an anonymous admin, or "send as" the group) or a channel ("send as" a channel). replyTo is
// a message of the chat to reply to, 0 for none. Like Send, commands and mentions in text are
// detected.
func (s *Server) SendAsChat(chat, as Chat, replyTo int, text string) models.Message {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	from := anonymousAdmin
	if as.ID != chat.ID {
		from = channelBot
	}
	cs, ok := s.userChatLocked(chat, from)
	if !ok {
		return models.Message{}
	}
	m := s.nextMessageLocked(cs, from)
	sender := as
	m.SenderChat = &sender
	m.Text, m.Entities = text, detectEntities(text)
	if replyTo != 0 {
		orig := cs.messages[replyTo]
		if orig == nil {
			s.misuse("SendAsChat: chat %d has no message %d", chat.ID, replyTo)
			return models.Message{}
		}
		rt := orig.msg
		rt.ReplyToMessage = nil
		m.ReplyToMessage = &rt
	}
	s.deliverLocked(cs, m, false)
	return m
}
