package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/duban/duban/store"
)

// BindingsFresh is how long the bot trusts the bindings it read: every report asks which
// department its chat is bound to, and reading and decoding every binding from the store for
// each one was half of what recording a report cost. A binding changed through this bot
// (bind, unbind, a supergroup move, a removal) is seen at once; one changed by another
// daemon on the same Redis (webhook mode) within this long.
const BindingsFresh = 2 * time.Second

// cachedBindings is the bot's Store with Bindings remembered for BindingsFresh, forgotten on
// any write of a binding made through it. When what it remembers goes stale, one caller reads
// afresh and the others wait for that read: a flood over a hundred chats would otherwise read
// every binding a hundred times over at the same moment.
type cachedBindings struct {
	Store

	mu      sync.Mutex
	list    []store.Binding // shared: never changed in place, Bindings hands out copies
	read    time.Time       // zero: nothing remembered
	gen     int             // counts forgets, so a read a write overtook is not remembered
	reading chan struct{}   // closed when the read under way ends; nil: none
}

func (c *cachedBindings) Bindings(ctx context.Context) ([]store.Binding, error) {
	list, err := c.fresh(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(list), nil
}

// ByChat returns the binding of chatID, if any: what Bindings would give, without copying
// the list for each report.
func (c *cachedBindings) ByChat(ctx context.Context, chatID int64) (store.Binding, bool, error) {
	list, err := c.fresh(ctx)
	if err != nil {
		return store.Binding{}, false, err
	}
	return bindingOf(list, chatID)
}

// fresh is the bindings, read from the store unless remembered within BindingsFresh; the list
// is shared and must not be changed.
func (c *cachedBindings) fresh(ctx context.Context) ([]store.Binding, error) {
	for {
		c.mu.Lock()
		if !c.read.IsZero() && time.Since(c.read) < BindingsFresh {
			list := c.list
			c.mu.Unlock()
			return list, nil
		}
		if wait := c.reading; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue // remembered now, or read again if that read failed or was overtaken
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		c.reading = done
		gen := c.gen
		c.mu.Unlock()

		started := time.Now()
		list, err := c.Store.Bindings(ctx)
		c.mu.Lock()
		c.reading = nil
		close(done)
		// A write that came while this read was under way may not be in it: remember it only
		// if nothing was written since it started.
		if err == nil && c.gen == gen {
			c.list, c.read = list, started
		}
		c.mu.Unlock()
		return list, err
	}
}

func bindingOf(list []store.Binding, chatID int64) (store.Binding, bool, error) {
	for _, bd := range list {
		if bd.ChatID == chatID {
			return bd, true, nil
		}
	}
	return store.Binding{}, false, nil
}

// forget drops what was remembered; every binding write calls it, after the write.
func (c *cachedBindings) forget() {
	c.mu.Lock()
	c.list, c.read = nil, time.Time{}
	c.gen++
	c.mu.Unlock()
}

func (c *cachedBindings) Bind(ctx context.Context, b store.Binding) error {
	defer c.forget()
	return c.Store.Bind(ctx, b)
}

func (c *cachedBindings) Unbind(ctx context.Context, department string) error {
	defer c.forget()
	return c.Store.Unbind(ctx, department)
}

func (c *cachedBindings) MigrateChat(ctx context.Context, oldID, newID int64) error {
	defer c.forget()
	return c.Store.MigrateChat(ctx, oldID, newID)
}

func (c *cachedBindings) MarkBroken(ctx context.Context, department, reason string) error {
	defer c.forget()
	return c.Store.MarkBroken(ctx, department, reason)
}
