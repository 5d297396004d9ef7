package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/internal/telegramtest"
)

const waitTimeout = 5 * time.Second

var (
	alice = telegramtest.NewUser(1001, "Alice")
	bob   = telegramtest.NewUser(1002, "Bob")
)

// newBot returns a go-telegram/bot client talking to srv.
func newBot(tb testing.TB, srv *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	tb.Helper()
	all := append([]bot.Option{
		bot.WithServerURL(srv.URL()),
		bot.WithSkipGetMe(),
		bot.WithErrorsHandler(func(error) {}),
	}, opts...)
	b, err := bot.New(srv.Token(), all...)
	if err != nil {
		tb.Fatalf("bot.New: %v", err)
	}
	return b
}

// startBot runs b's long-polling loop until the test ends.
func startBot(tb testing.TB, b *bot.Bot) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Start(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// do sends req and returns the HTTP status, the raw body and the decoded body.
func do(tb testing.TB, req *http.Request) (int, string, apiResponse) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		tb.Fatalf("decode %s: %v", body, err)
	}
	return resp.StatusCode, string(body), r
}

func methodURL(srv *telegramtest.Server, method string) string {
	return srv.URL() + "/bot" + srv.Token() + "/" + method
}

// callForm POSTs an application/x-www-form-urlencoded request.
func callForm(tb testing.TB, srv *telegramtest.Server, method string, v url.Values) (int, string, apiResponse) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, methodURL(srv, method), strings.NewReader(v.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(tb, req)
}

// tryCall is callForm for goroutines other than the test's: it reports failures
// as errors instead of calling Fatal.
func tryCall(ctx context.Context, srv *telegramtest.Server, method string, v url.Values) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, methodURL(srv, method), strings.NewReader(v.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func getUpdates(tb testing.TB, srv *telegramtest.Server, v url.Values) []models.Update {
	tb.Helper()
	status, body, r := callForm(tb, srv, "getUpdates", v)
	if status != http.StatusOK || !r.OK {
		tb.Fatalf("getUpdates(%v): got %d %s, want 200 ok", v, status, body)
	}
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		tb.Fatalf("decode updates %s: %v", r.Result, err)
	}
	return ups
}

func updateIDs(ups []models.Update) []int64 {
	ids := make([]int64, 0, len(ups))
	for _, u := range ups {
		ids = append(ids, u.ID)
	}
	return ids
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func keyboard(data ...string) *models.InlineKeyboardMarkup {
	var row []models.InlineKeyboardButton
	for _, d := range data {
		row = append(row, models.InlineKeyboardButton{Text: strings.ToUpper(d), CallbackData: d})
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

func callbackDataOf(mk *models.InlineKeyboardMarkup) []string {
	var res []string
	if mk == nil {
		return nil
	}
	for _, row := range mk.InlineKeyboard {
		for _, b := range row {
			res = append(res, b.CallbackData)
		}
	}
	return res
}

func TestGetMe(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithBotUsername("duban_test_bot"))
	b, err := bot.New(srv.Token(), bot.WithServerURL(srv.URL()))
	if err != nil {
		t.Fatalf("bot.New with getMe: %v", err)
	}
	me, err := b.GetMe(context.Background())
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if got, want := me.Username, "duban_test_bot"; got != want {
		t.Errorf("username: got %q, want %q", got, want)
	}
	if got, want := me.ID, b.ID(); got != want {
		t.Errorf("id: got %d, want %d (token prefix)", got, want)
	}
	if !me.IsBot {
		t.Errorf("is_bot: got false, want true")
	}

	_, err = bot.New("999:WRONG", bot.WithServerURL(srv.URL()))
	if !errors.Is(err, bot.ErrorUnauthorized) {
		t.Errorf("bot.New with a wrong token: got %v, want ErrorUnauthorized", err)
	}
}

func TestErrorShapes(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	group := telegramtest.GroupChat(42, "Group")
	srv.AddBotToGroup(group, alice, "")
	kicked := telegramtest.GroupChat(43, "Kicked")
	srv.AddBotToGroup(kicked, alice, "")
	srv.Kick(kicked)
	srv.MigrateGroup(group)
	srv.AddChat(telegramtest.PrivateChat(alice))
	srv.FailNext("sendMessage", 1, http.StatusTooManyRequests, "", 5)

	tests := []struct {
		name       string
		url        string
		values     url.Values
		wantStatus int
		wantBody   string
	}{
		{
			name:       "unknown token",
			url:        srv.URL() + "/bot1:nope/getMe",
			wantStatus: 401,
			wantBody:   `{"ok":false,"error_code":401,"description":"Unauthorized"}`,
		},
		{
			name:       "unknown method",
			url:        methodURL(srv, "sendTelepathy"),
			wantStatus: 404,
			wantBody:   `{"ok":false,"error_code":404,"description":"Not Found"}`,
		},
		{
			name:       "injected 429",
			url:        methodURL(srv, "sendMessage"),
			values:     url.Values{"chat_id": {"1001"}, "text": {"hi"}},
			wantStatus: 429,
			wantBody:   `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`,
		},
		{
			name:       "migrated group",
			url:        methodURL(srv, "sendMessage"),
			values:     url.Values{"chat_id": {"-42"}, "text": {"hi"}},
			wantStatus: 400,
			wantBody:   `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1000000000042}}`,
		},
		{
			name:       "kicked",
			url:        methodURL(srv, "sendMessage"),
			values:     url.Values{"chat_id": {"-43"}, "text": {"hi"}},
			wantStatus: 403,
			wantBody:   `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}`,
		},
		{
			name:       "unknown chat",
			url:        methodURL(srv, "sendMessage"),
			values:     url.Values{"chat_id": {"777"}, "text": {"hi"}},
			wantStatus: 400,
			wantBody:   `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`,
		},
		{
			name:       "success with a description",
			url:        methodURL(srv, "deleteWebhook"),
			wantStatus: 200,
			wantBody:   `{"ok":true,"result":true,"description":"Webhook is already deleted"}`,
		},
		{
			name:       "method names are case-insensitive",
			url:        methodURL(srv, "SENDCHATACTION"),
			values:     url.Values{"chat_id": {"1001"}, "action": {"typing"}},
			wantStatus: 200,
			wantBody:   `{"ok":true,"result":true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tt.url, strings.NewReader(tt.values.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			status, body, _ := do(t, req)
			if status != tt.wantStatus || body != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestSendMessageValidation(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.PrivateChat(alice)
	srv.AddChat(chat)
	b := newBot(t, srv)

	tests := []struct {
		name      string
		chatID    any
		text      string
		mode      models.ParseMode
		wantPlain string
		wantErr   string // description suffix of a 400, "" for success
	}{
		{name: "plain", text: "hello", wantPlain: "hello"},
		{name: "trimmed", text: "  hello \n", wantPlain: "hello"},
		{name: "html", text: "<b>bold</b> &amp; <i>it</i>", mode: models.ParseModeHTML, wantPlain: "bold & it"},
		{name: "html link", text: `<a href="https://example.com">x</a>`, mode: models.ParseModeHTML, wantPlain: "x"},
		{name: "html unsupported tag", text: "a<br>b", mode: models.ParseModeHTML,
			wantErr: `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 1`},
		{name: "html unclosed", text: "<b>x", mode: models.ParseModeHTML,
			wantErr: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{name: "html crossed", text: "<b><i>x</b></i>", mode: models.ParseModeHTML,
			wantErr: `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "html bare less-than", text: "1 < 2", mode: models.ParseModeHTML,
			wantErr: `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`},
		{name: "html escaped less-than", text: "1 &lt; 2", mode: models.ParseModeHTML, wantPlain: "1 < 2"},
		{name: "html stray end tag", text: "x</b>", mode: models.ParseModeHTML,
			wantErr: `Bad Request: can't parse entities: Unexpected end tag at byte offset 1`},
		{name: "markdownv2", text: `*bold* and \.`, mode: models.ParseModeMarkdown, wantPlain: "bold and ."},
		{name: "markdownv2 unescaped", text: "hello.", mode: models.ParseModeMarkdown,
			wantErr: `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\'`},
		{name: "unsupported parse mode", text: "x", mode: "XML", wantErr: "Bad Request: unsupported parse_mode"},
		{name: "empty", text: "", wantErr: "Bad Request: message text is empty"},
		{name: "blank", text: " \n ", wantErr: "Bad Request: message text is empty"},
		{name: "only tags", text: "<b></b>", mode: models.ParseModeHTML, wantErr: "Bad Request: message text is empty"},
		{name: "4096 characters", text: strings.Repeat("é", 4096), wantPlain: strings.Repeat("é", 4096)},
		{name: "4097 characters", text: strings.Repeat("a", 4097), wantErr: "Bad Request: message is too long"},
		{name: "tags do not count", text: "<b>" + strings.Repeat("a", 4096) + "</b>", mode: models.ParseModeHTML,
			wantPlain: strings.Repeat("a", 4096)},
		{name: "entities count once", text: strings.Repeat("a", 4095) + "&amp;&amp;", mode: models.ParseModeHTML,
			wantErr: "Bad Request: message is too long"},
		{name: "unknown chat", chatID: int64(555), text: "x", wantErr: "Bad Request: chat not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chatID := tt.chatID
			if chatID == nil {
				chatID = chat.ID
			}
			before := len(srv.Sent())
			msg, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: chatID, Text: tt.text, ParseMode: tt.mode})
			if tt.wantErr != "" {
				if !errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want a bad request ending in %q", err, tt.wantErr)
				}
				if got := len(srv.Sent()); got != before {
					t.Errorf("recorded messages: got %d, want %d (rejected messages are not recorded)", got, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want success", err)
			}
			if got := msg.Text; got != tt.wantPlain {
				t.Errorf("result text: got %q, want %q", got, tt.wantPlain)
			}
			sent := srv.Sent()
			if got := len(sent); got != before+1 {
				t.Fatalf("recorded messages: got %d, want %d", got, before+1)
			}
			last := sent[len(sent)-1]
			if last.Text != tt.text || last.PlainText != tt.wantPlain || last.ParseMode != string(tt.mode) || last.MessageID != msg.ID {
				t.Errorf("recorded %+v, want text %q, plain %q, parse mode %q, id %d", last, tt.text, tt.wantPlain, tt.mode, msg.ID)
			}
		})
	}
}

func TestSendMessageIDsAndEntities(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chatA, chatB := telegramtest.PrivateChat(alice), telegramtest.PrivateChat(bob)
	srv.Send(chatA, alice, "/start") // the user's message takes id 1 in chat A
	srv.AddChat(chatB)
	b := newBot(t, srv)
	ctx := context.Background()

	tests := []struct {
		chat   telegramtest.Chat
		wantID int
	}{{chatA, 2}, {chatA, 3}, {chatB, 1}, {chatA, 4}, {chatB, 2}}
	for i, tt := range tests {
		m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: tt.chat.ID, Text: fmt.Sprintf("m%d", i)})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if m.ID != tt.wantID || m.Chat.ID != tt.chat.ID || m.From == nil || m.From.ID != b.ID() {
			t.Errorf("send %d: got id %d chat %d from %+v, want id %d chat %d from the bot", i, m.ID, m.Chat.ID, m.From, tt.wantID, tt.chat.ID)
		}
	}
	if got, want := len(srv.SentTo(chatA.ID)), 3; got != want {
		t.Errorf("SentTo(A): got %d messages, want %d", got, want)
	}

	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatA.ID, Text: "<b>😀</b> <code>x</code>", ParseMode: models.ParseModeHTML})
	if err != nil {
		t.Fatal(err)
	}
	want := []models.MessageEntity{{Type: "bold", Offset: 0, Length: 2}, {Type: "code", Offset: 3, Length: 1}}
	if got, _ := json.Marshal(m.Entities); string(got) != string(mustJSON(t, want)) {
		t.Errorf("entities: got %s, want %s (UTF-16 offsets)", got, mustJSON(t, want))
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestReplyMarkupAndReplies(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.PrivateChat(alice)
	userMsg := srv.Send(chat, alice, "question")
	b := newBot(t, srv)
	ctx := context.Background()

	m, err := b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID:          chat.ID,
		Text:            "answer",
		ReplyMarkup:     keyboard("yes", "no"),
		ReplyParameters: &models.ReplyParameters{MessageID: userMsg.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ReplyToMessage == nil || m.ReplyToMessage.Text != "question" {
		t.Errorf("result reply_to_message: got %+v, want the user's message", m.ReplyToMessage)
	}
	if got, want := callbackDataOf(m.ReplyMarkup), []string{"yes", "no"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("result keyboard: got %v, want %v", got, want)
	}
	rec := srv.SentTo(chat.ID)[0]
	if rec.ReplyToMessageID != userMsg.ID || fmt.Sprint(callbackDataOf(rec.ReplyMarkup)) != "[yes no]" || !json.Valid(rec.ReplyMarkupJSON) {
		t.Errorf("recorded %+v: want reply to %d and keyboard [yes no]", rec, userMsg.ID)
	}

	tests := []struct {
		name    string
		params  *bot.SendMessageParams
		wantErr string
		wantRe  int
	}{
		{name: "reply to missing", params: &bot.SendMessageParams{ChatID: chat.ID, Text: "x",
			ReplyParameters: &models.ReplyParameters{MessageID: 99}}, wantErr: "Bad Request: message to be replied not found"},
		{name: "reply to missing allowed", params: &bot.SendMessageParams{ChatID: chat.ID, Text: "x",
			ReplyParameters: &models.ReplyParameters{MessageID: 99, AllowSendingWithoutReply: true}}},
		{name: "text button", params: &bot.SendMessageParams{ChatID: chat.ID, Text: "x",
			ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "plain"}}}}},
			wantErr: "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{name: "callback data too long", params: &bot.SendMessageParams{ChatID: chat.ID, Text: "x",
			ReplyMarkup: keyboard(strings.Repeat("d", 65))}, wantErr: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "reply keyboard", params: &bot.SendMessageParams{ChatID: chat.ID, Text: "x",
			ReplyMarkup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "a"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := b.SendMessage(ctx, tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want success", err)
			}
			if m.ReplyToMessage != nil || m.ReplyMarkup != nil {
				t.Errorf("got reply_to_message %+v, reply_markup %+v, want neither", m.ReplyToMessage, m.ReplyMarkup)
			}
		})
	}
}

func TestEdits(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.PrivateChat(alice)
	userMsg := srv.Send(chat, alice, "hi")
	b := newBot(t, srv)
	ctx := context.Background()
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat.ID, Text: "pick", ReplyMarkup: keyboard("a", "b")})
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name       string
		call       func() (*models.Message, error)
		wantErr    string
		wantText   string
		wantMarkup []string
	}{
		{
			name: "replace keyboard",
			call: func() (*models.Message, error) {
				return b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: chat.ID, MessageID: m.ID, ReplyMarkup: keyboard("c")})
			},
			wantText: "pick", wantMarkup: []string{"c"},
		},
		{
			name: "same keyboard",
			call: func() (*models.Message, error) {
				return b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: chat.ID, MessageID: m.ID, ReplyMarkup: keyboard("c")})
			},
			wantErr: "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
		},
		{
			name: "edit text keeping keyboard",
			call: func() (*models.Message, error) {
				return b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chat.ID, MessageID: m.ID, Text: "<i>picked</i>", ParseMode: models.ParseModeHTML, ReplyMarkup: keyboard("c")})
			},
			wantText: "picked", wantMarkup: []string{"c"},
		},
		{
			name: "edit text without reply_markup removes the keyboard",
			call: func() (*models.Message, error) {
				return b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chat.ID, MessageID: m.ID, Text: "done"})
			},
			wantText: "done",
		},
		{
			name: "same text",
			call: func() (*models.Message, error) {
				return b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chat.ID, MessageID: m.ID, Text: "done"})
			},
			wantErr: "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
		},
		{
			name: "missing message",
			call: func() (*models.Message, error) {
				return b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chat.ID, MessageID: 999, Text: "x"})
			},
			wantErr: "Bad Request: message to edit not found",
		},
		{
			name: "user's message",
			call: func() (*models.Message, error) {
				return b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chat.ID, MessageID: userMsg.ID, Text: "x"})
			},
			wantErr: "Bad Request: message can't be edited",
		},
	}
	for _, st := range steps {
		got, err := st.call()
		if st.wantErr != "" {
			if !errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), st.wantErr) {
				t.Errorf("%s: got error %v, want %q", st.name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: got error %v, want success", st.name, err)
			continue
		}
		if got.Text != st.wantText || fmt.Sprint(callbackDataOf(got.ReplyMarkup)) != fmt.Sprint(st.wantMarkup) || got.EditDate == 0 {
			t.Errorf("%s: got text %q keyboard %v edit_date %d, want %q %v and an edit date", st.name, got.Text, callbackDataOf(got.ReplyMarkup), got.EditDate, st.wantText, st.wantMarkup)
		}
		stored, _ := srv.StoredMessage(chat.ID, m.ID)
		if stored.Text != st.wantText || fmt.Sprint(callbackDataOf(stored.ReplyMarkup)) != fmt.Sprint(st.wantMarkup) {
			t.Errorf("%s: stored text %q keyboard %v, want %q %v", st.name, stored.Text, callbackDataOf(stored.ReplyMarkup), st.wantText, st.wantMarkup)
		}
	}
	var methods []string
	for _, e := range srv.Edits() {
		methods = append(methods, e.Method)
	}
	if got, want := strings.Join(methods, ","), "editMessageReplyMarkup,editMessageText,editMessageText"; got != want {
		t.Errorf("Edits: got %s, want %s", got, want)
	}
}

func TestBotLoopEchoAndCallbacks(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.PrivateChat(alice)
	b := newBot(t, srv,
		bot.WithMessageTextHandler("start", bot.MatchTypeCommand, func(ctx context.Context, b *bot.Bot, upd *models.Update) {
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: upd.Message.Chat.ID, Text: "Choose", ReplyMarkup: keyboard("red", "blue")})
		}),
		bot.WithCallbackQueryDataHandler("", bot.MatchTypePrefix, func(ctx context.Context, b *bot.Bot, upd *models.Update) {
			cq := upd.CallbackQuery
			_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: "chose " + cq.Data})
			_, _ = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{
				ChatID: cq.Message.Message.Chat.ID, MessageID: cq.Message.Message.ID, ReplyMarkup: keyboard("undo"),
			})
		}),
		bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, upd *models.Update) {
			if upd.Message != nil {
				_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: upd.Message.Chat.ID, Text: "echo: " + upd.Message.Text})
			}
		}),
	)
	startBot(t, b)

	start := srv.Send(chat, alice, "/start")
	if len(start.Entities) != 1 || start.Entities[0].Type != models.MessageEntityTypeBotCommand || start.Entities[0].Length != 6 {
		t.Errorf("/start entities: got %+v, want one bot_command of length 6", start.Entities)
	}
	menu := srv.WaitSent(t, 1, waitTimeout)[0]
	if menu.PlainText != "Choose" {
		t.Fatalf("reply to /start: got %q, want %q", menu.PlainText, "Choose")
	}

	id := srv.Press(chat, alice, menu.MessageID, "blue")
	srv.WaitFor(t, waitTimeout, "the callback answer and the keyboard edit", func() bool {
		return len(srv.CallbackAnswers()) == 1 && len(srv.Edits()) == 1
	})
	ans := srv.CallbackAnswers()[0]
	if ans.CallbackQueryID != id || ans.Text != "chose blue" || ans.Data != "blue" || ans.MessageID != menu.MessageID {
		t.Errorf("callback answer: got %+v, want id %s text %q for message %d", ans, id, "chose blue", menu.MessageID)
	}
	if got := callbackDataOf(srv.Edits()[0].ReplyMarkup); fmt.Sprint(got) != "[undo]" {
		t.Errorf("edited keyboard: got %v, want [undo]", got)
	}

	srv.Send(chat, alice, "hello")
	if got, want := srv.WaitSent(t, 2, waitTimeout)[1].Text, "echo: hello"; got != want {
		t.Errorf("echo: got %q, want %q", got, want)
	}
	srv.WaitFor(t, waitTimeout, "all updates confirmed", func() bool { return srv.Pending() == 0 })
}

func TestGetUpdatesOffsets(t *testing.T) {
	srv := telegramtest.New(t)
	chat := telegramtest.PrivateChat(alice)
	for i := range 3 {
		srv.Send(chat, alice, fmt.Sprintf("m%d", i))
	}
	first := getUpdates(t, srv, nil)
	if len(first) != 3 {
		t.Fatalf("first getUpdates: got %d updates, want 3", len(first))
	}
	u1, u2, u3 := first[0].ID, first[1].ID, first[2].ID
	if u2 != u1+1 || u3 != u2+1 {
		t.Fatalf("update ids: got %d %d %d, want consecutive", u1, u2, u3)
	}
	if first[0].Message == nil || first[0].Message.Text != "m0" {
		t.Fatalf("first update: got %+v, want message m0", first[0])
	}

	steps := []struct {
		name        string
		values      url.Values
		wantIDs     []int64
		wantPending int
	}{
		{"no offset redelivers", nil, []int64{u1, u2, u3}, 3},
		{"limit", url.Values{"limit": {"2"}}, []int64{u1, u2}, 3},
		{"offset confirms older updates", url.Values{"offset": {strconv.FormatInt(u2, 10)}}, []int64{u2, u3}, 2},
		{"confirmed updates are forgotten", url.Values{"offset": {"0"}}, []int64{u2, u3}, 2},
		{"negative offset keeps the last ones", url.Values{"offset": {"-1"}}, []int64{u3}, 1},
		{"offset past the last confirms all", url.Values{"offset": {strconv.FormatInt(u3+1, 10)}}, []int64{}, 0},
	}
	for _, st := range steps {
		got := updateIDs(getUpdates(t, srv, st.values))
		if !sameIDs(got, st.wantIDs) {
			t.Errorf("%s: got ids %v, want %v", st.name, got, st.wantIDs)
		}
		if got := srv.Pending(); got != st.wantPending {
			t.Errorf("%s: got %d pending, want %d", st.name, got, st.wantPending)
		}
	}

	srv.Send(chat, alice, "later")
	if got := updateIDs(getUpdates(t, srv, nil)); !sameIDs(got, []int64{u3 + 1}) {
		t.Errorf("new update: got ids %v, want [%d]", got, u3+1)
	}
}

func TestGetUpdatesAllowedUpdatesSticky(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	chat := telegramtest.PrivateChat(alice)
	srv.AddChat(chat)
	b := newBot(t, srv)
	m, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: chat.ID, Text: "x", ReplyMarkup: keyboard("k")})
	if err != nil {
		t.Fatal(err)
	}
	getUpdates(t, srv, url.Values{"allowed_updates": {`["callback_query"]`}})
	srv.Send(chat, alice, "filtered out")
	srv.Press(chat, alice, m.ID, "k")
	ups := getUpdates(t, srv, nil) // no allowed_updates: the previous list still applies
	if len(ups) != 1 || ups[0].CallbackQuery == nil {
		t.Fatalf("got %d updates (%+v), want only the callback query", len(ups), ups)
	}
	cq := ups[0].CallbackQuery
	if cq.Message.Message == nil || cq.Message.Message.ID != m.ID || cq.Data != "k" || cq.From.ID != alice.ID {
		t.Errorf("callback query: got %+v, want data k on message %d from %d", cq, m.ID, alice.ID)
	}
	getUpdates(t, srv, url.Values{"offset": {strconv.FormatInt(ups[0].ID+1, 10)}, "allowed_updates": {`[]`}})
	srv.Send(chat, alice, "delivered")
	if ups := getUpdates(t, srv, nil); len(ups) != 1 || ups[0].Message == nil {
		t.Errorf("after resetting allowed_updates: got %+v, want the message", ups)
	}
}

func TestLongPoll(t *testing.T) {
	t.Run("wakes on Send", func(t *testing.T) {
		srv := telegramtest.New(t)
		chat := telegramtest.PrivateChat(alice)
		type result struct {
			body string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			_, body, err := tryCall(context.Background(), srv, "getUpdates", url.Values{"timeout": {"30"}})
			done <- result{body, err}
		}()
		srv.WaitFor(t, waitTimeout, "the long poll to start", func() bool { return srv.Polling() == 1 })
		srv.Send(chat, alice, "ping")
		select {
		case r := <-done:
			var resp struct {
				Result []models.Update `json:"result"`
			}
			if r.err != nil || json.Unmarshal([]byte(r.body), &resp) != nil {
				t.Fatalf("long poll: got %v %s", r.err, r.body)
			}
			if len(resp.Result) != 1 || resp.Result[0].Message.Text != "ping" {
				t.Errorf("got %s, want the ping message", r.body)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("long poll did not return within %v of Send (timeout was 30 s)", waitTimeout)
		}
	})

	t.Run("returns empty after a scaled timeout", func(t *testing.T) {
		srv := telegramtest.New(t, telegramtest.WithTimeScale(0.01))
		start := time.Now()
		ups := getUpdates(t, srv, url.Values{"timeout": {"2"}}) // 2 Telegram seconds = 20 ms
		if len(ups) != 0 {
			t.Errorf("got %d updates, want none", len(ups))
		}
		if d := time.Since(start); d < 20*time.Millisecond || d > waitTimeout {
			t.Errorf("returned after %v, want about 20ms", d)
		}
	})

	t.Run("ends with the client's context", func(t *testing.T) {
		srv := telegramtest.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, _, err := tryCall(ctx, srv, "getUpdates", url.Values{"timeout": {"60"}})
			errc <- err
		}()
		srv.WaitFor(t, waitTimeout, "the long poll to start", func() bool { return srv.Polling() == 1 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("client: got %v, want context.Canceled", err)
		}
		srv.WaitFor(t, waitTimeout, "the server to drop the poll", func() bool { return srv.Polling() == 0 })
	})

	t.Run("a newer getUpdates terminates the older", func(t *testing.T) {
		srv := telegramtest.New(t)
		type result struct {
			status int
			body   string
			err    error
		}
		older := make(chan result, 1)
		go func() {
			status, body, err := tryCall(context.Background(), srv, "getUpdates", url.Values{"timeout": {"30"}})
			older <- result{status, body, err}
		}()
		srv.WaitFor(t, waitTimeout, "the first long poll to start", func() bool { return srv.Polling() == 1 })
		getUpdates(t, srv, nil)
		r := <-older
		want := `{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`
		if r.err != nil || r.status != http.StatusConflict || r.body != want {
			t.Errorf("older poll: got %d %s %v, want 409 %s", r.status, r.body, r.err, want)
		}
	})

	t.Run("server close ends pending polls", func(t *testing.T) {
		srv := telegramtest.New(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, _ = tryCall(context.Background(), srv, "getUpdates", url.Values{"timeout": {"60"}})
		}()
		srv.WaitFor(t, waitTimeout, "the long poll to start", func() bool { return srv.Polling() == 1 })
		srv.Close()
		<-done
	})
}

func TestBodyEncodings(t *testing.T) {
	markup := `{"inline_keyboard":[[{"text":"OK","callback_data":"ok"}]]}`
	fields := map[string]string{"chat_id": "1001", "text": "<b>hi</b>", "parse_mode": "HTML", "reply_markup": markup}

	tests := []struct {
		name string
		req  func(u string) *http.Request
	}{
		{"multipart", func(u string) *http.Request {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			for k, v := range fields {
				_ = w.WriteField(k, v)
			}
			_ = w.Close()
			r, _ := http.NewRequest(http.MethodPost, u, &buf)
			r.Header.Set("Content-Type", w.FormDataContentType())
			return r
		}},
		{"json with nested objects", func(u string) *http.Request {
			body := `{"chat_id":1001,"text":"<b>hi</b>","parse_mode":"HTML","reply_markup":` + markup + `}`
			r, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{"json with a stringified object", func(u string) *http.Request {
			body, _ := json.Marshal(fields)
			r, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			return r
		}},
		{"urlencoded", func(u string) *http.Request {
			v := url.Values{}
			for k, f := range fields {
				v.Set(k, f)
			}
			r, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{"get query string", func(u string) *http.Request {
			v := url.Values{}
			for k, f := range fields {
				v.Set(k, f)
			}
			r, _ := http.NewRequest(http.MethodGet, u+"?"+v.Encode(), nil)
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t)
			srv.AddChat(telegramtest.PrivateChat(alice))
			status, body, r := do(t, tt.req(methodURL(srv, "sendMessage")))
			if status != http.StatusOK || !r.OK {
				t.Fatalf("got %d %s, want 200 ok", status, body)
			}
			if strings.Contains(body, "copy_text") {
				t.Errorf("result %s: got an empty copy_text, want none (Telegram sends none)", body)
			}
			var m models.Message
			if err := json.Unmarshal(r.Result, &m); err != nil {
				t.Fatal(err)
			}
			sent := srv.Sent()
			if len(sent) != 1 {
				t.Fatalf("got %d recorded messages, want 1", len(sent))
			}
			got := sent[0]
			if got.ChatID != 1001 || got.PlainText != "hi" || got.ParseMode != "HTML" || fmt.Sprint(callbackDataOf(got.ReplyMarkup)) != "[ok]" {
				t.Errorf("got %+v, want chat 1001, text hi, HTML, keyboard [ok]", got)
			}
			if len(m.Entities) != 1 || m.Entities[0].Type != models.MessageEntityTypeBold || m.Text != "hi" {
				t.Errorf("result: got text %q entities %+v, want bold hi", m.Text, m.Entities)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	srv := telegramtest.New(t)
	b := newBot(t, srv)
	ctx := context.Background()
	def := []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}}
	ru := []models.BotCommand{{Command: "start", Description: "Начать"}}
	chatScope := &models.BotCommandScopeChat{ChatID: int64(42)}
	admin := []models.BotCommand{{Command: "ban", Description: "Ban someone"}}

	for _, p := range []*bot.SetMyCommandsParams{
		{Commands: def},
		{Commands: ru, LanguageCode: "ru"},
		{Commands: admin, Scope: chatScope},
	} {
		if ok, err := b.SetMyCommands(ctx, p); err != nil || !ok {
			t.Fatalf("SetMyCommands(%+v): got %v %v, want true", p, ok, err)
		}
	}
	tests := []struct {
		name  string
		scope models.BotCommandScope
		lang  string
		want  []models.BotCommand
	}{
		{"default", nil, "", def},
		{"ru", nil, "ru", ru},
		{"unset language", nil, "de", nil},
		{"chat scope", chatScope, "", admin},
		{"other scope", &models.BotCommandScopeAllGroupChats{}, "", nil},
	}
	for _, tt := range tests {
		got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{Scope: tt.scope, LanguageCode: tt.lang})
		if err != nil {
			t.Fatalf("%s: GetMyCommands: %v", tt.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: GetMyCommands got %v, want %v", tt.name, got, tt.want)
		}
		if rec := srv.CommandsForScope(tt.scope, tt.lang); fmt.Sprint(rec) != fmt.Sprint(tt.want) {
			t.Errorf("%s: CommandsForScope got %v, want %v", tt.name, rec, tt.want)
		}
	}
	if got := srv.Commands("ru"); fmt.Sprint(got) != fmt.Sprint(ru) {
		t.Errorf("Commands(ru): got %v, want %v", got, ru)
	}

	if _, err := b.DeleteMyCommands(ctx, &bot.DeleteMyCommandsParams{LanguageCode: "ru"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Commands("ru"); len(got) != 0 {
		t.Errorf("Commands(ru) after delete: got %v, want none", got)
	}
	_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Bad-Cmd", Description: "x"}}})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), "BOT_COMMAND_INVALID") {
		t.Errorf("invalid command: got %v, want BOT_COMMAND_INVALID", err)
	}
}

func TestWebhook(t *testing.T) {
	var (
		mu       sync.Mutex
		received []models.Update
		secrets  []string
		failures = 2
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if failures > 0 {
			failures--
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		var u models.Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		received = append(received, u)
	}))
	defer hook.Close()

	srv := telegramtest.New(t, telegramtest.WithWebhookBackoff(time.Millisecond))
	b := newBot(t, srv)
	ctx := context.Background()
	chat := telegramtest.PrivateChat(alice)
	srv.Send(chat, alice, "one") // queued before the webhook exists

	if ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL, SecretToken: "s3cret"}); err != nil || !ok {
		t.Fatalf("SetWebhook: got %v %v, want true", ok, err)
	}
	status, body, _ := callForm(t, srv, "getUpdates", nil)
	wantConflict := `{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}`
	if status != http.StatusConflict || body != wantConflict {
		t.Errorf("getUpdates with a webhook: got %d %s, want 409 %s", status, body, wantConflict)
	}
	srv.Send(chat, alice, "two")
	srv.Send(chat, alice, "three")
	srv.WaitFor(t, waitTimeout, "all updates delivered", func() bool { return srv.Pending() == 0 })

	mu.Lock()
	var texts []string
	for _, u := range received {
		texts = append(texts, u.Message.Text)
	}
	gotSecrets := append([]string(nil), secrets...)
	mu.Unlock()
	if got, want := strings.Join(texts, ","), "one,two,three"; got != want {
		t.Errorf("delivered in order: got %s, want %s", got, want)
	}
	for _, s := range gotSecrets {
		if s != "s3cret" {
			t.Errorf("secret header: got %q, want %q", s, "s3cret")
		}
	}
	var statuses []int
	ids := map[int64]int{}
	for _, d := range srv.WebhookDeliveries() {
		statuses = append(statuses, d.Status)
		ids[d.UpdateID]++
	}
	if got, want := fmt.Sprint(statuses), "[500 500 200 200 200]"; got != want {
		t.Errorf("delivery statuses: got %s, want %s (the first update retried until 2xx)", got, want)
	}
	if len(ids) != 3 {
		t.Errorf("delivered update ids: got %v, want 3 distinct", ids)
	}

	info, err := b.GetWebhookInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != hook.URL || info.PendingUpdateCount != 0 || info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" || info.LastErrorDate == 0 {
		t.Errorf("webhook info: got %+v, want url %s, nothing pending, last error a 500", info, hook.URL)
	}

	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil || !ok {
		t.Fatalf("DeleteWebhook: got %v %v", ok, err)
	}
	if ups := getUpdates(t, srv, nil); len(ups) != 0 {
		t.Errorf("getUpdates after deleteWebhook: got %d updates, want 0", len(ups))
	}
}

func TestWebhookWithLibraryHandler(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	b := newBot(t, srv,
		bot.WithWebhookSecretToken("tok"),
		bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, upd *models.Update) {
			if upd.Message != nil {
				_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: upd.Message.Chat.ID, Text: "got " + upd.Message.Text})
			}
		}))
	hook := httptest.NewServer(b.WebhookHandler())
	defer hook.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.StartWebhook(ctx) }()
	defer func() { cancel(); <-done }()

	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL, SecretToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	srv.Send(telegramtest.PrivateChat(bob), bob, "hook")
	if got, want := srv.WaitSent(t, 1, waitTimeout)[0].Text, "got hook"; got != want {
		t.Errorf("reply: got %q, want %q", got, want)
	}
}

func TestRateLimits(t *testing.T) {
	ctx := context.Background()
	send := func(b *bot.Bot, chatID int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: "x"})
		return err
	}
	retryAfter := func(err error) int {
		var tm *bot.TooManyRequestsError
		if !errors.As(err, &tm) {
			return -1
		}
		return tm.RetryAfter
	}

	tests := []struct {
		name   string
		limits telegramtest.Limits
		chats  []int64 // targets, in order
		// wantRetry[i] is the retry_after expected for message i, 0 for success.
		wantRetry []int
	}{
		{"per chat", telegramtest.DefaultLimits(), []int64{1001, 1001, 1002}, []int{0, 1, 0}},
		{"per chat burst", telegramtest.Limits{PerChat: time.Second, PerChatBurst: 2}, []int64{1001, 1001, 1001}, []int{0, 0, 1}},
		{"per chat interval", telegramtest.Limits{PerChat: 3 * time.Second}, []int64{1001, 1001}, []int{0, 3}},
		{"per group per minute", telegramtest.Limits{PerGroupPerMinute: 3}, []int64{-42, -42, -42, -42, 1001}, []int{0, 0, 0, 60, 0}},
		{"global per second", telegramtest.Limits{GlobalPerSecond: 2}, []int64{1001, 1002, -42}, []int{0, 0, 1}},
		{"off", telegramtest.Limits{}, []int64{1001, 1001, 1001}, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.WithLimits(tt.limits))
			srv.AddChat(telegramtest.PrivateChat(alice))
			srv.AddChat(telegramtest.PrivateChat(bob))
			srv.AddChat(telegramtest.GroupChat(42, "g"))
			b := newBot(t, srv)
			want429 := map[int64]int{}
			for i, chatID := range tt.chats {
				err := send(b, chatID)
				switch got := retryAfter(err); {
				case tt.wantRetry[i] == 0 && err != nil:
					t.Errorf("message %d to %d: got %v, want success", i, chatID, err)
				case tt.wantRetry[i] != 0 && got != tt.wantRetry[i]:
					t.Errorf("message %d to %d: got %v (retry_after %d), want 429 retry after %d", i, chatID, err, got, tt.wantRetry[i])
				}
				if tt.wantRetry[i] != 0 {
					want429[chatID]++
				}
			}
			got429 := map[int64]int{}
			for _, r := range srv.Requests() {
				if r.Method == "sendMessage" && r.Status == http.StatusTooManyRequests {
					got429[r.ChatID]++
				}
			}
			if fmt.Sprint(got429) != fmt.Sprint(want429) {
				t.Errorf("429s per chat: got %v, want %v", got429, want429)
			}
		})
	}

	t.Run("edits count", func(t *testing.T) {
		srv := telegramtest.New(t)
		srv.AddChat(telegramtest.PrivateChat(alice))
		b := newBot(t, srv)
		m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "a"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: m.ID, Text: "b"})
		if got := retryAfter(err); got != 1 {
			t.Errorf("edit right after send: got %v, want 429 retry after 1", err)
		}
	})
}

// TestManyMessagesWithTimeScale sends 200 messages under Telegram's limits with a
// client that honours retry_after, scaled like the server.
func TestManyMessagesWithTimeScale(t *testing.T) {
	const scale = 0.01
	srv := telegramtest.New(t, telegramtest.WithTimeScale(scale))
	b := newBot(t, srv)
	var chats []int64
	for i := range 5 {
		u := telegramtest.NewUser(int64(2000+i), "U")
		srv.AddChat(telegramtest.PrivateChat(u))
		g := telegramtest.SupergroupChat(int64(100+i), "G")
		srv.AddChat(g)
		chats = append(chats, u.ID, g.ID)
	}
	const perChat = 20
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(chats))
	for _, chatID := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perChat; {
				_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: chatID, Text: strconv.Itoa(i)})
				var tm *bot.TooManyRequestsError
				switch {
				case errors.As(err, &tm):
					time.Sleep(srv.RetryAfter(tm.RetryAfter)) // what a well-behaved client does
				case err != nil:
					errs <- err
					return
				default:
					i++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("send: %v", err)
	}
	elapsed := time.Since(start)
	sent := srv.Sent()
	if got, want := len(sent), perChat*len(chats); got != want {
		t.Fatalf("got %d messages, want %d", got, want)
	}
	last := map[int64]time.Time{}
	minGap := time.Duration(float64(time.Second) * scale)
	for _, m := range sent {
		if prev, ok := last[m.ChatID]; ok && m.Time.Sub(prev) < minGap {
			t.Errorf("chat %d: messages %v apart, want at least %v", m.ChatID, m.Time.Sub(prev), minGap)
		}
		last[m.ChatID] = m.Time
	}
	var n429 int
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			n429++
		}
	}
	// How many 429s the clients hit depends on the machine's speed, so it is
	// only logged; the spacing check above is what the limits guarantee.
	t.Logf("200 messages in %v with %d 429s", elapsed, n429)
}

func TestFaultInjection(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		code       int
		desc       string
		retryAfter int
		check      func(error) bool
		want       string
	}{
		{"500", 500, "", 0, func(err error) bool {
			return err != nil && strings.HasSuffix(err.Error(), "500 Internal Server Error")
		}, "error ending in 500 Internal Server Error"},
		{"502", 502, "", 0, func(err error) bool {
			return err != nil && strings.HasSuffix(err.Error(), "502 Bad Gateway")
		}, "error ending in 502 Bad Gateway"},
		{"429", 429, "", 7, func(err error) bool {
			var tm *bot.TooManyRequestsError
			return errors.As(err, &tm) && tm.RetryAfter == 7
		}, "TooManyRequestsError with RetryAfter 7"},
		{"403", 403, "Forbidden: bot was blocked by the user", 0, func(err error) bool {
			return errors.Is(err, bot.ErrorForbidden)
		}, "ErrorForbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.WithoutLimits())
			srv.AddChat(telegramtest.PrivateChat(alice))
			b := newBot(t, srv)
			srv.FailNext("sendMessage", 2, tt.code, tt.desc, tt.retryAfter)
			for i := range 2 {
				if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "x"}); !tt.check(err) {
					t.Errorf("attempt %d: got %v, want %s", i, err, tt.want)
				}
			}
			if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "x"}); err != nil {
				t.Errorf("third attempt: got %v, want success", err)
			}
			if got, want := srv.Calls("sendMessage"), 3; got != want {
				t.Errorf("Calls: got %d, want %d", got, want)
			}
			if got, want := len(srv.Sent()), 1; got != want {
				t.Errorf("Sent: got %d, want %d", got, want)
			}
		})
	}

	t.Run("delay outlives the client timeout", func(t *testing.T) {
		srv := telegramtest.New(t, telegramtest.WithoutLimits())
		srv.AddChat(telegramtest.PrivateChat(alice))
		b := newBot(t, srv)
		srv.Delay("sendMessage", 200*time.Millisecond)
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := b.SendMessage(cctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "slow"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
		// The request reached "Telegram", so the message is delivered anyway.
		if got := srv.WaitSent(t, 1, waitTimeout)[0].Text; got != "slow" {
			t.Errorf("got %q, want the delayed message to be sent", got)
		}
		srv.Delay("sendMessage", 0)
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "fast"}); err != nil {
			t.Errorf("after removing the delay: %v", err)
		}
	})
}

func TestGroupLifecycle(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	b := newBot(t, srv)
	ctx := context.Background()
	group := telegramtest.GroupChat(42, "Friends")

	srv.AddBotToGroup(group, alice, "CODE123")
	ups := getUpdates(t, srv, nil)
	if len(ups) != 3 {
		t.Fatalf("after AddBotToGroup: got %d updates, want 3", len(ups))
	}
	if mcm := ups[0].MyChatMember; mcm == nil || mcm.NewChatMember.Type != models.ChatMemberTypeMember ||
		mcm.OldChatMember.Type != models.ChatMemberTypeLeft || mcm.NewChatMember.Member.User.ID != b.ID() || mcm.From.ID != alice.ID {
		t.Errorf("update 1: got %+v, want my_chat_member left -> member for the bot, by Alice", ups[0].MyChatMember)
	}
	if m := ups[1].Message; m == nil || len(m.NewChatMembers) != 1 || m.NewChatMembers[0].ID != b.ID() {
		t.Errorf("update 2: got %+v, want new_chat_members with the bot", ups[1].Message)
	}
	start := ups[2].Message
	wantText := "/start@" + srv.BotUsername() + " CODE123"
	if start == nil || start.Text != wantText || len(start.Entities) != 1 ||
		start.Entities[0].Type != models.MessageEntityTypeBotCommand || start.Entities[0].Offset != 0 || start.Entities[0].Length != len("/start@"+srv.BotUsername()) {
		t.Errorf("update 3: got %+v, want %q with a bot_command entity over the command", start, wantText)
	}
	getUpdates(t, srv, url.Values{"offset": {strconv.FormatInt(ups[2].ID+1, 10)}})

	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group.ID, Text: "hello group"}); err != nil {
		t.Fatalf("send to group: %v", err)
	}

	super := srv.MigrateGroup(group)
	if got, want := super.ID, int64(-1000000000042); got != want || super.Type != models.ChatTypeSupergroup {
		t.Errorf("new chat: got %d %s, want %d supergroup", got, super.Type, want)
	}
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group.ID, Text: "still there?"})
	var me *bot.MigrateError
	if !errors.As(err, &me) || int64(me.MigrateToChatID) != super.ID {
		t.Errorf("send to the old group: got %v, want MigrateError to %d", err, super.ID)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: super.ID, Text: "moved"}); err != nil {
		t.Errorf("send to the supergroup: %v", err)
	}
	ups = getUpdates(t, srv, nil)
	if len(ups) != 2 || ups[0].Message.MigrateToChatID != super.ID || ups[0].Message.Chat.ID != group.ID ||
		ups[1].Message.MigrateFromChatID != group.ID || ups[1].Message.Chat.ID != super.ID {
		t.Errorf("migration updates: got %+v, want migrate_to in the old chat then migrate_from in the new", ups)
	}

	srv.Kick(super)
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: super.ID, Text: "hello?"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.HasSuffix(err.Error(), "Forbidden: bot was kicked from the supergroup chat") {
		t.Errorf("send after Kick: got %v, want ErrorForbidden, kicked from the supergroup chat", err)
	}
}

func TestPrivateBlockAndRestart(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	b := newBot(t, srv)
	ctx := context.Background()
	chat := telegramtest.PrivateChat(alice)
	srv.Send(chat, alice, "/start")
	srv.Kick(chat)
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat.ID, Text: "x"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.HasSuffix(err.Error(), "Forbidden: bot was blocked by the user") {
		t.Errorf("after blocking: got %v, want blocked by the user", err)
	}
	srv.Send(chat, alice, "/start")
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat.ID, Text: "x"}); err != nil {
		t.Errorf("after the user restarted the bot: got %v, want success", err)
	}
	var kinds []string
	for _, u := range getUpdates(t, srv, nil) {
		switch {
		case u.Message != nil:
			kinds = append(kinds, "message")
		case u.MyChatMember != nil:
			kinds = append(kinds, "my_chat_member:"+string(u.MyChatMember.NewChatMember.Type))
		}
	}
	if got, want := strings.Join(kinds, ","), "message,my_chat_member:kicked,my_chat_member:member,message"; got != want {
		t.Errorf("updates: got %s, want %s", got, want)
	}
}

func TestReplyAndEditFromUser(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithoutLimits())
	b := newBot(t, srv)
	chat := telegramtest.GroupChat(7, "g")
	srv.AddBotToGroup(chat, alice, "")
	botMsg, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: chat.ID, Text: "What is your name?"})
	if err != nil {
		t.Fatal(err)
	}
	reply := srv.Reply(chat, bob, botMsg.ID, "Bob")
	srv.Edit(chat, bob, reply.ID, "Robert")
	ups := getUpdates(t, srv, nil)
	n := len(ups)
	if n < 2 {
		t.Fatalf("got %d updates, want at least 2", n)
	}
	r, e := ups[n-2].Message, ups[n-1].EditedMessage
	if r == nil || r.ReplyToMessage == nil || r.ReplyToMessage.ID != botMsg.ID || r.ReplyToMessage.From.ID != b.ID() || r.Text != "Bob" {
		t.Errorf("reply update: got %+v, want Bob replying to the bot's message %d", r, botMsg.ID)
	}
	if e == nil || e.ID != reply.ID || e.Text != "Robert" || e.EditDate == 0 {
		t.Errorf("edit update: got %+v, want message %d edited to Robert", e, reply.ID)
	}
}

func TestGetChatAndChatAction(t *testing.T) {
	srv := telegramtest.New(t)
	b := newBot(t, srv)
	ctx := context.Background()
	group := telegramtest.SupergroupChat(5, "Super")
	srv.AddChat(group)
	info, err := b.GetChat(ctx, &bot.GetChatParams{ChatID: group.ID})
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != group.ID || info.Type != models.ChatTypeSupergroup || info.Title != "Super" {
		t.Errorf("getChat: got %+v, want %+v", info, group)
	}
	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: group.ID, Action: models.ChatActionTyping}); err != nil || !ok {
		t.Errorf("sendChatAction: got %v %v, want true", ok, err)
	}
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: group.ID, Action: "dancing"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("sendChatAction with a bad action: got %v, want a bad request", err)
	}
}

func TestWaitSentContextTimeout(t *testing.T) {
	srv := telegramtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := srv.WaitSentContext(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}
