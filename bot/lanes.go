package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// The poller hands each update to its chat's lane: a chat's updates are handled one after
// another, in the order Telegram numbered them, and different chats' side by side, so that
// one slow or flooding chat never delays another. A lane runs on a goroutine while its chat
// has updates waiting; a goroutine whose lane ran dry waits a while (runnerIdle) to run the
// next lane that starts, so that a flood spread over many chats, one update per chat per
// poll, does not start a goroutine per update and grow its stack each time (that was a
// tenth of the CPU a reply cost).

// runnerIdle is how long a goroutine with no lane to run waits for one before it ends.
const runnerIdle = 5 * time.Second

// laneOf is the chat whose lane handles upd. A group's move to a supergroup goes to the
// supergroup's lane, ahead of the messages written there after it.
func laneOf(upd *models.Update) int64 {
	switch {
	case upd.Message != nil:
		if to := upd.Message.MigrateToChatID; to != 0 {
			return to
		}
		return upd.Message.Chat.ID
	case upd.EditedMessage != nil:
		return upd.EditedMessage.Chat.ID
	case upd.CallbackQuery != nil:
		switch m := upd.CallbackQuery.Message; {
		case m.Message != nil:
			return m.Message.Chat.ID
		case m.InaccessibleMessage != nil:
			return m.InaccessibleMessage.Chat.ID
		}
		return upd.CallbackQuery.From.ID // a private chat's id is its user's
	case upd.MyChatMember != nil:
		return upd.MyChatMember.Chat.ID
	}
	return 0
}

// lanes runs each chat's updates in order, chats side by side.
type lanes struct {
	ctx context.Context
	log *slog.Logger
	// handle is done with upd (recorded, refused or dropped) when it returns true; false: ctx
	// ended first, and upd is left for Telegram to deliver again.
	handle func(upd *models.Update) bool
	done   func(id int64)

	mu     sync.Mutex
	queues map[int64][]*models.Update // a chat is here while its lane runs
	idle   chan int64                 // a waiting runner takes the chat of a lane to run
	wg     sync.WaitGroup
}

func newLanes(ctx context.Context, log *slog.Logger, handle func(*models.Update) bool, done func(int64)) *lanes {
	return &lanes{ctx: ctx, log: log, handle: handle, done: done, queues: map[int64][]*models.Update{}, idle: make(chan int64)}
}

// dispatch queues upd on its chat's lane, starting the lane if it is idle: on a waiting
// runner if there is one, else on a new one.
func (l *lanes) dispatch(upd *models.Update) {
	chat := laneOf(upd)
	l.mu.Lock()
	defer l.mu.Unlock()
	q, running := l.queues[chat]
	l.queues[chat] = append(q, upd)
	if running {
		return
	}
	select {
	case l.idle <- chat:
	default:
		l.wg.Add(1)
		go l.runner(chat)
	}
}

// runner runs chat's lane, then the lanes handed to it while it waits, until it has waited
// runnerIdle for one or ctx has ended.
func (l *lanes) runner(chat int64) {
	defer l.wg.Done()
	t := time.NewTimer(runnerIdle)
	defer t.Stop()
	for {
		l.run(chat)
		t.Reset(runnerIdle)
		select {
		case chat = <-l.idle:
		case <-t.C:
			return
		case <-l.ctx.Done():
			return
		}
	}
}

// run handles a chat's updates until none is left; once ctx has ended it leaves the rest
// unhandled (unconfirmed: Telegram delivers them again).
func (l *lanes) run(chat int64) {
	for {
		l.mu.Lock()
		q := l.queues[chat]
		if len(q) == 0 || l.ctx.Err() != nil {
			delete(l.queues, chat)
			l.mu.Unlock()
			return
		}
		upd := q[0]
		l.queues[chat] = q[1:]
		l.mu.Unlock()
		if l.safeHandle(upd) {
			l.done(upd.ID)
		}
	}
}

// safeHandle keeps a lane alive through a panicking handler: the update is dropped, as Handle
// itself does, rather than every later update of the chat stuck behind it.
func (l *lanes) safeHandle(upd *models.Update) (done bool) {
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("update handler panicked", "update", upd.ID, "panic", r)
			done = true
		}
	}()
	return l.handle(upd)
}

// wait returns once every lane has ended; call it after ctx has.
func (l *lanes) wait() { l.wg.Wait() }

// inflight is the poller's account of the updates handed to lanes in this run and not yet
// confirmed to Telegram: those still being handled, and those done but above one that is
// not (an offset confirms everything below it, so it can go no further than the lowest
// update still being handled).
type inflight struct {
	mu       sync.Mutex
	done     map[int64]bool // update id → handled
	progress chan struct{}  // a send on it (buffered, 1) tells of an update done
}

func newInflight() *inflight {
	return &inflight{done: map[int64]bool{}, progress: make(chan struct{}, 1)}
}

// add records id as handed to a lane; false if it already was (Telegram gives an update
// again until an offset past it confirms it).
func (f *inflight) add(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, known := f.done[id]; known {
		return false
	}
	f.done[id] = false
	return true
}

// finish records id as handled.
func (f *inflight) finish(id int64) {
	f.mu.Lock()
	f.done[id] = true
	f.mu.Unlock()
	select {
	case f.progress <- struct{}{}:
	default:
	}
}

// offset is what the next getUpdates may confirm with: the lowest update still being
// handled, else the highest handled + 1; 0 when there is nothing to confirm.
func (f *inflight) offset() int64 {
	off, _ := f.state()
	return off
}

// confirmed forgets the updates below offset: Telegram has been told of them.
func (f *inflight) confirmed(offset int64) {
	if offset == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.done {
		if id < offset {
			delete(f.done, id)
		}
	}
}

// busy reports whether an update is still being handled.
func (f *inflight) busy() bool {
	_, busy := f.state()
	return busy
}

// wait returns when the next getUpdates is worth making: nothing is being handled any more,
// or the offset has moved at least step past from (a getUpdates brings at most 100 updates
// from the offset on, so asking after every single update handled would fetch a window of
// updates mostly in lanes already, one poll per update), or after d; false when ctx ended.
func (f *inflight) wait(ctx context.Context, from int64, step int64, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	timedOut := false
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			timedOut = true
		case <-f.progress:
		}
		off, busy := f.state()
		if !busy || off-from >= step || timedOut {
			return true
		}
	}
}

// state is offset and busy read at once.
func (f *inflight) state() (offset int64, busy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lowest, highest int64
	first := true
	for id, done := range f.done {
		if !done && (!busy || id < lowest) {
			lowest, busy = id, true
		}
		if first || id > highest {
			highest, first = id, false
		}
	}
	switch {
	case len(f.done) == 0:
		return 0, false
	case busy:
		return lowest, true
	}
	return highest + 1, false
}
