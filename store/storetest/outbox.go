package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// testOutbox: an acknowledgement put in the outbox is read back whole, in the order written;
// a second put for the same chat and update replaces the first; DoneAnswer removes it (and
// removing one that is not there is no error); entries survive a reopen and stay within
// their prefix.
func testOutbox(t *testing.T, s suite) {
	b, prefix := s.openFresh(t, "outbox")
	ctx := testContext(t)

	if got, err := b.Answers(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty outbox: got %v, %v; want none", got, err)
	}
	a1 := store.Answer{ChatID: -100123, Update: 900001, ThreadID: 7, ReplyTo: 42, Text: "已记录 #12 进行中 60%",
		Keyboard:   `{"inline_keyboard":[[{"text":"完成","callback_data":"ask|x"}]]}`,
		Department: "市教育局", Tasks: []int{12, 13}, Stage: "ack", At: t0}
	a2 := store.Answer{ChatID: -100456, Update: 900002, ReplyTo: 5, Text: "已记录 #3", Department: "市公安局",
		Tasks: []int{3}, Stage: "ack", At: t0.Add(time.Second)}
	a3 := store.Answer{ChatID: -100123, Update: 900003, ReplyTo: 43, Text: "已记录 #14", Department: "市教育局",
		Tasks: []int{14}, Stage: "ack", At: t0.Add(2 * time.Second)}
	for _, a := range []store.Answer{a3, a1, a2} {
		if err := b.PutAnswer(ctx, a); err != nil {
			t.Fatalf("put answer %d: %v", a.Update, err)
		}
	}
	want := func(label string, b Backend, as ...store.Answer) {
		t.Helper()
		got, err := b.Answers(ctx)
		if err != nil {
			t.Fatalf("%s: answers: %v", label, err)
		}
		if len(got) != len(as) {
			t.Fatalf("%s: got %d answers %+v, want %d", label, len(got), got, len(as))
		}
		for i := range as {
			w := as[i]
			w.At = store.NormalizeTime(w.At)
			g := got[i]
			if !g.At.Equal(w.At) {
				t.Errorf("%s: answer %d at %v, want %v", label, i, g.At, w.At)
			}
			g.At, w.At = time.Time{}, time.Time{}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: answer %d:\n got %+v\nwant %+v", label, i, g, w)
			}
		}
	}
	want("put", b, a1, a2, a3)

	// A redelivered update overwrites its entry.
	a1b := a1
	a1b.Text, a1b.Keyboard, a1b.At = "已记录 #12 进行中 70%", "", t0.Add(3*time.Second)
	if err := b.PutAnswer(ctx, a1b); err != nil {
		t.Fatalf("put again: %v", err)
	}
	want("overwritten", b, a2, a3, a1b)

	if err := b.DoneAnswer(ctx, a2.ChatID, a2.Update); err != nil {
		t.Fatalf("done: %v", err)
	}
	if err := b.DoneAnswer(ctx, a2.ChatID, a2.Update); err != nil {
		t.Fatalf("done twice: %v", err)
	}
	if err := b.DoneAnswer(ctx, a3.ChatID, a1.Update+999); err != nil {
		t.Fatalf("done, unknown: %v", err)
	}
	want("done", b, a3, a1b)

	// Another prefix sees none of it.
	b.Close()
	other := s.open(t, NewPrefix(t, "outbox-other"))
	want("other prefix", other)
	other.Close()

	// Reopened, as the next leader after a kill would: the entries are still there.
	b = s.open(t, prefix)
	want("reopened", b, a3, a1b)
	for _, a := range []store.Answer{a3, a1b} {
		if err := b.DoneAnswer(ctx, a.ChatID, a.Update); err != nil {
			t.Fatalf("done after reopen: %v", err)
		}
	}
	want("all done", b)
}

// testRecordAnswered: RecordAnswered stores the updates and the acknowledgement made from
// what was recorded in one write; a redelivered update gets its answer made again from what
// the first call recorded, in the same outbox entry; a record refused writes no answer.
func testRecordAnswered(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "answered")
	ctx := testContext(t)
	answerFor := func(chat, update int64, note string) store.AnswerFor {
		return func(recorded []store.Update) store.Answer {
			a := store.Answer{ChatID: chat, Update: update, ReplyTo: 42, Department: "市教育局", Stage: "ack", At: t0}
			for _, u := range recorded {
				a.Text += fmt.Sprintf("已记录 %s %s；", u.ID, u.Text)
				a.Tasks = append(a.Tasks, u.Task)
			}
			a.Text += note
			return a
		}
	}
	ups := []store.Update{reply(12, "市教育局", "进行中 60%"), reply(13, "市教育局", "已完成")}
	got, a, fresh, err := b.RecordAnswered(ctx, 800001, ups, answerFor(-100123, 800001, "一"))
	if err != nil || !fresh || len(got) != 2 {
		t.Fatalf("record answered: got %d updates, fresh %v, %v; want 2, true, nil", len(got), fresh, err)
	}
	want := store.Answer{ChatID: -100123, Update: 800001, ReplyTo: 42, Department: "市教育局", Stage: "ack",
		Text: "已记录 12-1 进行中 60%；已记录 13-1 已完成；一", Tasks: []int{12, 13}, At: t0}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("answer returned:\n got %+v\nwant %+v", a, want)
	}
	if stored, err := b.Answers(ctx); err != nil || len(stored) != 1 || !reflect.DeepEqual(stored[0], want) {
		t.Errorf("outbox: got %+v, %v; want only %+v", stored, err, want)
	}
	if ups, err := b.Updates(ctx, 12); err != nil || len(ups) != 1 || ups[0].Text != "进行中 60%" {
		t.Errorf("updates of task 12: got %+v, %v; want the one recorded", ups, err)
	}

	// Sent: the entry goes, and a redelivery of the same update records nothing new but
	// answers again, from the first call's updates.
	if err := b.DoneAnswer(ctx, -100123, 800001); err != nil {
		t.Fatalf("done: %v", err)
	}
	again, a2, fresh, err := b.RecordAnswered(ctx, 800001, []store.Update{reply(12, "市教育局", "别的")}, answerFor(-100123, 800001, "二"))
	if err != nil || fresh || len(again) != 2 || again[0].ID != "12-1" || again[1].ID != "13-1" {
		t.Fatalf("redelivered: got %+v, fresh %v, %v; want the first call's 12-1 and 13-1, fresh false", again, fresh, err)
	}
	want.Text = "已记录 12-1 进行中 60%；已记录 13-1 已完成；二"
	if !reflect.DeepEqual(a2, want) {
		t.Errorf("redelivered answer:\n got %+v\nwant %+v", a2, want)
	}
	if stored, err := b.Answers(ctx); err != nil || len(stored) != 1 || !reflect.DeepEqual(stored[0], want) {
		t.Errorf("outbox after redelivery: got %+v, %v; want only %+v", stored, err, want)
	}
	if ups, err := b.Updates(ctx, 12); err != nil || len(ups) != 1 {
		t.Errorf("updates of task 12 after redelivery: got %d, %v; want 1", len(ups), err)
	}

	// Refused: neither the updates nor the answer.
	bad := []store.Update{reply(14, "市教育局", "好"), {Task: 15, Department: "市教育局", Corrects: "15-9", Source: store.SourceReply}}
	if _, _, _, err := b.RecordAnswered(ctx, 800002, bad, answerFor(-100123, 800002, "三")); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("refused record: got %v, want one wrapping store.ErrInvalid", err)
	}
	if stored, err := b.Answers(ctx); err != nil || len(stored) != 1 || stored[0].Update != 800001 {
		t.Errorf("outbox after a refused record: got %+v, %v; want only update 800001's", stored, err)
	}
	if ups, err := b.Updates(ctx, 14); err != nil || len(ups) != 0 {
		t.Errorf("updates of task 14 after a refused record: got %d, %v; want none", len(ups), err)
	}
	if _, _, _, err := b.RecordAnswered(ctx, 800003, ups[:1], nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no answer func: got %v, want one wrapping store.ErrInvalid", err)
	}
}
