package aggregate_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

func params() aggregate.Params {
	p := aggregate.DefaultParams
	p.MinCohort = 1
	return p
}

// t0 is when the tests' deltas arrive, unless they say otherwise.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestFoldClips(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delta     wire.Delta
		pairs     map[[2]string]float64 // want sums
		items     map[string]float64
		arms      aggregate.Arms // want totals for model 0
		configure func(p *aggregate.Params)
	}{
		{
			name:  "within bounds",
			delta: wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1}, {From: "b", To: "c", W: 0.5}}, Items: []wire.Count{{ID: "a", N: 1}}},
			pairs: map[[2]string]float64{{"a", "b"}: 1, {"b", "c"}: 1},
			items: map[string]float64{"a": 1},
		},
		{
			name:  "maximal weights count once",
			delta: wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1000}}, Items: []wire.Count{{ID: "a", N: 1000}}},
			pairs: map[[2]string]float64{{"a", "b"}: 1},
			items: map[string]float64{"a": 1},
		},
		{
			name:  "negative weights count nothing, whatever eps claims",
			delta: wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: -1000}}, Items: []wire.Count{{ID: "a", N: -1000}}, Epsilon: 1},
			pairs: map[[2]string]float64{{"a", "b"}: 0},
			items: map[string]float64{"a": 0},
		},
		{
			name:  "duplicates count once",
			delta: wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1.5}, {From: "a", To: "b", W: 1.5}, {From: "a", To: "b", W: 1.5}}},
			pairs: map[[2]string]float64{{"a", "b"}: 1},
		},
		{
			name:  "self pairs ignored",
			delta: wire.Delta{Pairs: []wire.Pair{{From: "a", To: "a", W: 1}}},
			pairs: map[[2]string]float64{{"a", "a"}: 0},
		},
		{
			name: "L1 scaled down",
			delta: func() wire.Delta {
				var d wire.Delta
				for i := 0; i < 32; i++ {
					d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("f", i), To: fmt.Sprint("t", i), W: 1})
				}
				return d
			}(),
			configure: func(p *aggregate.Params) { p.MaxPairs = 200 },
			pairs:     map[[2]string]float64{{"f0", "t0"}: 0.5, {"f31", "t31"}: 0.5},
		},
		{
			name: "into one item",
			delta: func() wire.Delta {
				var d wire.Delta
				for i := 0; i < 6; i++ {
					d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("f", i), To: "target", W: 1000})
				}
				d.Pairs = append(d.Pairs, wire.Pair{From: "f0", To: "other", W: 1})
				return d
			}(),
			// Each counts 1; 6 into target, scaled to 3.
			configure: func(p *aggregate.Params) { p.MaxPairs = 200 },
			pairs:     map[[2]string]float64{{"f0", "target"}: 0.5, {"f5", "target"}: 0.5, {"f0", "other"}: 1},
		},
		{
			name: "out of one item",
			delta: func() wire.Delta {
				var d wire.Delta
				for i := 0; i < 4; i++ {
					d.Pairs = append(d.Pairs, wire.Pair{From: "source", To: fmt.Sprint("t", i), W: 1.5})
				}
				return d
			}(),
			pairs: map[[2]string]float64{{"source", "t0"}: 0.75, {"source", "t3"}: 0.75},
		},
		{
			name: "no more pairs and items count than a device sends",
			delta: func() wire.Delta {
				var d wire.Delta
				for i := 0; i < 10; i++ {
					d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("f", i), To: fmt.Sprint("t", i), W: 1})
					d.Items = append(d.Items, wire.Count{ID: fmt.Sprint("i", i), N: 1})
				}
				return d
			}(),
			// The 8 items that count are the first by id of the 10 named and
			// the 8 the counted pairs name.
			pairs: map[[2]string]float64{{"f0", "t0"}: 1, {"f3", "t3"}: 1, {"f4", "t4"}: 0},
			items: map[string]float64{"f0": 1, "i0": 1, "i3": 1, "i4": 0, "t0": 0, "f4": 0},
		},
		{
			name: "at most MaxPairs count",
			delta: func() wire.Delta {
				var d wire.Delta
				for i := 0; i < 10; i++ {
					d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("f", i), To: fmt.Sprint("t", i), W: float32(i+1) / 10})
				}
				return d
			}(),
			configure: func(p *aggregate.Params) { p.MaxPairs = 3 },
			pairs:     map[[2]string]float64{{"f0", "t0"}: 1, {"f1", "t1"}: 1, {"f2", "t2"}: 1, {"f3", "t3"}: 0},
		},
		{
			name: "arm counts capped each on its own (a click syncs after its impression, a purchase after its click)",
			delta: wire.Delta{Arms: []wire.ArmCount{{Arm: wire.ArmHoldout, Impressions: 1 << 20, Clicks: 1 << 20, Conversions: 1 << 20, Exposed: true},
				{Arm: wire.ArmTreatment, Impressions: 1, Clicks: 5, Conversions: 5, Exposed: true}}},
			arms: aggregate.Arms{wire.ArmTreatment: {Impressions: 1, Clicks: 5, Conversions: 1, Deltas: 1, Reported: 1},
				wire.ArmHoldout: {Impressions: 50, Clicks: 5, Conversions: 1, Deltas: 1, Reported: 1}},
		},
		{
			name: "an arm's exposure counted only when the delta marks it (once per visitor session)",
			delta: wire.Delta{Arms: []wire.ArmCount{{Arm: wire.ArmHoldout, Impressions: 8, Clicks: 1},
				{Arm: wire.ArmTreatment, Impressions: 4, Exposed: true}}},
			arms: aggregate.Arms{wire.ArmTreatment: {Impressions: 4, Deltas: 1, Reported: 1},
				wire.ArmHoldout: {Impressions: 8, Clicks: 1, Reported: 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := params()
			if tc.configure != nil {
				tc.configure(&p)
			}
			s := aggregate.NewState()
			s.Fold(&tc.delta, 7, t0, &p)
			if s.Cursor != 7 || s.Deltas != 1 {
				t.Errorf("cursor %d, deltas %d", s.Cursor, s.Deltas)
			}
			for k, want := range tc.pairs {
				if got, _ := s.Pair(k[0], k[1]); math.Abs(got-want) > 1e-6 {
					t.Errorf("pair %v = %v, want %v", k, got, want)
				}
			}
			for k, want := range tc.items {
				if got, _ := s.Item(k); math.Abs(got-want) > 1e-6 {
					t.Errorf("item %v = %v, want %v", k, got, want)
				}
			}
			if got := s.Arms()[0]; got != tc.arms {
				t.Errorf("arms = %+v, want %+v", got, tc.arms)
			}
		})
	}
}

// TestPoisoningBound folds honest deltas with and without maximal
// adversarial ones and checks the aggregate moved by no more than the
// clipping allows: per entry n·ClipWeight, in total n·ClipL1 per part.
func TestPoisoningBound(t *testing.T) {
	p := aggregate.DefaultParams
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = fmt.Sprint("item-", i)
	}
	clean, poisoned := aggregate.NewState(), aggregate.NewState()
	seq := uint64(0)
	for i := 0; i < 900; i++ {
		var d wire.Delta
		prev := ids[rng.IntN(len(ids))]
		for j := 0; j < 8; j++ {
			next := ids[rng.IntN(len(ids))]
			if next != prev {
				d.Pairs = append(d.Pairs, wire.Pair{From: prev, To: next, W: 1})
			}
			prev = next
		}
		d.Items = []wire.Count{{ID: prev, N: 1}}
		d.Pairs = dedup(d.Pairs)
		seq++
		clean.Fold(&d, seq, t0, &p)
		poisoned.Fold(&d, seq, t0, &p)
	}
	const adversaries = 100
	for i := 0; i < adversaries; i++ {
		d := wire.Delta{Epsilon: 1}
		for _, id := range ids {
			if id != "item-0" {
				d.Pairs = append(d.Pairs, wire.Pair{From: id, To: "item-0", W: wire.MaxDeltaWeight},
					wire.Pair{From: "item-0", To: id, W: -wire.MaxDeltaWeight})
			}
		}
		d.Items = []wire.Count{{ID: "item-0", N: wire.MaxDeltaWeight}, {ID: "item-1", N: -wire.MaxDeltaWeight}}
		seq++
		poisoned.Fold(&d, seq, t0, &p)
	}
	m := aggregate.Moved(clean, poisoned)
	t.Logf("%d adversaries moved: pairs by %.1f in L1, items by %.1f, one entry by at most %.2f, one item's in- or out-pairs by %.2f (bounds %.0f, %.0f, %.0f, %.0f)",
		adversaries, m.PairsL1, m.ItemsL1, m.Entry, m.PerItem, adversaries*p.ClipL1, adversaries*p.ClipL1, adversaries*p.ClipWeight, adversaries*p.ClipItem)
	if err := m.Within(adversaries, &p); err != nil {
		t.Error(err)
	}
}

func dedup(ps []wire.Pair) []wire.Pair {
	seen := map[[2]string]bool{}
	out := ps[:0]
	for _, p := range ps {
		if k := [2]string{p.From, p.To}; !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

func TestWeights(t *testing.T) {
	p := aggregate.DefaultParams
	p.MinCohort, p.CoOccurrence, p.Neighbors, p.Hop = 2, 0.5, 2, 0 // TestWeightsSecondHop fills lists
	s := aggregate.NewState()
	fold := func(n int, d wire.Delta) {
		for i := 0; i < n; i++ {
			s.Fold(&d, s.Cursor+1, t0, &p)
		}
	}
	fold(4, wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1}}, Items: []wire.Count{{ID: "a", N: 1}, {ID: "b", N: 1}}})
	fold(2, wire.Delta{Pairs: []wire.Pair{{From: "c", To: "a", W: 1}}, Items: []wire.Count{{ID: "c", N: 1}}})
	fold(1, wire.Delta{Pairs: []wire.Pair{{From: "a", To: "d", W: 2}}, Items: []wire.Count{{ID: "d", N: 2}}})   // below k
	fold(2, wire.Delta{Pairs: []wire.Pair{{From: "d", To: "a", W: -1}}, Items: []wire.Count{{ID: "e", N: -1}}}) // negative: nothing
	got := s.Weights(&p, nil)
	// a: b scores 1.5·4 = 6, c scores 0.5·2 = 1 (co-occurrence of c→a); d is below k.
	// b: a scores 0.5·4 = 2. c: a scores 1.5·2 = 3.
	// A pair names its items: a is in 7 deltas (a→b, c→a, a→d), b in 4, c in 2.
	q := func(x float64) float32 { return float32(math.Round(256*x) / 256) }
	want := []wire.ItemWeights{
		{ID: "a", Pop: 1, Next: []wire.Neighbor{{ID: "b", W: 1}, {ID: "c", W: q(1.0 / 6)}}},
		{ID: "b", Pop: q(4.0 / 7), Next: []wire.Neighbor{{ID: "a", W: 1}}},
		{ID: "c", Pop: q(2.0 / 7), Next: []wire.Neighbor{{ID: "a", W: 1}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("weights = %+v\nwant      %+v", got, want)
	}
	for _, it := range got {
		if len(it.Next) > p.Neighbors {
			t.Errorf("%s has %d neighbours, want at most %d", it.ID, len(it.Next), p.Neighbors)
		}
	}
}

// TestWeightsPairShare checks that a pair after an item needs PairShare of
// the item's support, or PairCap deltas, whichever is less, to be a direct
// neighbour; and that with ShareFill it fills the list from k deltas on
// while the share, not the cap, is what it lacks: after an item whose
// share reaches the cap it still needs PairCap deltas to be published.
func TestWeightsPairShare(t *testing.T) {
	for _, c := range []struct {
		honest int     // deltas with a → x
		fill   float64 // ShareFill
		want   int     // attacker deltas a → t needed
	}{
		{0, 0, 5},     // k
		{100, 0, 12},  // 0.1·(100+m) <= m
		{1000, 0, 20}, // PairCap
		{100, 0.5, 5}, // k: a short list's fill
		{1000, 0.5, 20},
	} {
		p := aggregate.DefaultParams
		p.ShareFill = c.fill
		s := aggregate.NewState()
		for i := 0; i < c.honest; i++ {
			s.Fold(pairDelta("a", "x"), s.Cursor+1, t0, &p)
		}
		got := 0
		for m := 1; m <= 30 && got == 0; m++ {
			s.Fold(&wire.Delta{Pairs: []wire.Pair{{From: "a", To: "t", W: 1000}}}, s.Cursor+1, t0, &p)
			for _, it := range s.Weights(&p, nil) {
				if it.ID == "a" && slices.ContainsFunc(it.Next, func(nb wire.Neighbor) bool { return nb.ID == "t" }) {
					got = m
				}
			}
		}
		if got != c.want {
			t.Errorf("after %d honest deltas, share fill %v, %d attacker deltas planted a → t; want %d", c.honest, c.fill, got, c.want)
		}
	}
}

func TestWeightsWithNoise(t *testing.T) {
	p := params()
	s := aggregate.NewState()
	for i := 0; i < 50; i++ {
		s.Fold(&wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1}}, Items: []wire.Count{{ID: "a", N: 1}}}, uint64(i+1), t0, &p)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 20; i++ {
		for _, it := range s.Weights(&p, func() float64 { return 20 * rng.NormFloat64() }) {
			if !(it.Pop >= 0 && it.Pop <= 1) {
				t.Fatalf("pop %v out of 0-1", it.Pop)
			}
			for _, nb := range it.Next {
				if !(nb.W > 0 && nb.W <= 1) {
					t.Fatalf("neighbour weight %v out of (0, 1]", nb.W)
				}
			}
		}
	}
}

// TestDPAccounting checks the central DP arithmetic: the window's ρ
// converts back to its ε, each release's noise gives that ρ, and the
// selection threshold hides one delta's keys but for the stated δ.
func TestDPAccounting(t *testing.T) {
	p := aggregate.DefaultParams
	if p.Sigma() != 0 || p.Threshold() != 0 || p.Privacy(0).Epsilon != 0 {
		t.Error("no noise has a scale")
	}
	p.Noise, p.Epsilon, p.Delta, p.DPReleases = aggregate.NoiseGaussian, 2, 1e-6, 10
	if got := p.EpsilonOf(p.RhoBudget()); math.Abs(got-2) > 1e-9 {
		t.Errorf("the window's rho %v converts to eps %v, want 2", p.RhoBudget(), got)
	}
	if got := p.Sensitivity() * p.Sensitivity() / (2 * p.Sigma() * p.Sigma()); math.Abs(got-p.Rho()) > 1e-12 {
		t.Errorf("one release with sigma %v is %v-zCDP, want %v", p.Sigma(), got, p.Rho())
	}
	// P(N(0, σ) > threshold - k·ClipWeight), for each of a delta's keys and
	// each release, adds up to δ/2.
	z := (p.Threshold() - float64(p.MinCohort)*p.ClipWeight) / p.Sigma()
	tail := 0.5 * math.Erfc(z/math.Sqrt2)
	if got := tail * float64(p.MaxPairs+p.MaxItems) * float64(p.DPReleases); math.Abs(got-p.Delta/2) > 1e-5*p.Delta {
		t.Errorf("selection delta %v, want %v", got, p.Delta/2)
	}
	pr := p.Privacy(p.Rho() * 3)
	if pr.Noise != "gaussian" || math.Abs(pr.Epsilon-p.EpsilonOf(3*p.Rho())) > 1e-12 || pr.Delta != 1e-6 || pr.Scale != p.Sigma() || pr.Rho != p.Rho() {
		t.Errorf("privacy = %+v", pr)
	}
}

// TestDPSelectionHidesOneDelta is finding 5 of issue 9 with central DP:
// four fabricated deltas plus a victim's make a pair with five
// contributors, which k = 5 alone publishes; with noise and DP selection
// it is not published (the threshold sits many σ above what 5 deltas add).
func TestDPSelectionHidesOneDelta(t *testing.T) {
	p := aggregate.DefaultParams
	s := aggregate.NewState()
	for i := 0; i < 5; i++ {
		s.Fold(&wire.Delta{Pairs: []wire.Pair{{From: "victim-a", To: "victim-b", W: 1}}}, uint64(i+1), t0, &p)
	}
	if w := s.Weights(&p, nil); len(w) != 2 || len(w[0].Next) != 1 || w[0].Next[0].ID != "victim-b" {
		t.Fatalf("without noise k=5 publishes the pair: %+v", w)
	}
	p.Noise, p.Epsilon, p.Delta = aggregate.NoiseGaussian, 8, 1e-6
	rng := rand.New(rand.NewPCG(1, 2))
	published := 0
	for i := 0; i < 2000; i++ {
		if len(s.Weights(&p, func() float64 { return p.Sigma() * rng.NormFloat64() })) > 0 {
			published++
		}
	}
	t.Logf("sigma %.1f, threshold %.1f: published %d of 2000 times", p.Sigma(), p.Threshold(), published)
	if published > 0 {
		t.Errorf("the victim's pair was published %d of 2000 times", published)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(p *aggregate.Params)
	}{
		{"clip weight 0", func(p *aggregate.Params) { p.ClipWeight = 0 }},
		{"clip L1 below weight", func(p *aggregate.Params) { p.ClipL1 = 1 }},
		{"min cohort 0", func(p *aggregate.Params) { p.MinCohort = 0 }},
		{"too many neighbours", func(p *aggregate.Params) { p.Neighbors = wire.MaxNeighbors + 1 }},
		{"second hop over 1", func(p *aggregate.Params) { p.Hop = 1.5 }},
		{"negative shards", func(p *aggregate.Params) { p.Shards = -1 }},
		{"tiny shards", func(p *aggregate.Params) { p.ShardBytes = 100 }},
		{"too many pairs per delta", func(p *aggregate.Params) { p.MaxPairs = wire.MaxDeltaPairs + 1 }},
		{"unknown noise", func(p *aggregate.Params) { p.Noise = "pink" }},
		{"laplace is gone", func(p *aggregate.Params) { p.Noise, p.Epsilon = "laplace", 1 }},
		{"gaussian without delta", func(p *aggregate.Params) { p.Noise, p.Epsilon = aggregate.NoiseGaussian, 0.5 }},
		{"gaussian without epsilon", func(p *aggregate.Params) { p.Noise, p.Delta = aggregate.NoiseGaussian, 1e-6 }},
		{"gaussian without releases", func(p *aggregate.Params) {
			p.Noise, p.Epsilon, p.Delta, p.DPReleases = aggregate.NoiseGaussian, 1, 1e-6, 0
		}},
		{"half-life too short", func(p *aggregate.Params) { p.HalfLife = time.Second }},
		{"pair share 1", func(p *aggregate.Params) { p.PairShare = 1 }},
		{"keep bytes tiny", func(p *aggregate.Params) { p.KeepBytes = 1000 }},
		{"ldp reports 0", func(p *aggregate.Params) { p.LDPReports = 0 }},
	} {
		p := aggregate.DefaultParams
		tc.modify(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate passed", tc.name)
		}
	}
	p := aggregate.DefaultParams
	if err := p.Validate(); err != nil {
		t.Errorf("DefaultParams: %v", err)
	}
}

func TestCheckpoint(t *testing.T) {
	p := params()
	s := aggregate.NewState()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		d := wire.Delta{Model: uint32(i % 3), Pairs: []wire.Pair{{From: fmt.Sprint(rng.IntN(20)), To: fmt.Sprint(20 + rng.IntN(20)), W: rng.Float32()}},
			Items: []wire.Count{{ID: fmt.Sprint(rng.IntN(30)), N: 1}}, Arms: []wire.ArmCount{{Arm: wire.Arm(i % 3), Impressions: 4, Clicks: 1, Exposed: true}}}
		s.Fold(&d, uint64(i+1), t0.Add(time.Duration(i)*time.Hour), &p)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := aggregate.NewState()
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Error("a restored checkpoint encodes differently")
	}
	if back.Cursor != 200 || back.Deltas != 200 || !reflect.DeepEqual(back.Arms(), s.Arms()) ||
		!reflect.DeepEqual(back.Weights(&p, nil), s.Weights(&p, nil)) {
		t.Error("a restored checkpoint builds different weights or arms")
	}
	if err := back.UnmarshalBinary(b[:len(b)-1]); err == nil {
		t.Error("a truncated checkpoint restored")
	}
}

func FuzzCheckpoint(f *testing.F) {
	p := params()
	s := aggregate.NewState()
	s.Fold(&wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1}}, Items: []wire.Count{{ID: "a", N: 1}},
		Arms: []wire.ArmCount{{Arm: wire.ArmHoldout, Impressions: 3}}}, 1, t0, &p)
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte{0x96, 0x01, 0x00, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := aggregate.NewState()
		if s.UnmarshalBinary(b) != nil {
			return
		}
		again, _ := s.MarshalBinary()
		s2 := aggregate.NewState()
		if err := s2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded checkpoint does not restore: %v", err)
		}
		s.Weights(&p, nil)
	})
}

func TestArmsAdd(t *testing.T) {
	a := aggregate.Arms{{Impressions: 1, Clicks: 2, Conversions: 3, Deltas: 4, Reported: 5}, {Impressions: 6}}
	o := aggregate.Arms{{Impressions: 10, Clicks: 20, Conversions: 30, Deltas: 40, Reported: 50}, {}, {Clicks: 7}}
	a.Add(&o)
	want := aggregate.Arms{{Impressions: 11, Clicks: 22, Conversions: 33, Deltas: 44, Reported: 55}, {Impressions: 6}, {Clicks: 7}}
	if a != want {
		t.Errorf("Add = %+v, want %+v", a, want)
	}
}
