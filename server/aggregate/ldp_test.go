package aggregate_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/aggregate/aggregatetest"
)

func TestWeightsLDP(t *testing.T) {
	p := params()
	p.LDPEpsilon = 4
	rng := rand.New(rand.NewPCG(1, 2))
	catalog := aggregatetest.Catalog(60)
	s, claimed, federated := aggregate.NewState(), aggregate.NewState(), aggregate.NewState()
	fp := params() // a site that is not federated+ldp
	for i, d := range aggregatetest.LDPDeltas(rng, 20000, 4, 4) {
		s.Fold(&d, uint64(i+1), t0, &p)
		d.Epsilon = 0.01 // claims less budget: its reports must not weigh more
		claimed.Fold(&d, uint64(i+1), t0, &p)
		federated.Fold(&d, uint64(i+1), t0, &fp)
	}
	got := s.WeightsLDP(&p, catalog)
	if w := claimed.WeightsLDP(&p, catalog); len(w) != 0 {
		t.Errorf("reports claiming another epsilon than the site's counted: %d items", len(w))
	}
	if w := federated.WeightsLDP(&fp, catalog); len(w) != 0 {
		t.Errorf("reports counted on a site that is not federated+ldp: %d items", len(w))
	}
	by := map[string]wire.ItemWeights{}
	for _, it := range got {
		by[it.ID] = it
	}
	// p0 is the most frequent item, and p0 → p1 its strongest pair.
	if by["p0"].Pop != 1 {
		t.Errorf("p0's popularity %v, want 1", by["p0"].Pop)
	}
	if nb := by["p0"].Next; len(nb) == 0 || nb[0].ID != "p1" {
		t.Errorf("p0's neighbours %+v, want p1 first", nb)
	}
	if _, ok := by["p59"]; ok {
		t.Error("p59, never reported, was published")
	}
	t.Logf("%d of %d catalogue items published; p0 → %v", len(got), len(catalog), by["p0"].Next)
}

// TestLDPReportsCapped checks that only a delta's first OLH report counts,
// and only LDPReports of an older guest's Hadamard reports: more reports
// cannot buy more weight.
func TestLDPReportsCapped(t *testing.T) {
	p := params()
	p.LDPEpsilon, p.LDPReports = 4, 2
	rng := rand.New(rand.NewPCG(3, 4))
	catalog := []string{"attack", "p0", "p1", "p2"}
	for _, c := range []struct {
		name   string
		deltas []wire.Delta
		attack func() wire.Report
	}{
		{"olh", aggregatetest.LDPDeltas(rng, 2000, 4, 4), func() wire.Report { return ldp.Encode(wire.ReportItem, "attack", 100, rng) }},
		{"hadamard", aggregatetest.HadamardDeltas(rng, 500, 4), func() wire.Report { return ldp.EncodeHadamard(wire.ReportItem, "attack", 100, rng) }},
	} {
		honest, many := aggregate.NewState(), aggregate.NewState()
		for i, d := range c.deltas {
			honest.Fold(&d, uint64(i+1), t0, &p)
			for len(d.Reports) < wire.MaxDeltaReports {
				d.Reports = append(d.Reports, c.attack())
			}
			many.Fold(&d, uint64(i+1), t0, &p)
		}
		a, b := honest.WeightsLDP(&p, catalog), many.WeightsLDP(&p, catalog)
		if len(a) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: reports beyond the counted ones counted:\n%+v\n%+v", c.name, a, b)
		}
	}
}

// TestWeightsLDPHadamard checks that the Hadamard reports of older guests,
// which a store keeps for its retention window, still count, alone and
// beside OLH reports, on the same scale (deltas).
func TestWeightsLDPHadamard(t *testing.T) {
	p := params()
	p.LDPEpsilon = 4
	rng := rand.New(rand.NewPCG(9, 10))
	catalog := aggregatetest.Catalog(60)
	old, mixed := aggregate.NewState(), aggregate.NewState()
	for i, d := range aggregatetest.HadamardDeltas(rng, 20000, 4) {
		old.Fold(&d, uint64(i+1), t0, &p)
		mixed.Fold(&d, uint64(i+1), t0, &p)
	}
	for i, d := range aggregatetest.LDPDeltas(rng, 20000, 4, 4) {
		mixed.Fold(&d, uint64(20001+i), t0, &p)
	}
	for name, s := range map[string]*aggregate.State{"hadamard": old, "mixed": mixed} {
		by := map[string]wire.ItemWeights{}
		for _, it := range s.WeightsLDP(&p, catalog) {
			by[it.ID] = it
		}
		if by["p0"].Pop != 1 || len(by) < 3 {
			t.Errorf("%s: %d items published, p0's popularity %v", name, len(by), by["p0"].Pop)
		}
		if _, ok := by["p59"]; ok {
			t.Errorf("%s: p59, never reported, was published", name)
		}
		t.Logf("%s: %d items published", name, len(by))
	}
}

// TestWeightsLDPLargeCatalogue checks the selection over a large
// catalogue of which few items were reported: 3σ of noise is common among
// 20,000 candidates, and the false discovery rate bounds the share of
// published items nobody reported, while the frequent ones are published.
func TestWeightsLDPLargeCatalogue(t *testing.T) {
	p := params()
	p.LDPEpsilon = 4
	rng := rand.New(rand.NewPCG(5, 6))
	s := aggregate.NewState()
	for i, d := range aggregatetest.LDPDeltas(rng, 5000, 4, 4) {
		s.Fold(&d, uint64(i+1), t0, &p)
	}
	catalog := aggregatetest.Catalog(20000) // p0-p50 reported, the rest never
	got := s.WeightsLDP(&p, catalog)
	published, noise := map[string]bool{}, 0
	for _, it := range got {
		published[it.ID] = true
		var n int
		if _, err := fmt.Sscanf(it.ID, "p%d", &n); err != nil || n > 50 {
			noise++
		}
	}
	// Benjamini-Hochberg keeps the expected share of false items within
	// LDPFDR; allow for the spread of one draw.
	if limit := 2 * p.LDPFDR * float64(len(got)); float64(noise) > max(limit, 2) {
		t.Errorf("%d of %d published items were never reported, over %.0f", noise, len(got), limit)
	}
	for i := range 5 {
		if id := fmt.Sprint("p", i); !published[id] {
			t.Errorf("%s, among the most reported, not published", id)
		}
	}
	t.Logf("%d items published from a catalogue of %d, %d never reported", len(got), len(catalog), noise)
}
