package store

import (
	"fmt"
	"math"
	"sort"
	"time"
	"unicode/utf8"
)

// ChainHead is the tip of one task's chain: the Seq and Hash of its last
// update. The zero ChainHead is the head of an empty chain.
type ChainHead struct {
	Seq  int64
	Hash string
}

// StateKey names the State of one department on one task.
type StateKey struct {
	Task       int
	Department string
}

// Derive returns the state after u, given the state before it (the zero
// State if u is the department's first update on the task):
//
//   - a non-empty Status replaces the status; a note ("") keeps it;
//   - a given Percent or Value replaces the previous one; nil keeps it;
//   - a correction is an update like any other: what it gives takes effect.
func Derive(prev State, u Update) State {
	next := State{
		Task:       u.Task,
		Department: u.Department,
		Status:     prev.Status,
		StatusAt:   prev.StatusAt,
		Percent:    copyInt(prev.Percent),
		Value:      copyFloat(prev.Value),
		Updates:    prev.Updates + 1,
		Last:       u,
	}
	if u.Status != "" {
		next.Status, next.StatusAt = u.Status, u.At
	}
	if next.Status == "" {
		next.Status = StatusNotStarted
	}
	if u.Percent != nil {
		next.Percent = copyInt(u.Percent)
	}
	if u.Value != nil {
		next.Value = copyFloat(u.Value)
	}
	return next
}

// Normalize validates ups as given to Record and returns copies ready for
// Append: At in UTC without a monotonic reading (the zero At becomes now, so
// a reply is never refused for lacking a time), and the store-assigned fields
// (ID, Seq, PrevHash, Hash) cleared. Any invalid update fails the whole batch
// with an error wrapping ErrInvalid that names the update and the field.
func Normalize(ups []Update, now time.Time) ([]Update, error) {
	out := make([]Update, len(ups))
	for i, u := range ups {
		if err := validateUpdate(u); err != nil {
			return nil, fmt.Errorf("updates[%d]: %w", i, err)
		}
		if u.At.IsZero() {
			u.At = now
		}
		u.At = NormalizeTime(u.At)
		if y := u.At.Year(); y < 1 || y > 9999 {
			return nil, fmt.Errorf("updates[%d]: at: year %d is outside 1..9999: %w", i, y, ErrInvalid)
		}
		u.ID, u.Seq, u.PrevHash, u.Hash = "", 0, "", ""
		u.Percent = copyInt(u.Percent)
		u.Value = copyFloat(u.Value)
		if u.Attachment != nil {
			a := *u.Attachment // the caller's struct must not change what is stored
			u.Attachment = &a
		}
		out[i] = u
	}
	return out, nil
}

func validateUpdate(u Update) error {
	switch {
	case u.Task <= 0:
		return invalid("task", "must be positive, got %d", u.Task)
	case u.Department == "":
		return invalid("department", "must not be empty")
	case !utf8.ValidString(u.Department):
		return invalid("department", "is not valid UTF-8")
	case u.Status != "" && !u.Status.Valid():
		return invalid("status", "unknown status %q", u.Status)
	case !u.Source.Valid():
		return invalid("source", "unknown source %q", u.Source)
	case !utf8.ValidString(u.Text):
		return invalid("text", "is not valid UTF-8")
	case !utf8.ValidString(u.UserName):
		return invalid("user_name", "is not valid UTF-8")
	case u.Percent != nil && (*u.Percent < 0 || *u.Percent > 100):
		return invalid("percent", "must be within 0..100, got %d", *u.Percent)
	case u.Value != nil && (math.IsNaN(*u.Value) || math.IsInf(*u.Value, 0)):
		return invalid("value", "must be a finite number, got %v", *u.Value)
	case u.TelegramUpdate < 0:
		return invalid("telegram_update", "must not be negative, got %d", u.TelegramUpdate)
	}
	if u.Attachment != nil {
		if err := validateAttachment(*u.Attachment); err != nil {
			return err
		}
	}
	if u.Corrects != "" {
		task, _, err := ParseID(u.Corrects)
		if err != nil {
			return invalid("corrects", "%v", err)
		}
		if task != u.Task {
			return invalid("corrects", "%q belongs to task %d, not task %d", u.Corrects, task, u.Task)
		}
	}
	return nil
}

// attachmentKinds are the kinds of file Telegram sends that a report may carry.
var attachmentKinds = map[string]bool{
	"document": true, "photo": true, "voice": true, "video": true,
	"audio": true, "video_note": true, "animation": true,
}

func validateAttachment(a Attachment) error {
	switch {
	case !attachmentKinds[a.Kind]:
		return invalid("attachment.kind", "unknown kind %q", a.Kind)
	case a.FileID == "":
		return invalid("attachment.file_id", "must not be empty")
	case !utf8.ValidString(a.FileID):
		return invalid("attachment.file_id", "is not valid UTF-8")
	case a.FileUniqueID == "":
		return invalid("attachment.file_unique_id", "must not be empty")
	case !utf8.ValidString(a.FileUniqueID):
		return invalid("attachment.file_unique_id", "is not valid UTF-8")
	case !utf8.ValidString(a.FileName):
		return invalid("attachment.file_name", "is not valid UTF-8")
	case !utf8.ValidString(a.MimeType):
		return invalid("attachment.mime_type", "is not valid UTF-8")
	case a.Size < 0:
		return invalid("attachment.size", "must not be negative, got %d", a.Size)
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalid)
}

// Touched returns the tasks and state keys ups touch, sorted, so a backend
// knows which heads and states to read before calling Append.
func Touched(ups []Update) (tasks []int, keys []StateKey) {
	seenTask := map[int]bool{}
	seenKey := map[StateKey]bool{}
	for _, u := range ups {
		if !seenTask[u.Task] {
			seenTask[u.Task] = true
			tasks = append(tasks, u.Task)
		}
		k := StateKey{u.Task, u.Department}
		if !seenKey[k] {
			seenKey[k] = true
			keys = append(keys, k)
		}
	}
	sort.Ints(tasks)
	sortStateKeys(keys)
	return tasks, keys
}

// Appended is what a backend writes for one Record: the updates with their
// store-assigned fields, and the new head and state of everything touched.
type Appended struct {
	Updates []Update
	Heads   map[int]ChainHead
	States  map[StateKey]State
}

// Append links ups (from Normalize) onto their tasks' chains: it assigns
// Seq, ID, PrevHash and Hash, and derives the new states. heads and states
// hold what the backend read for the tasks and keys Touched returns; a
// missing entry means an empty chain or a first update. Neither map is
// modified. A correction must name an earlier update of its own chain.
//
// A backend passes the larger of its recorded head and the highest seq
// actually in storage as the head's Seq, so that rows someone added to raw
// storage never make a genuine reply unrecordable; Verify reports the gap.
func Append(ups []Update, heads map[int]ChainHead, states map[StateKey]State) (Appended, error) {
	out := Appended{
		Updates: make([]Update, 0, len(ups)),
		Heads:   map[int]ChainHead{},
		States:  map[StateKey]State{},
	}
	for i, u := range ups {
		head, ok := out.Heads[u.Task]
		if !ok {
			head = heads[u.Task]
		}
		u.Seq = head.Seq + 1
		u.ID = FormatID(u.Task, u.Seq)
		u.PrevHash = head.Hash
		if u.Corrects != "" {
			if _, seq, err := ParseID(u.Corrects); err != nil || seq >= u.Seq {
				return Appended{}, fmt.Errorf("updates[%d]: %w", i,
					invalid("corrects", "%q is not an earlier update of task %d", u.Corrects, u.Task))
			}
		}
		u.Hash = Hash(u)
		out.Heads[u.Task] = ChainHead{Seq: u.Seq, Hash: u.Hash}

		k := StateKey{u.Task, u.Department}
		prev, ok := out.States[k]
		if !ok {
			prev = states[k]
		}
		out.States[k] = Derive(prev, u)
		out.Updates = append(out.Updates, u)
	}
	return out, nil
}

// SortStates orders states by task, then department (byte order), the order
// Latest and LatestFor return.
func SortStates(states []State) {
	sort.Slice(states, func(i, j int) bool {
		if states[i].Task != states[j].Task {
			return states[i].Task < states[j].Task
		}
		return states[i].Department < states[j].Department
	})
}

func sortStateKeys(keys []StateKey) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Task != keys[j].Task {
			return keys[i].Task < keys[j].Task
		}
		return keys[i].Department < keys[j].Department
	})
}

// ValidateClaim checks the arguments of Claim.
func ValidateClaim(key, owner string, now time.Time, lease time.Duration) error {
	switch {
	case key == "":
		return invalid("key", "must not be empty")
	case owner == "":
		return invalid("owner", "must not be empty")
	case now.IsZero():
		return invalid("now", "must be set")
	case lease <= 0:
		return invalid("lease", "must be positive, got %v", lease)
	}
	return nil
}

// NormalizeSent validates the argument of Confirm and returns a copy with At
// in UTC.
func NormalizeSent(s Sent) (Sent, error) {
	// A Sent with no keys only indexes bot messages (an acknowledgement) for MessageRef.
	if len(s.Keys) == 0 && len(s.MessageIDs) == 0 {
		return Sent{}, invalid("keys", "must not be empty unless message ids are indexed")
	}
	for i, k := range s.Keys {
		if k == "" {
			return Sent{}, invalid(fmt.Sprintf("keys[%d]", i), "must not be empty")
		}
	}
	for i, k := range s.Keys {
		if !utf8.ValidString(k) {
			return Sent{}, invalid(fmt.Sprintf("keys[%d]", i), "is not valid UTF-8")
		}
	}
	switch {
	case s.At.IsZero():
		return Sent{}, invalid("at", "must be set")
	case !utf8.ValidString(s.Department):
		return Sent{}, invalid("department", "is not valid UTF-8")
	case !utf8.ValidString(s.Stage):
		return Sent{}, invalid("stage", "is not valid UTF-8")
	}
	s.At = NormalizeTime(s.At)
	s.Keys = append([]string(nil), s.Keys...)
	s.Tasks = append([]int(nil), s.Tasks...)
	s.MessageIDs = append([]int(nil), s.MessageIDs...)
	return s, nil
}

// NormalizeBinding validates the argument of Bind and returns a copy with
// BoundAt in UTC.
func NormalizeBinding(b Binding) (Binding, error) {
	switch {
	case b.Department == "":
		return Binding{}, invalid("department", "must not be empty")
	case b.ChatID == 0:
		return Binding{}, invalid("chat_id", "must not be 0")
	case !utf8.ValidString(b.Department):
		return Binding{}, invalid("department", "is not valid UTF-8")
	case !utf8.ValidString(b.Title):
		return Binding{}, invalid("title", "is not valid UTF-8")
	case !utf8.ValidString(b.Broken):
		return Binding{}, invalid("broken", "is not valid UTF-8")
	}
	b.BoundAt = NormalizeTime(b.BoundAt)
	return b, nil
}

// ValidateCode checks the arguments of CreateCode.
func ValidateCode(code, department string, expires time.Time) error {
	switch {
	case code == "":
		return invalid("code", "must not be empty")
	case department == "":
		return invalid("department", "must not be empty")
	case !utf8.ValidString(department):
		return invalid("department", "is not valid UTF-8")
	case expires.IsZero():
		return invalid("expires", "must be set")
	}
	return nil
}

// ValidateWeb checks the arguments of CreateWebToken and CreateWebSession: key, the token or
// the session id, is named what in the error.
func ValidateWeb(what, key, scope string, expires time.Time) error {
	switch {
	case key == "":
		return invalid(what, "must not be empty")
	case scope == "":
		return invalid("scope", "must not be empty")
	case expires.IsZero():
		return invalid("expires", "must be set")
	}
	return nil
}

// ValidateSnooze checks the arguments of Snooze.
func ValidateSnooze(task int, department string) error {
	switch {
	case task <= 0:
		return invalid("task", "must be positive, got %d", task)
	case department == "":
		return invalid("department", "must not be empty")
	}
	return nil
}

// Expired reports whether something valid until expires is no longer valid
// at now: the boundary instant itself counts as expired.
func Expired(expires, now time.Time) bool {
	return !now.Before(expires)
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyFloat(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
