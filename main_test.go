package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs duban in-process as a person would from the shell.
func runCLI(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckShippedFiles(t *testing.T) {
	code, out, errOut := runCLI(t, "check", "-config", "config.yaml")
	if code != exitOK {
		t.Fatalf("duban check: got exit %d, want 0; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"config.yaml: ok (time zone Asia/Shanghai, language zh, store: embedded file data/duban.db, telegram: polling)",
		"tasks.yaml: ok (50 tasks in 5 areas, deadlines 2021-12-31 to 2022-12-31)",
		"departments: 37 (0 with a chat in config.yaml), groups: 5, aliases: 3",
		"     33     18  市教育局\n",
		"     10      4  湖口县人民政府\n",
		"departments without a chat yet (37;",
		"group 各有关学校 has no members in config.yaml, so task 8 reaches nobody through it",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("duban check output lacks %q; got:\n%s", want, out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(bad, []byte("timezone: Mars/Olympus\nlanguage: fr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStderr string
		wantStdout string
	}{
		{"no command", nil, nil, exitUsage, "usage: duban <command>", ""},
		{"help", []string{"-h"}, nil, exitOK, "usage: duban <command>", ""},
		{"unknown command", []string{"chek"}, nil, exitUsage, `duban: unknown command "chek"`, ""},
		{"command help", []string{"check", "-h"}, nil, exitOK, "usage: duban check [flags]", ""},
		{"bad flag", []string{"check", "-confg", "x"}, nil, exitUsage, "flag provided but not defined: -confg", ""},
		{"stray argument", []string{"check", "extra"}, nil, exitUsage, `duban check: unexpected argument "extra"`, ""},
		{"missing config", []string{"check", "-config", filepath.Join(dir, "nope.yaml")}, nil, exitFailure, "read config: open ", ""},
		{"bad config names every problem", []string{"check", "-config", bad}, nil, exitUsage,
			bad + ":1: timezone: unknown time zone \"Mars/Olympus\" (want an IANA name such as Asia/Shanghai)\n" +
				bad + ":2: language: want zh or en, got \"fr\"\nduban: 2 problem(s) found; nothing was started\n", ""},
		{"bad config never starts the daemon", []string{"run", "-config", bad}, nil, exitUsage, "nothing was started", ""},
		{"run without a token", []string{"run", "-config", "config.yaml"}, map[string]string{"TELEGRAM_BOT_TOKEN": ""}, exitUsage,
			"telegram.token is empty: set TELEGRAM_BOT_TOKEN", ""},
		{"config from DUBAN_CONFIG", []string{"check"}, map[string]string{"DUBAN_CONFIG": bad}, exitUsage, bad + ":1: timezone", ""},
		{"version", []string{"version"}, nil, exitOK, "", "duban "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit: got %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", errOut, tt.wantStderr)
			}
			if !strings.Contains(out, tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", out, tt.wantStdout)
			}
		})
	}
}
