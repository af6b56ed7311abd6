package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tailorhq/tailor/server/store"
)

// gatedSync replaces a store's fdatasync: each call reports itself on
// entered, then waits for an answer on release (nil: synced).
type gatedSync struct {
	entered chan int // the call's number, from 1
	release chan error
	calls   int
}

func gate(s *DB) *gatedSync {
	g := &gatedSync{entered: make(chan int), release: make(chan error)}
	s.fsync = func(f *os.File) error {
		g.calls++ // finishes run on one goroutine
		g.entered <- g.calls
		if err := <-g.release; err != nil {
			return err
		}
		return fdatasync(f)
	}
	return g
}

// stagedGroups is how many groups wait for their finish or are finishing.
func stagedGroups(s *DB) int {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	return len(s.staging)
}

type appendResult struct {
	a   store.Appended
	err error
}

// appendAsync appends d in a goroutine; its result comes on the channel.
func appendAsync(s *DB, d store.Delta) <-chan appendResult {
	c := make(chan appendResult, 1)
	go func() {
		a, err := s.Append(context.Background(), d)
		c <- appendResult{a, err}
	}()
	return c
}

// waitWritten waits until n groups were written into the journal.
func waitWritten(t *testing.T, s *DB, n uint64) {
	t.Helper()
	for s.written.Load() < n {
		runtime.Gosched()
	}
}

// TestPipelineDurableBeforeAnswer: a group is written while the previous
// group's fdatasync runs, and neither append is answered before a
// fdatasync that started after its write returned: the second group
// waits for a second one.
func TestPipelineDurableBeforeAnswer(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "t.db"))
	defer s.Close()
	g := gate(s)
	a := appendAsync(s, journalDelta("site", 1))
	if n := <-g.entered; n != 1 {
		t.Fatalf("fdatasync call %d, want 1", n)
	}
	b := appendAsync(s, journalDelta("site", 2))
	waitWritten(t, s, 2) // written during the first group's fdatasync
	select {
	case r := <-a:
		t.Fatalf("first append answered before its fdatasync returned: %+v", r)
	case r := <-b:
		t.Fatalf("second append answered before any fdatasync returned: %+v", r)
	default:
	}
	g.release <- nil
	ra := <-a
	if ra.err != nil || ra.a.Seq != 1 {
		t.Fatalf("first append: %+v, want Seq 1", ra)
	}
	// The first fdatasync started before the second group was written: it
	// does not cover it.
	select {
	case n := <-g.entered:
		if n != 2 {
			t.Fatalf("fdatasync call %d, want 2", n)
		}
	case r := <-b:
		t.Fatalf("second append answered without a fdatasync after its write: %+v", r)
	}
	g.release <- nil
	if rb := <-b; rb.err != nil || rb.a.Seq != 2 {
		t.Fatalf("second append: %+v, want Seq 2", rb)
	}
}

// TestPipelineSyncFails: when a group's fdatasync fails, it and the group
// staged behind it (a retry of the first's delta among them) fail; the
// store then takes appends again, and neither failed delta is replayed
// after a crash nor known as a duplicate.
func TestPipelineSyncFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := mustOpen(t, path)
	g := gate(s)
	a := appendAsync(s, journalDelta("site", 1))
	<-g.entered
	b := appendAsync(s, journalDelta("site", 2))
	waitWritten(t, s, 2)
	retry := appendAsync(s, journalDelta("site", 1))
	for stagedGroups(s) < 3 { // the retry's group staged too (a duplicate: nothing written)
		runtime.Gosched()
	}
	failure := errors.New("disk gone")
	g.release <- failure
	for name, c := range map[string]<-chan appendResult{"first": a, "second": b, "retry": retry} {
		if r := <-c; r.err == nil {
			t.Errorf("%s append: %+v, want an error", name, r)
		}
	}
	// The next append undoes the failed groups, then commits.
	c := appendAsync(s, journalDelta("site", 3))
	if n := <-g.entered; n != 2 {
		t.Fatalf("fdatasync call %d, want 2", n)
	}
	g.release <- nil
	if r := <-c; r.err != nil || r.a.Duplicate {
		t.Fatalf("append after the failure: %+v", r)
	}
	s.crash(t)

	s = mustOpen(t, path)
	defer s.Close()
	ds, err := s.Deltas(context.Background(), "site", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || string(ds[0].Body) != "body-site-3" {
		t.Fatalf("after the crash the store has %d deltas %v, want only the third", len(ds), ds)
	}
	r, err := s.Append(context.Background(), journalDelta("site", 1))
	if err != nil || r.Duplicate {
		t.Fatalf("the failed first delta appended again: %+v, %v; want a new delta", r, err)
	}
}

// TestPipelineSyncsOwnDescriptor: the groups' fdatasyncs go through a
// descriptor of the journal that the rest of it (writes, and the resets
// that the background copy fdatasyncs beside them) does not use: a write
// error is reported once to each open file, and on a shared one the
// reset could take a group's.
func TestPipelineSyncsOwnDescriptor(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "t.db"))
	defer s.Close()
	var synced []*os.File
	s.fsync = func(f *os.File) error { // on the finishing goroutine; read after Append returns
		synced = append(synced, f)
		return fdatasync(f)
	}
	if _, err := s.Append(context.Background(), journalDelta("site", 1)); err != nil {
		t.Fatal(err)
	}
	j := s.journals[0].f
	if len(synced) != 1 {
		t.Fatalf("%d fdatasyncs for one append, want 1", len(synced))
	}
	if synced[0].Fd() == j.Fd() {
		t.Fatalf("the group's fdatasync went through the journal's shared descriptor %d", j.Fd())
	}
	a, err := synced[0].Stat()
	if err != nil {
		t.Fatal(err)
	}
	b, err := j.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(a, b) {
		t.Fatalf("the group's fdatasync went to %s, not the journal %s", synced[0].Name(), j.Name())
	}
}
