// Package report reads what a department writes in chat — "#12 进行中 60% 招生计划已下达" — into
// the tasks it names and, for each, a status, a percent and a metric value.
//
// It never rejects text: a message it cannot read is still a note on the task (status
// unchanged), so nothing a department says is lost because of how it was phrased.
package report

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// Parsed is what one piece of text says about a task.
type Parsed struct {
	Status  store.Status // "" when the text names no status: a note
	Percent *int         // progress, 0–100
	Value   *float64     // the metric's value, only for a task with a numeric target
	// Doubt is set when the text speaks of completion without saying for certain that the
	// task is done: Status is then "" and the department is to be asked.
	Doubt Doubt
}

// Item is the part of a message about one task.
type Item struct {
	Task int    // 0 when the text names no task
	Text string // the text about it, without the leading task number
	// Lines are the message's lines that belong to the task, as written (task number and
	// any preamble included): what the record keeps of a message about several tasks.
	Lines string
}

// A task number (1 or more: 0 is no task) starts a line: "#12 …", "12 …", "12、13 …", "#12#13 …" or "第12项 …". A bare
// number must be followed by a space or punctuation so that "60%" or "2022年" is not a task,
// and is not a task when a unit or a date follows it ("10 月底前完成", "3 个", "10/31").
var (
	leadRe   = regexp.MustCompile(`^\s*(?:第\s*)?#?\s*([1-9]\d{0,4})\s*(?:项)?(?:[\s,，.。、:：;；)）]|$)`)
	hashRe   = regexp.MustCompile(`^\s*#\s*([1-9]\d{0,4})`)
	bareList = regexp.MustCompile(`^\s*([1-9]\d{0,4})\s*[、,，/]\s*`)
	// What follows a number that makes it a quantity or a date, not a task.
	unitAfterRe = regexp.MustCompile(`^\s*(?:[月日年号天个周所家人名万元亿%％]|[.．:：/\-]\s*\d)`)
)

// SplitOptions say how task numbers may be written.
type SplitOptions struct {
	// HashOnly: only "#N" names a task. A reply to a message about a single task is about
	// that task unless it says "#N"; a bare number there is text ("10 月底前完成").
	HashOnly bool
	// Command: the text follows /report, whose first word is the task's number whatever
	// follows it ("/report 16 年底前完成").
	Command bool
}

// Split finds the tasks a message names. A line that starts with task numbers begins an
// item for each; the lines after it, up to the next such line, belong to it too. A message
// that names no task is one item with Task 0, for the caller to place (a reply to a
// single-task nudge is about that task).
func Split(text string, o SplitOptions) []Item {
	var items []Item
	var open []int // indexes in items that the current line continues
	preamble := ""
	for n, line := range strings.Split(text, "\n") {
		ids, rest := leadingTasks(line, o.HashOnly, o.Command && n == 0)
		if len(ids) == 0 {
			if len(open) == 0 {
				items = append(items, Item{Text: line, Lines: line})
				open = []int{len(items) - 1}
				continue
			}
			for _, i := range open {
				items[i].Text += "\n" + line
				items[i].Lines += "\n" + line
			}
			continue
		}
		open = open[:0]
		for _, id := range ids {
			items = append(items, Item{Task: id, Text: rest, Lines: line})
			open = append(open, len(items)-1)
		}
	}
	// A preamble before the first task number belongs to no task; keep it only when it is
	// all there is, so that "大家好\n#12 已完成" is about task 12 alone. Its words stay in the
	// record, with each task's own lines, since they may say what the lines are about.
	if len(items) > 1 && items[0].Task == 0 {
		preamble, items = items[0].Lines, items[1:]
	}
	for i := range items {
		items[i].Text = strings.TrimSpace(items[i].Text)
		if preamble != "" {
			items[i].Lines = preamble + "\n" + items[i].Lines
		}
	}
	return merge(items)
}

// leadingTasks returns the task numbers a line starts with and the text after them. command:
// the line follows /report, so a number opening it is a task whatever follows.
func leadingTasks(line string, hashOnly, command bool) ([]int, string) {
	var ids []int
	rest := line
	for {
		if m := hashRe.FindStringSubmatchIndex(rest); m != nil {
			ids = append(ids, atoi(rest[m[2]:m[3]]))
			rest = strings.TrimLeft(rest[m[1]:], " 、,，/")
			continue
		}
		if hashOnly {
			break
		}
		if m := bareList.FindStringSubmatchIndex(rest); m != nil && (len(ids) > 0 || bareTask(rest)) {
			ids = append(ids, atoi(rest[m[2]:m[3]]))
			rest = rest[m[1]:]
			continue
		}
		if m := leadRe.FindStringSubmatchIndex(rest); m != nil && (command && len(ids) == 0 || bareTask(rest)) {
			ids = append(ids, atoi(rest[m[2]:m[3]]))
			rest = rest[m[1]:]
		}
		break
	}
	if len(ids) == 0 {
		return nil, line
	}
	return ids, strings.TrimLeft(rest, " :：、,，.。")
}

// bareTask reports whether the number s starts with can be a task: it must match leadRe and
// not be followed by a unit or a date ("3月15日", "10 月底", "2027年", "5个").
func bareTask(s string) bool {
	m := leadRe.FindStringSubmatchIndex(s)
	if m == nil {
		return false
	}
	if strings.HasPrefix(strings.TrimSpace(s), "#") || strings.HasPrefix(strings.TrimSpace(s), "第") {
		return true
	}
	return !unitAfterRe.MatchString(s[m[3]:])
}

// merge joins items about the same task, so "#12 进行中" and later "#12 附件已报" in one message
// make one update, not two.
func merge(items []Item) []Item {
	var out []Item
	index := map[int]int{}
	for _, it := range items {
		if i, ok := index[it.Task]; ok && it.Task != 0 {
			out[i].Text = strings.TrimSpace(out[i].Text + "\n" + it.Text)
			out[i].Lines += "\n" + it.Lines
			continue
		}
		index[it.Task] = len(out)
		out = append(out, it)
	}
	return out
}

var (
	percentRe   = regexp.MustCompile(`(\d{1,3}(?:\.\d+)?)\s*[%％]`)
	growthRe    = regexp.MustCompile(`超额|超出|高出|增长|增加|提高|提升|同比|环比|下降|减少|降低`)
	cnPercentRe = regexp.MustCompile(`百分之([零〇一二两三四五六七八九十百\d]+)`)
	// A percent right after one of these words is the metric's value, not progress.
	metricWordRe = regexp.MustCompile(`(?:比例|占比|达到|达|为)\s*(\d+(?:\.\d+)?)\s*[%％]`)
)

// Parse reads a status, a percent and (when the task has numeric targets) a metric value
// from text about one task (task may be nil). A percent under 100 beats the word 完成:
// "完成60%" is in progress at 60%. Where the text speaks of completion but does not say for
// certain that the task is done, Status is "" (a note) and Doubt says why, for the caller
// to ask; see read.go for the rules.
func Parse(text string, task *config.Task) Parsed {
	var p Parsed
	lower := normalize(text)
	var targets []config.Target
	taskText := ""
	if task != nil {
		targets, taskText = task.Target, normalize(task.Goal+"\n"+task.Metric)
	}
	rest := lower
	if len(targets) > 0 {
		if v, span, ok := metricValue(lower, targets); ok {
			p.Value = &v
			rest = lower[:span[0]] + " " + lower[span[1]:]
		}
	}
	r := read(rest, taskText)
	if pct, ok := percent(rest); ok {
		p.Percent = &pct
	} else if r.fraction != nil {
		p.Percent = r.fraction
	}
	// A 100% that is denied or ahead ("预计年底完成100%") is a target, not progress.
	if p.Percent != nil && *p.Percent == 100 && !r.full {
		p.Percent = nil
	}
	p.Status, p.Doubt = r.status(p.Percent)
	if p.Doubt != DoubtNone {
		p.Percent = nil
	}
	return p
}

// percent is the first percent of progress in s. A percent of growth or surplus
// ("超额完成12%", "同比增长5%") is not progress.
func percent(s string) (int, bool) {
	for _, m := range percentRe.FindAllStringSubmatchIndex(s, -1) {
		if lead := []rune(s[:m[0]]); growthRe.MatchString(string(lead[max(0, len(lead)-6):])) {
			continue
		}
		f, err := strconv.ParseFloat(s[m[2]:m[3]], 64)
		if err == nil && f >= 0 && f <= 100 {
			// Rounded down: 99.5% is not done.
			return int(f), true
		}
		break
	}
	if m := cnPercentRe.FindStringSubmatch(s); m != nil {
		if n, ok := chineseNumber(m[1]); ok && n <= 100 {
			return n, true
		}
	}
	return 0, false
}

// metricValue finds the number that reports a target: after a target's name or a word such as
// 比例 or 达到 for a percent target, or written with the target's unit (1200万元).
func metricValue(lower string, targets []config.Target) (float64, [2]int, bool) {
	for _, t := range targets {
		unit := strings.ToLower(strings.Split(t.Unit, "/")[0])
		if unit == "%" {
			if m := metricWordRe.FindStringSubmatchIndex(lower); m != nil {
				v, _ := strconv.ParseFloat(lower[m[2]:m[3]], 64)
				return v, [2]int{m[0], m[1]}, true
			}
			continue
		}
		if unit == "" {
			continue
		}
		re := regexp.MustCompile(`(\d+(?:\.\d+)?)\s*` + regexp.QuoteMeta(unit))
		if m := re.FindStringSubmatchIndex(lower); m != nil {
			v, _ := strconv.ParseFloat(lower[m[2]:m[3]], 64)
			return v, [2]int{m[0], m[1]}, true
		}
	}
	return 0, [2]int{}, false
}

var cnDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// chineseNumber reads 0–100 written in Chinese numerals (六十, 三十五, 十五, 一百, 百) or digits.
func chineseNumber(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	total, cur := 0, 0
	for _, r := range s {
		switch {
		case r == '十':
			if cur == 0 {
				cur = 1
			}
			total += cur * 10
			cur = 0
		case r == '百':
			if cur == 0 {
				cur = 1
			}
			total += cur * 100
			cur = 0
		default:
			d, ok := cnDigits[r]
			if !ok {
				return 0, false
			}
			cur = d
		}
	}
	return total + cur, true
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
