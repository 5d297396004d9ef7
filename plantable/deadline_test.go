package plantable

import (
	"testing"
	"time"

	"github.com/duban/duban/config"
)

func TestParseDeadline(t *testing.T) {
	today := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in       string
		want     string // the deadline, or the error when err is set
		yearly   bool
		standing bool
		err      bool
	}{
		{in: "2022年", want: "2022年"},
		{in: "２０２２年", want: "2022年"},
		{in: " 2022 年\n", want: "2022年"},
		{in: "2022年底", want: "2022年"},
		{in: "2022年年底", want: "2022年"},
		{in: "2022年底前", want: "2022年"},
		{in: "2022年底前完成", want: "2022年"},
		{in: "2022年6月", want: "2022年6月"},
		{in: "2022年06月", want: "2022年6月"},
		{in: "2022年6月底", want: "2022年6月"},
		{in: "2022年6月底前", want: "2022年6月"},
		{in: "2022年6月前", want: "2022年6月"},
		{in: "2022年\n6月底", want: "2022年6月"},
		{in: "2022年6月30日", want: "2022年6月30日"},
		{in: "2022年6月30日前", want: "2022年6月30日"},
		{in: "２０２２年６月３０日", want: "2022年6月30日"},
		{in: "2022-06-30", want: "2022年6月30日"},
		{in: "2022.6.30", want: "2022年6月30日"},
		{in: "2022/6/30", want: "2022年6月30日"},
		{in: "2022.6", want: "2022年6月"},
		{in: "2022年上半年", want: "2022年6月"},
		{in: "2022年下半年", want: "2022年"},
		{in: "2022年三季度", want: "2022年9月"},
		{in: "2022年第1季度", want: "2022年3月"},
		{in: "2021-2022年", want: "2022年"},
		{in: "2021年至2022年6月", want: "2022年6月"},
		{in: "每年", want: "2026年", yearly: true},
		{in: "每年12月底", want: "2026年12月", yearly: true},
		{in: "每年12月底前", want: "2026年12月", yearly: true},
		{in: "每年6月30日", want: "2026年6月30日", yearly: true},
		{in: "2021年起每年", want: "2021年", yearly: true},
		{in: "2021年起，每年6月", want: "2021年6月", yearly: true},
		{in: "长期坚持", standing: true},
		{in: "持续推进", standing: true},
		{in: "长期", standing: true},
		{in: "持续", standing: true},
		{in: "视情况", want: `unknown deadline "视情况"`, err: true},
		{in: "2022年6月31日", want: `unknown deadline "2022年6月31日"`, err: true},
		{in: "2022年13月", want: `unknown deadline "2022年13月"`, err: true},
		{in: "2022-6/30", want: `unknown deadline "2022-6/30"`, err: true},
		{in: "22年", want: `unknown deadline "22年"`, err: true},
		{in: "2023-2022年", want: `unknown deadline "2023-2022年"`, err: true},
		{in: "每年13月", want: `unknown deadline "每年13月"`, err: true},
		{in: "2021年、2022年", want: `two deadlines in one cell "2021年、2022年": write the one the task must meet, or split the task`, err: true},
		{in: "2021年和2022年6月", want: `two deadlines in one cell "2021年和2022年6月": write the one the task must meet, or split the task`, err: true},
	}
	for _, tt := range tests {
		d, err := parseDeadline(tt.in, today)
		if tt.err {
			if err == nil || err.Error() != tt.want {
				t.Errorf("parseDeadline(%q): got %+v, %v; want error %s", tt.in, d, err, tt.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDeadline(%q): got error %v, want %q", tt.in, err, tt.want)
			continue
		}
		wantRec := ""
		if tt.yearly {
			wantRec = "yearly"
		}
		if d.Text != tt.want || d.Recurrence != wantRec || d.Standing != tt.standing {
			t.Errorf("parseDeadline(%q): got %q, recurrence %q, standing %v; want %q, %q, %v", tt.in, d.Text, d.Recurrence, d.Standing, tt.want, wantRec, tt.standing)
		}
		if !d.Standing {
			if _, err := config.ParseTime(d.Text, time.UTC, true); err != nil {
				t.Errorf("parseDeadline(%q) = %q, which tasks.yaml cannot read: %v", tt.in, d.Text, err)
			}
		}
	}
}

func TestReviewDeadline(t *testing.T) {
	today := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		review time.Duration
		text   string
		want   string
		rec    string
	}{
		{90 * 24 * time.Hour, "90d", "2027年3月2日", "90d"},
		{30 * 24 * time.Hour, "", "2027年1月1日", "30d"},
		{2 * 7 * 24 * time.Hour, "2w", "2026年12月16日", "2w"},
	}
	for _, tt := range tests {
		opt := Options{StandingReview: tt.review, StandingReviewText: tt.text, Today: today}
		if got := reviewDeadline(today, tt.review); got != tt.want {
			t.Errorf("reviewDeadline(%v): got %q, want %q", tt.review, got, tt.want)
		}
		if got := reviewText(opt); got != tt.rec {
			t.Errorf("reviewText(%v, %q): got %q, want %q", tt.review, tt.text, got, tt.rec)
		}
	}
}
