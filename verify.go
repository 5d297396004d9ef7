package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
)

// errTampered makes verify exit 1: the record did not hold up.
var errTampered = errors.New("the record has been altered or cut: see the problems above")

func cmdVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "verify", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := config.LoadConfig(*path)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer s.Close()
	chains, err := s.Chains(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var updates int64
	for _, task := range chains {
		_, n, err := s.Head(ctx, task)
		if err != nil {
			return fmt.Errorf("verify: task %d: %w", task, err)
		}
		updates += n
	}
	problems, err := store.Verify(ctx, s)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for _, p := range problems {
		fmt.Fprintln(env.stdout, p)
	}
	fmt.Fprintf(env.stdout, "%s: %d tasks, %d updates checked, %d problem(s)\n", c.StoreDescription(), len(chains), updates, len(problems))
	if len(problems) > 0 {
		return errTampered
	}
	return nil
}
