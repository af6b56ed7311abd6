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

// TestPipelined: while a group's finish is held, the next groups are
// staged (up to the depth) but none is answered; finishes run in the
// order of their stages, and each append gets its own group's result.
func TestPipelined(t *testing.T) {
	var staged atomic.Int32
	hold := make(chan struct{})
	var order []uint64 // Seqs of the finishes, in their order (one goroutine)
	var seq uint64     // stages run one at a time
	c := groupcommit.NewPipelined(64, 2, func(batch []store.Delta) func() []groupcommit.Result {
		res := make([]groupcommit.Result, len(batch))
		for i := range batch {
			seq++
			res[i].Appended = store.Appended{Seq: seq}
			if batch[i].Body[0] == 'x' {
				res[i] = groupcommit.Result{Err: store.ErrConflict}
			}
		}
		first := staged.Add(1) == 1
		return func() []groupcommit.Result {
			if first {
				<-hold
			}
			for _, r := range res {
				order = append(order, r.Appended.Seq)
			}
			return res
		}
	})
	defer c.Close()
	type result struct {
		a   store.Appended
		err error
	}
	results := make(chan result, 3)
	send := func(body string) {
		go func() {
			a, err := c.Append(context.Background(), store.Delta{Body: []byte(body)})
			results <- result{a, err}
		}()
	}
	send("a")
	for staged.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	send("b")
	for staged.Load() < 2 { // staged while the first group's finish is held
		time.Sleep(time.Millisecond)
	}
	send("x")
	for staged.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-results:
		t.Fatalf("answered while the first group's finish is held: %+v", r)
	default:
	}
	close(hold)
	var seqs []uint64
	var conflicts int
	for range 3 {
		r := <-results
		if errors.Is(r.err, store.ErrConflict) {
			conflicts++
			continue
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		seqs = append(seqs, r.a.Seq)
	}
	if conflicts != 1 || len(seqs) != 2 || seqs[0]+seqs[1] != 3 {
		t.Fatalf("results: seqs %v, %d conflicts; want Seqs 1 and 2 and one conflict", seqs, conflicts)
	}
	c.Close()
	if len(order) != 3 || order[0] != 1 || order[1] != 2 {
		t.Fatalf("finishes in the order %v, want the stages' (1, 2, then the conflict)", order)
	}
}
