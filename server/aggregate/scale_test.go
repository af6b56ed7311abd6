package aggregate_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

// sessions streams device-shaped deltas over a catalogue: each delta is a
// session of 2-10 views, the first item Zipf-popular over the catalogue,
// each next one 7 times in 10 from the same category of 50 items (Zipf
// inside it, as shoppers browse neighbouring products), else Zipf over the
// catalogue; it carries up to 4 of the session's consecutive pairs and up
// to 8 of its items, as sdk/delta samples them.
type sessions struct {
	rng      *rand.Rand
	all, cat *rand.Zipf
	ids      []string
	views    []int
}

const categorySize = 50

func newSessions(seed uint64, items int) *sessions {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	g := &sessions{rng: rng, all: rand.NewZipf(rng, 1.1, 1, uint64(items-1)),
		cat: rand.NewZipf(rng, 1.2, 1, categorySize-1), ids: make([]string, items)}
	for i := range g.ids {
		g.ids[i] = fmt.Sprintf("sku-%07d", i)
	}
	return g
}

// next fills d with the next session's delta.
func (g *sessions) next(d *wire.Delta) {
	g.views = g.views[:0]
	n := 2 + g.rng.IntN(9)
	cur := int(g.all.Uint64())
	for range n {
		g.views = append(g.views, cur)
		if g.rng.IntN(10) < 7 {
			cur = min(len(g.ids)-1, cur/categorySize*categorySize+int(g.cat.Uint64()))
		} else {
			cur = int(g.all.Uint64())
		}
	}
	d.Pairs, d.Items = d.Pairs[:0], d.Items[:0]
	for i := 1; i < len(g.views) && len(d.Pairs) < 4; i++ {
		if g.views[i] != g.views[i-1] {
			d.Pairs = append(d.Pairs, wire.Pair{From: g.ids[g.views[i-1]], To: g.ids[g.views[i]], W: 1})
		}
	}
	seen := map[int]bool{}
	for _, v := range g.views {
		if !seen[v] && len(d.Items) < 8 {
			seen[v] = true
			d.Items = append(d.Items, wire.Count{ID: g.ids[v], N: 1})
		}
	}
}

// heapInuse is the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// cpu is the process's CPU time so far (user and system): on a machine
// shared with other work, wall-clock time says more about the others.
func cpu() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// publication builds what a version publishes from s: the weights, their
// layout and shards, and the checkpoint stored with them.
func publication(s *aggregate.State, p *aggregate.Params) (items, shards, checkpoint int, err error) {
	ws := s.Weights(p, nil)
	sh, _ := aggregate.Shards(1, ws, aggregate.ChooseLayout(ws, p, nil), nil)
	b, err := s.MarshalBinary()
	return len(ws), len(sh), len(b), err
}

// BenchmarkFoldMillion is issue 12's aggregator at scale: 1,000,000
// device-shaped deltas (sessions) over 100,000 items, one a second, folded
// at the default parameters (memory bound KeepBytes), then a publication
// and a restart's restore of the checkpoint. It reports the heap in use
// after each quarter (MiB, minus the heap before), the fold's cost per
// delta, the publication's time (weights, shards and checkpoint, without
// the store's write) and the restore's, each in wall-clock and in CPU
// seconds (the process's, collector included; the loop's CPU per delta
// includes making the delta). Run it once:
//
//	go test -run='^$' -bench=FoldMillion -benchtime=1x ./server/aggregate/
func BenchmarkFoldMillion(b *testing.B) {
	const deltas, items = 1_000_000, 100_000
	p := aggregate.DefaultParams
	for range b.N {
		g := newSessions(1, items)
		s := aggregate.NewState()
		base := heapInuse()
		var d wire.Delta
		var fold time.Duration
		foldCPU := cpu()
		for i := range deltas {
			g.next(&d)
			start := time.Now()
			s.Fold(&d, uint64(i+1), t0.Add(time.Duration(i)*time.Second), &p)
			fold += time.Since(start)
			if (i+1)%(deltas/4) == 0 {
				b.ReportMetric(float64(heapInuse()-base)/(1<<20), fmt.Sprintf("heap-MiB@%dk", (i+1)/1000))
			}
		}
		b.ReportMetric(float64(fold.Nanoseconds())/deltas, "fold-ns/delta")
		b.ReportMetric(float64((cpu()-foldCPU).Nanoseconds())/deltas, "loop-cpu-ns/delta")
		start, startCPU := time.Now(), cpu()
		n, sh, cp, err := publication(s, &p)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "publish-s")
		b.ReportMetric((cpu() - startCPU).Seconds(), "publish-cpu-s")
		b.ReportMetric(float64(n), "items-published")
		b.ReportMetric(float64(sh), "shards")
		b.ReportMetric(float64(cp)/(1<<20), "checkpoint-MiB")
		ck, _ := s.MarshalBinary()
		start, startCPU = time.Now(), cpu()
		if err := aggregate.NewState().UnmarshalBinary(ck); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "restore-s")
		b.ReportMetric((cpu() - startCPU).Seconds(), "restore-cpu-s")
	}
}
