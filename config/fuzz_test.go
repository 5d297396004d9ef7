package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration: a duration read is positive and reads back from its own String.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "2w", "36h", "90m", "1d12h", "0d", "-1h", "7", "1w2d3h4m5s", "9999999999w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d <= 0 {
			t.Fatalf("ParseDuration(%q) = %v, want more than zero or an error", s, time.Duration(d))
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; reading its String %q back gave %v, %v", s, time.Duration(d), d.String(), time.Duration(back), err)
		}
	})
}

// FuzzParseTime: a deadline read is the last instant of the period whose start reads from
// the same words, and never before it.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2021年", "2022年6月", "2022年6月底", "2022年6月30日", "2022-06-30", "2022-02-30", "2022-06-30T18:00:00+08:00", "0000年", "9999年12月31日"} {
		f.Add(s)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	f.Fuzz(func(t *testing.T, s string) {
		end, err := ParseTime(s, loc, true)
		if err != nil {
			return
		}
		start, err := ParseTime(s, loc, false)
		if err != nil {
			t.Fatalf("ParseTime(%q): the deadline reads but the start does not: %v", s, err)
		}
		if end.Before(start) {
			t.Fatalf("ParseTime(%q): deadline %v before start %v", s, end, start)
		}
	})
}

// FuzzParseConfig: no config.yaml, however broken, panics the loader; what it accepts passes
// Validate again, and every error names the file.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"../config.yaml", "../config.example.yaml", "testdata/good.yaml", "testdata/bad-config.yaml", "testdata/syntax.yaml"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("timezone: [\n"))
	f.Add([]byte("schedule: {nudge: \"@every 0s\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("config.yaml", data, noEnv)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted, then Validate: %v", err)
		}
	})
}

// FuzzParsePlan: no tasks.yaml panics the loader, and every error names the file.
func FuzzParsePlan(f *testing.F) {
	c, err := LoadConfigEnv("../config.yaml", noEnv)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"../tasks.yaml", "testdata/good-tasks.yaml", "testdata/bad-tasks.yaml"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("tasks:\n  - id: 1\n    deadline: 2022年2月30日\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParsePlan("tasks.yaml", data, c); err != nil && !strings.HasPrefix(err.Error(), "tasks.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
