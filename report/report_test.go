package report

import (
	"fmt"
	"testing"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

func ptr[T any](v T) *T { return &v }

func show(p Parsed) string {
	s := fmt.Sprintf("status=%q", p.Status)
	if p.Percent != nil {
		s += fmt.Sprintf(" percent=%d", *p.Percent)
	}
	if p.Value != nil {
		s += fmt.Sprintf(" value=%g", *p.Value)
	}
	return s
}

func TestParse(t *testing.T) {
	pctTarget := []config.Target{{Name: "高职院校招收中职毕业生比例", Min: ptr(35.0), Unit: "%"}}
	moneyTarget := []config.Target{{Name: "专项资金", Min: ptr(1200.0), Unit: "万元/年"}}
	tests := []struct {
		text    string
		targets []config.Target
		want    Parsed
	}{
		{"已完成", nil, Parsed{Status: store.StatusDone}},
		{"完成", nil, Parsed{Status: store.StatusDone}},
		{"done", nil, Parsed{Status: store.StatusDone}},
		{"Done, report filed", nil, Parsed{Status: store.StatusDone}},
		{"进行中", nil, Parsed{Status: store.StatusInProgress}},
		{"推进中 招生计划已下达", nil, Parsed{Status: store.StatusInProgress}},
		{"in progress", nil, Parsed{Status: store.StatusInProgress}},
		{"遇到困难：资金未到位", nil, Parsed{Status: store.StatusBlocked}},
		{"受阻", nil, Parsed{Status: store.StatusBlocked}},
		{"延期", nil, Parsed{Status: store.StatusBlocked}},
		{"blocked by funding", nil, Parsed{Status: store.StatusBlocked}},
		{"完成有困难", nil, Parsed{Status: store.StatusBlocked}},
		{"尚未完成", nil, Parsed{Status: store.StatusInProgress}},
		{"未开始", nil, Parsed{Status: store.StatusNotStarted}},
		{"undone", nil, Parsed{}},
		// A percent under 100 beats the word 完成.
		{"完成60%", nil, Parsed{Status: store.StatusInProgress, Percent: ptr(60)}},
		{"进行中，完成60%", nil, Parsed{Status: store.StatusInProgress, Percent: ptr(60)}},
		{"已完成 100%", nil, Parsed{Status: store.StatusDone, Percent: ptr(100)}},
		{"100%", nil, Parsed{Status: store.StatusDone, Percent: ptr(100)}},
		{"60％", nil, Parsed{Status: store.StatusInProgress, Percent: ptr(60)}},
		{"百分之六十", nil, Parsed{Status: store.StatusInProgress, Percent: ptr(60)}},
		{"完成百分之三十五", nil, Parsed{Status: store.StatusInProgress, Percent: ptr(35)}},
		{"百分之百", nil, Parsed{Status: store.StatusDone, Percent: ptr(100)}},
		{"遇到困难，完成30%", nil, Parsed{Status: store.StatusBlocked, Percent: ptr(30)}},
		{"已召开协调会，下周报送方案", nil, Parsed{}},
		{"150%", nil, Parsed{}},
		// A metric value only where the task has a numeric target.
		{"进行中 60%，招收比例达到36%", pctTarget, Parsed{Status: store.StatusInProgress, Percent: ptr(60), Value: ptr(36.0)}},
		{"比例36%", pctTarget, Parsed{Value: ptr(36.0)}},
		{"比例36%", nil, Parsed{Status: store.StatusInProgress, Percent: ptr(36)}},
		{"已完成，市本级安排1200万元", moneyTarget, Parsed{Status: store.StatusDone, Value: ptr(1200.0)}},
	}
	for _, tt := range tests {
		got := Parse(tt.text, &config.Task{Target: tt.targets})
		if show(got) != show(tt.want) {
			t.Errorf("Parse(%q): got %s, want %s", tt.text, show(got), show(tt.want))
		}
	}
}

func TestSplit(t *testing.T) {
	type item struct {
		Task        int
		Text, Lines string
	}
	tests := []struct {
		text     string
		hashOnly bool
		want     []item
	}{
		{"已完成", false, []item{{0, "已完成", "已完成"}}},
		{"#12 已完成", false, []item{{12, "已完成", "#12 已完成"}}},
		{"12 进行中 60%", false, []item{{12, "进行中 60%", "12 进行中 60%"}}},
		{"12、13 已完成", false, []item{{12, "已完成", "12、13 已完成"}, {13, "已完成", "12、13 已完成"}}},
		{"#12 #13 已完成", false, []item{{12, "已完成", "#12 #13 已完成"}, {13, "已完成", "#12 #13 已完成"}}},
		{"第12项：进行中", false, []item{{12, "进行中", "第12项：进行中"}}},
		{"12：进行中", false, []item{{12, "进行中", "12：进行中"}}},
		{"12. 已完成", false, []item{{12, "已完成", "12. 已完成"}}},
		// Each task gets only its own lines.
		{"#12 进行中 60%\n招生计划已下达\n#13 已完成", false, []item{
			{12, "进行中 60%\n招生计划已下达", "#12 进行中 60%\n招生计划已下达"},
			{13, "已完成", "#13 已完成"}}},
		{"#16 进行中\n#19 遇到困难 资金未到位", false, []item{
			{16, "进行中", "#16 进行中"}, {19, "遇到困难 资金未到位", "#19 遇到困难 资金未到位"}}},
		// A preamble is parsed with no task, but kept with each task's lines.
		{"各位领导：\n#12 已完成", false, []item{{12, "已完成", "各位领导：\n#12 已完成"}}},
		{"60% 完成", false, []item{{0, "60% 完成", "60% 完成"}}},
		{"2022年完成", false, []item{{0, "2022年完成", "2022年完成"}}},
		{"#12 进行中\n#12 附件已报", false, []item{{12, "进行中\n附件已报", "#12 进行中\n#12 附件已报"}}},
		{"12", false, []item{{12, "", "12"}}},
		// A leading number followed by a unit or a date is text, never a task.
		{"10 月底前完成", false, []item{{0, "10 月底前完成", "10 月底前完成"}}},
		{"10月底前完成", false, []item{{0, "10月底前完成", "10月底前完成"}}},
		{"3月15日已完成验收", false, []item{{0, "3月15日已完成验收", "3月15日已完成验收"}}},
		{"2027 年完成", false, []item{{0, "2027 年完成", "2027 年完成"}}},
		{"12号已完成", false, []item{{0, "12号已完成", "12号已完成"}}},
		{"5 个专业已完成申报", false, []item{{0, "5 个专业已完成申报", "5 个专业已完成申报"}}},
		{"3 所学校已达标", false, []item{{0, "3 所学校已达标", "3 所学校已达标"}}},
		{"10/31 前完成", false, []item{{0, "10/31 前完成", "10/31 前完成"}}},
		{"10.31 前完成", false, []item{{0, "10.31 前完成", "10.31 前完成"}}},
		{"60 % 完成", false, []item{{0, "60 % 完成", "60 % 完成"}}},
		{"15 天内完成", false, []item{{0, "15 天内完成", "15 天内完成"}}},
		// In a reply about a single task, only #N names another.
		{"12 已完成", true, []item{{0, "12 已完成", "12 已完成"}}},
		{"#12 已完成", true, []item{{12, "已完成", "#12 已完成"}}},
		{"12、13 已完成", true, []item{{0, "12、13 已完成", "12、13 已完成"}}},
	}
	commands := []struct {
		text string
		want []item
	}{
		// After /report, the first number is the task whatever follows it.
		{"16 年底前完成", []item{{16, "年底前完成", "16 年底前完成"}}},
		{"16 10 月底前完成", []item{{16, "10 月底前完成", "16 10 月底前完成"}}},
		{"16\n12月底前完成", []item{{16, "12月底前完成", "16\n12月底前完成"}}},
		{"年底前完成", []item{{0, "年底前完成", "年底前完成"}}},
	}
	for _, tt := range commands {
		var got []item
		for _, it := range Split(tt.text, SplitOptions{Command: true}) {
			got = append(got, item{it.Task, it.Text, it.Lines})
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("Split(%q, command): got %#v, want %#v", tt.text, got, tt.want)
		}
	}
	for _, tt := range tests {
		var got []item
		for _, it := range Split(tt.text, SplitOptions{HashOnly: tt.hashOnly}) {
			got = append(got, item{it.Task, it.Text, it.Lines})
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("Split(%q, hashOnly=%v): got %#v, want %#v", tt.text, tt.hashOnly, got, tt.want)
		}
	}
}

func TestChineseNumber(t *testing.T) {
	for in, want := range map[string]int{"六十": 60, "三十五": 35, "十五": 15, "十": 10, "五": 5, "一百": 100, "百": 100, "九十九": 99, "20": 20} {
		if got, ok := chineseNumber(in); !ok || got != want {
			t.Errorf("chineseNumber(%q): got %d, %v; want %d", in, got, ok, want)
		}
	}
	if _, ok := chineseNumber("六x"); ok {
		t.Error(`chineseNumber("六x"): got ok, want not a number`)
	}
}
