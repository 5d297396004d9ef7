package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
)

func cmdRun(ctx context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "run", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, p, err := config.Load(*path)
	if err != nil {
		return err
	}
	if c.Telegram.Token == "" {
		return usageError{errors.New("telegram.token is empty: set TELEGRAM_BOT_TOKEN to the token @BotFather gave you")}
	}
	log := slog.New(slog.NewTextHandler(env.stderr, nil))
	for _, w := range p.Warnings {
		log.Warn(w)
	}
	s, err := openStore(ctx, c, false)
	if err != nil {
		return err
	}
	defer s.Close()
	// Caught from the start: SIGHUP's default would end the process while New still waits
	// for Telegram.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log.Info("starting", "version", currentVersion(), "store", c.StoreDescription())
	id, name := instance(c, *path, log)
	defer id.Close()
	d, err := daemon.New(ctx, daemon.Options{Config: c, Plan: p, Store: s, Log: log, Instance: name, Identity: id})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return fmt.Errorf("run: %w", err)
	}
	go reloadOnHangup(ctx, hup, *path, d, log)
	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}

// reloadOnHangup rereads config.yaml and tasks.yaml on SIGHUP. A bad file is reported with
// every problem and the plan in force is kept; nothing is half-applied.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, path string, d *daemon.Daemon, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		c, p, err := config.Load(path)
		if err == nil {
			err = d.Reload(ctx, c, p)
		}
		if err != nil {
			log.Error("reload failed; the plan in force is kept", "err", err)
		}
	}
}

// instance names this daemon in the ledger and the lease. With the embedded store only one
// daemon can run, so the name is fixed: a restart within a tick's claim takes its own
// unfinished tick over at once. With Redis the name is kept in an identity file (see
// daemon.Identity), one per config file and store, beside the embedded store's file (data/
// next to config.yaml) or else in the temporary directory: a restart on the same host and
// config is the same instance, takes over its dead predecessor's lease at once and sends
// what it had claimed but not sent. Without such a file each start is a new instance.
func instance(c *config.Config, configPath string, log *slog.Logger) (*daemon.Identity, string) {
	if c.Store.URL == "" {
		return nil, "embedded"
	}
	if abs, err := filepath.Abs(configPath); err == nil {
		configPath = abs
	}
	where := c.Store.URL
	if u, err := url.Parse(where); err == nil {
		u.User = nil // the password stays out of the file name, even hashed
		where = u.String()
	}
	sum := sha256.Sum256([]byte(configPath + "\n" + where + "\n" + c.Store.Prefix))
	file := "duban-instance-" + hex.EncodeToString(sum[:6]) + ".json"
	var errs []error
	for _, dir := range []string{filepath.Dir(c.StorePath()), os.TempDir()} {
		id, err := daemon.OpenIdentity(filepath.Join(dir, file))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if id.Shared {
			log.Info("another daemon on this host runs this config: this one is an instance of its own", "instance", id.Name)
		}
		return id, id.Name
	}
	log.Warn("no instance identity kept: a restart waits for its predecessor's lease to lapse", "err", errors.Join(errs...))
	return nil, ""
}
