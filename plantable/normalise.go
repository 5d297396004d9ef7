package plantable

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cells are normalised as little as a reader of the plan would notice: the shipped tasks.yaml
// copies the table's texts byte for byte, so a text field only loses what the file's layout
// put there (line breaks inside a cell, spaces at its ends, runs of spaces). A single space
// of any kind inside a text is kept as written (the shipped task 50 has no-break spaces).

// normText normalises a text cell (重点工作, 任务目标, 量化指标, 备注, departments): each line
// trimmed, empty lines dropped, lines joined without a space when either side of the break is
// Chinese (a line break there is only the cell's width) and with one space between Latin
// words, and runs of spaces collapsed to one.
func normText(s string) string {
	if isPlain(s) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		line = collapseSpaces(strings.TrimFunc(line, unicode.IsSpace))
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			last, _ := utf8.DecodeLastRuneInString(b.String())
			first, _ := utf8.DecodeRuneInString(line)
			if !isWide(last) && !isWide(first) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// isPlain reports whether s needs no normalising, the common case, so that it is returned as
// is without copying.
func isPlain(s string) bool {
	prevSpace := true // a space at the start is not plain
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if r == '\n' || r == '\r' || (sp && prevSpace) {
			return false
		}
		prevSpace = sp
	}
	return !prevSpace || s == ""
}

// collapseSpaces turns every run of two or more spaces into one ASCII space.
func collapseSpaces(s string) string {
	var b strings.Builder
	run := 0
	var held rune
	for _, r := range s {
		if unicode.IsSpace(r) {
			if run == 0 {
				held = r
			}
			run++
			continue
		}
		switch {
		case run == 1:
			b.WriteRune(held)
		case run > 1:
			b.WriteByte(' ')
		}
		run = 0
		b.WriteRune(r)
	}
	switch {
	case run == 1:
		b.WriteRune(held)
	case run > 1:
		b.WriteByte(' ')
	}
	return b.String()
}

// isWide reports whether r belongs to Chinese text: ideographs, CJK and full-width
// punctuation, and the general punctuation (“”、…) Chinese text uses.
func isWide(r rune) bool {
	return r >= 0x2000
}

// foldWidth turns full-width ASCII (０-９, Ａ-Ｚ, ．－／（ and so on) into ASCII and the
// ideographic space into a space, for the cells whose characters carry meaning rather than
// text: 序号, 完成时限 and header words.
func foldWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFF01 + '!'
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}

// squeeze drops every space and line break: header words and deadlines mean the same with
// or without them ("完成\n时限", "2022年 6月").
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// brief shortens a line for the summary: its first 24 characters.
func brief(s string) string {
	s = normText(s)
	if utf8.RuneCountInString(s) <= 24 {
		return s
	}
	r := []rune(s)
	return string(r[:24]) + "…"
}
