package publish_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/aggregate/aggregatetest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
)

// BenchmarkPublishMillion is issue 12's aggregator end to end, at scale:
// the aggregate of 1,000,000 device-shaped deltas over 100,000 items
// (aggregatetest.Sessions, folded directly: appending a million deltas
// through the store would measure the store) is stored as a version's
// checkpoint; an aggregator starts from it (the restart: it restores the
// checkpoint, it does not refold), 100 more deltas arrive through the
// store, and Flush publishes a version: weights, shards and checkpoint
// written durably to bolt. It reports both times in wall-clock and CPU
// seconds, the checkpoint's size and the version's shards. Run it once:
//
//	go test -run='^$' -bench=PublishMillion -benchtime=1x ./server/publish/
func BenchmarkPublishMillion(b *testing.B) {
	const deltas, items, later = 1_000_000, 100_000, 100
	ctx := context.Background()
	p := aggregate.DefaultParams
	set := sites(b, 0)
	s, _ := set.Get(shop)
	for range b.N {
		b.StopTimer()
		st := openStore(b, filepath.Join(b.TempDir(), "tailor.db"))
		g := aggregatetest.NewSessions(1, items)
		state := aggregate.NewState()
		var d wire.Delta
		t0 := time.Now().Add(-deltas * time.Second)
		for i := range deltas {
			g.Next(&d)
			state.Fold(&d, 0, t0.Add(time.Duration(i)*time.Second), &p) // seq 0: no stored delta folded
		}
		ws := state.Weights(&p, nil)
		shards, blobs := aggregate.Shards(0, ws, aggregate.ChooseLayout(ws, &p, nil), nil)
		cfg := s.ConfigBytes()
		blobs[store.Hash(cfg)] = cfg
		checkpoint, err := state.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		v := store.Version{Site: s.Key, Created: time.Now().UTC(), Deltas: state.Deltas, Shards: shards,
			Config: store.Hash(cfg), Privacy: p.Privacy(0)}
		if err := st.Publish(ctx, store.Publication{Version: v, Blobs: blobs, State: checkpoint}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start, cpu := time.Now(), aggregatetest.CPU()
		a, err := publish.New(st, set, publish.WithParams(p), publish.WithPublishEvery(1<<20, time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "restart-s")
		b.ReportMetric((aggregatetest.CPU() - cpu).Seconds(), "restart-cpu-s")
		b.StopTimer()
		for i := range later {
			appendDelta(b, st, i, "sku-0000001", "sku-0000002")
		}
		b.StartTimer()
		start, cpu = time.Now(), aggregatetest.CPU()
		if err := a.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "publish-s")
		b.ReportMetric((aggregatetest.CPU() - cpu).Seconds(), "publish-cpu-s")
		b.StopTimer()
		v1, _ := a.Current(s.Key)
		if v1.Number != 1 || v1.Deltas != deltas+later || v1.New != later {
			b.Fatalf("published version %d of %d deltas (%d new), want 1 of %d (%d new)", v1.Number, v1.Deltas, v1.New, deltas+later, later)
		}
		b.ReportMetric(float64(len(checkpoint))/(1<<20), "checkpoint-MiB")
		b.ReportMetric(float64(len(v1.Shards)), "shards")
		b.ReportMetric(float64(v1.Bytes)/(1<<20), "model-MiB")
		if err := a.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
