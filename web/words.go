package web

import (
	"fmt"

	"github.com/duban/duban/i18n"
)

// words is every text of the web view in one language. The statuses, colours and CSV header
// come from package i18n, so that they read as in the chats and the export; the rest is
// here, one table per language, and a test checks that no field is left empty.
type words struct {
	Lang                                          string // the html lang attribute
	Title, Overview, Tasks, Departments, Progress string
	Department, Task, Area, Goal, Metric, Target  string
	Status, Percent, Color, LastReport, By, At    string
	Deadline, DaysLeft, Lead, NotResponsible      string
	Filter, Search, All, Apply, Reset, Download   string
	ByArea, ColorCounts, OverdueByDept, Silence   string
	DueSoon, DaysSilent, Never, Unanswered        string
	Items, Open, NoChat, NoneRecorded, Count      string
	History, Reminders, Chain, ChainOK, ChainBad  string
	Correction, Attachment, Source, Hash, NoItems string
	ReminderKey, SentAt, DoneItems, Expected      string
	ProgressNote, Rows, Logout, Session           string
	LoginTitle, LoginText, LoginFailed, Limited   string
	Forbidden, ForbiddenText, OwnPage, NotFound   string
	Red, Yellow, Blue, NoColor                    string
	Overdue                                       func(days int) string
	Left                                          func(days int) string
	TotalTasks                                    func(tasks, items int) string

	texts *i18n.Texts
}

var zhWords = words{
	Lang: "zh-CN", Title: "督办台账", Overview: "总览", Tasks: "任务", Departments: "单位", Progress: "进度曲线",
	Department: "责任部门", Task: "任务", Area: "重点工作", Goal: "任务目标", Metric: "量化指标", Target: "目标值",
	Status: "状态", Percent: "进度(%)", Color: "预警", LastReport: "最近报送", By: "报送人", At: "报送时间",
	Deadline: "完成时限", DaysLeft: "剩余天数", Lead: "牵头", NotResponsible: "（已不在责任部门之列）",
	Filter: "筛选", Search: "搜索", All: "全部", Apply: "筛选", Reset: "清除", Download: "下载",
	ByArea: "各重点工作任务进展", ColorCounts: "三色督办", OverdueByDept: "各单位逾期事项", Silence: "单位沉默排行",
	DueSoon: "30 天内到期", DaysSilent: "未报送天数", Never: "从未报送", Unanswered: "催办未回复(次)",
	Items: "事项", Open: "未完成事项", NoChat: "未绑定群聊", NoneRecorded: "尚无报送", Count: "数量",
	History: "报送记录", Reminders: "已发送的催办", Chain: "记录校验", ChainOK: "哈希链校验通过：记录完整，未被改动。",
	ChainBad: "哈希链校验未通过：", Correction: "更正", Attachment: "附件", Source: "来源", Hash: "哈希", NoItems: "无",
	ReminderKey: "催办", SentAt: "发送时间", DoneItems: "已完成事项", Expected: "序时进度",
	ProgressNote: "实线：按报送记录累计的已完成事项（任务×责任部门）；虚线：按各任务起止时间计算的序时进度。",
	Rows:         "条", Logout: "退出登录", Session: "会话",
	LoginTitle: "请登录", LoginText: "本页面仅限授权人员查看。请在 Telegram 中向督办机器人发送 /web，获取一次性登录链接（10 分钟内有效，仅可使用一次）。",
	LoginFailed: "登录链接无效、已使用或已过期。", Limited: "尝试次数过多，请稍后再试。",
	Forbidden: "无权查看", ForbiddenText: "此登录仅可查看本单位的页面。", OwnPage: "本单位页面", NotFound: "未找到",
	Red: "红色", Yellow: "黄色", Blue: "蓝色", NoColor: "无预警",
	Overdue: func(d int) string { return fmt.Sprintf("逾期 %d 天", d) },
	Left:    func(d int) string { return fmt.Sprintf("剩余 %d 天", d) },
	TotalTasks: func(t, i int) string {
		return fmt.Sprintf("共 %d 项任务，%d 个事项（任务×责任部门）", t, i)
	},
}

var enWords = words{
	Lang: "en", Title: "Follow-up record", Overview: "Overview", Tasks: "Tasks", Departments: "Departments", Progress: "Progress",
	Department: "Department", Task: "Task", Area: "Key work", Goal: "Goal", Metric: "Metric", Target: "Target",
	Status: "Status", Percent: "Percent", Color: "Warning", LastReport: "Last report", By: "By", At: "Reported",
	Deadline: "Deadline", DaysLeft: "Days left", Lead: "lead", NotResponsible: "(no longer responsible)",
	Filter: "Filter", Search: "Search", All: "All", Apply: "Filter", Reset: "Clear", Download: "Download",
	ByArea: "Tasks by key work", ColorCounts: "Three-colour warnings", OverdueByDept: "Overdue items by department", Silence: "Departments by silence",
	DueSoon: "Due in 30 days", DaysSilent: "Days silent", Never: "never reported", Unanswered: "Nudges unanswered",
	Items: "items", Open: "Open items", NoChat: "no chat yet", NoneRecorded: "nothing reported", Count: "Count",
	History: "Updates", Reminders: "Reminders sent", Chain: "Record check", ChainOK: "The hash chain verifies: the record is complete and unaltered.",
	ChainBad: "The hash chain does not verify:", Correction: "correction", Attachment: "Attachment", Source: "Source", Hash: "Hash", NoItems: "none",
	ReminderKey: "Reminder", SentAt: "Sent", DoneItems: "Done items", Expected: "Expected (time elapsed)",
	ProgressNote: "Solid: done items (task × department) from the record; dashed: the share of each task's span elapsed.",
	Rows:         "rows", Logout: "Sign out", Session: "Session",
	LoginTitle: "Please sign in", LoginText: "This page is for authorised people only. Send /web to the bot in Telegram for a one-time sign-in link (valid 10 minutes, single use).",
	LoginFailed: "The sign-in link is unknown, used or expired.", Limited: "Too many attempts; try again later.",
	Forbidden: "Not allowed", ForbiddenText: "This sign-in shows your own department's page only.", OwnPage: "Your department's page", NotFound: "Not found",
	Red: "red", Yellow: "yellow", Blue: "blue", NoColor: "no warning",
	Overdue:    func(d int) string { return fmt.Sprintf("%d days overdue", d) },
	Left:       func(d int) string { return fmt.Sprintf("%d days left", d) },
	TotalTasks: func(t, i int) string { return fmt.Sprintf("%d tasks, %d items (task × department)", t, i) },
}

// wordsFor returns the words of config's language: "en", else Chinese, as i18n.For.
func wordsFor(lang string) *words {
	w := zhWords
	if lang == "en" {
		w = enWords
	}
	w.texts = i18n.For(lang)
	return &w
}

func (w *words) ColorName(c string) string {
	switch c {
	case "red":
		return w.Red
	case "yellow":
		return w.Yellow
	case "blue":
		return w.Blue
	}
	return w.NoColor
}

// ColorLabel is a colour as the chats and the export name it: "红色（逾期）".
func (w *words) ColorLabel(c string) string { return w.texts.ColorNames[c] }

func (w *words) Days(d int) string {
	if d < 0 {
		return w.Overdue(-d)
	}
	return w.Left(d)
}
