package scheduler

import (
	"strconv"
	"time"
	"unsafe"
)

// keyArena builds a tick's ledger keys into shared blocks: a first tick over a large plan
// has hundreds of thousands of keys, and this makes them a few allocations. A key is a view
// of bytes that are never written again (appends go past them), which is what
// unsafe.String asks for.
type keyArena struct{ buf []byte }

const arenaBlock = 32 << 10

// key is "<kind><mid><stage><label>", then num and ":"+num2 when their has flags are set:
// "n" + "|7|甲局|2026-12-31|" + "stale:" + "1764547200:2". at is where the label, or the
// numbers, begin.
func (k *keyArena) key(kind byte, mid []byte, stage, label string, num int64, hasNum bool, num2 int64, hasNum2 bool) (key string, at int) {
	k.reserve(1 + len(mid) + len(stage) + len(label) + 2*20 + 1)
	start := len(k.buf)
	b := append(append(append(k.buf, kind), mid...), stage...)
	at = len(b) - start
	b = append(b, label...)
	if hasNum {
		b = strconv.AppendInt(b, num, 10)
	}
	if hasNum2 {
		b = strconv.AppendInt(append(b, ':'), num2, 10)
	}
	k.buf = b
	return k.view(start), at
}

// date is a period's key, "2026-12-31".
func (k *keyArena) date(y int, m time.Month, d int) string {
	k.reserve(32)
	start := len(k.buf)
	k.buf = appendDate(k.buf, y, m, d)
	return k.view(start)
}

// reserve makes room for n more bytes in the current block, starting a new one if need be,
// so that a key never straddles a block's growth (which would copy the block). Blocks grow
// from a small one, so that a small plan's tick costs little.
func (k *keyArena) reserve(n int) {
	if cap(k.buf)-len(k.buf) < n {
		k.buf = make([]byte, 0, max(min(2*cap(k.buf), arenaBlock), 512, n))
	}
}

func (k *keyArena) view(start int) string {
	if len(k.buf) == start {
		return ""
	}
	return unsafe.String(&k.buf[start], len(k.buf)-start)
}

// chunks collects values whose number is not known ahead in blocks that are never copied
// (append's growth by a quarter, at hundreds of thousands of items, allocates five times the
// result): read them in place with each, or copied once into one slice with slice.
type chunks[T any] struct {
	full [][]T
	cur  []T
	n    int
}

func (c *chunks[T]) add(v T) {
	if len(c.cur) == cap(c.cur) {
		if c.cur != nil {
			c.full = append(c.full, c.cur)
		}
		c.cur = make([]T, 0, min(max(2*cap(c.cur), 16), 16<<10))
	}
	c.cur = append(c.cur, v)
	c.n++
}

// slice is everything added, in order; nil if nothing was.
func (c *chunks[T]) slice() []T {
	if len(c.full) == 0 {
		return c.cur
	}
	out := make([]T, 0, c.n)
	for _, b := range c.full {
		out = append(out, b...)
	}
	return append(out, c.cur...)
}

// slab hands out values a block at a time, for many small values that live as long as one
// another.
type slab[T any] struct{ buf []T }

func (s *slab[T]) next() *T {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]T, 0, min(max(2*cap(s.buf), 8), 1024))
	}
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// carve takes room for n entries from *slab, starting a block of n*blocks entries when the
// current one has less, and returns an empty slice of capacity n over it: the first n
// appends share the block, the next one moves the slice out on its own.
func carve[T any](slab *[]T, n, blocks int) []T {
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, n*blocks)
	}
	at := len(*slab)
	*slab = (*slab)[:at+n]
	return (*slab)[at : at : at+n]
}
