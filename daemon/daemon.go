// Package daemon wires duban's parts into the running service: the store, the Telegram
// sender and bot, the poller or webhook, the HTTP endpoints (/healthz, /metrics) and the web
// view.
package daemon

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/duban/duban/bot"
	"github.com/duban/duban/config"
	"github.com/duban/duban/metrics"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/web"
)

// Store is what the daemon needs of a store backend.
type Store interface {
	bot.Store
	bot.OffsetStore
	scheduler.Store
	// The web view reads the record and keeps its sign-in tokens and sessions in the store,
	// so that any daemon on a shared store serves any session.
	web.Data
	web.AuthStore
	Ping(ctx context.Context) error
}

// Options are the daemon's inputs. Tests set the tuning fields to run fast against the fake
// Bot API; zero values are production settings.
type Options struct {
	Config *config.Config
	Plan   *config.Plan
	Store  Store
	Log    *slog.Logger
	Now    func() time.Time

	SendLimits     sender.Limits // zero: Telegram's
	SendBackoff    time.Duration
	PollTimeout    time.Duration // zero: 50 s
	PollBackoff    time.Duration
	RetryAfterUnit time.Duration // zero: 1 s
	// Leader lease timings, for a store several daemons share; zero: scheduler.Lease*.
	LeaseTTL, LeaseRenew, LeaseRetry time.Duration
	// OutboxRetry is how often acknowledgements still in the outbox are sent again; zero:
	// bot.OutboxRetry.
	OutboxRetry time.Duration
	// Instance names this daemon in the ledger and the lease; zero: Identity's, else host, pid
	// and a random part.
	Instance string
	// Identity, if set, names this daemon across restarts (see OpenIdentity): its Name owns
	// the ledger's claims, its Token is the lease's, and the lease its dead predecessor still
	// holds is released at start, so a restart takes over at once.
	Identity *Identity
	// Listening is told the address each HTTP server listens on, once it does: the webhook's,
	// http.listen's, then web.listen's.
	Listening func(addr string)
	// AnswerGrace is how long answers still queued at shutdown may take to go out; the rest
	// are logged (what they answer is recorded). Zero: 5 s.
	AnswerGrace time.Duration
	// RefuseEvery is how often a chat bound to no department is told so; zero: bot.RefuseEvery.
	RefuseEvery time.Duration
}

// Daemon is the service, set up and ready to Run.
type Daemon struct {
	o         Options
	log       *slog.Logger
	tg        *tgbot.Bot
	bot       *bot.Bot
	scheduler *scheduler.Scheduler
	web       *web.Server // nil: web.url is not set
	plan      atomic.Pointer[planPair]
	metrics   *metrics.Metrics
	health    *health
	me        string
	leading   atomic.Bool
	reload    sync.Mutex     // one Reload at a time
	started   *config.Config // what the daemon started with: some settings apply only at start
}

// Run sets up and serves until ctx ends.
func Run(ctx context.Context, o Options) error {
	d, err := New(ctx, o)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// Bot is the daemon's Telegram bot.
func (d *Daemon) Bot() *bot.Bot { return d.bot }

// Scheduler is the daemon's scheduler.
func (d *Daemon) Scheduler() *scheduler.Scheduler { return d.scheduler }

// Leading reports whether this daemon is the one that polls Telegram and sends reminders.
func (d *Daemon) Leading() bool { return d.leading.Load() }

// Reload puts a new config and plan in force (SIGHUP). Settings read only at start — the
// token, the store, the mode and the listen addresses — need a restart; Reload says so.
func (d *Daemon) Reload(ctx context.Context, c *config.Config, p *config.Plan) error {
	d.reload.Lock()
	defer d.reload.Unlock()
	old := d.started
	if c.Telegram.Token != old.Telegram.Token || c.Store != old.Store || c.Telegram.Mode != old.Telegram.Mode ||
		c.HTTP != old.HTTP || c.Telegram.Webhook != old.Telegram.Webhook || c.APIURL() != old.APIURL() || c.Web != old.Web {
		d.log.Warn("reload: telegram, store, http and web settings take effect at the next restart")
	}
	if err := d.scheduler.SetPlan(c, p); err != nil {
		return err
	}
	d.bot.SetPlan(c, p)
	d.plan.Store(&planPair{cfg: c, plan: p})
	// Chats newly written in config.yaml bind now.
	if err := d.bot.SeedBindings(ctx); err != nil {
		d.log.Warn("reload: chats from config.yaml not bound yet", "err", err)
	}
	d.log.Info("reloaded", "tasks", len(p.Tasks), "departments", len(c.DepartmentNames))
	return nil
}

// New connects to Telegram (retrying until it answers or ctx ends), and sets up the sender
// and the bot. Nothing is received until Run.
func New(ctx context.Context, o Options) (*Daemon, error) {
	c := o.Config
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	token := string(c.Telegram.Token)
	if token == "" {
		return nil, errors.New("telegram.token is empty: set TELEGRAM_BOT_TOKEN")
	}
	// Every error from this client is scrubbed of the token, so what the daemon logs is too.
	tg, err := sender.NewTelegram(token, c.APIURL(), func(err error) { log.Warn("telegram client", "err", err) })
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	m := metrics.New()
	health := &health{store: o.Store, metrics: m}

	me, err := retryUntil(ctx, log, "getMe", func() (string, error) {
		u, err := tg.GetMe(ctx)
		if err != nil {
			return "", err
		}
		return u.Username, nil
	})
	if err != nil {
		return nil, err
	}
	health.contact(time.Now())

	var b *bot.Bot
	snd := sender.New(tg, sender.Options{
		Limits:  o.SendLimits,
		Backoff: o.SendBackoff,
		Moved:   func(ctx context.Context, oldID, newID int64) { b.ChatMoved(ctx, oldID, newID) },
		Forbidden: func(ctx context.Context, chat int64, reason string) {
			if err := b.ChatLost(ctx, chat, reason); err != nil {
				log.Error("broken binding not recorded", "chat", chat, "err", err)
			}
		},
		Observe: func(outcome string) {
			m.ObserveSend(outcome)
			if outcome == "sent" {
				health.contact(time.Now())
			}
		},
	})
	b = bot.New(bot.Options{
		Config: c, Plan: o.Plan, Store: o.Store, Telegram: tg, Sender: snd,
		Username: me, Token: token, Log: log, Now: o.Now, Observe: m.ObserveUpdate,
		Dropped: m.AnswerDropped, RefuseEvery: o.RefuseEvery,
	})
	if _, err := retryUntil(ctx, log, "seed bindings", func() (struct{}, error) { return struct{}{}, b.SeedBindings(ctx) }); err != nil {
		return nil, err
	}
	if err := b.SetCommands(ctx); err != nil {
		log.Warn("command menu not set", "err", err)
	}
	if o.Instance == "" && o.Identity != nil {
		o.Instance = o.Identity.Name
	}
	if o.Instance == "" {
		o.Instance = instanceName()
	}
	sc, err := scheduler.New(o.Store, b, c, o.Plan, o.Instance, log, o.Now)
	if err != nil {
		return nil, err
	}
	b.SetDigester(sc)
	d := &Daemon{o: o, log: log, tg: tg, bot: b, scheduler: sc, metrics: m, health: health, me: me, started: c}
	d.plan.Store(&planPair{cfg: c, plan: o.Plan})
	// The supervisors' digest: its chart first, its workbook last (scheduler.SetDigestMedia).
	sc.SetDigestMedia(snd, digestChart{}, digestBook{data: o.Store, plan: d.currentPlan})
	if d.web = d.newWebView(); d.web != nil {
		b.SetWeb(d.web)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	b.SetPlanPreview(&planPreview{tg: tg, token: token, http: &http.Client{Timeout: time.Minute}, plan: d.currentPlan, now: now}, snd)
	return d, nil
}

// instanceName is unique per process: host, pid and a random part.
func instanceName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
}

func randomHex(n int) string {
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// Identity names a daemon across restarts on one host and config, so that on a shared store
// a restarted daemon recognises what its dead predecessor left: the leader lease (released at
// start instead of waited out) and reminders claimed but not sent (its Name owns them, and an
// owner may claim its own again at once).
//
// It lives in a file that the daemon holds locked while it runs. The kernel drops the lock
// when the process dies, so a daemon that gets the lock knows the last one under that Name is
// dead; a second live daemon on the same host and config finds the file locked and runs as a
// new instance of its own, never confused with a dead one. The Token is new for every
// process, so two processes never renew each other's lease.
type Identity struct {
	Name  string // stable: the owner of the ledger's claims
	Token string // this process: the leader lease's token
	// Previous is the lease token of the last process under Name, dead; "" if none.
	Previous string
	// Shared is true when another live daemon holds the file: Name is then this process's own.
	Shared bool

	file *os.File
}

type identityFile struct {
	Name  string `json:"name"`
	Token string `json:"token"` // the lease token of the process that wrote it
}

// OpenIdentity takes the identity kept at path, creating it with a new Name if missing, and
// writes this process's Token into it before anything is claimed, so the next start after a
// crash knows which lease to release. Close it when the daemon ends (dying does too).
func OpenIdentity(path string) (*Identity, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance identity: %w", err)
	}
	held, err := lockIdentity(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("instance identity %s: lock: %w", path, err)
	}
	if held {
		f.Close()
		name := instanceName()
		return &Identity{Name: name, Token: name, Shared: true}, nil
	}
	var last identityFile
	raw, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("instance identity %s: %w", path, err)
	}
	if len(raw) > 0 {
		// A damaged file only costs the recognition: a new Name is written over it.
		if err := json.Unmarshal(raw, &last); err != nil {
			last = identityFile{}
		}
	}
	id := &Identity{Name: last.Name, Previous: last.Token, file: f}
	if id.Name == "" {
		host, _ := os.Hostname()
		id.Name, id.Previous = host+"-"+randomHex(4), ""
	}
	id.Token = fmt.Sprintf("%s/%d-%s", id.Name, os.Getpid(), randomHex(4))
	body, _ := json.Marshal(identityFile{Name: id.Name, Token: id.Token})
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(append(body, '\n'), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("instance identity %s: write: %w", path, err)
	}
	return id, nil
}

// Close gives the identity up; the next daemon to open it takes over what this one left.
func (id *Identity) Close() error {
	if id == nil || id.file == nil {
		return nil
	}
	return id.file.Close()
}

// Run serves until ctx ends, then shuts down in order: the poller stops taking updates, the
// HTTP servers drain, the answers still queued get a short grace, and Run returns. The store
// is the caller's to close.
func (d *Daemon) Run(ctx context.Context) error {
	c, o, log, tg, b, me := d.o.Config, d.o, d.log, d.tg, d.bot, d.me
	token := string(c.Telegram.Token)

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", d.health)
	mux.Handle("GET /metrics", d.metrics.Handler())
	var webhookPath string
	if c.Telegram.Mode == "webhook" {
		u, _ := url.Parse(c.Telegram.Webhook.URL) // validated by config
		webhookPath = u.Path
		if webhookPath == "" {
			webhookPath = "/"
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	servers := []*http.Server{}
	serve := func(addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		if o.Listening != nil {
			o.Listening(ln.Addr().String())
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		run("http "+addr, func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		return nil
	}
	monitoring := c.HTTP.Listen
	if webhookPath != "" {
		// The webhook's listener is public: it serves the webhook alone, never /healthz or
		// /metrics. Config refuses one address for both; a config built in code that gives the
		// webhook none, or http.listen's, gets the webhook there and no monitoring.
		hm := http.NewServeMux()
		hm.Handle("POST "+webhookPath, b.WebhookHandler(string(c.Telegram.Webhook.SecretToken)))
		l := c.Telegram.Webhook.Listen
		if l == "" || config.SameListener(l, c.HTTP.Listen) {
			l, monitoring = cmp.Or(l, c.HTTP.Listen), ""
			log.Warn("/healthz and /metrics are off: telegram.webhook.listen must be an address of its own", "webhook", l)
		}
		if err := serve(l, hm); err != nil {
			return err
		}
	}
	// The web view is served by every daemon, leading or not: it only reads the store, and
	// its sessions are in the store too. On http.listen it takes every path but /healthz and
	// /metrics, which are more specific patterns and keep theirs.
	switch {
	case d.web == nil || c.Web.Listen != "":
	case monitoring != "":
		mux.Handle("/", d.web.Handler())
	default:
		log.Warn("the web view is off: it has no listener; set web.listen", "web", c.Web.URL)
	}
	if monitoring != "" {
		if err := serve(monitoring, mux); err != nil {
			return err
		}
	}
	if d.web != nil && c.Web.Listen != "" {
		if err := serve(c.Web.Listen, d.web.Handler()); err != nil {
			return err
		}
	}

	if c.Telegram.Mode == "webhook" {
		if _, err := retryUntil(ctx, log, "setWebhook", func() (bool, error) {
			return tg.SetWebhook(ctx, &tgbot.SetWebhookParams{
				URL: c.Telegram.Webhook.URL, SecretToken: string(c.Telegram.Webhook.SecretToken), AllowedUpdates: bot.AllowedUpdates,
			})
		}); err != nil {
			return err
		}
	}
	// The leader polls Telegram (polling mode) and runs the schedules; with Redis several
	// daemons may run for failover and the others wait for the lease.
	lead := func(ctx context.Context) error {
		// The poller ends only on a rejected token: then the scheduler stops too, and the
		// daemon exits with the error rather than staying up deaf.
		ctx, stop := context.WithCancel(ctx)
		defer stop()
		// Acknowledgements a dead daemon left in the outbox go out first, before any update
		// is taken (a redelivered one is not queued twice).
		d.bot.ResendAnswers(ctx)
		var inner sync.WaitGroup
		inner.Add(1)
		go func() {
			defer inner.Done()
			d.bot.RetryAnswers(ctx, o.OutboxRetry)
		}()
		var pollErr error
		if c.Telegram.Mode != "webhook" {
			inner.Add(1)
			go func() {
				defer inner.Done()
				defer stop()
				pollErr = d.poll(ctx, token)
			}()
		}
		err := d.scheduler.Run(ctx)
		stop()
		inner.Wait()
		return errors.Join(err, pollErr)
	}
	run("leader", func() error {
		lease, shared := o.Store.(scheduler.Lease)
		if !shared {
			d.leading.Store(true)
			return lead(ctx)
		}
		token := o.Instance
		if id := o.Identity; id != nil && id.Name == o.Instance {
			token = id.Token
			if id.Previous != "" {
				// The lease this daemon's previous run still holds: that process is dead (it
				// no longer holds the identity), so nobody needs to wait for it to lapse.
				if err := lease.ReleaseLease(ctx, "leader", id.Previous); err != nil {
					log.Warn("the previous run's lease not released; it lapses by itself", "err", err)
				}
			}
		}
		l := &scheduler.Leader{
			Lease: lease, Name: "leader", Token: token, Log: log,
			TTL: cmp.Or(o.LeaseTTL, scheduler.LeaseTTL), Renew: cmp.Or(o.LeaseRenew, scheduler.LeaseRenew), Retry: cmp.Or(o.LeaseRetry, scheduler.LeaseRetry),
			OnChange: d.leading.Store,
		}
		return l.Lead(ctx, lead)
	})
	log.Info("duban running", "bot", "@"+me, "tasks", len(o.Plan.Tasks), "mode", c.Telegram.Mode, "http", c.HTTP.Listen, "web", c.Web.URL)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	cancel()
	shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdown)
	}
	wg.Wait()
	// Nothing is handled any more: what is still queued to go out gets a short grace.
	b.CloseAnswers(cmp.Or(o.AnswerGrace, 5*time.Second))
	return runErr
}

// retryUntil calls f until it succeeds or ctx ends: at start Telegram or the store may not be
// reachable yet, and a daemon that exits on that is one more thing to restart by hand. A
// rejected token is final.
func retryUntil[T any](ctx context.Context, log *slog.Logger, what string, f func() (T, error)) (T, error) {
	backoff := time.Second
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) {
			return v, fmt.Errorf("%s: telegram rejected the bot token: check TELEGRAM_BOT_TOKEN", what)
		}
		log.Warn("start-up step failed, retrying", "step", what, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// health answers /healthz: 200 when the store answers, 503 when it does not, with the time of
// the last successful call to Telegram either way.
type health struct {
	store       Store
	metrics     *metrics.Metrics
	lastContact atomic.Int64 // unix nanoseconds
}

func (h *health) contact(t time.Time) { h.lastContact.Store(t.UnixNano()) }

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	out := map[string]string{"status": "ok", "store": "ok"}
	code := http.StatusOK
	if err := h.store.Ping(ctx); err != nil {
		h.metrics.StoreError()
		out["status"], out["store"] = "unavailable", err.Error()
		code = http.StatusServiceUnavailable
	}
	if ns := h.lastContact.Load(); ns != 0 {
		out["telegram_last_ok"] = time.Unix(0, ns).UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(out)
}

// poll receives updates by long polling while this daemon leads.
func (d *Daemon) poll(ctx context.Context, token string) error {
	c, o := d.o.Config, d.o
	// getUpdates and a webhook exclude each other; pending updates are kept.
	if _, err := retryUntil(ctx, d.log, "deleteWebhook", func() (bool, error) {
		return d.tg.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{})
	}); err != nil {
		return nil // ctx ended
	}
	poller := &bot.Poller{
		APIURL: c.APIURL(), Token: token, Store: o.Store,
		Handle: func(ctx context.Context, upd *models.Update) error {
			err := d.bot.Handle(ctx, upd)
			if bot.IsRetry(err) {
				d.metrics.StoreError()
			}
			return err
		},
		Timeout: o.PollTimeout, Backoff: o.PollBackoff, RetryAfterUnit: o.RetryAfterUnit,
		Log: d.log, Contact: d.health.contact,
	}
	return poller.Run(ctx)
}
