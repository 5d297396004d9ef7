package redis

import (
	"strconv"
	"sync"

	"github.com/duban/duban/store"
)

// maxCachedTasks bounds recordCache: past it the cache starts afresh.
const maxCachedTasks = 4096

// recordCache keeps, per task, the head and stream this process last read or wrote and the
// states of the departments it knows, so that the next Record on the task skips its read:
// recordScript checks the head, the states (as JSON) and the stream anyway, and writes
// nothing if one moved. An entry that is wrong — another writer, or the keys edited by
// hand — costs one refused script and a fresh read, never a wrong write.
type recordCache struct {
	mu    sync.Mutex
	tasks map[int]*cachedTask
}

type cachedTask struct {
	as     headAsRead
	head   store.ChainHead
	states map[string]cachedState // by department
}

type cachedState struct {
	st  store.State // the zero State for none yet
	raw string      // its JSON in the latest hash, "" for none
}

// lookup returns what Record would read for tasks and keys, if the cache has all of it.
func (c *recordCache) lookup(tasks []int, keys []store.StateKey) (recordRead, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	read := recordRead{
		heads:  make(map[int]store.ChainHead, len(tasks)),
		states: make(map[store.StateKey]store.State, len(keys)),
		raw:    make(map[store.StateKey]string, len(keys)),
		as:     make([]headAsRead, len(tasks)),
	}
	for i, task := range tasks {
		e, ok := c.tasks[task]
		if !ok {
			return recordRead{}, false
		}
		read.heads[task], read.as[i] = e.head, e.as
	}
	for _, k := range keys {
		cs, ok := c.tasks[k.Task].states[k.Department]
		if !ok {
			return recordRead{}, false
		}
		read.states[k], read.raw[k] = cs.st, cs.raw
	}
	return read, true
}

// fill replaces the entries of tasks with what was read for them. The read is a pipeline,
// not a transaction, so a head and the states read with it may not belong together; the
// script's check of both refuses a write computed from such a pair.
func (c *recordCache) fill(tasks []int, keys []store.StateKey, read recordRead) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room(len(tasks))
	for i, task := range tasks {
		c.tasks[task] = &cachedTask{as: read.as[i], head: read.heads[task], states: map[string]cachedState{}}
	}
	for _, k := range keys {
		c.tasks[k.Task].states[k.Department] = cachedState{read.states[k], read.raw[k]}
	}
}

// wrote records that appended, computed from read, is now stored, its states as encoded.
func (c *recordCache) wrote(tasks []int, read recordRead, appended store.Appended, encoded map[store.StateKey]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room(len(tasks))
	for i, task := range tasks {
		head := appended.Heads[task]
		e, ok := c.tasks[task]
		if !ok || e.as != read.as[i] {
			e = &cachedTask{states: map[string]cachedState{}}
			c.tasks[task] = e
		}
		seq := strconv.FormatInt(head.Seq, 10)
		e.as = headAsRead{seq: seq, hash: head.Hash, lastID: streamID(head.Seq)}
		e.head = head
	}
	for k, st := range appended.States {
		c.tasks[k.Task].states[k.Department] = cachedState{st, encoded[k]}
	}
}

// drop forgets tasks: the script found them moved.
func (c *recordCache) drop(tasks []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, task := range tasks {
		delete(c.tasks, task)
	}
}

// room makes the map ready for n more tasks. Called with mu held.
func (c *recordCache) room(n int) {
	if c.tasks == nil || len(c.tasks)+n > maxCachedTasks {
		c.tasks = make(map[int]*cachedTask)
	}
}
