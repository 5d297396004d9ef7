package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/duban/duban/config"
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
	fmt.Fprintf(env.stderr, "duban %s: %d tasks, store: %s\n", currentVersion(), len(p.Tasks), c.StoreDescription())
	<-ctx.Done()
	return nil
}
