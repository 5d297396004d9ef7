package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// importDir is a folder with the shipped config.yaml, whose tasks.yaml and store are then in
// the same folder (both paths are relative to config.yaml).
func importDir(tb testing.TB) (dir, cfg string) {
	tb.Helper()
	dir = tb.TempDir()
	data, err := os.ReadFile("config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	cfg = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir, cfg
}

var planHeader = []string{"序号", "重点工作", "任务目标", "量化指标", "责任部门", "完成时限"}

// writePlanCSV writes a plan's table as the UTF-8 CSV Excel saves, under a title row.
func writePlanCSV(tb testing.TB, dir, name string, rows ...[]string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.WriteAll(append([][]string{{"九江市某某工作任务清单"}, planHeader}, rows...))
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func planV1() [][]string {
	return [][]string{
		{"1", "领域一", "目标甲", "指标甲", "市教育局", "2022年"},
		{"2", "", "目标乙", "指标乙", "市人社局", "2022年6月"},
		{"3", "", "目标丙", "指标丙", "市财政局、市教育局", "2021年"},
		{"4", "领域二", "目标丁", "指标丁", "市民政局", "2022年"},
		{"5", "", "目标戊", "指标戊", "湖口县、德安县人民政府", "2022年12月31日"},
	}
}

// TestImportRevision is the revision test: import a plan, record updates, import a
// changed plan (a task inserted in the middle, one removed, a deadline and a department list
// changed), and every update is still on the task it was written for.
func TestImportRevision(t *testing.T) {
	dir, cfg := importDir(t)
	tasks := filepath.Join(dir, "tasks.yaml")
	v1 := writePlanCSV(t, dir, "plan-v1.csv", planV1()...)
	code, out, errOut := runCLI(t, "import", "-config", cfg, v1)
	if code != exitOK {
		t.Fatalf("import v1: exit %d: %s", code, errOut)
	}
	if want := "wrote " + tasks + ": 5 tasks from plan-v1.csv"; !strings.Contains(out, want) {
		t.Errorf("import v1 output lacks %q:\n%s", want, out)
	}
	c, p, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	goals := map[int]string{}
	for _, task := range p.Tasks {
		goals[task.ID] = task.Goal
	}
	at := time.Date(2021, 6, 1, 10, 0, 0, 0, c.Location)
	recorded := recordAll(t, cfg,
		store.Update{Task: 2, Department: "市人社局", At: at, Text: "乙 进行中", Status: store.StatusInProgress, Source: store.SourceReply},
		store.Update{Task: 3, Department: "市财政局", At: at, Text: "丙 已完成", Status: store.StatusDone, Source: store.SourceReply},
		store.Update{Task: 4, Department: "市民政局", At: at, Text: "丁 进行中", Status: store.StatusInProgress, Source: store.SourceReply},
		store.Update{Task: 5, Department: "湖口县人民政府", At: at, Text: "戊 进行中", Status: store.StatusInProgress, Source: store.SourceReply},
	)

	rows := planV1()
	rows[1][5] = "2022年9月"           // 乙's deadline
	rows[4][4] = "湖口县、德安县人民政府，市教育局"  // 戊's departments
	rows[4][1] = "领域二"               // 戊 took it from 丁, which goes
	rows = slices.Delete(rows, 3, 4) // 丁 removed
	rows = slices.Insert(rows, 1, []string{"", "", "目标新", "指标新", "市总工会", "2022年"})
	for i := range rows {
		rows[i][0] = itoa(i + 1)
	}
	v2 := writePlanCSV(t, dir, "plan-v2.csv", rows...)
	code, out, errOut = runCLI(t, "import", "-config", cfg, v2)
	if code != exitOK {
		t.Fatalf("import v2: exit %d: %s", code, errOut)
	}
	wantDiff := "changes to " + tasks + ":\n" +
		"  task 2: deadline (完成时限) 2022年6月 → 2022年9月\n" +
		"  task 5: departments (责任部门) 湖口县人民政府、德安县人民政府 → 湖口县人民政府、德安县人民政府、市教育局\n" +
		"  task 2: now 序号 3 in the table, keeps id 2 (its updates stay on it)\n" +
		"  task 3: now 序号 4 in the table, keeps id 3 (its updates stay on it)\n" +
		"  task 6: added: 目标新 (序号 2 in the table, which an existing task has: given id 6)\n" +
		"  task 4: removed: 目标丁 (no longer in the table; its record stays in the store)\n"
	if !strings.Contains(out, wantDiff) {
		t.Errorf("import v2: got\n%s\nwant the diff\n%s", out, wantDiff)
	}

	_, p, err = config.Load(cfg)
	if err != nil {
		t.Fatalf("the revised tasks.yaml does not load: %v", err)
	}
	var gotIDs []int
	for _, task := range p.Tasks {
		gotIDs = append(gotIDs, task.ID)
	}
	if want := []int{1, 6, 2, 3, 5}; !slices.Equal(gotIDs, want) {
		t.Errorf("ids in table order: got %v, want %v", gotIDs, want)
	}
	if task, _ := p.Task(2); task.DeadlineText != "2022年9月" {
		t.Errorf("task 2 deadline: got %q, want 2022年9月", task.DeadlineText)
	}

	// Every update is still on the task of the same goal, or, for the removed task, in the store.
	s, err := openStore(context.Background(), c, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range recorded {
		chain, err := s.Updates(context.Background(), u.Task)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(chain, func(v store.Update) bool { return v.Hash == u.Hash }) {
			t.Errorf("update %s (%s) is gone from the store", u.ID, u.Text)
		}
		task, ok := p.Task(u.Task)
		switch {
		case u.Task == 4 && ok:
			t.Errorf("removed task 4 is still in the plan: %+v", task)
		case u.Task != 4 && (!ok || task.Goal != goals[u.Task]):
			t.Errorf("update %s (%s) was on %q, now on task %v", u.ID, u.Text, goals[u.Task], task)
		}
	}
	code, out, errOut = runCLI(t, "export", "-all", "-config", cfg)
	if code != exitOK {
		t.Fatalf("export -all: exit %d: %s", code, errOut)
	}
	var exp exportJSON
	if err := json.Unmarshal([]byte(out), &exp); err != nil {
		t.Fatal(err)
	}
	texts := map[int][]string{}
	for _, task := range exp.Tasks {
		for _, d := range task.Departments {
			for _, u := range d.Updates {
				texts[task.ID] = append(texts[task.ID], u.Text)
			}
		}
	}
	// The removed task 4 is there too, after the plan's tasks: its record stays.
	for id, want := range map[int]string{2: "乙 进行中", 3: "丙 已完成", 4: "丁 进行中", 5: "戊 进行中"} {
		if !slices.Contains(texts[id], want) {
			t.Errorf("export -all: task %d lacks %q: %v", id, want, texts[id])
		}
	}
	if last := exp.Tasks[len(exp.Tasks)-1]; last.ID != 4 {
		t.Errorf("export -all: the last task is %d, want the removed task 4 after the plan's", last.ID)
	}
	code, out, _ = runCLI(t, "export", "-all", "-format", "csv", "-config", cfg)
	if code != exitOK || !strings.Contains(out, "4,,（已不在计划中）,市民政局,进行中,,") {
		t.Errorf("export -all -format csv: exit %d, want a row for the removed task 4:\n%s", code, out)
	}
	// verify still reads and checks every chain.
	code, out, errOut = runCLI(t, "verify", "-config", cfg)
	if code != exitOK || !strings.Contains(out, ": 4 tasks, 4 latest states, 4 updates checked, 0 problem(s)") {
		t.Errorf("verify after the revision: exit %d: %s%s", code, out, errOut)
	}
}

func TestImportDryRunAndProblems(t *testing.T) {
	dir, cfg := importDir(t)
	before := readFile(t, cfg)
	tasks := filepath.Join(dir, "tasks.yaml")
	rows := planV1()
	rows[0][4] = "市教育局、市文旅局" // a department config.yaml does not know
	plan := writePlanCSV(t, dir, "plan.csv", rows...)

	code, out, errOut := runCLI(t, "import", "-config", cfg, "-dry-run", plan)
	if code != exitOK {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"plan.csv: 5 tasks in 2 areas\n",
		"departments: ",
		"  new: 市文旅局\n",
		"dry run: nothing written. " + tasks + " would be:\n",
		"  - id: 1\n    area: 领域一\n    goal: 目标甲\n    metric: 指标甲\n    departments: [市教育局, 市文旅局]\n    deadline: 2022年\n",
		cfg + " would get 1 department(s): 市文旅局\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(tasks); !os.IsNotExist(err) {
		t.Errorf("dry run wrote %s (stat: %v)", tasks, err)
	}
	if readFile(t, cfg) != before {
		t.Error("dry run changed config.yaml")
	}

	// Two problems: both printed with their places, exit 2, nothing written.
	bad := planV1()
	bad[1][5] = "视情况"
	bad[3][4] = ""
	badPlan := writePlanCSV(t, dir, "bad.csv", bad...)
	code, _, errOut = runCLI(t, "import", "-config", cfg, badPlan)
	if code != exitUsage {
		t.Errorf("bad plan: got exit %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "bad.csv 第4行第6列: ") || !strings.Contains(lines[0], "视情况") ||
		!strings.HasPrefix(lines[1], "bad.csv 第6行第5列: ") || lines[2] != "duban: import: 2 problem(s) in bad.csv; nothing was written" {
		t.Errorf("bad plan: got stderr\n%s\nwant both problems with their places, then the count", errOut)
	}
	if _, err := os.Stat(tasks); !os.IsNotExist(err) {
		t.Errorf("a plan with problems wrote %s (stat: %v)", tasks, err)
	}
	if readFile(t, cfg) != before {
		t.Error("a plan with problems changed config.yaml")
	}

	// Written for real: config.yaml keeps every comment, and gains the one line.
	code, out, errOut = runCLI(t, "import", "-config", cfg, plan)
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	last := "  九江市高级技工学校:       { chat: 0 }\n"
	if got, want := readFile(t, cfg), strings.Replace(before, last, last+"  市文旅局: { chat: 0 }\n", 1); got != want {
		t.Errorf("config.yaml: got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(out, "wrote "+cfg+": added 1 department(s) without a chat: 市文旅局\n") {
		t.Errorf("import output does not say config.yaml was written:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "check", "-config", cfg); code != exitOK {
		t.Errorf("check after import: exit %d: %s", code, errOut)
	}
	// The same table again changes nothing and writes nothing.
	stat, _ := os.Stat(tasks)
	code, out, _ = runCLI(t, "import", "-config", cfg, plan)
	if again, _ := os.Stat(tasks); code != exitOK || !strings.Contains(out, "no change to the tasks") || !again.ModTime().Equal(stat.ModTime()) {
		t.Errorf("import of the same table: exit %d, output:\n%s", code, out)
	}
}

func TestImportUsage(t *testing.T) {
	dir, cfg := importDir(t)
	plan := writePlanCSV(t, dir, "plan.csv", planV1()...)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "import: name the plan's file"},
		{[]string{"import", "-standing-review", "often", plan}, `import: -standing-review: bad duration "often"`},
		{[]string{"import", plan, "extra"}, `unexpected argument "extra"`},
		{[]string{"import", "-config", cfg, filepath.Join(dir, "nope.xlsx")}, "nope.xlsx"},
		{[]string{"import", "-config", filepath.Join(dir, "nope.yaml"), plan}, ""},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, tt.args...)
		if tt.want == "" { // a config named and missing fails like every command's
			if code != exitFailure || !strings.Contains(errOut, "read config") {
				t.Errorf("%v: got exit %d, %q; want 1 and read config", tt.args, code, errOut)
			}
			continue
		}
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: got exit %d, %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	// Flags after FILE are read too, and -o decides where tasks.yaml goes.
	out := filepath.Join(dir, "other.yaml")
	if code, _, errOut := runCLI(t, "import", plan, "-config", cfg, "-o", out); code != exitOK {
		t.Fatalf("flags after FILE: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("-o: %v", err)
	}
}

// TestImportShippedSeed: the text the shipped plan came from, imported over the shipped
// tasks.yaml, changes nothing (tasks 44 and 50 stay yearly, as written by hand); imported
// into a new file, it gives the shipped tasks.
func TestImportShippedSeed(t *testing.T) {
	seed := "config/testdata/seed.txt" // the plan's source table (../shared/seeds/000_70db61f56b48e6c4.txt)
	if _, err := os.Stat(seed); err != nil {
		t.Skipf("the seed is not here: %v", err)
	}
	dir, cfg := importDir(t)
	tasks := filepath.Join(dir, "tasks.yaml")
	shipped := readFile(t, "tasks.yaml")
	if err := os.WriteFile(tasks, []byte(shipped), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "import", "-config", cfg, seed)
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "  no change to the tasks\n") || !strings.Contains(out, tasks+": unchanged (50 tasks)") {
		t.Errorf("import over the shipped plan: got\n%s", out)
	}
	if readFile(t, tasks) != shipped {
		t.Error("tasks.yaml changed")
	}

	fresh := filepath.Join(dir, "fresh.yaml")
	if code, _, errOut := runCLI(t, "import", "-config", cfg, "-o", fresh, seed); code != exitOK {
		t.Fatalf("import -o fresh: exit %d: %s", code, errOut)
	}
	c, want, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadPlan(fresh, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tasks) != len(want.Tasks) {
		t.Fatalf("got %d tasks, want %d", len(got.Tasks), len(want.Tasks))
	}
	for i, g := range got.Tasks {
		w := want.Tasks[i]
		wantRec := w.Recurrence
		if w.ID == 44 || w.ID == 50 {
			wantRec = "" // yearly by hand in the shipped file; the table says 2021年
		}
		if g.ID != w.ID || g.Area != w.Area || g.Goal != w.Goal || g.Metric != w.Metric || g.DeadlineText != w.DeadlineText ||
			!slices.Equal(g.Departments, w.Departments) || g.Recurrence != wantRec {
			t.Errorf("task %d: got %+v, want %+v", w.ID, g, w)
		}
	}
}

// TestImportStanding: a task with no fixed date is refused without -standing-review; with it,
// its deadline is the next review, the file loads, and the cadence is written beside it.
func TestImportStanding(t *testing.T) {
	dir, cfg := importDir(t)
	tasks := filepath.Join(dir, "tasks.yaml")
	rows := planV1()
	rows[2][5] = "长期坚持"
	plan := writePlanCSV(t, dir, "plan.csv", rows...)
	code, _, errOut := runCLI(t, "import", "-config", cfg, plan)
	if code != exitUsage || !strings.Contains(errOut, "plan.csv 第5行第6列: ") {
		t.Fatalf("without -standing-review: got exit %d, %q; want 2 naming the cell", code, errOut)
	}
	code, out, errOut := runCLI(t, "import", "-config", cfg, "-standing-review", "90d", plan)
	if code != exitOK {
		t.Fatalf("with -standing-review: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "1 standing") {
		t.Errorf("summary does not count the standing task:\n%s", out)
	}
	_, p, err := config.Load(cfg)
	if err != nil {
		t.Fatalf("tasks.yaml with a standing task does not load: %v", err)
	}
	task, _ := p.Task(3)
	if task.Recurrence != "90d" || task.Every != 90*24*time.Hour || task.Deadline.Before(time.Now()) {
		t.Errorf("task 3: got recurrence %q (every %v), deadline %v; want 90d and the first review ahead", task.Recurrence, task.Every, task.Deadline)
	}
	if text := readFile(t, tasks); !strings.Contains(text, "    recurrence: 90d  # 长期坚持: reviewed this often; the deadline is the first review\n") {
		t.Errorf("tasks.yaml does not say the cadence:\n%s", text)
	}
	code, out, _ = runCLI(t, "import", "-config", cfg, "-standing-review", "90d", plan)
	if code != exitOK || !strings.Contains(out, "no change to the tasks") {
		t.Errorf("imported again: exit %d:\n%s", code, out)
	}
}
