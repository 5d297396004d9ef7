package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

func testEmptyStore(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "empty")
	testEmptyStoreOn(t, b)
	ctx := testContext(t)
	if hash, count, err := b.Head(ctx, 1); err != nil || hash != "" || count != 0 {
		t.Errorf("head: got %q, %d, %v; want \"\", 0, nil", hash, count, err)
	}
	if got := mustLatestFor(t, b, "市教育局"); len(got) != 0 {
		t.Errorf("latest for: got %d states, want none", len(got))
	}
	if err := b.Ping(ctx); err != nil {
		t.Errorf("ping: got %v, want nil", err)
	}
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify: got %v, want no problems", got)
	}
}

// expectChain is what the store must make of ups appended in order to empty
// chains: IDs, seqs and hashes computed independently of the backend.
func expectChain(ups []store.Update) []store.Update {
	heads := map[int]store.Update{}
	want := make([]store.Update, len(ups))
	for i, u := range ups {
		u.At = u.At.UTC().Round(0)
		prev := heads[u.Task]
		u.Seq = prev.Seq + 1
		u.ID = fmt.Sprintf("%d-%d", u.Task, u.Seq)
		u.PrevHash = prev.Hash
		u.Hash = store.Hash(u)
		heads[u.Task] = u
		want[i] = u
	}
	return want
}

func testRecordAndReadBack(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "readback")
	in := []store.Update{
		{
			Task: 7, Department: "市教育局", At: t0.Add(time.Nanosecond).In(shanghai),
			ChatID: -1001234567890, MessageID: 55, UserID: 9001, UserName: "李雷",
			Text: "已完成八成", Status: store.StatusInProgress, Percent: intp(80), Value: floatp(3.25),
			Source: store.SourceReply, TelegramUpdate: 501,
		},
		{
			Task: 7, Department: "市财政局", At: time.Now(), ChatID: 12, MessageID: 2147483647, UserID: 1<<53 + 1,
			Text: "done", Status: store.StatusDone, Percent: intp(100), Value: floatp(-0.000001),
			Source: store.SourceButton,
		},
		{Task: 9, Department: "市教育局", At: t0, Status: store.StatusBlocked, Source: store.SourceCommand, Value: floatp(0)},
		{Task: 7, Department: "市教育局", At: t0.Add(time.Hour), Text: "更正：七成", Percent: intp(70), Corrects: "7-1", Source: store.SourceCommand},
	}
	// Store-assigned fields given by the caller must be ignored.
	in[2].ID, in[2].Seq, in[2].PrevHash, in[2].Hash = "1-1", 99, "forged", "forged"
	want := expectChain(in)

	got, fresh, err := b.Record(testContext(t), 501, in)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	if !fresh {
		t.Errorf("record: got fresh=false, want true")
	}
	checkUpdates(t, "recorded", got, want)
	checkUpdates(t, "updates of task 7", mustUpdates(t, b, 7), []store.Update{want[0], want[1], want[3]})
	checkUpdates(t, "updates of task 9", mustUpdates(t, b, 9), []store.Update{want[2]})
	if got := mustUpdates(t, b, 8); len(got) != 0 {
		t.Errorf("updates of task 8: got %d, want none", len(got))
	}
	if got := mustChains(t, b); !reflect.DeepEqual(got, []int{7, 9}) {
		t.Errorf("chains: got %v, want [7 9]", got)
	}
	hash, count, err := b.Head(testContext(t), 7)
	if err != nil || hash != want[3].Hash || count != 3 {
		t.Errorf("head of task 7: got %q, %d, %v; want %q, 3, nil", hash, count, err, want[3].Hash)
	}

	// The chain goes on from where it was.
	next := mustRecord(t, b, 0, reply(7, "市教育局", "又一条"))
	if next[0].ID != "7-4" || next[0].Seq != 4 || next[0].PrevHash != want[3].Hash || next[0].Hash != store.Hash(next[0]) {
		t.Errorf("next update: got id %s seq %d prev %q hash %q, want 7-4, 4, %q and its own hash",
			next[0].ID, next[0].Seq, next[0].PrevHash, next[0].Hash, want[3].Hash)
	}
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify: got %v, want no problems", got)
	}
}

func testRecordIsAllOrNothing(t *testing.T, s suite) {
	tests := []struct {
		name  string
		bad   store.Update
		field string
	}{
		{"task not positive", store.Update{Task: 0, Department: "市教育局", Source: store.SourceReply}, "task"},
		{"department empty", store.Update{Task: 2, Source: store.SourceReply}, "department"},
		{"status unknown", store.Update{Task: 2, Department: "市教育局", Status: "finished", Source: store.SourceReply}, "status"},
		{"source missing", store.Update{Task: 2, Department: "市教育局"}, "source"},
		{"percent out of range", store.Update{Task: 2, Department: "市教育局", Percent: intp(120), Source: store.SourceReply}, "percent"},
		{"correction of a future update", store.Update{Task: 1, Department: "市教育局", Corrects: "1-9", Source: store.SourceReply}, "corrects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := s.openFresh(t, "atomic")
			first := mustRecord(t, b, 0, reply(1, "市教育局", "第一条"))
			batch := []store.Update{reply(1, "市教育局", "第二条"), reply(2, "市财政局", "另一任务"), tt.bad}
			got, _, err := b.Record(testContext(t), 700, batch)
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("record: got error %v, want one wrapping store.ErrInvalid", err)
			}
			if want := "updates[2]: " + tt.field; !strings.Contains(err.Error(), want) {
				t.Errorf("record: got error %q, want it to name %q", err, want)
			}
			if len(got) != 0 {
				t.Errorf("record: got %d updates back, want none", len(got))
			}
			checkUpdates(t, "updates of task 1", mustUpdates(t, b, 1), first)
			if got := mustUpdates(t, b, 2); len(got) != 0 {
				t.Errorf("updates of task 2: got %d, want none", len(got))
			}
			if got := mustChains(t, b); !reflect.DeepEqual(got, []int{1}) {
				t.Errorf("chains: got %v, want [1]", got)
			}
			if got := mustLatest(t, b); len(got) != 1 || got[0].Updates != 1 {
				t.Errorf("latest: got %v, want one state with 1 update", got)
			}
			// The failed call must not have marked its Telegram update seen.
			if _, fresh, err := b.Record(testContext(t), 700, batch[:2]); err != nil || !fresh {
				t.Errorf("record after failure: got fresh=%v, %v; want true, nil", fresh, err)
			}
		})
	}
}

func testLatestDerivation(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "derive")
	const edu, fin = "市教育局", "市财政局"
	steps := []struct {
		name string
		u    store.Update
		want store.State // Last and Updates are filled in by the test
	}{
		{"first note", reply(1, edu, "收到"),
			store.State{Task: 1, Department: edu, Status: store.StatusNotStarted}},
		{"status and percent", withProgress(reply(1, edu, "开始"), store.StatusInProgress, intp(30), nil),
			store.State{Task: 1, Department: edu, Status: store.StatusInProgress, Percent: intp(30)}},
		{"other department, same task", withProgress(reply(1, fin, "已拨款"), store.StatusDone, nil, floatp(120.5)),
			store.State{Task: 1, Department: fin, Status: store.StatusDone, Value: floatp(120.5)}},
		{"note keeps status and percent", reply(1, edu, "进展顺利"),
			store.State{Task: 1, Department: edu, Status: store.StatusInProgress, Percent: intp(30)}},
		{"value given, percent carries", withProgress(reply(1, edu, "指标"), "", nil, floatp(7)),
			store.State{Task: 1, Department: edu, Status: store.StatusInProgress, Percent: intp(30), Value: floatp(7)}},
		{"correction is a new update", withCorrects(withProgress(reply(1, edu, "更正"), store.StatusBlocked, intp(20), nil), "1-2"),
			store.State{Task: 1, Department: edu, Status: store.StatusBlocked, Percent: intp(20), Value: floatp(7)}},
		{"other task", withProgress(reply(2, edu, "另一任务"), store.StatusInProgress, intp(0), nil),
			store.State{Task: 2, Department: edu, Status: store.StatusInProgress, Percent: intp(0)}},
	}
	counts := map[string]int{}
	statusAt := map[string]time.Time{} // when each pair's status was last reported
	wantByKey := map[string]store.State{}
	for _, step := range steps {
		got := mustRecord(t, b, 0, step.u)
		key := store.SnoozeKey(step.want.Task, step.want.Department)
		counts[key]++
		if step.u.Status != "" {
			statusAt[key] = got[0].At
		}
		step.want.Updates = counts[key]
		step.want.StatusAt = statusAt[key]
		step.want.Last = got[0]
		wantByKey[key] = step.want
		var forKey []store.State
		for _, st := range mustLatest(t, b) {
			if st.Task == step.want.Task && st.Department == step.want.Department {
				forKey = append(forKey, st)
			}
		}
		checkStates(t, step.name, forKey, []store.State{step.want})
	}
	// The correction is kept as its own update; the corrected one is intact.
	if ups := mustUpdates(t, b, 1); len(ups) != 6 || ups[1].Text != "开始" || ups[5].Corrects != "1-2" {
		t.Errorf("updates of task 1: got %d, want 6 with 1-2 intact and 1-6 correcting it", len(ups))
	}
	all := []store.State{wantByKey["1|"+edu], wantByKey["1|"+fin], wantByKey["2|"+edu]}
	store.SortStates(all)
	checkStates(t, "latest", mustLatest(t, b), all)
	checkStates(t, "latest for "+edu, mustLatestFor(t, b, edu), []store.State{wantByKey["1|"+edu], wantByKey["2|"+edu]})
	checkStates(t, "latest for "+fin, mustLatestFor(t, b, fin), []store.State{wantByKey["1|"+fin]})
	if got := mustLatestFor(t, b, "市公安局"); len(got) != 0 {
		t.Errorf("latest for a department without updates: got %d states, want none", len(got))
	}
}

func withProgress(u store.Update, status store.Status, percent *int, value *float64) store.Update {
	u.Status, u.Percent, u.Value = status, percent, value
	return u
}

func withCorrects(u store.Update, id string) store.Update {
	u.Corrects = id
	return u
}

func testTelegramUpdateDedup(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "dedup")
	ctx := testContext(t)
	first := mustRecord(t, b, 1001, reply(1, "市教育局", "一"), reply(2, "市教育局", "二"))

	again, fresh, err := b.Record(ctx, 1001, []store.Update{reply(1, "市教育局", "重复投递")})
	if err != nil {
		t.Fatalf("record again: %v", err)
	}
	if fresh {
		t.Errorf("record again: got fresh=true, want false")
	}
	checkUpdates(t, "second call's result", again, first)
	checkUpdates(t, "updates of task 1", mustUpdates(t, b, 1), first[:1])

	// An update that produced nothing is remembered too.
	if got, fresh, err := b.Record(ctx, 1002, nil); err != nil || !fresh || len(got) != 0 {
		t.Fatalf("record nothing: got %d, fresh=%v, %v; want 0, true, nil", len(got), fresh, err)
	}
	if got, fresh, err := b.Record(ctx, 1002, []store.Update{reply(1, "市教育局", "迟到")}); err != nil || fresh || len(got) != 0 {
		t.Errorf("record after nothing: got %d, fresh=%v, %v; want 0, false, nil", len(got), fresh, err)
	}

	// Without a Telegram update id there is nothing to deduplicate by.
	mustRecord(t, b, 0, reply(1, "市教育局", "手动"))
	mustRecord(t, b, 0, reply(1, "市教育局", "手动"))
	if got := mustUpdates(t, b, 1); len(got) != 3 {
		t.Errorf("updates of task 1: got %d, want 3", len(got))
	}
}

func testConcurrentRecord(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "concurrent")
	const goroutines = 20 // pairs share a Telegram update id
	type result struct {
		ups   []store.Update
		fresh bool
		err   error
	}
	results := make([]result, goroutines)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			text := fmt.Sprintf("goroutine %d", i)
			ups, fresh, err := b.Record(testContext(t), int64(5000+i/2), []store.Update{
				reply(1, "市教育局", text), reply(2, "市财政局", text),
			})
			results[i] = result{ups, fresh, err}
		}()
	}
	close(start)
	wg.Wait()

	fresh := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("goroutine %d: %v", i, r.err)
		}
		if r.fresh {
			fresh++
		}
		if i%2 == 1 {
			if ids(r.ups) != ids(results[i-1].ups) || r.fresh == results[i-1].fresh {
				t.Errorf("goroutines %d and %d shared an update id: got %s (fresh %v) and %s (fresh %v), want the same updates, one fresh",
					i-1, i, ids(results[i-1].ups), results[i-1].fresh, ids(r.ups), r.fresh)
			}
		}
	}
	if fresh != goroutines/2 {
		t.Errorf("got %d fresh records, want %d", fresh, goroutines/2)
	}
	for _, task := range []int{1, 2} {
		ups := mustUpdates(t, b, task)
		if len(ups) != goroutines/2 {
			t.Errorf("updates of task %d: got %d, want %d", task, len(ups), goroutines/2)
		}
		for i, u := range ups {
			if u.Seq != int64(i+1) {
				t.Errorf("updates of task %d [%d]: got seq %d, want %d", task, i, u.Seq, i+1)
			}
		}
	}
	if got := mustLatest(t, b); len(got) != 2 || got[0].Updates != goroutines/2 {
		t.Errorf("latest: got %v, want 2 states of %d updates", stateKeys(got), goroutines/2)
	}
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify: got %v, want no problems", got)
	}
}

func testTextsRoundTrip(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "texts")
	tests := []struct {
		name string
		text string
	}{
		{"chinese", "市教育局：已完成第三阶段工作，完成率百分之八十。"},
		{"emoji", "✅ 完成 👍🏽 👨‍👩‍👧‍👦 🇨🇳 ❤️‍🔥"},
		{"right to left", "\u200fمرحبا بالعالم\u200e שלום \u202bembedded\u202c"},
		{"control characters", "\x01\x02\x07\x08\t\n\v\f\r\x1b[31m\x1f\x7f\u0085\u2028\u2029"},
		{"combining and invisible", "e\u0301 \ufeff\u200b\u200d a\u0308\u0323"},
		{"markup and quotes", `"quoted" 'single' \backslash </script> &amp; <b>粗</b> {"json":true}`},
		{"surrounding whitespace", "  前后空格\n\n  "},
		{"4096 chinese characters", strings.Repeat("进", 4096)},
		{"4096 ascii characters", strings.Repeat("abcdefgh", 512)},
		{"4096 emoji", strings.Repeat("😀", 4096)},
		{"8192 mixed characters", strings.Repeat("a进😀\n", 2048)},
		{"empty", ""},
	}
	const department = "市教育局 🏫 (東區)"
	var want []store.Update
	for i, tt := range tests {
		u := reply(1, department, tt.text)
		u.UserName = "Ahmed أحمد 🧑‍💻"
		got := mustRecord(t, b, int64(9000+i), u)
		if got[0].Text != tt.text {
			t.Errorf("%s: recorded text differs: got %d bytes, want %d", tt.name, len(got[0].Text), len(tt.text))
		}
		want = append(want, got[0])
	}
	stored := mustUpdates(t, b, 1)
	if len(stored) != len(tests) {
		t.Fatalf("updates: got %d, want %d", len(stored), len(tests))
	}
	for i, tt := range tests {
		if stored[i].Text != tt.text {
			t.Errorf("%s: stored text: got %s, want %s", tt.name, show(stored[i].Text), show(tt.text))
		}
		if stored[i].Department != department || stored[i].UserName != "Ahmed أحمد 🧑‍💻" {
			t.Errorf("%s: got department %q user %q, want %q and the user name as sent", tt.name, stored[i].Department, stored[i].UserName, department)
		}
	}
	checkUpdates(t, "updates", stored, want)
	last := mustLatestFor(t, b, department)
	if len(last) != 1 || last[0].Last.Text != tests[len(tests)-1].text || last[0].Department != department {
		t.Errorf("latest for %q: got %v, want the last text", department, stateKeys(last))
	}
	// The dedup path returns the texts intact too.
	again, fresh, err := b.Record(testContext(t), 9007, nil)
	if err != nil || fresh || len(again) != 1 || again[0].Text != tests[7].text {
		t.Errorf("dedup of the 4096-character text: got %d updates, fresh=%v, %v; want the original text", len(again), fresh, err)
	}
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify: got %v, want no problems", got)
	}
}

// document is an attachment with every field given, in the shapes Telegram uses.
func document(name string) *store.Attachment {
	return &store.Attachment{
		Kind:         "document",
		FileID:       "BQACAgUAAxkBAAIBZ2ZmYWtlLWZpbGUtaWQtMDAxAAJvDwACmFgRVQ",
		FileUniqueID: "AgADbw8AAphYEVU",
		FileName:     name,
		MimeType:     "application/pdf",
		Size:         48213,
	}
}

func withAttachment(u store.Update, a *store.Attachment) store.Update {
	u.Attachment = a
	return u
}

func testAttachmentsRoundTrip(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "attachments")
	const edu, fin = "市教育局", "市财政局"
	tests := []struct {
		name string
		u    store.Update
	}{
		{"document with a caption", withAttachment(reply(1, edu, "用地指标已批复，见附件"), document("用地指标批复.pdf"))},
		{"document without a caption", withAttachment(reply(1, edu, ""), document("九江市 2025 年度\"职教\"<方案> & 附表 👍.docx"))},
		{"photo: no name, type or size", withAttachment(reply(1, fin, "现场照片"),
			&store.Attachment{Kind: "photo", FileID: "AgACAgUAAxkBAAIBaGZ", FileUniqueID: "AQADxbwxG5hYEVV-"})},
		{"voice", withAttachment(withProgress(reply(1, fin, ""), store.StatusInProgress, intp(50), nil),
			&store.Attachment{Kind: "voice", FileID: "AwACAgUAAxkBAAIBaWZ", FileUniqueID: "AgADcA8AAphYEVU", MimeType: "audio/ogg", Size: 7_340})},
		{"video of 2 GB", withAttachment(reply(2, edu, "验收视频"),
			&store.Attachment{Kind: "video", FileID: "BAACAgUAAxkBAAIBamZ", FileUniqueID: "AgADcQ8AAphYEVU", FileName: "验收.mp4", MimeType: "video/mp4", Size: 2 << 30})},
		{"long file name", withAttachment(reply(2, edu, "附件"), document(strings.Repeat("关于职业教育产教融合的报告", 20)+".pdf"))},
		{"no attachment", reply(1, edu, "无附件的进展")},
	}
	var in []store.Update
	for _, tt := range tests {
		in = append(in, tt.u)
	}
	want := expectChain(in)
	got, fresh, err := b.Record(testContext(t), 8001, in)
	if err != nil || !fresh {
		t.Fatalf("record: got fresh=%v, %v; want true, nil", fresh, err)
	}
	checkUpdates(t, "recorded", got, want)
	for i, u := range got {
		if (u.Attachment == nil) != (tests[i].u.Attachment == nil) {
			t.Errorf("%s: got attachment %v, want %v", tests[i].name, u.Attachment, tests[i].u.Attachment)
		}
		if u.Hash != store.Hash(u) {
			t.Errorf("%s: got hash %s, want %s", tests[i].name, u.Hash, store.Hash(u))
		}
	}
	// Without an attachment the hash is what it was before attachments were kept.
	last := want[len(want)-1]
	plain := last
	plain.Attachment = nil
	if last.Attachment != nil || store.Hash(plain) != last.Hash {
		t.Errorf("update without attachment: got attachment %v and hash %s, want none and %s", last.Attachment, last.Hash, store.Hash(plain))
	}

	checkUpdates(t, "updates of task 1", mustUpdates(t, b, 1), []store.Update{want[0], want[1], want[2], want[3], want[6]})
	checkUpdates(t, "updates of task 2", mustUpdates(t, b, 2), []store.Update{want[4], want[5]})
	wantStates := []store.State{
		{Task: 1, Department: edu, Status: store.StatusNotStarted, Updates: 3, Last: want[6]},
		{Task: 1, Department: fin, Status: store.StatusInProgress, StatusAt: want[3].At, Percent: intp(50), Updates: 2, Last: want[3]},
		{Task: 2, Department: edu, Status: store.StatusNotStarted, Updates: 2, Last: want[5]},
	}
	checkStates(t, "latest", mustLatest(t, b), wantStates)
	checkStates(t, "latest for "+fin, mustLatestFor(t, b, fin), wantStates[1:2])
	checkStates(t, "latest for "+edu, mustLatestFor(t, b, edu), []store.State{wantStates[0], wantStates[2]})

	// The dedup path gives the attachments back too.
	again, fresh, err := b.Record(testContext(t), 8001, []store.Update{reply(1, edu, "重复投递")})
	if err != nil || fresh {
		t.Fatalf("record again: got fresh=%v, %v; want false, nil", fresh, err)
	}
	checkUpdates(t, "dedup result", again, want)
	if got := mustVerify(t, b); len(got) != 0 {
		t.Errorf("verify: got %v, want no problems", got)
	}
}
