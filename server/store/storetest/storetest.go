// Package storetest is the contract every store.Store implementation must
// pass: the embedded bbolt store today, PostgreSQL next. An
// implementation's test calls Run with a factory:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Opener {
//			path := filepath.Join(t.TempDir(), "tailor.db")
//			return func() (store.Store, error) { return bolt.Open(path) }
//		})
//	}
//
// # Notes
//
// Run calls the factory once per subtest; the Opener it returns must open
// the same empty backing store each time it is called, so that Run can
// close and reopen it to check durability.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
)

// Opener opens (or reopens) one backing store.
type Opener func() (store.Store, error)

// Factory returns an Opener of a new, empty backing store for a test.
type Factory func(t *testing.T) Opener

// Run runs the contract suite against the implementation.
func Run(t *testing.T, newStore Factory) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"Idempotent", testIdempotent},
		{"Conflict", testConflict},
		{"RetriesAtOnce", testRetriesAtOnce},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Publish", testPublish},
		{"NotFound", testNotFound},
		{"Reopen", testReopen},
		{"InvalidRequests", testInvalid},
		{"Context", testContext},
		{"CoarseReceived", testCoarseReceived},
		{"Retire", testRetire},
		{"DeleteReceived", testDeleteReceived},
		{"Settings", testSettings},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// mustOpen opens a store closed at the end of the test.
func mustOpen(t *testing.T, open Opener) store.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// delta returns a test delta whose id and body derive from n.
func delta(site string, n int) store.Delta {
	d := store.Delta{Site: site, Model: uint32(n % 3), Received: time.Unix(1_800_000_000, int64(n)).UTC(),
		Body: fmt.Appendf(nil, "body %s %d", site, n)}
	copy(d.ID[:], fmt.Sprintf("%s-%d----------------", site, n))
	return d
}

func appendOK(t *testing.T, s store.Store, d store.Delta) store.Appended {
	t.Helper()
	a, err := s.Append(context.Background(), d)
	if err != nil {
		t.Fatalf("Append %x: %v", d.ID, err)
	}
	return a
}

func deltas(t *testing.T, s store.Store, site string, after uint64, limit int) []store.Delta {
	t.Helper()
	ds, err := s.Deltas(context.Background(), site, after, limit)
	if err != nil {
		t.Fatalf("Deltas(%s, %d, %d): %v", site, after, limit, err)
	}
	return ds
}

func sameDelta(t *testing.T, got, want store.Delta) {
	t.Helper()
	if got.Seq != want.Seq || got.Site != want.Site || got.ID != want.ID || got.Model != want.Model ||
		!got.Received.Equal(store.Coarse(want.Received)) || !bytes.Equal(got.Body, want.Body) {
		t.Errorf("delta = %+v\nwant    %+v", got, want)
	}
}

func testAppendAndRead(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	var want []store.Delta
	for i := 0; i < 3; i++ {
		d := delta("a", i)
		if a := appendOK(t, s, d); a.Seq != uint64(i+1) || a.Duplicate {
			t.Fatalf("Append a/%d = %+v, want seq %d", i, a, i+1)
		}
		d.Seq = uint64(i + 1)
		want = append(want, d)
	}
	for i := 0; i < 2; i++ {
		if a := appendOK(t, s, delta("b", i)); a.Seq != uint64(i+1) {
			t.Fatalf("Append b/%d = %+v: sites must have their own sequences", i, a)
		}
	}
	got := deltas(t, s, "a", 0, 10)
	if len(got) != 3 {
		t.Fatalf("Deltas(a) = %d deltas, want 3", len(got))
	}
	for i := range got {
		sameDelta(t, got[i], want[i])
	}
	if got := deltas(t, s, "a", 1, 1); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("Deltas(a, after 1, limit 1) = %+v, want seq 2", got)
	}
	if got := deltas(t, s, "a", 3, 10); len(got) != 0 {
		t.Errorf("Deltas(a, after 3) = %d deltas, want none", len(got))
	}
	if got := deltas(t, s, "nobody", 0, 10); len(got) != 0 {
		t.Errorf("Deltas(unknown site) = %d deltas, want none", len(got))
	}
	// Returned bodies are the caller's.
	got[0].Body[0] ^= 0xff
	if again := deltas(t, s, "a", 0, 1); !bytes.Equal(again[0].Body, want[0].Body) {
		t.Error("modifying a returned body changed the store")
	}
}

func testIdempotent(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	d := delta("a", 1)
	first := appendOK(t, s, d)
	appendOK(t, s, delta("a", 2))
	d.Received = d.Received.Add(time.Hour) // a retry arrives later
	again := appendOK(t, s, d)
	if !again.Duplicate || again.Seq != first.Seq {
		t.Errorf("retry = %+v, want Duplicate with seq %d", again, first.Seq)
	}
	if got := deltas(t, s, "a", 0, 10); len(got) != 2 {
		t.Errorf("after a retry the log holds %d deltas, want 2", len(got))
	}
}

func testConflict(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	d := delta("a", 1)
	appendOK(t, s, d)
	other := d
	other.Body = []byte("another body")
	if _, err := s.Append(context.Background(), other); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same id, other body: %v, want ErrConflict", err)
	}
	other = d
	other.Site = "b"
	if _, err := s.Append(context.Background(), other); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same id, other site: %v, want ErrConflict", err)
	}
	if got := deltas(t, s, "a", 0, 10); len(got) != 1 {
		t.Errorf("log holds %d deltas after conflicts, want 1", len(got))
	}
	if got := deltas(t, s, "b", 0, 10); len(got) != 0 {
		t.Errorf("site b holds %d deltas after a conflict, want none", len(got))
	}
}

// testRetriesAtOnce checks Append's idempotency rule
// (store.Recorded.Again) where a store applies it to ids that are not
// stored yet: each id is appended by several goroutines at once, with
// its body, with another body, and for another site, so that some of
// them fall into one group of appends. Exactly one append of each id
// records it; every other with its site and body is a duplicate with its
// Seq, every other fails with ErrConflict, and the log holds each id once.
func testRetriesAtOnce(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	const ids, each = 40, 9
	type try struct {
		d   store.Delta
		a   store.Appended
		err error
	}
	tries := make([]try, ids*each)
	for i := range tries {
		d := delta("a", i/each)
		switch i % 3 {
		case 1:
			d.Body = append(d.Body, " again"...)
		case 2:
			d.Site = "b"
		}
		tries[i].d = d
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			<-start
			tries[i].a, tries[i].err = s.Append(context.Background(), tries[i].d)
		})
	}
	close(start)
	wg.Wait()
	want := map[string]int{}
	for n := range ids {
		group := tries[n*each : (n+1)*each]
		var first *try
		for i := range group {
			if group[i].err == nil && !group[i].a.Duplicate {
				if first != nil {
					t.Fatalf("id %d recorded twice: %+v and %+v", n, first.a, group[i].a)
				}
				first = &group[i]
			}
		}
		if first == nil {
			t.Fatalf("id %d: no append recorded it: %+v", n, group)
		}
		want[first.d.Site]++
		for _, r := range group {
			same := r.d.Site == first.d.Site && bytes.Equal(r.d.Body, first.d.Body)
			switch {
			case same && (r.err != nil || r.a.Seq != first.a.Seq):
				t.Errorf("id %d: a retry of %s/%d = %+v, %v; want a duplicate or the append itself", n, first.d.Site, first.a.Seq, r.a, r.err)
			case !same && !errors.Is(r.err, store.ErrConflict):
				t.Errorf("id %d, site %s, body %q (%s %q recorded): %+v, %v; want ErrConflict",
					n, r.d.Site, r.d.Body, first.d.Site, first.d.Body, r.a, r.err)
			}
		}
	}
	for _, site := range []string{"a", "b"} {
		if got := deltas(t, s, site, 0, 2*ids); len(got) != want[site] {
			t.Errorf("site %s holds %d deltas, want %d", site, len(got), want[site])
		}
	}
}

// testConcurrentAppends hammers Append from many goroutines, retries
// included (run it under -race): every delta lands exactly once and the
// sequence has no holes.
func testConcurrentAppends(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	const workers, each = 16, 50
	var wg sync.WaitGroup
	seqs := make([][]uint64, workers)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				d := delta("a", w*each+i)
				a, err := s.Append(context.Background(), d)
				if err == nil && i%10 == 0 {
					var b store.Appended
					b, err = s.Append(context.Background(), d) // a retry
					if err == nil && (!b.Duplicate || b.Seq != a.Seq) {
						err = fmt.Errorf("retry of seq %d = %+v", a.Seq, b)
					}
				}
				if err != nil {
					errs <- err
					return
				}
				seqs[w] = append(seqs[w], a.Seq)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, ss := range seqs {
		for _, q := range ss {
			if seen[q] {
				t.Fatalf("seq %d given twice", q)
			}
			seen[q] = true
		}
	}
	got := deltas(t, s, "a", 0, 2*workers*each)
	if len(got) != workers*each {
		t.Fatalf("log holds %d deltas, want %d", len(got), workers*each)
	}
	for i, d := range got {
		if d.Seq != uint64(i+1) || !seen[d.Seq] {
			t.Fatalf("delta %d has seq %d (acknowledged: %v)", i, d.Seq, seen[d.Seq])
		}
	}
}

// version returns a test version of n with one shard and a config.
func version(site string, n uint32, shard, config []byte) store.Version {
	return store.Version{Site: site, Number: n, Created: time.Unix(1_800_000_000+int64(n), 0).UTC(), Deltas: uint64(10 * n),
		New: 10, Cursor: uint64(10 * n), Config: store.Hash(config), Bytes: len(shard),
		Shards:  []store.Shard{{Index: 0, Version: n, Hash: store.Hash(shard), Bytes: len(shard)}},
		Privacy: store.Privacy{MinCohort: 5, ClipWeight: 2, ClipL1: 16, Noise: "none"}}
}

func blobs(bs ...[]byte) map[string][]byte {
	m := map[string][]byte{}
	for _, b := range bs {
		m[store.Hash(b)] = b
	}
	return m
}

func sameVersion(t *testing.T, got, want store.Version) {
	t.Helper()
	g, w := got, want
	g.Created, w.Created = time.Time{}, time.Time{}
	if fmt.Sprint(g) != fmt.Sprint(w) || !got.Created.Equal(want.Created) {
		t.Errorf("version = %+v\nwant      %+v", got, want)
	}
}

func testPublish(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	shard0, cfg := []byte("shard v0"), []byte("config")
	v0 := version("a", 0, shard0, cfg)
	if err := s.Publish(ctx, store.Publication{Version: v0, Blobs: blobs(shard0, cfg), State: []byte("state 0")}); err != nil {
		t.Fatalf("Publish v0: %v", err)
	}
	for _, tc := range []struct {
		name string
		p    store.Publication
		want error
	}{
		{"v0 again", store.Publication{Version: v0, Blobs: blobs(shard0, cfg)}, store.ErrVersionExists},
		{"v2 after v0", store.Publication{Version: version("a", 2, shard0, cfg)}, store.ErrVersionGap},
		{"first version not 0", store.Publication{Version: version("b", 1, shard0, cfg), Blobs: blobs(shard0, cfg)}, store.ErrVersionGap},
		{"hash mismatch", store.Publication{Version: version("a", 1, shard0, cfg), Blobs: map[string][]byte{store.Hash(shard0): []byte("tampered")}}, store.ErrHashMismatch},
		{"missing blob", store.Publication{Version: version("a", 1, []byte("never given"), cfg)}, store.ErrMissingBlob},
	} {
		if err := s.Publish(ctx, tc.p); !errors.Is(err, tc.want) {
			t.Errorf("Publish %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// v1 changes the shard and reuses the stored config without giving it.
	shard1 := []byte("shard v1")
	v1 := version("a", 1, shard1, cfg)
	if err := s.Publish(ctx, store.Publication{Version: v1, Blobs: blobs(shard1), State: []byte("state 1")}); err != nil {
		t.Fatalf("Publish v1: %v", err)
	}
	latest, err := s.Latest(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	sameVersion(t, latest, v1)
	old, err := s.Version(ctx, "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	sameVersion(t, old, v0)
	for _, b := range [][]byte{shard0, shard1, cfg} {
		got, err := s.Blob(ctx, store.Hash(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("Blob(%q) = %q, %v", b, got, err)
		}
	}
	if st, err := s.State(ctx, "a"); err != nil || string(st) != "state 1" {
		t.Errorf("State = %q, %v, want the latest version's", st, err)
	}
}

func testNotFound(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	shard, cfg := []byte("s"), []byte("c")
	if err := s.Publish(ctx, store.Publication{Version: version("a", 0, shard, cfg), Blobs: blobs(shard, cfg)}); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Latest(unknown site)":  second(s.Latest(ctx, "b")),
		"Version(unknown site)": second(s.Version(ctx, "b", 0)),
		"Version(unknown n)":    second(s.Version(ctx, "a", 1)),
		"Blob(unknown)":         second(s.Blob(ctx, store.Hash([]byte("nothing")))),
		"State(unknown site)":   second(s.State(ctx, "b")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func testReopen(t *testing.T, open Opener) {
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := delta("a", 7)
	appendOK(t, s, d)
	shard, cfg := []byte("s"), []byte("c")
	v0 := version("a", 0, shard, cfg)
	if err := s.Publish(ctx, store.Publication{Version: v0, Blobs: blobs(shard, cfg), State: []byte("st")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, err := range everyCall(ctx, s) {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	s = mustOpen(t, open)
	got := deltas(t, s, "a", 0, 10)
	d.Seq = 1
	if len(got) != 1 {
		t.Fatalf("after reopening, the log holds %d deltas, want 1", len(got))
	}
	sameDelta(t, got[0], d)
	if a := appendOK(t, s, d); !a.Duplicate {
		t.Error("after reopening, a retry is not recognised")
	}
	if a := appendOK(t, s, delta("a", 8)); a.Seq != 2 {
		t.Errorf("after reopening, the next seq is %d, want 2", a.Seq)
	}
	v, err := s.Latest(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	sameVersion(t, v, v0)
	if st, err := s.State(ctx, "a"); err != nil || string(st) != "st" {
		t.Errorf("State after reopening = %q, %v", st, err)
	}
}

func testInvalid(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	if _, err := s.Append(ctx, store.Delta{Body: []byte("x")}); !errors.Is(err, store.ErrInvalidRequest) {
		t.Errorf("Append without site: %v, want ErrInvalidRequest", err)
	}
	if _, err := s.Append(ctx, store.Delta{Site: "a"}); !errors.Is(err, store.ErrInvalidRequest) {
		t.Errorf("Append without body: %v, want ErrInvalidRequest", err)
	}
	if _, err := s.Deltas(ctx, "a", 0, 0); !errors.Is(err, store.ErrInvalidRequest) {
		t.Errorf("Deltas with limit 0: %v, want ErrInvalidRequest", err)
	}
	if err := s.Publish(ctx, store.Publication{}); !errors.Is(err, store.ErrInvalidRequest) {
		t.Errorf("Publish without site: %v, want ErrInvalidRequest", err)
	}
}

func testContext(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, err := range everyCall(ctx, s) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v", name, err)
		}
	}
	if got := deltas(t, s, "a", 0, 10); len(got) != 0 {
		t.Errorf("a canceled Append stored %d deltas", len(got))
	}
	if _, err := s.Latest(context.Background(), "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a canceled Publish stored a version: Latest = %v, want ErrNotFound", err)
	}
}

// everyCall calls each method of s but Close with a valid request about
// site "a" and returns their errors by name: every store checks its
// context and whether it is closed before anything else.
func everyCall(ctx context.Context, s store.Store) map[string]error {
	shard, cfg := []byte("s"), []byte("c")
	now := time.Now()
	return map[string]error{
		"Append":         second(s.Append(ctx, delta("a", 1))),
		"Deltas":         second(s.Deltas(ctx, "a", 0, 1)),
		"Publish":        s.Publish(ctx, store.Publication{Version: version("a", 0, shard, cfg), Blobs: blobs(shard, cfg)}),
		"Latest":         second(s.Latest(ctx, "a")),
		"Version":        second(s.Version(ctx, "a", 0)),
		"Blob":           second(s.Blob(ctx, store.Hash(shard))),
		"State":          second(s.State(ctx, "a")),
		"Base":           second(s.Base(ctx, "a")),
		"Retire":         second(s.Retire(ctx, "a", 0, store.Base{Through: 1})),
		"DeleteReceived": second(s.DeleteReceived(ctx, "a", now.Add(-time.Hour), now)),
		"Settings":       second(s.Settings(ctx, "a")),
		"PutSettings":    s.PutSettings(ctx, "a", store.Settings{}),
	}
}
