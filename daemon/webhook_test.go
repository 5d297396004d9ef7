package daemon_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/internal/telegramtest"
)

// TestWebhook runs the daemon in webhook mode: Telegram (the fake) posts updates with the
// secret token; the daemon answers 2xx only once an update is recorded, 503 while the store
// is down (so Telegram delivers it again), and 401 to a request without the secret.
func TestWebhook(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			tg := telegramtest.New(t, telegramtest.WithoutLimits(), telegramtest.WithWebhookBackoff(10*time.Millisecond))
			tg.AddChat(supGroup)
			c, p := testConfig(t, tg)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			c.HTTP.Listen = addr
			c.Telegram.Mode = "webhook"
			c.Telegram.Webhook.URL = "http://" + addr + "/telegram/hook"
			c.Telegram.Webhook.SecretToken = "s3cret-token_1"
			real, _ := be.open(t)
			fs := &faultyStore{Store: real}
			r := startRig(t, tg, c, p, fs)

			r.bindByInvite(t, "市教育局", eduGroup)
			sent := r.nudge(t, "市教育局", eduGroup.ID, 16)

			fs.failRecords.Store(3)
			tg.Reply(eduGroup, clerk, sent.MessageIDs[0], "进行中 20%")
			r.waitText(t, eduGroup.ID, "已记录 #16 进行中 20%")
			if n := len(r.updates(t, 16)); n != 1 {
				t.Errorf("got %d updates, want 1", n)
			}
			var unavailable, ok int
			for _, d := range tg.WebhookDeliveries() {
				if d.SecretToken != "s3cret-token_1" {
					t.Errorf("delivery %d: secret %q, want the configured one", d.UpdateID, d.SecretToken)
				}
				switch d.Status {
				case http.StatusServiceUnavailable:
					unavailable++
				case http.StatusOK:
					ok++
				}
			}
			if unavailable != 3 {
				t.Errorf("got %d deliveries answered 503, want 3 (one per failed store write)", unavailable)
			}

			for _, secret := range []string{"", "wrong"} {
				req, _ := http.NewRequest(http.MethodPost, c.Telegram.Webhook.URL, strings.NewReader(`{"update_id":999999,"message":{"message_id":1,"date":1,"chat":{"id":-1001,"type":"group"},"text":"/report 16 已完成"}}`))
				if secret != "" {
					req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("secret %q: got HTTP %d, want 401", secret, resp.StatusCode)
				}
			}
			if n := len(r.updates(t, 16)); n != 1 {
				t.Errorf("after forged webhook posts: got %d updates, want still 1", n)
			}
		})
	}
}
