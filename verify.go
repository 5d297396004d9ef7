package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/duban/duban/config"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/sqlite"
)

// errTampered makes verify exit 1: the record did not hold up.
var errTampered = errors.New("the record has been altered or cut: see the problems above")

// Both stores keep latest states that VerifyLatest can read as they are.
var (
	_ store.LatestReader = (*sqlite.Store)(nil)
	_ store.LatestReader = (*redis.Store)(nil)
)

func cmdVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "verify", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := config.LoadConfig(*path)
	if err != nil {
		return err
	}
	if err := storeExists(c); err != nil {
		return err
	}
	s, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer s.Close()
	r, ok := s.(store.LatestReader)
	if !ok {
		return fmt.Errorf("verify: %s cannot list its latest states", c.StoreDescription())
	}
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
	problems, err := store.Verify(ctx, s) // its errors say verify already
	if err != nil {
		return err
	}
	// The latest states are what export, the digest, plan and the scheduler read: a state
	// changed behind the store's back silences a task whatever its updates say.
	latest, err := store.VerifyLatest(ctx, r)
	if err != nil {
		return err
	}
	problems = append(problems, latest...)
	states, err := s.Latest(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for _, p := range problems {
		fmt.Fprintln(env.stdout, p)
	}
	fmt.Fprintf(env.stdout, "%s: %d tasks, %d latest states, %d updates checked, %d problem(s)\n",
		c.StoreDescription(), len(chains), len(states), updates, len(problems))
	if len(problems) > 0 {
		return errTampered
	}
	return nil
}

// storeExists fails for an embedded store that is not there: export and plan show such a
// store as empty, but a verify that passes a file it never saw would vouch for nothing.
func storeExists(c *config.Config) error {
	if c.Store.URL != "" {
		return nil
	}
	_, err := os.Stat(c.StorePath())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("verify: no store at %s (store.path): nothing to verify", c.StorePath())
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}
