package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
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
	d, err := daemon.New(ctx, daemon.Options{Config: c, Plan: p, Store: s, Log: log, Instance: instance(c)})
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

// instance names this daemon in the ledger. With the embedded store only one daemon can run,
// so the name is fixed: a restart within a tick's claim takes its own unfinished tick over at
// once. With Redis each daemon is told apart (the default, host-pid-random).
func instance(c *config.Config) string {
	if c.Store.URL == "" {
		return "embedded"
	}
	return ""
}
