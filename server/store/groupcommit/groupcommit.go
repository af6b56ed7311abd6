// Package groupcommit lets concurrent appends share one durable commit:
// a single writer goroutine takes the first waiting append and every other
// already waiting, commits them together, and answers each. Every caller
// still returns only after its own delta is committed, but one fsync (or
// one database round trip) serves many. Both stores use it.
//
//	c := groupcommit.New(1024, func(batch []store.Delta) []groupcommit.Result { ... })
//	a, err := c.Append(ctx, d)
//	c.Close()
//
// (Waiting a little for more appends before committing was measured: it
// does not help, because under load the appends that arrive during one
// commit form the next group anyway.)
//
// # Notes
//
// A Committer is goroutine-safe. Close waits for the groups in flight.
package groupcommit

import (
	"bytes"
	"context"
	"sync"

	"github.com/tailorhq/tailor/server/store"
)

// Result is what a commit answers one append of its batch.
type Result struct {
	Appended store.Appended
	Err      error
}

// Func commits a batch durably and returns one Result per delta, in order.
type Func func(batch []store.Delta) []Result

// Stage is a commit in two steps, for NewPipelined: it writes a batch and
// returns finish, which makes it durable and returns one Result per
// delta, in order. Stage does not keep batch (the slice; its Bodies are
// handed over). Stages run one at a time, and so do finishes, in the
// same order; a batch's Stage may run while earlier batches' finishes do.
type Stage func(batch []store.Delta) (finish func() []Result)

// Committer groups appends into commits.
type Committer struct {
	max   int
	stage Stage
	depth int // staged batches waiting for their finish, at most

	mu     sync.RWMutex // held for reading while sending to reqs; for writing by Close
	closed bool
	reqs   chan *request
	wg     sync.WaitGroup
}

type request struct {
	d    store.Delta
	done chan Result // buffered: the writer never blocks on it
}

// New starts a committer whose groups hold at most size appends.
func New(size int, commit Func) *Committer {
	return NewPipelined(size, 1, func(batch []store.Delta) func() []Result {
		res := commit(batch)
		return func() []Result { return res }
	})
}

// Append queues d for the next commit, its Received time made
// store.Coarse (the rule of every store, applied here once for both), and
// waits for its result. When ctx ends first, the append may still commit;
// a retry then finds it (store.Appended.Duplicate).
func (c *Committer) Append(ctx context.Context, d store.Delta) (store.Appended, error) {
	d.Body = bytes.Clone(d.Body) // the writer may still hold it after a canceled call returns
	return c.AppendOwned(ctx, d)
}

// NewPipelined starts a committer whose groups hold at most size appends
// and commit in two steps: while one goroutine finishes a group (its
// fsync), the next groups are staged (written) by another, up to depth
// of them waiting, so that the CPU work of a group overlaps the previous
// group's wait for the disk, and one fsync may cover several groups.
// Each caller still gets its result only from its own group's finish.
func NewPipelined(size, depth int, stage Stage) *Committer {
	size = max(1, size)
	c := &Committer{max: size, stage: stage, depth: max(1, depth), reqs: make(chan *request, size)}
	c.wg.Add(1)
	go c.pipeline()
	return c
}

// AppendOwned is Append of a Body the caller hands over: it neither
// changes nor reuses it, so it is not copied. A store that makes a new
// Body for each append anyway (bolt: its record, made by the caller's
// goroutine rather than in the commit every append waits for) saves the
// copy.
func (c *Committer) AppendOwned(ctx context.Context, d store.Delta) (store.Appended, error) {
	if err := ctx.Err(); err != nil {
		return store.Appended{}, err
	}
	d.Received = store.Coarse(d.Received)
	r := requests.Get().(*request)
	r.d = d
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		r.d = store.Delta{}
		requests.Put(r)
		return store.Appended{}, store.ErrClosed
	}
	c.reqs <- r
	c.mu.RUnlock()
	select {
	case res := <-r.done:
		r.d = store.Delta{} // the store has what it keeps of it
		requests.Put(r)
		return res.Appended, res.Err
	case <-ctx.Done():
		return store.Appended{}, ctx.Err() // r is answered later: not reused
	}
}

// requests are reused: an append answered takes its request back, the
// committer having sent its one result and let go of it; one whose
// caller gave up is left to the collector.
var requests = sync.Pool{New: func() any { return &request{done: make(chan Result, 1)} }}

// pipeline stages appends in groups until reqs is closed, and hands each
// group to a goroutine that finishes it and answers its appends.
func (c *Committer) pipeline() {
	defer c.wg.Done()
	type staged struct {
		batch  []*request
		finish func() []Result
	}
	q := make(chan staged, c.depth-1) // a send blocks once depth wait, the one finishing aside
	done := make(chan struct{})
	go func() {
		defer close(done)
		for g := range q {
			res := g.finish()
			for i, r := range g.batch {
				r.done <- res[i]
			}
		}
	}()
	deltas := make([]store.Delta, 0, c.max)
	for r := range c.reqs {
		batch := c.gather(r, make([]*request, 0, 16))
		deltas = deltas[:0]
		for _, r := range batch {
			deltas = append(deltas, r.d)
		}
		q <- staged{batch, c.stage(deltas)}
	}
	close(q)
	<-done
}

// gather appends r and the requests waiting behind it, up to max, to batch.
func (c *Committer) gather(r *request, batch []*request) []*request {
	batch = append(batch, r)
	for len(batch) < c.max {
		select {
		case r, ok := <-c.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// Close stops accepting appends (they fail with store.ErrClosed) and waits
// for the ones queued to commit. It reports whether this call closed it,
// so that a store closes its file or pool once, however often it is
// closed.
func (c *Committer) Close() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	close(c.reqs)
	c.mu.Unlock()
	c.wg.Wait()
	return true
}

// Check is what every method of a store checks first: it fails with
// ctx's error when ctx is done, and with store.ErrClosed once Close was
// called.
func (c *Committer) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.Closed() {
		return store.ErrClosed
	}
	return nil
}

// Closed reports whether Close was called: the store is closing or closed.
func (c *Committer) Closed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}
