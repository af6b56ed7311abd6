package groupcommit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/groupcommit"
)

// TestGroups: concurrent appends share commits, each gets its own result,
// and the body a caller passed is copied (the caller may reuse it).
func TestGroups(t *testing.T) {
	var commits, seq atomic.Uint64
	release := make(chan struct{})
	c := groupcommit.New(64, func(batch []store.Delta) []groupcommit.Result {
		if commits.Add(1) == 1 {
			<-release // hold the first commit so the others queue up
		}
		res := make([]groupcommit.Result, len(batch))
		for i, d := range batch {
			if d.Body[0] == 'x' {
				res[i].Err = store.ErrConflict
				continue
			}
			res[i].Appended = store.Appended{Seq: seq.Add(1)}
		}
		return res
	})
	defer c.Close()
	const n = 50
	var wg sync.WaitGroup
	var started atomic.Int32
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			body := []byte("ok")
			if i%10 == 0 {
				body = []byte("x")
			}
			_, errs[i] = c.Append(context.Background(), store.Delta{Site: "s", Body: body})
			body[0] = '!' // reusing the buffer must not change what was committed
		}()
	}
	// Let every append queue up behind the held first commit (they queue
	// at once; the wait is generous), then let the commits run.
	for started.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	for i, err := range errs {
		if want := i%10 == 0; errors.Is(err, store.ErrConflict) != want {
			t.Errorf("append %d: %v", i, err)
		}
	}
	if got := commits.Load(); got >= n {
		t.Errorf("%d commits for %d concurrent appends: nothing was grouped", got, n)
	}
	t.Logf("%d appends in %d commits", n, commits.Load())
}

// TestClose: after Close, appends fail with store.ErrClosed; only the first
// Close reports that it closed.
func TestClose(t *testing.T) {
	c := groupcommit.New(4, func(batch []store.Delta) []groupcommit.Result {
		return make([]groupcommit.Result, len(batch))
	})
	if _, err := c.Append(context.Background(), store.Delta{Site: "s", Body: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Check(ctx); err != nil {
		t.Errorf("Check before Close = %v", err)
	}
	if c.Closed() || !c.Close() || c.Close() || !c.Closed() {
		t.Error("Close/Closed: want open, closed by the first Close only, then closed")
	}
	if _, err := c.Append(context.Background(), store.Delta{Site: "s", Body: []byte{1}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("append after Close = %v, want ErrClosed", err)
	}
	if err := c.Check(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Check after Close = %v, want ErrClosed", err)
	}
	cancel()
	if err := c.Check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a done context = %v, want context.Canceled", err)
	}
	if _, err := c.Append(ctx, store.Delta{Site: "s", Body: []byte{1}}); !errors.Is(err, context.Canceled) {
		t.Errorf("append with a done context = %v, want context.Canceled", err)
	}
}

// TestAppendOwned: AppendOwned hands the commit the caller's Body itself,
// Append a copy.
func TestAppendOwned(t *testing.T) {
	var got []byte
	c := groupcommit.New(4, func(batch []store.Delta) []groupcommit.Result {
		got = batch[0].Body
		return make([]groupcommit.Result, len(batch))
	})
	defer c.Close()
	body := []byte("body")
	if _, err := c.AppendOwned(context.Background(), store.Delta{Site: "s", Body: body}); err != nil || &got[0] != &body[0] {
		t.Errorf("AppendOwned: err %v, body copied: %v", err, &got[0] != &body[0])
	}
	if _, err := c.Append(context.Background(), store.Delta{Site: "s", Body: body}); err != nil || &got[0] == &body[0] || string(got) != "body" {
		t.Errorf("Append: err %v, body %q not copied: %v", err, got, &got[0] == &body[0])
	}
}
