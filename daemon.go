package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
	if err := daemon.Run(ctx, daemon.Options{Config: c, Plan: p, Store: s, Log: log}); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}
