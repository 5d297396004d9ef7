package plantable

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A 完成时限 cell becomes a deadline in a form tasks.yaml reads (config.ParseTime): "2022年"
// (the end of the year), "2022年6月" (of the month), "2022年6月30日" (of the day). It reads:
//
//	2022年, 2022年底, 2022年年底, 2022年末          → 2022年
//	2022年6月, 2022年6月底, 2022年6月末, 2022年6月份 → 2022年6月
//	2022年6月30日, 2022-06-30, 2022.6.30, 2022/6/30 → 2022年6月30日
//	2022-06, 2022.6                                → 2022年6月
//	2022年上半年 → 2022年6月; 2022年下半年 → 2022年; 2022年一季度 / 第一季度 → 2022年3月
//	2021-2022年, 2021年至2022年 (a span)             → 2022年, its end
//	每年, 每年12月底, 每年6月30日                     → yearly, the first deadline in the
//	                                                 import's year (Options.Today)
//	2021年起每年, 2021年起每年6月                     → yearly from 2021
//	长期坚持, 持续推进, 长期, 持续, 常态化             → standing: see Options.StandingReview
//
// with a trailing 前, 之前 or 以前 ("by") and 完成 ("2022年底前完成"), full-width digits, spaces and line breaks
// ignored. Two dates in one cell ("2021年、2022年") are refused rather than guessed: the
// clerk knows whether the task ends in 2022 or is two tasks, the importer does not.

// deadline is what a 完成时限 cell says.
type deadline struct {
	Text       string // in tasks.yaml's form
	Recurrence string // "" or "yearly"
	Standing   bool   // no fixed date (长期坚持): Text is empty until a review cadence is given
}

var (
	dlYear    = regexp.MustCompile(`^(\d{4})年(?:年?底|年?末|度)?$`)
	dlHalf    = regexp.MustCompile(`^(\d{4})年(上|下)半年(?:底|末)?$`)
	dlQuarter = regexp.MustCompile(`^(\d{4})年第?([一二三四1-4])季度(?:底|末)?$`)
	dlMonth   = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(?:底|末|份|份底)?$`)
	dlDay     = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})[日号]$`)
	dlNumeric = regexp.MustCompile(`^(\d{4})([-./])(\d{1,2})(?:([-./])(\d{1,2}))?$`)
	dlSpan    = regexp.MustCompile(`^(\d{4})年?[-—–~～至到](\d{4}年.*)$`)
	dlYearly  = regexp.MustCompile(`^(?:(\d{4})年(?:起|开始)?[,，、]?)?每年(.*)$`)
	dlList    = regexp.MustCompile(`\d{4}年.*[、,，;；和及].*\d{4}年`)
)

var standingWords = []string{"长期坚持", "持续推进", "长期", "持续", "常态化", "长期推进", "持续开展"}

// parseDeadline reads a 完成时限 cell; today gives the year of 每年 without a year.
func parseDeadline(cell string, today time.Time) (deadline, error) {
	s := strings.TrimRight(foldWidth(squeeze(cell)), "。.")
	for _, by := range []string{"完成", "之前", "以前", "前"} { // 2022年底前完成
		s = strings.TrimSuffix(s, by)
	}
	unknown := fmt.Errorf("unknown deadline %q", normText(cell))
	if s == "" {
		return deadline{}, unknown
	}
	for _, w := range standingWords {
		if s == w {
			return deadline{Standing: true}, nil
		}
	}
	if dlList.MatchString(s) {
		return deadline{}, fmt.Errorf("two deadlines in one cell %q: write the one the task must meet, or split the task", normText(cell))
	}
	if g := dlYearly.FindStringSubmatch(s); g != nil {
		year := today.Year()
		if g[1] != "" {
			year, _ = strconv.Atoi(g[1])
		}
		rest := g[2]
		if rest == "" {
			return deadline{Text: fmt.Sprintf("%04d年", year), Recurrence: "yearly"}, nil
		}
		d, err := parseDate(fmt.Sprintf("%04d年%s", year, rest))
		if err != nil {
			return deadline{}, unknown
		}
		d.Recurrence = "yearly"
		return d, nil
	}
	if g := dlSpan.FindStringSubmatch(s); g != nil {
		from, _ := strconv.Atoi(g[1])
		d, err := parseDate(g[2])
		if err != nil || from > atoi4(g[2]) {
			return deadline{}, unknown
		}
		return d, nil
	}
	d, err := parseDate(s)
	if err != nil {
		return deadline{}, unknown
	}
	return d, nil
}

func atoi4(s string) int {
	n, _ := strconv.Atoi(s[:4])
	return n
}

// parseDate reads one fixed date, already squeezed and folded.
func parseDate(s string) (deadline, error) {
	bad := fmt.Errorf("bad date %q", s)
	if g := dlYear.FindStringSubmatch(s); g != nil {
		return deadline{Text: g[1] + "年"}, nil
	}
	if g := dlHalf.FindStringSubmatch(s); g != nil {
		if g[2] == "上" {
			return deadline{Text: g[1] + "年6月"}, nil
		}
		return deadline{Text: g[1] + "年"}, nil
	}
	if g := dlQuarter.FindStringSubmatch(s); g != nil {
		q := map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}[g[2]]
		return deadline{Text: fmt.Sprintf("%s年%d月", g[1], q*3)}, nil
	}
	var y, m, d int
	switch g := dlMonth.FindStringSubmatch(s); {
	case g != nil:
		y, m = atoi4(g[1]), atoiOr0(g[2])
	case dlDay.MatchString(s):
		g := dlDay.FindStringSubmatch(s)
		y, m, d = atoi4(g[1]), atoiOr0(g[2]), atoiOr0(g[3])
	case dlNumeric.MatchString(s):
		g := dlNumeric.FindStringSubmatch(s)
		if g[4] != "" && g[4] != g[2] {
			return deadline{}, bad // 2022-6/30: not a way anyone writes a date
		}
		y, m, d = atoi4(g[1]), atoiOr0(g[3]), atoiOr0(g[5])
		if g[4] != "" && d == 0 {
			return deadline{}, bad
		}
	default:
		return deadline{}, bad
	}
	if m < 1 || m > 12 {
		return deadline{}, bad
	}
	if d == 0 {
		return deadline{Text: fmt.Sprintf("%04d年%d月", y, m)}, nil
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return deadline{}, bad // 2022年6月31日
	}
	return deadline{Text: fmt.Sprintf("%04d年%d月%d日", y, m, d)}, nil
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// reviewDeadline is a standing task's deadline: the day review after today, in tasks.yaml's
// form.
func reviewDeadline(today time.Time, review time.Duration) string {
	t := today.Add(review)
	return fmt.Sprintf("%04d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// reviewText is the cadence as the option wrote it, or in days when it was given in code.
func reviewText(opt Options) string {
	if opt.StandingReviewText != "" {
		return opt.StandingReviewText
	}
	if opt.StandingReview%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", opt.StandingReview/(24*time.Hour))
	}
	return opt.StandingReview.String()
}
