package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/duban/duban/store"
)

// AuthStore keeps sign-in tokens and sessions; store/sqlite and store/redis provide it. It
// is handed hashes (hex SHA-256) of the secrets, never the secrets: a copy of the store signs
// nobody in. Expiry is judged against the now passed in.
type AuthStore interface {
	CreateWebToken(ctx context.Context, token, scope string, user int64, expires time.Time) error
	// RedeemWebToken uses the token up; store.ErrCodeInvalid when unknown, used or expired.
	RedeemWebToken(ctx context.Context, token string, now time.Time) (scope string, user int64, err error)
	CreateWebSession(ctx context.Context, id, scope string, user int64, expires time.Time) error
	// WebSession finds a live session; store.ErrNotFound when unknown, revoked or expired.
	WebSession(ctx context.Context, id string, now time.Time) (scope string, user int64, expires time.Time, err error)
	RevokeWebSession(ctx context.Context, id string) error
	RevokeWebSessions(ctx context.Context, user int64) (int, error)
}

// Lifetimes of a sign-in link and of the session it opens.
const (
	LinkTTL    = 10 * time.Minute
	SessionTTL = 12 * time.Hour
)

// CookieName is the session cookie.
const CookieName = "duban_session"

// Scope is what a session may read: everything (admins, the supervisors chat), or one
// department's own page. User is the Telegram user who asked for the link, so that all of
// their sessions can be revoked at once; 0 when unknown.
type Scope struct {
	Department string // "" for everything
	User       int64
}

// All reports whether the scope reads everything.
func (sc Scope) All() bool { return sc.Department == "" }

func (sc Scope) encode() string {
	if sc.All() {
		return "all"
	}
	return "dept:" + sc.Department
}

func decodeScope(s string, user int64) (Scope, error) {
	if s == "all" {
		return Scope{User: user}, nil
	}
	if d, ok := strings.CutPrefix(s, "dept:"); ok && d != "" {
		return Scope{Department: d, User: user}, nil
	}
	return Scope{}, fmt.Errorf("unknown scope %q", s)
}

// secret returns 32 random bytes as URL-safe text (256 bits: not guessable, whatever the
// rate limit) and the hash the store keeps of it.
func secret() (text, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("random: %w", err)
	}
	text = base64.RawURLEncoding.EncodeToString(b[:])
	return text, hashOf(text), nil
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// IssueLink creates a one-time sign-in link for scope, valid LinkTTL: what the bot answers
// /web with. A department scope must name a department of the config in force.
func (s *Server) IssueLink(ctx context.Context, scope Scope) (string, error) {
	if !scope.All() {
		c, _ := s.plan()
		if _, ok := c.Departments[scope.Department]; !ok {
			return "", fmt.Errorf("issue web link: unknown department %q: %w", scope.Department, store.ErrInvalid)
		}
	}
	text, hash, err := secret()
	if err != nil {
		return "", fmt.Errorf("issue web link: %w", err)
	}
	if err := s.auth.CreateWebToken(ctx, hash, scope.encode(), scope.User, s.now().Add(LinkTTL)); err != nil {
		return "", fmt.Errorf("issue web link: %w", err)
	}
	return strings.TrimRight(s.url, "/") + "/login?t=" + text, nil
}

// RevokeSession ends one session by its id (the id the page footer shows); store.ErrNotFound
// if there is none.
func (s *Server) RevokeSession(ctx context.Context, id string) error {
	if err := s.auth.RevokeWebSession(ctx, id); err != nil {
		return fmt.Errorf("revoke web session: %w", err)
	}
	return nil
}

// RevokeUser ends every session a Telegram user signed in (/web logout, or an admin's
// /web revoke) and says how many there were.
func (s *Server) RevokeUser(ctx context.Context, user int64) (int, error) {
	n, err := s.auth.RevokeWebSessions(ctx, user)
	if err != nil {
		return n, fmt.Errorf("revoke web sessions: %w", err)
	}
	return n, nil
}

// session is a signed-in request's scope, and its id (the hash the store keys it by).
type session struct {
	Scope
	ID string
}

// sessionOf finds the request's live session; ok is false without one.
func (s *Server) sessionOf(r *http.Request) (session, bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return session{}, false, nil
	}
	id := hashOf(c.Value)
	scope, user, _, err := s.auth.WebSession(r.Context(), id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, err
	}
	sc, err := decodeScope(scope, user)
	if err != nil {
		return session{}, false, nil
	}
	return session{Scope: sc, ID: id}, true, nil
}

// login redeems a link's token, opens a session and sends the browser on to the page the
// scope may read. The redirect drops the token from the address bar and history.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if !s.limit.allow(ip, s.now()) {
		s.loginPage(w, r, http.StatusTooManyRequests, s.words().Limited)
		return
	}
	token := r.URL.Query().Get("t")
	if token == "" { // the page itself, opened by hand: nothing tried, nothing spent
		s.loginPage(w, r, http.StatusUnauthorized, "")
		return
	}
	scopeText, user, err := "", int64(0), store.ErrCodeInvalid
	if len(token) < 200 {
		scopeText, user, err = s.auth.RedeemWebToken(r.Context(), hashOf(token), s.now())
	}
	if errors.Is(err, store.ErrCodeInvalid) {
		s.limit.fail(ip, s.now())
		s.log.Info("web: sign-in refused", "ip", ip)
		s.loginPage(w, r, http.StatusUnauthorized, s.words().LoginFailed)
		return
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("redeem web token: %w", err))
		return
	}
	scope, err := decodeScope(scopeText, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	text, id, err := secret()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	expires := s.now().Add(SessionTTL)
	if err := s.auth.CreateWebSession(r.Context(), id, scope.encode(), scope.User, expires); err != nil {
		s.fail(w, r, fmt.Errorf("create web session: %w", err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: text, Path: "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure,
	})
	s.log.Info("web: signed in", "scope", scope.encode(), "user", scope.User, "session", id[:12])
	http.Redirect(w, r, s.home(scope), http.StatusSeeOther)
}

// home is the first page a scope may read.
func (s *Server) home(sc Scope) string {
	if sc.All() {
		return "/"
	}
	return deptURL(sc.Department)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess session) {
	if err := s.auth.RevokeWebSession(r.Context(), sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure})
	s.loginPage(w, r, http.StatusOK, "")
}

// clientIP is the address the request came from. X-Forwarded-For is not trusted: anyone can
// send it, and the limit would be theirs to reset.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter limits failed sign-in attempts per client address: a token bucket of Burst
// failures refilled at one per Every. Only failures spend it, so a person with a good link
// is never held up by their own earlier typo beyond the burst. It lives in memory, per
// daemon: the tokens carry 256 bits, so the limit is against noise and log flooding, not
// what keeps them unguessable.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Limits of failed sign-ins per address.
const (
	FailBurst = 5
	FailEvery = time.Minute
	// maxBuckets bounds the limiter's memory under a flood from many addresses; full
	// buckets are dropped first, as they say nothing a fresh one would not.
	maxBuckets = 10000
)

func newLimiter() *limiter {
	return &limiter{burst: FailBurst, every: FailEvery, buckets: map[string]*bucket{}}
}

func (l *limiter) refill(ip string, now time.Time) *bucket {
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, v := range l.buckets {
				if v.tokens+float64(now.Sub(v.at))/float64(l.every) >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[ip] = b
	}
	if now.After(b.at) {
		b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
		b.at = now
	}
	return b
}

// allow reports whether ip may try a token now.
func (l *limiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refill(ip, now).tokens >= 1
}

// fail spends one attempt of ip's.
func (l *limiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(ip, now)
	b.tokens = max(0, b.tokens-1)
}
