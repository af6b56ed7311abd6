package api_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
)

// t0 is when the deltas of these tests are received.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// honestArms folds n honest one-delta visits of a site with holdout share h: both
// arms behave alike (no real uplift), 20-50 impressions, 5% clicks, a
// third of clicks convert, capped as devices cap them.
func honestArms(s *aggregate.State, rng *rand.Rand, n int, h float64, p *aggregate.Params) {
	for i := 0; i < n; i++ {
		arm := wire.ArmTreatment
		if rng.Float64() < h {
			arm = wire.ArmHoldout
		}
		imp := uint32(20 + rng.IntN(31))
		var clicks, conv uint32
		for j := uint32(0); j < imp; j++ {
			if rng.Float64() < 0.05 {
				clicks++
			}
		}
		if clicks > 0 && rng.Float64() < 1.0/3 {
			conv = 1
		}
		s.Fold(&wire.Delta{Arms: []wire.ArmCount{{Arm: arm, Impressions: imp, Clicks: min(clicks, 5), Conversions: conv, Exposed: true}}}, s.Cursor+1, t0, p)
	}
}

// forge folds m attacker deltas forging a negative conversion uplift:
// perfect conversions in the holdout, none in the treatment, holdout
// deltas making up share of them, each marked exposed (a session each).
func forge(s *aggregate.State, m int, share float64, p *aggregate.Params) {
	nh := int(float64(m)*share + 0.5)
	for i := 0; i < m; i++ {
		a := wire.ArmCount{Arm: wire.ArmTreatment, Impressions: 1000, Exposed: true}
		if i < nh {
			a = wire.ArmCount{Arm: wire.ArmHoldout, Impressions: 1000, Clicks: 1000, Conversions: 1000, Exposed: true}
		}
		s.Fold(&wire.Delta{Arms: []wire.ArmCount{a}}, s.Cursor+1, t0, p)
	}
}

func conversionUplift(s *aggregate.State, h float64) api.Uplift {
	a := s.Arms()[0]
	t, o := a[wire.ArmTreatment], a[wire.ArmHoldout]
	u, _ := api.Compare(t.Conversions, t.Impressions, o.Conversions, o.Impressions)
	u.Guard(&a, h)
	return u
}

// TestForgedUplift is finding 7's uplift: 80 forged deltas among 1,000
// honest ones with no real uplift cannot make a significant one. Forged
// into the holdout arm, the split gives them away (Suspect); forged in
// the holdout's share, capped counts leave the interval across 0.
func TestForgedUplift(t *testing.T) {
	const h = 0.05
	p := aggregate.DefaultParams
	for _, c := range []struct {
		name    string
		share   float64 // of the forged deltas in the holdout
		suspect bool
	}{
		{"all in the holdout", 1, true},
		{"in the holdout's share", h, false},
	} {
		falsePositives := 0
		const runs = 20
		for r := 0; r < runs; r++ {
			rng := rand.New(rand.NewPCG(uint64(r), 9))
			s := aggregate.NewState()
			honestArms(s, rng, 1000, h, &p)
			if u := conversionUplift(s, h); u.Suspect {
				t.Fatalf("run %d: honest traffic alone is suspect: %+v", r, u)
			}
			forge(s, 80, c.share, &p)
			u := conversionUplift(s, h)
			if u.Significant {
				falsePositives++
				t.Logf("%s, run %d: forged %+v", c.name, r, u)
			}
			if u.Suspect != c.suspect {
				t.Errorf("%s, run %d: suspect %v, want %v", c.name, r, u.Suspect, c.suspect)
			}
		}
		// Without forgery, a 95% interval excludes 0 in 5% of runs; allow
		// that much.
		if falsePositives > 2 {
			t.Errorf("%s: 80 forged deltas made a significant uplift in %d of %d runs", c.name, falsePositives, runs)
		}
	}
}

func TestCompare(t *testing.T) {
	u, ok := api.Compare(120, 1000, 80, 1000)
	if !ok || math.Abs(u.Absolute-0.04) > 1e-12 || u.Relative == nil || math.Abs(*u.Relative-0.5) > 1e-12 {
		t.Fatalf("Compare = %+v", u)
	}
	se := math.Sqrt(0.12*0.88/1000 + 0.08*0.92/1000)
	if math.Abs(u.CI95[0]-(0.04-api.Z95*se)) > 1e-12 || math.Abs(u.CI95[1]-(0.04+api.Z95*se)) > 1e-12 || !u.Significant {
		t.Errorf("CI = %v (significant %v)", u.CI95, u.Significant)
	}
	if u, _ := api.Compare(10, 100, 10, 100); u.Significant {
		t.Error("equal rates are significant")
	}
	if _, ok := api.Compare(1, 10, 0, 0); ok {
		t.Error("an arm without trials compared")
	}
	if u, _ := api.Compare(5, 10, 0, 10); u.Relative != nil {
		t.Error("relative uplift over a zero rate")
	}
}
