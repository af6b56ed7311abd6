package aggregate_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/aggregate/aggregatetest"
)

// heapInuse is the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
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
		g := aggregatetest.NewSessions(1, items)
		s := aggregate.NewState()
		base := heapInuse()
		var d wire.Delta
		var fold time.Duration
		foldCPU := aggregatetest.CPU()
		for i := range deltas {
			g.Next(&d)
			start := time.Now()
			s.Fold(&d, uint64(i+1), t0.Add(time.Duration(i)*time.Second), &p)
			fold += time.Since(start)
			if (i+1)%(deltas/4) == 0 {
				b.ReportMetric(float64(heapInuse()-base)/(1<<20), fmt.Sprintf("heap-MiB@%dk", (i+1)/1000))
			}
		}
		b.ReportMetric(float64(fold.Nanoseconds())/deltas, "fold-ns/delta")
		b.ReportMetric(float64((aggregatetest.CPU()-foldCPU).Nanoseconds())/deltas, "loop-cpu-ns/delta")
		start, startCPU := time.Now(), aggregatetest.CPU()
		n, sh, cp, err := publication(s, &p)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "publish-s")
		b.ReportMetric((aggregatetest.CPU() - startCPU).Seconds(), "publish-cpu-s")
		b.ReportMetric(float64(n), "items-published")
		b.ReportMetric(float64(sh), "shards")
		b.ReportMetric(float64(cp)/(1<<20), "checkpoint-MiB")
		ck, _ := s.MarshalBinary()
		start, startCPU = time.Now(), aggregatetest.CPU()
		if err := aggregate.NewState().UnmarshalBinary(ck); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "restore-s")
		b.ReportMetric((aggregatetest.CPU() - startCPU).Seconds(), "restore-cpu-s")
	}
}
