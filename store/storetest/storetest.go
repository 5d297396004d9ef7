package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// Backend is the method set every store backend provides, with identical
// signatures in store/sqlite and store/redis.
type Backend interface {
	store.ChainReader

	Record(ctx context.Context, tgUpdate int64, ups []store.Update) (recorded []store.Update, fresh bool, err error)
	Latest(ctx context.Context) ([]store.State, error)
	LatestFor(ctx context.Context, department string) ([]store.State, error)

	Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error)
	ClaimAll(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]bool, error)
	PruneLedger(ctx context.Context, now time.Time, keep store.PruneKeep) (store.Pruned, error)
	Confirm(ctx context.Context, sent store.Sent) error
	SentFor(ctx context.Context, key string) (store.Sent, bool, error)
	Ledger(ctx context.Context) (store.Ledger, error)
	Pending(ctx context.Context) ([]store.Sent, error)
	MessageRef(ctx context.Context, chatID int64, messageID int) (store.Sent, bool, error)

	Bind(ctx context.Context, b store.Binding) error
	Unbind(ctx context.Context, department string) error
	Bindings(ctx context.Context) ([]store.Binding, error)
	MigrateChat(ctx context.Context, oldID, newID int64) error
	MarkBroken(ctx context.Context, department, reason string) error

	CreateCode(ctx context.Context, code, department string, expires time.Time) error
	RedeemCode(ctx context.Context, code string, now time.Time) (department string, err error)

	Snooze(ctx context.Context, task int, department string, until time.Time) error
	Snoozes(ctx context.Context) (map[string]time.Time, error)

	PutAnswer(ctx context.Context, a store.Answer) error
	RecordAnswered(ctx context.Context, tgUpdate int64, ups []store.Update, answer store.AnswerFor) ([]store.Update, store.Answer, bool, error)
	DoneAnswer(ctx context.Context, chatID, update int64) error
	Answers(ctx context.Context) ([]store.Answer, error)

	Offset(ctx context.Context) (int64, error)
	SetOffset(ctx context.Context, next int64) error
	ResetOffset(ctx context.Context, next int64) error

	Ping(ctx context.Context) error
	Close() error
}

// Opener opens a backend whose data lives under prefix. Calls with the same
// tb and prefix must reach the same data (the suite closes one backend and
// opens the prefix again to test durability); calls with the same tb and
// another prefix must reach the same storage (same file, same server), so
// that prefix isolation is tested for real. The opener registers its own
// cleanup with tb; Close must be safe to call more than once.
type Opener func(tb testing.TB, prefix string) Backend

// Tamper edits a backend's raw storage behind its back, for the Verify cases.
type Tamper interface {
	// Rewrite replaces stored update seq of task by edit applied to it,
	// without the store's help (edit may or may not fix up the Hash).
	Rewrite(tb testing.TB, b Backend, task int, seq int64, edit func(*store.Update))
	// Delete removes stored update seq of task, leaving the chain head as is.
	Delete(tb testing.TB, b Backend, task int, seq int64)
	// Insert stores u as given (at u.Task, u.Seq), leaving the head as is.
	Insert(tb testing.TB, b Backend, u store.Update)
}

// Option adds optional cases to Run.
type Option func(*config)

type config struct {
	tamper      Tamper
	stop, start func(tb testing.TB)
}

// WithTamper enables the cases in which Verify must find altered, removed
// and cut-off records.
func WithTamper(t Tamper) Option {
	return func(c *config) { c.tamper = t }
}

// WithOutage enables the outage case: stop takes the server behind the
// backend down (a crash, not a clean shutdown), start brings it back on the
// same address and data, returning once it accepts connections. Operations
// during the outage must fail with an error and the same Backend must work
// again afterwards, with every acknowledged write intact.
func WithOutage(stop, start func(tb testing.TB)) Option {
	return func(c *config) { c.stop, c.start = stop, start }
}

type suite struct {
	open Opener
	config
}

// Run runs the conformance suite against the backend open returns.
func Run(t *testing.T, open Opener, opts ...Option) {
	s := suite{open: open}
	for _, opt := range opts {
		opt(&s.config)
	}
	cases := []struct {
		name string
		run  func(t *testing.T, s suite)
	}{
		{"EmptyStore", testEmptyStore},
		{"RecordAndReadBack", testRecordAndReadBack},
		{"RecordIsAllOrNothing", testRecordIsAllOrNothing},
		{"LatestDerivation", testLatestDerivation},
		{"TelegramUpdateDedup", testTelegramUpdateDedup},
		{"ConcurrentRecord", testConcurrentRecord},
		{"TextsRoundTrip", testTextsRoundTrip},
		{"AttachmentsRoundTrip", testAttachmentsRoundTrip},
		{"Claim", testClaim},
		{"ClaimRace", testClaimRace},
		{"ConfirmAndMessageRef", testConfirmAndMessageRef},
		{"ConfirmByParts", testConfirmByParts},
		{"ConfirmRenews", testConfirmRenews},
		{"Fencing", testFencing},
		{"ClaimAll", testClaimAll},
		{"ClaimAllFenced", testClaimAllFenced},
		{"PruneLedger", testPruneLedger},
		{"BindingCodes", testBindingCodes},
		{"BindingCodeRace", testBindingCodeRace},
		{"Bindings", testBindings},
		{"ChatMigrations", testChatMigrations},
		{"Snoozes", testSnoozes},
		{"Offset", testOffset},
		{"InvalidArguments", testInvalidArguments},
		{"PrefixIsolation", testPrefixIsolation},
		{"Reopen", testReopen},
		{"VerifyClean", testVerifyClean},
		{"VerifyTampered", testVerifyTampered},
		{"VerifyLatest", testVerifyLatest},
		{"WebSessions", testWebSessions},
		{"Outbox", testOutbox},
		{"RecordAnswered", testRecordAnswered},
		{"Outage", testOutage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, s) })
	}
}

// openFresh opens a backend under a new prefix unique to this test.
func (s suite) openFresh(tb testing.TB, name string) (Backend, string) {
	tb.Helper()
	prefix := NewPrefix(tb, name)
	return s.open(tb, prefix), prefix
}

// NewPrefix returns a prefix no other test (or test run) uses, so tests
// sharing one Redis never meet.
func NewPrefix(tb testing.TB, name string) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return "storetest-" + hex.EncodeToString(b[:]) + "-" + name
}

// testContext bounds every call, so that a hung backend fails the test
// instead of stalling the run.
func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// t0 is the suite's injected "now": far from the real clock on purpose, so
// a backend that consults its own clock for expiry or leases fails.
var t0 = time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.UTC)

var shanghai = time.FixedZone("CST", 8*3600)

func intp(v int) *int           { return &v }
func floatp(v float64) *float64 { return &v }

func mustRecord(tb testing.TB, b Backend, tg int64, ups ...store.Update) []store.Update {
	tb.Helper()
	got, fresh, err := b.Record(testContext(tb), tg, ups)
	if err != nil {
		tb.Fatalf("record: %v", err)
	}
	if !fresh {
		tb.Fatalf("record telegram update %d: got fresh=false, want true", tg)
	}
	if len(got) != len(ups) {
		tb.Fatalf("record: got %d updates back, want %d", len(got), len(ups))
	}
	return got
}

func mustUpdates(tb testing.TB, b Backend, task int) []store.Update {
	tb.Helper()
	got, err := b.Updates(testContext(tb), task)
	if err != nil {
		tb.Fatalf("updates of task %d: %v", task, err)
	}
	return got
}

func mustLatest(tb testing.TB, b Backend) []store.State {
	tb.Helper()
	got, err := b.Latest(testContext(tb))
	if err != nil {
		tb.Fatalf("latest: %v", err)
	}
	return got
}

func mustLatestFor(tb testing.TB, b Backend, department string) []store.State {
	tb.Helper()
	got, err := b.LatestFor(testContext(tb), department)
	if err != nil {
		tb.Fatalf("latest for %s: %v", department, err)
	}
	return got
}

func mustChains(tb testing.TB, b Backend) []int {
	tb.Helper()
	got, err := b.Chains(testContext(tb))
	if err != nil {
		tb.Fatalf("chains: %v", err)
	}
	return got
}

func mustVerify(tb testing.TB, b Backend) []store.Problem {
	tb.Helper()
	got, err := store.Verify(testContext(tb), b)
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return got
}

// reply is a valid update from a department's chat.
func reply(task int, department, text string) store.Update {
	return store.Update{
		Task:       task,
		Department: department,
		At:         t0,
		ChatID:     -100200300,
		MessageID:  1,
		UserID:     42,
		UserName:   "张三",
		Text:       text,
		Source:     store.SourceReply,
	}
}

// checkUpdates fails tb unless got and want hold the same updates, every
// field exact (times compared as instants and required to be in UTC).
func checkUpdates(tb testing.TB, what string, got, want []store.Update) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d updates %s, want %d %s", what, len(got), ids(got), len(want), ids(want))
	}
	for i := range got {
		if diffs := diffUpdate(got[i], want[i]); len(diffs) > 0 {
			tb.Errorf("%s[%d]: %s", what, i, strings.Join(diffs, "; "))
		}
	}
}

func ids(ups []store.Update) string {
	s := make([]string, len(ups))
	for i, u := range ups {
		s[i] = u.ID
	}
	return "[" + strings.Join(s, " ") + "]"
}

func diffUpdate(got, want store.Update) []string {
	diffs := diffFields(got, want)
	if got.At.Location() != time.UTC {
		diffs = append(diffs, fmt.Sprintf("At: got zone %v, want UTC", got.At.Location()))
	}
	return diffs
}

// diffFields compares two structs field by field, times as instants and
// pointers by what they point to, and describes each difference.
func diffFields(got, want any) []string {
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	var diffs []string
	for i := 0; i < gv.NumField(); i++ {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !sameValue(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", gv.Type().Field(i).Name, show(g), show(w)))
		}
	}
	return diffs
}

func sameValue(g, w any) bool {
	switch g := g.(type) {
	case time.Time:
		return g.Equal(w.(time.Time))
	case *int:
		w := w.(*int)
		return (g == nil) == (w == nil) && (g == nil || *g == *w)
	case *float64:
		w := w.(*float64)
		return (g == nil) == (w == nil) && (g == nil || *g == *w)
	case []int:
		w := w.([]int)
		return len(g) == len(w) && (len(g) == 0 || reflect.DeepEqual(g, w))
	case []string:
		w := w.([]string)
		return len(g) == len(w) && (len(g) == 0 || reflect.DeepEqual(g, w))
	case store.Update:
		return len(diffUpdate(g, w.(store.Update))) == 0
	}
	return reflect.DeepEqual(g, w)
}

func show(v any) string {
	switch v := v.(type) {
	case *int:
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	case *float64:
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	case string:
		if len(v) > 80 {
			return fmt.Sprintf("%q… (%d bytes)", v[:60], len(v))
		}
		return fmt.Sprintf("%q", v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case store.Update:
		return "update " + v.ID
	case *store.Attachment:
		if v == nil {
			return "nil"
		}
		return fmt.Sprintf("%+v", *v)
	}
	return fmt.Sprintf("%v", v)
}

func checkStates(tb testing.TB, what string, got, want []store.State) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d states %v, want %d %v", what, len(got), stateKeys(got), len(want), stateKeys(want))
	}
	for i := range got {
		if diffs := diffFields(got[i], want[i]); len(diffs) > 0 {
			tb.Errorf("%s[%d]: %s", what, i, strings.Join(diffs, "; "))
			continue
		}
		if diffs := diffUpdate(got[i].Last, want[i].Last); len(diffs) > 0 {
			tb.Errorf("%s[%d].Last: %s", what, i, strings.Join(diffs, "; "))
		}
	}
}

func stateKeys(states []store.State) []string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = store.SnoozeKey(st.Task, st.Department)
	}
	return s
}

func checkSent(tb testing.TB, what string, got, want store.Sent) {
	tb.Helper()
	diffs := diffFields(got, want)
	if got.At.Location() != time.UTC {
		diffs = append(diffs, fmt.Sprintf("At: got zone %v, want UTC", got.At.Location()))
	}
	if len(diffs) > 0 {
		tb.Errorf("%s: %s", what, strings.Join(diffs, "; "))
	}
}

func checkBindings(tb testing.TB, b Backend, want ...store.Binding) {
	tb.Helper()
	got, err := b.Bindings(testContext(tb))
	if err != nil {
		tb.Fatalf("bindings: %v", err)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Department < want[j].Department })
	if len(got) != len(want) {
		tb.Fatalf("bindings: got %d %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range got {
		if diffs := diffFields(got[i], want[i]); len(diffs) > 0 {
			tb.Errorf("bindings[%d]: %s", i, strings.Join(diffs, "; "))
		}
		if got[i].BoundAt.Location() != time.UTC {
			tb.Errorf("bindings[%d].BoundAt: got zone %v, want UTC", i, got[i].BoundAt.Location())
		}
	}
}

func checkTimes(tb testing.TB, what string, got, want map[string]time.Time) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d entries %v, want %d %v", what, len(got), got, len(want), want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || !g.Equal(w) || g.Location() != time.UTC {
			tb.Errorf("%s[%q]: got %v (present %v), want %v in UTC", what, k, g, ok, w)
		}
	}
}
