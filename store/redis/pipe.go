package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// pipe sends the commands of callers that wait at the same moment in one pipeline: the
// replies of a hundred chats, handled side by side, share a round trip (and the server one
// read of their requests) instead of each taking turns on the connection pool, as the SQLite
// store's group commit shares one fsync. One pipeline is in flight at a time; whoever holds
// the turn sends everything queued so far, so a caller alone waits for nothing.
//
// Each caller reads its own commands' results: a pipeline's error is that of its first
// failed command, which may be another caller's expected redis.Nil.
type pipe struct {
	client goredis.UniversalClient
	turn   chan struct{} // holds one token while a pipeline is in flight
	mu     sync.Mutex    // guards queue
	queue  []*pipeJob
}

type pipeJob struct {
	ctx  context.Context
	fill func(p goredis.Pipeliner)
	err  error // the caller's context, if it ended before the job was sent
	done chan struct{}
}

func newPipe(client goredis.UniversalClient) *pipe {
	return &pipe{client: client, turn: make(chan struct{}, 1)}
}

// do queues fill's commands and returns once they have been sent and answered, or ctx
// ended. After a context error the commands may still have run, as when a connection drops
// after a write was sent; fill must not leave anything the caller reads then.
func (p *pipe) do(ctx context.Context, fill func(p goredis.Pipeliner)) error {
	j := &pipeJob{ctx: ctx, fill: fill, done: make(chan struct{})}
	p.mu.Lock()
	p.queue = append(p.queue, j)
	p.mu.Unlock()
	select {
	case p.turn <- struct{}{}:
	case <-j.done: // sent by the holder of the turn
		return j.err
	case <-ctx.Done(): // the next holder skips it, unless it is being sent already
		return ctx.Err()
	}
	p.mu.Lock()
	batch := p.queue
	p.queue = nil
	p.mu.Unlock()
	p.send(batch)
	<-p.turn
	// j was queued before the turn was taken, so this batch or an earlier one held it.
	<-j.done
	return j.err
}

// send runs batch in one pipeline, under a context that only the Redis client's own
// timeouts end: a caller giving up must not cut the others' commands short.
func (p *pipe) send(batch []*pipeJob) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			close(j.done)
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	pl := p.client.Pipeline()
	for _, j := range live {
		j.fill(pl)
	}
	// Errors are in each command; see the type's comment.
	_, _ = pl.Exec(context.WithoutCancel(live[0].ctx))
	for _, j := range live {
		close(j.done)
	}
}
