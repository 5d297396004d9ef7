package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// hashVersion opens every canonical encoding, so that a future change of the
// encoding can never produce a hash that collides with this one.
const hashVersion = "duban-update-v1"

// Hash returns the lowercase hex SHA-256 of the canonical encoding of u
// (see CanonicalEncoding). Every field takes part except Hash itself;
// PrevHash does, which is what links the updates of a task into a chain.
func Hash(u Update) string {
	sum := sha256.Sum256(CanonicalEncoding(u))
	return hex.EncodeToString(sum[:])
}

// CanonicalEncoding returns the bytes Hash digests, so that an auditor can
// recompute a hash from an export without this code:
//
//	"duban-update-v1\n"
//	then, for each field in this order:
//	  name "=" len ":" value "\n"
//
// where len is the decimal byte length of value, so values may hold any bytes
// (newlines included) without ambiguity. The fields, in order, and how each
// value is written:
//
//	id               the update ID, e.g. "42-7"
//	seq              decimal integer
//	task             decimal integer
//	department       UTF-8 text as stored
//	at               UTC time in RFC 3339 with nanoseconds, trailing zeros of
//	                 the fraction dropped and no fraction if it is zero
//	                 (Go's time.RFC3339Nano), e.g. "2025-03-01T08:00:00.5Z"
//	chat_id          decimal integer, "-" sign if negative
//	message_id       decimal integer
//	user_id          decimal integer
//	user_name        text as stored
//	text             text as stored, byte for byte
//	status           "", "not_started", "in_progress", "done" or "blocked"
//	percent          "" (length 0) when not given, else a decimal integer
//	value            "" when not given, else plain decimal notation without
//	                 exponent with the fewest digits that read back as the
//	                 same IEEE-754 double (Go strconv.FormatFloat(v, 'f', -1, 64)),
//	                 e.g. "12.5", "-0.001", "1000000"
//	source           "command", "reply" or "button"
//	corrects         the corrected update's ID, or ""
//	telegram_update  decimal integer
//	prev_hash        lowercase hex, or "" for the first update of a task
//
// An update with an attachment (a file sent with the report) has six more
// fields after prev_hash, always all six; an update without one has none, so
// its encoding, and every hash written before attachments were kept, is
// unchanged:
//
//	attachment.kind            "document", "photo", "voice", "video", "audio",
//	                           "video_note" or "animation"
//	attachment.file_id         text as Telegram gave it
//	attachment.file_unique_id  text as Telegram gave it
//	attachment.file_name       text as sent, or "" (photos, voice)
//	attachment.mime_type       text as Telegram gave it, or ""
//	attachment.size            decimal integer, bytes; "0" if unknown
//
// Decimal integers have no "+" sign and no leading zeros. For example the
// text "好" is written as "text=3:好\n".
func CanonicalEncoding(u Update) []byte {
	var percent, value string
	if u.Percent != nil {
		percent = strconv.Itoa(*u.Percent)
	}
	if u.Value != nil {
		value = strconv.FormatFloat(*u.Value, 'f', -1, 64)
	}
	fields := []struct{ name, value string }{
		{"id", u.ID},
		{"seq", strconv.FormatInt(u.Seq, 10)},
		{"task", strconv.Itoa(u.Task)},
		{"department", u.Department},
		{"at", FormatTime(u.At)},
		{"chat_id", strconv.FormatInt(u.ChatID, 10)},
		{"message_id", strconv.Itoa(u.MessageID)},
		{"user_id", strconv.FormatInt(u.UserID, 10)},
		{"user_name", u.UserName},
		{"text", u.Text},
		{"status", string(u.Status)},
		{"percent", percent},
		{"value", value},
		{"source", string(u.Source)},
		{"corrects", u.Corrects},
		{"telegram_update", strconv.FormatInt(u.TelegramUpdate, 10)},
		{"prev_hash", u.PrevHash},
	}
	if a := u.Attachment; a != nil {
		fields = append(fields, []struct{ name, value string }{
			{"attachment.kind", a.Kind},
			{"attachment.file_id", a.FileID},
			{"attachment.file_unique_id", a.FileUniqueID},
			{"attachment.file_name", a.FileName},
			{"attachment.mime_type", a.MimeType},
			{"attachment.size", strconv.FormatInt(a.Size, 10)},
		}...)
	}
	size := len(hashVersion) + 1
	for _, f := range fields {
		size += len(f.name) + len(f.value) + 24
	}
	b := make([]byte, 0, size)
	b = append(b, hashVersion...)
	b = append(b, '\n')
	for _, f := range fields {
		b = append(b, f.name...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(len(f.value)), 10)
		b = append(b, ':')
		b = append(b, f.value...)
		b = append(b, '\n')
	}
	return b
}
