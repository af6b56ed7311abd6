package sim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// start is when the simulated shoppers of these tests visit.
var start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// traffic runs n simulated shoppers (s.Traffic on the real tailor.wasm) and
// hands each delta they send, decoded as the server reads it, to fold; fold
// runs under a lock, one delta at a time.
func traffic(t *testing.T, s *sim.Sim, cfg wire.Config, n int, seed uint64, fold func(*wire.Delta)) {
	t.Helper()
	var mu sync.Mutex
	err := s.Traffic(context.Background(), harnesstest.Runtime(t).NewPool(2, nil), cfg, n, seed, start, func(b []byte) error {
		var d wire.Delta
		if err := wire.Unmarshal(b, &d, "delta"); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		fold(&d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTrafficArms: the simulated shoppers rank what the demo's pages show
// (home-recs on landing, also-like on each product page), so their deltas
// carry the experiment's arms as the loader's do: exactly the impressions
// the pages showed, rules-only shoppers in the rules arm and the others
// in the AI or holdout arm, clicks on shown items, and conversions only
// from buyers.
func TestTrafficArms(t *testing.T) {
	const n, seed = 240, 5
	s, err := sim.New()
	if err != nil {
		t.Fatal(err)
	}
	site := demosite.Site()
	var got [3]wire.ArmCount
	var deltas [3]int
	traffic(t, s, site.Config(), n, seed, func(d *wire.Delta) {
		for _, a := range d.Arms {
			got[a.Arm].Impressions += a.Impressions
			got[a.Arm].Clicks += a.Clicks
			got[a.Arm].Conversions += a.Conversions
			deltas[a.Arm]++
		}
	})
	var rulesImp, aiImp, buyers uint32
	for i := range n {
		sh := s.Shopper(seed, i)
		shown := uint32(sim.HomeRecsLimit + sim.AlsoLikeLimit*len(sh.Session))
		if sh.Mode == wire.ModeRules {
			rulesImp += shown
		} else {
			aiImp += shown
		}
		if sh.Buys {
			buyers++
		}
	}
	t.Logf("arms (treatment, holdout, rules): %+v; deltas %v", got, deltas)
	tr, ho, ru := got[wire.ArmTreatment], got[wire.ArmHoldout], got[wire.ArmRules]
	if ru.Impressions != rulesImp || tr.Impressions+ho.Impressions != aiImp {
		t.Errorf("impressions: rules %d, AI and holdout %d; the pages showed %d and %d", ru.Impressions, tr.Impressions+ho.Impressions, rulesImp, aiImp)
	}
	if rulesImp == 0 || ho.Impressions == 0 || tr.Impressions == 0 {
		t.Errorf("an arm showed nothing: %+v", got)
	}
	if tr.Clicks == 0 || ho.Clicks+ru.Clicks == 0 {
		t.Errorf("no clicks on shown items: %+v", got)
	}
	if conv := tr.Conversions + ho.Conversions + ru.Conversions; conv == 0 || conv > buyers {
		t.Errorf("%d conversions from %d buyers", conv, buyers)
	}
}
