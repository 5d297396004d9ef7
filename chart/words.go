package chart

// words are the chart's and the caption's own words in one language. They live here rather
// than in i18n because i18n was being reworked by others when the chart was written; the
// status names come from i18n (i18n.For(lang).StatusNames), so the legend says what the
// digest and the nudges say.
type words struct {
	Title        string // date
	Summary      string // tasks, done, in progress, blocked, not started
	AreasTitle   string
	AreasNote    string
	OverdueTitle string // how many shown
	OverdueNone  string
	Unbound      string // marks a department without a chat
	UnboundNote  string // departments, their overdue items
	Items        string // count, after a department's bar
	Total        string // count, after an area's bar
	Placeholder  string // explains the placeholder glyph, shown only when one was drawn

	Caption        string // date
	CaptionTasks   string // tasks, done, in progress, blocked, not started
	CaptionColors  string // red, yellow, blue
	CaptionUnbound string // departments, their overdue items
}

var wordsZH = words{
	Title:        "督办周报  %s",
	Summary:      "共 %d 项任务：已完成 %d，进行中 %d，遇到困难 %d，未开始 %d",
	AreasTitle:   "各项重点工作进展",
	AreasNote:    "（按任务计：全部单位完成为已完成，任一单位遇到困难为遇到困难）",
	OverdueTitle: "逾期事项最多的单位（前 %d）",
	OverdueNone:  "没有逾期事项",
	Unbound:      "（未绑定）",
	UnboundNote:  "尚有 %d 个单位未绑定群聊，其 %d 项逾期任务待绑定后督办",
	Items:        "%d 项",
	Total:        "共 %d",
	Placeholder:  "〓 表示字库中没有的字",

	Caption:        "【督办周报】%s",
	CaptionTasks:   "\n%d 项任务：已完成 %d，进行中 %d，遇到困难 %d，未开始 %d",
	CaptionColors:  "\n🔴 逾期 %d 项 · 🟡 滞后或未回复 %d 项 · 🔵 临期 %d 项",
	CaptionUnbound: "\n%d 个单位未绑定群聊，其 %d 项逾期任务待绑定后督办",
}

var wordsEN = words{
	Title:        "Weekly digest  %s",
	Summary:      "%d tasks: %d done, %d in progress, %d blocked, %d not started",
	AreasTitle:   "Progress by area",
	AreasNote:    " (tasks: done when every department is, blocked when any is)",
	OverdueTitle: "Departments with the most overdue items (top %d)",
	OverdueNone:  "Nothing overdue",
	Unbound:      " (no chat)",
	UnboundNote:  "%d departments have no chat yet; their %d overdue items are escalated once they are bound",
	Items:        "%d",
	Total:        "%d",
	Placeholder:  "〓 marks a character the chart's font lacks",

	Caption:        "[Weekly digest] %s",
	CaptionTasks:   "\n%d tasks: %d done, %d in progress, %d blocked, %d not started",
	CaptionColors:  "\n🔴 overdue %d · 🟡 behind or unanswered %d · 🔵 due soon %d",
	CaptionUnbound: "\n%d departments have no chat yet; their %d overdue items wait for them to be bound",
}

// wordsFor follows i18n.For: "en" is English, anything else Chinese.
func wordsFor(lang string) *words {
	if lang == "en" {
		return &wordsEN
	}
	return &wordsZH
}
