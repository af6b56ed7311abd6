package tailor

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// memoryPool backs the guests' linear memories with buffers reused from
// one instance to the next. Every evaluation session runs on a fresh
// instance (see session.Next), and wazero's own memory grows by appending
// to its buffer: each step of the Go runtime's heap growth allocated,
// zeroed and copied the whole memory again, which cost half of an
// evaluation session's CPU time on YOOCHOOSE 1/64. A pooled buffer is
// reserved once at the memory's maximum, so growing only lengthens the
// slice, and it is zeroed where it was used when its instance closes: a
// guest sees exactly the zeroed memory WebAssembly promises, whichever
// buffer it gets.
//
// # Notes
//
// Goroutine-safe. It keeps at most poolKeep idle buffers (each holds the
// memory limit's capacity, 64 MiB of address space, of which only what
// guests touched is resident).
type memoryPool struct {
	mu   sync.Mutex
	free [][]byte // zero over their whole capacity, length 0
}

// poolKeep bounds the idle buffers kept: a few more than the instances
// alive at once (replay workers) on this machine.
const poolKeep = 8

var memories memoryPool

// withMemories returns ctx set to give the instances started under it
// (harness.Runtime.Instantiate, harness.Pool.Get) pooled memories.
func withMemories(ctx context.Context) context.Context { return withPool(ctx, &memories) }

func withPool(ctx context.Context, p *memoryPool) context.Context {
	return experimental.WithMemoryAllocator(ctx, p)
}

// Allocate implements experimental.MemoryAllocator.
func (p *memoryPool) Allocate(_, max uint64) experimental.LinearMemory {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, b := range p.free {
		if uint64(cap(b)) >= max {
			p.free[i] = p.free[len(p.free)-1]
			p.free = p.free[:len(p.free)-1]
			return &linearMemory{pool: p, buf: b[:0:max]}
		}
	}
	return &linearMemory{pool: p, buf: make([]byte, 0, max)}
}

func (p *memoryPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < poolKeep {
		p.free = append(p.free, b[:0])
	}
}

// linearMemory is one instance's memory, a pooled buffer.
type linearMemory struct {
	pool *memoryPool
	buf  []byte // the full buffer, capacity the maximum
	used int    // the most of it the guest was ever given
}

// Reallocate implements experimental.LinearMemory: it lengthens the
// buffer in place (nil beyond its capacity, the maximum: wazero then
// fails the guest's memory.grow as it would at the limit).
func (m *linearMemory) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(cap(m.buf)) {
		return nil
	}
	m.used = max(m.used, int(size))
	return m.buf[:size]
}

// Free implements experimental.LinearMemory: it zeroes what the guest
// used and returns the buffer to the pool.
func (m *linearMemory) Free() {
	if m.buf == nil {
		return
	}
	clear(m.buf[:m.used])
	m.pool.put(m.buf)
	m.buf = nil
}
