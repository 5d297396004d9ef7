// Package telegramtest is a fake Telegram Bot API server for tests.
//
// It speaks the real HTTP API, so the code under test uses its ordinary client
// (github.com/go-telegram/bot) pointed at the fake:
//
//	srv := telegramtest.New(t)
//	b, _ := bot.New(srv.Token(), bot.WithServerURL(srv.URL()), bot.WithSkipGetMe())
//
//	alice := telegramtest.NewUser(1001, "Alice")
//	srv.Send(telegramtest.PrivateChat(alice), alice, "/start") // queue an update
//	// ... run the bot (b.Start, or getUpdates / a webhook) ...
//	msgs := srv.WaitSent(t, 1, 5*time.Second)                 // what it answered
//
// # Protocol
//
// Requests go to URL()+"/bot"+Token()+"/"+method, as GET with a query string or
// POST with a multipart/form-data (what go-telegram/bot always sends; nested
// objects such as reply_markup arrive as JSON text in a form field),
// application/x-www-form-urlencoded or application/json body (nested objects may
// be JSON objects or JSON text). Method names are case-insensitive. Answers are
// {"ok":true,"result":...} or {"ok":false,"error_code":N,"description":"...",
// "parameters":{...}} with the HTTP status equal to error_code, e.g.
//
//	401 {"ok":false,"error_code":401,"description":"Unauthorized"}                 wrong token
//	404 {"ok":false,"error_code":404,"description":"Not Found"}                    unknown method
//	429 {"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}
//	400 "Bad Request: group chat was upgraded to a supergroup chat", parameters.migrate_to_chat_id
//	403 "Forbidden: bot was kicked from the group chat" / "... the supergroup chat" / "Forbidden: bot was blocked by the user"
//
// which go-telegram/bot turns into ErrorUnauthorized, ErrorNotFound,
// *TooManyRequestsError, *MigrateError and ErrorForbidden.
//
// # Methods
//
//   - getMe.
//   - getUpdates: updates stay queued until confirmed by an offset greater than
//     their update_id (a negative offset keeps only the last -offset); limit 1–100
//     (default 100); timeout long-polls, returning as soon as an update arrives or
//     the client's context ends; allowed_updates is sticky and, like Telegram's,
//     filters updates created afterwards (default: all but chat_member,
//     message_reaction, message_reaction_count). A getUpdates while a webhook is
//     set gets 409 "Conflict: can't use getUpdates method while webhook is active;
//     use deleteWebhook to delete the webhook first"; a newer getUpdates makes a
//     still-waiting older one return 409 "Conflict: terminated by other getUpdates
//     request; make sure that only one bot instance is running".
//   - sendMessage: per-chat increasing message_id (shared with the users'
//     messages, like in real chats); parse_mode HTML, MarkdownV2 and Markdown are
//     parsed by a port of TDLib's parsers (the code the Bot API runs), so the
//     entities, UTF-16 offsets and "Bad Request: can't parse entities: ..." errors
//     are Telegram's; "entities" may replace parse_mode. The text is trimmed; an
//     empty result is "Bad Request: message text is empty", more than 4096
//     characters (runes, after entity parsing) "Bad Request: message is too long".
//     reply_parameters (and the legacy reply_to_message_id) must name a known
//     message ("Bad Request: message to be replied not found") unless
//     allow_sending_without_reply. reply_markup is validated: inline buttons need
//     an action ("... Text buttons are unallowed in the inline keyboard") and
//     callback_data of 1–64 bytes ("Bad Request: BUTTON_DATA_INVALID").
//   - editMessageText, editMessageReplyMarkup: only the bot's own messages
//     ("message to edit not found", "message can't be edited"); an edit that
//     changes nothing is "Bad Request: message is not modified: ..."; omitting
//     reply_markup removes the inline keyboard, as on Telegram.
//   - answerCallbackQuery: the id must come from Press ("Bad Request: query is too
//     old and response timeout expired or query ID is invalid").
//   - setMyCommands, getMyCommands, deleteMyCommands: stored per scope and
//     language_code; commands must match [a-z0-9_]{1,32} ("BOT_COMMAND_INVALID").
//   - setWebhook (url, secret_token, max_connections, allowed_updates,
//     drop_pending_updates), deleteWebhook (drop_pending_updates), getWebhookInfo
//     (pending_update_count, last_error_date, last_error_message such as "Wrong
//     response from the webhook: 500 Internal Server Error").
//   - getChat (id, type, title, names), sendChatAction.
//
// Sending needs a chat the fake knows: one a user wrote in (Send, Reply, ...),
// the bot was added to (AddBotToGroup), or registered with AddChat. Others get
// "Bad Request: chat not found", as a real bot would for a chat it has never seen.
//
// # Acting as users
//
// Send, Reply, Edit, Press, AddBotToGroup, MigrateGroup and Kick queue the
// updates Telegram would send: messages (with bot_command and mention entities
// detected as Telegram does), edited_message, callback_query carrying the
// message's current state, my_chat_member, new_chat_members, migrate_to_chat_id /
// migrate_from_chat_id service messages, and "/start@<bot> <code>" after a
// ?startgroup=<code> deep link. Messages in a chat the bot was kicked from are
// not delivered; a user writing to a bot they blocked unblocks it
// (my_chat_member kicked -> member). Enqueue queues any other update. Chats are
// models.Chat (PrivateChat, GroupChat with a negative id, SupergroupChat with a
// -100... id).
//
// # Webhooks
//
// With a webhook set, a background goroutine POSTs queued updates as JSON, one
// at a time and in order, with X-Telegram-Bot-Api-Secret-Token when a secret was
// given, retrying the same update after WithWebhookBackoff until the webhook
// answers 2xx. WebhookDeliveries lists every attempt.
//
// # Flood limits and time scale
//
// sendMessage and editMessageText are limited like Telegram: about one message
// per second per chat, 20 per minute per group or supergroup, 30 per second
// overall (WithLimits, WithoutLimits). Over a limit the answer is 429 with
// retry_after, in whole seconds (at least 1), until the window that refused the
// message frees. WithTimeScale(s) makes one Telegram second last s wall-clock
// seconds: limit windows and getUpdates' timeout shrink, but retry_after stays in
// Telegram seconds. A client under test must therefore wait retry_after*s seconds
// before retrying; Server.RetryAfter(n) computes that duration, so configure the
// client's sleep with it (for instance func(n int) { time.Sleep(srv.RetryAfter(n)) }),
// or give the client the same scale. Waiting that long always frees the window
// that caused the 429 (other chats may still consume the global budget).
//
// # Faults
//
// FailNext makes the next n calls of a method fail with any code, description
// and retry_after (500 "Internal Server Error", 502 "Bad Gateway", 429...).
// Delay holds requests of a method for a wall-clock duration; the request is
// still carried out if the client gives up meanwhile, so timeouts followed by
// retries can duplicate messages as they can with the real service.
//
// # Observing
//
// Sent, SentTo, Edits, CallbackAnswers, Commands, CommandsForScope,
// StoredMessage, Calls, Requests (method, chat, time, status: e.g. to count 429s
// per chat), Pending, Polling and WebhookDeliveries report what happened.
// WaitSent, WaitSentContext and WaitFor sleep on a broadcast channel that every
// state change closes (a condition variable that also honours timeouts), never
// polling. Returned values share structure with
// the fake's state and must be treated as read-only.
//
// # Not emulated
//
//   - Every other Bot API method (they answer 404 Not Found, unlike the real API),
//     sending media from the bot, inline mode, payments, forum topics, business
//     connections, channels beyond the chat type and a sender_chat, inline_message_id
//     edits. Users' files are emulated: SendDocument, SendPhoto and SendVoice deliver
//     them, getFile and /file/bot<token>/<path> serve their bytes (files.go); SendAsChat
//     posts as the group (an anonymous admin) or as a channel (senderchat.go).
//   - Privacy mode: bots receive every group message.
//   - Entities Telegram detects in the bot's own messages (URLs, hashtags...) and
//     URL validation of text links (only tg://user?id= is special-cased).
//   - HTTPS: webhooks may be plain http; certificates are not checked;
//     max_connections is recorded but deliveries are sequential; a method returned
//     in the webhook's response body is ignored.
//   - Time limits: callback queries never expire, messages stay editable forever.
//   - Telegram's undocumented limits; message length counts runes (Telegram's
//     exact unit is not documented).
//   - Error texts taken from TDLib's source or widely reported by bot authors are
//     exact; a few rare ones are best guesses: the setWebhook secret check, unknown
//     command scopes, malformed JSON parameters, too many commands,
//     BOT_COMMAND_DESCRIPTION_INVALID.
//
// Misusing the driver methods (a chat without a type, pressing a button that
// does not exist, editing someone else's message...) is reported with Errorf on
// the testing.TB given to New.
package telegramtest
