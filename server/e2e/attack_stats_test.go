package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestStatsHideOneVisitorsArm is the attack of an owner polling
// /v1/stats: a release moves only after 20 new deltas (the default), but
// it splits them by arm and by model version, and a batch of 20 can hold
// a single holdout visitor. Real tailor.wasm deltas of the demo (holdout
// 0.5, so both arms are at hand): a first batch of 20 treatment deltas is
// released; then 19 treatment deltas and one holdout delta, the victim's.
// The holdout row of the second release must not move by exactly the
// victim's counts: a row moves only with enough visits of its own.
func TestStatsHideOneVisitorsArm(t *testing.T) {
	const batch = api.DefaultStatsDeltas
	s := newSim(t)
	demo := demosite.Site("http://localhost")
	demo.Holdout = 0.5
	sites, err := site.NewSet(demo)
	if err != nil {
		t.Fatal(err)
	}
	st := stacktest.Start(t, sites, aggregate.DefaultParams, 1<<20, api.WithAdminToken(adminToken), api.WithStatsRelease(batch, 0))
	srv := &server{url: st.URL, agg: st.Agg, c: &http.Client{Timeout: 30 * time.Second}}

	cfg := demo.Config()
	const visitors = 120
	deltas := make([][]byte, visitors)
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err = pool.Run(context.Background(), visitors, func(in *harness.Instance, i int) error {
		_, d, err := visit(s, in, cfg, i)
		deltas[i] = d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var treatment [][]byte
	var victim []byte
	var counts wire.ArmCount
	for _, raw := range deltas {
		d, err := ingest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Arms) != 1 || d.Arms[0].Impressions == 0 {
			continue
		}
		switch a := d.Arms[0]; {
		case a.Arm == wire.ArmTreatment:
			treatment = append(treatment, raw)
		case a.Arm == wire.ArmHoldout && victim == nil:
			victim, counts = raw, a
		}
	}
	if len(treatment) < 2*batch-1 || victim == nil {
		t.Fatalf("%d treatment deltas and a holdout one (%v) among %d visitors: want %d and one", len(treatment), victim != nil, visitors, 2*batch-1)
	}
	stats := func(n uint64) api.Stats {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var out api.Stats
			b, err := srv.get("/v1/stats?site=" + demosite.Key)
			if err == nil {
				err = json.Unmarshal(b, &out)
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Deltas >= n {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("no release of %d deltas in time (last: %d)", n, out.Deltas)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sync := func(ds ...[]byte) {
		t.Helper()
		for _, d := range ds {
			if _, err := srv.sync(d); err != nil {
				t.Fatal(err)
			}
		}
		srv.agg.Notify()
	}
	sync(treatment[:batch]...)
	first := stats(batch).Total.Arms[wire.ArmHoldout.String()]
	sync(treatment[batch : 2*batch-1]...)
	sync(victim)
	second := stats(2 * batch).Total.Arms[wire.ArmHoldout.String()]
	moved := wire.ArmCount{Arm: wire.ArmHoldout, Impressions: uint32(second.Impressions - first.Impressions),
		Clicks: uint32(second.Clicks - first.Clicks), Conversions: uint32(second.Conversions - first.Conversions), Exposed: counts.Exposed}
	t.Logf("the holdout row moved by %+v; the victim's delta: %+v", moved, counts)
	if moved.Impressions != 0 && moved == counts {
		t.Errorf("the holdout row moved by exactly one visitor's counts: %+v", moved)
	}
}
