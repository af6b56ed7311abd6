package aggregate_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

// honestDeltas makes n deltas shaped like the device's federated ones
// (4 sampled pairs, 8 items, weight 1) over a catalogue of size items,
// Zipf-distributed, so that a long tail of pairs stays below k.
func honestDeltas(rng *rand.Rand, n, size int) []wire.Delta {
	z := rand.NewZipf(rng, 1.1, 1, uint64(size-1))
	id := func() string { return fmt.Sprint("product-", z.Uint64()) }
	ds := make([]wire.Delta, n)
	for i := range ds {
		d := &ds[i]
		for j := 0; j < 4; j++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: id(), To: id(), W: 1})
		}
		for j := 0; j < 8; j++ {
			d.Items = append(d.Items, wire.Count{ID: id(), N: 1})
		}
	}
	return ds
}

// floodDeltas makes n maximum-size deltas of fresh random 64-byte ids.
func floodDeltas(rng *rand.Rand, n int) []wire.Delta {
	id := func() string {
		b := make([]byte, 0, 32)
		for range 4 {
			b = binary.LittleEndian.AppendUint64(b, rng.Uint64())
		}
		return hex.EncodeToString(b)
	}
	ds := make([]wire.Delta, n)
	for i := range ds {
		d := &ds[i]
		for j := 0; j < wire.MaxDeltaPairs; j++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: id(), To: id(), W: wire.MaxDeltaWeight})
		}
		for j := 0; j < wire.MaxDeltaItems; j++ {
			d.Items = append(d.Items, wire.Count{ID: id(), N: wire.MaxDeltaWeight})
		}
	}
	return ds
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFloodBoundsMemory is finding 8 of issue 9: 3,000 maximum-size
// deltas of fresh random ids, after honest traffic brought the aggregate
// to its steady state, keep the heap within 2x of that state, prune the
// ids with the entries, and keep every published pair.
func TestFloodBoundsMemory(t *testing.T) {
	p := aggregate.DefaultParams
	p.KeepBytes = 4 << 20 // small, so that honest traffic reaches it quickly
	rng := rand.New(rand.NewPCG(1, 2))
	s := aggregate.NewState()
	seq := uint64(0)
	fold := func(ds []wire.Delta) {
		for i := range ds {
			seq++
			s.Fold(&ds[i], seq, t0.Add(time.Duration(seq)*time.Second), &p)
		}
	}
	honest := honestDeltas(rng, 10000, 30000)
	flood := floodDeltas(rng, 3000)
	base := heap() // the deltas themselves are live throughout
	fold(honest)
	steady := heap() - base
	published := map[[2]string]bool{}
	s.EachPair(func(from, to string, _ float64, n int) {
		if n >= p.MinCohort {
			published[[2]string{from, to}] = true
		}
	})
	pairs, items := s.Len()
	t.Logf("steady state: %d pairs, %d items, %d ids, heap %.1f MiB (%d pairs of k or more)", pairs, items, s.Interned(), float64(steady)/(1<<20), len(published))
	fold(flood)
	after := heap() - base
	pairs, items = s.Len()
	t.Logf("after %d flood deltas: %d pairs, %d items, %d ids, heap %.1f MiB (%.2fx)", len(flood), pairs, items, s.Interned(), float64(after)/(1<<20), float64(after)/float64(steady))
	if after > 2*steady {
		t.Errorf("the flood took the aggregate's heap from %d to %d bytes: more than 2x", steady, after)
	}
	if max := 4 * (pairs + items); s.Interned() > max {
		t.Errorf("%d ids interned for %d pairs and %d items: the intern table is not pruned", s.Interned(), pairs, items)
	}
	lost := 0
	for k := range published {
		if _, n := s.Pair(k[0], k[1]); n < p.MinCohort {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("the flood evicted %d of %d published pairs", lost, len(published))
	}
	runtime.KeepAlive(honest)
	runtime.KeepAlive(flood)
}

// BenchmarkPublishAfterFlood measures what a publication costs (weights,
// shards, checkpoint) on an aggregate at the default memory bound after a
// flood of 3,000 maximum-size deltas on top of honest traffic.
func BenchmarkPublishAfterFlood(b *testing.B) {
	p := aggregate.DefaultParams
	rng := rand.New(rand.NewPCG(3, 4))
	s := aggregate.NewState()
	seq := uint64(0)
	for _, ds := range [][]wire.Delta{honestDeltas(rng, 40000, 100000), floodDeltas(rng, 3000)} {
		for i := range ds {
			seq++
			s.Fold(&ds[i], seq, t0, &p)
		}
	}
	pairs, items := s.Len()
	b.ReportMetric(float64(pairs), "pairs")
	b.ReportMetric(float64(items), "items")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ws := s.Weights(&p, nil)
		aggregate.Shards(uint32(i+1), ws, aggregate.ChooseLayout(ws, &p, nil), nil)
		if _, err := s.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}
