package bot

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/sender"
)

// MaxPlanFile is the largest plan file the bot reads: what the Bot API lets a bot download.
const MaxPlanFile = 20 << 20

// maxProblemsShown keeps the answer to a broken plan file to one or two messages; the rest
// are counted, and duban import on the server lists them all.
const maxProblemsShown = 40

// PlanPreviewer works out what importing a plan file an admin sent would do, against the plan
// and config in force, without applying anything.
type PlanPreviewer interface {
	PreviewPlan(ctx context.Context, fileID, name string) (PlanPreview, error)
}

// PlanPreview is an import worked out: the summary and changes as duban import prints them and
// the tasks.yaml it would write, or the file's problems (Plan is nil then). The error of
// PreviewPlan is for the file not fetched; a file that does not read is Problems.
type PlanPreview struct {
	Report   string
	Plan     []byte
	Problems []string
}

// DocumentSender uploads a file to a chat.
type DocumentSender interface {
	SendDocument(ctx context.Context, m sender.Media, h sender.Hooks) (int, error)
}

var _ DocumentSender = (*sender.Sender)(nil)

// SetPlanPreview lets admins send a plan file in a private chat and get the import's preview
// back; without it such a file is not treated as a plan. Call it before handling updates.
func (b *Bot) SetPlanPreview(p PlanPreviewer, docs DocumentSender) { b.plans, b.docs = p, docs }

// isPlanFile reports a document an admin sent in a private chat as a plan to preview.
func (b *Bot) isPlanFile(m *models.Message) bool {
	if b.plans == nil || m.Document == nil || m.Chat.Type != models.ChatTypePrivate || !b.isAdmin(userID(m.From)) {
		return false
	}
	switch strings.ToLower(filepath.Ext(m.Document.FileName)) {
	case ".xlsx", ".docx", ".csv", ".txt", ".xls", ".doc":
		return true // .xls and .doc get the reader's "save as" advice
	}
	return false
}

// previewPlan answers a plan file with the import's summary and the tasks.yaml it would make,
// or with its problems. Nothing is applied: the plan in force changes only when an operator
// runs duban import on the server and reloads.
func (b *Bot) previewPlan(ctx context.Context, m *models.Message) {
	t := b.state().texts
	d := m.Document
	if d.FileSize > MaxPlanFile {
		b.reply(ctx, m, t.PlanTooBig(d.FileName, MaxPlanFile>>20))
		return
	}
	pv, err := b.plans.PreviewPlan(ctx, d.FileID, d.FileName)
	if err != nil {
		b.log.Warn("plan file not fetched", "chat", m.Chat.ID, "file", d.FileName, "err", err)
		b.reply(ctx, m, t.PlanUnreadable(d.FileName))
		return
	}
	if pv.Plan == nil {
		shown := pv.Problems
		if len(shown) > maxProblemsShown {
			shown = append(shown[:maxProblemsShown:maxProblemsShown], "…")
		}
		b.reply(ctx, m, t.PlanProblems(d.FileName, shown))
		return
	}
	b.reply(ctx, m, t.PlanPreview(d.FileName, pv.Report))
	doc := sender.Media{ChatID: m.Chat.ID, Name: "tasks.yaml", Data: pv.Plan, Caption: t.PlanDocument(d.FileName)}
	b.answers.enqueue(answer{chat: m.Chat.ID, what: "plan preview", send: func(ctx context.Context) {
		if _, err := b.docs.SendDocument(ctx, doc, sender.Hooks{}); err != nil {
			b.log.Warn("plan preview not delivered", "chat", m.Chat.ID, "err", err)
		}
	}})
}
