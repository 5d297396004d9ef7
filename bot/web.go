package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
	"github.com/duban/duban/web"
)

// webCommand is /web: a one-time sign-in link to the web view, scoped by where it is asked
// for; "/web logout" ends the sender's sessions, "/web revoke USER_ID" (admins) another's.
//
// Who gets what: an admin in a private chat and anyone in the supervisors chat read
// everything; a bound department's group reads that department's page only; nobody else
// gets a link. A link given in a group is seen by the group: that is the point of asking
// there, and it opens no more than the group may read.
func (b *Bot) webCommand(ctx context.Context, m *models.Message, args string) error {
	t := b.state().texts
	if b.web == nil {
		b.reply(ctx, m, t.WebOff())
		return nil
	}
	admin := b.isAdmin(personID(m))
	switch fields := strings.Fields(args); {
	case len(fields) == 0:
	case len(fields) == 1 && fields[0] == "logout":
		user := personID(m)
		if user == 0 {
			b.reply(ctx, m, t.WebNoUser())
			return nil
		}
		n, err := b.web.RevokeUser(ctx, user)
		if err != nil {
			return retry(err)
		}
		b.log.Info("web sessions revoked", "user", user, "sessions", n, "by", personName(m))
		b.reply(ctx, m, t.WebLoggedOut(n))
		return nil
	case fields[0] == "revoke":
		if !admin {
			b.reply(ctx, m, t.AdminOnly(personID(m)))
			return nil
		}
		var user int64
		if len(fields) == 2 {
			user, _ = strconv.ParseInt(fields[1], 10, 64)
		}
		if user <= 0 {
			b.reply(ctx, m, t.WebUsage())
			return nil
		}
		n, err := b.web.RevokeUser(ctx, user)
		if err != nil {
			return retry(err)
		}
		b.log.Info("web sessions revoked", "user", user, "sessions", n, "by", personName(m))
		b.reply(ctx, m, t.WebRevoked(user, n))
		return nil
	default:
		b.reply(ctx, m, t.WebUsage())
		return nil
	}

	scope := web.Scope{User: personID(m)}
	switch {
	case m.Chat.Type == models.ChatTypePrivate:
		if !admin {
			b.reply(ctx, m, t.AdminOnly(personID(m)))
			return nil
		}
	case b.isSupervisorsChat(m.Chat.ID):
	default:
		binding, bound, err := b.chatDepartment(ctx, m.Chat.ID)
		if err != nil {
			return err
		}
		if !bound {
			b.reply(ctx, m, t.WebNotHere())
			return nil
		}
		scope.Department = binding.Department
	}
	link, err := b.web.IssueLink(ctx, scope)
	if errors.Is(err, store.ErrInvalid) { // bound to a department config.yaml no longer has
		b.reply(ctx, m, t.WebNotHere())
		return nil
	}
	if err != nil {
		return retry(err)
	}
	// The link itself never reaches the log: until it is used or expires, it is a way in.
	b.log.Info("web sign-in link issued", "chat", m.Chat.ID, "department", scope.Department, "by", personName(m))
	// A tappable link with the preview off: to preview a link Telegram fetches it, which
	// would spend the single-use token before anyone taps it.
	msg := sender.Message{ChatID: m.Chat.ID, ThreadID: threadOf(m), ReplyTo: m.ID, NoPreview: true,
		Text: t.WebLink(link, scope.Department, int(web.LinkTTL/time.Minute))}
	b.answers.enqueue(answer{chat: m.Chat.ID, what: "reply", send: func(ctx context.Context) {
		if _, err := b.send.Send(ctx, msg); err != nil {
			b.log.Warn("reply not delivered", "chat", msg.ChatID, "err", err)
		}
	}})
	return nil
}
