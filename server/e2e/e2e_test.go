package e2e

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestEndToEnd: 1,000 simulated visitors run tailor.wasm under model
// version 0 (no global weights) and sync their deltas to the real server,
// which publishes version 1 after the 1,000th. Then 500 new cold-start
// visitors fetch it as a browser does (manifest, configuration, shards)
// and rank their next click better than the same 500 under version 0:
// the hit rate of the next click in the top 5 must rise by at least 10
// points. The uplift report must show the treatment arm beating the
// holdout.
func TestEndToEnd(t *testing.T) {
	const visitors, evaluated = 1000, 500
	s := newSim(t)
	demo := demosite.Site("http://localhost")
	demo.Holdout = 0.1
	sites := siteSet(t, demo)
	srv := startServer(t, sites, aggregate.DefaultParams, visitors)

	v0 := srv.fetch(t, demosite.Key)
	if v0.manifest.Version != 0 || len(v0.manifest.Shards) != 1 { // an empty model fits one shard
		t.Fatalf("initial manifest %+v", v0.manifest)
	}
	pool := harnesstest.Runtime(t).NewPool(8, v0.apply)
	var trained hits
	var accepted atomic.Int64
	err := pool.Run(context.Background(), visitors, func(in *harness.Instance, i int) error {
		r, delta, err := visit(s, in, v0.config, i)
		if err != nil {
			return err
		}
		trained.add(r)
		if delta == nil {
			return nil
		}
		if _, err := srv.sync(delta); err != nil {
			return err
		}
		accepted.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Load() != visitors {
		t.Fatalf("%d of %d visitors synced a delta", accepted.Load(), visitors)
	}
	m := srv.waitManifest(t, demosite.Key, "version 1", func(m api.Manifest) bool { return m.Version >= 1 })
	if m.Deltas != visitors {
		t.Fatalf("version %d was built from %d deltas, want %d", m.Version, m.Deltas, visitors)
	}
	v1 := srv.fetch(t, demosite.Key)
	items := v1.items(t)

	eval := v0.config
	eval.Holdout = 0 // measure the ranking itself
	before := evaluate(t, s, eval, 1_000_000, evaluated, v0.apply)
	after := evaluate(t, s, eval, 1_000_000, evaluated, v1.apply)
	t.Logf("%d visitors synced; version %d: %d deltas, %d items, %d bytes in %d shards (config %d bytes)",
		visitors, v1.manifest.Version, v1.manifest.Deltas, len(items), v1.manifest.Bytes, len(v1.manifest.Shards), v1.manifest.Config.Bytes)
	t.Logf("next click in the top %d, %d cold-start visitors: %.1f%% under version 0, %.1f%% under version %d (%.1f%% while training)",
		topK, evaluated, 100*before, 100*after, v1.manifest.Version, 100*trained.rate())
	if after < before+0.10 {
		t.Errorf("hit rate %.3f under version %d, %.3f under version 0: want at least 10 points better", after, v1.manifest.Version, before)
	}

	// The uplift report: training visitors ranked under version 0, 10% of
	// them in the holdout (the site's default order).
	b, err := srv.get("/v1/stats?site=" + demosite.Key)
	if err != nil {
		t.Fatal(err)
	}
	var st api.Stats
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	u := st.Total.CTRUplift
	tr, ho := st.Total.Arms[wire.ArmTreatment.String()], st.Total.Arms[wire.ArmHoldout.String()]
	if u == nil || len(st.Versions) != 1 || *st.Versions[0].Version != 0 {
		t.Fatalf("stats: %s", b)
	}
	t.Logf("uplift report: treatment CTR %.3f (%d impressions), holdout %.3f (%d), uplift %+.3f, 95%% CI [%.3f, %.3f]",
		tr.CTR, tr.Impressions, ho.CTR, ho.Impressions, u.Absolute, u.CI95[0], u.CI95[1])
	if !(u.CI95[0] > 0) || tr.Impressions == 0 || ho.Impressions == 0 {
		t.Errorf("personalization shows no significant CTR uplift over the holdout: %+v", u)
	}
}
