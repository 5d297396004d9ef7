package store

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Status is the progress status a department reports for a task.
type Status string

// The statuses a department can report. An empty Status on an Update means
// the update is a note that leaves the status unchanged.
const (
	StatusNotStarted Status = "not_started"
	StatusInProgress Status = "in_progress"
	StatusDone       Status = "done"
	StatusBlocked    Status = "blocked"
)

// Valid reports whether s is one of the statuses a department can report.
// The empty status ("a note") is not a status of its own, so it is not valid
// here; Update validation accepts it separately.
func (s Status) Valid() bool {
	switch s {
	case StatusNotStarted, StatusInProgress, StatusDone, StatusBlocked:
		return true
	}
	return false
}

// Source says how an update reached the bot.
type Source string

// The ways an update reaches the bot.
const (
	SourceCommand Source = "command"
	SourceReply   Source = "reply"
	SourceButton  Source = "button"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case SourceCommand, SourceReply, SourceButton:
		return true
	}
	return false
}

// Update is one progress report from a department on a task. Updates are
// append-only: a correction is a new Update whose Corrects names the one it
// corrects; nothing is ever overwritten.
type Update struct {
	// ID is assigned by the store: "<task>-<seq>".
	ID string `json:"id"`
	// Seq is the position in the task's chain, 1, 2, 3…, assigned by the store.
	Seq        int64     `json:"seq"`
	Task       int       `json:"task"`
	Department string    `json:"department"`
	At         time.Time `json:"at"`
	ChatID     int64     `json:"chat_id"`
	MessageID  int       `json:"message_id"`
	UserID     int64     `json:"user_id"`
	UserName   string    `json:"user_name"`
	// Text is kept byte-exact as sent.
	Text string `json:"text"`
	// Status is "" for a note that leaves the status unchanged.
	Status Status `json:"status"`
	// Percent is nil when not given.
	Percent *int `json:"percent"`
	// Value is the metric value, nil when not given.
	Value  *float64 `json:"value"`
	Source Source   `json:"source"`
	// Corrects is the ID of the update this one corrects, "" if none.
	Corrects string `json:"corrects"`
	// Attachment is the file sent with the report (a document, photo, voice, …), nil if none.
	// The file itself stays at Telegram; FileID fetches it (getFile), FileUniqueID names it
	// for good.
	Attachment *Attachment `json:"attachment,omitempty"`
	// TelegramUpdate is the Telegram update_id the update came from, 0 if none.
	TelegramUpdate int64 `json:"telegram_update"`
	// PrevHash is the Hash of the previous update of the same task, "" for
	// the first. Assigned by the store.
	PrevHash string `json:"prev_hash"`
	// Hash is the hex SHA-256 of the update's canonical encoding (see Hash).
	// Assigned by the store.
	Hash string `json:"hash"`
}

// Attachment describes a file a department sent with a report. Text (the caption) stays on
// the Update.
type Attachment struct {
	// Kind is what Telegram called it: "document", "photo", "voice", "video", "audio",
	// "video_note" or "animation".
	Kind         string `json:"kind"`
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	// FileName is the name the sender gave ("用地指标批复.pdf"); Telegram gives none for
	// photos, voice and video notes.
	FileName string `json:"file_name,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	// Size is in bytes, 0 if Telegram did not say.
	Size int64 `json:"size,omitempty"`
}

// State is the latest status of one department on one task, derived from
// its updates with Derive.
type State struct {
	Task       int    `json:"task"`
	Department string `json:"department"`
	// Status is the last non-empty status reported, not_started if none.
	Status Status `json:"status"`
	// StatusAt is when Status was reported (zero if never): a yearly task's status from last
	// year must not count this year, even after a note this year.
	StatusAt time.Time `json:"status_at"`
	// Percent and Value are the last values given, nil if never given.
	Percent *int     `json:"percent"`
	Value   *float64 `json:"value"`
	// Updates counts the department's updates on the task.
	Updates int `json:"updates"`
	// Last is the latest of those updates.
	Last Update `json:"last"`
}

// Sent records one reminder that went out: the ledger keys it satisfied and
// the Telegram messages it consists of.
type Sent struct {
	Keys       []string  `json:"keys"`
	Department string    `json:"department"`
	Tasks      []int     `json:"tasks"`
	Stage      string    `json:"stage"`
	ChatID     int64     `json:"chat_id"`
	MessageIDs []int     `json:"message_ids"`
	At         time.Time `json:"at"`
	// Parts is how many parts the message has; 0 means as many as MessageIDs. A Sent with
	// fewer MessageIDs than Parts is unfinished (see Complete): Confirm keeps it as pending,
	// with Text, so that a retry sends only the parts still missing.
	Parts int `json:"parts,omitempty"`
	// Text is the whole message, kept only while it is unfinished.
	Text string `json:"text,omitempty"`
	// Renew, on an unfinished Sent, makes its Confirm also renew the claim of its first key,
	// in the same atomic, fenced write (see Renewal). It is an instruction to Confirm, never
	// stored: a Sent read back has none.
	Renew *Renewal `json:"-"`
}

// Binding ties a department to the Telegram chat it is followed up in.
type Binding struct {
	Department string    `json:"department"`
	ChatID     int64     `json:"chat_id"`
	Title      string    `json:"title"`
	BoundAt    time.Time `json:"bound_at"`
	BoundBy    int64     `json:"bound_by"`
	// Broken is "" while the binding works, else why it does not (for
	// example the bot was removed from the chat).
	Broken string `json:"broken"`
}

// Sentinel errors shared by every backend; test with errors.Is.
var (
	// ErrInvalid wraps every rejection of input; the message names the field.
	ErrInvalid = errors.New("invalid input")
	// ErrCodeInvalid means a binding code is unknown, already used or expired.
	ErrCodeInvalid = errors.New("binding code is unknown, used or expired")
	// ErrLocked means the embedded store file is held by another process.
	ErrLocked = errors.New("store is locked")
	// ErrNotFound means the thing named (a binding) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the thing to create (a binding code) already exists.
	ErrExists = errors.New("already exists")
	// ErrReadOnly means a write was attempted on a store opened read-only.
	ErrReadOnly = errors.New("store is read-only")
	// ErrConflict means a write lost too many optimistic-concurrency races in
	// a row; the caller may retry.
	ErrConflict = errors.New("too much concurrent writing, gave up")
)

// SeenRetention is how long a backend remembers a Telegram update_id to deduplicate it, and
// no longer. Telegram redelivers an unconfirmed update (by getUpdates or a webhook's retries)
// only within about 24 hours; and after about a week without updates it numbers them afresh,
// so an id remembered for longer than the quiet week could take a new report for a
// redelivery of an old one and drop it. Two days covers the first and stays far from the
// second.
const SeenRetention = 48 * time.Hour

// FormatID returns the ID of update seq of task.
func FormatID(task int, seq int64) string {
	return strconv.Itoa(task) + "-" + strconv.FormatInt(seq, 10)
}

// ParseID splits an update ID made by FormatID.
func ParseID(id string) (task int, seq int64, err error) {
	taskText, seqText, ok := strings.Cut(id, "-")
	if !ok {
		return 0, 0, fmt.Errorf("update id %q: want <task>-<seq>", id)
	}
	task, err = strconv.Atoi(taskText)
	if err != nil || task <= 0 || strconv.Itoa(task) != taskText {
		return 0, 0, fmt.Errorf("update id %q: task is not a positive integer", id)
	}
	seq, err = strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq <= 0 || strconv.FormatInt(seq, 10) != seqText {
		return 0, 0, fmt.Errorf("update id %q: seq is not a positive integer", id)
	}
	return task, seq, nil
}

// SnoozeKey is the key of a snooze in the map Snoozes returns.
func SnoozeKey(task int, department string) string {
	return strconv.Itoa(task) + "|" + department
}

// FormatTime is how backends store a time as text: UTC, RFC 3339 with
// nanoseconds, so it reads back exactly.
func FormatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// ParseTime reads a time written by FormatTime, in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// NormalizeTime drops the monotonic reading and the zone, which storage
// cannot keep, so that a stored time compares equal to what was given.
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Round(0)
}

// Answer is an acknowledgement in the outbox: written before the update it answers is
// confirmed to Telegram, deleted once it is sent and its message index written, so that an
// acknowledgement queued when the daemon died is sent by the next leader. It is keyed by
// (ChatID, Update); a redelivered update overwrites its entry.
type Answer struct {
	ChatID   int64  `json:"chat_id"`
	Update   int64  `json:"update"` // the Telegram update id it answers
	ThreadID int    `json:"thread_id,omitempty"`
	ReplyTo  int    `json:"reply_to,omitempty"`
	Text     string `json:"text"`
	Keyboard string `json:"keyboard,omitempty"` // the inline keyboard as JSON; "" for none
	// What the message index needs once it is sent.
	Department string    `json:"department"`
	Tasks      []int     `json:"tasks,omitempty"`
	Stage      string    `json:"stage"`
	At         time.Time `json:"at"` // when it was written
}

// AnswerFor makes the acknowledgement of what a RecordAnswered call recorded. It may be
// called more than once (a write retried after a conflict) and must not touch the store.
type AnswerFor func(recorded []Update) Answer

// SortAnswers orders answers as they were written (then by chat and update), so that a
// chat's are sent again in their order.
func SortAnswers(as []Answer) {
	sort.Slice(as, func(i, j int) bool {
		a, b := as[i], as[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		if a.ChatID != b.ChatID {
			return a.ChatID < b.ChatID
		}
		return a.Update < b.Update
	})
}

// Pruned says what a ledger pruning removed.
type Pruned struct {
	Keys    int // ledger keys, with their entry in the sent index
	Records int // message records no key and no message points to any more
	Claims  int // claims whose lease had lapsed, unconfirmed
}

// PruneKeep decides, for a confirmed ledger key and when it was sent, whether the ledger must
// keep it: false means no decision can need it again.
type PruneKeep func(key string, at time.Time) bool
