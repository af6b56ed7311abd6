package harness_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// benchWeights returns a model of n items with 50 neighbours each, in 10
// categories: the size of a mid-sized store's catalogue.
func benchWeights(n int) (*wire.Weights, []wire.Item) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := &wire.Weights{Version: 1}
	items := make([]wire.Item, n)
	for i := range items {
		items[i] = wire.Item{ID: fmt.Sprintf("item-%05d", i), Category: fmt.Sprintf("cat-%d", i%10), Tags: []string{"t" + fmt.Sprint(i%7)}, Price: float32(10 + i%300)}
	}
	for i := range items {
		iw := wire.ItemWeights{ID: items[i].ID, Pop: rng.Float32()}
		for k := 0; k < 50; k++ {
			iw.Next = append(iw.Next, wire.Neighbor{ID: items[rng.IntN(n)].ID, W: 1 / float32(k+1)})
		}
		w.Items = append(w.Items, iw)
	}
	return w, items
}

// benchInstance returns an instance holding the weights and a visitor who
// clicked ten items.
func benchInstance(b *testing.B, w *wire.Weights, items []wire.Item) (*harness.Instance, time.Time) {
	b.Helper()
	in := harnesstest.Instance(b)
	cfg := wire.Config{Site: "bench", Privacy: wire.PrivacyFederated, Explore: 0.05, Diversity: 0.1}
	if err := in.Init(cfg); err != nil {
		b.Fatal(err)
	}
	if err := in.ApplyWeights(w); err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		it := items[i*37%len(items)]
		at = at.Add(20 * time.Second)
		if err := in.Track(&wire.Event{Kind: wire.KindClick, Time: at.UnixMilli(), Item: &it}); err != nil {
			b.Fatal(err)
		}
	}
	return in, at
}

// reportPercentiles reports p50 and p99 of per-op durations.
func reportPercentiles(b *testing.B, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	if len(d) == 0 {
		return
	}
	b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkRank200 ranks a slot of 200 candidates with explanations,
// through the ABI, against a 2,000-item model.
func BenchmarkRank200(b *testing.B) {
	w, items := benchWeights(2000)
	in, at := benchInstance(b, w, items)
	req := &wire.RankRequest{Slot: "recommended", Candidates: items[:200], Limit: 20, Time: at.UnixMilli()}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := in.Rank(req); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	reportPercentiles(b, d)
	b.ReportMetric(float64(in.MemorySize()), "bytes/instance")
}

// BenchmarkTrack tracks one click through the ABI.
func BenchmarkTrack(b *testing.B) {
	w, items := benchWeights(2000)
	in, at := benchInstance(b, w, items)
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := items[i%len(items)]
		at = at.Add(time.Second)
		start := time.Now()
		if err := in.Track(&wire.Event{Kind: wire.KindClick, Time: at.UnixMilli(), Item: &it}); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	reportPercentiles(b, d)
}

// BenchmarkInstantiate starts an instance from the compiled module and
// initializes it, and reports the linear memory each instance holds.
func BenchmarkInstantiate(b *testing.B) {
	rt := harnesstest.Runtime(b)
	ctx := context.Background()
	var mem uint32
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, err := rt.Instantiate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := in.Init(wire.Config{Site: "bench"}); err != nil {
			b.Fatal(err)
		}
		mem = in.MemorySize()
		in.Close(ctx)
	}
	b.ReportMetric(float64(mem), "bytes/instance")
}

// BenchmarkVisitors10k simulates 10,000 demo-store visitors (six clicks and
// a ranking each) through a pool of 8 instances, and reports the host's
// peak heap with them.
func BenchmarkVisitors10k(b *testing.B) {
	s := demoSim(b)
	for n := 0; n < b.N; n++ {
		pool := harnesstest.Runtime(b).NewPool(8, nil)
		var res sim.Result
		start := time.Now()
		err := pool.Run(context.Background(), 10000, func(in *harness.Instance, i int) error {
			if err := in.Init(wire.Config{Site: "demo", Privacy: wire.PrivacyFederated}); err != nil {
				return err
			}
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			r, err := s.Replay(in, s.Session(&sim.Personas[i%len(sim.Personas)], rng, 6), time.Unix(1e9, 0), 10)
			_ = r
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		_ = res
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.Sys)/(1<<20), "host-MiB")
		b.ReportMetric(time.Since(start).Seconds(), "s/10k-visitors")
	}
}
