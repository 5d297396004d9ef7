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
	log.Info("starting", "version", currentVersion(), "store", c.StoreDescription())
	d, err := daemon.New(ctx, daemon.Options{Config: c, Plan: p, Store: s, Log: log})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return fmt.Errorf("run: %w", err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
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
			err = d.Reload(c, p)
		}
		if err != nil {
			log.Error("reload failed; the plan in force is kept", "err", err)
		}
	}
}
