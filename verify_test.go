package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis/redistest"
)

// TestVerify: duban verify passes a clean record and names the record that was changed or
// removed behind the store's back, exiting 1.
func TestVerify(t *testing.T) {
	type tamper func(tb testing.TB, c *config.Config)
	cases := []struct {
		name   string
		url    func(tb testing.TB) (string, bool)
		tamper tamper
		want   string
	}{
		{"sqlite", func(testing.TB) (string, bool) { return "", true }, func(tb testing.TB, c *config.Config) {
			db, err := sql.Open("sqlite", c.StorePath())
			if err != nil {
				tb.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE updates SET text = '已完成' WHERE task = 16 AND seq = 2`); err != nil {
				tb.Fatal(err)
			}
		}, "task 16 seq 2: altered"},
		{"redis", redistest.URL, func(tb testing.TB, c *config.Config) {
			opts, _ := goredis.ParseURL(c.Store.URL)
			rc := goredis.NewClient(opts)
			defer rc.Close()
			if err := rc.XDel(context.Background(), "{"+c.Store.Prefix+"}:chain:16", "2-0").Err(); err != nil {
				tb.Fatal(err)
			}
		}, "task 16 seq 3: seq_gap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, ok := tc.url(t)
			if !ok {
				return
			}
			prefix := "duban:"
			if url != "" {
				prefix = redistest.Prefix(t, url)
			}
			path := exportConfig(t, url, prefix)
			c, _, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			w, err := openStore(ctx, c, false)
			if err != nil {
				t.Fatal(err)
			}
			for i, text := range []string{"进行中 10%", "进行中 50%", "已完成"} {
				u := store.Update{Task: 16, Department: "市教育局", At: time.Now(), ChatID: -1001, Text: text, Source: store.SourceReply}
				if _, _, err := w.Record(ctx, int64(i+1), []store.Update{u}); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()

			code, out, errOut := runCLI(t, "verify", "-config", path)
			if code != exitOK || !strings.Contains(out, "1 tasks, 3 updates checked, 0 problem(s)") {
				t.Fatalf("verify a clean record: got exit %d, %q %q; want 0 and no problems", code, out, errOut)
			}
			tc.tamper(t, c)
			code, out, errOut = runCLI(t, "verify", "-config", path)
			if code != exitFailure || !strings.Contains(out, tc.want) || !strings.Contains(errOut, "altered or cut") {
				t.Errorf("verify a tampered record: got exit %d, %q %q; want 1 naming %q", code, out, errOut, tc.want)
			}
		})
	}
}
