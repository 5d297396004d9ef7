package bot

import (
	"fmt"
	"testing"
)

// FuzzCallbackData: no callback data, however made, panics the decoders; what they accept is
// exactly what the bot signed for that chat, and never for another chat.
func FuzzCallbackData(f *testing.F) {
	b := &Bot{key: []byte("fuzz key")}
	for _, d := range []string{
		fmt.Sprintf("s:16:d:%s", b.sign(-1001, 16, "d")),
		"a:16-3:d:" + b.signAsk(-1001, "16-3", "d"),
		"s:16:x:AAAA", "a:0-1:d:AAAA", "a:16-3:n:", "s::::", "a:16-03:d:x", "s:99999999999999999999:d:x",
	} {
		f.Add(int64(-1001), d)
	}
	f.Fuzz(func(t *testing.T, chat int64, data string) {
		if task, status, ok := b.parseButton(chat, data); ok {
			want := ""
			for _, bs := range buttonStatuses {
				if bs.status == status {
					want = fmt.Sprintf("s:%d:%s:%s", task, bs.code, b.sign(chat, task, bs.code))
				}
			}
			if data != want {
				t.Fatalf("parseButton(%d, %q) accepted data the bot would sign as %q", chat, data, want)
			}
			if _, _, also := b.parseButton(chat+1, data); also {
				t.Fatalf("parseButton accepted %q for chat %d and %d", data, chat, chat+1)
			}
		}
		if id, choice, ok := b.parseAsk(chat, data); ok {
			if want := "a:" + id + ":" + choice.code + ":" + b.signAsk(chat, id, choice.code); data != want {
				t.Fatalf("parseAsk(%d, %q) accepted data the bot would sign as %q", chat, data, want)
			}
			if _, _, also := b.parseAsk(chat+1, data); also {
				t.Fatalf("parseAsk accepted %q for chat %d and %d", data, chat, chat+1)
			}
		}
	})
}
