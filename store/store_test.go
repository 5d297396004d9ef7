package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func intp(v int) *int           { return &v }
func floatp(v float64) *float64 { return &v }
func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func sampleUpdate(tb testing.TB) Update {
	tb.Helper()
	return Update{
		ID:             "42-7",
		Seq:            7,
		Task:           42,
		Department:     "市教育局",
		At:             mustTime(tb, "2025-03-01T16:00:00.500000000+08:00"),
		ChatID:         -1001234567890,
		MessageID:      321,
		UserID:         99,
		UserName:       "王芳",
		Text:           "完成\n第二行",
		Status:         StatusInProgress,
		Percent:        intp(60),
		Value:          floatp(12.5),
		Source:         SourceReply,
		Corrects:       "42-6",
		TelegramUpdate: 1000,
		PrevHash:       "abc",
		Hash:           "ignored",
	}
}

func TestCanonicalEncodingIsDocumentedFormat(t *testing.T) {
	want := "duban-update-v1\n" +
		"id=4:42-7\n" +
		"seq=1:7\n" +
		"task=2:42\n" +
		"department=12:市教育局\n" +
		"at=22:2025-03-01T08:00:00.5Z\n" +
		"chat_id=14:-1001234567890\n" +
		"message_id=3:321\n" +
		"user_id=2:99\n" +
		"user_name=6:王芳\n" +
		"text=16:完成\n第二行\n" +
		"status=11:in_progress\n" +
		"percent=2:60\n" +
		"value=4:12.5\n" +
		"source=5:reply\n" +
		"corrects=4:42-6\n" +
		"telegram_update=4:1000\n" +
		"prev_hash=3:abc\n"
	got := string(CanonicalEncoding(sampleUpdate(t)))
	if got != want {
		t.Fatalf("got encoding\n%q\nwant\n%q", got, want)
	}
	sum := sha256.Sum256([]byte(want))
	if got, want := Hash(sampleUpdate(t)), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("got hash %s, want sha256 of the encoding %s", got, want)
	}
}

func TestCanonicalEncodingOfNilValues(t *testing.T) {
	u := sampleUpdate(t)
	u.Percent, u.Value = nil, nil
	enc := string(CanonicalEncoding(u))
	for _, want := range []string{"\npercent=0:\n", "\nvalue=0:\n"} {
		if !strings.Contains(enc, want) {
			t.Errorf("got encoding %q, want it to contain %q", enc, want)
		}
	}
	zero := sampleUpdate(t)
	zero.Percent, zero.Value = intp(0), floatp(0)
	if Hash(u) == Hash(zero) {
		t.Errorf("got equal hashes for nil and zero percent/value, want them to differ")
	}
}

func TestValueEncodingHasNoExponent(t *testing.T) {
	tests := []struct {
		value float64
		want  string
	}{
		{12.5, "12.5"},
		{-0.001, "-0.001"},
		{1e6, "1000000"},
		{1e21, "1000000000000000000000"},
		{math.Nextafter(0.3, 1), "0.30000000000000004"},
	}
	for _, tt := range tests {
		u := sampleUpdate(t)
		u.Value = floatp(tt.value)
		want := "\nvalue=" + strconv.Itoa(len(tt.want)) + ":" + tt.want + "\n"
		if got := string(CanonicalEncoding(u)); !strings.Contains(got, want) {
			t.Errorf("value %v: got encoding %q, want it to contain %q", tt.value, got, want)
		}
	}
}

// Every field but Hash must take part in the hash, or an edit to it would go
// unnoticed by Verify.
func TestHashCoversEveryFieldButHash(t *testing.T) {
	base := sampleUpdate(t)
	baseHash := Hash(base)
	typ := reflect.TypeOf(base)
	for i := 0; i < typ.NumField(); i++ {
		field := typ.Field(i)
		changed := base
		v := reflect.ValueOf(&changed).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Pointer:
			switch p := v.Interface().(type) {
			case *int:
				v.Set(reflect.ValueOf(intp(*p + 1)))
			case *float64:
				v.Set(reflect.ValueOf(floatp(*p + 0.25)))
			case *Attachment:
				if p != nil {
					t.Fatalf("field %s: the sample has an attachment, want it without (see TestHashCoversEveryAttachmentField)", field.Name)
				}
				v.Set(reflect.ValueOf(sampleAttachment()))
			default:
				t.Fatalf("field %s: pointer type %T not covered by this test", field.Name, p)
			}
		case reflect.Struct:
			changed.At = base.At.Add(time.Nanosecond)
		default:
			t.Fatalf("field %s: kind %v not covered by this test", field.Name, v.Kind())
		}
		got := Hash(changed)
		if field.Name == "Hash" {
			if got != baseHash {
				t.Errorf("changing Hash changed the hash: got %s, want %s", got, baseHash)
			}
			continue
		}
		if got == baseHash {
			t.Errorf("changing %s did not change the hash", field.Name)
		}
	}
}

func sampleAttachment() *Attachment {
	return &Attachment{
		Kind:         "document",
		FileID:       "BQACAgUAAxkBAAIBZ2Y",
		FileUniqueID: "AgADxQ8AAo",
		FileName:     "用地指标批复.pdf",
		MimeType:     "application/pdf",
		Size:         48213,
	}
}

// The attachment is covered field by field: an edit to any of them must show.
func TestHashCoversEveryAttachmentField(t *testing.T) {
	base := sampleUpdate(t)
	base.Attachment = sampleAttachment()
	baseHash := Hash(base)
	typ := reflect.TypeOf(*base.Attachment)
	for i := 0; i < typ.NumField(); i++ {
		a := *base.Attachment
		v := reflect.ValueOf(&a).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int64:
			v.SetInt(v.Int() + 1)
		default:
			t.Fatalf("attachment field %s: kind %v not covered by this test", typ.Field(i).Name, v.Kind())
		}
		changed := base
		changed.Attachment = &a
		if Hash(changed) == baseHash {
			t.Errorf("changing Attachment.%s did not change the hash", typ.Field(i).Name)
		}
	}
	// An attachment whose every field is empty is still an attachment.
	empty := sampleUpdate(t)
	empty.Attachment = &Attachment{}
	if Hash(empty) == Hash(sampleUpdate(t)) {
		t.Errorf("got the same hash with an empty attachment and with none, want them to differ")
	}
}

func TestCanonicalEncodingWithAttachment(t *testing.T) {
	withoutAttachment := string(CanonicalEncoding(sampleUpdate(t)))
	tests := []struct {
		name string
		a    *Attachment
		want string // what follows prev_hash
	}{
		{"none", nil, ""},
		{"document", sampleAttachment(),
			"attachment.kind=8:document\n" +
				"attachment.file_id=19:BQACAgUAAxkBAAIBZ2Y\n" +
				"attachment.file_unique_id=10:AgADxQ8AAo\n" +
				"attachment.file_name=22:用地指标批复.pdf\n" +
				"attachment.mime_type=15:application/pdf\n" +
				"attachment.size=5:48213\n"},
		{"photo without name, type or size", &Attachment{Kind: "photo", FileID: "AgAC", FileUniqueID: "AQAD"},
			"attachment.kind=5:photo\n" +
				"attachment.file_id=4:AgAC\n" +
				"attachment.file_unique_id=4:AQAD\n" +
				"attachment.file_name=0:\n" +
				"attachment.mime_type=0:\n" +
				"attachment.size=1:0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := sampleUpdate(t)
			u.Attachment = tt.a
			if got, want := string(CanonicalEncoding(u)), withoutAttachment+tt.want; got != want {
				t.Fatalf("got encoding\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// A hash written before attachments existed must still verify: the encoding of an update
// without one is pinned to the digest the earlier code produced.
func TestHashWithoutAttachmentIsUnchanged(t *testing.T) {
	const want = "a210a584f4e19575f76ec7b72ec0d33ef1026e4a7c3ad900ab8d7faaadb0d55d" // by the code before attachments
	if got := Hash(sampleUpdate(t)); got != want {
		t.Errorf("got hash %s, want %s", got, want)
	}
}

func TestHashIgnoresZoneAndMonotonicClock(t *testing.T) {
	u := sampleUpdate(t)
	inShanghai := u
	inShanghai.At = u.At.In(time.FixedZone("CST", 8*3600))
	withMonotonic := u
	now := time.Now()
	withMonotonic.At = now
	plain := u
	plain.At = now.UTC().Round(0)
	if Hash(u) != Hash(inShanghai) {
		t.Errorf("got different hashes for the same instant in two zones, want equal")
	}
	if Hash(withMonotonic) != Hash(plain) {
		t.Errorf("got different hashes with and without monotonic reading, want equal")
	}
}

func TestDerive(t *testing.T) {
	steps := []struct {
		name string
		u    Update
		want State
	}{
		{
			name: "first note starts not_started",
			u:    Update{Seq: 1, Task: 1, Department: "市教育局", Text: "收到"},
			want: State{Task: 1, Department: "市教育局", Status: StatusNotStarted, Updates: 1},
		},
		{
			name: "status and percent",
			u:    Update{Seq: 2, Task: 1, Department: "市教育局", Status: StatusInProgress, Percent: intp(30)},
			want: State{Task: 1, Department: "市教育局", Status: StatusInProgress, Percent: intp(30), Updates: 2},
		},
		{
			name: "note keeps status and percent",
			u:    Update{Seq: 3, Task: 1, Department: "市教育局", Text: "进展顺利"},
			want: State{Task: 1, Department: "市教育局", Status: StatusInProgress, Percent: intp(30), Updates: 3},
		},
		{
			name: "value given, percent carries",
			u:    Update{Seq: 4, Task: 1, Department: "市教育局", Value: floatp(7.5)},
			want: State{Task: 1, Department: "市教育局", Status: StatusInProgress, Percent: intp(30), Value: floatp(7.5), Updates: 4},
		},
		{
			name: "correction takes effect as a new update",
			u:    Update{Seq: 5, Task: 1, Department: "市教育局", Status: StatusBlocked, Percent: intp(20), Corrects: "1-2"},
			want: State{Task: 1, Department: "市教育局", Status: StatusBlocked, Percent: intp(20), Value: floatp(7.5), Updates: 5},
		},
	}
	var state State
	for _, step := range steps {
		state = Derive(state, step.u)
		step.want.Last = step.u
		if !reflect.DeepEqual(state, step.want) {
			t.Fatalf("%s: got %+v, want %+v", step.name, state, step.want)
		}
	}
}

func TestDeriveDoesNotAliasPointers(t *testing.T) {
	p := intp(10)
	s := Derive(State{}, Update{Task: 1, Department: "d", Percent: p})
	*p = 99
	if *s.Percent != 10 {
		t.Errorf("got percent %d after changing the update's pointer, want 10", *s.Percent)
	}
}

func validUpdate() Update {
	return Update{Task: 3, Department: "市卫健委", Source: SourceCommand, Text: "ok"}
}

func TestNormalizeRejectsInvalidFields(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Update)
		field string
	}{
		{"zero task", func(u *Update) { u.Task = 0 }, "task"},
		{"negative task", func(u *Update) { u.Task = -1 }, "task"},
		{"empty department", func(u *Update) { u.Department = "" }, "department"},
		{"bad department utf-8", func(u *Update) { u.Department = "\xff" }, "department"},
		{"unknown status", func(u *Update) { u.Status = "finished" }, "status"},
		{"empty source", func(u *Update) { u.Source = "" }, "source"},
		{"unknown source", func(u *Update) { u.Source = "email" }, "source"},
		{"bad text utf-8", func(u *Update) { u.Text = "a\xc3" }, "text"},
		{"bad user name utf-8", func(u *Update) { u.UserName = "\xfe" }, "user_name"},
		{"percent over 100", func(u *Update) { u.Percent = intp(101) }, "percent"},
		{"negative percent", func(u *Update) { u.Percent = intp(-1) }, "percent"},
		{"NaN value", func(u *Update) { u.Value = floatp(math.NaN()) }, "value"},
		{"infinite value", func(u *Update) { u.Value = floatp(math.Inf(1)) }, "value"},
		{"negative telegram update", func(u *Update) { u.TelegramUpdate = -5 }, "telegram_update"},
		{"malformed corrects", func(u *Update) { u.Corrects = "x" }, "corrects"},
		{"corrects other task", func(u *Update) { u.Corrects = "4-1" }, "corrects"},
		{"year past 9999", func(u *Update) { u.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "at"},
		{"attachment kind empty", func(u *Update) { u.Attachment.Kind = "" }, "attachment.kind"},
		{"attachment kind unknown", func(u *Update) { u.Attachment.Kind = "sticker" }, "attachment.kind"},
		{"attachment file id empty", func(u *Update) { u.Attachment.FileID = "" }, "attachment.file_id"},
		{"attachment file id utf-8", func(u *Update) { u.Attachment.FileID = "\xff" }, "attachment.file_id"},
		{"attachment unique id empty", func(u *Update) { u.Attachment.FileUniqueID = "" }, "attachment.file_unique_id"},
		{"attachment unique id utf-8", func(u *Update) { u.Attachment.FileUniqueID = "a\xc3" }, "attachment.file_unique_id"},
		{"attachment file name utf-8", func(u *Update) { u.Attachment.FileName = "\xfe.pdf" }, "attachment.file_name"},
		{"attachment mime type utf-8", func(u *Update) { u.Attachment.MimeType = "\x80" }, "attachment.mime_type"},
		{"attachment size negative", func(u *Update) { u.Attachment.Size = -1 }, "attachment.size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := validUpdate()
			bad.Attachment = sampleAttachment()
			tt.edit(&bad)
			_, err := Normalize([]Update{validUpdate(), bad}, time.Now())
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got error %v, want one wrapping ErrInvalid", err)
			}
			if want := "updates[1]: " + tt.field + ":"; !strings.Contains(err.Error(), want) {
				t.Fatalf("got error %q, want it to contain %q", err, want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	now := mustTime(t, "2025-05-05T10:00:00.123456789Z")
	in := validUpdate()
	in.At = time.Time{}
	in.ID, in.Seq, in.PrevHash, in.Hash = "9-9", 9, "p", "h"
	got, err := Normalize([]Update{in}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].At.Equal(now) || got[0].At.Location() != time.UTC {
		t.Errorf("got at %v, want %v in UTC", got[0].At, now)
	}
	if got[0].ID != "" || got[0].Seq != 0 || got[0].PrevHash != "" || got[0].Hash != "" {
		t.Errorf("got store-assigned fields %q %d %q %q, want them cleared", got[0].ID, got[0].Seq, got[0].PrevHash, got[0].Hash)
	}
}

func TestNormalizeAttachment(t *testing.T) {
	tests := []struct {
		name string
		a    *Attachment
	}{
		{"none", nil},
		{"document", sampleAttachment()},
		{"photo, nothing optional", &Attachment{Kind: "photo", FileID: "AgAC", FileUniqueID: "AQAD"}},
		{"voice", &Attachment{Kind: "voice", FileID: "AwAC", FileUniqueID: "AgAD", MimeType: "audio/ogg", Size: 9000}},
	}
	for _, kind := range []string{"video", "audio", "video_note", "animation"} {
		tests = append(tests, struct {
			name string
			a    *Attachment
		}{kind, &Attachment{Kind: kind, FileID: "id", FileUniqueID: "uid"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validUpdate()
			in.Attachment = tt.a
			got, err := Normalize([]Update{in}, time.Now())
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got[0].Attachment, tt.a) {
				t.Fatalf("got attachment %+v, want %+v", got[0].Attachment, tt.a)
			}
			if tt.a == nil {
				return
			}
			if got[0].Attachment == tt.a {
				t.Fatalf("got the caller's attachment pointer, want a copy")
			}
			// What the caller does to its struct afterwards must not reach the record.
			tt.a.FileName = "changed"
			if got[0].Attachment.FileName == "changed" {
				t.Errorf("got file name %q after the caller changed its struct, want the original", got[0].Attachment.FileName)
			}
		})
	}
}

func TestAppendLinksChainsAndDerivesStates(t *testing.T) {
	ups, err := Normalize([]Update{
		{Task: 1, Department: "A", Source: SourceReply, Status: StatusInProgress, At: time.Unix(1, 0)},
		{Task: 2, Department: "A", Source: SourceReply, At: time.Unix(2, 0)},
		{Task: 1, Department: "A", Source: SourceReply, Percent: intp(50), At: time.Unix(3, 0)},
		{Task: 1, Department: "B", Source: SourceReply, Corrects: "1-5", At: time.Unix(4, 0)},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	heads := map[int]ChainHead{1: {Seq: 5, Hash: "h5"}}
	states := map[StateKey]State{{1, "A"}: {Task: 1, Department: "A", Status: StatusBlocked, Updates: 5}}
	got, err := Append(ups, heads, states)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"1-6", "2-1", "1-7", "1-8"}
	wantPrev := []string{"h5", "", got.Updates[0].Hash, got.Updates[2].Hash}
	for i, u := range got.Updates {
		if u.ID != wantIDs[i] {
			t.Errorf("updates[%d]: got id %s, want %s", i, u.ID, wantIDs[i])
		}
		if u.PrevHash != wantPrev[i] {
			t.Errorf("updates[%d]: got prev_hash %q, want %q", i, u.PrevHash, wantPrev[i])
		}
		if u.Hash != Hash(u) {
			t.Errorf("updates[%d]: got hash %s, want %s", i, u.Hash, Hash(u))
		}
	}
	if h := got.Heads[1]; h.Seq != 8 || h.Hash != got.Updates[3].Hash {
		t.Errorf("got head of task 1 %+v, want seq 8 and the last hash", h)
	}
	a := got.States[StateKey{1, "A"}]
	if a.Status != StatusInProgress || a.Percent == nil || *a.Percent != 50 || a.Updates != 7 || a.Last.ID != "1-7" {
		t.Errorf("got state of (1, A) %+v, want in_progress, 50%%, 7 updates, last 1-7", a)
	}
	if len(heads) != 1 || heads[1].Seq != 5 || states[StateKey{1, "A"}].Updates != 5 {
		t.Errorf("Append modified its inputs: heads %v, states %v", heads, states)
	}
}

func TestAppendRejectsCorrectionOfLaterUpdate(t *testing.T) {
	ups, err := Normalize([]Update{{Task: 1, Department: "A", Source: SourceReply, Corrects: "1-1"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Append(ups, nil, nil); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "corrects") {
		t.Fatalf("got error %v, want an ErrInvalid naming corrects", err)
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		id      string
		task    int
		seq     int64
		wantErr bool
	}{
		{"42-7", 42, 7, false},
		{"1-1", 1, 1, false},
		{"0-1", 0, 0, true},
		{"1-0", 0, 0, true},
		{"01-1", 0, 0, true},
		{"1-+1", 0, 0, true},
		{"-1-1", 0, 0, true},
		{"1", 0, 0, true},
		{"", 0, 0, true},
	}
	for _, tt := range tests {
		task, seq, err := ParseID(tt.id)
		if (err != nil) != tt.wantErr || task != tt.task || seq != tt.seq {
			t.Errorf("ParseID(%q): got %d, %d, %v; want %d, %d, error %v", tt.id, task, seq, err, tt.task, tt.seq, tt.wantErr)
		}
	}
}

// chains is an in-memory ChainReader for testing Verify on hand-made chains.
type chains struct {
	updates map[int][]Update
	heads   map[int]ChainHead
}

func (c chains) Chains(context.Context) ([]int, error) {
	var tasks []int
	for task := range c.heads {
		tasks = append(tasks, task)
	}
	sort.Ints(tasks)
	return tasks, nil
}

func (c chains) Updates(_ context.Context, task int) ([]Update, error) {
	return c.updates[task], nil
}

func (c chains) Head(_ context.Context, task int) (string, int64, error) {
	return c.heads[task].Hash, c.heads[task].Seq, nil
}

func buildChains(tb testing.TB, lengths map[int]int) chains {
	tb.Helper()
	var ups []Update
	for task, n := range lengths {
		for i := 0; i < n; i++ {
			ups = append(ups, Update{Task: task, Department: "A", Source: SourceReply, Text: "t", At: time.Unix(int64(i), 0)})
		}
	}
	ups, err := Normalize(ups, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	got, err := Append(ups, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := chains{updates: map[int][]Update{}, heads: got.Heads}
	for _, u := range got.Updates {
		c.updates[u.Task] = append(c.updates[u.Task], u)
	}
	return c
}

func TestVerify(t *testing.T) {
	type found struct {
		task int
		seq  int64
		kind ProblemKind
	}
	tests := []struct {
		name   string
		tamper func(c chains)
		want   []found
	}{
		{"clean", func(c chains) {}, nil},
		{"altered text", func(c chains) { c.updates[1][1].Text = "改" }, []found{{1, 2, ProblemAltered}}},
		{"altered and re-hashed", func(c chains) {
			c.updates[1][1].Text = "改"
			c.updates[1][1].Hash = Hash(c.updates[1][1])
		}, []found{{1, 3, ProblemLinkBroken}}},
		{"middle removed", func(c chains) {
			c.updates[2] = append(c.updates[2][:1:1], c.updates[2][2:]...)
		}, []found{{2, 3, ProblemSeqGap}}},
		{"tail removed", func(c chains) { c.updates[2] = c.updates[2][:2] }, []found{{2, 3, ProblemHeadMismatch}}},
		{"whole chain removed", func(c chains) { delete(c.updates, 1) }, []found{{1, 3, ProblemHeadMismatch}}},
		{"attachment renamed", func(c chains) { c.updates[2][0].Attachment.FileName = "改名.pdf" }, []found{{2, 1, ProblemAltered}}},
		{"attachment removed", func(c chains) { c.updates[2][0].Attachment = nil }, []found{{2, 1, ProblemAltered}}},
		{"attachment added", func(c chains) { c.updates[1][0].Attachment = sampleAttachment() }, []found{{1, 1, ProblemAltered}}},
		{"record moved to another chain", func(c chains) {
			c.updates[2] = append(c.updates[2], c.updates[1][2])
		}, []found{{2, 3, ProblemLinkBroken}, {2, 3, ProblemHeadMismatch}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := buildChains(t, map[int]int{1: 3, 2: 3})
			c.updates[2][0].Attachment = sampleAttachment()
			c.updates[2][0].Hash = Hash(c.updates[2][0])
			c.updates[2][1].PrevHash = c.updates[2][0].Hash
			c.updates[2][1].Hash = Hash(c.updates[2][1])
			c.updates[2][2].PrevHash = c.updates[2][1].Hash
			c.updates[2][2].Hash = Hash(c.updates[2][2])
			c.heads[2] = ChainHead{Seq: 3, Hash: c.updates[2][2].Hash}
			tt.tamper(c)
			problems, err := Verify(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			var got []found
			for _, p := range problems {
				got = append(got, found{p.Task, p.Seq, p.Kind})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got problems %v, want %v", problems, tt.want)
			}
		})
	}
}

// latestChains is an in-memory LatestReader: chains plus stored states, by copy.
type latestChains struct {
	chains
	copies map[string][]StoredState
	// growing, if set, appends an update to task 1 on every StoredLatest, as a daemon
	// recording replies during verify would.
	growing bool
}

func (c *latestChains) StoredLatest(context.Context, []string) (map[string][]StoredState, error) {
	if c.growing {
		ups := c.updates[1]
		u := ups[len(ups)-1]
		u.Seq++
		u.ID, u.PrevHash = FormatID(1, u.Seq), u.Hash
		u.Hash = Hash(u)
		c.updates[1] = append(ups, u)
		c.heads[1] = ChainHead{Seq: u.Seq, Hash: u.Hash}
	}
	return c.copies, nil
}

// TestVerifyLatest: every stored state that is not what the updates derive is reported, in
// every copy, naming the task, the department and what differs.
func TestVerifyLatest(t *testing.T) {
	build := func(tb testing.TB) *latestChains {
		c := buildChains(tb, map[int]int{1: 3, 2: 1})
		c.updates[1][1].Department = "B"
		c.updates[1][2].Status, c.updates[1][2].Percent = StatusBlocked, intp(40)
		for i := range c.updates[1] { // re-link task 1 after the edits
			if i > 0 {
				c.updates[1][i].PrevHash = c.updates[1][i-1].Hash
			}
			c.updates[1][i].Hash = Hash(c.updates[1][i])
		}
		c.heads[1] = ChainHead{Seq: 3, Hash: c.updates[1][2].Hash}
		states := map[StateKey]State{}
		for _, task := range []int{1, 2} {
			for _, u := range c.updates[task] {
				k := StateKey{task, u.Department}
				states[k] = Derive(states[k], u)
			}
		}
		lc := &latestChains{chains: c, copies: map[string][]StoredState{"latest": nil, "copy": nil}}
		for _, k := range []StateKey{{1, "A"}, {1, "B"}, {2, "A"}} {
			lc.copies["latest"] = append(lc.copies["latest"], StoredState{Task: k.Task, Department: k.Department, State: states[k]})
			lc.copies["copy"] = append(lc.copies["copy"], StoredState{Task: k.Task, Department: k.Department, State: states[k], LastCopied: true})
		}
		return lc
	}
	tests := []struct {
		name   string
		tamper func(c *latestChains)
		want   []string
	}{
		{"clean", func(*latestChains) {}, nil},
		{"set to done", func(c *latestChains) { c.copies["latest"][0].State.Status = StatusDone }, []string{
			"task 1 A: latest_differs: status: latest says done, the updates say blocked",
		}},
		{"every field", func(c *latestChains) {
			st := &c.copies["copy"][0].State
			st.Status, st.StatusAt, st.Percent, st.Value, st.Updates = StatusDone, time.Time{}, intp(100), floatp(9), 3
			st.Last = c.updates[1][1]
		}, []string{
			"task 1 A: latest_differs: status: copy says done, the updates say blocked; " +
				"status_at: copy says none, the updates say 1970-01-01T00:00:02Z; percent: copy says 100, the updates say 40; " +
				"value: copy says 9, the updates say none; updates: copy says 3, the updates say 2; last: copy says 1-2, the updates say 1-3",
		}},
		{"copy of the last update altered", func(c *latestChains) { c.copies["copy"][1].State.Last.Text = "已完成" },
			[]string{"task 1 B: latest_differs: last: copy's copy of update 1-2 is not the record"}},
		{"only the seq is kept", func(c *latestChains) { c.copies["latest"][1].State.Last.Text = "已完成" }, nil},
		{"stored under another key", func(c *latestChains) { c.copies["latest"][2].State.Department = "B" }, []string{
			"task 2 A: latest_differs: key: latest says task 2 B under the key of task 2 A, the updates say task 2 A",
		}},
		{"missing", func(c *latestChains) { c.copies["copy"] = c.copies["copy"][1:] }, []string{
			"task 1 A: latest_missing: no state in copy; the updates say blocked 40%, 2 update(s), last 1-3",
		}},
		{"no updates behind it", func(c *latestChains) {
			st := c.copies["latest"][0]
			st.Department, st.State.Department, st.State.Status = "C", "C", StatusDone
			c.copies["latest"] = append(c.copies["latest"], st)
		}, []string{
			"task 1 C: latest_orphan: latest says done 40%, 2 update(s), last 1-3, but the department has no updates on the task",
		}},
		{"a task without a chain", func(c *latestChains) {
			c.copies["latest"] = append(c.copies["latest"], StoredState{Task: 7, Department: "A",
				State: State{Task: 7, Department: "A", Status: StatusDone, Updates: 1, Last: Update{Seq: 1}}})
		}, []string{
			"task 7 A: latest_orphan: latest says done, 1 update(s), last 7-1, but the department has no updates on the task",
		}},
		{"both copies, in order", func(c *latestChains) {
			c.copies["latest"][1].State.Updates = 5
			c.copies["copy"][1].State.Updates = 6
		}, []string{
			"task 1 B: latest_differs: updates: copy says 6, the updates say 1",
			"task 1 B: latest_differs: updates: latest says 5, the updates say 1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := build(t)
			tt.tamper(c)
			problems, err := VerifyLatest(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestVerifyWhileWritten: a store written during every read is an error, not problems that
// are only the daemon's writes seen half-way.
func TestVerifyWhileWritten(t *testing.T) {
	c := &latestChains{chains: buildChains(t, map[int]int{1: 2}), copies: map[string][]StoredState{"latest": nil}, growing: true}
	_, err := VerifyLatest(context.Background(), c)
	if !errors.Is(err, errKeptChanging) {
		t.Errorf("got %v, want %v", err, errKeptChanging)
	}
}
