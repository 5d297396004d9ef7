package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/duban/duban/config"
	"github.com/duban/duban/daemon"
	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
	"github.com/duban/duban/store/redis"
	"github.com/duban/duban/store/sqlite"
)

// backend is what the commands in this package use of a store; both backends provide it.
type backend interface {
	record.Reader
	store.ChainReader
	daemon.Store
	Close() error
}

var (
	_ backend = (*sqlite.Store)(nil)
	_ backend = (*redis.Store)(nil)
)

// openStore opens the store config.yaml names. readOnly is for commands that run beside the
// daemon (export): on the embedded store they take no lock and cannot write.
func openStore(ctx context.Context, c *config.Config, readOnly bool) (backend, error) {
	if c.Store.URL != "" {
		s, err := redis.Open(ctx, c.Store.URL, c.Store.Prefix)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", c.StoreDescription(), err)
		}
		return s, nil
	}
	open := sqlite.Open
	if readOnly {
		open = sqlite.OpenReadOnly
	}
	s, err := open(ctx, c.StorePath(), c.Store.Prefix)
	if readOnly && errors.Is(err, fs.ErrNotExist) {
		return emptyStore(ctx, c.Store.Prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", c.StoreDescription(), err)
	}
	return s, nil
}

// emptyStore stands in for an embedded store that does not exist yet, so that export, verify
// and plan work on a fresh machine: nothing has been recorded, and nothing is created where
// the daemon will put its file.
func emptyStore(ctx context.Context, prefix string) (backend, error) {
	dir, err := os.MkdirTemp("", "duban-empty-")
	if err != nil {
		return nil, err
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, "empty.db"), prefix)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &tempStore{Store: s, dir: dir}, nil
}

type tempStore struct {
	*sqlite.Store
	dir string
}

func (t *tempStore) Close() error {
	err := t.Store.Close()
	os.RemoveAll(t.dir)
	return err
}
