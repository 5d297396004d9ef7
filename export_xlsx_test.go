package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
	"github.com/duban/duban/workbook"
)

func xlsxUpdate(task int, dept, text string, at time.Time, status store.Status, pct *int) store.Update {
	return store.Update{Task: task, Department: dept, At: at, ChatID: -1001, UserName: "王五", Text: text, Status: status,
		Percent: pct, Source: store.SourceReply}
}

// remind puts reminders in the store's ledger, as the scheduler claims and confirms them.
func remind(tb testing.TB, path string, at time.Time, keys ...string) {
	tb.Helper()
	c, err := config.LoadConfig(path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	w, err := openStore(ctx, c, false)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	for i, key := range keys {
		if ok, err := w.Claim(ctx, key, "test", at, time.Minute); err != nil || !ok {
			tb.Fatalf("claim %s: got %v, %v; want it claimed", key, ok, err)
		}
		if err := w.Confirm(ctx, store.Sent{Keys: []string{key}, Department: "市教育局", ChatID: -1001, MessageIDs: []int{900 + i}, At: at}); err != nil {
			tb.Fatalf("confirm %s: %v", key, err)
		}
	}
}

// recordForWorkbook records, on the shipped plan: task 16 in progress then corrected, with a
// file; task 19 done; task 1 a note; and two reminders to 市教育局 on task 16 after its last
// report.
func recordForWorkbook(t *testing.T, path string) []store.Update {
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 09:00 in Asia/Shanghai
	first := xlsxUpdate(16, "市教育局", "进行中 50% 协调机制方案已起草", at, store.StatusInProgress, ptrInt(50))
	fix := xlsxUpdate(16, "市教育局", "=进行中 60%，方案已报市政府", at.Add(time.Hour), store.StatusInProgress, ptrInt(60))
	fix.Corrects = "16-1"
	fix.Attachment = &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAIB", FileUniqueID: "AgADbw8AAphYEVU", FileName: "协调机制方案.pdf", Size: 48213}
	done := xlsxUpdate(19, "市教育局", "已完成\n负面清单已印发", at.Add(2*time.Hour), store.StatusDone, ptrInt(100))
	note := xlsxUpdate(1, "浔阳区人民政府", "招生计划已下达", at.Add(3*time.Hour), "", nil)
	ups := recordAll(t, path, first, fix, done, note)
	remind(t, path, at.Add(24*time.Hour), "n|16|市教育局|2021-12-31|overdue:1", "n|16|市教育局|2021-12-31|overdue:2")
	return ups
}

func ptrInt(n int) *int { return &n }

func openXLSX(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("read the workbook back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func cellFill(t *testing.T, f *excelize.File, sheet, cell string) (fill string, wrap bool) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fill.Color) > 0 {
		fill = s.Fill.Color[0]
	}
	return fill, s.Alignment != nil && s.Alignment.WrapText
}

// TestExportXLSX: `duban export -format xlsx -o FILE` on both stores, read back with excelize
// and with openpyxl: the sheets, the header, one row per task and department with the CSV's
// values, the header frozen, each row in its colour, text wrapped, Chinese intact, every
// update, and each department's figures.
func TestExportXLSX(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			ups := recordForWorkbook(t, path)
			dir := t.TempDir()
			out := filepath.Join(dir, "台账.xlsx")
			code, stdout, errOut := runCLI(t, "export", "-config", path, "-format", "xlsx", "-o", out)
			if code != exitOK || stdout != "" {
				t.Fatalf("export xlsx: got exit %d, stdout %q, stderr %s; want 0 and nothing printed", code, stdout, errOut)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("export xlsx: got %d files in the folder, want the workbook only (no temporary file left)", len(entries))
			}
			f := openXLSX(t, out)
			texts := i18n.For("zh")
			if got, want := strings.Join(f.GetSheetList(), ","), "台账,进展记录,单位汇总"; got != want {
				t.Fatalf("sheets: got %s, want %s", got, want)
			}

			// 台账 holds what the CSV holds, cell for cell (the CSV's leading ' aside).
			ledger, err := f.GetRows("台账")
			if err != nil {
				t.Fatal(err)
			}
			code, csvOut, errOut := runCLI(t, "export", "-config", path, "-format", "csv")
			if code != exitOK {
				t.Fatalf("export csv: exit %d: %s", code, errOut)
			}
			csvRows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvOut, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(ledger) != len(csvRows) || len(ledger) != 258 {
				t.Fatalf("台账: got %d rows, want %d as the CSV has (a header and 257 tasks × departments)", len(ledger), len(csvRows))
			}
			if strings.Join(ledger[0], "|") != strings.Join(texts.CSVHeader, "|") {
				t.Errorf("台账 header: got %q, want %q", ledger[0], texts.CSVHeader)
			}
			row := map[string]int{} // "16|市教育局" → its row number in the sheet
			for i, r := range ledger {
				for len(r) < len(csvRows[i]) {
					r = append(r, "") // GetRows drops empty cells at a row's end
				}
				for j := range csvRows[i] {
					cell := r[j]
					if j == 1 || j == 2 || j == 3 || j == 7 { // the CSV's text cells
						cell = record.CSVCell(cell)
					}
					if cell != csvRows[i][j] {
						t.Errorf("台账 row %d, %s: got %q, want %q as in the CSV", i+1, texts.CSVHeader[j], r[j], csvRows[i][j])
					}
				}
				row[r[0]+"|"+r[3]] = i + 1
			}
			r16 := row["16|市教育局"]
			if got := ledger[r16-1][7]; got != "=进行中 60%，方案已报市政府 📎 协调机制方案.pdf" {
				t.Errorf("台账 task 16: got %q, want the words exactly, file named", got)
			}
			panes, err := f.GetPanes("台账")
			if err != nil || !panes.Freeze || panes.YSplit != 1 {
				t.Errorf("台账 panes: got %+v, %v; want the header row frozen", panes, err)
			}
			for key, want := range map[string]string{"16|市教育局": "FFC7CE", "19|市教育局": "", "1|浔阳区人民政府": "FFC7CE"} {
				for _, col := range []string{"A", "H", "K"} {
					cell := fmt.Sprintf("%s%d", col, row[key])
					if fill, wrap := cellFill(t, f, "台账", cell); fill != want || !wrap {
						t.Errorf("台账 %s (%s): got fill %q, wrap %v; want fill %q, wrapped", cell, key, fill, wrap, want)
					}
				}
			}
			if w, _ := f.GetColWidth("台账", "C"); w < 30 {
				t.Errorf("台账 column C (goal): got width %v, want a wide one", w)
			}

			// 进展记录: every update, in the configured zone.
			records, err := f.GetRows("进展记录")
			if err != nil {
				t.Fatal(err)
			}
			if len(records) != len(ups)+1 {
				t.Fatalf("进展记录: got %d rows, want %d (a header and every update)", len(records), len(ups)+1)
			}
			wantRecords := map[string]string{
				"16-1": "16-1|16|市教育局|2026-12-01 09:00:00|王五|进行中|50|进行中 50% 协调机制方案已起草|||" + ups[0].Hash,
				"16-2": "16-2|16|市教育局|2026-12-01 10:00:00|王五|进行中|60|=进行中 60%，方案已报市政府|协调机制方案.pdf|16-1|" + ups[1].Hash,
				"19-1": "19-1|19|市教育局|2026-12-01 11:00:00|王五|已完成|100|已完成\n负面清单已印发|||" + ups[2].Hash,
				"1-1":  "1-1|1|浔阳区人民政府|2026-12-01 12:00:00|王五|||招生计划已下达|||" + ups[3].Hash,
			}
			for _, r := range records[1:] {
				if got := strings.Join(r, "|"); got != wantRecords[r[0]] {
					t.Errorf("进展记录: got %q, want %q", got, wantRecords[r[0]])
				}
			}

			// 单位汇总: 市教育局's figures, as the scheduler assesses them.
			_, p, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			summary, err := f.GetRows("单位汇总")
			if err != nil {
				t.Fatal(err)
			}
			var edu []string
			for _, r := range summary {
				if r[0] == "市教育局" {
					edu = r
				}
			}
			// Overdue as the rows are red: the scheduler's one judgement.
			red := 0
			for _, r := range csvRows {
				if r[3] == "市教育局" && r[10] == texts.ColorNames["red"] {
					red++
				}
			}
			want := fmt.Sprintf("市教育局|%d|1|%d|2026-12-01 11:00|2", len(p.TasksFor("市教育局")), red)
			if got := strings.Join(edu, "|"); got != want {
				t.Errorf("单位汇总 市教育局: got %s, want %s", got, want)
			}

			readByOpenpyxl(t, out, r16)
		})
	}
}

// python finds a Python 3 that has openpyxl: the one on PATH, else Debian's (a pyenv or venv
// python3 on PATH does not see Debian's packages).
func python(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import openpyxl").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no python3 with openpyxl: CI=true needs it (apt-get install python3-openpyxl; scripts/test.sh installs it as root)")
	}
	t.Skip("no python3 with openpyxl (apt-get install python3-openpyxl): the workbook is not read by a second reader")
	return ""
}

// readByOpenpyxl opens the workbook with a second reader, Python's openpyxl, which refuses a
// malformed file, and checks what it sees: sheet names, dimensions, the frozen header, a
// Chinese cell, a row's fill and wrapping.
func readByOpenpyxl(t *testing.T, path string, row16 int) {
	t.Helper()
	py := python(t)
	script := `
import json, sys, warnings
import openpyxl
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["台账"]
row = int(sys.argv[2])
print(json.dumps({
    "sheets": wb.sheetnames,
    "dimensions": {s.title: s.dimensions for s in wb},
    "freeze": ws.freeze_panes,
    "goal": ws.cell(row=row, column=3).value,
    "department": ws.cell(row=row, column=4).value,
    "id": ws.cell(row=row, column=1).value,
    "fill": ws.cell(row=row, column=1).fill.fgColor.rgb,
    "wrap": bool(ws.cell(row=row, column=8).alignment.wrap_text),
    "warnings": [str(w.message) for w in caught],
}, ensure_ascii=False))
`
	out, err := exec.Command(py, "-c", script, path, fmt.Sprint(row16)).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl could not read the workbook: %v\n%s", err, out)
	}
	var got struct {
		Sheets     []string          `json:"sheets"`
		Dimensions map[string]string `json:"dimensions"`
		Freeze     string            `json:"freeze"`
		Goal       string            `json:"goal"`
		Department string            `json:"department"`
		ID         any               `json:"id"`
		Fill       string            `json:"fill"`
		Wrap       bool              `json:"wrap"`
		Warnings   []string          `json:"warnings"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("openpyxl's answer: %v\n%s", err, out)
	}
	t.Logf("openpyxl (%s): %s", py, out)
	if strings.Join(got.Sheets, ",") != "台账,进展记录,单位汇总" {
		t.Errorf("openpyxl: got sheets %q", got.Sheets)
	}
	for sheet, want := range map[string]string{"台账": "A1:K258", "进展记录": "A1:K5"} {
		if got.Dimensions[sheet] != want {
			t.Errorf("openpyxl: %s: got dimensions %s, want %s", sheet, got.Dimensions[sheet], want)
		}
	}
	if got.Freeze != "A2" || got.Goal != "促进产教深度融合" || got.Department != "市教育局" || got.ID != float64(16) ||
		got.Fill != "FFFFC7CE" || !got.Wrap || len(got.Warnings) > 0 {
		t.Errorf("openpyxl: got freeze %q, row %d: %v %q %q, fill %q, wrap %v, warnings %q; want A2, 16 促进产教深度融合 市教育局, FFFFC7CE, wrapped, no warning",
			got.Freeze, row16, got.ID, got.Goal, got.Department, got.Fill, got.Wrap, got.Warnings)
	}
}

// TestWorkbookColours: the three colours on the rows the scheduler gives them, at a time when
// the shipped plan has all three: on 2022-12-27 the 2021 tasks are overdue (red); task 1, due
// 2022-12-31, blue where its department is on schedule (95%), yellow where it is too but has
// left three reminders unanswered.
func TestWorkbookColours(t *testing.T) {
	for _, st := range storesUnderTest(t) {
		t.Run(st.name, func(t *testing.T) {
			path := exportConfig(t, st.url, prefixFor(t, st.url))
			at := time.Date(2022, 12, 1, 1, 0, 0, 0, time.UTC)
			recordAll(t, path, xlsxUpdate(19, "市教育局", "已完成", at, store.StatusDone, nil),
				xlsxUpdate(1, "浔阳区人民政府", "进行中 95%", at, store.StatusInProgress, ptrInt(95)),
				xlsxUpdate(1, "濂溪区人民政府", "进行中 95%", at, store.StatusInProgress, ptrInt(95)))
			remind(t, path, at.Add(time.Hour), "n|1|浔阳区人民政府|2022-12-31|before:30d")
			remind(t, path, at.Add(14*24*time.Hour), "n|1|浔阳区人民政府|2022-12-31|before:14d")
			remind(t, path, at.Add(21*24*time.Hour), "n|1|浔阳区人民政府|2022-12-31|before:7d")
			c, p, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s, err := openStore(ctx, c, true)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			now := time.Date(2022, 12, 27, 9, 0, 0, 0, c.Location)
			tasks, err := workbookInput(ctx, s, c, p, now)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "colours.xlsx")
			if err := writeFileAtomic(out, func(w io.Writer) error {
				return workbook.Write(w, tasks, workbook.Options{Language: c.Language, Location: c.Location}, now)
			}); err != nil {
				t.Fatal(err)
			}
			f := openXLSX(t, out)
			ledger, err := f.GetRows("台账")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"16|市教育局": "FFC7CE", "19|市教育局": "", "1|浔阳区人民政府": "FFEB9C", "1|濂溪区人民政府": "DDEBF7"}
			seen := map[string]bool{}
			for i, r := range ledger {
				key := r[0] + "|" + r[3]
				fill, ok := want[key]
				if !ok {
					continue
				}
				seen[key] = true
				for _, col := range []string{"A", "D", "K"} {
					if got, _ := cellFill(t, f, "台账", fmt.Sprintf("%s%d", col, i+1)); got != fill {
						t.Errorf("台账 %s%d (%s, %s): got fill %q, want %q", col, i+1, key, r[10], got, fill)
					}
				}
			}
			if len(seen) != len(want) {
				t.Errorf("台账: found rows %v, want %d", seen, len(want))
			}
		})
	}
}

// TestExportXLSXUsage: a workbook is not printed, and -files takes no -o.
func TestExportXLSXUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "-format", "xlsx"}, "export: -format xlsx writes a workbook, not text for a terminal: name the file with -o FILE"},
		{[]string{"export", "-files", "d", "-o", "x.xlsx"}, "drop -o"},
		{[]string{"export", "-format", "pdf", "-o", "x"}, `want json or csv, got "pdf" (xlsx too, with -o FILE)`},
	} {
		code, _, errOut := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: got exit %d, %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestExportToFile: -o takes the JSON and CSV too, the same bytes as printed; a folder that
// does not exist is an error, with nothing written.
func TestExportToFile(t *testing.T) {
	path := exportConfig(t, "", "duban:")
	recordAll(t, path, xlsxUpdate(16, "市教育局", "进行中 60%", time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), store.StatusInProgress, ptrInt(60)))
	dir := t.TempDir()
	for _, format := range []string{"json", "csv"} {
		out := filepath.Join(dir, "export."+format)
		code, stdout, errOut := runCLI(t, "export", "-config", path, "-format", format, "-o", out)
		if code != exitOK || stdout != "" {
			t.Fatalf("export -format %s -o: got exit %d, stdout %q, stderr %s", format, code, stdout, errOut)
		}
		_, printed, _ := runCLI(t, "export", "-config", path, "-format", format)
		if got, err := os.ReadFile(out); err != nil || string(got) != printed {
			t.Errorf("export -format %s -o: the file differs from what is printed (%v)", format, err)
		}
	}
	code, _, errOut := runCLI(t, "export", "-config", path, "-format", "xlsx", "-o", filepath.Join(dir, "missing", "x.xlsx"))
	if code != exitFailure || !strings.Contains(errOut, "export: ") {
		t.Errorf("export into a missing folder: got exit %d, %q; want 1", code, errOut)
	}
}

// TestWriteFileAtomic: a write that fails leaves the file as it was and no temporary file.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "台账.xlsx")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := writeFileAtomic(target, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half a new one")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("got error %v, want it to wrap the writer's", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "old" {
		t.Errorf("after a failed write: got %q, want the old file", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("after a failed write: got %d files, want 1 (no temporary file left)", len(entries))
	}
	if err := writeFileAtomic(target, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if string(got) != "new" || fi.Mode().Perm() != 0o644 {
		t.Errorf("after a write: got %q, mode %v; want new, 0644", got, fi.Mode().Perm())
	}
}

// memRecord is a progressReader over a record held in memory, for the benchmark: the store's
// reads are the same for every format, so the figures compare the formats alone.
type memRecord struct {
	states  []store.State
	chains  map[int][]store.Update
	ledger  store.Ledger
	snoozes map[string]time.Time
}

func (m *memRecord) Latest(context.Context) ([]store.State, error) { return m.states, nil }
func (m *memRecord) Updates(_ context.Context, task int) ([]store.Update, error) {
	return m.chains[task], nil
}
func (m *memRecord) Ledger(context.Context) (store.Ledger, error)          { return m.ledger, nil }
func (m *memRecord) Snoozes(context.Context) (map[string]time.Time, error) { return m.snoozes, nil }

// benchRecord is a generated plan of tasks × 3 departments (deadlines spread over two years
// around now) with updates spread over its pairs, as a record of that size would be, and two
// reminders for every third pair.
func benchRecord(b *testing.B, tasks, updates int) (*config.Config, *config.Plan, *memRecord, time.Time) {
	b.Helper()
	depts := []string{"市教育局", "市人社局", "市财政局"}
	var yaml strings.Builder
	yaml.WriteString("tasks:\n")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for i := 1; i <= tasks; i++ {
		fmt.Fprintf(&yaml, "  - id: %d\n    area: 重点工作第%d项\n    goal: 推进职业教育第%d项任务落实到位\n    metric: 完成率不低于百分之九十\n    departments: [%s, %s, %s]\n    deadline: %s\n",
			i, i%12+1, i, depts[0], depts[1], depts[2], now.AddDate(0, 0, i%730-365).Format(time.DateOnly))
	}
	dir := b.TempDir()
	tasksPath := filepath.Join(dir, "tasks.yaml")
	if err := os.WriteFile(tasksPath, []byte(yaml.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(exportConfig(b, "", "duban:"))
	if err != nil {
		b.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	text := regexpTasks.ReplaceAllString(string(raw), "tasks: "+tasksPath)
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	c, p, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	m := &memRecord{chains: map[int][]store.Update{}}
	latest := map[string]*store.State{}
	statuses := []store.Status{store.StatusInProgress, store.StatusInProgress, store.StatusBlocked, "", store.StatusDone}
	for i := range updates {
		task := i%tasks + 1
		dept := depts[(i/tasks)%3]
		seq := len(m.chains[task]) + 1
		pct := (i * 7) % 101
		u := store.Update{ID: fmt.Sprintf("%d-%d", task, seq), Seq: int64(seq), Task: task, Department: dept,
			At: now.Add(-time.Duration(updates-i) * time.Minute), ChatID: -1001, MessageID: i, UserID: 2001, UserName: "王五",
			Text: fmt.Sprintf("进行中 %d%% 第%d次报送：招生计划已下达，实训基地建设方案已报市政府审定", pct, seq), Status: statuses[i%len(statuses)],
			Percent: &pct, Source: store.SourceReply, Hash: fmt.Sprintf("%064x", i)}
		if i%10 == 0 {
			u.Attachment = &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkB", FileUniqueID: "AgADbw8A", FileName: "进展材料.pdf", Size: 48213}
		}
		m.chains[task] = append(m.chains[task], u)
		key := store.SnoozeKey(task, dept)
		st := latest[key]
		if st == nil {
			st = &store.State{Task: task, Department: dept, Status: store.StatusNotStarted}
			latest[key] = st
		}
		if u.Status != "" {
			st.Status, st.StatusAt = u.Status, u.At
		}
		st.Percent, st.Updates, st.Last = u.Percent, st.Updates+1, u
	}
	for _, st := range latest {
		m.states = append(m.states, *st)
	}
	for _, t := range p.Tasks {
		if t.ID%3 == 0 {
			period := t.Deadline.In(c.Location).Format(time.DateOnly)
			m.ledger = append(m.ledger, store.LedgerEntry{Key: fmt.Sprintf("n|%d|%s|%s|before:30d", t.ID, depts[1], period), At: now.AddDate(0, 0, -3)})
			m.ledger = append(m.ledger, store.LedgerEntry{Key: fmt.Sprintf("n|%d|%s|%s|before:14d", t.ID, depts[1], period), At: now.AddDate(0, 0, -1)})
		}
	}
	return c, p, m, now
}

var regexpTasks = regexp.MustCompile(`(?m)^tasks: .*$`)

// BenchmarkWorkbook: the workbook of a 10,000-task × 3 plan with 100,000 updates against
// `duban export -format json` of the same record (and with -all, which holds every update as
// the workbook does), each from the record in memory to the bytes written.
//
//	go test -run '^$' -bench Workbook -benchmem -cpu 1 -count 6 .
func BenchmarkWorkbook(b *testing.B) {
	c, p, m, now := benchRecord(b, 10_000, 100_000)
	ctx := context.Background()
	var size int64
	count := func(w io.Writer) io.Writer {
		return writerFunc(func(p []byte) (int, error) { size += int64(len(p)); return w.Write(p) })
	}
	exportJSON := func(b *testing.B, all bool) {
		snap, err := record.Collect(ctx, m, c, p, all, now)
		if err == nil {
			err = record.WriteJSON(count(io.Discard), snap.Tasks, c)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	exportXLSX := func(b *testing.B) {
		tasks, err := workbookInput(ctx, m, c, p, now)
		if err == nil {
			err = workbook.Write(count(io.Discard), tasks, workbook.Options{Language: c.Language, Location: c.Location}, now)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, bench := range []struct {
		name string
		run  func(b *testing.B)
	}{
		{"json", func(b *testing.B) { exportJSON(b, false) }},
		{"json-all", func(b *testing.B) { exportJSON(b, true) }},
		{"xlsx", exportXLSX},
	} {
		b.Run(bench.name, func(b *testing.B) {
			for b.Loop() {
				size = 0
				bench.run(b)
			}
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
	// The three one after another in each round, so that the ratios hold on a machine whose
	// load changes from one second to the next (a shared one).
	b.Run("ratio", func(b *testing.B) {
		var jsonTime, allTime, xlsxTime time.Duration
		for b.Loop() {
			start := time.Now()
			exportJSON(b, false)
			mid := time.Now()
			exportJSON(b, true)
			end := time.Now()
			exportXLSX(b)
			jsonTime, allTime, xlsxTime = jsonTime+mid.Sub(start), allTime+end.Sub(mid), xlsxTime+time.Since(end)
		}
		b.ReportMetric(float64(xlsxTime)/float64(jsonTime), "xlsx/json")
		b.ReportMetric(float64(xlsxTime)/float64(allTime), "xlsx/json-all")
		b.ReportMetric(0, "ns/op")
	})
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
