package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// snapshot is every kind of data fill writes, as the store must give it back.
type snapshot struct {
	department string
	updates    map[int][]store.Update
	latest     []store.State
	ledger     map[string]time.Time
	sent       store.Sent
	bindings   []store.Binding
	snoozes    map[string]time.Time
	offset     int64
}

// fill writes one of every kind of data. Every call uses the same task ids,
// Telegram update id, ledger keys, chat id and code, so that data leaking
// between prefixes collides visibly.
func fill(tb testing.TB, b Backend, department string, offset int64) snapshot {
	tb.Helper()
	ctx := testContext(tb)
	first := mustRecord(tb, b, 77,
		withProgress(reply(1, department, department+"：一"), store.StatusInProgress, intp(40), floatp(2.5)),
		reply(2, department, department+"：二"),
	)
	second := mustRecord(tb, b, 0, withAttachment(withCorrects(reply(1, department, department+"：更正"), "1-1"), document(department+"：更正说明.pdf")))
	if ok, err := b.Claim(ctx, "held", department, t0, time.Hour); err != nil || !ok {
		tb.Fatalf("claim held: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.Claim(ctx, "sent-key", department, t0, time.Minute); err != nil || !ok {
		tb.Fatalf("claim sent-key: got %v, %v; want true, nil", ok, err)
	}
	sent := store.Sent{Keys: []string{"sent-key"}, Department: department, Tasks: []int{1, 2}, Stage: department, ChatID: 5, MessageIDs: []int{6, 7}, At: t0}
	if err := b.Confirm(ctx, sent); err != nil {
		tb.Fatalf("confirm: %v", err)
	}
	binding := store.Binding{Department: department, ChatID: 5, Title: department + "群", BoundAt: t0, BoundBy: 1}
	if err := b.Bind(ctx, binding); err != nil {
		tb.Fatalf("bind: %v", err)
	}
	if err := b.CreateCode(ctx, "CODE", department, t0.Add(time.Hour)); err != nil {
		tb.Fatalf("create code: %v", err)
	}
	if err := b.Snooze(ctx, 1, department, t0.Add(time.Hour)); err != nil {
		tb.Fatalf("snooze: %v", err)
	}
	if err := b.SetOffset(ctx, offset); err != nil {
		tb.Fatalf("set offset: %v", err)
	}
	return snapshot{
		department: department,
		updates:    map[int][]store.Update{1: {first[0], second[0]}, 2: {first[1]}},
		latest: []store.State{
			{Task: 1, Department: department, Status: store.StatusInProgress, StatusAt: first[0].At, Percent: intp(40), Value: floatp(2.5), Updates: 2, Last: second[0]},
			{Task: 2, Department: department, Status: store.StatusNotStarted, Updates: 1, Last: first[1]},
		},
		ledger:   map[string]time.Time{"sent-key": t0},
		sent:     sent,
		bindings: []store.Binding{binding},
		snoozes:  map[string]time.Time{store.SnoozeKey(1, department): t0.Add(time.Hour)},
		offset:   offset,
	}
}

// checkSnapshot fails tb unless b holds exactly want. It leaves the data as
// it was, except that it does not redeem the code (see checkCode).
func checkSnapshot(tb testing.TB, b Backend, want snapshot) {
	tb.Helper()
	ctx := testContext(tb)
	if got := mustChains(tb, b); !reflect.DeepEqual(got, []int{1, 2}) {
		tb.Errorf("chains: got %v, want [1 2]", got)
	}
	for task, ups := range want.updates {
		checkUpdates(tb, "updates", mustUpdates(tb, b, task), ups)
	}
	checkStates(tb, "latest", mustLatest(tb, b), want.latest)
	checkStates(tb, "latest for", mustLatestFor(tb, b, want.department), want.latest)
	checkTimes(tb, "ledger", mustLedger(tb, b), want.ledger)
	if got, ok, err := b.SentFor(ctx, "sent-key"); err != nil || !ok {
		tb.Errorf("sent for: got found=%v, %v; want true, nil", ok, err)
	} else {
		checkSent(tb, "sent for", got, want.sent)
	}
	if got, ok, err := b.MessageRef(ctx, 5, 7); err != nil || !ok {
		tb.Errorf("message ref: got found=%v, %v; want true, nil", ok, err)
	} else {
		checkSent(tb, "message ref", got, want.sent)
	}
	checkBindings(tb, b, want.bindings...)
	if got, err := b.Snoozes(ctx); err != nil {
		tb.Errorf("snoozes: %v", err)
	} else {
		checkTimes(tb, "snoozes", got, want.snoozes)
	}
	if got, err := b.Offset(ctx); err != nil || got != want.offset {
		tb.Errorf("offset: got %d, %v; want %d, nil", got, err, want.offset)
	}
	if ok, err := b.Claim(ctx, "held", "intruder", t0.Add(time.Minute), time.Minute); err != nil || ok {
		tb.Errorf("claim a held key: got %v, %v; want false, nil", ok, err)
	}
	if ok, err := b.Claim(ctx, "sent-key", "intruder", t0.Add(time.Hour), time.Minute); err != nil || ok {
		tb.Errorf("claim a confirmed key: got %v, %v; want false, nil", ok, err)
	}
	again, fresh, err := b.Record(ctx, 77, []store.Update{reply(1, want.department, "重复")})
	if err != nil || fresh {
		tb.Errorf("record a seen telegram update: got fresh=%v, %v; want false, nil", fresh, err)
	}
	checkUpdates(tb, "dedup result", again, []store.Update{want.updates[1][0], want.updates[2][0]})
	if got := mustVerify(tb, b); len(got) != 0 {
		tb.Errorf("verify: got %v, want no problems", got)
	}
}

func checkCode(tb testing.TB, b Backend, want string) {
	tb.Helper()
	got, err := b.RedeemCode(testContext(tb), "CODE", t0)
	if err != nil || got != want {
		tb.Errorf("redeem: got %q, %v; want %q, nil", got, err, want)
	}
}

func testPrefixIsolation(t *testing.T, s suite) {
	prefixA, prefixB := NewPrefix(t, "a"), NewPrefix(t, "b")
	a := s.open(t, prefixA)
	wantA := fill(t, a, "市教育局", 500)
	if err := a.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	b := s.open(t, prefixB)
	testEmptyStoreOn(t, b)
	if got, err := b.RedeemCode(testContext(t), "CODE", t0); !errors.Is(err, store.ErrCodeInvalid) {
		t.Errorf("redeem the other prefix's code: got %q, %v; want store.ErrCodeInvalid", got, err)
	}
	wantB := fill(t, b, "市财政局", 900) // fill fails if a's claims, dedup or code leak in
	checkSnapshot(t, b, wantB)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	a = s.open(t, prefixA)
	checkSnapshot(t, a, wantA)
	checkCode(t, a, "市教育局")
	if err := a.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	b = s.open(t, prefixB)
	checkCode(t, b, "市财政局")
}

func testReopen(t *testing.T, s suite) {
	b, prefix := s.openFresh(t, "reopen")
	want := fill(t, b, "市教育局", 31337)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("close twice: got %v, want nil", err)
	}
	b = s.open(t, prefix)
	checkSnapshot(t, b, want)
	checkCode(t, b, "市教育局")
	next := mustRecord(t, b, 0, reply(1, "市教育局", "重开后"))
	if next[0].ID != "1-3" || next[0].PrevHash != want.updates[1][1].Hash {
		t.Errorf("record after reopen: got %s with prev %q, want 1-3 with prev %q", next[0].ID, next[0].PrevHash, want.updates[1][1].Hash)
	}
}

func testEmptyStoreOn(t *testing.T, b Backend) {
	t.Helper()
	if got := mustChains(t, b); len(got) != 0 {
		t.Errorf("chains: got %v, want none", got)
	}
	for _, task := range []int{1, 2} {
		if got := mustUpdates(t, b, task); len(got) != 0 {
			t.Errorf("updates of task %d: got %d, want none", task, len(got))
		}
	}
	if got := mustLatest(t, b); len(got) != 0 {
		t.Errorf("latest: got %d states, want none", len(got))
	}
	if got := mustLedger(t, b); len(got) != 0 {
		t.Errorf("ledger: got %v, want none", got)
	}
	ctx := testContext(t)
	if _, ok, err := b.SentFor(ctx, "sent-key"); err != nil || ok {
		t.Errorf("sent for: got found=%v, %v; want false, nil", ok, err)
	}
	if _, ok, err := b.MessageRef(ctx, 5, 6); err != nil || ok {
		t.Errorf("message ref: got found=%v, %v; want false, nil", ok, err)
	}
	if got, err := b.Bindings(ctx); err != nil || len(got) != 0 {
		t.Errorf("bindings: got %v, %v; want none", got, err)
	}
	if got, err := b.Snoozes(ctx); err != nil || len(got) != 0 {
		t.Errorf("snoozes: got %v, %v; want none", got, err)
	}
	if got, err := b.Offset(ctx); err != nil || got != 0 {
		t.Errorf("offset: got %d, %v; want 0", got, err)
	}
}

func testVerifyClean(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "verifyclean")
	populateChains(t, b)
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify: got %v, want no problems", got)
	}
}

// populateChains records chains of 4, 3 and 3 updates on tasks 1, 2 and 3.
func populateChains(tb testing.TB, b Backend) {
	tb.Helper()
	for i, task := range []int{1, 2, 3, 1, 2, 3, 1, 2, 3, 1} {
		department := []string{"市教育局", "市财政局"}[i%2]
		u := withProgress(reply(task, department, "进展"), store.StatusInProgress, intp(i*10), nil)
		u.At = t0.Add(time.Duration(i) * time.Minute)
		if i == 2 { // task 3 seq 1 carries a file, for the attachment cases
			u.Attachment = document("进展报告.pdf")
		}
		mustRecord(tb, b, int64(100+i), u)
	}
}

type found struct {
	task int
	seq  int64
	kind store.ProblemKind
}

func testVerifyTampered(t *testing.T, s suite) {
	if s.tamper == nil {
		t.Skip("the backend's test gives no tamper hook")
	}
	tests := []struct {
		name      string
		tamper    func(tb testing.TB, b Backend)
		task      int
		want      []found
		wantAfter []found // after one more update on task
	}{
		{
			name: "altered text",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 1, 2, func(u *store.Update) { u.Text = "篡改过的内容" })
			},
			task:      1,
			want:      []found{{1, 2, store.ProblemAltered}},
			wantAfter: []found{{1, 2, store.ProblemAltered}},
		},
		{
			name: "altered status",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 2, 1, func(u *store.Update) { u.Status = store.StatusDone })
			},
			task:      2,
			want:      []found{{2, 1, store.ProblemAltered}},
			wantAfter: []found{{2, 1, store.ProblemAltered}},
		},
		{
			name: "altered and re-hashed",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 1, 2, func(u *store.Update) {
					u.Percent = intp(100)
					u.Hash = store.Hash(*u)
				})
			},
			task:      1,
			want:      []found{{1, 3, store.ProblemLinkBroken}},
			wantAfter: []found{{1, 3, store.ProblemLinkBroken}},
		},
		{
			name: "attachment renamed",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 3, 1, func(u *store.Update) { u.Attachment.FileName = "另一份文件.pdf" })
			},
			task:      3,
			want:      []found{{3, 1, store.ProblemAltered}},
			wantAfter: []found{{3, 1, store.ProblemAltered}},
		},
		{
			name: "attachment swapped for another file",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 3, 1, func(u *store.Update) {
					u.Attachment.FileID, u.Attachment.FileUniqueID = "BQACAgUAAxkBAAIBcGZvdGhlcg", "AgADcA8AAphYEVZ"
				})
			},
			task:      3,
			want:      []found{{3, 1, store.ProblemAltered}},
			wantAfter: []found{{3, 1, store.ProblemAltered}},
		},
		{
			name: "attachment removed",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 3, 1, func(u *store.Update) { u.Attachment = nil })
			},
			task:      3,
			want:      []found{{3, 1, store.ProblemAltered}},
			wantAfter: []found{{3, 1, store.ProblemAltered}},
		},
		{
			name: "attachment added",
			tamper: func(tb testing.TB, b Backend) {
				s.tamper.Rewrite(tb, b, 2, 2, func(u *store.Update) { u.Attachment = document("伪造的批复.pdf") })
			},
			task:      2,
			want:      []found{{2, 2, store.ProblemAltered}},
			wantAfter: []found{{2, 2, store.ProblemAltered}},
		},
		{
			name:      "removed middle record",
			tamper:    func(tb testing.TB, b Backend) { s.tamper.Delete(tb, b, 2, 2) },
			task:      2,
			want:      []found{{2, 3, store.ProblemSeqGap}},
			wantAfter: []found{{2, 3, store.ProblemSeqGap}},
		},
		{
			name:      "removed first record",
			tamper:    func(tb testing.TB, b Backend) { s.tamper.Delete(tb, b, 1, 1) },
			task:      1,
			want:      []found{{1, 2, store.ProblemSeqGap}},
			wantAfter: []found{{1, 2, store.ProblemSeqGap}},
		},
		{
			name: "record added behind the store's back",
			tamper: func(tb testing.TB, b Backend) {
				ups := mustUpdates(tb, b, 2)
				forged := ups[len(ups)-1]
				forged.Seq++
				forged.ID = store.FormatID(forged.Task, forged.Seq)
				forged.PrevHash = forged.Hash
				forged.Text = "伪造的进展"
				forged.Hash = store.Hash(forged)
				s.tamper.Insert(tb, b, forged)
			},
			task: 2,
			want: []found{{2, 3, store.ProblemHeadMismatch}},
			// The next update goes after the forged one and links to the
			// real head, so the forgery stays visible.
			wantAfter: []found{{2, 5, store.ProblemLinkBroken}},
		},
		{
			name:   "removed tail",
			tamper: func(tb testing.TB, b Backend) { s.tamper.Delete(tb, b, 3, 3) },
			task:   3,
			want:   []found{{3, 3, store.ProblemHeadMismatch}},
			// The next update links to the removed one, so the hole shows.
			wantAfter: []found{{3, 4, store.ProblemSeqGap}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := s.openFresh(t, "tamper")
			populateChains(t, b)
			tt.tamper(t, b)
			checkProblems(t, "verify", mustVerify(t, b), tt.want)
			// A tampered store must still take replies.
			mustRecord(t, b, 0, reply(tt.task, "市教育局", "篡改之后"))
			checkProblems(t, "verify after one more update", mustVerify(t, b), tt.wantAfter)
		})
	}
}

func checkProblems(tb testing.TB, what string, problems []store.Problem, want []found) {
	tb.Helper()
	var got []found
	for _, p := range problems {
		got = append(got, found{p.Task, p.Seq, p.Kind})
	}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s: got problems %v, want %v", what, problems, want)
	}
}

func testOutage(t *testing.T, s suite) {
	if s.stop == nil {
		t.Skip("the backend's test gives no outage hooks")
	}
	b, _ := s.openFresh(t, "outage")
	first := mustRecord(t, b, 0, reply(1, "市教育局", "停机前"))
	if err := b.SetOffset(testContext(t), 10); err != nil {
		t.Fatalf("set offset: %v", err)
	}

	s.stop(t)
	outage, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := b.Record(outage, 0, []store.Update{reply(1, "市教育局", "停机中")}); err == nil {
		t.Errorf("record during the outage: got nil error, want one")
	}
	if _, err := b.Latest(outage); err == nil {
		t.Errorf("latest during the outage: got nil error, want one")
	}
	if _, err := b.Claim(outage, "k", "a", t0, time.Minute); err == nil {
		t.Errorf("claim during the outage: got nil error, want one")
	}
	if err := b.Ping(outage); err == nil {
		t.Errorf("ping during the outage: got nil error, want one")
	}
	if outage.Err() != nil {
		t.Errorf("calls during the outage took the whole 30s deadline, want them to fail fast")
	}

	s.start(t)
	if err := b.Ping(testContext(t)); err != nil {
		t.Fatalf("ping after restart (same store, not reopened): %v", err)
	}
	second := mustRecord(t, b, 0, reply(1, "市教育局", "恢复后"))
	if second[0].ID != "1-2" || second[0].PrevHash != first[0].Hash {
		t.Errorf("record after restart: got %s with prev %q, want 1-2 with prev %q", second[0].ID, second[0].PrevHash, first[0].Hash)
	}
	checkUpdates(t, "updates after restart", mustUpdates(t, b, 1), []store.Update{first[0], second[0]})
	if got, err := b.Offset(testContext(t)); err != nil || got != 10 {
		t.Errorf("offset after restart: got %d, %v; want 10, nil", got, err)
	}
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify after restart: got %v, want no problems", got)
	}
}
