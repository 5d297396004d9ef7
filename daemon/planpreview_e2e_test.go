package daemon_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/internal/telegramtest"
)

// TestPlanFilePreview (issue 11, point 4): an admin sends a plan file in a private chat and
// gets the import's preview back — the summary and changes, then tasks.yaml as a document —
// with nothing applied; a file with problems gets them, each with its place; a department
// member's file is not read as a plan.
func TestPlanFilePreview(t *testing.T) {
	seed, err := os.ReadFile("../config/testdata/seed.txt") // the plan's source table, as sent
	if err != nil {
		t.Fatalf("the plan's source table: %v", err)
	}
	tg := newFakeTelegram(t)
	r := directRig(t, backends(t)[0], tg)

	tg.SendDocument(adminChat, admin, 0, "九江市职业教育工作任务清单.txt", "text/plain", seed, "")
	preview := r.waitText(t, adminChat.ID, "的导入预览（未应用）")
	for _, want := range []string{"50 tasks in 5 areas", "departments: 33 known, 0 new", "changes to ../tasks.yaml:", "duban import -config config.yaml"} {
		if !strings.Contains(preview.PlainText, want) {
			t.Errorf("preview lacks %q:\n%s", want, preview.PlainText)
		}
	}
	tg.WaitFor(t, 10*time.Second, "tasks.yaml sent back", func() bool { return len(tg.SentMediaTo(adminChat.ID)) == 1 })
	doc := tg.SentMediaTo(adminChat.ID)[0]
	if doc.Method != "sendDocument" || doc.FileName != "tasks.yaml" || !strings.Contains(doc.PlainCaption, "预览，未应用") {
		t.Errorf("document: got %s %q caption %q, want sendDocument tasks.yaml marked as a preview", doc.Method, doc.FileName, doc.PlainCaption)
	}
	c, _ := testConfig(t, tg)
	p, err := config.ParsePlan("tasks.yaml", doc.Data, c)
	if err != nil || len(p.Tasks) != 50 {
		t.Fatalf("the tasks.yaml sent back: %v tasks, %v; want the 50 tasks loading", len(p.Tasks), err)
	}
	if got, _ := p.Task(44); got.Recurrence != "yearly" {
		t.Errorf("task 44: got recurrence %q, want yearly kept from the tasks.yaml in force", got.Recurrence)
	}

	// Problems: each with its place, and no document.
	bad := "序号,任务目标,责任部门,完成时限\n1,甲,市教育局,视情况\n2,乙,,2022年\n"
	tg.SendDocument(adminChat, admin, 0, "plan.csv", "text/csv", []byte(bad), "")
	problems := r.waitText(t, adminChat.ID, "有 2 处问题，未生成 tasks.yaml")
	for _, want := range []string{`plan.csv 第2行第4列: unknown deadline "视情况"`, "plan.csv 第3行第3列: "} {
		if !strings.Contains(problems.PlainText, want) {
			t.Errorf("problems lack %q:\n%s", want, problems.PlainText)
		}
	}
	// A file from someone who is not an admin is not a plan to read.
	stranger := telegramtest.NewUser(3003, "路人")
	tg.SendDocument(telegramtest.PrivateChat(stranger), stranger, 0, "plan.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []byte("PK"), "")
	time.Sleep(300 * time.Millisecond)
	for _, m := range tg.SentTo(stranger.ID) {
		if strings.Contains(m.PlainText, "导入预览") || strings.Contains(m.PlainText, "处问题") {
			t.Errorf("a stranger's file was read as a plan: %q", m.PlainText)
		}
	}
	if n := len(tg.SentMediaTo(adminChat.ID)); n != 1 {
		t.Errorf("documents to the admin: got %d, want only the first preview's", n)
	}
}
