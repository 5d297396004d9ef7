package telegramtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

func entitiesJSON(tb testing.TB, e []models.MessageEntity) string {
	tb.Helper()
	if len(e) == 0 {
		return "[]"
	}
	b, err := json.Marshal(e)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestFormatText(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		in        string
		wantText  string
		wantEnts  string // JSON of the entities
		wantError string // full Bot API description
	}{
		{name: "plain", in: "a <b> c", wantText: "a <b> c", wantEnts: `[]`},
		{name: "html nested", mode: "HTML", in: "<b>a<i>b</i></b>c",
			wantText: "abc", wantEnts: `[{"type":"bold","offset":0,"length":2},{"type":"italic","offset":1,"length":1}]`},
		{name: "html case-insensitive mode and tags", mode: "html", in: "<B>x</B>",
			wantText: "x", wantEnts: `[{"type":"bold","offset":0,"length":1}]`},
		{name: "html entities", mode: "HTML", in: "&lt;&gt;&amp;&quot;&#65;&#x42;&nbsp;",
			wantText: `<>&"AB&nbsp;`, wantEnts: `[]`},
		{name: "html astral offsets", mode: "HTML", in: "😀<u>x</u>",
			wantText: "😀x", wantEnts: `[{"type":"underline","offset":2,"length":1}]`},
		{name: "html link and mention", mode: "HTML", in: `<a href="https://t.me">t</a> <a href='tg://user?id=42'>u</a>`,
			wantText: "t u", wantEnts: `[{"type":"text_link","offset":0,"length":1,"url":"https://t.me"},{"type":"text_mention","offset":2,"length":1,"user":{"id":42,"is_bot":false}}]`},
		{name: "html pre code", mode: "HTML", in: `<pre><code class="language-go">x := 1</code></pre>`,
			wantText: "x := 1", wantEnts: `[{"type":"pre","offset":0,"length":6,"language":"go"}]`},
		{name: "html spoiler span", mode: "HTML", in: `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`,
			wantText: "st", wantEnts: `[{"type":"spoiler","offset":0,"length":1},{"type":"spoiler","offset":1,"length":1}]`},
		{name: "html expandable blockquote", mode: "HTML", in: `<blockquote expandable>q</blockquote>`,
			wantText: "q", wantEnts: `[{"type":"expandable_blockquote","offset":0,"length":1}]`},
		{name: "html empty end tag", mode: "HTML", in: "<b>x</>", wantText: "x", wantEnts: `[{"type":"bold","offset":0,"length":1}]`},
		{name: "html span without class", mode: "HTML", in: "<span>x</span>",
			wantError: `Bad Request: can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{name: "html self-closing", mode: "HTML", in: "a<br/>",
			wantError: `Bad Request: can't parse entities: Unsupported start tag "br/" at byte offset 1`},
		{name: "html unclosed start tag", mode: "HTML", in: "x <b",
			wantError: `Bad Request: can't parse entities: Unclosed start tag at byte offset 2`},
		{name: "html bad attribute", mode: "HTML", in: `<a href>x</a>`,
			wantError: `Bad Request: can't parse entities: Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0`},
		{name: "html unclosed end tag", mode: "HTML", in: "<b>x</b",
			wantError: `Bad Request: can't parse entities: Unclosed end tag at byte offset 4`},
		{name: "html bad custom emoji", mode: "HTML", in: `<tg-emoji emoji-id="abc">👍</tg-emoji>`,
			wantError: `Bad Request: can't parse entities: Invalid custom emoji identifier specified`},
		{name: "markdownv2 all", mode: "MarkdownV2", in: "*b* _i_ __u__ ~s~ ||p|| `c` [l](http://x.y/\\))",
			wantText: "b i u s p c l",
			wantEnts: `[{"type":"bold","offset":0,"length":1},{"type":"italic","offset":2,"length":1},{"type":"underline","offset":4,"length":1},{"type":"strikethrough","offset":6,"length":1},{"type":"spoiler","offset":8,"length":1},{"type":"code","offset":10,"length":1},{"type":"text_link","offset":12,"length":1,"url":"http://x.y/)"}]`},
		{name: "markdownv2 pre", mode: "MarkdownV2", in: "```go\nfmt.Println()\n```",
			wantText: "fmt.Println()", wantEnts: `[{"type":"pre","offset":0,"length":13,"language":"go"}]`},
		{name: "markdownv2 blockquote", mode: "MarkdownV2", in: ">quote\nafter",
			wantText: "quote\nafter", wantEnts: `[{"type":"blockquote","offset":0,"length":6}]`},
		{name: "markdownv2 unclosed", mode: "MarkdownV2", in: "*bold",
			wantError: `Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0`},
		{name: "markdownv2 reserved", mode: "MarkdownV2", in: "1+1",
			wantError: `Bad Request: can't parse entities: Character '+' is reserved and must be escaped with the preceding '\'`},
		{name: "markdownv2 url", mode: "MarkdownV2", in: "[x](http://a",
			wantError: `Bad Request: can't parse entities: Can't find end of a URL at byte offset 4`},
		{name: "markdown legacy", mode: "Markdown", in: "*b* _i_ `c` [l](http://x.y) 1+1.",
			wantText: "b i c l 1+1.",
			wantEnts: `[{"type":"bold","offset":0,"length":1},{"type":"italic","offset":2,"length":1},{"type":"code","offset":4,"length":1},{"type":"text_link","offset":6,"length":1,"url":"http://x.y"}]`},
		{name: "markdown legacy unclosed", mode: "Markdown", in: "a _b",
			wantError: `Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 2`},
		{name: "trim shifts entities", mode: "HTML", in: "  <b> x </b>  ",
			wantText: "x", wantEnts: `[{"type":"bold","offset":0,"length":1}]`},
		{name: "unsupported mode", mode: "BBCode", in: "x", wantError: "Bad Request: unsupported parse_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, ents, aerr := formatText(tt.in, tt.mode)
			if tt.wantError != "" {
				if aerr == nil || aerr.Description != tt.wantError || aerr.Code != 400 {
					t.Fatalf("got %q %v, want error %q", text, aerr, tt.wantError)
				}
				return
			}
			if aerr != nil {
				t.Fatalf("got error %q, want success", aerr.Description)
			}
			if text != tt.wantText {
				t.Errorf("text: got %q, want %q", text, tt.wantText)
			}
			if got := entitiesJSON(t, ents); got != tt.wantEnts {
				t.Errorf("entities: got %s, want %s", got, tt.wantEnts)
			}
		})
	}
}

func TestDetectEntities(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"/start", `[{"type":"bot_command","offset":0,"length":6}]`},
		{"/start@test_bot CODE", `[{"type":"bot_command","offset":0,"length":15}]`},
		{"😀 /help me", `[{"type":"bot_command","offset":3,"length":5}]`},
		{"a/b /x/y", `[]`},
		{"hi @alice and @b", `[{"type":"mention","offset":3,"length":6}]`},
		{"mail@example.com", `[]`},
	}
	for _, tt := range tests {
		if got := entitiesJSON(t, detectEntities(tt.in)); got != tt.want {
			t.Errorf("detectEntities(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := newLimiter(Limits{PerChat: time.Second, PerGroupPerMinute: 2}, 0.01)
	steps := []struct {
		at        time.Duration // wall clock since t0
		chat      int64
		group     bool
		wantOK    bool
		wantRetry int
	}{
		{0, -1, true, true, 0},
		{5 * time.Millisecond, -1, true, false, 1}, // per chat: 10 ms window
		{10 * time.Millisecond, -1, true, true, 0},
		{20 * time.Millisecond, -1, true, false, 58}, // group: 2 per 600 ms, the first frees at 600 ms
		{599 * time.Millisecond, -1, true, false, 1},
		{600 * time.Millisecond, -1, true, true, 0},
		{600 * time.Millisecond, 7, false, true, 0},
	}
	for i, st := range steps {
		retry, ok := l.allow(t0.Add(st.at), st.chat, st.group)
		if ok != st.wantOK || retry != st.wantRetry {
			t.Errorf("step %d: got ok=%v retry=%d, want ok=%v retry=%d", i, ok, retry, st.wantOK, st.wantRetry)
		}
	}
}

// FuzzFormatText checks the parsers never panic and produce entities inside the text.
func FuzzFormatText(f *testing.F) {
	for _, s := range []string{"<b>x</b>", "*a* _b_ __c__ ||d|| ```go\nx```", "[l](u) `c`", "&#x1F600;<a href='x'>y</a>", ">q\n>r", "<pre><code class=\"language-c\">x</code></pre>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, mode := range []string{"", "HTML", "MarkdownV2", "Markdown"} {
			text, ents, aerr := formatText(in, mode)
			if aerr != nil {
				continue
			}
			n := utf16Len(text)
			for _, e := range ents {
				if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
					t.Fatalf("%s %q: entity %+v outside text %q (%d UTF-16 units)", mode, in, e, text, n)
				}
			}
		}
		detectEntities(in)
	})
}
