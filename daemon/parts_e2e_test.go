package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/internal/telegramtest"
	"github.com/duban/duban/store"
)

// sendFaults sits between a daemon and the fake Bot API: it answers a sendMessage to the chats
// fail picks with 502 Bad Gateway, passes everything else on, and logs every sendMessage in
// the order it came.
type sendFaults struct {
	url   string
	mu    sync.Mutex
	fail  func(chat int64, n int) bool // n counts the sendMessage requests to chat, from 1
	count map[int64]int
	log   []sendSeen
}

type sendSeen struct {
	chat   int64
	failed bool
}

func newSendFaults(tb testing.TB, tg *telegramtest.Server) *sendFaults {
	tb.Helper()
	target, err := url.Parse(tg.URL())
	if err != nil {
		tb.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	f := &sendFaults{count: map[int64]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(strings.ToLower(r.URL.Path), "/sendmessage") {
			proxy.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		chat := chatOf(r.Header.Get("Content-Type"), body)
		f.mu.Lock()
		f.count[chat]++
		failed := f.fail != nil && f.fail(chat, f.count[chat])
		f.log = append(f.log, sendSeen{chat, failed})
		f.mu.Unlock()
		if failed {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// setFail replaces the fault rule.
func (f *sendFaults) setFail(fail func(chat int64, n int) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *sendFaults) seen() []sendSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendSeen(nil), f.log...)
}

// chatOf reads chat_id from a sendMessage request, form or JSON.
func chatOf(contentType string, body []byte) int64 {
	media, params, _ := mime.ParseMediaType(contentType)
	var raw string
	switch {
	case strings.HasPrefix(media, "multipart/"):
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "chat_id" {
				b, _ := io.ReadAll(part)
				raw = string(b)
				break
			}
		}
	case media == "application/x-www-form-urlencoded":
		v, _ := url.ParseQuery(string(body))
		raw = v.Get("chat_id")
	default:
		var m struct {
			ChatID json.Number `json:"chat_id"`
		}
		_ = json.Unmarshal(body, &m)
		raw = m.ChatID.String()
	}
	id, _ := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	return id
}

// faultedTelegram is the fake Bot API behind a sendFaults proxy, and the test config, which
// sends through the proxy.
func faultedTelegram(tb testing.TB) (*telegramtest.Server, *sendFaults, *config.Config, *config.Plan) {
	tb.Helper()
	tg := newFakeTelegram(tb)
	faults := newSendFaults(tb, tg)
	c, p := testConfig(tb, tg)
	c.Telegram.APIURL = faults.url
	return tg, faults, c, p
}

// bindAll gives every department of the config a group of its own, bound in the store, and
// returns the chats by department.
func bindAll(tb testing.TB, tg *telegramtest.Server, c *config.Config, st daemon.Store) map[string]int64 {
	tb.Helper()
	chats := map[string]int64{}
	for i, dept := range c.DepartmentNames {
		chat := telegramtest.GroupChat(int64(-2000-i), dept+"工作群")
		tg.AddChat(chat)
		bindDirect(tb, st, dept, chat)
		chats[dept] = chat.ID
	}
	return chats
}

// checkEachOnce fails the test if a message to chat went out more than once, and returns how
// many went out.
func checkEachOnce(tb testing.TB, tg *telegramtest.Server, chat int64, what string) []telegramtest.Message {
	tb.Helper()
	msgs := tg.SentTo(chat)
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.Text]++
	}
	for text, n := range seen {
		if n != 1 {
			first, _, _ := strings.Cut(text, "\n")
			tb.Errorf("%s: a message starting %q went out %d times, want once", what, first, n)
		}
	}
	return msgs
}

// TestEscalationPartsOnce (issue 9, point 2): the first overdue tick with every department
// bound escalates 239 items to the supervisors in three parts. Part 1 goes, then the
// supervisors' chat answers 502 until the sender gives up; the retry of the tick sends parts 2
// and 3 only. Every part reaches the chat exactly once, and every department its nudge once.
func TestEscalationPartsOnce(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg, faults, c, p := faultedTelegram(t)
			st, _ := be.open(t)
			chats := bindAll(t, tg, c, st)
			r := startRig(t, tg, c, p, st)
			var down atomic.Bool
			down.Store(true)
			faults.setFail(func(chat int64, n int) bool { return chat == supGroup.ID && n >= 2 && down.Load() })

			now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
			if _, err := r.d.Scheduler().Tick(context.Background(), now); err == nil {
				t.Fatal("first tick: got no error, want the escalation not delivered")
			}
			if got := len(tg.SentTo(supGroup.ID)); got != 1 {
				t.Fatalf("during the outage: got %d parts to the supervisors, want part 1 only", got)
			}
			down.Store(false)
			if _, err := r.d.Scheduler().Tick(context.Background(), now.Add(time.Minute)); err != nil {
				t.Fatalf("the retry: %v", err)
			}
			parts := checkEachOnce(t, tg, supGroup.ID, "escalation")
			if len(parts) != 3 || !strings.Contains(parts[0].PlainText, "【督办升级】") {
				t.Errorf("escalation: got %d parts, want 3, the header first", len(parts))
			}
			for dept, chat := range chats {
				if got := len(tg.SentTo(chat)); got != 1 {
					t.Errorf("%s: got %d nudges, want 1", dept, got)
				}
			}
			// A reply to the last part finds the escalation's record.
			last := parts[len(parts)-1]
			if sent, ok, err := r.store.MessageRef(context.Background(), supGroup.ID, last.MessageID); err != nil || !ok || len(sent.Keys) < 239 {
				t.Errorf("the record of part 3: got %d keys, %v, %v; want at least 239", len(sent.Keys), ok, err)
			}
		})
	}
}

// TestNudgeLaterPartResumes (issue 9, point 2): a nudge long enough for two parts whose
// second part fails goes out whole on the next try: part 2 then, not part 1 again, and a
// reply to part 2 finds the nudge's tasks.
func TestNudgeLaterPartResumes(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg, faults, c, p := faultedTelegram(t)
			tg.AddChat(eduGroup)
			// 市教育局's 33 tasks twice over (as #101…): its nudge needs two messages.
			for _, task := range slices.Clone(p.Tasks) {
				if slices.Contains(task.Responsible, "市教育局") {
					twin := *task
					twin.ID += 100
					p.Tasks = append(p.Tasks, &twin)
				}
			}
			st, _ := be.open(t)
			bindDirect(t, st, "市教育局", eduGroup)
			r := startRig(t, tg, c, p, st)
			var down atomic.Bool
			down.Store(true)
			faults.setFail(func(chat int64, n int) bool { return chat == eduGroup.ID && n >= 2 && down.Load() })

			now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
			if _, err := r.d.Scheduler().Tick(context.Background(), now); err == nil {
				t.Fatal("first tick: got no error, want the nudge cut short")
			}
			down.Store(false)
			if _, err := r.d.Scheduler().Tick(context.Background(), now.Add(time.Minute)); err != nil {
				t.Fatalf("the retry: %v", err)
			}
			parts := checkEachOnce(t, tg, eduGroup.ID, "nudge")
			if len(parts) < 2 || !strings.Contains(parts[0].PlainText, "以下 66 项任务请报送进展") {
				t.Fatalf("nudge: got %d parts, want at least 2, the header first", len(parts))
			}
			var whole []string
			for _, m := range parts {
				whole = append(whole, m.PlainText)
			}
			joined := strings.Join(whole, "\n")
			for _, task := range p.Tasks {
				if slices.Contains(task.Responsible, "市教育局") && !strings.Contains(joined, "#"+strconv.Itoa(task.ID)+" ") {
					t.Errorf("nudge: #%d is in no part", task.ID)
				}
			}
			sent, ok, err := r.store.MessageRef(context.Background(), eduGroup.ID, parts[1].MessageID)
			if err != nil || !ok || len(sent.Tasks) != 66 {
				t.Errorf("the record of part 2: got %d tasks, %v, %v; want 66", len(sent.Tasks), ok, err)
			}
			// Nothing more is due: the whole nudge is in the ledger.
			if _, err := r.d.Scheduler().Tick(context.Background(), now.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := len(tg.SentTo(eduGroup.ID)); got != len(parts) {
				t.Errorf("a third tick: got %d messages in all, want still %d", got, len(parts))
			}
		})
	}
}

// confirmFails is a store whose Confirm of reminders fails while failing is set, as a store
// blip right after Telegram accepted a message.
type confirmFails struct {
	daemon.Store
	failing atomic.Bool
	refused atomic.Int32
}

func (s *confirmFails) Confirm(ctx context.Context, sent store.Sent) error {
	if s.failing.Load() && len(sent.Keys) > 0 && !strings.HasPrefix(sent.Keys[0], "t|") {
		s.refused.Add(1)
		return errOutage
	}
	return s.Store.Confirm(ctx, sent)
}

// TestConfirmFailsNoResend (issue 9, point 2): the nudge goes out and its Confirm fails; the
// retries of the tick while the store still refuses send nothing, and the one after it is
// back records the nudge instead of sending it again.
func TestConfirmFailsNoResend(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := newFakeTelegram(t)
			tg.AddChat(eduGroup)
			c, p := testConfig(t, tg)
			c.Supervisors.Chat = 0
			inner, _ := be.open(t)
			bindDirect(t, inner, "市教育局", eduGroup)
			st := &confirmFails{Store: inner}
			r := startRig(t, tg, c, p, st)
			st.failing.Store(true)

			now := time.Date(2026, 12, 1, 9, 0, 0, 0, cst)
			if _, err := r.d.Scheduler().Tick(context.Background(), now); err == nil {
				t.Fatal("first tick: got no error, want the nudge sent but not recorded")
			}
			if got := r.countText(eduGroup.ID, "请报送进展"); got != 1 {
				t.Fatalf("first tick: got %d nudges, want 1", got)
			}
			if _, err := r.d.Scheduler().Tick(context.Background(), now.Add(time.Minute)); err == nil {
				t.Error("a retry while the store refuses: got no error")
			}
			st.failing.Store(false)
			if _, err := r.d.Scheduler().Tick(context.Background(), now.Add(2*time.Minute)); err != nil {
				t.Fatalf("the retry once the store is back: %v", err)
			}
			if got := r.countText(eduGroup.ID, "请报送进展"); got != 1 {
				t.Errorf("after the store came back: got %d nudges, want still 1", got)
			}
			ledger, err := inner.Ledger(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range ledger {
				if strings.Contains(e.Key, "|市教育局|") {
					n++
				}
			}
			if n != 33 {
				t.Errorf("ledger: got %d of 市教育局's reminders, want 33", n)
			}
			nudge := tg.SentTo(eduGroup.ID)[0]
			if sent, ok, err := inner.MessageRef(context.Background(), eduGroup.ID, nudge.MessageID); err != nil || !ok || len(sent.Tasks) != 33 {
				t.Errorf("the nudge's record: got %d tasks, %v, %v; want 33", len(sent.Tasks), ok, err)
			}
		})
	}
}

// leaseStore is the lease side of the Redis store, fencing included where the build has it.
type leaseStore interface {
	AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, token string) error
}

// stoppable is a daemon's store as a SIGSTOP leaves it: once stop is called every ledger and
// lease call waits until resume, as if the process were frozen there.
type stoppable struct {
	daemon.Store
	lease   leaseStore
	trigger func(key string) bool // stop right after this claim reached the store
	mu      sync.Mutex
	frozen  chan struct{} // closed on resume; nil while running
	stopped chan struct{} // closed once stopped
	once    sync.Once
}

func (s *stoppable) wait() {
	s.mu.Lock()
	frozen := s.frozen
	s.mu.Unlock()
	if frozen != nil {
		<-frozen
	}
}

func (s *stoppable) resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		close(s.frozen)
		s.frozen = nil
	}
}

func (s *stoppable) Claim(ctx context.Context, key, owner string, now time.Time, lease time.Duration) (bool, error) {
	s.wait()
	ok, err := s.Store.Claim(ctx, key, owner, now, lease)
	s.freezeIf(s.trigger(key))
	return ok, err
}

// ClaimAll is how the scheduler claims a message's items: the freeze lands after the batch
// that holds the trigger, as after Claim.
func (s *stoppable) ClaimAll(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]bool, error) {
	s.wait()
	won, err := s.Store.ClaimAll(ctx, keys, owner, now, lease)
	s.freezeIf(slices.ContainsFunc(keys, s.trigger))
	return won, err
}

// freezeIf freezes the store, once, when hit, then waits while it is frozen.
func (s *stoppable) freezeIf(hit bool) {
	if hit {
		s.once.Do(func() {
			s.mu.Lock()
			s.frozen = make(chan struct{})
			s.mu.Unlock()
			close(s.stopped)
		})
	}
	s.wait()
}

func (s *stoppable) Confirm(ctx context.Context, sent store.Sent) error {
	s.wait()
	return s.Store.Confirm(ctx, sent)
}

func (s *stoppable) AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	s.wait()
	return s.lease.AcquireLease(ctx, name, token, ttl)
}

func (s *stoppable) RenewLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	s.wait()
	return s.lease.RenewLease(ctx, name, token, ttl)
}

func (s *stoppable) ReleaseLease(ctx context.Context, name, token string) error {
	s.wait()
	return s.lease.ReleaseLease(ctx, name, token)
}

func (s *stoppable) LeaseFence(ctx context.Context, name, token string) (int64, bool, error) {
	s.wait()
	f, ok := s.lease.(interface {
		LeaseFence(ctx context.Context, name, token string) (int64, bool, error)
	})
	if !ok {
		return 0, false, errors.New("this store has no lease fence")
	}
	return f.LeaseFence(ctx, name, token)
}

// TestStoppedLeaderSendsNothingTwice (issue 9, fault suite: a fencing token on ledger
// writes): two daemons on one Redis. The leader runs the missed 09:00 tick and is frozen right
// after claiming 市教育局's first reminder, past its lease; the other takes over and, once that
// claim has lapsed, sends every reminder. When the first wakes up, the store refuses its
// writes: it sends nothing, and each reminder went out once.
func TestStoppedLeaderSendsNothingTwice(t *testing.T) {
	for _, be := range backends(t) {
		if be.name != "redis" {
			continue
		}
		tg := newFakeTelegram(t)
		tg.AddChat(eduGroup)
		c, p := testConfig(t, tg)
		c.Supervisors.Chat = 0
		c.Schedule.Nudge, c.Schedule.CatchUp = "0 9 * * 1-5", config.Duration(24*time.Hour)
		inner, reopen := be.open(t)
		bindDirect(t, inner, "市教育局", eduGroup)
		afternoon := time.Date(2026, 12, 1, 15, 0, 0, 0, cst) // a Tuesday: 09:00 was missed
		opts := func(name string) func(*daemon.Options) {
			return func(o *daemon.Options) {
				o.Instance, o.LeaseTTL, o.LeaseRenew, o.LeaseRetry = name, time.Second, 200*time.Millisecond, 100*time.Millisecond
				o.Now = func() time.Time { return afternoon }
			}
		}
		frozen := &stoppable{Store: inner, lease: inner.(leaseStore), stopped: make(chan struct{}),
			trigger: func(key string) bool { return strings.Contains(key, "|市教育局|") }}
		a := startRig(t, tg, c, p, frozen, opts("a"))
		t.Cleanup(frozen.resume)
		select {
		case <-frozen.stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("the leader never claimed a reminder")
		}
		b := startRig(t, tg, c, p, reopen(t), opts("b"))
		eventually(t, "b leading", b.d.Leading)
		// a's claim lapses after ClaimLease; b's tick then sends everything.
		if _, err := b.d.Scheduler().Tick(context.Background(), afternoon.Add(6*time.Minute)); err != nil {
			t.Fatal(err)
		}
		frozen.resume()
		eventually(t, "a no longer leading, its tick over", func() bool { return !a.d.Leading() })
		time.Sleep(100 * time.Millisecond) // anything a would still send
		nudgedOnce(t, tg, "")
	}
}
