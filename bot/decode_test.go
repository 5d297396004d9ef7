package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// updateBodies are updates as Telegram sends them, one of each kind and shape the bot
// handles (and some it ignores), with fields it does not know.
var updateBodies = []string{
	// A report in a group: text, a bot command entity, a reply to the bot's nudge.
	`{"update_id":101,"message":{"message_id":7,"date":1796290000,"text":"/report 16 进行中 已完成80%","entities":[{"type":"bot_command","offset":0,"length":7}],
	  "chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群","is_forum":false},
	  "from":{"id":5001,"is_bot":false,"first_name":"小王","last_name":"王","username":"wang","language_code":"zh-hans"},
	  "reply_to_message":{"message_id":3,"date":1796280000,"text":"【督办提醒】任务16","from":{"id":42,"is_bot":true,"first_name":"督办","username":"duban_bot"},"chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群"},
	    "reply_markup":{"inline_keyboard":[[{"text":"已完成","callback_data":"s:16:d:AAAA"},{"text":"有困难","callback_data":"s:16:b:BBBB"}]]}},
	  "some_field_from_a_later_bot_api":{"x":[1,2,3]}}}`,
	// A document with a caption, forwarded.
	`{"update_id":102,"message":{"message_id":8,"date":1796290001,"caption":"任务16 佐证材料","caption_entities":[{"type":"hashtag","offset":0,"length":4}],
	  "document":{"file_id":"BQACAgUAAxkBAAIB","file_unique_id":"AgADBQ","file_name":"佐证.xlsx","mime_type":"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet","file_size":18944},
	  "forward_origin":{"type":"user","date":1796200000,"sender_user":{"id":5002,"is_bot":false,"first_name":"李"}},
	  "chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群"},"from":{"id":5001,"is_bot":false,"first_name":"小王"}}}`,
	// A photo.
	`{"update_id":103,"message":{"message_id":9,"date":1796290002,"photo":[{"file_id":"a","file_unique_id":"a1","width":90,"height":51,"file_size":1200},{"file_id":"b","file_unique_id":"b1","width":1280,"height":720,"file_size":88000}],
	  "chat":{"id":5001,"type":"private","first_name":"小王"},"from":{"id":5001,"is_bot":false,"first_name":"小王"}}}`,
	// A group moved to a supergroup.
	`{"update_id":104,"message":{"message_id":10,"date":1796290003,"migrate_to_chat_id":-1009876543210,"chat":{"id":-4001,"type":"group","title":"市财政局"},"from":{"id":5003,"is_bot":false,"first_name":"赵"}}}`,
	`{"update_id":105,"message":{"message_id":1,"date":1796290003,"migrate_from_chat_id":-4001,"chat":{"id":-1009876543210,"type":"supergroup","title":"市财政局"},"from":{"id":1087968824,"is_bot":true,"first_name":"Group","username":"GroupAnonymousBot"},"sender_chat":{"id":-1009876543210,"type":"supergroup","title":"市财政局"}}}`,
	// An edit.
	`{"update_id":106,"edited_message":{"message_id":7,"date":1796290000,"edit_date":1796290100,"text":"/report 16 有困难 资金未到位","chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群"},"from":{"id":5001,"is_bot":false,"first_name":"小王"}}}`,
	// A button on a message the bot can still see, and on one it cannot (date 0).
	`{"update_id":107,"callback_query":{"id":"4382bfdwdsb323b2d9","chat_instance":"-5531","data":"s:16:d:AAAA","from":{"id":5001,"is_bot":false,"first_name":"小王"},
	  "message":{"message_id":3,"date":1796280000,"text":"【督办提醒】任务16","chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群"},"from":{"id":42,"is_bot":true,"first_name":"督办"}}}}`,
	`{"update_id":108,"callback_query":{"id":"4382bfdwdsb323b2da","chat_instance":"-5531","data":"a:16-3:d:CCCC","from":{"id":5001,"is_bot":false,"first_name":"小王"},
	  "message":{"message_id":2,"date":0,"chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群"}}}}`,
	// The bot added to a group, and removed from one.
	`{"update_id":109,"my_chat_member":{"chat":{"id":-1001234567890,"type":"supergroup","title":"市教育局工作群"},"from":{"id":5001,"is_bot":false,"first_name":"小王"},"date":1796290004,
	  "old_chat_member":{"user":{"id":42,"is_bot":true,"first_name":"督办"},"status":"left"},
	  "new_chat_member":{"user":{"id":42,"is_bot":true,"first_name":"督办"},"status":"administrator","can_be_edited":false,"can_manage_chat":true,"can_delete_messages":true,"can_restrict_members":false,"can_promote_members":false,"can_change_info":true,"can_invite_users":true,"can_post_stories":false,"can_edit_stories":false,"can_delete_stories":false,"can_pin_messages":true,"is_anonymous":false}}}`,
	`{"update_id":110,"my_chat_member":{"chat":{"id":-4002,"type":"group","title":"市人社局"},"from":{"id":5004,"is_bot":false,"first_name":"钱"},"date":1796290005,
	  "old_chat_member":{"user":{"id":42,"is_bot":true,"first_name":"督办"},"status":"member"},
	  "new_chat_member":{"user":{"id":42,"is_bot":true,"first_name":"督办"},"status":"kicked","until_date":0}}}`,
	// Escapes, surrogate pairs, numbers at their limits.
	`{"update_id":9007199254740991,"message":{"message_id":2147483647,"date":1796290006,"text":"\u5df2\u5b8c\u6210 \ud83d\udc4d \"引号\" \\ 反斜杠\n第二行\t制表","chat":{"id":-1009999999999,"type":"supergroup","title":"a\u0000b"},"from":{"id":9999999999,"is_bot":false,"first_name":"x"}}}`,
}

// TestDecodeUpdatesAsEncodingJSON: decodeUpdates gives what encoding/json gives, for single
// updates (a webhook's) and for a getUpdates answer of all of them.
func TestDecodeUpdatesAsEncodingJSON(t *testing.T) {
	for i, body := range updateBodies {
		var want, got models.Update
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("body %d: encoding/json: %v", i, err)
		}
		if err := decodeUpdates([]byte(body), &got); err != nil {
			t.Fatalf("body %d: decodeUpdates: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("body %d: got %+v, want %+v", i, got, want)
		}
	}
	answer := `{"ok":true,"result":[`
	for i, body := range updateBodies {
		if i > 0 {
			answer += ","
		}
		answer += body
	}
	answer += `]}`
	type getUpdates struct {
		OK     bool            `json:"ok"`
		Result []models.Update `json:"result"`
	}
	var want, got getUpdates
	if err := json.Unmarshal([]byte(answer), &want); err != nil {
		t.Fatal(err)
	}
	if err := decodeUpdates([]byte(answer), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Result) != len(updateBodies) || !reflect.DeepEqual(got, want) {
		t.Errorf("getUpdates answer: got %d updates %+v, want %d %+v", len(got.Result), got, len(want.Result), want)
	}
}

// FuzzDecodeUpdates: whatever the bytes, decodeUpdates accepts what encoding/json accepts
// and decodes it to the same update.
func FuzzDecodeUpdates(f *testing.F) {
	for _, body := range updateBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want, got models.Update
		wantErr := json.Unmarshal(body, &want)
		gotErr := decodeUpdates(body, &got)
		if wantErr != nil || !utf8.Valid(body) || !telegramKeys(body) {
			// What the poller never sees from Telegram, whose JSON is UTF-8 (encoding/json
			// turns a bad byte into U+FFFD, goccy/go-json keeps it).
			return
		}
		if gotErr != nil {
			t.Fatalf("decodeUpdates refused what encoding/json accepts: %v", gotErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}

// telegramKeys reports whether every object key in body is written as Telegram writes its
// keys, in lower case: encoding/json also matches "messAge" to "message", goccy/go-json does
// not, and Telegram never sends such a key.
func telegramKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var objects []bool // per open bracket: an object, whose next string is a key
	key := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return true // the end, or what json.Unmarshal accepted past a first value
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				objects = append(objects, v == '{')
				key = v == '{'
			default:
				objects = objects[:len(objects)-1]
				key = len(objects) > 0 && objects[len(objects)-1]
			}
			continue
		case string:
			if key && v != strings.ToLower(v) {
				return false
			}
		}
		if len(objects) > 0 && objects[len(objects)-1] {
			key = !key
		}
	}
}

// BenchmarkDecodeUpdates: a getUpdates answer of 100 reports, as a flood brings them, decoded
// by encoding/json, by decodeUpdates, and as the poller decodes it (decodeGetUpdates).
func BenchmarkDecodeUpdates(b *testing.B) {
	answer := `{"ok":true,"result":[`
	for i := range 100 {
		if i > 0 {
			answer += ","
		}
		answer += fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1796290000,"text":"/report %d 进行中 已完成%d%%",`+
			`"entities":[{"type":"bot_command","offset":0,"length":7}],"chat":{"id":%d,"type":"supergroup","title":"部门%d工作群"},`+
			`"from":{"id":%d,"is_bot":false,"first_name":"办事员"}}}`, 1000+i, 7+i, i+1, i, -1001234500000-i, i, 5000+i)
	}
	answer += `]}`
	into := func(decode func([]byte, any) error) func([]byte) (getUpdatesAnswer, error) {
		return func(raw []byte) (getUpdatesAnswer, error) {
			var a getUpdatesAnswer
			err := decode(raw, &a)
			return a, err
		}
	}
	for _, d := range []struct {
		name   string
		decode func([]byte) (getUpdatesAnswer, error)
	}{
		{"encoding-json", into(json.Unmarshal)},
		{"decodeUpdates", into(decodeUpdates)},
		{"decodeGetUpdates", decodeGetUpdates},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a, err := d.decode([]byte(answer))
				if err != nil || len(a.Result) != 100 {
					b.Fatalf("got %d updates, %v", len(a.Result), err)
				}
			}
		})
	}
}
