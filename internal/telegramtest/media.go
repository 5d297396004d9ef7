package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"mime"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// Media the bot sends: sendPhoto and sendDocument, as Telegram takes them.
//
//   - The file is a multipart upload (the part named "photo" or "document", with a file
//     name) whose bytes the fake keeps, or the file_id of a file the fake already holds (one
//     a user or the bot sent); anything else is 400 "Bad Request: wrong file identifier/HTTP
//     URL specified", and no file at all 400 "Bad Request: there is no photo in the request"
//     (or document).
//   - A photo must decode as PNG or JPEG (else 400 "Bad Request: IMAGE_PROCESS_FAILED"), be
//     at most 10 MB (400 "Bad Request: file is too big"), with width + height at most 10,000
//     and a side ratio at most 20 (400 "Bad Request: PHOTO_INVALID_DIMENSIONS"). An empty
//     document is 400 "Bad Request: file must be non-empty".
//   - The caption is parsed with parse_mode (or caption_entities) like a message's text and
//     may be at most 1,024 characters once parsed: 400 "Bad Request: message caption is too
//     long".
//   - The same flood limits as sendMessage apply, and the message takes the chat's next
//     message id, so its order among the bot's text messages shows.
//
// SentMedia and SentMediaTo report what was accepted: the bytes, file name and caption.
//
// sendMessage's link_preview_options is checked here too (checkLinkPreview): a malformed
// object is 400 "Bad Request: can't parse link preview options JSON object", and
// Message.LinkPreviewDisabled reads is_disabled back.

const (
	maxCaptionLength = 1024
	maxPhotoSize     = 10 << 20
)

// upload is a file part of a multipart request.
type upload struct {
	name string
	data []byte
}

// SentMedia is a photo or document the fake accepted from the bot.
type SentMedia struct {
	Method    string // "sendPhoto" or "sendDocument"
	ChatID    int64
	MessageID int
	FileName  string // as uploaded ("" when sent by file_id)
	MIMEType  string // a document's, from its file name
	Data      []byte
	// Width and Height are a photo's, read from its bytes.
	Width, Height int
	FileID        string
	// Caption is the "caption" parameter exactly as sent; PlainCaption what a user sees.
	Caption          string
	PlainCaption     string
	CaptionEntities  []models.MessageEntity
	ParseMode        string
	ReplyToMessageID int
	Params           map[string]string
	Time             time.Time
}

type mediaStore struct {
	mu   sync.Mutex
	sent []SentMedia
	byID map[string]SentMedia
}

// mediaStores maps a *Server to its *mediaStore, beside it like fileStores.
var mediaStores sync.Map

func init() {
	register("sendPhoto", func(s *Server, _ context.Context, p *params) (any, *apiError) { return s.sendBotMedia("photo", p) })
	register("sendDocument", func(s *Server, _ context.Context, p *params) (any, *apiError) { return s.sendBotMedia("document", p) })
}

func (s *Server) media() *mediaStore {
	ms, loaded := mediaStores.LoadOrStore(s, &mediaStore{byID: map[string]SentMedia{}})
	if !loaded {
		s.tb.Cleanup(func() { mediaStores.Delete(s) })
	}
	return ms.(*mediaStore)
}

// SentMedia returns every photo and document the fake accepted from the bot, in order.
func (s *Server) SentMedia() []SentMedia {
	ms, ok := mediaStores.Load(s)
	if !ok {
		return nil
	}
	m := ms.(*mediaStore)
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]SentMedia(nil), m.sent...)
}

// SentMediaTo returns the accepted photos and documents sent to chatID, in order.
func (s *Server) SentMediaTo(chatID int64) []SentMedia {
	var out []SentMedia
	for _, m := range s.SentMedia() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// LinkPreviewDisabled reports whether the message was sent with
// link_preview_options.is_disabled (or the legacy disable_web_page_preview).
func (m Message) LinkPreviewDisabled() bool {
	var o struct {
		IsDisabled bool `json:"is_disabled"`
	}
	if raw := m.Params["link_preview_options"]; raw != "" && json.Unmarshal([]byte(raw), &o) == nil && o.IsDisabled {
		return true
	}
	v := strings.ToLower(strings.TrimSpace(m.Params["disable_web_page_preview"]))
	return v == "true" || v == "1"
}

// checkLinkPreview refuses link_preview_options that are not a LinkPreviewOptions object.
func checkLinkPreview(p *params) *apiError {
	var o models.LinkPreviewOptions
	if _, err := p.json("link_preview_options", &o); err != nil {
		return badRequest("can't parse link preview options JSON object")
	}
	return nil
}

// documentTypes are MIME types the system's table may not know.
var documentTypes = map[string]string{
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".csv":  "text/csv",
	".json": "application/json",
	".pdf":  "application/pdf",
}

func (s *Server) sendBotMedia(kind string, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	rec := SentMedia{Method: "send" + strings.ToUpper(kind[:1]) + kind[1:], ChatID: cs.chat.ID}
	if up, ok := p.uploads[kind]; ok {
		rec.FileName, rec.Data = up.name, bytes.Clone(up.data)
	} else {
		ref := strings.TrimSpace(p.str(kind))
		if ref == "" {
			return nil, badRequest("there is no %s in the request", kind)
		}
		data, ok := s.knownFileLocked(ref)
		if !ok {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		rec.Data = data
	}
	switch kind {
	case "photo":
		cfg, _, err := image.DecodeConfig(bytes.NewReader(rec.Data))
		switch {
		case err != nil:
			return nil, badRequest("IMAGE_PROCESS_FAILED")
		case len(rec.Data) > maxPhotoSize:
			return nil, badRequest("file is too big")
		case cfg.Width+cfg.Height > 10000 || cfg.Width > 20*cfg.Height || cfg.Height > 20*cfg.Width:
			return nil, badRequest("PHOTO_INVALID_DIMENSIONS")
		}
		rec.Width, rec.Height = cfg.Width, cfg.Height
	case "document":
		if len(rec.Data) == 0 {
			return nil, badRequest("file must be non-empty")
		}
		ext := strings.ToLower(path.Ext(rec.FileName))
		if rec.MIMEType = documentTypes[ext]; rec.MIMEType == "" {
			rec.MIMEType, _, _ = strings.Cut(mime.TypeByExtension(ext), ";")
		}
		if rec.MIMEType == "" {
			rec.MIMEType = "application/octet-stream"
		}
	}
	caption := p.str("caption")
	var plain string
	var entities []models.MessageEntity
	if p.has("caption_entities") && strings.TrimSpace(p.str("caption_entities")) != "" {
		if _, err := p.json("caption_entities", &entities); err != nil {
			return nil, badRequest("can't parse entities JSON object")
		}
		plain, entities = trimFormatted(caption, entities)
	} else if caption != "" {
		if plain, entities, e = formatText(caption, p.str("parse_mode")); e != nil {
			return nil, e
		}
	}
	if utf8.RuneCountInString(plain) > maxCaptionLength {
		return nil, badRequest("message caption is too long")
	}
	replyTo, e := s.replyTargetLocked(cs, p)
	if e != nil {
		return nil, e
	}
	mk, e := parseReplyMarkup(p, false)
	if e != nil {
		return nil, e
	}
	now := time.Now()
	if retry, ok := s.limiter.allow(now, cs.chat.ID, isGroupType(cs.chat.Type)); !ok {
		return nil, tooManyRequests(retry)
	}
	ms := s.media()
	ms.mu.Lock()
	defer ms.mu.Unlock()
	n := len(ms.sent) + 1
	rec.FileID = fileIDPrefixes[kind] + "AgUAAxkBAAbot" + strconv.Itoa(n)
	unique := "AgADbot" + strconv.Itoa(n)
	bot := s.bot
	m := models.Message{ID: cs.nextMsgID, From: &bot, Date: int(now.Unix()), Chat: cs.chat, Caption: plain, CaptionEntities: entities,
		ReplyToMessage: replyTo, ReplyMarkup: mk.inline}
	size := len(rec.Data)
	if kind == "photo" {
		// Telegram answers with the sizes it made; the fake keeps the original only.
		m.Photo = []models.PhotoSize{{FileID: rec.FileID, FileUniqueID: unique, Width: rec.Width, Height: rec.Height, FileSize: size}}
	} else {
		m.Document = &models.Document{FileID: rec.FileID, FileUniqueID: unique, FileName: rec.FileName, MimeType: rec.MIMEType, FileSize: int64(size)}
	}
	cs.nextMsgID++
	cs.messages[m.ID] = &storedMessage{msg: m, markupKey: mk.key, fromBot: true}
	rec.MessageID, rec.Caption, rec.PlainCaption, rec.CaptionEntities = m.ID, caption, plain, entities
	rec.ParseMode, rec.Params, rec.Time = p.str("parse_mode"), p.copyValues(), now
	if replyTo != nil {
		rec.ReplyToMessageID = replyTo.ID
	}
	ms.sent = append(ms.sent, rec)
	ms.byID[rec.FileID] = rec
	s.notifyLocked()
	return m, nil
}

// knownFileLocked finds the bytes of a file_id the fake gave out: a user's file or one the
// bot uploaded.
func (s *Server) knownFileLocked(id string) ([]byte, bool) {
	if fs := s.files(false); fs != nil {
		fs.mu.Lock()
		f := fs.byID[id]
		fs.mu.Unlock()
		if f != nil {
			return f.content, true
		}
	}
	if v, ok := mediaStores.Load(s); ok {
		ms := v.(*mediaStore)
		ms.mu.Lock()
		defer ms.mu.Unlock()
		if m, ok := ms.byID[id]; ok {
			return m.Data, true
		}
	}
	return nil, false
}
