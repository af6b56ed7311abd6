package publish_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
)

// countingStore records which deltas an aggregator reads.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	after []uint64 // the cursor of each read
	read  int      // deltas returned
}

func (c *countingStore) Deltas(ctx context.Context, site string, after uint64, limit int) ([]store.Delta, error) {
	ds, err := c.Store.Deltas(ctx, site, after, limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = append(c.after, after)
	c.read += len(ds)
	return ds, err
}

// TestRestartReadsCheckpoint: a restarted aggregator restores the newest
// version's checkpoint and reads only the deltas logged after its cursor,
// not the history (issue 12: a restart does not refold).
func TestRestartReadsCheckpoint(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	const history, later = 2500, 7
	for i := range history {
		appendDelta(t, st, i, "a", string(rune('b'+i%20)))
	}
	a := start(t, st, sites(t, 0.05))
	before := flush(t, a)
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if before.Deltas != history || before.Cursor != history {
		t.Fatalf("before the restart: %d deltas folded up to %d, want %d", before.Deltas, before.Cursor, history)
	}
	for i := range later {
		appendDelta(t, st, history+i, "b", "c")
	}
	counted := &countingStore{Store: st}
	// Without retention: its hourly job reads the oldest logged batch to
	// find deltas past the window (bounded, and not a fold).
	a = start(t, counted, sites(t, 0.05), publish.WithRetention(0))
	defer a.Close(ctx)
	after := flush(t, a)
	counted.mu.Lock()
	defer counted.mu.Unlock()
	if counted.read != later || len(counted.after) == 0 || counted.after[0] != before.Cursor {
		t.Errorf("the restart read %d deltas, first after %v: want the %d after the checkpoint's cursor %d", counted.read, counted.after, later, before.Cursor)
	}
	if after.Number != before.Number+1 || after.Deltas != history+later || after.New != later {
		t.Errorf("after the restart: version %d of %d deltas (%d new), want %d of %d (%d new)",
			after.Number, after.Deltas, after.New, before.Number+1, history+later, later)
	}
}

// TestFoldEvery: the leader folds the deltas notified within FoldEvery of
// its last step together, at the end of that time: 200 appends notified
// one by one, as syncs do, make a read of the log per FoldEvery at most
// (and one per tick), not one each.
func TestFoldEvery(t *testing.T) {
	c := &countingStore{Store: newStore(t)}
	a := start(t, c, sites(t, 0))
	t.Cleanup(func() { a.Close(context.Background()) })
	c.mu.Lock()
	before := len(c.after) // Start's
	c.mu.Unlock()
	const n = 200
	began := time.Now()
	for i := range n {
		appendDelta(t, c, i, "a", "b")
		a.Notify()
	}
	waitFor(t, "all folded", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.read >= n
	})
	took := time.Since(began)
	c.mu.Lock()
	reads := len(c.after) - before
	c.mu.Unlock()
	most := int(took/publish.FoldEvery) + int(took/time.Second) + 2
	t.Logf("%d appends notified in %v: %d reads of the log, %d deltas read", n, took, reads, c.read)
	if reads > most {
		t.Errorf("%d reads of the log for %d notified appends in %v, want at most %d", reads, n, took, most)
	}
}
