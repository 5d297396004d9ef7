package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/duban/duban/store"
)

// FuzzParse: whatever the words, Parse does not panic, an asked reading records no status or
// percent, and done never comes with a percent under 100.
func FuzzParse(f *testing.F) {
	for _, c := range readCorpus(f) {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := Parse(text, nil)
		if p.Doubt != DoubtNone && (p.Status != "" || p.Percent != nil) {
			t.Errorf("Parse(%q): asks (%s) but records %q %v", text, p.Doubt, p.Status, p.Percent)
		}
		if p.Status == store.StatusDone && p.Percent != nil && *p.Percent != 100 {
			t.Errorf("Parse(%q): done at %d%%", text, *p.Percent)
		}
		if p.Percent != nil && (*p.Percent < 0 || *p.Percent > 100) {
			t.Errorf("Parse(%q): percent %d", text, *p.Percent)
		}
	})
}

// FuzzSplit: every line of a message lands in some item's Lines, no item names task 0 unless
// it is the only one, and valid UTF-8 stays valid.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"#12 已完成", "12、13 已完成\n说明", "各位领导：\n#12 进行中\n#13 已完成", "10 月底前完成", "第12项：进行中"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, hashOnly bool) {
		items := Split(text, SplitOptions{HashOnly: hashOnly})
		if len(items) == 0 {
			t.Fatalf("Split(%q): no items", text)
		}
		var all strings.Builder
		for _, it := range items {
			if it.Task == 0 && len(items) > 1 {
				t.Errorf("Split(%q): an item without a task among %d", text, len(items))
			}
			if utf8.ValidString(text) && !utf8.ValidString(it.Lines) {
				t.Errorf("Split(%q): invalid UTF-8 in %q", text, it.Lines)
			}
			all.WriteString(it.Lines + "\n")
		}
		for _, line := range strings.Split(text, "\n") {
			if !strings.Contains(all.String(), line) {
				t.Errorf("Split(%q): line %q kept by no item", text, line)
			}
		}
	})
}
