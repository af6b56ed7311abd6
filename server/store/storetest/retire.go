package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
)

// hour is an hour-aligned time of the tests (1_800_000_000 is a multiple
// of 3600).
func hour(h int) time.Time {
	return time.Unix(1_800_000_000, 0).UTC().Add(time.Duration(h) * time.Hour)
}

func seqs(ds []store.Delta) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Seq
	}
	return out
}

func sameSeqs(t *testing.T, what string, got []store.Delta, want ...uint64) {
	t.Helper()
	g := seqs(got)
	if len(g) != len(want) {
		t.Errorf("%s: seqs %v, want %v", what, g, want)
		return
	}
	for i := range g {
		if g[i] != want[i] {
			t.Errorf("%s: seqs %v, want %v", what, g, want)
			return
		}
	}
}

// testCoarseReceived: the store keeps when a delta arrived to the hour.
func testCoarseReceived(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	d := delta("a", 1)
	d.Received = hour(3).Add(37*time.Minute + 12*time.Second + 345*time.Millisecond)
	appendOK(t, s, d)
	got := deltas(t, s, "a", 0, 1)
	if len(got) != 1 || !got[0].Received.Equal(hour(3)) || got[0].Received.Location() != time.UTC {
		t.Fatalf("Received = %v, want %v (the hour, UTC)", got[0].Received, hour(3))
	}
	if c := store.Coarse(d.Received.In(time.FixedZone("x", 5*3600+1800))); !c.Equal(hour(3)) {
		t.Errorf("Coarse in another zone = %v, want %v", c, hour(3))
	}
}

// testRetire: Retire stores the base and deletes the deltas through it,
// ids included, atomically and only from the base it was computed on.
func testRetire(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	if b, err := s.Base(ctx, "a"); err != nil || b.Through != 0 || !b.Until.IsZero() || len(b.State) != 0 {
		t.Fatalf("Base of a new site = %+v, %v, want the zero Base", b, err)
	}
	for i := 1; i <= 5; i++ {
		appendOK(t, s, delta("a", i))
	}
	appendOK(t, s, delta("b", 1))
	b3 := store.Base{Through: 3, Until: hour(0), State: []byte("three")}
	if n, err := s.Retire(ctx, "a", 0, b3); err != nil || n != 3 {
		t.Fatalf("Retire through 3 = %d, %v, want 3 deleted", n, err)
	}
	sameSeqs(t, "after Retire", deltas(t, s, "a", 0, 10), 4, 5)
	sameSeqs(t, "another site", deltas(t, s, "b", 0, 10), 1)
	got, err := s.Base(ctx, "a")
	if err != nil || got.Through != 3 || !got.Until.Equal(hour(0)) || string(got.State) != "three" {
		t.Fatalf("Base = %+v, %v, want %+v", got, err, b3)
	}
	for _, tc := range []struct {
		name string
		prev uint64
		b    store.Base
		want error
	}{
		{"from a stale base", 0, store.Base{Through: 4, State: []byte("x")}, store.ErrBaseMoved},
		{"from a base ahead", 4, store.Base{Through: 5, State: []byte("x")}, store.ErrBaseMoved},
		{"backwards", 3, store.Base{Through: 2, State: []byte("x")}, store.ErrInvalidRequest},
	} {
		if _, err := s.Retire(ctx, "a", tc.prev, tc.b); !errors.Is(err, tc.want) {
			t.Errorf("Retire %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	sameSeqs(t, "after refused Retires", deltas(t, s, "a", 0, 10), 4, 5)
	// A retired delta's id is forgotten with it: a late retry is new.
	if a := appendOK(t, s, delta("a", 1)); a.Duplicate || a.Seq != 6 {
		t.Errorf("retry of a retired delta = %+v, want recorded anew as seq 6", a)
	}
	if a := appendOK(t, s, delta("a", 4)); !a.Duplicate || a.Seq != 4 {
		t.Errorf("retry of a kept delta = %+v, want Duplicate seq 4", a)
	}
	// Retiring nothing more moves only the base.
	if n, err := s.Retire(ctx, "a", 3, store.Base{Through: 3, Until: hour(0), State: []byte("again")}); err != nil || n != 0 {
		t.Errorf("Retire through the same seq = %d, %v, want 0 deleted", n, err)
	}
	if n, err := s.Retire(ctx, "a", 3, store.Base{Through: 6, Until: hour(1), State: []byte("six")}); err != nil || n != 3 {
		t.Errorf("Retire through 6 = %d, %v, want 3 deleted", n, err)
	}
	if got := deltas(t, s, "a", 0, 10); len(got) != 0 {
		t.Errorf("after retiring everything: %v", seqs(got))
	}
	if a := appendOK(t, s, delta("a", 9)); a.Seq != 7 {
		t.Errorf("next seq after retiring everything = %d, want 7", a.Seq)
	}
	if _, err := s.Retire(ctx, "", 0, store.Base{}); !errors.Is(err, store.ErrInvalidRequest) {
		t.Errorf("Retire without site: %v, want ErrInvalidRequest", err)
	}
}

// testDeleteReceived: a time window's deltas go, ids included; a window
// that reaches into the base is refused whole.
func testDeleteReceived(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	for i := 0; i < 8; i++ {
		d := delta("a", i)
		d.Received = hour(i / 2).Add(time.Duration(i) * time.Minute) // two deltas an hour, hours 0-3
		appendOK(t, s, d)
	}
	appendOK(t, s, delta("b", 1)) // hour 0, another site
	if n, err := s.DeleteReceived(ctx, "a", hour(1), hour(3)); err != nil || n != 4 {
		t.Fatalf("DeleteReceived [1h, 3h) = %d, %v, want 4", n, err)
	}
	sameSeqs(t, "after DeleteReceived", deltas(t, s, "a", 0, 10), 1, 2, 7, 8)
	sameSeqs(t, "another site", deltas(t, s, "b", 0, 10), 1)
	if a := appendOK(t, s, delta("a", 3)); a.Duplicate {
		t.Errorf("retry of a purged delta = %+v, want recorded anew", a)
	}
	if n, err := s.DeleteReceived(ctx, "a", hour(10), hour(11)); err != nil || n != 0 {
		t.Errorf("DeleteReceived of an empty window = %d, %v", n, err)
	}
	if _, err := s.Retire(ctx, "a", 0, store.Base{Through: 2, Until: hour(0), State: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteReceived(ctx, "a", hour(0), hour(4)); !errors.Is(err, store.ErrRetired) || n != 0 {
		t.Errorf("DeleteReceived reaching into the base = %d, %v, want ErrRetired", n, err)
	}
	sameSeqs(t, "after a refused DeleteReceived", deltas(t, s, "a", 0, 10), 7, 8, 9)
	if n, err := s.DeleteReceived(ctx, "a", hour(1), hour(4)); err != nil || n != 2 {
		t.Errorf("DeleteReceived after the base = %d, %v, want 2", n, err)
	}
}
