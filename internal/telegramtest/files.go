package telegramtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"image"
	_ "image/jpeg" // photo sizes, as Telegram reports them
	_ "image/png"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Files: users send documents, photos and voice messages (SendDocument, SendPhoto,
// SendVoice); the fake keeps their bytes, and the bot fetches them as from Telegram:
//
//   - getFile (file_id) answers {file_id, file_unique_id, file_size, file_path}; an unknown
//     file_id is 400 "Bad Request: invalid file_id", a file over 20 MB (the Bot API's limit)
//     400 "Bad Request: file is too big";
//   - GET URL()+"/file/bot"+Token()+"/"+file_path answers the bytes; a wrong token is 401
//     Unauthorized and an unknown path 404 Not Found, as JSON errors like the methods'.
//
// file_id and file_unique_id are opaque strings shaped like Telegram's (a file_id starts
// with its kind's prefix, "BQAC" for a document, "AgAC" for a photo, "AwAC" for a voice
// message); each file sent gets new ones. Downloads reports every download made once a
// file was sent.

// maxGetFileSize is the largest file the Bot API lets a bot download.
const maxGetFileSize = 20 << 20

type storedFile struct {
	fileID, uniqueID, path string
	content                []byte
}

// FileDownload is one request for a file's bytes.
type FileDownload struct {
	Path   string
	Status int // HTTP status of the answer
	Time   time.Time
}

// fileStore is a Server's files. It lives beside the Server (in fileStores) rather than in
// it, and has its own lock; a caller holding s.mu may take it, never the reverse.
type fileStore struct {
	mu        sync.Mutex
	next      int
	byID      map[string]*storedFile
	byPath    map[string]*storedFile
	downloads []FileDownload
}

// fileStores maps a *Server to its *fileStore, created by the first file sent.
var fileStores sync.Map

func init() {
	register("getFile", (*Server).getFile)
}

// files returns s's files, nil if no file was ever sent. Only the driver methods create
// them, from the test's goroutine, so the cleanup is registered while the test runs.
func (s *Server) files(create bool) *fileStore {
	if fs, ok := fileStores.Load(s); ok {
		return fs.(*fileStore)
	}
	if !create {
		return nil
	}
	fs, loaded := fileStores.LoadOrStore(s, &fileStore{byID: map[string]*storedFile{}, byPath: map[string]*storedFile{}})
	if !loaded {
		s.tb.Cleanup(func() { fileStores.Delete(s) })
	}
	return fs.(*fileStore)
}

// fileIDPrefixes start Telegram's file_id of each kind.
var fileIDPrefixes = map[string]string{"document": "BQAC", "photo": "AgAC", "voice": "AwAC"}

// folders are the first part of Telegram's file_path of each kind.
var folders = map[string]string{"document": "documents", "photo": "photos", "voice": "voice"}

// add keeps content and returns its new file_id, file_unique_id and file_path.
func (fs *fileStore) add(kind, ext string, content []byte) *storedFile {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.next++
	var raw [24]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(fs.next))
	_, _ = rand.Read(raw[8:])
	f := &storedFile{
		fileID:   fileIDPrefixes[kind] + "AgUAAxkBAA" + base64.RawURLEncoding.EncodeToString(raw[:]),
		uniqueID: "AgAD" + base64.RawURLEncoding.EncodeToString(raw[4:16]),
		path:     folders[kind] + "/file_" + strconv.Itoa(fs.next-1) + ext,
		content:  bytes.Clone(content),
	}
	fs.byID[f.fileID], fs.byPath[f.path] = f, f
	return f
}

// SendDocument queues a message from a user in chat carrying a document named name, of MIME
// type mimeType, with content as its bytes, and returns it as the bot will receive it.
// replyTo, if not 0, is the message it replies to (usually the bot's); caption may be empty.
func (s *Server) SendDocument(chat Chat, from User, replyTo int, name, mimeType string, content []byte, caption string) models.Message {
	s.tb.Helper()
	f := s.files(true).add("document", path.Ext(name), content)
	return s.sendMedia("SendDocument", chat, from, replyTo, caption, func(m *models.Message) {
		m.Document = &models.Document{FileID: f.fileID, FileUniqueID: f.uniqueID, FileName: name, MimeType: mimeType, FileSize: int64(len(content))}
	})
}

// SendPhoto queues a message from a user in chat carrying a photo (JPEG or PNG bytes; its
// width and height are read from them) and returns it. Like Telegram, the photo has no file
// name and no MIME type; Photo holds one size, the original.
func (s *Server) SendPhoto(chat Chat, from User, replyTo int, content []byte, caption string) models.Message {
	s.tb.Helper()
	width, height := 1280, 960 // for bytes that are not an image
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(content)); err == nil {
		width, height = cfg.Width, cfg.Height
	}
	f := s.files(true).add("photo", ".jpg", content)
	return s.sendMedia("SendPhoto", chat, from, replyTo, caption, func(m *models.Message) {
		m.Photo = []models.PhotoSize{{FileID: f.fileID, FileUniqueID: f.uniqueID, Width: width, Height: height, FileSize: len(content)}}
	})
}

// SendVoice queues a voice message (OGG/Opus bytes, MIME type audio/ogg, no file name) of
// the given duration in seconds from a user in chat and returns it.
func (s *Server) SendVoice(chat Chat, from User, replyTo int, content []byte, seconds int, caption string) models.Message {
	s.tb.Helper()
	f := s.files(true).add("voice", ".oga", content)
	return s.sendMedia("SendVoice", chat, from, replyTo, caption, func(m *models.Message) {
		m.Voice = &models.Voice{FileID: f.fileID, FileUniqueID: f.uniqueID, Duration: seconds, MimeType: "audio/ogg", FileSize: int64(len(content))}
	})
}

// sendMedia delivers a message with a file the way Send and Reply deliver text: the caption
// gets the entities Telegram detects (a "/report 21 …" caption is a bot command).
func (s *Server) sendMedia(what string, chat Chat, from User, replyTo int, caption string, attach func(*models.Message)) models.Message {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.userChatLocked(chat, from)
	if !ok {
		return models.Message{}
	}
	var rt *models.Message
	if replyTo != 0 {
		orig := cs.messages[replyTo]
		if orig == nil {
			s.misuse("%s: chat %d has no message %d", what, chat.ID, replyTo)
			return models.Message{}
		}
		m := orig.msg
		m.ReplyToMessage = nil
		rt = &m
	}
	m := s.nextMessageLocked(cs, from)
	m.ReplyToMessage = rt
	if caption != "" {
		m.Caption, m.CaptionEntities = caption, detectEntities(caption)
	}
	attach(&m)
	s.deliverLocked(cs, m, false)
	return m
}

// Downloads returns every request for a file's bytes, in order.
func (s *Server) Downloads() []FileDownload {
	fs := s.files(false)
	if fs == nil {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]FileDownload(nil), fs.downloads...)
}

func (s *Server) getFile(_ context.Context, p *params) (any, *apiError) {
	var f *storedFile
	if fs := s.files(false); fs != nil {
		fs.mu.Lock()
		f = fs.byID[strings.TrimSpace(p.str("file_id"))]
		fs.mu.Unlock()
	}
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if len(f.content) > maxGetFileSize {
		return nil, badRequest("file is too big")
	}
	return models.File{FileID: f.fileID, FileUniqueID: f.uniqueID, FileSize: int64(len(f.content)), FilePath: f.path}, nil
}

// serveFile answers GET /file/bot<token>/<file_path>; rest is what follows "/file/bot".
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	status := http.StatusOK
	var f *storedFile
	switch {
	case token != s.cfg.token:
		status = http.StatusUnauthorized
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		status = http.StatusMethodNotAllowed
	default:
		if fs := s.files(false); fs != nil {
			fs.mu.Lock()
			f = fs.byPath[filePath]
			fs.mu.Unlock()
		}
		if f == nil {
			status = http.StatusNotFound
		}
	}
	if fs := s.files(false); fs != nil {
		fs.mu.Lock()
		fs.downloads = append(fs.downloads, FileDownload{Path: filePath, Status: status, Time: time.Now()})
		fs.mu.Unlock()
	}
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
	if status != http.StatusOK {
		writeError(w, &apiError{Code: status, Description: defaultDescription(status, 0)})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.content)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.content)
	}
}
