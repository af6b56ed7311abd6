package harness

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Pool holds a bounded number of instances for simulating many visitors
// concurrently: a visitor borrows an instance, resets it with Init, and
// gives it back, so 10,000 visitors cost Size instances of memory.
//
// # Notes
//
// Pool is goroutine-safe; the instances it lends are not.
type Pool struct {
	rt    *Runtime
	setup func(*Instance) error // for every new instance
	each  func(*Instance) error // the last Each, for new instances too
	free  chan *Instance
	mu    sync.Mutex
	all   []*Instance
	size  int
	slot  chan struct{} // closed (and replaced) when a failed creation frees a slot
}

// NewPool returns a pool of at most size instances, each prepared by setup
// (e.g. applying the current weights) when created.
func (r *Runtime) NewPool(size int, setup func(*Instance) error) *Pool {
	size = max(size, 1)
	return &Pool{rt: r, setup: setup, free: make(chan *Instance, size), size: size, slot: make(chan struct{})}
}

// Get borrows an instance, creating one while the pool is under its size,
// else waiting for one to come back.
func (p *Pool) Get(ctx context.Context) (*Instance, error) {
	select {
	case in := <-p.free:
		return in, nil
	default:
	}
	p.mu.Lock()
	if len(p.all) < p.size {
		p.all = append(p.all, nil) // reserve a slot
		p.mu.Unlock()
		in, err := p.rt.Instantiate(ctx)
		if err == nil {
			if err = p.prepare(in); err != nil {
				in.Close(context.Background())
			}
		}
		p.mu.Lock()
		// Reserved slots are interchangeable nils, and other goroutines may
		// have filled or dropped theirs meanwhile: take any, not an index.
		i := slices.Index(p.all, nil)
		if err != nil {
			p.all = slices.Delete(p.all, i, i+1)
			close(p.slot) // wake waiters: the slot is free to try again
			p.slot = make(chan struct{})
			p.mu.Unlock()
			return nil, err
		}
		p.all[i] = in
		p.mu.Unlock()
		return in, nil
	}
	slot := p.slot
	p.mu.Unlock()
	select {
	case in := <-p.free:
		return in, nil
	case <-slot:
		return p.Get(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Put returns a borrowed instance.
func (p *Pool) Put(in *Instance) { p.free <- in }

// Run calls fn for every i in [0, n) on borrowed instances, as many at once
// as the pool holds. It stops at the first error and returns it.
func (p *Pool) Run(ctx context.Context, n int, fn func(in *Instance, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(p.size, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				in, err := p.Get(ctx)
				if err != nil {
					cancel(err)
					return
				}
				err = fn(in, i)
				p.Put(in)
				if err != nil {
					cancel(fmt.Errorf("visitor %d: %w", i, err))
					return
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// Each applies fn to every instance the pool has created (e.g. new
// weights), waiting for borrowed ones to come back, and makes it the setup
// of instances created later.
func (p *Pool) Each(ctx context.Context, fn func(*Instance) error) error {
	p.mu.Lock()
	n := len(p.all)
	p.each = fn
	p.mu.Unlock()
	taken := make([]*Instance, 0, n)
	defer func() {
		for _, in := range taken {
			p.Put(in)
		}
	}()
	for len(taken) < n {
		select {
		case in := <-p.free:
			taken = append(taken, in)
			if err := fn(in); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *Pool) prepare(in *Instance) error {
	p.mu.Lock()
	setup, each := p.setup, p.each
	p.mu.Unlock()
	for _, f := range []func(*Instance) error{setup, each} {
		if f != nil {
			if err := f(in); err != nil {
				return err
			}
		}
	}
	return nil
}

// Size returns how many instances the pool may hold.
func (p *Pool) Size() int { return p.size }
