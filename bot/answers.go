package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults of the answer queue.
const (
	// AnswersPerChat is the most answers waiting for one chat. A group gets 20 messages a
	// minute: 1,000 is fifty minutes of answers; beyond that one is dropped (the record it
	// acknowledges is already safe) rather than hold up the recording of what follows.
	AnswersPerChat = 1000
	// AnswersTotal is the most answers waiting across all chats.
	AnswersTotal = 20_000
	// RefuseEvery is how often a chat bound to no department is told so; the refusals in
	// between are dropped silently (and counted). Anyone can add the bot to a group, and a
	// flood there must not become a flood of answers.
	RefuseEvery = 5 * time.Minute
)

// answerQueue sends the bot's answers — acknowledgements, refusals, notices, keyboard marks
// — one chat at a time, each chat's in the order they were queued, so that a handler
// records, queues its answer and returns: how fast Telegram lets a chat's answers out never
// holds up recording, the offset or another chat. Each chat with answers waiting has one
// goroutine, which ends when its queue is empty.
type answerQueue struct {
	log     *slog.Logger
	drop    func(reason string)
	perChat int
	total   int

	ctx    context.Context // the sends'; cancelled when the shutdown grace ends
	cancel context.CancelFunc

	mu      sync.Mutex
	chats   map[int64][]answer   // a chat is here while its goroutine runs
	current map[int64]*answering // the answer each chat's goroutine is on
	waiting int                  // answers queued or being sent, all chats
	closed  bool
	wg      sync.WaitGroup
}

// answer is one thing to send to a chat; what names it in the log. indexed marks a message
// whose message index is written once it is sent (see settle).
type answer struct {
	chat    int64
	what    string
	indexed bool
	send    func(ctx context.Context)
}

// answering is an answer being sent; done is closed when it is over.
type answering struct {
	indexed bool
	done    chan struct{}
}

func newAnswerQueue(log *slog.Logger, drop func(string), perChat, total int) *answerQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &answerQueue{log: log, drop: drop, perChat: perChat, total: total, ctx: ctx, cancel: cancel,
		chats: map[int64][]answer{}, current: map[int64]*answering{}}
}

// enqueue queues a; it never blocks. A full queue, or one shut down, drops a with a log line
// (and enqueue reports false).
func (q *answerQueue) enqueue(a answer) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	pending, running := q.chats[a.chat]
	switch {
	case q.closed:
		q.log.Warn("answer not sent: shutting down", "chat", a.chat, "answer", a.what)
		q.drop("shutdown")
		return false
	case len(pending) >= q.perChat || q.waiting >= q.total:
		q.log.Warn("answer dropped: too many waiting for this chat", "chat", a.chat, "answer", a.what, "waiting", len(pending))
		q.drop("queue_full")
		return false
	}
	q.chats[a.chat] = append(pending, a)
	q.waiting++
	if !running {
		q.wg.Add(1)
		go q.run(a.chat)
	}
	return true
}

// run sends a chat's answers until none is left, or the shutdown grace has ended.
func (q *answerQueue) run(chat int64) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		pending := q.chats[chat]
		if len(pending) == 0 {
			delete(q.chats, chat)
			q.mu.Unlock()
			return
		}
		a := pending[0]
		q.chats[chat] = pending[1:]
		on := &answering{indexed: a.indexed, done: make(chan struct{})}
		q.current[chat] = on
		q.mu.Unlock()
		if q.ctx.Err() != nil {
			q.log.Warn("answer not sent: shutting down", "chat", chat, "answer", a.what)
			q.drop("shutdown")
		} else {
			a.send(q.ctx)
		}
		q.mu.Lock()
		q.waiting--
		delete(q.current, chat)
		q.mu.Unlock()
		close(on.done)
	}
}

// settle waits, for at most max, for the indexed answer chat's goroutine is on: a reply to
// an acknowledgement can reach the bot between Telegram taking the acknowledgement and its
// message index being written. It reports whether there was one to wait for.
func (q *answerQueue) settle(ctx context.Context, chat int64, max time.Duration) bool {
	q.mu.Lock()
	on := q.current[chat]
	q.mu.Unlock()
	if on == nil || !on.indexed {
		return false
	}
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-on.done:
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}

// close takes no more answers, sends what is queued for at most grace, then gives up on the
// rest, logging each: what they answer is already recorded. It returns once every chat's
// goroutine has ended.
func (q *answerQueue) close(grace time.Duration) {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		q.mu.Lock()
		left := q.waiting
		q.mu.Unlock()
		q.log.Warn("shutdown: answers still waiting are given up", "answers", left, "grace", grace)
		q.cancel()
		<-done
	}
	q.cancel()
}

// refusals collapses refusals to one chat: at most one per window, on the wall clock (a
// flood's pace, not the plan's time).
type refusals struct {
	mu     sync.Mutex
	window time.Duration
	last   map[int64]time.Time
}

// allow reports whether chat may be told now, and if so starts its window.
func (r *refusals) allow(chat int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if t, ok := r.last[chat]; ok && now.Sub(t) < r.window {
		return false
	}
	if len(r.last) >= 1024 { // forget the chats whose window has passed
		for c, t := range r.last {
			if now.Sub(t) >= r.window {
				delete(r.last, c)
			}
		}
	}
	r.last[chat] = now
	return true
}
