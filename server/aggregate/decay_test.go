package aggregate_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

func pairDelta(from, to string) *wire.Delta {
	return &wire.Delta{Pairs: []wire.Pair{{From: from, To: to, W: 1}}, Items: []wire.Count{{ID: from, N: 1}}}
}

// TestDecayHalves checks that a delta one half-life older counts half.
func TestDecayHalves(t *testing.T) {
	p := params()
	p.HalfLife = 24 * time.Hour
	s := aggregate.NewState()
	s.Fold(pairDelta("old", "x"), 1, t0, &p)
	s.Fold(pairDelta("new", "x"), 2, t0.Add(24*time.Hour), &p)
	s.Fold(pairDelta("mid", "x"), 3, t0.Add(12*time.Hour), &p)
	for _, c := range []struct {
		from string
		want float64
	}{{"old", 0.5}, {"new", 1}, {"mid", math.Sqrt2 / 2}} {
		if got, n := s.Pair(c.from, "x"); math.Abs(got-c.want) > 1e-12 || n != 1 {
			t.Errorf("pair %s→x = %v (%d deltas), want %v", c.from, got, n, c.want)
		}
	}
	if got := s.Latest(); !got.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("latest %v", got)
	}
}

// randomDeltas returns n deltas over a small catalogue with times spread
// over span.
func randomDeltas(rng *rand.Rand, n int, span time.Duration) ([]wire.Delta, []time.Time) {
	ds, ts := make([]wire.Delta, n), make([]time.Time, n)
	for i := range ds {
		d := &ds[i]
		d.Model = uint32(rng.IntN(3))
		for j := 0; j < 4; j++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("i", rng.IntN(30)), To: fmt.Sprint("i", rng.IntN(30)), W: 1})
		}
		for j := 0; j < 3; j++ {
			d.Items = append(d.Items, wire.Count{ID: fmt.Sprint("i", rng.IntN(30)), N: 1})
		}
		d.Arms = []wire.ArmCount{{Arm: wire.Arm(rng.IntN(2)), Impressions: 10, Clicks: uint32(rng.IntN(3))}}
		ts[i] = t0.Add(time.Duration(rng.Int64N(int64(span))))
	}
	return ds, ts
}

// sameSums fails unless a and b hold the same pairs and items with the same
// counts and sums (to float rounding).
func sameSums(t *testing.T, what string, a, b *aggregate.State) {
	t.Helper()
	close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*(1+math.Abs(x)+math.Abs(y)) }
	pa, ia := a.Len()
	pb, ib := b.Len()
	if pa != pb || ia != ib {
		t.Fatalf("%s: %d pairs and %d items, want %d and %d", what, pb, ib, pa, ia)
	}
	a.EachPair(func(from, to string, sum float64, n int) {
		if got, m := b.Pair(from, to); !close(got, sum) || m != n {
			t.Fatalf("%s: pair %s→%s = %v (%d), want %v (%d)", what, from, to, got, m, sum, n)
		}
	})
	a.EachItem(func(id string, sum float64, n int) {
		if got, m := b.Item(id); !close(got, sum) || m != n {
			t.Fatalf("%s: item %s = %v (%d), want %v (%d)", what, id, got, m, sum, n)
		}
	})
	if !reflect.DeepEqual(a.Arms(), b.Arms()) || a.Deltas != b.Deltas || a.Cursor != b.Cursor {
		t.Fatalf("%s: arms or counts differ", what)
	}
}

// TestDecayOrderIndependent folds the same deltas in two orders, over a
// span of 300 half-lives (so the state rebases), and gets the same sums.
func TestDecayOrderIndependent(t *testing.T) {
	p := params()
	p.HalfLife = time.Hour
	rng := rand.New(rand.NewPCG(5, 6))
	ds, ts := randomDeltas(rng, 2000, 300*time.Hour)
	a, b := aggregate.NewState(), aggregate.NewState()
	for i := range ds {
		a.Fold(&ds[i], uint64(i+1), ts[i], &p)
	}
	for _, i := range rng.Perm(len(ds)) {
		b.Fold(&ds[i], uint64(i+1), ts[i], &p)
	}
	sameSums(t, "shuffled", a, b)
	a.EachPair(func(from, to string, sum float64, n int) {
		if math.IsNaN(sum) || math.IsInf(sum, 0) || sum > float64(n) {
			t.Fatalf("pair %s→%s: sum %v over %d deltas", from, to, sum, n)
		}
	})
}

// TestCloneMerge checks base + live: the first half folded into one state,
// the second into another, merged, equals all folded into one, including
// across different decay references; and a clone is independent.
func TestCloneMerge(t *testing.T) {
	p := params()
	p.HalfLife = 10 * time.Hour
	p.LDPEpsilon = 4
	rng := rand.New(rand.NewPCG(7, 8))
	ds, ts := randomDeltas(rng, 1000, 100*time.Hour)
	for i := range ds {
		ds[i].Reports, ds[i].Epsilon = []wire.Report{ldp.Encode(wire.ReportItem, ds[i].Items[0].ID, 4, rng)}, 4
	}
	all, base, live := aggregate.NewState(), aggregate.NewState(), aggregate.NewState()
	for i := range ds {
		all.Fold(&ds[i], uint64(i+1), ts[i], &p)
		if i < len(ds)/2 {
			base.Fold(&ds[i], uint64(i+1), ts[i], &p)
		} else {
			live.Fold(&ds[i], uint64(i+1), ts[i], &p)
		}
	}
	merged := base.Clone()
	merged.Merge(live)
	sameSums(t, "base+live", all, merged)
	catalog := []string{}
	for i := 0; i < 30; i++ {
		catalog = append(catalog, fmt.Sprint("i", i))
	}
	wa, wm := all.WeightsLDP(&p, catalog), merged.WeightsLDP(&p, catalog)
	if len(wa) == 0 || !reflect.DeepEqual(wa, wm) {
		t.Errorf("LDP weights of base+live differ from all's: %d vs %d items", len(wm), len(wa))
	}
	// The clone is independent of its source.
	before, _ := base.Pair("i1", "i2")
	merged.Fold(pairDelta("i1", "i2"), 5000, t0, &p)
	if after, _ := base.Pair("i1", "i2"); after != before {
		t.Error("folding into a clone changed its source")
	}
}

// TestCheckpointSchema1 restores a checkpoint of the previous schema (no
// decay, no sketches) and keeps folding.
func TestCheckpointSchema1(t *testing.T) {
	w := msgp.NewWriter(64)
	w.ArrayHeader(6)
	w.Uint(1)
	w.Uint(9)
	w.Uint(9)
	w.ArrayHeader(1)
	w.ArrayHeader(4)
	w.String("a")
	w.String("b")
	w.Float64(6)
	w.Uint(9)
	w.ArrayHeader(1)
	w.ArrayHeader(3)
	w.String("a")
	w.Float64(9)
	w.Uint(9)
	w.ArrayHeader(0)
	s := aggregate.NewState()
	if err := s.UnmarshalBinary(w.Bytes()); err != nil {
		t.Fatal(err)
	}
	p := params()
	p.HalfLife = time.Hour
	s.Fold(pairDelta("a", "b"), 10, t0, &p)
	if sum, n := s.Pair("a", "b"); sum != 7 || n != 10 || s.Cursor != 10 {
		t.Errorf("pair a→b = %v (%d deltas), cursor %d; want 7, 10, 10", sum, n, s.Cursor)
	}
	s.Fold(pairDelta("a", "b"), 11, t0.Add(time.Hour), &p)
	if sum, _ := s.Pair("a", "b"); sum != 4.5 {
		t.Errorf("an hour later a→b = %v, want 4.5", sum)
	}
}
