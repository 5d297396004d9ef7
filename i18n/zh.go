package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duban/duban/store"
)

var chinese Texts

func init() {
	t := &chinese
	t.StatusNames = map[store.Status]string{
		store.StatusNotStarted: "未开始",
		store.StatusInProgress: "进行中",
		store.StatusDone:       "已完成",
		store.StatusBlocked:    "遇到困难",
	}
	t.CSVHeader = []string{"序号", "重点工作", "任务目标", "责任部门", "状态", "进度(%)", "最近报送时间", "最近报送内容", "完成时限", "剩余天数(负数为逾期)", "预警"}
	t.NotInPlan = "（已不在计划中）"
	t.ColorNames = map[string]string{"": "", "red": "红色（逾期）", "yellow": "黄色（滞后或未回复）", "blue": "蓝色（临期）"}
	t.Workbook = WorkbookWords{
		LedgerSheet: "台账", UpdatesSheet: "进展记录", DepartmentsSheet: "单位汇总",
		UpdatesHeader:     []string{"记录编号", "序号", "责任部门", "报送时间", "报送人", "状态", "进度(%)", "报送内容", "附件", "更正的记录", "哈希"},
		DepartmentsHeader: []string{"责任部门", "任务数", "已完成", "逾期", "最近报送时间", "未回复催办(次)"},
	}

	t.Commands = [][2]string{
		{"report", "报送进展：/report 编号 状态 进度 说明"},
		{"tasks", "本单位未完成的任务"},
		{"status", "某项任务各单位的进展：/status 编号"},
		{"help", "使用说明"},
		{"snooze", "暂停某项提醒：/snooze 编号 7d"},
		{"whoami", "显示本群和您的身份"},
		{"digest", "督办简报（督查群或管理员）"},
		{"web", "网页版台账的登录链接（管理员、督查群、单位群）"},
		{"bind", "用绑定码绑定本群：/bind 绑定码"},
		{"invite", "（管理员）生成单位绑定码：/invite 单位名称"},
		{"unbind", "（管理员）解除绑定"},
		{"departments", "（管理员）各单位绑定和报送情况"},
	}
	days := func(n int) string {
		switch {
		case n > 0:
			return fmt.Sprintf("剩余 %d 天", n)
		case n == 0:
			return "今天到期"
		default:
			return fmt.Sprintf("已逾期 %d 天", -n)
		}
	}
	progress := func(s store.Status, percent *int) string {
		out := t.StatusName(s)
		if percent != nil {
			out += " " + strconv.Itoa(*percent) + "%"
		}
		return out
	}

	t.Welcome = func(bool) string {
		return "您好！我是督办助手，负责跟踪工作任务的进展：到期前后提醒各责任单位，记录各单位报送的进展，并向督查室发送简报。"
	}
	t.Help = func(admin bool) string {
		s := "<b>如何报送进展</b>\n" +
			"• 直接<b>回复</b>提醒消息：已完成 / 进行中 60% 招生计划已下达 / 遇到困难：资金未到位\n" +
			"• 提醒包含多项任务时，回复开头写编号：#12 进行中 60%（可分多行写多项）\n" +
			"• 或发送命令：/report 12 进行中 60% 招生计划已下达\n" +
			"• 单项提醒下方有按钮：进行中 / 已完成 / 遇到困难\n\n" +
			"<b>其他命令</b>\n" +
			"/tasks 本单位未完成的任务\n/status 12 第12项任务各单位进展\n/whoami 本群和您的身份\n/snooze 12 7d 暂停第12项的提醒7天\n/bind 绑定码 把本群绑定为责任单位\n/web 网页版台账的登录链接（单位群：本单位页面）；/web logout 退出网页登录"
		if admin {
			s += "\n\n<b>管理员</b>\n/invite 单位名称 生成绑定码和邀请链接\n/unbind [单位名称] 解除绑定\n/departments 各单位绑定和报送情况\n/digest 督办简报\n/web 网页版台账的登录链接（可查看全部）\n/web revoke 用户ID 注销某人的全部网页登录"
		}
		return s
	}
	t.AddedToGroup = func(bot string) string {
		return "感谢邀请！请管理员私聊 @" + e(bot) + " 发送 /invite 单位名称 获取绑定码，然后在本群发送 /bind 绑定码，即可把本群绑定为责任单位。"
	}
	t.UnknownCommand = func(cmd string) string {
		return "没有 /" + e(cmd) + " 这个命令。发送 /help 查看使用说明。"
	}
	t.AdminOnly = func(user int64) string {
		id := "（私聊我发送 /whoami 可查看）"
		if user != 0 {
			id = fmt.Sprintf(" <code>%d</code> ", user)
		}
		return "只有管理员可以使用这个命令。如需成为管理员，请部署本机器人的同事把您的用户 ID" + id +
			"加入 config.yaml 的 <code>telegram.admins</code>，再重新加载配置（SIGHUP）或重启。"
	}

	t.NotBound = func() string {
		return "本群还没有绑定责任单位，无法记录进展。请管理员发送 /invite 单位名称 获取绑定码，再在本群发送 /bind 绑定码。"
	}
	t.NeedTaskNumber = func() string {
		return "请写明任务编号，例如：#12 进行中 60% 招生计划已下达。发送 /tasks 查看本单位的任务。"
	}
	t.NeedTaskNumberOf = func(tasks []int) string {
		ids := make([]string, len(tasks))
		for i, id := range tasks {
			ids[i] = "#" + strconv.Itoa(id)
		}
		return "这条提醒包含多项任务（" + strings.Join(ids, "、") + "），请在回复开头写任务编号，例如：\n#" + strconv.Itoa(tasks[0]) + " 进行中 60% 说明"
	}
	t.UnknownTask = func(id int) string { return fmt.Sprintf("没有编号为 #%d 的任务。", id) }
	t.NotYourTask = func(id int, dept string) string { return fmt.Sprintf("#%d 不是%s的任务。", id, e(dept)) }
	t.NothingRecorded = func(refusals []string) string {
		return "未记录：" + strings.Join(refusals, "") + "\n发送 /tasks 查看本单位的任务。"
	}
	t.CouldNotRecord = func() string { return "这条进展无法记录，请稍后重试或联系管理员。" }
	t.ReportUsage = func() string {
		return "用法：/report 任务编号 状态 进度 说明\n例如：/report 12 进行中 60% 招生计划已下达\n状态可写：已完成、进行中、遇到困难。"
	}
	t.ReportNeedsText = func(task int) string {
		return fmt.Sprintf("请写明 #%d 的进展，例如：/report %d 进行中 60%% 说明；也可以回复这条消息。", task, task)
	}
	t.Recorded = func(l RecordedLine) string {
		line := fmt.Sprintf("#%d ", l.Task)
		if l.Status == "" && l.Percent == nil {
			line += "备注"
		} else {
			line += progress(l.Status, l.Percent)
		}
		if l.Value != nil {
			line += " 指标值 " + strconv.FormatFloat(*l.Value, 'f', -1, 64)
		}
		if l.Correction {
			line += "（更正）"
		}
		if f := t.file(l.Attachment); f != "" {
			line += " " + f
		}
		return line + "\n" + goalShort(l.Goal, 40) + t.metric(l.Metric)
	}
	t.RecordedAll = func(lines []string, anyDone bool) string {
		s := "已记录 " + strings.Join(lines, "\n已记录 ")
		if anyDone {
			s += "\n✅ 已完成的任务不再提醒贵单位。"
		}
		return s
	}

	t.Asked = func(task int, doubt string) string {
		q := map[string]string{
			"date":   "写了日期，看不出是已经完成，还是计划在那时完成。",
			"part":   "完成的像是其中一步，不一定是整项任务。",
			"mostly": "“基本完成”不等于全部完成。",
			"mixed":  "既说已完成，又说仍在推进。",
		}[doubt]
		return fmt.Sprintf("❓ #%d 暂记为备注：%s请点下方按钮确认，确认前不记为已完成。", task, q)
	}
	t.AskChoice = func(s store.Status) string {
		if s == "" {
			return "仅作备注"
		}
		return "记为：" + t.StatusName(s)
	}
	t.AskKept = func(task int) string { return fmt.Sprintf("#%d 保留为备注。", task) }
	t.AskCorrected = func(task int, s store.Status) string {
		line := fmt.Sprintf("已更正 #%d 为：%s", task, t.StatusName(s))
		if s == store.StatusDone {
			line += "\n✅ 已完成的任务不再提醒贵单位。"
		}
		return line
	}
	t.Button = func(s store.Status) string { return t.StatusName(s) }
	t.ButtonExpired = func() string { return "这条消息已失效，请回复最新的提醒。" }
	t.ButtonInvalid = func() string { return "按钮无效，未记录。" }
	t.ButtonRecorded = func(s store.Status) string { return "已记录：" + t.StatusName(s) }
	t.ButtonInviteDetails = func(task int, s store.Status) string {
		return fmt.Sprintf("已记录 #%d %s。请回复本消息补充具体进展（完成情况、数字、遇到的问题）。", task, t.StatusName(s))
	}

	t.BindUsage = func() string { return "用法：/bind 绑定码（绑定码由管理员用 /invite 生成）" }
	t.BindInGroup = func() string { return "请把我加入单位的群，在群里发送 /bind 绑定码。" }
	t.BindBadCode = func() string {
		return "绑定码无效、已使用或已过期。请管理员重新发送 /invite 单位名称。"
	}
	t.Bound = func(dept string, tasks int) string {
		return fmt.Sprintf("✅ 本群已绑定为「%s」，共 %d 项任务。\n到期前后我会在这里提醒；回复提醒或发送 /report 编号 状态 进度 即可报送。发送 /tasks 查看任务。", e(dept), tasks)
	}

	t.InviteUsage = func() string { return "用法：/invite 单位名称，例如：/invite 市教育局" }
	t.InviteGroup = func(group string, members []string) string {
		esc := make([]string, len(members))
		for i, m := range members {
			esc[i] = e(m)
		}
		return "「" + e(group) + "」是分组，请为其中的单位分别生成绑定码：" + strings.Join(esc, "、")
	}
	t.UnknownDepartment = func(name string) string {
		return "没有名为「" + e(name) + "」的单位。发送 /departments 查看全部单位。"
	}
	t.Invite = func(dept, code, link string, expires time.Time) string {
		return fmt.Sprintf("已为「%s」生成绑定码（%s 前有效，只能使用一次）：\n<code>%s</code>\n\n点击链接，选择该单位的群即可绑定：\n%s\n\n或把我加入该群后，在群里发送：\n<code>/bind %s</code>",
			e(dept), expires.Format("2006-01-02 15:04"), e(code), e(link), e(code))
	}

	t.UnbindUsage = func() string { return "本群没有绑定单位。用法：/unbind 单位名称" }
	t.NotBoundDepartment = func(dept string) string { return "「" + e(dept) + "」没有绑定群。" }
	t.Unbound = func(dept string) string {
		return "已解除「" + e(dept) + "」的绑定，不再向原群发送提醒。"
	}
	t.BindingBroken = func(dept, reason string) string {
		return "⚠️ 无法再向「" + e(dept) + "」的群发送消息（" + e(reason) + "），绑定已标记失效。请重新邀请：/invite " + e(dept)
	}
	t.BindTaken = func(dept string) string {
		return "本群已绑定为「" + e(dept) + "」。改绑为其他单位须由管理员操作：管理员在本群发送 /bind 绑定码，或先 /unbind。"
	}
	t.BindingMoved = func(dept string, oldChat, newChat int64, by string) string {
		return fmt.Sprintf("⚠️「%s」的绑定已更换：群 <code>%d</code> → <code>%d</code>（操作：%s）。原群不再收到提醒。", e(dept), oldChat, newChat, e(by))
	}
	t.BindingTaken = func(dept string, chat int64, taker, by string) string {
		return fmt.Sprintf("⚠️ 群 <code>%d</code> 原绑定「%s」，现已改绑为「%s」（操作：%s）。「%s」现在没有绑定群，不再收到提醒：/invite %s",
			chat, e(dept), e(taker), e(by), e(dept), e(dept))
	}
	t.ChatNoLongerBound = func(dept, now, by string) string {
		if now == "" {
			return "⚠️ 本群不再是「" + e(dept) + "」的督办群：该单位已改绑到另一个群（操作：" + e(by) + "）。如有误，请联系管理员。"
		}
		return "⚠️ 本群原绑定「" + e(dept) + "」，现已改绑为「" + e(now) + "」（操作：" + e(by) + "）。如有误，请联系管理员。"
	}
	t.ConfigOldChat = func(dept string, oldChat, newChat int64) string {
		return fmt.Sprintf("⚠️ config.yaml 中「%s」的群 <code>%d</code> 已升级为超级群 <code>%d</code>：绑定保持在新群。请把 config.yaml 改为 <code>%d</code>。",
			e(dept), oldChat, newChat, newChat)
	}
	t.ConfigChatHeld = func(dept string, chat int64, holder string) string {
		return fmt.Sprintf("⚠️ config.yaml 把群 <code>%d</code> 给了「%s」，但该群已由「%s」用 /bind 绑定，未改动。请修改 config.yaml，或先 /unbind %s。",
			chat, e(dept), e(holder), e(holder))
	}

	t.StatusUsage = func() string { return "用法：/status 任务编号，例如：/status 12" }

	t.DigestNotHere = func() string { return "督办简报只在督查群或由管理员查看。" }
	t.DigestUnavailable = func() string { return "督办简报暂不可用。" }
	t.PlanPreview = func(file, report string) string {
		return fmt.Sprintf("📋 计划表「%s」的导入预览（<b>未应用</b>）：\n\n%s\n\n生成的 tasks.yaml 见下一条消息。应用由运维人员在服务器上执行：duban import -config config.yaml %s（先加 -dry-run 核对），然后 duban check，再重载（SIGHUP）。",
			e(file), e(report), e(file))
	}
	t.PlanProblems = func(file string, problems []string) string {
		return fmt.Sprintf("⚠️ 计划表「%s」有 %d 处问题，未生成 tasks.yaml。请修改后重新发送：\n%s", e(file), len(problems), e(strings.Join(problems, "\n")))
	}
	t.PlanTooBig = func(file string, maxMB int) string {
		return fmt.Sprintf("⚠️ 计划表「%s」超过 %d MB，无法读取。请删去无关的工作表或图片后重新发送。", e(file), maxMB)
	}
	t.PlanUnreadable = func(file string) string {
		return fmt.Sprintf("⚠️ 未能从 Telegram 取回「%s」，请稍后重新发送。", e(file))
	}
	t.PlanDocument = func(file string) string {
		return fmt.Sprintf("由「%s」生成的 tasks.yaml（预览，未应用）", e(file))
	}
	t.WhoAmI = func(user, chat int64, dept string, admin, supervisors, private bool) string {
		yes := map[bool]string{true: "是", false: "否"}
		if private {
			s := fmt.Sprintf("您的 ID：<code>%d</code>\n管理员：%s", user, yes[admin])
			if dept != "" {
				s += "\n绑定单位：" + e(dept)
			}
			if !admin {
				s += "\n把这个 ID 加入 config.yaml 的 <code>telegram.admins</code> 即可成为管理员。"
			}
			return s
		}
		unit := "未绑定"
		if dept != "" {
			unit = e(dept)
		}
		id := fmt.Sprintf("<code>%d</code>", user)
		if user == 0 {
			id = "匿名发言时看不到，请私聊我发送 /whoami"
		}
		return fmt.Sprintf("您的用户 ID：%s\n本群 ID：<code>%d</code>\n本群绑定单位：%s\n督查群：%s\n管理员：%s", id, chat, unit, yes[supervisors], yes[admin])
	}

	t.WebLink = func(link, dept string, minutes int) string {
		what := "可查看全部任务"
		if dept != "" {
			what = "仅可查看「" + e(dept) + "」的页面"
		}
		return fmt.Sprintf("🔗 网页版台账登录链接（%s）：\n<a href=\"%s\">%s</a>\n\n有效期 %d 分钟，仅可使用一次。点击即可打开；切勿转发，拿到链接的人即可登录。"+
			"登录后 12 小时内有效，发送 /web logout 可随时退出。", what, e(link), e(link), minutes)
	}
	t.WebOff = func() string {
		return "网页版台账未开启。如需开启，请部署本机器人的同事在 config.yaml 中设置 <code>web.url</code>（人们打开的地址，如 https://duban.example.gov.cn），" +
			"需要单独端口时再设 <code>web.listen</code>（否则与 <code>http.listen</code> 共用），然后重启。"
	}
	t.WebNotHere = func() string {
		return "网页版台账的登录链接只发给：私聊中的管理员、督查群，以及已绑定责任单位的群（仅本单位页面）。本群未绑定责任单位。"
	}
	t.WebUsage = func() string {
		return "用法：/web 获取登录链接；/web logout 退出您的全部网页登录；/web revoke 用户ID（管理员）注销某人的全部网页登录。"
	}
	t.WebLoggedOut = func(n int) string {
		if n == 0 {
			return "您没有有效的网页登录。"
		}
		return fmt.Sprintf("已退出您的 %d 个网页登录。", n)
	}
	t.WebRevoked = func(user int64, n int) string {
		return fmt.Sprintf("已注销用户 <code>%d</code> 的 %d 个网页登录。", user, n)
	}
	t.WebNoUser = func() string {
		return "匿名发言时看不到您的用户 ID，无法退出网页登录。请私聊我发送 /web logout。"
	}

	t.useLists(listWords{
		DeptLine: "\n• %s（%d项）：", DeptUnbound: "未绑定", DeptBroken: "⚠️ 绑定失效（%s）", DeptBound: "已绑定 %s（%d）",
		DeptNever: "，从未报送", DeptLast: "，最近报送 %s", DeptTitle: "<b>责任单位</b>（共 %d 个，已绑定 %d 个）",

		TasksDone:   "「%s」的任务都已完成。👍",
		TasksTitle:  "<b>「%s」未完成的任务</b>（%d项，最紧急的在前）",
		TaskItem:    "\n%s#%d %s\n    截止 %s，%s；%s",
		TasksFooter: "\n\n回复或发送 /report 编号 状态 进度 说明 报送进展。",

		StatusTitle: "<b>#%d %s</b>\n截止 %s，%s", StatusMetric: "\n指标：%s", StatusLine: "\n• %s%s%s：%s",
		StatusLead: "（牵头）", StatusSnoozed: "，提醒暂停至 %s", StatusAt: "，%s", StatusText: "\n    %s：%s",
		StatusFile: "📎 %s",
		FileKinds: map[string]string{"": "文件", "document": "文件", "photo": "图片", "voice": "语音", "video": "视频",
			"audio": "音频", "video_note": "视频消息", "animation": "动图"},
		ItemMetric: "（%s）",

		NudgeStages: map[string]string{"before": "即将到期", "overdue": "已逾期", "stale": "请更新进展"},
		NudgeOne:    "<b>【督办提醒】%s</b>\n%s#%d %s\n截止 %s，%s；当前：%s\n\n请点击下方按钮，或<b>回复本消息</b>报送进展，例如：进行中 60%% 招生计划已下达",
		NudgeTitle:  "<b>【督办提醒】%s</b>，以下 %d 项任务请报送进展：",
		NudgeItem:   "\n%s#%d %s\n    %s：截止 %s，%s；当前：%s",
		NudgeFooter: "\n\n<b>回复本消息</b>报送，开头写任务编号（可分多行写多项），例如：\n#%d 进行中 60%% 招生计划已下达",
	})

	t.useDigest(days, progress, digestWords{
		EscalationTitle: "<b>【督办升级】</b>以下 %d 项需要关注：",
		EscalationItem:  "\n• %s #%d %s：",
		EscOverdue:      "🔴 %s，%s",
		EscUnanswered:   "🟡 已连续 %d 次提醒未回复",
		UnboundHead:     "<b>【督办升级】</b>",
		UnboundNote:     "尚有 %d 个单位未绑定群聊，其 %d 项逾期任务待绑定后督办（名单见 /digest）。",
		Title:           "<b>【督办周报】%s</b>",
		Glance:          "\n\n<b>总体进展</b>（按重点工作，已完成/进行中/遇到困难/未开始）",
		AreaLine:        "\n• %s：%d / %d / %d / %d",
		OverdueTitle:    "\n\n<b>🔴 逾期未完成（按单位）</b>",
		OverdueLine:     "\n• %s（%d项）：%s",
		Yellow:          "🟡 进度滞后或提醒未回复",
		Blue:            "🔵 即将到期",
		DueSoon:         "未来30天到期",
		SectionTitle:    "\n\n<b>%s</b>（%d）",
		More:            "\n…另有 %d 项，见 duban export",
		Item:            "#%d %s",
		ItemDept:        "（%s）",
		ItemState:       "：%s，%s",
		ItemExpected:    "，序时进度 %d%%",
		SnoozedTitle:    "\n\n<b>暂停提醒</b>",
		SnoozedLine:     "\n• #%d %s：暂停至 %s",
		SilentTitle:     "\n\n<b>长期未报送的单位</b>（%d）",
		SilentNever:     "\n• %s：从未报送",
		SilentLast:      "\n• %s：最近报送 %s",
		UnboundTitle:    "\n\n<b>尚未绑定群的单位</b>（%d）：%s",
		UnboundItems:    "\n其 %d 项逾期任务待绑定后督办。",
		NameSep:         "、",
		UpdatesTitle:    "\n\n<b>本周收到的报送</b>（%d）",
		MoreUpdates:     "\n…另有 %d 条，见 duban export -all",
		UpdateLine:      "\n• %s #%d %s %s：%s",
		AllClear:        "\n\n全部任务均已完成。",
		DeptTitle:       "<b>【督办周报】%s</b>：未完成的任务 %d 项",
		DeptItem:        "\n%s#%d %s\n    截止 %s，%s；%s",
		DeptLast:        "\n    最近报送 %s：%s",
		DeptFooter:      "\n\n回复本消息报送，开头写任务编号，例如：#%d 进行中 60%% 说明",
	})
	t.Snoozed = func(task int, dept string, until time.Time) string {
		return fmt.Sprintf("已暂停 #%d（%s）的提醒，至 %s。", task, e(dept), until.Format("2006-01-02 15:04"))
	}
	t.SnoozeUsage = func() string {
		return "用法：/snooze 任务编号 时长，例如：/snooze 12 7d（管理员可加单位：/snooze 12 7d 市教育局）"
	}
	t.SnoozeTooLong = func(maxDays int) string {
		return fmt.Sprintf("未暂停：提醒暂停最长 %d 天，例如：/snooze 12 %dd。到期后仍需暂停，可再发送一次。", maxDays, maxDays)
	}
}
