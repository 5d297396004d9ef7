package sender_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/duban/duban/sender"
)

const token = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// secretShown reports whether s shows the token's secret, in any spelling a URL or an error
// gives it: a stretch of it is enough to be a leak.
func secretShown(s string) bool {
	secret := token[strings.Index(token, ":")+1:]
	return strings.Contains(s, secret[:12]) || strings.Contains(s, url.QueryEscape(token))
}

// TestFailingRequestsNeverShowTheToken: go-telegram/bot puts the answer's body in its error
// when the body is not Telegram's JSON (a proxy's error page, which often echoes the request
// URL, and so the token), and Telegram's description when it is. Every error the sender
// returns, and every error the client reports, must be free of the token: they are logged,
// on every retry.
func TestFailingRequestsNeverShowTheToken(t *testing.T) {
	answers := map[string]http.HandlerFunc{
		"a proxy's error page echoing the URL": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body>502 Bad Gateway: upstream failed for %s (%s)</body></html>", r.URL.Path, r.URL.EscapedPath())
		},
		"Telegram's JSON echoing the URL": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"ok":false,"error_code":400,"description":"Bad Request: no method at %s"}`, r.URL.Path)
		},
		"a 5xx echoing the escaped URL": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"ok":false,"error_code":500,"description":"Internal: %s"}`, url.QueryEscape(r.URL.String()))
		},
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(answer)
			defer srv.Close()
			var reported []error
			api, err := sender.NewTelegram(token, srv.URL, func(err error) { reported = append(reported, err) })
			if err != nil {
				t.Fatal(err)
			}
			s := sender.New(api, sender.Options{MaxAttempts: 2, Backoff: time.Millisecond, Limits: sender.Limits{Overall: time.Microsecond, PerChat: time.Microsecond}})
			_, err = s.Send(context.Background(), sender.Message{ChatID: -1001, Text: "hi"})
			if err == nil {
				t.Fatal("got no error, want the send to fail")
			}
			if secretShown(err.Error()) {
				t.Errorf("got %q, want an error without the token", err)
			}
			for _, r := range reported {
				if secretShown(r.Error()) {
					t.Errorf("client reported %q, want it without the token", r)
				}
			}
		})
	}

	t.Run("Telegram unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		api, err := sender.NewTelegram(token, "http://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = api.GetMe(context.Background())
		if err == nil || secretShown(err.Error()) {
			t.Errorf("got %v, want an error without the token", err)
		}
	})
}

// TestNewTelegramRefusesABadToken: a token with a character no token has would make every
// request fail with an error quoting the whole URL; the client refuses it at once, without
// showing it.
func TestNewTelegramRefusesABadToken(t *testing.T) {
	for _, bad := range []string{token + "\r", token[:20] + "%zz" + token[23:]} {
		_, err := sender.NewTelegram(bad, "https://api.telegram.org", nil)
		if err == nil {
			t.Errorf("got no error for a token with %q, want one", bad[len(bad)-1:])
			continue
		}
		if secretShown(err.Error()) {
			t.Errorf("got %q, want an error without the token", err)
		}
	}
}

func TestScrub(t *testing.T) {
	inner := fmt.Errorf("%w, Forbidden: bot was blocked by the user", tgbot.ErrorForbidden)
	err := sender.Scrub(fmt.Errorf("post %q: %s: %w", "https://api.telegram.org/bot"+token+"/sendMessage", url.QueryEscape(token), inner), token)
	if secretShown(err.Error()) {
		t.Errorf("got %q, want it without the token", err)
	}
	if !errors.Is(err, tgbot.ErrorForbidden) {
		t.Errorf("errors.Is(ErrorForbidden): got false, want the scrubbed error to keep what it wraps")
	}
	clean := errors.New("nothing to hide")
	if got := sender.Scrub(clean, token); got != clean {
		t.Errorf("got %v, want the same error back when it does not show the token", got)
	}
	if sender.Scrub(nil, token) != nil {
		t.Error("Scrub(nil): got an error, want nil")
	}
}
