package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a span written the way people write them in a plan: "30d", "2w", "36h",
// "1d12h", or anything time.ParseDuration takes. A day is 24 hours.
type Duration time.Duration

var dayWeekRe = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(.*)$`)

// ParseDuration reads a Duration; it rejects negative and empty spans, which no setting here
// can mean.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	m := dayWeekRe.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("bad duration %q: want a number and a unit, such as 7d, 36h or 30m", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: %w", s, err)
		}
		d += time.Duration(n) * unit
	}
	if rest := m[3]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: want a number and a unit, such as 7d, 36h or 30m", s)
		}
		d += r
	}
	if d <= 0 {
		return 0, fmt.Errorf("bad duration %q: must be more than zero", s)
	}
	return Duration(d), nil
}

// String writes the span back in the shortest of the forms ParseDuration reads.
func (d Duration) String() string {
	td := time.Duration(d)
	day := 24 * time.Hour
	if td > 0 && td%day == 0 {
		return fmt.Sprintf("%dd", td/day)
	}
	return td.String()
}

// UnmarshalYAML reports a bad span as a type error with its line, so that the decoder goes on
// and every problem in the file is reported at once.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		if err == nil {
			err = fmt.Errorf("bad duration: want a value such as 7d")
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML lets a Config be written back out in the same form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
