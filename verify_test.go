package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
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
			path, c := storeConfig(t, url)
			var ups []store.Update
			for _, text := range []string{"进行中 10%", "进行中 50%", "已完成"} {
				ups = append(ups, store.Update{Task: 16, Department: "市教育局", At: time.Now(), ChatID: -1001, Text: text, Source: store.SourceReply})
			}
			recordFrom(t, c, 1, ups...)

			code, out, errOut := runCLI(t, "verify", "-config", path)
			if code != exitOK || !strings.Contains(out, "1 tasks, 1 latest states, 3 updates checked, 0 problem(s)") {
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

// TestVerifyLatest: duban verify recomputes every department's latest state from the updates
// and names the one set to done behind the store's back (what export, the digest and plan
// read), exiting 1, on both stores.
func TestVerifyLatest(t *testing.T) {
	cases := []struct {
		name   string
		url    func(tb testing.TB) (string, bool)
		tamper func(tb testing.TB, c *config.Config)
	}{
		{"sqlite", func(testing.TB) (string, bool) { return "", true }, func(tb testing.TB, c *config.Config) {
			db, err := sql.Open("sqlite", c.StorePath())
			if err != nil {
				tb.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE latest SET status = 'done', percent = 100 WHERE task = 16 AND department = '市教育局'`); err != nil {
				tb.Fatal(err)
			}
		}},
		{"redis", redistest.URL, func(tb testing.TB, c *config.Config) {
			opts, _ := goredis.ParseURL(c.Store.URL)
			rc := goredis.NewClient(opts)
			defer rc.Close()
			ctx := context.Background()
			key := "{" + c.Store.Prefix + "}:latest"
			text, err := rc.HGet(ctx, key, "16|市教育局").Result()
			if err != nil {
				tb.Fatal(err)
			}
			var st store.State
			if err := json.Unmarshal([]byte(text), &st); err != nil {
				tb.Fatal(err)
			}
			st.Status, st.Percent = store.StatusDone, new(int)
			*st.Percent = 100
			b, _ := json.Marshal(st)
			if err := rc.HSet(ctx, key, "16|市教育局", b).Err(); err != nil {
				tb.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, ok := tc.url(t)
			if !ok {
				return
			}
			path, c := storeConfig(t, url)
			pct := 60
			ups := []store.Update{
				{Task: 16, Department: "市教育局", Text: "进行中 60%", Status: store.StatusInProgress, Percent: &pct},
				{Task: 16, Department: "市人社局", Text: "已完成", Status: store.StatusDone},
				{Task: 16, Department: "市教育局", Text: "遇到困难 资金未到位", Status: store.StatusBlocked},
			}
			for i := range ups {
				ups[i].At, ups[i].ChatID, ups[i].Source = time.Now(), -1001, store.SourceReply
			}
			recordFrom(t, c, 1, ups...)

			code, out, errOut := runCLI(t, "verify", "-config", path)
			if code != exitOK || !strings.HasSuffix(out, ": 1 tasks, 2 latest states, 3 updates checked, 0 problem(s)\n") {
				t.Fatalf("verify a clean record: got exit %d, %q %q; want 0 and no problems", code, out, errOut)
			}
			tc.tamper(t, c)
			code, out, errOut = runCLI(t, "verify", "-config", path)
			want := "task 16 市教育局: latest_differs: status: latest says done, the updates say blocked; percent: latest says 100, the updates say 60\n"
			if code != exitFailure || !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "1 problem(s)\n") || !strings.Contains(errOut, "altered or cut") {
				t.Errorf("verify a tampered latest state: got exit %d, %q %q; want 1, first line %q", code, out, errOut, want)
			}
		})
	}
}

// TestVerifyMissingStore: verify on an embedded store that is not there is an error naming the
// file, not a clean record of nothing.
func TestVerifyMissingStore(t *testing.T) {
	path := exportConfig(t, "", "duban:")
	missing := filepath.Join(filepath.Dir(path), "data", "duban.db")
	code, out, errOut := runCLI(t, "verify", "-config", path)
	want := "duban: verify: no store at " + missing + " (store.path): nothing to verify\n"
	if code != exitFailure || out != "" || errOut != want {
		t.Errorf("verify without a store: got exit %d, stdout %q, stderr %q; want %d, no output, %q", code, out, errOut, exitFailure, want)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("verify created %s, want it left alone", missing)
	}
}

// TestVerifyWhileWriting runs duban verify again and again while a writer (standing in for the
// daemon) keeps recording, on both stores: a reply recorded half-way through a verify must not
// be taken for a record appended or a state that disagrees.
func TestVerifyWhileWriting(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path, c := storeConfig(t, st.url)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			writer := openWriter(t, ctx, c)
			defer writer.Close()
			record := func(i int64) error {
				pct := int(i % 100)
				u := store.Update{Task: 16 + int(i%3), Department: []string{"市教育局", "市人社局"}[i%2], At: time.Now(), ChatID: -1001,
					Text: "进行中", Status: store.StatusInProgress, Percent: &pct, Source: store.SourceReply}
				_, _, err := writer.Record(ctx, i, []store.Update{u})
				return err
			}
			if err := record(1); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { // the daemon, recording all along, faster than any real plan's replies
				defer close(done)
				for i := int64(2); ctx.Err() == nil; i++ {
					if err := record(i); err != nil {
						if ctx.Err() == nil {
							t.Errorf("writer: %v", err)
						}
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			for round := 0; round < 10; round++ {
				code, out, errOut := runCLI(t, "verify", "-config", path)
				if code != exitOK || !strings.HasSuffix(out, " 0 problem(s)\n") {
					t.Errorf("verify round %d: got exit %d, %q %q; want 0 and no problems", round, code, out, errOut)
				}
			}
			cancel()
			<-done
		})
	}
}
