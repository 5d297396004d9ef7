package storetest

import (
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
