package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis/redistest"
)

// exportConfig writes a config.yaml for the shipped plan with its own store: the embedded
// file in a temporary folder, or Redis under a fresh prefix.
func exportConfig(tb testing.TB, redisURL, prefix string) string {
	tb.Helper()
	raw, err := os.ReadFile("config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	tasks, _ := filepath.Abs("tasks.yaml")
	dir := tb.TempDir()
	text := strings.Replace(string(raw), "tasks: tasks.yaml", "tasks: "+tasks, 1)
	text = strings.Replace(text, `prefix: "duban:"`, `prefix: "`+prefix+`"`, 1)
	text = strings.Replace(text, `url: ""  `, `url: "`+redisURL+`"  `, 1)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

type exportJSON struct {
	Tasks []struct {
		ID          int    `json:"id"`
		Deadline    string `json:"deadline"`
		Departments []struct {
			Name    string       `json:"name"`
			Lead    bool         `json:"lead"`
			Status  store.Status `json:"status"`
			Percent *int         `json:"percent"`
			Color   string       `json:"color"`
			Updates []struct {
				At      string       `json:"at"`
				Text    string       `json:"text"`
				Status  store.Status `json:"status"`
				Percent *int         `json:"percent"`
				By      string       `json:"by"`
				Chat    int64        `json:"chat"`
			} `json:"updates"`
		} `json:"departments"`
	} `json:"tasks"`
}

// TestExportWhileWriting runs duban export again and again while a writer (standing in for the
// daemon) keeps recording, on both stores: every export must be whole and consistent.
func TestExportWhileWriting(t *testing.T) {
	stores := []struct{ name, url string }{{"sqlite", ""}}
	if url, ok := redistest.URL(t); ok {
		stores = append(stores, struct{ name, url string }{"redis", url})
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			prefix := "duban:"
			if st.url != "" {
				prefix = redistest.Prefix(t, st.url)
			}
			path := exportConfig(t, st.url, prefix)
			c, _, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			writer, err := openStore(ctx, c, false) // the daemon's open: takes the lock on the embedded file
			if err != nil {
				t.Fatal(err)
			}
			defer writer.Close()
			pct := 60
			first := store.Update{Task: 16, Department: "市教育局", At: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), ChatID: -1001,
				UserName: "王五", Text: "进行中 60%，\"方案\"已报, 含逗号", Status: store.StatusInProgress, Percent: &pct, Source: store.SourceReply}
			if _, _, err := writer.Record(ctx, 1, []store.Update{first}); err != nil {
				t.Fatal(err)
			}

			var written atomic.Int64
			written.Store(1)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the daemon, recording all along
				defer wg.Done()
				for i := int64(2); ctx.Err() == nil && i < 2000; i++ {
					u := store.Update{Task: 30, Department: "市教育局", At: time.Now(), ChatID: -1001, Text: "note", Source: store.SourceReply}
					if _, _, err := writer.Record(ctx, i, []store.Update{u}); err != nil {
						if ctx.Err() == nil {
							t.Errorf("writer: %v", err)
						}
						return
					}
					written.Add(1)
				}
			}()

			var lastTask30 int
			for round := 0; round < 5; round++ {
				code, out, errOut := runCLI(t, "export", "-config", path, "-all")
				if code != exitOK {
					t.Fatalf("export: exit %d: %s", code, errOut)
				}
				var got exportJSON
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("export JSON: %v", err)
				}
				if len(got.Tasks) != 50 {
					t.Fatalf("export: got %d tasks, want 50", len(got.Tasks))
				}
				t16 := got.Tasks[15]
				d := t16.Departments[0]
				if t16.ID != 16 || t16.Deadline != "2021-12-31" || d.Name != "市教育局" || !d.Lead || d.Status != store.StatusInProgress ||
					*d.Percent != 60 || len(d.Updates) != 1 || d.Updates[0].Text != first.Text || d.Updates[0].At != "2026-12-01T09:00:00+08:00" ||
					d.Updates[0].By != "王五" || d.Updates[0].Chat != -1001 || d.Color != "red" {
					t.Fatalf("task 16 in the export: got %+v", t16)
				}
				n := len(got.Tasks[29].Departments[0].Updates)
				if n < lastTask30 {
					t.Errorf("round %d: task 30 has %d updates, fewer than the %d of the export before", round, n, lastTask30)
				}
				lastTask30 = n
				// A department that never reported is not_started with an empty list, not null.
				if other := got.Tasks[0].Departments[0]; other.Status != store.StatusNotStarted || other.Updates == nil || len(other.Updates) != 0 {
					t.Errorf("a silent department: got %+v, want not_started and []", other)
				}
			}

			code, out, errOut := runCLI(t, "export", "-config", path, "-format", "csv")
			if code != exitOK {
				t.Fatalf("export csv: exit %d: %s", code, errOut)
			}
			if !strings.HasPrefix(out, "\ufeff") {
				t.Error("CSV: no UTF-8 byte order mark, Excel would show mojibake")
			}
			rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatalf("CSV: %v", err)
			}
			if want := "序号,重点工作,任务目标,责任部门,状态,进度(%),最近报送时间,最近报送内容,完成时限,剩余天数(负数为逾期),预警"; strings.Join(rows[0], ",") != want {
				t.Errorf("CSV header: got %q, want %q", strings.Join(rows[0], ","), want)
			}
			_, p, _ := config.Load(path)
			wantRows := 1
			for _, task := range p.Tasks {
				wantRows += len(task.Responsible)
			}
			if len(rows) != wantRows {
				t.Errorf("CSV: got %d rows, want %d (a header and one per task and department)", len(rows), wantRows)
			}
			var row16 []string
			for _, r := range rows {
				if r[0] == "16" && r[3] == "市教育局" {
					row16 = r
				}
			}
			if strings.Join(row16[:9], "|") != "16|深化产教融合校企合作协同育人|促进产教深度融合|市教育局|进行中|60|2026-12-01 09:00|"+first.Text+"|2021-12-31" {
				t.Errorf("CSV row of task 16: got %q", row16)
			}
			if row16[10] != "红色（逾期）" {
				t.Errorf("CSV warning of task 16: got %q, want 红色（逾期） (the deadline passed in 2021)", row16[10])
			}
			cancel()
			wg.Wait()
			if written.Load() < 2 {
				t.Error("the writer recorded nothing during the exports: the test did not test concurrency")
			}
		})
	}
}

func TestExportUsage(t *testing.T) {
	code, _, errOut := runCLI(t, "export", "-format", "xml")
	if code != exitUsage || !strings.Contains(errOut, `export: -format: want json or csv, got "xml"`) {
		t.Errorf("got exit %d, %q; want 2 naming the flag", code, errOut)
	}
}
