package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// The export's JSON as encoding/json wrote it before WriteJSON wrote it by hand: the
// reference the hand-written one must match byte for byte.
type refExport struct {
	Tasks []refTask `json:"tasks"`
}

type refTask struct {
	ID          int             `json:"id"`
	Area        string          `json:"area"`
	Goal        string          `json:"goal"`
	Deadline    string          `json:"deadline"`
	DaysLeft    int             `json:"days_left"`
	Departments []refDepartment `json:"departments"`
	Removed     bool            `json:"removed,omitempty"`
}

type refDepartment struct {
	Name        string       `json:"name"`
	Lead        bool         `json:"lead"`
	Responsible bool         `json:"responsible"`
	Status      store.Status `json:"status"`
	Percent     *int         `json:"percent"`
	Value       *float64     `json:"value,omitempty"`
	Color       string       `json:"color"`
	Updates     []refUpdate  `json:"updates"`
}

type refUpdate struct {
	ID         string         `json:"id"`
	At         string         `json:"at"`
	Text       string         `json:"text"`
	Status     store.Status   `json:"status"`
	Percent    *int           `json:"percent"`
	Value      *float64       `json:"value,omitempty"`
	By         string         `json:"by"`
	UserID     int64          `json:"user_id"`
	Chat       int64          `json:"chat"`
	Message    int            `json:"message_id"`
	Source     store.Source   `json:"source"`
	Corrects   string         `json:"corrects,omitempty"`
	Attachment *refAttachment `json:"attachment,omitempty"`
	Hash       string         `json:"hash"`
}

type refAttachment struct {
	Kind         string `json:"kind"`
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name"`
	MimeType     string `json:"mime_type"`
	Size         int64  `json:"size"`
}

func refJSON(tb testing.TB, tasks []Task, c *config.Config) []byte {
	tb.Helper()
	out := refExport{Tasks: make([]refTask, 0, len(tasks))}
	for _, t := range tasks {
		jt := refTask{ID: t.Task.ID, Area: t.Task.Area, Goal: t.Task.Goal, Deadline: t.Deadline.In(c.Location).Format(time.DateOnly),
			DaysLeft: t.DaysLeft, Departments: make([]refDepartment, 0, len(t.Rows)), Removed: t.Removed}
		if t.Removed {
			jt.Deadline = ""
		}
		for _, r := range t.Rows {
			jd := refDepartment{Name: r.Department, Lead: r.Lead, Responsible: r.Responsible, Status: r.State.Status,
				Percent: r.State.Percent, Value: r.State.Value, Color: string(r.Color), Updates: make([]refUpdate, 0, len(r.Updates))}
			for _, u := range r.Updates {
				ju := refUpdate{ID: u.ID, At: u.At.In(c.Location).Format(time.RFC3339), Text: u.Text, Status: u.Status, Percent: u.Percent,
					Value: u.Value, By: u.UserName, UserID: u.UserID, Chat: u.ChatID, Message: u.MessageID, Source: u.Source,
					Corrects: u.Corrects, Hash: u.Hash}
				if a := u.Attachment; a != nil {
					ju.Attachment = &refAttachment{Kind: a.Kind, FileID: a.FileID, FileUniqueID: a.FileUniqueID, FileName: a.FileName,
						MimeType: a.MimeType, Size: a.Size}
				}
				jd.Updates = append(jd.Updates, ju)
			}
			jt.Departments = append(jt.Departments, jd)
		}
		out.Tasks = append(out.Tasks, jt)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// trickyTexts are what a sender or a plan may hold that JSON must escape, or must not.
var trickyTexts = []string{
	"", "进行中 60%，\"方案\"已报, 含逗号", `a\b`, "<b>&amp;</b>", "line\nbreak\r\n\ttab", "\b\f\x00\x01\x1f\x7f",
	"\u2028\u2029", "bad \xff\xfe utf-8 \xe4\xb8", "emoji 📎 ✅", "'=HYPERLINK(1)", "\"", `\u0000`,
}

func TestAppendJSONString(t *testing.T) {
	check := func(s string) {
		want, err := refMarshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
	for _, s := range trickyTexts {
		check(s)
	}
	// Random bytes, most of them awkward: control characters, quotes, broken UTF-8.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "中", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "\xff", "\xe4", "\u2028", "\u2029", "<", "&", "📎", " "}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		check(b.String())
	}
}

func TestAppendJSONFloat(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 35, 1200, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, -2.5e-9, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 1.0 / 3}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		floats = append(floats, math.Float64frombits(rng.Uint64()))
	}
	for _, f := range floats {
		want, err := refMarshal(f)
		got, gotErr := appendJSONFloat(nil, f)
		if (err != nil) != (gotErr != nil) {
			t.Fatalf("%v: got error %v, want %v", f, gotErr, err)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func refMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// TestWriteJSONMatchesEncodingJSON: every field, present, empty, absent and null, as
// encoding/json wrote it.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	c := testConfig(t)
	pct, zero, value, tiny := 60, 0, 1234.5, 2.5e-9
	at := time.Date(2026, 12, 1, 1, 2, 3, 0, time.UTC)
	full := store.Update{ID: "7-1", Seq: 1, Task: 7, Department: "市教育局", At: at, ChatID: -1001, MessageID: 42, UserID: 2001,
		UserName: "王五", Text: "进行中 60%\n<见附件>", Status: store.StatusInProgress, Percent: &pct, Value: &value,
		Source: store.SourceReply, Corrects: "7-0", Hash: strings.Repeat("ab", 32),
		Attachment: &store.Attachment{Kind: "document", FileID: "BQAC", FileUniqueID: "AgAD", FileName: "批复.pdf", MimeType: "application/pdf", Size: 48213}}
	bare := store.Update{ID: "7-2", Seq: 2, Task: 7, Department: "市教育局", At: at.Add(time.Hour), Percent: &zero, Value: &tiny,
		Attachment: &store.Attachment{Kind: "photo"}}
	for _, tt := range []struct {
		name  string
		tasks []Task
	}{
		{"none", nil},
		{"no departments", []Task{{Task: &config.Task{ID: 1, Area: "a", Goal: "g"}, Deadline: at, DaysLeft: -3}}},
		{"every field", []Task{
			{Task: &config.Task{ID: 7, Area: trickyTexts[3], Goal: trickyTexts[4]}, Deadline: at, DaysLeft: 12, Rows: []Row{
				{Department: "市教育局", Lead: true, Responsible: true, Color: "red",
					State: store.State{Status: store.StatusInProgress, Percent: &pct, Value: &value}, Updates: []store.Update{full, bare}},
				{Department: "市人社局", Responsible: true, State: store.State{Status: store.StatusNotStarted}},
				{Department: trickyTexts[7], State: store.State{Status: store.StatusDone, Value: &tiny}, Updates: []store.Update{{}}},
			}},
			{Task: &config.Task{ID: 99, Goal: "不在计划中"}, Removed: true, Rows: []Row{{Department: "市教育局", Removed: true, Updates: []store.Update{bare}}}},
			{Task: &config.Task{ID: 100}, Removed: true},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := WriteJSON(&got, tt.tasks, c); err != nil {
				t.Fatal(err)
			}
			if want := refJSON(t, tt.tasks, c); !bytes.Equal(got.Bytes(), want) {
				t.Errorf("got\n%s\nwant\n%s", got.Bytes(), want)
			}
		})
	}
}

func TestWriteJSONRefusesNaN(t *testing.T) {
	nan := math.NaN()
	tasks := []Task{{Task: &config.Task{ID: 3}, Rows: []Row{{Department: "市教育局", State: store.State{Value: &nan}}}}}
	if err := WriteJSON(&bytes.Buffer{}, tasks, testConfig(t)); err == nil || !strings.Contains(err.Error(), "task 3") {
		t.Errorf("got %v, want an error naming task 3", err)
	}
}

// fakeRecord is a record held in memory, as a store would give it.
type fakeRecord struct {
	chains map[int][]store.Update
	reads  atomic.Int64 // how many chains were read
	fail   int          // the task whose chain cannot be read, if any
}

func (f *fakeRecord) Updates(_ context.Context, task int) ([]store.Update, error) {
	f.reads.Add(1)
	if task == f.fail {
		return nil, errors.New("connection reset")
	}
	return f.chains[task], nil
}

// Latest is every department's state as the store keeps it: its last update, and the
// status and percent of the last that gave them.
func (f *fakeRecord) Latest(context.Context) ([]store.State, error) {
	var out []store.State
	for _, ups := range f.chains {
		byDept := map[string]*store.State{}
		var order []string
		for _, u := range ups {
			st, ok := byDept[u.Department]
			if !ok {
				st = &store.State{Task: u.Task, Department: u.Department, Status: store.StatusNotStarted}
				byDept[u.Department] = st
				order = append(order, u.Department)
			}
			if u.Status != "" {
				st.Status, st.StatusAt = u.Status, u.At
			}
			if u.Percent != nil {
				st.Percent = u.Percent
			}
			st.Value, st.Updates, st.Last = u.Value, st.Updates+1, u
		}
		for _, d := range order {
			out = append(out, *byDept[d])
		}
	}
	return out, nil
}

// statesRecord is fakeRecord listing its states also without their last updates, as the
// embedded store does (statesReader); lose drops one task's last update from its chain.
type statesRecord struct {
	*fakeRecord
	lose int
}

func (f *statesRecord) LatestStates(ctx context.Context) ([]store.State, error) {
	states, err := f.Latest(ctx)
	for i, st := range states {
		states[i].Last = store.Update{ID: st.Last.ID, Task: st.Task, Department: st.Department, Seq: st.Last.Seq}
	}
	return states, err
}

func (f *statesRecord) Updates(ctx context.Context, task int) ([]store.Update, error) {
	ups, err := f.fakeRecord.Updates(ctx, task)
	if task == f.lose && len(ups) > 0 {
		ups = ups[:len(ups)-1]
	}
	return ups, err
}

func (f *fakeRecord) Ledger(context.Context) (store.Ledger, error)          { return nil, nil }
func (f *fakeRecord) Snoozes(context.Context) (map[string]time.Time, error) { return nil, nil }

func testConfig(tb testing.TB) *config.Config {
	tb.Helper()
	c, err := config.LoadConfigEnv("../config.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// generatedRecord is a plan of tasks with one to three departments (every fifth task yearly,
// one whose departments are an empty group, if the config has one) and a record of n updates
// on it, some from a department the plan no longer names, some with files, corrections and
// values, and some on tasks the plan no longer has.
func generatedRecord(tb testing.TB, c *config.Config, tasks, n int) (*config.Plan, *fakeRecord) {
	tb.Helper()
	depts := []string{"市教育局", "市人社局", "市财政局"}
	var yaml strings.Builder
	yaml.WriteString("tasks:\n")
	for i := 1; i <= tasks; i++ {
		fmt.Fprintf(&yaml, "  - id: %d\n    area: 重点工作第%d项\n    goal: \"推进第%d项 <任务> & \\\"落实\\\"\"\n    departments: [%s]\n",
			i, i%4+1, i, strings.Join(depts[:i%3+1], ", "))
		if i%5 == 0 {
			yaml.WriteString("    deadline: 2021年\n    recurrence: yearly\n")
		} else {
			fmt.Fprintf(&yaml, "    deadline: %s\n", time.Date(2026, 1, 1, 0, 0, 0, 0, c.Location).AddDate(0, 0, i*17).Format(time.DateOnly))
		}
	}
	p, err := config.ParsePlan("tasks.yaml", []byte(yaml.String()), c)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fakeRecord{chains: map[int][]store.Update{}}
	statuses := []store.Status{store.StatusInProgress, "", store.StatusBlocked, store.StatusDone}
	for i := range n {
		task := i%(tasks+3) + 1 // the last three ids are no longer in the plan
		dept := depts[(i/7)%3]
		if i%11 == 0 {
			dept = "市委宣传部" // named by no task
		}
		seq := len(f.chains[task]) + 1
		pct := (i * 7) % 101
		u := store.Update{ID: fmt.Sprintf("%d-%d", task, seq), Seq: int64(seq), Task: task, Department: dept,
			At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour), ChatID: -1001, MessageID: i + 1,
			UserID: 2001, UserName: "王五", Text: fmt.Sprintf("进行中 %d%%，第%d次\n%s", pct, seq, trickyTexts[i%len(trickyTexts)]),
			Status: statuses[i%len(statuses)], Source: store.SourceReply, Hash: fmt.Sprintf("%064x", i)}
		if i%3 != 0 {
			u.Percent = &pct
		}
		if i%13 == 0 {
			v := float64(i) / 8
			u.Value = &v
		}
		if i%4 == 0 {
			u.Attachment = &store.Attachment{Kind: "document", FileID: "BQAC", FileUniqueID: fmt.Sprint("AgAD", i), FileName: "进展材料.pdf", Size: int64(i)}
		}
		if seq > 1 && i%9 == 0 {
			u.Corrects = fmt.Sprintf("%d-%d", task, seq-1)
		}
		f.chains[task] = append(f.chains[task], u)
	}
	return p, f
}

// TestStreamMatchesCollect: the streamed export of every update is, byte for byte, the
// record collected whole (Collect with all) and written by the encoder the export had before
// (JSON) or by WriteCSV; each chain is read once.
func TestStreamMatchesCollect(t *testing.T) {
	c := testConfig(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, c.Location)
	ctx := context.Background()
	for _, size := range []struct{ tasks, updates int }{{1, 0}, {5, 3}, {40, 600}} {
		t.Run(fmt.Sprintf("tasks=%d/updates=%d", size.tasks, size.updates), func(t *testing.T) {
			p, f := generatedRecord(t, c, size.tasks, size.updates)
			snap, err := Collect(ctx, f, c, p, true, now)
			if err != nil {
				t.Fatal(err)
			}
			wantJSON := refJSON(t, snap.Tasks, c)
			var wantCSV bytes.Buffer
			if err := WriteCSV(&wantCSV, snap.Rows, c, true); err != nil {
				t.Fatal(err)
			}
			if size.updates > 100 && (!bytes.Contains(wantJSON, []byte(`"removed": true`)) || !bytes.Contains(wantJSON, []byte(`"attachment"`)) ||
				!bytes.Contains(wantJSON, []byte(`"responsible": false`)) || !bytes.Contains(wantJSON, []byte(`"corrects"`))) {
				t.Fatalf("the generated record lacks removed tasks, files, departments no longer named or corrections:\n%.2000s", wantJSON)
			}
			// Read from a store whose states come whole, and from one that lists them without
			// their last updates, which the stream fills in from the chains.
			for _, r := range []Reader{f, &statesRecord{fakeRecord: f}} {
				f.reads.Store(0)
				var gotJSON, gotCSV bytes.Buffer
				if err := StreamJSON(ctx, &gotJSON, r, c, p, now); err != nil {
					t.Fatal(err)
				}
				if got, want := f.reads.Load(), int64(len(snap.Tasks)); got != want {
					t.Errorf("%T: StreamJSON read %d chains, want %d (one per task)", r, got, want)
				}
				if !bytes.Equal(gotJSON.Bytes(), wantJSON) {
					t.Errorf("%T: JSON: got\n%.3000s\nwant\n%.3000s", r, gotJSON.Bytes(), wantJSON)
				}
				if err := StreamCSV(ctx, &gotCSV, r, c, p, now); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gotCSV.Bytes(), wantCSV.Bytes()) {
					t.Errorf("%T: CSV: got\n%.3000s\nwant\n%.3000s", r, gotCSV.Bytes(), wantCSV.Bytes())
				}
			}
			// The rows streamed from the states without their last updates have each state
			// whole, as collected (Assess reads the last report's time, text and reporter).
			rd, err := readChains(ctx, &statesRecord{fakeRecord: f}, c, p, now)
			if err != nil {
				t.Fatal(err)
			}
			next := 0
			err = eachTask(ctx, f, rd, func(task Task) error {
				for _, row := range task.Rows {
					want := snap.Rows[next]
					if !reflect.DeepEqual(row.State, want.State) || row.Assessment != want.Assessment {
						t.Errorf("task %d, %s: got state %+v, assessed %+v; want %+v, %+v", task.Task.ID, row.Department, row.State, row.Assessment, want.State, want.Assessment)
					}
					next++
				}
				return nil
			})
			if err != nil || next != len(snap.Rows) {
				t.Errorf("streamed %d rows (%v), want %d", next, err, len(snap.Rows))
			}
			// Streaming leaves the record it read as it was: the rows keep their latest update.
			for _, r := range snap.Rows {
				if len(r.Updates) > 0 && r.Updates[len(r.Updates)-1].ID != r.State.Last.ID {
					t.Fatalf("task %d %s: got last update %s, want %s", r.Task.ID, r.Department, r.Updates[len(r.Updates)-1].ID, r.State.Last.ID)
				}
			}
		})
	}
}

// TestStreamStopsOnError: a chain that cannot be read ends the export with an error naming
// its task, and the chains after it stop being read, but for the few read ahead.
func TestStreamStopsOnError(t *testing.T) {
	c := testConfig(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, c.Location)
	p, f := generatedRecord(t, c, 200, 2000)
	f.fail = 3
	for name, stream := range map[string]func(context.Context, *bytes.Buffer) error{
		"json": func(ctx context.Context, w *bytes.Buffer) error { return StreamJSON(ctx, w, f, c, p, now) },
		"csv":  func(ctx context.Context, w *bytes.Buffer) error { return StreamCSV(ctx, w, f, c, p, now) },
	} {
		f.reads.Store(0)
		err := stream(context.Background(), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "task 3") || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("%s: got %v, want the error of task 3", name, err)
		}
		if got, most := f.reads.Load(), int64(3+chainReaders*(chainsAhead+1)); got < 3 || got > most {
			t.Errorf("%s: got %d chains read, want 3 to %d (the few read ahead of the one that failed)", name, got, most)
		}
	}
	f.fail = 0
	// A state whose last update its chain lacks (a damaged store) stops the export with an
	// error naming the task, rather than a row without its latest report.
	lost := &statesRecord{fakeRecord: f, lose: 5}
	for name, stream := range map[string]func(*bytes.Buffer) error{
		"json": func(w *bytes.Buffer) error { return StreamJSON(context.Background(), w, lost, c, p, now) },
		"csv":  func(w *bytes.Buffer) error { return StreamCSV(context.Background(), w, lost, c, p, now) },
	} {
		err := stream(&bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "task 5, ") || !strings.Contains(err.Error(), "not in the task's chain") {
			t.Errorf("%s, a last update lost: got %v, want an error naming task 5", name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := StreamJSON(ctx, &bytes.Buffer{}, f, c, p, now); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}
