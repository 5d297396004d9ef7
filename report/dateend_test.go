package report

import (
	"regexp/syntax"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestMayEndInDate: every rune a dateRe match can end with, worked out from the regexp's
// syntax tree, is one mayEndInDate accepts, so skipping the regexp for the others never
// misses a date.
func TestMayEndInDate(t *testing.T) {
	re, err := syntax.Parse(dateRe.String(), syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	ends, _ := lastRunes(re.Simplify())
	for _, rng := range ends {
		for r := rng[0]; r <= rng[1]; r++ {
			if s := "x" + string(r); !mayEndInDate(s) {
				t.Errorf("a date can end in %q (U+%04X), but mayEndInDate(%q) is false", r, r, s)
			}
		}
	}
	// The walk is not vacuous: it finds what the regexp plainly ends with, and a rune no
	// date ends with is left to be skipped.
	for _, r := range []rune{'月', '底', '前', 'y', '4'} {
		if !inRanges(ends, r) {
			t.Errorf("got no %q among the runes a date ends with", r)
		}
	}
	if inRanges(ends, '成') || mayEndInDate("已完成") {
		t.Error("成 ends no date, yet it is accepted")
	}
}

func inRanges(ranges [][2]rune, r rune) bool {
	for _, rng := range ranges {
		if r >= rng[0] && r <= rng[1] {
			return true
		}
	}
	return false
}

// lastRunes is the set of runes (as ranges) a match of re can end with, and whether re can
// match the empty string.
func lastRunes(re *syntax.Regexp) (ranges [][2]rune, empty bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil, true
		}
		r := re.Rune[len(re.Rune)-1]
		if re.Flags&syntax.FoldCase != 0 {
			out := [][2]rune{{r, r}}
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				out = append(out, [2]rune{f, f})
			}
			return out, false
		}
		return [][2]rune{{r, r}}, false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			ranges = append(ranges, [2]rune{re.Rune[i], re.Rune[i+1]})
		}
		return ranges, false
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return [][2]rune{{0, utf8.MaxRune}}, false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return nil, true
	case syntax.OpCapture, syntax.OpPlus:
		return lastRunes(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		ranges, _ = lastRunes(re.Sub[0])
		return ranges, true
	case syntax.OpRepeat:
		ranges, empty = lastRunes(re.Sub[0])
		return ranges, empty || re.Min == 0
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			r, e := lastRunes(sub)
			ranges = append(ranges, r...)
			empty = empty || e
		}
		return ranges, empty
	case syntax.OpConcat:
		// The last element's runes, and the one before's while everything after can be empty.
		empty = true
		for i := len(re.Sub) - 1; i >= 0 && empty; i-- {
			r, e := lastRunes(re.Sub[i])
			ranges = append(ranges, r...)
			empty = e
		}
		return ranges, empty
	}
	panic("lastRunes: op " + re.Op.String())
}
