package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// errorLines returns an error's message split into its lines, one problem a line.
func errorLines(tb testing.TB, err error) []string {
	tb.Helper()
	if err == nil {
		tb.Fatal("got no error, want one")
	}
	return strings.Split(err.Error(), "\n")
}

func assertLines(tb testing.TB, got, want []string) {
	tb.Helper()
	if slices.Equal(got, want) {
		return
	}
	tb.Errorf("got %d lines, want %d", len(got), len(want))
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			tb.Errorf("line %d:\n got  %s\n want %s", i+1, g, w)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"testdata/bad-config.yaml", []string{
			`testdata/bad-config.yaml:1: timezone: unknown time zone "Asia/Shangai" (want an IANA name such as Asia/Shanghai)`,
			`testdata/bad-config.yaml:2: language: want zh or en, got "fr"`,
			`testdata/bad-config.yaml:4: telegram.mode: want polling or webhook, got "pollng"`,
			`testdata/bad-config.yaml:5: telegram.admins[0]: want a Telegram user id (a positive number), got -5`,
			`testdata/bad-config.yaml:6: telegram.tokn: unknown field (did you mean token?)`,
			`testdata/bad-config.yaml:8: store.url: want empty (the embedded store) or a redis://, rediss:// or unix:// URL, got "http://localhost:6379"`,
			`testdata/bad-config.yaml:10: schedule.nudge: bad cron schedule "0 9 * * 1-8": end of range (8) above maximum (6): 1-8`,
			`testdata/bad-config.yaml:12: schedule.remind_before: bad duration "7x": want a number and a unit, such as 7d, 36h or 30m`,
			`testdata/bad-config.yaml:12: schedule.remind_before: 7d is listed twice`,
			`testdata/bad-config.yaml:13: schedule.overdue_every: bad duration "-1d": want a number and a unit, such as 7d, 36h or 30m`,
			`testdata/bad-config.yaml:16: departments.市教育局.chat: chat -1001 is already the supervisors chat: each department needs its own chat`,
			`testdata/bad-config.yaml:17: departments.市人社局.chat: want a whole number, got "abc"`,
			`testdata/bad-config.yaml:19: groups.甲组: groups contain each other: 甲组 → 乙组 → 甲组`,
			`testdata/bad-config.yaml:21: groups.丙组[1]: unknown member "市不存在局" (not a department, group or alias)`,
			`testdata/bad-config.yaml:24: aliases.人社: "市人社厅" is not a department or group`,
			`testdata/bad-config.yaml:26: http.listen: want host:port such as 127.0.0.1:8080, got "8080"`,
		}},
		{"testdata/syntax.yaml", []string{
			`testdata/syntax.yaml:4: mapping values are not allowed in this context`,
		}},
		// yaml.v3 places these two on the line before the [ (12) and on the line before the
		// mapping the bad key breaks (2); the error is on lines 13 and 11.
		{"testdata/syntax-bracket.yaml", []string{
			`testdata/syntax-bracket.yaml:13: did not find expected ',' or ']'`,
		}},
		{"testdata/syntax-indent.yaml", []string{
			`testdata/syntax-indent.yaml:11: did not find expected key`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadConfigEnv(tt.file, noEnv)
			assertLines(t, errorLines(t, err), tt.want)
			var first *Error
			if !errors.As(err, &first) || first.File != tt.file || first.Line == 0 {
				t.Errorf("errors.As(*Error): got %+v, want an error naming %s and a line", first, tt.file)
			}
		})
	}
}

func TestConfigErrorsInline(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", "", "c.yaml: the file is empty"},
		{"not a mapping", "- a\n- b\n", "c.yaml:1: want a mapping of settings at the top level"},
		{"webhook without url or secret", "telegram:\n  mode: webhook\n",
			"c.yaml:2: telegram.webhook.url: webhook mode needs the public https:// URL that Telegram posts updates to, got \"\"\n" +
				"c.yaml:2: telegram.webhook.secret_token: webhook mode needs a secret token of 1-256 characters A-Z a-z 0-9 _ -\n" +
				"c.yaml:2: telegram.webhook.listen: webhook mode needs the webhook's own address, such as 0.0.0.0:8443: " +
				"its listener is public, and /healthz and /metrics stay on http.listen"},
		{"two departments one chat", "departments:\n  甲: { chat: -5 }\n  乙: { chat: -5 }\n",
			"c.yaml:3: departments.乙.chat: chat -5 is already department 甲's: each department needs its own chat"},
		{"group named like a department", "departments:\n  甲: {}\ngroups:\n  甲: [甲]\n",
			"c.yaml:4: groups.甲: \"甲\" is both a department and a group\n" +
				"c.yaml:4: groups.甲: groups contain each other: 甲 → 甲"},
		{"bad api url", "telegram:\n  api_url: localhost:8081\n",
			"c.yaml:2: telegram.api_url: want an http:// or https:// URL, got \"localhost:8081\""},
		{"unknown top-level key", "timezone: UTC\nschedul: {}\n", "c.yaml:2: schedul: unknown field (did you mean schedule?)"},
		{"list where a mapping goes", "telegram: [a]\n", "c.yaml:1: telegram: want a mapping, got a list"},
		{"empty prefix", "store:\n  prefix: \"\"\n", `c.yaml:2: store.prefix: want a non-empty prefix without spaces, such as "duban:", got ""`},
		{"password hidden", "store:\n  url: postgres://u:hunter2@db/x\n", `c.yaml:2: store.url: want empty (the embedded store) or a redis://, rediss:// or unix:// URL, got "postgres://u:xxxxx@db/x"`},
		{"escalation and margin", "schedule:\n  escalate_after: 0\n  behind_margin: 150\n",
			"c.yaml:2: schedule.escalate_after: want 1 or more unanswered nudges, got 0\n" +
				"c.yaml:3: schedule.behind_margin: want 0 to 100 percentage points, got 150"},
		{"calendar", "calendar:\n  holidays: [2026-10-01, 2026-13-01]\n  workdays: [2026-10-01]\n",
			"c.yaml:2: calendar.holidays[1]: bad date \"2026-13-01\": want YYYY-MM-DD\n" +
				"c.yaml:3: calendar.workdays[0]: 2026-10-01 is also listed as a holiday"},
		{"a bar in a name", "departments:\n  甲|乙: {}\n", "c.yaml:2: departments.甲|乙: a name cannot contain |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml), noEnv)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	c, err := LoadConfigEnv("testdata/bad-tasks-config.yaml", noEnv)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	_, err = LoadPlan(c.TasksPath(), c)
	assertLines(t, errorLines(t, err), []string{
		`testdata/bad-tasks.yaml:4: task 1: departments[1]: unknown department "市不存在局" (not a department, group or alias in testdata/bad-tasks-config.yaml)`,
		`testdata/bad-tasks.yaml:6: task 1: id: duplicate task id 1 (first at line 2)`,
		`testdata/bad-tasks.yaml:11: task 2: goal: missing: every task needs its goal (任务目标)`,
		`testdata/bad-tasks.yaml:12: task 2: departments: missing: every task needs at least one responsible department (责任部门)`,
		`testdata/bad-tasks.yaml:13: task 2: deadline: bad date "2022年13月": there is no such date`,
		`testdata/bad-tasks.yaml:16: task 3: departments[1]: "市人社局" is listed twice`,
		`testdata/bad-tasks.yaml:17: task 3: deadline: bad date "明年": want 2022年, 2022年6月, 2022年6月30日, 2022-06-30 or 2022-06-30T18:00:00+08:00`,
		`testdata/bad-tasks.yaml:18: task 3: deadlin: unknown field (did you mean deadline?)`,
		`testdata/bad-tasks.yaml:22: task 4: deadline: bad date "2022-02-30": there is no such date`,
		`testdata/bad-tasks.yaml:24: task 4: recurrence: want yearly, a review cadence in whole days such as 90d, or nothing; got "monthly"`,
		`testdata/bad-tasks.yaml:26: task 4: target[0]: missing name: say what is measured`,
		`testdata/bad-tasks.yaml:26: task 4: target[0]: needs min or max`,
		`testdata/bad-tasks.yaml:31: task 5: until: until needs recurrence: yearly (or a review cadence)`,
	})
}

// TestPlanSyntaxErrors: a syntax error in tasks.yaml is reported on the line where it is, not
// where yaml.v3's parser says the enclosing list or mapping began (lines 10 and 2 here).
func TestPlanSyntaxErrors(t *testing.T) {
	c := loadGood(t)
	tests := []struct{ file, want string }{
		{"testdata/syntax-tasks-bracket.yaml", `testdata/syntax-tasks-bracket.yaml:11: did not find expected ',' or ']'`},
		{"testdata/syntax-tasks-indent.yaml", `testdata/syntax-tasks-indent.yaml:11: did not find expected '-' indicator`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadPlan(tt.file, c)
			assertLines(t, errorLines(t, err), []string{tt.want})
		})
	}
}

// TestSyntaxErrorLines: the line of a syntax error is where the file stops reading as YAML,
// whatever yaml.v3 says, and ${VAR} expansion that adds or removes lines does not move it.
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"unclosed [ on the first line", "admins: [1, 2\nlanguage: zh\n", nil,
			"c.yaml:1: did not find expected ',' or ']'"},
		{"unclosed quote on the first line", "language: \"zh\n\ntimezone: UTC\n", nil,
			"c.yaml:1: found unexpected end of stream"},
		{"bad character inside a list that spans lines", "schedule:\n  remind_before: [30d,\n    7d,\n    @1d]\n", nil,
			"c.yaml:4: found character that cannot start any token"},
		{"list item in a mapping", "timezone: UTC\nlanguage: zh\n- tasks.yaml\n", nil,
			"c.yaml:3: did not find expected key"},
		{"unknown anchor", "timezone: UTC\nlanguage: *lang\n", nil,
			"c.yaml:2: unknown anchor 'lang' referenced"},
		{"a value of several lines before the error", "telegram:\n  admins: ${ADMINS}\nschedule:\n  nudge: [x\n",
			map[string]string{"ADMINS": "\n    - 1\n    - 2"},
			"c.yaml:4: did not find expected ',' or ']'"},
		{"the error in the value", "telegram:\n  admins: ${ADMINS}\nlanguage: zh\n",
			map[string]string{"ADMINS": "[1,\n 2"},
			"c.yaml:2: did not find expected ',' or ']'"},
		{"a default of several lines replaced by one", "telegram:\n  admins: ${ADMINS:-[1,\n    2]}\nschedule:\n   nudge: x\n  digest: y\n",
			map[string]string{"ADMINS": "[3]"},
			"c.yaml:6: did not find expected key"},
		{"a validation error after a value of several lines", "telegram:\n  admins: ${ADMINS}\nlanguage: fr\n",
			map[string]string{"ADMINS": "\n    - 1\n    - 2"},
			`c.yaml:3: language: want zh or en, got "fr"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml), envOf(tt.env))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPlanStartAfterDeadline(t *testing.T) {
	c := loadGood(t)
	_, err := ParsePlan("t.yaml", []byte("tasks:\n  - id: 9\n    goal: g\n    departments: [市教育局]\n    deadline: 2021-01-01\n    start: 2021-02-01\n"), c)
	want := "t.yaml:6: task 9: start: the start 2021-02-01 is not before the deadline 2021-01-01"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestPlanWithoutTasks(t *testing.T) {
	_, err := ParsePlan("t.yaml", []byte("start: 2021-01-01\n"), loadGood(t))
	want := "t.yaml: tasks: missing: the file must list the plan's tasks under tasks:"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func loadGood(tb testing.TB) *Config {
	tb.Helper()
	c, err := LoadConfigEnv("testdata/good.yaml", envOf(map[string]string{"TEST_TOKEN": "123:abc"}))
	if err != nil {
		tb.Fatalf("load good config: %v", err)
	}
	return c
}

func TestGoodConfig(t *testing.T) {
	c := loadGood(t)
	if c.Telegram.Token != "123:abc" {
		t.Errorf("token: got %q, want the expanded ${TEST_TOKEN}", string(c.Telegram.Token))
	}
	if got := c.Location.String(); got != "Asia/Shanghai" {
		t.Errorf("location: got %s, want Asia/Shanghai", got)
	}
	if want := []string{"市教育局", "市发改委", "湖口县人民政府", "德安县人民政府"}; !slices.Equal(c.DepartmentNames, want) {
		t.Errorf("department order: got %v, want %v", c.DepartmentNames, want)
	}
	if c.Schedule.Nudge != "0 9 * * 1-5" || len(c.Schedule.RemindBefore) != 5 || c.Schedule.StaleAfter != days(14) {
		t.Errorf("defaults: got %+v, want nudge 0 9 * * 1-5, five remind_before stages, stale_after 14d", c.Schedule)
	}
	if got, want := c.TasksPath(), filepath.Join("testdata", "good-tasks.yaml"); got != want {
		t.Errorf("tasks path: got %s, want %s (relative to the config file)", got, want)
	}
	members := []struct {
		name string
		want []string
	}{
		{"市教育局", []string{"市教育局"}},
		{"发改委", []string{"市发改委"}},
		{"各县（市、区）人民政府", []string{"湖口县人民政府", "德安县人民政府"}},
		{"全部", []string{"市教育局", "湖口县人民政府", "德安县人民政府"}},
		{"不存在", nil},
	}
	for _, m := range members {
		if got := c.Members(m.name); !slices.Equal(got, m.want) {
			t.Errorf("Members(%s): got %v, want %v", m.name, got, m.want)
		}
	}

	p, err := LoadPlan(c.TasksPath(), c)
	if err != nil {
		t.Fatalf("load plan: %v", err)
	}
	t2, _ := p.Task(2)
	if want := []string{"市发改委", "市教育局", "湖口县人民政府", "德安县人民政府"}; !slices.Equal(t2.Responsible, want) {
		t.Errorf("task 2 responsible: got %v, want %v (alias resolved, groups expanded, each once, lead first)", t2.Responsible, want)
	}
	if !t2.IsLead("市发改委") || t2.IsLead("市教育局") {
		t.Errorf("task 2 leads: got %v, want [市发改委]", t2.Leads)
	}
	if got := p.TasksFor("市教育局"); len(got) != 2 || got[0].ID != 2 || got[1].ID != 3 {
		t.Errorf("TasksFor(市教育局): got %d tasks, want tasks 2 and 3", len(got))
	}
	t3, _ := p.Task(3)
	if t3.Recurrence != "yearly" || t3.Until.Year() != 2024 || len(t3.Target) != 1 || *t3.Target[0].Min != 35 {
		t.Errorf("task 3 extras: got recurrence %q until %v target %+v", t3.Recurrence, t3.Until, t3.Target)
	}
	if got, want := t2.Start, time.Date(2022, 1, 1, 0, 0, 0, 0, c.Location); !got.Equal(want) {
		t.Errorf("task 2 start: got %v, want %v", got, want)
	}
	t1, _ := p.Task(1)
	if got, want := t1.Start, time.Date(2021, 1, 1, 0, 0, 0, 0, c.Location); !got.Equal(want) {
		t.Errorf("task 1 start: got %v, want the plan's start %v", got, want)
	}
}

func TestEnvironment(t *testing.T) {
	yaml := "telegram:\n  token: ${TOKEN}\n  api_url: ${API:-http://127.0.0.1:8081}\nstore:\n  prefix: \"a$$b:\"\n"
	c, err := ParseConfig("c.yaml", []byte(yaml), envOf(map[string]string{"TOKEN": "1:x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Token != "1:x" || c.Telegram.APIURL != "http://127.0.0.1:8081" || c.Store.Prefix != "a$b:" {
		t.Errorf("expansion: got token %q api_url %q prefix %q, want 1:x, the default, a$b:", string(c.Telegram.Token), c.Telegram.APIURL, c.Store.Prefix)
	}
	c, err = ParseConfig("c.yaml", []byte(yaml), envOf(map[string]string{
		"TOKEN": "1:x", EnvToken: "2:y", EnvAPIURL: "http://fake:1", EnvStore: "redis://127.0.0.1:6379/3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Token != "2:y" || c.Telegram.APIURL != "http://fake:1" || c.Store.URL != "redis://127.0.0.1:6379/3" {
		t.Errorf("overrides: got token %q api_url %q store %q, want the environment's", string(c.Telegram.Token), c.Telegram.APIURL, c.Store.URL)
	}
	if got := c.StoreDescription(); got != "Redis redis://127.0.0.1:6379/3" {
		t.Errorf("store description: got %q", got)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	c := Config{Telegram: Telegram{Token: "123456:AAE-secret", Webhook: Webhook{SecretToken: "hook-secret"}}}
	for _, got := range []string{fmt.Sprint(c.Telegram.Token), fmt.Sprintf("%v", c.Telegram), fmt.Sprintf("%+v", c)} {
		if strings.Contains(got, "AAE-secret") || strings.Contains(got, "hook-secret") {
			t.Errorf("got %q, want secrets hidden", got)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"30d", 30 * 24 * time.Hour, ""},
		{"2w", 14 * 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"", 0, `bad duration "": want a number and a unit, such as 7d, 36h or 30m`},
		{"7", 0, `bad duration "7": want a number and a unit, such as 7d, 36h or 30m`},
		{"0d", 0, `bad duration "0d": must be more than zero`},
		{"3 days", 0, `bad duration "3 days": want a number and a unit, such as 7d, 36h or 30m`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		var gotErr string
		if err != nil {
			gotErr = err.Error()
		}
		if time.Duration(got) != tt.want || gotErr != tt.wantErr {
			t.Errorf("ParseDuration(%q): got %v, %q; want %v, %q", tt.in, time.Duration(got), gotErr, tt.want, tt.wantErr)
		}
	}
	if got := days(14).String(); got != "14d" {
		t.Errorf("String: got %s, want 14d", got)
	}
}

func TestParseTime(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	eod := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 23, 59, 59, 999999999, sh)
	}
	tests := []struct {
		in   string
		end  bool
		want time.Time
	}{
		{"2021年", true, eod(2021, 12, 31)},
		{"2021年底", true, eod(2021, 12, 31)},
		{"2021年", false, time.Date(2021, 1, 1, 0, 0, 0, 0, sh)},
		{"2022年6月", true, eod(2022, 6, 30)},
		{"2024年2月", true, eod(2024, 2, 29)},
		{"2022年6月30日", true, eod(2022, 6, 30)},
		{"2022-06-30", true, eod(2022, 6, 30)},
		{"2022-06-30", false, time.Date(2022, 6, 30, 0, 0, 0, 0, sh)},
		{"2022-06-30T18:00:00+08:00", true, time.Date(2022, 6, 30, 18, 0, 0, 0, sh)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, sh, tt.end)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q, end=%v): got %v, %v; want %v", tt.in, tt.end, got, err, tt.want)
		}
	}
	for _, bad := range []string{"2022", "22年", "2022/06/30", "2022-13-01", "2022年2月30日"} {
		if _, err := ParseTime(bad, sh, true); err == nil {
			t.Errorf("ParseTime(%q): got no error, want one", bad)
		}
	}
}

// TestShippedFiles loads the repository's own config.yaml, config.example.yaml and tasks.yaml:
// what a newcomer runs must be valid.
func TestShippedFiles(t *testing.T) {
	for _, file := range []string{"../config.yaml", "../config.example.yaml"} {
		c, err := LoadConfigEnv(file, noEnv)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		p, err := LoadPlan(c.TasksPath(), c)
		if err != nil {
			t.Errorf("%s: %v", c.TasksPath(), err)
			continue
		}
		if len(p.Tasks) != 50 {
			t.Errorf("%s with %s: got %d tasks, want 50", c.TasksPath(), file, len(p.Tasks))
		}
	}
	if _, err := os.Stat("../config.example.yaml"); err != nil {
		t.Errorf("config.example.yaml: %v", err)
	}
}

// TestCalendarExample: the commented 2026 calendar in config.example.yaml is valid when a
// person uncomments it.
func TestCalendarExample(t *testing.T) {
	raw, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "# calendar:") {
			in = true
		}
		if in && strings.HasPrefix(line, "#") {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
			if !strings.HasPrefix(line, "calendar:") {
				line = "  " + strings.TrimLeft(line, " ")
			}
			if strings.HasPrefix(strings.TrimSpace(line), "2026") {
				line = "    " + strings.TrimSpace(line)
			}
		} else {
			in = false
		}
		out = append(out, line)
	}
	c, err := ParseConfig("config.example.yaml", []byte(strings.Join(out, "\n")), noEnv)
	if err != nil {
		t.Fatalf("the uncommented calendar: %v", err)
	}
	if len(c.Calendar.Holidays) != 33 || len(c.Calendar.Workdays) != 6 {
		t.Errorf("got %d holidays and %d make-up days, want 33 and 6", len(c.Calendar.Holidays), len(c.Calendar.Workdays))
	}
	if !c.Calendar.IsWorkday(time.Date(2026, 10, 10, 9, 0, 0, 0, c.Location)) || !c.Calendar.IsHoliday(time.Date(2026, 10, 1, 9, 0, 0, 0, c.Location)) {
		t.Error("2026-10-10 should be a make-up working day and 2026-10-01 a holiday")
	}
}

// A token as @BotFather gives it: the bot's id, a colon, the secret (Telegram's documentation's
// own example; real secrets are 35 characters, this one 34).
const goodToken = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// TestTokenErrors: a token that cannot be the one @BotFather gave (most often one read from a
// CRLF env file) is refused at load, saying what is wrong without showing the token, which
// would otherwise go into every request URL and every error that echoes it.
func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name, token string
		inFile      bool // also written in config.yaml (YAML cannot carry a quote or a CR as is)
		want        string
	}{
		{"CRLF env file", goodToken + "\r", false,
			"has a trailing carriage return (a CRLF env file?): save the file with LF line endings"},
		{"trailing newline", goodToken + "\n", false, "has spaces or line breaks around it: copy the token exactly as @BotFather gave it"},
		{"leading space", " " + goodToken, true, "has spaces or line breaks around it: copy the token exactly as @BotFather gave it"},
		{"quoted", `"` + goodToken + `"`, false, "is in quotes, which became part of it: write the token without them"},
		{"percent", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALD%61w", true,
			"has a % (percent-encoded, or an unexpanded %VAR%?): copy the token exactly as @BotFather gave it"},
		{"unexpanded placeholder", "%TOKEN_FOR_DUBAN%", true,
			"has a % (percent-encoded, or an unexpanded %VAR%?): copy the token exactly as @BotFather gave it"},
		{"no colon", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", true,
			"want <bot id>:<secret>, as @BotFather gives it (123456789:AAH…); this has no colon"},
		{"id not a number", "bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", true,
			"the part before the colon must be the bot's numeric id"},
		{"a character tokens never have", "110201543:AAHdqTcvCH1vGWJxfSeof/As0K5PALDsaw", true,
			"has a character a token never has (character 32; after the colon only A-Z a-z 0-9 _ -): copy the token exactly as @BotFather gave it"},
		{"a space inside", "110201543:AAHdqTcvCH1vGWJx fSeofSAs0K5PALDsaw", true,
			"has a character a token never has (character 27; after the colon only A-Z a-z 0-9 _ -): copy the token exactly as @BotFather gave it"},
		{"nothing after the colon", "110201543:", true, "the part after the colon is empty: copy the whole token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// From the environment, as TELEGRAM_BOT_TOKEN: no line of the file to point at.
			_, err := ParseConfig("c.yaml", []byte("timezone: UTC\n"), envOf(map[string]string{EnvToken: tt.token}))
			if want := "c.yaml: telegram.token ($TELEGRAM_BOT_TOKEN): " + tt.want; err == nil || err.Error() != want {
				t.Errorf("from $%s: got %v, want %s", EnvToken, err, want)
			}
			checkHidden(t, err, tt.token)
			if !tt.inFile {
				return
			}
			_, err = ParseConfig("c.yaml", []byte("telegram:\n  token: \"${T}\"\n"), envOf(map[string]string{"T": tt.token}))
			if want := "c.yaml:2: telegram.token: " + tt.want; err == nil || err.Error() != want {
				t.Errorf("from the file: got %v, want %s", err, want)
			}
			checkHidden(t, err, tt.token)
		})
	}
	for _, good := range []string{goodToken, "7:A-_z09"} {
		if _, err := ParseConfig("c.yaml", []byte("timezone: UTC\n"), envOf(map[string]string{EnvToken: good})); err != nil {
			t.Errorf("token %q: got %v, want it accepted", good, err)
		}
	}
	if _, err := ParseConfig("c.yaml", []byte("timezone: UTC\n"), noEnv); err != nil {
		t.Errorf("no token: got %v, want it accepted (only run needs one)", err)
	}
}

// checkHidden fails when err shows any stretch of the token's secret.
func checkHidden(tb testing.TB, err error, token string) {
	tb.Helper()
	secret := strings.Trim(token[strings.Index(token, ":")+1:], " \r\n\"%")
	if err != nil && len(secret) >= 8 && strings.Contains(err.Error(), secret[:8]) {
		tb.Errorf("got %q, want an error that does not show the token", err)
	}
}

// TestWebhookListen: the webhook's listener is public (Telegram must reach it), /healthz and
// /metrics are not for the public: in webhook mode the webhook needs its own address, and one
// that is http.listen's under another spelling is refused, naming both settings.
func TestWebhookListen(t *testing.T) {
	const hook = "telegram:\n  mode: webhook\n  webhook:\n    url: https://bot.example/hook\n    secret_token: s3cret\n"
	refused := func(listen, http string) string {
		return fmt.Sprintf(`telegram.webhook.listen: %q is also http.listen's address (%q): the webhook's listener is public, `+
			`so /healthz and /metrics must not share it; give the two different ports, or set http.listen to "" to serve neither`, listen, http)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"unset", hook, "c.yaml:4: telegram.webhook.listen: webhook mode needs the webhook's own address, such as 0.0.0.0:8443: " +
			"its listener is public, and /healthz and /metrics stay on http.listen"},
		{"same", hook + "    listen: 127.0.0.1:8080\n", "c.yaml:6: " + refused("127.0.0.1:8080", "127.0.0.1:8080")},
		{"all interfaces", hook + "    listen: 0.0.0.0:8080\n", "c.yaml:6: " + refused("0.0.0.0:8080", "127.0.0.1:8080")},
		{"no host", hook + "    listen: :9000\nhttp:\n  listen: 127.0.0.1:9000\n", "c.yaml:6: " + refused(":9000", "127.0.0.1:9000")},
		{"IPv6 any", hook + "    listen: \"[::]:8080\"\n", "c.yaml:6: " + refused("[::]:8080", "127.0.0.1:8080")},
		{"localhost", hook + "    listen: localhost:8080\n", "c.yaml:6: " + refused("localhost:8080", "127.0.0.1:8080")},
		{"own port", hook + "    listen: 0.0.0.0:8443\n", ""},
		{"another loopback address", hook + "    listen: 127.0.0.2:8080\n", ""},
		{"no monitoring", hook + "    listen: 0.0.0.0:8080\nhttp:\n  listen: \"\"\n", ""},
		{"polling ignores it", "telegram:\n  webhook:\n    listen: 127.0.0.1:8080\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.yaml), noEnv)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestWebConfig: the web view is off unless web.url is set; its address must be an absolute
// http(s) root, and its listener neither the webhook's public one nor missing altogether.
func TestWebConfig(t *testing.T) {
	const hook = "telegram:\n  mode: webhook\n  webhook:\n    url: https://bot.example/hook\n    secret_token: s3cret\n    listen: 0.0.0.0:8443\n"
	tests := []struct {
		name, yaml, want string
		url, listen      string
	}{
		{name: "off by default", yaml: "timezone: UTC\n"},
		{name: "on http.listen", yaml: "web:\n  url: https://duban.example.gov.cn\n", url: "https://duban.example.gov.cn"},
		{name: "own listener", yaml: "web:\n  url: http://10.0.0.5:8081/\n  listen: 0.0.0.0:8081\n", url: "http://10.0.0.5:8081/", listen: "0.0.0.0:8081"},
		{name: "own listener, no monitoring", yaml: "web:\n  url: https://duban.example.gov.cn\n  listen: 127.0.0.1:8081\nhttp:\n  listen: \"\"\n",
			url: "https://duban.example.gov.cn", listen: "127.0.0.1:8081"},
		{name: "beside a webhook", yaml: hook + "web:\n  url: https://duban.example.gov.cn\n  listen: 127.0.0.1:8081\n",
			url: "https://duban.example.gov.cn", listen: "127.0.0.1:8081"},
		{name: "relative url", yaml: "web:\n  url: duban.example.gov.cn\n",
			want: `c.yaml:2: web.url: want the absolute http:// or https:// address people open, such as https://duban.example.gov.cn, got "duban.example.gov.cn"`},
		{name: "ftp url", yaml: "web:\n  url: ftp://duban.example.gov.cn\n",
			want: `c.yaml:2: web.url: want the absolute http:// or https:// address people open, such as https://duban.example.gov.cn, got "ftp://duban.example.gov.cn"`},
		{name: "url with a path", yaml: "web:\n  url: https://example.gov.cn/duban\n",
			want: `c.yaml:2: web.url: want the web view's root, without a path, query or user (its pages are served at /), got "https://example.gov.cn/duban"`},
		{name: "bad listen", yaml: "web:\n  url: https://duban.example.gov.cn\n  listen: \"8081\"\n",
			want: `c.yaml:3: web.listen: want host:port such as 127.0.0.1:8081, got "8081"`},
		{name: "the webhook's listener", yaml: hook + "web:\n  url: https://duban.example.gov.cn\n  listen: 0.0.0.0:8443\n",
			want: `c.yaml:9: web.listen: "0.0.0.0:8443" is also telegram.webhook.listen's address ("0.0.0.0:8443"): the webhook's listener serves the webhook alone; give the web view another address`},
		{name: "http.listen's", yaml: "web:\n  url: https://duban.example.gov.cn\n  listen: 0.0.0.0:8080\n",
			want: `c.yaml:3: web.listen: "0.0.0.0:8080" is also http.listen's address ("127.0.0.1:8080"): leave web.listen empty to serve the web view there`},
		{name: "listen without url", yaml: "web:\n  listen: 127.0.0.1:8081\n",
			want: `c.yaml:2: web.listen: set, but web.url is empty, which keeps the web view off: set web.url to the address people open`},
		{name: "no listener", yaml: "web:\n  url: https://duban.example.gov.cn\nhttp:\n  listen: \"\"\n",
			want: `c.yaml:2: web.url: the web view needs a listener, and web.listen and http.listen are both empty: set web.listen, or http.listen to serve it beside /healthz and /metrics`},
		{name: "unknown key", yaml: "web:\n  adress: https://duban.example.gov.cn\n",
			want: `c.yaml:2: web.adress: unknown field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig("c.yaml", []byte(tt.yaml), noEnv)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			if err == nil && (c.Web.URL != tt.url || c.Web.Listen != tt.listen) {
				t.Errorf("web: got %+v, want url %q listen %q", c.Web, tt.url, tt.listen)
			}
		})
	}
}
