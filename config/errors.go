package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a file, placed so that a person can find and fix it.
type Error struct {
	File  string // the file as it was named to Load
	Line  int    // 1-based; 0 when the problem has no line (a missing section)
	Field string // the setting, e.g. "schedule.nudge" or "task 19: departments"
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one load, in file order, so that a person fixes them in one
// pass instead of one per restart.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errorList collects problems for one file.
type errorList struct {
	file string
	errs Errors
}

func (l *errorList) add(line int, field, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was found, so callers can `return l.err()`.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	// In file order, so the first error a person reads is the first one in the file.
	slices.SortStableFunc(l.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	return l.errs
}
