package plantable

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A 责任部门 cell lists departments the way a plan writes them:
//
//   - separated by 、，,；;/ or line breaks, but never inside brackets: 各县（市、区）人民政府 is
//     one name;
//   - a suffix written once after a list of places belongs to each place: in
//     "湖口县、德安县、共青城市、柴桑区人民政府" the last name is a place (柴桑区, ending in
//     县/市/区/镇/乡/省) followed by 人民政府, so the bare places before it (湖口县, 德安县,
//     共青城市) are 湖口县人民政府, 德安县人民政府, 共青城市人民政府. Only the bare places right
//     before a name with a suffix take it: "市教育局，各县（市、区）人民政府" stays two names;
//   - each name once, the first listed kept first: it leads (牵头单位).
//
// The split is stable: the names joined with 、 split into the same names, so tasks.yaml's
// lists can be written back into a table and imported again.

// splitDepartments splits a 责任部门 cell into department names.
func splitDepartments(s string) []string {
	// Duplicates go before distributing too, so that removing one cannot put a bare place
	// next to a name with a suffix (which a second split would then distribute).
	return unique(distributeSuffixes(unique(splitOutsideBrackets(s))))
}

// unique drops repeated names, keeping the first.
func unique(names []string) []string {
	out := names[:0]
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func isDeptSep(r rune) bool {
	switch r {
	case '、', '，', ',', '；', ';', '/', '／', '\n', '\r':
		return true
	}
	return false
}

func isOpen(r rune) bool  { return r == '（' || r == '(' || r == '【' || r == '[' }
func isClose(r rune) bool { return r == '）' || r == ')' || r == '】' || r == ']' }

// splitOutsideBrackets splits s at separators outside brackets, trimming each name and
// collapsing its runs of spaces; empty names are dropped. Brackets are counted, not paired
// by kind, so a stray closing bracket is text and an unclosed one holds the rest of the cell
// together — either way the same on a second split.
func splitOutsideBrackets(s string) []string {
	var out []string
	depth, start := 0, 0
	add := func(end int) {
		if n := collapseSpaces(strings.TrimFunc(s[start:end], unicode.IsSpace)); n != "" {
			out = append(out, n)
		}
	}
	for i, r := range s {
		switch {
		case isOpen(r):
			depth++
		case isClose(r):
			if depth > 0 {
				depth--
			}
		case depth == 0 && isDeptSep(r):
			add(i)
			start = i + utf8.RuneLen(r)
		}
	}
	add(len(s))
	return out
}

func isPlaceEnd(r rune) bool { return strings.ContainsRune("县市区镇乡省", r) }

// bracketFree reports whether s has no bracket at all.
func bracketFree(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return isOpen(r) || isClose(r) })
}

// isBarePlace reports whether a name is only a place: two or more characters ending in
// 县/市/区/镇/乡/省, without brackets.
func isBarePlace(s string) bool {
	last, _ := utf8.DecodeLastRuneInString(s)
	return utf8.RuneCountInString(s) >= 2 && isPlaceEnd(last) && bracketFree(s)
}

// placeSuffix splits a name into a place and what follows it: "柴桑区人民政府" → 人民政府,
// at the first place character after the first, outside brackets ("德安县住房和城乡建设局":
// the suffix is 住房和城乡建设局, not 建设局). It returns "" when the name has no place or
// no suffix, or a suffix that starts with or holds unbalanced brackets, or ends as a place
// does (copying those onto other names would change how they split: 城市 + 县 is a bare
// place again).
func placeSuffix(s string) string {
	for i, r := range s {
		if isOpen(r) || isClose(r) {
			return "" // a bracket before any place: not a place name
		}
		if i == 0 || !isPlaceEnd(r) {
			continue
		}
		suffix := s[i+utf8.RuneLen(r):]
		last, _ := utf8.DecodeLastRuneInString(suffix)
		if suffix == "" || !balanced(suffix) || isPlaceEnd(last) {
			return ""
		}
		if first, _ := utf8.DecodeRuneInString(suffix); isOpen(first) {
			return ""
		}
		return suffix
	}
	return ""
}

// balanced reports whether every bracket of s closes and none closes early.
func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch {
		case isOpen(r):
			depth++
		case isClose(r):
			if depth == 0 {
				return false
			}
			depth--
		}
	}
	return depth == 0
}

// distributeSuffixes gives each run of bare places the suffix of the place name that follows
// it.
func distributeSuffixes(names []string) []string {
	out := slices.Clone(names)
	for i := len(out) - 1; i > 0; i-- {
		suffix := placeSuffix(out[i])
		if suffix == "" {
			continue
		}
		for j := i - 1; j >= 0 && isBarePlace(out[j]); j-- {
			out[j] += suffix
		}
	}
	return out
}
