package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
)

// Config is config.yaml: how the daemon runs and who the departments are. The plan itself is
// in the tasks file it names (see Plan).
type Config struct {
	Timezone    string              `yaml:"timezone"`
	Language    string              `yaml:"language"`
	Tasks       string              `yaml:"tasks"`
	Telegram    Telegram            `yaml:"telegram"`
	Store       Store               `yaml:"store"`
	Schedule    Schedule            `yaml:"schedule"`
	Supervisors Chat                `yaml:"supervisors"`
	Departments map[string]Chat     `yaml:"departments"`
	Groups      map[string][]string `yaml:"groups"`
	Aliases     map[string]string   `yaml:"aliases"`
	Calendar    Calendar            `yaml:"calendar"`
	HTTP        HTTP                `yaml:"http"`
	Web         Web                 `yaml:"web"`

	// Set by Load and Validate.
	File     string         `yaml:"-"` // the path it was read from
	Location *time.Location `yaml:"-"`
	// DepartmentNames lists the departments in the order config.yaml gives them, which is the
	// order people expect to read them in; Go maps have none.
	DepartmentNames []string `yaml:"-"`

	doc          *document
	tokenFromEnv bool // telegram.token came from $TELEGRAM_BOT_TOKEN: no line of the file to name
}

// Telegram is how the bot talks to Telegram.
type Telegram struct {
	Token   Secret  `yaml:"token"`
	APIURL  string  `yaml:"api_url"`
	Mode    string  `yaml:"mode"`
	Admins  []int64 `yaml:"admins"`
	Webhook Webhook `yaml:"webhook"`
}

// Webhook is used when Telegram.Mode is "webhook": Telegram posts updates to URL, which must
// reach the daemon's Listen address.
type Webhook struct {
	URL         string `yaml:"url"`
	SecretToken Secret `yaml:"secret_token"`
	Listen      string `yaml:"listen"` // empty: the http.listen address
}

// Store says where progress is kept.
type Store struct {
	URL    string `yaml:"url"`    // empty: the embedded file at Path; redis://host:6379/0 for Redis
	Path   string `yaml:"path"`   // the embedded store's file, relative to config.yaml
	Prefix string `yaml:"prefix"` // every key or row is under it, so several bots can share one store
}

// Schedule is when nudges and digests go out, and what they say.
type Schedule struct {
	Nudge        string     `yaml:"nudge"`
	Digest       string     `yaml:"digest"`
	RemindBefore []Duration `yaml:"remind_before"`
	OverdueEvery Duration   `yaml:"overdue_every"`
	StaleAfter   Duration   `yaml:"stale_after"`
	// EscalateAfter unanswered nudges on one item name the department to the supervisors.
	EscalateAfter int `yaml:"escalate_after"`
	// WarnBefore a deadline an item is blue (三色督办).
	WarnBefore Duration `yaml:"warn_before"`
	// BehindMargin is how many percentage points a department's reported progress may trail
	// the elapsed share of the task's span (序时进度) before it is behind schedule (yellow).
	BehindMargin int `yaml:"behind_margin"`
	// CatchUp is how far back a tick missed while the daemon was down is still run at start.
	CatchUp Duration `yaml:"catch_up"`
}

// Calendar corrects the nudge schedule for public holidays: no nudge on a holiday, and the
// nudge's time of day on a make-up working day (调休上班) even when the cron skips its weekday.
type Calendar struct {
	Holidays []string `yaml:"holidays"` // dates, 2026-10-01
	Workdays []string `yaml:"workdays"` // make-up working days, 2026-10-10

	holidays, workdays map[string]bool
}

// IsHoliday and IsWorkday answer for the day of t in the plan's zone.
func (c *Calendar) IsHoliday(t time.Time) bool { return c.holidays[t.Format(time.DateOnly)] }

// IsWorkday reports a make-up working day.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.workdays[t.Format(time.DateOnly)] }

// Empty reports a config without a calendar: the nudge cron alone decides.
func (c *Calendar) Empty() bool { return len(c.Holidays) == 0 && len(c.Workdays) == 0 }

// Chat is a Telegram chat id; 0 means not bound yet.
type Chat struct {
	Chat int64 `yaml:"chat"`
}

// HTTP is the daemon's own server: /healthz, /metrics and the webhook.
type HTTP struct {
	Listen string `yaml:"listen"`
}

// Web is the read-only web view (台账 in a browser). It is off unless URL is set: nobody can
// read the record over HTTP until someone decides where it is served.
type Web struct {
	// URL is the address people open, the root of the web view; sign-in links start with it,
	// and https makes the session cookie Secure.
	URL string `yaml:"url"`
	// Listen is the web view's own listener; empty: http.listen's, beside /healthz and
	// /metrics.
	Listen string `yaml:"listen"`
}

// Secret is a value that must never reach a log or an error message.
type Secret string

func (Secret) String() string { return "<secret>" }

// DefaultAPIURL is Telegram's own Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Default returns the settings a config.yaml starts from: every key it leaves out keeps these.
func Default() *Config {
	return &Config{
		Timezone: "Asia/Shanghai",
		Language: "zh",
		Tasks:    "tasks.yaml",
		Telegram: Telegram{Mode: "polling"},
		Store:    Store{Path: "data/duban.db", Prefix: "duban:"},
		Schedule: Schedule{
			Nudge:         "0 9 * * 1-5",
			Digest:        "0 9 * * 1",
			RemindBefore:  []Duration{days(30), days(14), days(7), days(3), days(1)},
			OverdueEvery:  days(7),
			StaleAfter:    days(14),
			EscalateAfter: 3,
			WarnBefore:    days(7),
			BehindMargin:  20,
			CatchUp:       Duration(24 * time.Hour),
		},
		HTTP: HTTP{Listen: "127.0.0.1:8080"},
	}
}

func days(n int) Duration { return Duration(time.Duration(n) * 24 * time.Hour) }

// Environment variables that beat the file, so that a secret or a deployment's store need not
// be written into it.
const (
	EnvToken  = "TELEGRAM_BOT_TOKEN"
	EnvAPIURL = "TELEGRAM_API_URL"
	EnvStore  = "DUBAN_STORE"
)

// LoadConfig reads and validates config.yaml.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data, os.LookupEnv)
}

// ParseConfig is LoadConfig on bytes already read: defaults, then ${VAR} expansion, then a
// strict decode, then the environment overrides, then Validate.
func ParseConfig(file string, data []byte, env func(string) (string, bool)) (*Config, error) {
	errs := &errorList{file: file}
	c := Default()
	expanded, lines := expandEnvLines(data, env)
	c.doc = decodeLines(expanded, lines, c, errs, nil)
	if c.doc == nil {
		return nil, errs.err()
	}
	c.File = file
	for name, set := range map[string]func(string){
		EnvToken:  func(v string) { c.Telegram.Token, c.tokenFromEnv = Secret(v), true },
		EnvAPIURL: func(v string) { c.Telegram.APIURL = v },
		EnvStore:  func(v string) { c.Store.URL = v },
	} {
		if v, ok := env(name); ok && v != "" {
			set(v)
		}
	}
	c.validate(errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks a Config built in code the same way a loaded one is checked.
func (c *Config) Validate() error {
	errs := &errorList{file: c.File}
	c.validate(errs)
	return errs.err()
}

var (
	cronParser  = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	secretRe    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	languageSet = []string{"zh", "en"}
)

// ParseCron reads a schedule in the syntax config.yaml uses: robfig/cron with optional
// seconds and descriptors such as @every 1h.
func ParseCron(spec string) (cron.Schedule, error) { return cronParser.Parse(spec) }

func (c *Config) validate(errs *errorList) {
	d := c.doc
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		errs.add(d.line("timezone"), "timezone", "unknown time zone %q (want an IANA name such as Asia/Shanghai)", c.Timezone)
	} else {
		c.Location = loc
	}
	if !slices.Contains(languageSet, c.Language) {
		errs.add(d.line("language"), "language", "want zh or en, got %q", c.Language)
	}
	if strings.TrimSpace(c.Tasks) == "" {
		errs.add(d.line("tasks"), "tasks", "empty: name the tasks file, such as tasks.yaml")
	}

	c.validateTelegram(errs)

	if c.Store.URL != "" {
		u, err := url.Parse(c.Store.URL)
		if err != nil || !slices.Contains([]string{"redis", "rediss", "unix"}, u.Scheme) {
			errs.add(d.line("store", "url"), "store.url", "want empty (the embedded store) or a redis://, rediss:// or unix:// URL, got %q", redactURL(c.Store.URL))
		}
	} else if strings.TrimSpace(c.Store.Path) == "" {
		errs.add(d.line("store", "path"), "store.path", "empty: name the embedded store's file, such as data/duban.db")
	}
	if c.Store.Prefix == "" || strings.ContainsAny(c.Store.Prefix, " \t\n") {
		errs.add(d.line("store", "prefix"), "store.prefix", "want a non-empty prefix without spaces, such as \"duban:\", got %q", c.Store.Prefix)
	}

	for _, s := range []struct{ key, spec string }{{"nudge", c.Schedule.Nudge}, {"digest", c.Schedule.Digest}} {
		if _, err := ParseCron(s.spec); err != nil {
			errs.add(d.line("schedule", s.key), "schedule."+s.key, "bad cron schedule %q: %v", s.spec, err)
		}
	}
	seen := map[Duration]bool{}
	for _, before := range c.Schedule.RemindBefore {
		if seen[before] {
			errs.add(d.line("schedule", "remind_before"), "schedule.remind_before", "%s is listed twice", before)
		}
		seen[before] = true
	}

	if c.Schedule.EscalateAfter < 1 {
		errs.add(d.line("schedule", "escalate_after"), "schedule.escalate_after", "want 1 or more unanswered nudges, got %d", c.Schedule.EscalateAfter)
	}
	if m := c.Schedule.BehindMargin; m < 0 || m > 100 {
		errs.add(d.line("schedule", "behind_margin"), "schedule.behind_margin", "want 0 to 100 percentage points, got %d", m)
	}
	c.validateCalendar(errs)

	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			errs.add(d.line("http", "listen"), "http.listen", "want host:port such as 127.0.0.1:8080, got %q", c.HTTP.Listen)
		}
	}

	c.validateWeb(errs)
	c.validateDepartments(errs)
}

func (c *Config) validateWeb(errs *errorList) {
	d, w := c.doc, c.Web
	if w.URL != "" {
		u, err := url.Parse(w.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs.add(d.line("web", "url"), "web.url", "want the absolute http:// or https:// address people open, such as https://duban.example.gov.cn, got %q", w.URL)
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			// The pages link to /tasks, /task/16…: a prefix would need a proxy that rewrites
			// them, and a query or user would end up in every sign-in link.
			errs.add(d.line("web", "url"), "web.url", "want the web view's root, without a path, query or user (its pages are served at /), got %q", w.URL)
		}
	}
	if w.Listen != "" {
		at := d.line("web", "listen")
		if _, _, err := net.SplitHostPort(w.Listen); err != nil {
			errs.add(at, "web.listen", "want host:port such as 127.0.0.1:8081, got %q", w.Listen)
		} else if c.Telegram.Mode == "webhook" && SameListener(w.Listen, c.Telegram.Webhook.Listen) {
			errs.add(at, "web.listen", "%q is also telegram.webhook.listen's address (%q): the webhook's listener serves the webhook alone; give the web view another address",
				w.Listen, c.Telegram.Webhook.Listen)
		} else if SameListener(w.Listen, c.HTTP.Listen) {
			errs.add(at, "web.listen", "%q is also http.listen's address (%q): leave web.listen empty to serve the web view there", w.Listen, c.HTTP.Listen)
		} else if w.URL == "" {
			errs.add(at, "web.listen", "set, but web.url is empty, which keeps the web view off: set web.url to the address people open")
		}
	}
	if w.URL != "" && w.Listen == "" && c.HTTP.Listen == "" {
		errs.add(d.line("web", "url"), "web.url", "the web view needs a listener, and web.listen and http.listen are both empty: set web.listen, or http.listen to serve it beside /healthz and /metrics")
	}
}

func (c *Config) validateTelegram(errs *errorList) {
	d, t := c.doc, c.Telegram
	if t.APIURL != "" {
		if u, err := url.Parse(t.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.add(d.line("telegram", "api_url"), "telegram.api_url", "want an http:// or https:// URL, got %q", t.APIURL)
		}
	}
	if err := CheckToken(string(t.Token)); t.Token != "" && err != nil {
		if c.tokenFromEnv {
			errs.add(0, "telegram.token ($"+EnvToken+")", "%v", err)
		} else {
			errs.add(d.line("telegram", "token"), "telegram.token", "%v", err)
		}
	}
	switch t.Mode {
	case "polling":
	case "webhook":
		if u, err := url.Parse(t.Webhook.URL); t.Webhook.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs.add(d.line("telegram", "webhook", "url"), "telegram.webhook.url", "webhook mode needs the public https:// URL that Telegram posts updates to, got %q", t.Webhook.URL)
		}
		if !secretRe.MatchString(string(t.Webhook.SecretToken)) {
			errs.add(d.line("telegram", "webhook", "secret_token"), "telegram.webhook.secret_token", "webhook mode needs a secret token of 1-256 characters A-Z a-z 0-9 _ -")
		}
		// The webhook's listener is public, /healthz and /metrics are not: they never share one.
		at := d.line("telegram", "webhook", "listen")
		if _, _, err := net.SplitHostPort(t.Webhook.Listen); t.Webhook.Listen == "" {
			errs.add(at, "telegram.webhook.listen", "webhook mode needs the webhook's own address, such as 0.0.0.0:8443: "+
				"its listener is public, and /healthz and /metrics stay on http.listen")
		} else if err != nil {
			errs.add(at, "telegram.webhook.listen", "want host:port such as 0.0.0.0:8443, got %q", t.Webhook.Listen)
		} else if SameListener(t.Webhook.Listen, c.HTTP.Listen) {
			errs.add(at, "telegram.webhook.listen", "%q is also http.listen's address (%q): the webhook's listener is public, "+
				"so /healthz and /metrics must not share it; give the two different ports, or set http.listen to \"\" to serve neither",
				t.Webhook.Listen, c.HTTP.Listen)
		}
	default:
		errs.add(d.line("telegram", "mode"), "telegram.mode", "want polling or webhook, got %q", t.Mode)
	}
	for i, id := range t.Admins {
		if id <= 0 {
			errs.add(d.line("telegram", "admins", i), fmt.Sprintf("telegram.admins[%d]", i), "want a Telegram user id (a positive number), got %d", id)
		}
	}
}

// SameListener reports whether two listen addresses would be one listener, or collide: the same
// port on the same host, or on all interfaces ("", 0.0.0.0, [::]) and any host. Port 0 picks a
// free port each time, so it never collides.
func SameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	host := func(h string) string {
		switch h = strings.ToLower(h); h {
		case "", "0.0.0.0", "::":
			return "*"
		case "localhost":
			return "localhost"
		}
		return h
	}
	ha, hb = host(ha), host(hb)
	loopback := func(h string) bool { return h == "127.0.0.1" || h == "::1" }
	return ha == hb || ha == "*" || hb == "*" ||
		ha == "localhost" && loopback(hb) || hb == "localhost" && loopback(ha)
}

// CheckToken says what is wrong with a bot token, never showing it: the token goes into every
// request URL, so one with a stray character (a CR from a CRLF env file, a %) would fail every
// request with an error that echoes the URL, and be logged on every retry. A token is the
// bot's numeric id, a colon and a secret of A-Z a-z 0-9 _ - (35 characters today; the length
// is not checked, as Telegram does not promise it and its own documented example has 34).
func CheckToken(token string) error {
	trimmed := strings.TrimSpace(token)
	switch {
	case token == "":
		return errors.New("empty: set TELEGRAM_BOT_TOKEN to the token @BotFather gave you")
	case strings.HasSuffix(strings.TrimRight(token, "\n"), "\r"):
		return errors.New("has a trailing carriage return (a CRLF env file?): save the file with LF line endings")
	case trimmed != token:
		return errors.New("has spaces or line breaks around it: copy the token exactly as @BotFather gave it")
	case len(token) >= 2 && strings.ContainsRune(`"'`, rune(token[0])) && token[len(token)-1] == token[0]:
		return errors.New("is in quotes, which became part of it: write the token without them")
	case strings.Contains(token, "%"):
		return errors.New("has a % (percent-encoded, or an unexpanded %VAR%?): copy the token exactly as @BotFather gave it")
	}
	id, secret, ok := strings.Cut(token, ":")
	switch {
	case !ok:
		return errors.New("want <bot id>:<secret>, as @BotFather gives it (123456789:AAH…); this has no colon")
	case id == "" || strings.Trim(id, "0123456789") != "":
		return errors.New("the part before the colon must be the bot's numeric id")
	case secret == "":
		return errors.New("the part after the colon is empty: copy the whole token")
	}
	for i, r := range []rune(secret) {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("has a character a token never has (character %d; after the colon only A-Z a-z 0-9 _ -): copy the token exactly as @BotFather gave it",
				utf8.RuneCountInString(id)+2+i)
		}
	}
	return nil
}

func (c *Config) validateCalendar(errs *errorList) {
	d := c.doc
	c.Calendar.holidays, c.Calendar.workdays = map[string]bool{}, map[string]bool{}
	for _, list := range []struct {
		key   string
		dates []string
		into  map[string]bool
	}{{"holidays", c.Calendar.Holidays, c.Calendar.holidays}, {"workdays", c.Calendar.Workdays, c.Calendar.workdays}} {
		for i, s := range list.dates {
			day, err := time.Parse(time.DateOnly, s)
			if err != nil || day.Format(time.DateOnly) != s {
				errs.add(d.line("calendar", list.key, i), fmt.Sprintf("calendar.%s[%d]", list.key, i), "bad date %q: want YYYY-MM-DD", s)
				continue
			}
			list.into[s] = true
		}
	}
	for i, s := range c.Calendar.Workdays {
		if c.Calendar.holidays[s] {
			errs.add(d.line("calendar", "workdays", i), fmt.Sprintf("calendar.workdays[%d]", i), "%s is also listed as a holiday", s)
		}
	}
}

// validateDepartments checks that every name used anywhere resolves to departments, in file
// order so that the first error a person reads is the first one in the file.
func (c *Config) validateDepartments(errs *errorList) {
	d := c.doc
	c.DepartmentNames = orderedKeys(d, "departments", c.Departments)

	chats := map[int64]string{}
	if c.Supervisors.Chat != 0 {
		chats[c.Supervisors.Chat] = "the supervisors chat"
	}
	for _, name := range c.DepartmentNames {
		if strings.TrimSpace(name) == "" {
			errs.add(d.keyLine("departments", name), "departments", "a department has an empty name")
			continue
		}
		if strings.Contains(name, "|") {
			// The reminder ledger's keys are task|department|…
			errs.add(d.keyLine("departments", name), "departments."+name, "a name cannot contain |")
		}
		chat := c.Departments[name].Chat
		if chat == 0 {
			continue
		}
		if other, ok := chats[chat]; ok {
			errs.add(d.line("departments", name, "chat"), "departments."+name+".chat", "chat %d is already %s: each department needs its own chat", chat, other)
			continue
		}
		chats[chat] = "department " + name + "'s"
	}

	for _, g := range orderedKeys(d, "groups", c.Groups) {
		if _, ok := c.Departments[g]; ok {
			errs.add(d.keyLine("groups", g), "groups."+g, "%q is both a department and a group", g)
		}
		if _, ok := c.Aliases[g]; ok {
			errs.add(d.keyLine("groups", g), "groups."+g, "%q is both a group and an alias", g)
		}
		for i, m := range c.Groups[g] {
			if !c.Known(m) {
				errs.add(d.line("groups", g, i), fmt.Sprintf("groups.%s[%d]", g, i), "unknown member %q (not a department, group or alias)", m)
			}
		}
	}
	reported := map[string]bool{}
	for _, g := range orderedKeys(d, "groups", c.Groups) {
		if cycle := c.groupCycle(g, nil); cycle != nil && !reported[cycle[0]] {
			for _, m := range cycle {
				reported[m] = true
			}
			errs.add(d.keyLine("groups", g), "groups."+g, "groups contain each other: %s", strings.Join(append(cycle, cycle[0]), " → "))
		}
	}

	for _, a := range orderedKeys(d, "aliases", c.Aliases) {
		target := c.Aliases[a]
		if _, ok := c.Departments[a]; ok {
			errs.add(d.keyLine("aliases", a), "aliases."+a, "%q is both a department and an alias", a)
		}
		_, isDept := c.Departments[target]
		_, isGroup := c.Groups[target]
		if !isDept && !isGroup {
			errs.add(d.line("aliases", a), "aliases."+a, "%q is not a department or group", target)
		}
	}
}

// groupCycle returns the groups of a cycle that starts at g, or nil.
func (c *Config) groupCycle(g string, path []string) []string {
	if i := slices.Index(path, g); i >= 0 {
		return path[i:]
	}
	path = append(path, g)
	for _, m := range c.Groups[g] {
		name := c.canonical(m)
		if _, ok := c.Groups[name]; ok {
			if cycle := c.groupCycle(name, path); cycle != nil {
				return cycle
			}
		}
	}
	return nil
}

// TasksPath is the tasks file, relative to config.yaml's folder unless absolute.
func (c *Config) TasksPath() string { return c.relative(c.Tasks) }

// StorePath is the embedded store's file, relative to config.yaml's folder unless absolute.
func (c *Config) StorePath() string { return c.relative(c.Store.Path) }

func (c *Config) relative(p string) string {
	if filepath.IsAbs(p) || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// APIURL is the Bot API server to use.
func (c *Config) APIURL() string {
	if c.Telegram.APIURL == "" {
		return DefaultAPIURL
	}
	return c.Telegram.APIURL
}

// StoreDescription names the store for people without revealing a password.
func (c *Config) StoreDescription() string {
	if c.Store.URL == "" {
		return "embedded file " + c.StorePath()
	}
	return "Redis " + redactURL(c.Store.URL)
}

// LoadConfigEnv is LoadConfig with the environment given, for tests and tools.
func LoadConfigEnv(path string, env func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data, env)
}
