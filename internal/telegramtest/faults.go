package telegramtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Front is a second address for the fake Bot API that can fail the ways a network and a
// busy Telegram do, for the fault tests: it refuses connections (its listener is closed,
// then opened again on the same port), answers a 5xx of its own for a while without the
// request reaching the fake, and drops responses (the fake carries the request out, a
// message is accepted and kept, but the client never hears of it: an ambiguous send, which a
// client can only retry, at the cost of one duplicate). Everything else goes to the fake as
// if it had been called directly, so Sent, Calls and the rest see it.
//
//	f := srv.NewFront(t)
//	// point the client at f.URL() instead of srv.URL()
//	f.DropResponses("sendMessage", 3) // the next 3 messages are accepted, their answers lost
//	f.Refuse()                        // connections refused from now on
//	f.Accept()                        // and accepted again
type Front struct {
	srv  *Server
	tb   testing.TB
	addr string

	mu        sync.Mutex
	hs        *http.Server
	refusing  bool
	failUntil time.Time
	failCode  int
	drop      map[string]int // method (lower case) -> responses still to drop
	dropped   map[string]int
	failed    int
	seen      map[string]bool // chat and text of the messages whose answer was dropped
	stallTill time.Time
	stalled   int
}

// NewFront starts a Front for s on a free loopback port; it is closed by tb.Cleanup.
func (s *Server) NewFront(tb testing.TB) *Front {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("telegramtest: front: %v", err)
	}
	f := &Front{srv: s, tb: tb, addr: ln.Addr().String(), drop: map[string]int{}, seen: map[string]bool{}, dropped: map[string]int{}}
	f.serve(ln)
	tb.Cleanup(f.close)
	return f
}

// URL is the front's base URL, for the client instead of Server.URL.
func (f *Front) URL() string { return "http://" + f.addr }

func (f *Front) serve(ln net.Listener) {
	hs := &http.Server{Handler: http.HandlerFunc(f.handle), ReadHeaderTimeout: 10 * time.Second}
	f.hs = hs
	go func() { _ = hs.Serve(ln) }()
}

func (f *Front) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hs != nil {
		_ = f.hs.Close()
		f.hs = nil
	}
	f.refusing = true
}

// Refuse closes the front's listener, lets the requests under way finish (for at most
// 500 ms) and closes every connection (a long poll too): from now on connecting is refused,
// as when Telegram's address does not answer.
func (f *Front) Refuse() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusing {
		return
	}
	f.refusing = true
	if hs := f.hs; hs != nil {
		f.hs = nil
		// The listener closes at once; requests under way are answered (a message the fake
		// accepted is not made ambiguous by the outage), then every connection is cut, long
		// polls too.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_ = hs.Shutdown(ctx)
			_ = hs.Close()
		}()
	}
}

// Accept listens again on the same address after Refuse.
func (f *Front) Accept() {
	f.tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.refusing {
		return
	}
	var ln net.Listener
	var err error
	for range 100 { // the port was just released: binding it again can take a moment
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.tb.Errorf("telegramtest: front: listen again on %s: %v", f.addr, err)
		return
	}
	f.refusing = false
	f.serve(ln)
}

// FailFor answers every request (getUpdates and getMe included) with code, e.g. 502 Bad
// Gateway, for d from now; the fake never sees them. Failed counts them.
func (f *Front) FailFor(code int, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failCode, f.failUntil = code, time.Now().Add(d)
}

// Heal ends FailFor at once.
func (f *Front) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failUntil = time.Time{}
}

// Failed is how many requests FailFor answered.
func (f *Front) Failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// StallFor makes every request for d from now hang without reaching the fake, until the
// client gives up (its timeout) or d has passed, and then closes the connection unanswered:
// Telegram timing out. Nothing stalled was carried out. Stalled counts them.
func (f *Front) StallFor(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stallTill = time.Now().Add(d)
}

// Stalled is how many requests StallFor held and dropped.
func (f *Front) Stalled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stalled
}

// DropResponses makes the next n requests for method be carried out by the fake and their
// responses lost: the connection is closed instead of answered. Each drop hits another
// message: a request with the chat_id and text of one already dropped (the client's retry)
// is answered, so that n drops make n ambiguous sends, not one send ambiguous n times.
func (f *Front) DropResponses(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop[strings.ToLower(method)] += n
}

// Dropped is how many responses to method were dropped so far.
func (f *Front) Dropped(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped[strings.ToLower(method)]
}

func (f *Front) handle(w http.ResponseWriter, r *http.Request) {
	method := strings.ToLower(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
	var key string
	if body, err := io.ReadAll(r.Body); err == nil {
		clone := r.Clone(r.Context())
		clone.Body = io.NopCloser(bytes.NewReader(body))
		if p, err := parseParams(clone); err == nil {
			key = p.str("chat_id") + "\x00" + p.str("text")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	f.mu.Lock()
	failing := time.Now().Before(f.failUntil)
	code := f.failCode
	if failing {
		f.failed++
	}
	stall := time.Until(f.stallTill)
	if stall > 0 {
		f.stalled++
	}
	drop := f.drop[method] > 0 && stall <= 0 && !f.seen[key]
	if drop {
		f.seen[key] = true
		f.drop[method]--
		f.dropped[method]++
	}
	f.mu.Unlock()
	if stall > 0 {
		t := time.NewTimer(stall)
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	if failing {
		writeError(w, &apiError{Code: code, Description: defaultDescription(code, 0)})
		return
	}
	if !drop {
		f.srv.serveHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.srv.serveHTTP(rec, r) // carried out and kept by the fake
	hj, ok := w.(http.Hijacker)
	if !ok {
		f.tb.Errorf("telegramtest: front: %v", errors.New("response writer cannot be hijacked"))
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close() // the answer is lost on the way back
	}
}
