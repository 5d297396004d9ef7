package report

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/duban/duban/store"
)

// How a status is read. The rule that matters most: the text is read as done only when it
// says, without negation, future tense, a smaller object or a hedge, that the task is done,
// or gives 100%. Everything else that speaks of completion is either certainly not done
// (in progress, blocked) or uncertain, and then it is kept as a note and the department is
// asked (Doubt). A false "done" silences an item; asking costs one press.
//
// The text is cut into sentences (。；!? and line breaks) and clauses (，、 and the like).
// Each mention of completion (完成, 办结, 竣工, done, 100%, …) is read in its clause: what
// stands before it (negation, a modal or future marker, a hedge like 基本, a date, a past
// marker like 已, a subject like 招标 or 一期) and after it (an object like 招标 or 一半, or
// 不了). Words for difficulty, not started and in progress are found in every clause, each
// unless negated (没有困难) or resolved (困难已解决).

// Doubt says why a mention of completion was not taken as done. The update is recorded as a
// note and the department is asked, with buttons, what to record.
type Doubt string

// The doubts.
const (
	DoubtNone   Doubt = ""
	DoubtDate   Doubt = "date"   // "10月底前完成": a deadline ahead, or the day it was done?
	DoubtPart   Doubt = "part"   // "已完成招标": a step of the task, or the task?
	DoubtMostly Doubt = "mostly" // "基本完成": nearly, or wholly?
	DoubtMixed  Doubt = "mixed"  // "已完成，正在整理材料": done, and still going?
)

// reading is what the clauses of a text say, before they are weighed.
type reading struct {
	blocked, notStarted, inProgress bool
	pending                         bool // a clause takes back part of it: "但验收尚未进行"
	done                            bool // a certain, whole-task completion
	notDone                         bool // completion negated, ahead, nearly or of a part
	doubts                          []Doubt
	fraction                        *int // "完成一半", "三分之二": a share done, in percent
	full                            bool // "100%" read as done
}

// Words for each signal, most specific first within a list. Chinese words match anywhere;
// English words match whole words only ("undone" is not "done").
var (
	blockedWords = words(
		"遇到困难", "存在困难", "困难", "受阻", "阻力", "阻碍", "卡住", "卡壳", "停滞", "停工", "暂停", "搁置",
		"延期", "延迟", "延误", "推迟", "延后", "拖延", "滞后", "缓慢", "逾期",
		"未到位", "没到位", "不到位", "没有到位", "未落实", "没落实", "没有落实", "尚未落实", "还未落实",
		"缺口", "短缺", "不足", "无法", "难以", "来不及", "完不成", "难度", "压力较大", "压力大", "有压力", "问题较多", "存在问题",
		"blocked", "stuck", "delayed", "delay", "behind schedule", "postponed", "on hold", "shortage", "lack of",
		"unable", "cannot", "can't", "problem", "problems",
	)
	notStartedWords = words(
		"尚未开始", "还没开始", "还未开始", "没有开始", "没开始", "未开始",
		"尚未启动", "还没启动", "还未启动", "没有启动", "未启动",
		"尚未开展", "还没开展", "还未开展", "没有开展", "未开展",
		"尚未动工", "未动工", "尚未开工", "未开工", "还没动",
		"not started", "not yet started", "not begun", "yet to start", "haven't started", "has not started",
		"not_started",
	)
	inProgressWords = words(
		"进行中", "推进中", "正在", "实施中", "在建", "施工中", "建设中", "开展中", "办理中", "审批中", "在办",
		"推进", "已启动", "已开工", "已动工", "已开始", "已开展", "进展顺利", "有序开展", "待验收", "未验收",
		"尚未验收", "待审批", "扫尾", "过半", "not yet",
		"in progress", "in_progress", "ongoing", "underway", "under way", "working on", "on track", "progressing",
		"started",
	)
	// completionWords are mentions of completion. Noun uses (完成率, 完成时限) are not.
	completionWords = words(
		"完成", "办结", "完工", "竣工", "建成", "落实到位", "落实完毕", "通过验收", "完毕",
		"做完", "办完", "干完", "搞定",
		"done", "completed", "complete", "finished", "finish", "accomplished",
	)
	// Before a difficulty word: it is denied or overcome ("没有困难", "克服困难").
	denials = []string{"没有", "没", "无", "未", "不", "未遇到", "没遇到", "不存在", "未发现", "克服", "解决", "no", "without", "not"}
	// After a difficulty word: it is overcome ("困难已解决").
	resolutions = []string{"已解决", "已克服", "已排除", "得到解决", "已协调解决", "已化解"}
)

// Around a completion word.
var (
	inabilityWords = words(inability...)
	negationWords  = words(negations...)
	futureWords    = words(futures...)
	aheadWords     = words(longWords(futures, "will", "going to", "expected", "plan to", "planned", "aim to", "scheduled")...)
	partWordList   = words(partWords...)
	hundredDenials = words("未", "没", "不", "not")
)

var (
	nounAfter = []string{"率", "情况", "进度", "时限", "时间", "节点", "期限", "比例", "数", "度", "值", "量"}
	// Inability and failure: blocked ("无法按期完成", "未能完成", "任务未按时完成").
	inability = []string{"无法", "没法", "没办法", "不能", "难以", "不可能", "不会", "来不及", "无力", "未能", "没能", "未按期", "未按时", "未如期",
		"没有按期", "没有按时", "没按期", "没按时", "unable to", "cannot", "can't", "couldn't", "won't", "failed to", "not able to"}
	inabilityAfter = []string{"不了", "不到", "不成", "不够"}
	// Not yet: in progress ("尚未完成", "not done yet").
	negations = []string{"尚未", "还未", "还没有", "还没", "没有", "未", "没", "不", "待", "not yet", "not", "n't", "never", "yet to be", "yet to"}
	// Ahead: in progress ("预计年底完成", "确保按期完成", "will be done").
	futures = []string{"预计", "计划", "力争", "确保", "争取", "有望", "可望", "预期", "拟", "准备", "打算", "将于", "将在", "将",
		"要", "需要", "需", "仍需", "尚需", "还需", "应当", "应", "须", "必须", "务必", "可以", "能够", "能", "可", "有待",
		"是否", "能否", "可否", "应该", "即将", "马上", "就要", "快要", "快", "接近", "几乎", "尽快", "尽早", "抓紧", "加快", "下一步", "下阶段", "明年",
		"will", "going to", "expected to", "expect to", "plan to", "planned", "aim to", "scheduled", "to be", "soon", "almost", "nearly", "about to"}
	// A share, not the whole: in progress ("大部分完成", "部分完成").
	partialBefore = []string{"大部分", "一部分", "部分", "大半", "大体", "大致", "多半", "过半", "一半", "局部", "个别",
		"partly", "partially", "mostly", "half"}
	// A hedge: ask ("基本完成", "初步完成").
	hedges = []string{"基本", "初步", "大体上", "largely", "basically", "substantially"}
	// A guess anywhere before the word: ask ("我理解是已经完成了", "应该是完成了").
	guesses = words("我理解", "理解是", "应该是", "可能", "估计", "大概", "好像", "似乎", "据了解", "据说", "听说", "大约",
		"i think", "i believe", "probably", "maybe", "perhaps", "should be", "seems", "seem to")
	// A clause opening with these takes back some of a completion said before it ("已完成，但验收
	// 尚未进行", "已完成（待审计）", "已完成，还有部分资料需要补充"): done and not done, so ask.
	pendings = []string{"但是", "但", "不过", "然而", "只是", "可是", "仍有", "还有", "尚有", "仍需", "尚需", "还需", "需要", "需",
		"尚待", "有待", "待", "尚未", "还未", "仍未", "还没", "未", "but", "however", "still", "pending", "except"}
	// Past: 已 directly before the word, possibly with a date between ("已于10月底完成").
	pasts = []string{"已经", "业已", "已", "has been", "have been", "was", "were", "has", "have", "already"}
	// Adverbs that change nothing, stripped to find what governs the word.
	neutral = []string{"全部", "全面", "全都", "均", "都", "皆", "全", "也", "早就", "就", "早", "刚刚", "刚", "顺利地", "已全部", "办理", "圆满", "顺利", "按期", "按时", "如期", "提前", "超额", "按要求",
		"按计划", "高质量", "基本上", "successfully", "fully", "all", "now", "been", "is", "are", "be", "the", "on time", "ahead of schedule"}
	// Subjects and objects that stand for the whole task.
	wholeWords = []string{"任务", "工作", "全部", "所有", "各项", "全年", "年度", "目标", "本项", "该项", "此项", "这项", "建设",
		"验收", "整改", "办理", "项目", "工程", "既定", "完成率", "完成情况", "情况", "状态", "进展", "进度", "整体", "总体",
		"完成", "完工", "竣工", "办结", "建成", "落实", "相关", "上述", "以上", "指标", "达标", "本任务", "该任务", "全部任务",
		"task", "tasks", "work", "it", "all", "everything", "complete", "completed", "done", "finished", "status", "progress", "this", "we", "i", "i'm", "we're", "i am", "we are", "i've", "we've", "project", "target", "targets", "goal"}
	// Subjects and objects that are a part of the task: in progress ("一期已完成").
	partWords = []string{"一期", "首期", "第一期", "第一批", "首批", "第一阶段", "一阶段", "初期", "其中", "阶段性", "第一步",
		"phase 1", "phase one", "first phase", "part of", "some"}
	// Who is reporting, as a subject: "我局已完成", "湖口县已完成".
	reporterRe = regexp.MustCompile(`^(?:我|本)[\p{Han}]{0,3}$|^[\p{Han}（）()]{1,20}(?:局|委员会|委|办公室|办|政府|学校|学院|中心|单位|部门|县|区|市)$`)
	fillerRe   = regexp.MustCompile(`截至目前|截止目前|截至|截止|目前|现在|当前|现|经过努力|经努力|通过努力|经过|今年|本年度|本年`)
)

// Dates and times that lead a completion ("10 月底前", "2027年", "年底前", "by October").
var dateRe = regexp.MustCompile(`(?:\d{2,4}\s*年\s*)?\d{1,2}\s*月(?:份)?\s*(?:\d{1,2}\s*[日号])?|\d{2,4}\s*年|\d{1,2}\s*[日号]|` +
	`[一二三四五六七八九十两\d]+\s*个?\s*(?:月|天|周|星期|工作日)|` +
	`年底|年末|年内|年中|年初|月底|月末|月初|月中|上旬|中旬|下旬|上半年|下半年|[一二三四1-4]\s*季度|本月|下月|本周|下周|近期|近日|近期内|` +
	`上月|上周|去年|前不久|日前|此前|昨天|今天|前天|上午|下午|晚上|今日|昨日|底|初|末|前|以前|之前|之内|内|于|在|` +
	`\b(?:by|before|in|on|at|end of|by the end of|the end of)\b|` +
	`\b(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|today|yesterday|last week|this week|next week|month|year|q[1-4])\b`)

// fractionRe is a share written in words: 三分之二, 一半, 六成.
var (
	fractionRe = regexp.MustCompile(`([一二三四五六七八九十两\d]+)分之([一二三四五六七八九十两\d]+)`)
	tenthsRe   = regexp.MustCompile(`([一二三四五六七八九])成`)
)

// wordList is a list of words to find: Chinese anywhere, English as whole words.
type wordList struct {
	chinese       []string
	byFirst       *[256][]string // the Chinese words by their first byte, longest first
	english       *regexp.Regexp // any of the English words, whole
	englishSuffix *regexp.Regexp // one of them ending the text
	englishFirst  *[256]bool     // the English words' first bytes: a text without one has none
}

// mayHaveEnglish reports whether s has a byte that one of the English words starts with:
// without one no English word can occur, and the regexps, most of what reading Chinese
// text cost, are not run.
func (l wordList) mayHaveEnglish(s string) bool {
	if l.english == nil {
		return false
	}
	for i := 0; i < len(s); i++ {
		if l.englishFirst[s[i]] {
			return true
		}
	}
	return false
}

func words(ws ...string) wordList {
	var l wordList
	var english []string
	first := new([256]bool)
	for _, w := range ws {
		if isASCII(w) {
			english = append(english, regexp.QuoteMeta(w))
			if w != "" {
				first[w[0]] = true
			}
		} else {
			l.chinese = append(l.chinese, w)
		}
	}
	l.byFirst = new([256][]string)
	for _, w := range l.chinese {
		l.byFirst[w[0]] = append(l.byFirst[w[0]], w)
	}
	for i := range l.byFirst {
		slices.SortStableFunc(l.byFirst[i], func(a, b string) int { return len(b) - len(a) })
	}
	if len(english) > 0 {
		l.englishFirst = first
		l.english = regexp.MustCompile(`\b(?:` + strings.Join(english, "|") + `)\b`)
		l.englishSuffix = regexp.MustCompile(`\b(?:` + strings.Join(english, "|") + `)$`)
	}
	return l
}

// contains reports whether any of the words occurs in s.
func (l wordList) contains(s string) bool {
	for _, w := range l.chinese {
		if strings.Contains(s, w) {
			return true
		}
	}
	return l.mayHaveEnglish(s) && l.english.MatchString(s)
}

// endsIn reports whether s ends with one of the words.
func (l wordList) endsIn(s string) bool {
	for _, w := range l.chinese {
		if strings.HasSuffix(s, w) {
			return true
		}
	}
	return l.mayHaveEnglish(s) && l.englishSuffix.MatchString(s)
}

// spans returns where the list's words occur in s, the longest first at each place.
func (l wordList) spans(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		best := 0
		for _, w := range l.byFirst[s[i]] { // longest first: the first that fits is the best
			if strings.HasPrefix(s[i:], w) {
				best = len(w)
				break
			}
		}
		if best > 0 {
			out = append(out, [2]int{i, i + best})
			i += best
			continue
		}
		i++
	}
	if l.mayHaveEnglish(s) {
		for _, m := range l.english.FindAllStringIndex(s, -1) {
			out = append(out, [2]int{m[0], m[1]})
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// normalize folds what people type in many ways: full-width digits, letters and signs,
// capitals, spaces between Chinese phrases. Positions in the result are what the reader works on.
func normalize(text string) string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ':
			r = r - '０' + '0'
		case r == '％':
			r = '%'
		case r == '：':
			r = ':'
		case r == '．':
			r = '.'
		case r == '\u3000':
			r = ' '
		case r == '’':
			r = '\''
		}
		b.WriteRune(unicode.ToLower(r))
	}
	// Between Chinese words a space ends a phrase, as a comma would: "已完成 验收材料已报".
	rs := []rune(b.String())
	for i := 1; i+1 < len(rs); i++ {
		if rs[i] == ' ' && unicode.Is(unicode.Han, rs[i-1]) && unicode.Is(unicode.Han, rs[i+1]) {
			rs[i] = '，'
		}
	}
	return string(rs)
}

// cut splits s at every rune of seps and returns the pieces with the separator that ends
// each (0 for the last). A full stop between digits (99.5) cuts nothing.
func cut(s string, seps string) (pieces []string, ends []rune) {
	start := 0
	for i, r := range s {
		if !strings.ContainsRune(seps, r) {
			continue
		}
		if r == '.' && i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]) {
			continue
		}
		pieces, ends = append(pieces, s[start:i]), append(ends, r)
		start = i + utf8.RuneLen(r)
	}
	return append(pieces, s[start:]), append(ends, 0)
}

const (
	sentenceSeps = "。；;！!？?\n"
	clauseSeps   = "，,、.…（）()"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// read gathers the signals of every clause of the (normalized) text.
func read(lower string, taskText string) reading {
	var r reading
	sentences, ends := cut(lower, sentenceSeps)
	for i, sentence := range sentences {
		if isQuestion(sentence, ends[i]) {
			continue // "已完成？" asks; it reports nothing
		}
		clauses, _ := cut(sentence, clauseSeps)
		for _, clause := range clauses {
			r.readClause(strings.TrimSpace(clause), taskText)
		}
	}
	return r
}

func (r *reading) readClause(c string, taskText string) {
	if c == "" {
		return
	}
	if hasPrefixAny(c, pendings) && !deniesTrouble(c) {
		r.pending = true
	}
	masked := c
	mask := func(sp [2]int) {
		masked = masked[:sp[0]] + strings.Repeat("\x00", sp[1]-sp[0]) + masked[sp[1]:]
	}
	for _, sp := range notStartedWords.spans(c) {
		r.notStarted = true
		mask(sp)
	}
	for _, sp := range blockedWords.spans(masked) {
		if denied(masked[:sp[0]], masked[sp[1]:]) {
			mask(sp)
			continue
		}
		// "无法"/"难以"/"cannot" before a completion word is read with that word below.
		if inabilityWords.contains(masked[sp[0]:sp[1]]) && isInabilityBeforeCompletion(masked, sp) {
			continue
		}
		r.blocked = true
		mask(sp)
	}
	for _, m := range completionMentions(masked) {
		r.readCompletion(masked, m, taskText)
		mask(m)
	}
	for _, sp := range inProgressWords.spans(masked) {
		if strings.ContainsRune(masked[sp[0]:sp[1]], 0) {
			continue
		}
		r.inProgress = true
	}
	if f := fraction(c); f != nil && r.fraction == nil {
		r.fraction = f
	}
}

// isQuestion reports a sentence that ends in a question mark or a question particle.
func isQuestion(sentence string, end rune) bool {
	t := strings.TrimSpace(sentence)
	return end == '?' || end == '？' || strings.HasSuffix(t, "吗") || strings.HasSuffix(t, "么") || strings.HasSuffix(t, "呢")
}

// deniesTrouble reports a clause that opens by denying a difficulty ("未遇到困难"): no
// taking back.
func deniesTrouble(c string) bool {
	for _, sp := range blockedWords.spans(c) {
		if denied(c[:sp[0]], c[sp[1]:]) {
			return true
		}
	}
	return false
}

// denied reports a difficulty that is denied before it or resolved after it.
func denied(before, after string) bool {
	before = strings.TrimRight(before, " \x00")
	for _, d := range denials {
		if strings.HasSuffix(before, d) || (strings.HasSuffix(strings.TrimRight(before, "遇到存在发现有"), d)) {
			return true
		}
	}
	after = strings.TrimLeft(after, " ,，:")
	for _, res := range resolutions {
		if strings.HasPrefix(after, res) || strings.HasPrefix(strings.TrimLeft(after, "均都也现"), res) {
			return true
		}
	}
	return false
}

// isInabilityBeforeCompletion: "无法按期完成" is read as one phrase at the completion word.
func isInabilityBeforeCompletion(c string, sp [2]int) bool {
	rest := c[sp[1]:]
	for _, m := range completionMentions(rest) {
		between := strings.TrimSpace(rest[:m[0]])
		return len([]rune(between)) <= 6
	}
	return false
}

// completionMentions finds the completion words of a clause, and "100%", but not noun uses
// (完成率85%) or a difficulty's mask.
func completionMentions(c string) [][2]int {
	var out [][2]int
	for _, sp := range completionWords.spans(c) {
		after := c[sp[1]:]
		noun := false
		for _, n := range nounAfter {
			if strings.HasPrefix(after, n) {
				noun = true
			}
		}
		if !noun {
			out = append(out, sp)
		}
	}
	for _, m := range hundredRe.FindAllStringSubmatchIndex(c, -1) {
		out = append(out, [2]int{m[2], m[3]})
	}
	// 落实 alone is a verb of every plan ("抓好落实"); only "已落实" closing a clause says done.
	if m := implementedRe.FindStringSubmatchIndex(c); m != nil {
		out = append(out, [2]int{m[2], m[3]})
	}
	return out
}

var (
	hundredRe     = regexp.MustCompile(`(?:^|[^\d.])(100(?:\.0+)?\s*%|百分之百|百分之一百)`)
	implementedRe = regexp.MustCompile(`已(?:经|全部)?(落实)\s*$`)
)

// readCompletion weighs one mention of completion with what surrounds it in its clause.
func (r *reading) readCompletion(c string, m [2]int, taskText string) {
	before := strings.TrimRight(c[:m[0]], " ")
	after := strings.TrimLeft(c[m[1]:], " ")
	word := c[m[0]:m[1]]
	isHundred := strings.Contains(word, "100") || strings.Contains(word, "百分之")

	// Inability and failure, then a plain "not yet", anywhere before the word in its clause.
	if inabilityWords.contains(tail(before, 10)) || hasPrefixAny(after, inabilityAfter) {
		r.blocked = true
		return
	}
	if isHundred && hundredDenials.contains(tail(before, 6)) {
		r.notDone = true
		return
	}
	if negated(before) || strings.HasPrefix(after, "not yet") || strings.HasPrefix(after, "yet") {
		r.notDone = true
		return
	}

	if guesses.contains(before) {
		r.doubts = append(r.doubts, DoubtMostly)
		return
	}

	// Strip the neutral adverbs right before the word to see what governs it, and look for a
	// past marker over dates and adverbs ("已于10月底完成", "已提前一个月完成").
	gov := stripTrailing(before, neutral)
	past := false
	for probe := gov; ; {
		if g, ok := trimSuffixAny(probe, pasts); ok {
			past, gov = true, stripTrailing(g, neutral)+gov[len(probe):]
			break
		}
		// One date at a time, then adverbs: "提前" must not lose its 前 to the dates.
		next, _ := trimDateSuffix(probe)
		if next = stripTrailing(next, neutral); next == probe {
			break
		}
		probe = next
	}
	if strings.HasPrefix(after, "了") && !past {
		// "完成了" is past, unless it is ahead ("快完成了") — checked below.
		past = true
	}
	after = strings.TrimLeft(strings.TrimPrefix(after, "了"), " ")

	if hasFutureMarker(gov, before, past) {
		r.notDone = true
		return
	}
	if g, ok := trimSuffixAny(gov, partialBefore); ok {
		_ = g
		r.notDone = true
		return
	}
	if _, ok := trimSuffixAny(gov, hedges); ok {
		r.doubts = append(r.doubts, DoubtMostly)
		return
	}
	// What was completed: the object after the word ("已完成招标", "完成一半").
	switch objectKind(after, taskText) {
	case kindPart:
		r.notDone = true
		return
	case kindStep:
		r.doubts = append(r.doubts, DoubtPart)
		return
	}
	// Who or what was completed, before the word ("招标已完成", "一期已完成").
	subject, dated := subjectOf(gov)
	switch subjectKind(subject, taskText) {
	case kindPart:
		r.notDone = true
		return
	case kindStep:
		r.doubts = append(r.doubts, DoubtPart)
		return
	}
	if dated && !past {
		r.doubts = append(r.doubts, DoubtDate)
		return
	}
	if strings.HasPrefix(after, "by ") || strings.HasPrefix(after, "before ") {
		r.doubts = append(r.doubts, DoubtDate)
		return
	}
	r.done, r.full = true, isHundred
}

// negated reports a plain negation governing the word: 未/没/尚未/not near its end.
func negated(before string) bool {
	t := tail(before, 8)
	if strings.IndexFunc(t, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0 {
		t = tail(before, 20) // English words are longer
	}
	for _, skip := range []string{"不断", "不折不扣", "不仅", "不少", "未来", "毫不", "没说"} {
		t = strings.ReplaceAll(t, skip, "")
	}
	return negationWords.contains(t) || strings.Contains(t, "n't")
}

// hasFutureMarker finds a marker of intent or time ahead governing the word: right before it
// for every marker (要, 能, 将, will), anywhere before it in the clause for the longer ones
// (预计, 力争, 确保, expected) unless 已 directly precedes the word.
func hasFutureMarker(gov, before string, past bool) bool {
	if g, _ := trimTimes(gov); futureWords.endsIn(g) {
		return true
	}
	return !past && aheadWords.contains(before)
}

type objKind int

const (
	kindWhole objKind = iota
	kindPart
	kindStep
)

// objectKind reads what follows a completion word: nothing or the whole task, a share of it
// (一半, 三分之二, 大部分), or a step of it (招标, 前期调研).
func objectKind(after, taskText string) objKind {
	obj := cleanPhrase(leadingWords(after))
	if obj == "" {
		return kindWhole
	}
	// "完工并通过验收": a second completion follows; it is read on its own.
	for _, and := range []string{"并且", "并", "且", "和", "及"} {
		if rest, ok := strings.CutPrefix(obj, and); ok && (completionWords.endsIn(firstWord(rest)) || hasPrefixAny(rest, completionWords.chinese)) {
			return kindWhole
		}
	}
	if fraction(obj) != nil || hasPrefixAny(obj, partialBefore) || hasPrefixAny(obj, partWords) {
		return kindPart
	}
	if isASCII(obj) {
		switch {
		case hasPrefixAny(obj, []string{"on ", "in ", "at ", "yesterday", "today", "last ", "ahead", "as ", "and ", "successfully", "fully", "already"}),
			isDateLike(obj):
			return kindWhole
		}
		obj = strings.TrimPrefix(strings.TrimPrefix(obj, "the "), "all ")
	}
	return wholeOrStep(obj, taskText)
}

// cleanPhrase drops what names no thing from a subject or object: a percent (the percent
// decides: "完成100%的前期工作" is about 前期工作), particles (完成啦), marks (已完成✅).
func cleanPhrase(s string) string {
	s = percentLabelRe.ReplaceAllString(s, "")
	s = strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '#' })
	for {
		t := strings.TrimLeft(s, "的了啦啊呀哈喽咯哦嘛 ")
		if t == s {
			return s
		}
		s = t
	}
}

var percentLabelRe = regexp.MustCompile(`\d{1,3}(?:\.\d+)?\s*%|百分之[零〇一二两三四五六七八九十百\d]+`)

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// subjectOf strips from the text before a completion word what does not name the thing
// completed: time fillers, dates, the reporter. It reports whether a date was there.
func subjectOf(gov string) (string, bool) {
	// What a completion read before it in the clause says is its own ("完工并通过验收").
	if i := strings.LastIndexByte(gov, 0); i >= 0 {
		if rest := gov[i+1:]; hasPrefixAny(strings.TrimSpace(rest), []string{"并", "且", "和", "及"}) {
			gov = strings.TrimLeft(rest, "并且和及 ")
		} else {
			gov = strings.ReplaceAll(gov, "\x00", "") // "前期工作完成100%": the subject stands before both
		}
	}
	// Fillers first: "目前" ends in 前, which is also a date's word.
	s, dated := trimTimes(strings.TrimSpace(fillerRe.ReplaceAllString(gov, "")))
	s = cleanPhrase(s)
	s = strings.TrimSpace(fillerRe.ReplaceAllString(s, ""))
	if d := dateRe.ReplaceAllString(s, ""); d != s {
		if strings.TrimSpace(strings.Trim(d, " :")) == "" {
			dated = true
		}
	}
	return strings.TrimPrefix(strings.Trim(s, " :,"), "#"), dated
}

func subjectKind(subject, taskText string) objKind {
	subject = strings.TrimSpace(subject)
	if subject == "" || reporterRe.MatchString(subject) {
		return kindWhole
	}
	if partWordList.contains(subject) || hasPrefixAny(subject, partialBefore) {
		return kindPart
	}
	if isASCII(subject) {
		fields := strings.Fields(subject)
		last := fields[len(fields)-1]
		if slices.Contains(wholeWords, last) || slices.Contains([]string{"has", "have", "been", "is", "was", "are", "were", "fully", "all", "now", "already", "successfully"}, last) {
			return kindWhole
		}
	}
	return wholeOrStep(subject, taskText)
}

// wholeOrStep decides between the whole task and a step of it: words for the whole, or words
// of the task's own goal and metric, are the whole; anything else is a step, to be asked.
func wholeOrStep(s, taskText string) objKind {
	s = strings.TrimSpace(s)
	rest := s
	for {
		trimmed := false
		for _, w := range wholeWords {
			if isASCII(w) {
				continue
			}
			if strings.HasSuffix(rest, w) {
				rest, trimmed = strings.TrimSuffix(rest, w), true
			}
			if strings.HasPrefix(rest, w) {
				rest, trimmed = strings.TrimPrefix(rest, w), true
			}
		}
		rest = strings.Trim(rest, " 的和及与已该本此这")
		if !trimmed {
			break
		}
	}
	if rest == "" || reporterRe.MatchString(rest) {
		return kindWhole
	}
	if isASCII(rest) {
		f := strings.Fields(rest)
		if len(f) > 0 && slices.Contains(wholeWords, f[0]) {
			return kindWhole
		}
	}
	if inTaskText(rest, taskText) {
		return kindWhole
	}
	return kindStep
}

// inTaskText reports whether a phrase is the task's own words: four runes of it in a row (or
// all of it, if shorter but at least two) appear in the task's goal or metric.
func inTaskText(phrase, taskText string) bool {
	if taskText == "" {
		return false
	}
	rs := []rune(phrase)
	n := 4
	if len(rs) < n {
		n = len(rs)
	}
	if n < 2 {
		return false
	}
	for i := 0; i+n <= len(rs); i++ {
		if strings.Contains(taskText, string(rs[i:i+n])) {
			return true
		}
	}
	return false
}

// leadingWords is the phrase right after a word, up to punctuation.
func leadingWords(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ",，:;。.!?()（）"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.Trim(s, "\x00"))
}

func isDateLike(s string) bool {
	m := dateRe.FindStringIndex(s)
	return m != nil && m[0] == 0
}

// trimDateSuffix strips one date or time expression ending s.
func trimDateSuffix(s string) (string, bool) {
	s = strings.TrimRight(s, " ")
	if !mayEndInDate(s) {
		return s, false
	}
	best := -1
	for _, m := range dateRe.FindAllStringIndex(s, -1) {
		if m[1] == len(s) && (best < 0 || m[0] < best) {
			best = m[0]
		}
	}
	if best < 0 {
		return s, false
	}
	return s[:best], true
}

// dateEnds are the runes a dateRe match can end with, besides ASCII letters and digits (the
// English words, q1–q4) and \s: a text ending in anything else ends in no date, and
// trimDateSuffix, run on every clause until nothing more comes off, skips the regexp.
// TestMayEndInDate checks it against the regexp itself.
const dateEnds = "年月份日号天周期底末内中初旬度久前午上于在"

func mayEndInDate(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	switch {
	case r == utf8.RuneError:
		return s != ""
	case r < utf8.RuneSelf:
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' ||
			r == '\t' || r == '\n' || r == '\f' || r == '\r' || r == ' '
	}
	return strings.ContainsRune(dateEnds, r)
}

// trimTimes strips the dates, times and neutral adverbs ending s, one at a time so that
// "提前" keeps its 前 from the dates ("已提前一个月", "于10月底前"), and reports whether a date
// was there.
func trimTimes(s string) (string, bool) {
	dated := false
	for {
		t, d := trimDateSuffix(stripTrailing(s, neutral))
		t = strings.TrimSpace(t)
		dated = dated || d
		if t == s {
			return s, dated
		}
		s = t
	}
}

func stripTrailing(s string, list []string) string {
	for {
		s = strings.TrimRight(s, " ")
		t, ok := trimSuffixAny(s, list)
		if !ok {
			return s
		}
		s = t
	}
}

func trimSuffixAny(s string, list []string) (string, bool) {
	s = strings.TrimRight(s, " ")
	for _, w := range list {
		if strings.HasSuffix(s, w) {
			if isASCII(w) && len(s) > len(w) && isWordByte(s[len(s)-len(w)-1]) {
				continue
			}
			return s[:len(s)-len(w)], true
		}
	}
	return s, false
}

func isWordByte(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || isDigit(c) }

// longWords is the Chinese words of list of two runes or more, and the English words given:
// the markers that govern a word from anywhere before it.
func longWords(list []string, english ...string) []string {
	var out []string
	for _, w := range list {
		if !isASCII(w) && utf8.RuneCountInString(w) >= 2 {
			out = append(out, w)
		}
	}
	return append(out, english...)
}

func hasPrefixAny(s string, list []string) bool {
	for _, w := range list {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// tail is the last n runes of s.
func tail(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		rs = rs[len(rs)-n:]
	}
	return string(rs)
}

// fraction reads a share written in words: 一半 is 50, 三分之二 66, 六成 60. Shares are
// rounded down, so that no share reads as 100 unless it is whole.
func fraction(s string) *int {
	if strings.Contains(s, "一半") || strings.Contains(s, "half") {
		v := 50
		return &v
	}
	if m := fractionRe.FindStringSubmatch(s); m != nil {
		den, ok1 := chineseNumber(m[1])
		num, ok2 := chineseNumber(m[2])
		if ok1 && ok2 && den > 0 && num <= den {
			v := num * 100 / den
			return &v
		}
	}
	if m := tenthsRe.FindStringSubmatchIndex(s); m != nil {
		before := s[:m[0]]
		if strings.HasSuffix(before, "完成") || strings.HasSuffix(before, "完成了") || strings.HasSuffix(before, "约") ||
			strings.HasSuffix(before, "近") || strings.HasSuffix(before, "超过") || strings.HasSuffix(before, "进度") {
			n, _ := chineseNumber(s[m[2]:m[3]])
			v := n * 10
			return &v
		}
	}
	return nil
}

// status weighs the signals: trouble first, then what is certainly not done, then done, then
// doubts. percent is the progress percent given, if any (below 100: not done).
func (r reading) status(percent *int) (store.Status, Doubt) {
	switch {
	case r.blocked:
		return store.StatusBlocked, DoubtNone
	case r.notStarted && !r.inProgress && !r.done && !r.notDone && percent == nil:
		return store.StatusNotStarted, DoubtNone
	case percent != nil && *percent == 0 && !r.inProgress && !r.done:
		return store.StatusNotStarted, DoubtNone
	case percent != nil && *percent < 100:
		return store.StatusInProgress, DoubtNone
	case r.done && (r.notDone || r.inProgress || r.notStarted || r.pending):
		return "", DoubtMixed
	case r.done && slices.Contains(r.doubts, DoubtMostly):
		return "", DoubtMostly
	case r.done:
		return store.StatusDone, DoubtNone
	case r.notDone, r.inProgress, r.fraction != nil, r.notStarted:
		return store.StatusInProgress, DoubtNone
	case len(r.doubts) > 0:
		return "", r.doubts[0]
	}
	return "", DoubtNone
}
