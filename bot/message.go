package bot

import (
	"context"
	"strings"

	"github.com/go-telegram/bot/models"
)

// onMessage routes a message: service messages, commands, then reports. In groups Telegram's
// privacy mode shows the bot only commands, replies to its own messages and mentions, so
// those are the ways to report.
func (b *Bot) onMessage(ctx context.Context, updateID int64, m *models.Message, edited bool) error {
	if m.MigrateToChatID != 0 { // the group became a supergroup: the binding follows it
		if err := b.store.MigrateChat(ctx, m.Chat.ID, m.MigrateToChatID); err != nil {
			return retry(err)
		}
		b.log.Info("group became a supergroup: its binding and message index follow", "old_chat", m.Chat.ID, "new_chat", m.MigrateToChatID)
		return nil
	}
	// Bots are not departments, but an anonymous admin and a member posting as the group or
	// a channel come with a bot as From and the real sender in sender_chat: the group's own
	// voice. A channel post forwarded into a linked group automatically is not a reply.
	if m.IsAutomaticForward || m.From != nil && m.From.IsBot && m.SenderChat == nil {
		return nil
	}
	for _, u := range m.NewChatMembers {
		if u.Username == b.username {
			b.reply(ctx, m, b.state().texts.AddedToGroup(b.username))
			return nil
		}
	}
	if b.isPlanFile(m) && !edited {
		b.previewPlan(ctx, m)
		return nil
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if cmd, args, ok := b.command(text); ok {
		switch {
		case edited && cmd == "report":
			return b.report(ctx, updateID, m, args, sourceCommand, true) // a correction
		case edited:
			return nil // re-running any other command because its message was edited would surprise
		}
		return b.onCommand(ctx, updateID, m, cmd, args)
	}
	mentioned := b.mentions(text)
	fromBot := m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && m.ReplyToMessage.From.Username == b.username
	if !fromBot && !mentioned {
		if m.Chat.Type == models.ChatTypePrivate && !edited {
			b.reply(ctx, m, b.state().texts.Help(b.isAdmin(userID(m.From))))
		}
		return nil
	}
	if mentioned {
		text = strings.TrimSpace(strings.ReplaceAll(text, "@"+b.username, ""))
	}
	source := sourceReply
	if !fromBot {
		source = sourceMention
	}
	return b.report(ctx, updateID, m, text, source, edited)
}

// command splits "/report@duban_bot 12 已完成" into "report" and "12 已完成". A command meant
// for another bot is not ours.
func (b *Bot) command(text string) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, args, _ := strings.Cut(text[1:], " ")
	if h, a, found := strings.Cut(head, "\n"); found { // "/report\n12 已完成"
		head, args = h, strings.TrimSpace(a+" "+args)
	}
	name, target, addressed := strings.Cut(head, "@")
	if addressed && !strings.EqualFold(target, b.username) {
		return "", "", false
	}
	return strings.ToLower(name), strings.TrimSpace(args), name != ""
}

func (b *Bot) mentions(text string) bool {
	return b.username != "" && strings.Contains(text, "@"+b.username)
}
