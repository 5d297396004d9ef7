package plantable

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/duban/duban/config"
)

// FuzzDeadline: any cell is read without panicking, and a deadline read is one tasks.yaml
// reads.
func FuzzDeadline(f *testing.F) {
	for _, s := range []string{
		"2022年", "2022年6月", "2022年6月底前", "2022年6月30日", "2022-06-30", "2022.6.30", "2022/6/30",
		"２０２２年６月", "2022年上半年", "2022年年底", "2022年三季度", "每年", "每年12月底", "2021年起每年",
		"2021-2022年", "长期坚持", "持续推进", "视情况", "2022年6月31日", "2021年、2022年", "0000年0月", "9999年12月31日",
		"每年2月29日", "2022\n年\u30006 月", "",
	} {
		f.Add(s)
	}
	today := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDeadline(s, today)
		if err != nil || d.Standing {
			if d.Text != "" || d.Recurrence != "" {
				t.Errorf("parseDeadline(%q): got %+v with %v, want nothing", s, d, err)
			}
			return
		}
		if _, err := config.ParseTime(d.Text, time.UTC, true); err != nil {
			t.Errorf("parseDeadline(%q) = %q, which config.ParseTime refuses: %v", s, d.Text, err)
		}
		if d.Recurrence != "" && d.Recurrence != "yearly" {
			t.Errorf("parseDeadline(%q): recurrence %q", s, d.Recurrence)
		}
	})
}

// FuzzDepartments: any cell splits without panicking into non-empty names, each once, and
// the split is stable: the names joined with 、 split into the same names.
func FuzzDepartments(f *testing.F) {
	for _, s := range []string{
		"市教育局", "各县（市、区）人民政府", "市教育局，各县（市、区）人民政府", "湖口县、德安县、共青城市、柴桑区人民政府",
		"庐山市、都昌县人民政府", "市教育局、市人社局，各有关学校", "a,b;c；d/e\nf", "市教育局(牵头、市人社局",
		"湖口县、德安县人民（政府", "县、市", "）（、】【", "湖口县、德安县人民政府（牵头）", " 、 ", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the readers hand over UTF-8 only
		}
		got := splitDepartments(s)
		for i, n := range got {
			if strings.TrimSpace(n) == "" {
				t.Errorf("splitDepartments(%q): empty name at %d in %q", s, i, got)
			}
			if slices.Contains(got[:i], n) {
				t.Errorf("splitDepartments(%q): %q twice in %q", s, n, got)
			}
		}
		if again := splitDepartments(strings.Join(got, "、")); !slices.Equal(again, got) {
			t.Errorf("splitDepartments(%q) = %q, but joined and split again: %q", s, got, again)
		}
	})
}
