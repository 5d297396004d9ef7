package i18n

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/duban/duban/store"
)

// Metrics of the shipped plan (tasks.yaml), as written.
const (
	metric24 = "落实中等职业学校教职工编制政策，落实国家中等职业学校生师比不低于20：1的配备标准。实行动态核编，落实公办职业学校不低于20%的编制员额按有关规定自主聘请兼职教师。"
	metric25 = "完善职业院校教师招聘办法，落实“双渠道”教师招聘制度。在职业院校实行高层次、高技能人才以直接考察的方式公开招聘。"
	metric26 = "落实《人力资源社会保障部、教育部关于深化中等职业学校教师职称制度改革的指导意见》，探索启动中等职业学校教师职称制度改革，做好整建制职称过渡工作。"
	metric28 = "学校通过校企合作、技术服务、社会培训、自办企业等项目所得扣除必要成本外的净收入，可提取60%用于劳动报酬。"
)

func TestShortMetric(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"short, unchanged", "加快九江卫生学校新校区建设。", "加快九江卫生学校新校区建设。"},
		{"30 characters and a full stop, unchanged", "全面推行1+X证书制度试点，覆盖全部中职学校和高职院校专业类。", "全面推行1+X证书制度试点，覆盖全部中职学校和高职院校专业类。"},
		{"spaces and lines collapsed", " 建设一批\n  实训基地 ", "建设一批 实训基地"},
		{"first clause", metric24, "落实中等职业学校教职工编制政策…"},
		{"first clause, another task", metric25, "完善职业院校教师招聘办法…"},
		{"a ratio's colon is no clause end", "生师比不低于20：1，落实公办职业学校不低于20%的编制员额按有关规定自主聘请兼职教师", "生师比不低于20：1…"},
		{"no cut inside a title's 、", metric26, "落实《人力资源社会保障部、教育部关于深化中等职业学校教师职称…"},
		{"a long first clause cut at an enumeration's 、", metric28, "学校通过校企合作、技术服务、社会培训…"},
		{"no cut inside a number", strings.Repeat("指", 28) + "35%以上达标", strings.Repeat("指", 28) + "…"},
		{"a lead-in is not the first clause", "一是：各县市区职业院校在校生规模达到普通高中，二是：稳定招生规模不减", "一是：各县市区职业院校在校生规模达到普通高中…"},
		{"English, at a comma", "Raise the share to 35%, and hold it there for three years at least", "Raise the share to 35%…"},
		{"English, at a space", "Raise the share of vocational enrolment steadily over three years", "Raise the share of vocational…"},
	} {
		if got := ShortMetric(tt.in); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestShortMetricRunes: whatever it is given, the result is whole characters, no longer than
// the limit and the ellipsis, and a prefix of the metric.
func TestShortMetricRunes(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("😀", 40),       // outside the BMP: a surrogate pair each in UTF-16
		strings.Repeat("👩‍💻", 20),     // joined emoji
		strings.Repeat("é", 50),       // two bytes each
		strings.Repeat("e\u0301", 40), // e and a combining accent
		strings.Repeat("指", 29) + "👩‍💻👩‍💻",
		strings.Repeat("指", 29) + "标😀😀😀😀", // the limit falls inside four-byte runes
		strings.Repeat("a", 100),          // one long Latin word
		strings.Repeat("1", 100),          // one long number
		metric24, metric26, metric28,
	} {
		got := ShortMetric(in)
		if !utf8.ValidString(got) {
			t.Errorf("ShortMetric(%q): got invalid UTF-8 %q", in, got)
		}
		if n := utf8.RuneCountInString(got); n > metricRunes+1 {
			t.Errorf("ShortMetric(%q): got %d runes, want at most %d", in, n, metricRunes+1)
		}
		kept := strings.TrimSuffix(got, "…")
		if !strings.HasPrefix(in, kept) {
			t.Errorf("ShortMetric(%q): got %q, want a prefix of it", in, got)
			continue
		}
		if rest := in[len(kept):]; strings.HasPrefix(rest, "\u200d") || strings.HasPrefix(rest, "\u0301") || strings.HasSuffix(kept, "\u200d") {
			t.Errorf("ShortMetric(%q): got %q, want no character cut from its marks or joiners", in, got)
		}
	}
}

// TestListsShowMetrics: tasks that share a goal are told apart by their metrics in /tasks and
// nudges, escaped like the rest.
func TestListsShowMetrics(t *testing.T) {
	at := time.Date(2021, 12, 31, 23, 59, 59, 0, time.UTC)
	goal := "打造“双师型”教师队伍"
	for _, lang := range []string{"zh", "en"} {
		tx := For(lang)
		lines := []TaskLine{
			{ID: 24, Goal: goal, Metric: metric24, Deadline: at, Status: store.StatusNotStarted},
			{ID: 25, Goal: goal, Metric: metric25, Deadline: at, Status: store.StatusNotStarted},
			{ID: 99, Goal: goal, Metric: "指标 <b>&</b>", Deadline: at, Status: store.StatusNotStarted},
		}
		var items []NudgeItem
		for _, l := range lines {
			items = append(items, NudgeItem{Task: l.ID, Goal: l.Goal, Metric: l.Metric, Deadline: at, Stage: "overdue", Status: l.Status})
		}
		for name, out := range map[string]string{
			"tasks":      tx.Tasks("市教育局", lines),
			"nudge many": tx.Nudge("市教育局", items),
		} {
			for _, want := range []string{"#24 " + goal, "落实中等职业学校教职工编制政策…", "完善职业院校教师招聘办法…", "指标 &lt;b&gt;&amp;&lt;/b&gt;"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s %s: got\n%s\nwant it to contain %q", lang, name, out, want)
				}
			}
		}
		one := tx.Nudge("市教育局", items[:1])
		if !strings.Contains(one, goal) || !strings.Contains(one, "落实中等职业学校教职工编制政策…") {
			t.Errorf("%s nudge one: got\n%s\nwant the goal and its metric", lang, one)
		}
		// No metric, no brackets.
		bare := tx.Tasks("市教育局", []TaskLine{{ID: 7, Goal: goal, Deadline: at}})
		if strings.Contains(bare, goal+"（") || strings.Contains(bare, goal+" (") {
			t.Errorf("%s tasks without a metric: got\n%s\nwant no empty brackets", lang, bare)
		}
	}
}

// TestStatusShowsAttachment: /status names the file of a department's last report, or says
// what it is when Telegram gives no name; a file without a caption still shows.
func TestStatusShowsAttachment(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	task := TaskLine{ID: 46, Goal: "保障职业教育用地需求", Deadline: at}
	for _, tt := range []struct {
		lang, text string
		file       *store.Attachment
		want       string
	}{
		{"zh", "用地指标已批复", &store.Attachment{Kind: "document", FileName: "用地<指标>批复.pdf"}, "王五：用地指标已批复 📎 用地&lt;指标&gt;批复.pdf"},
		{"zh", "", &store.Attachment{Kind: "photo"}, "王五：📎 图片"},
		{"zh", "", &store.Attachment{Kind: "voice"}, "王五：📎 语音"},
		{"zh", "", &store.Attachment{Kind: "sticker"}, "王五：📎 文件"},
		{"en", "", &store.Attachment{Kind: "video"}, "王五: 📎 video"},
		{"zh", "进行中", nil, "王五：进行中"},
	} {
		out := For(tt.lang).TaskStatus(task, "", []StatusLine{{Department: "市自然资源局", Status: store.StatusInProgress, At: at, Text: tt.text, By: "王五", Attachment: tt.file}})
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s %+v: got\n%s\nwant it to contain %q", tt.lang, tt.file, out, tt.want)
		}
		if tt.file == nil && strings.Contains(out, "📎") {
			t.Errorf("%s without a file: got\n%s\nwant no 📎", tt.lang, out)
		}
	}
}

func TestAdminOnlySaysHow(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		got := For(lang).AdminOnly(2001)
		if !strings.Contains(got, "telegram.admins") || !strings.Contains(got, "<code>2001</code>") {
			t.Errorf("%s AdminOnly(2001): got %q, want telegram.admins and the id 2001", lang, got)
		}
		// An anonymous admin's id is unknown: it is told where to find it.
		if got := For(lang).AdminOnly(0); !strings.Contains(got, "telegram.admins") || !strings.Contains(got, "/whoami") || strings.Contains(got, "<code>0</code>") {
			t.Errorf("%s AdminOnly(0): got %q, want telegram.admins and /whoami, no id 0", lang, got)
		}
	}
}

func TestWhoAmIPrivateOrGroup(t *testing.T) {
	zh := For("zh")
	private := zh.WhoAmI(2001, 2001, "", false, false, true)
	if !strings.Contains(private, "您的 ID：<code>2001</code>") || strings.Contains(private, "本群") || !strings.Contains(private, "telegram.admins") {
		t.Errorf("private: got %q, want your id, no 本群, and telegram.admins", private)
	}
	group := zh.WhoAmI(2001, -1001, "市教育局", false, false, false)
	if !strings.Contains(group, "本群 ID：<code>-1001</code>") || !strings.Contains(group, "<code>2001</code>") {
		t.Errorf("group: got %q, want the group's id and the user's", group)
	}
	if anon := zh.WhoAmI(0, -1001, "市教育局", false, false, false); strings.Contains(anon, "<code>0</code>") || !strings.Contains(anon, "/whoami") {
		t.Errorf("group, anonymous: got %q, want no id 0 and a pointer to /whoami in private", anon)
	}
	if en := For("en").WhoAmI(2001, 2001, "", true, false, true); !strings.Contains(en, "Your id: <code>2001</code>") || strings.Contains(en, "chat's id") {
		t.Errorf("en private: got %q, want your id and no chat id", en)
	}
}

func TestSnoozeTooLongNamesLimit(t *testing.T) {
	if got := For("zh").SnoozeTooLong(90); !strings.Contains(got, "最长 90 天") {
		t.Errorf("zh: got %q, want 最长 90 天", got)
	}
	if got := For("en").SnoozeTooLong(90); !strings.Contains(got, "90 days") {
		t.Errorf("en: got %q, want 90 days", got)
	}
}
