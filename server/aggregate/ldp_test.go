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
	catalog := make([]string, 60)
	for i := range catalog {
		catalog[i] = fmt.Sprint("p", i)
	}
	s, claimed, federated := aggregate.NewState(), aggregate.NewState(), aggregate.NewState()
	fp := params() // a site that is not federated+ldp
	for i, d := range aggregatetest.LDPDeltas(rng, 20000, 4, 4) {
		s.Fold(&d, uint64(i+1), t0, &p)
		d.Epsilon = 0.01 // claims less budget: its reports must not weigh more
		claimed.Fold(&d, uint64(i+1), t0, &p)
		federated.Fold(&d, uint64(i+1), t0, &fp)
	}
	got := s.WeightsLDP(&p, catalog)
	if !reflect.DeepEqual(got, claimed.WeightsLDP(&p, catalog)) {
		t.Error("a delta's claimed epsilon changed the estimates")
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

// TestLDPReportsCapped checks that only LDPReports of a delta's reports
// count: more reports cannot buy more weight.
func TestLDPReportsCapped(t *testing.T) {
	p := params()
	p.LDPEpsilon, p.LDPReports = 4, 2
	rng := rand.New(rand.NewPCG(3, 4))
	two, many := aggregate.NewState(), aggregate.NewState()
	for i, d := range aggregatetest.LDPDeltas(rng, 500, 4, 4) {
		two.Fold(&d, uint64(i+1), t0, &p)
		for len(d.Reports) < wire.MaxDeltaReports {
			d.Reports = append(d.Reports, ldp.Encode(wire.ReportItem, "attack", 100, rng))
		}
		many.Fold(&d, uint64(i+1), t0, &p)
	}
	catalog := []string{"attack", "p0", "p1", "p2"}
	if a, b := two.WeightsLDP(&p, catalog), many.WeightsLDP(&p, catalog); !reflect.DeepEqual(a, b) {
		t.Errorf("reports beyond LDPReports counted:\n%+v\n%+v", a, b)
	}
}

// TestWeightsLDPLargeCatalogue checks that noise publishes no item of a
// large catalogue that nobody reported: 3σ of noise is common among
// 20,000 candidates, so the threshold grows with their number.
func TestWeightsLDPLargeCatalogue(t *testing.T) {
	p := params()
	p.LDPEpsilon = 4
	rng := rand.New(rand.NewPCG(5, 6))
	s := aggregate.NewState()
	for i, d := range aggregatetest.LDPDeltas(rng, 5000, 4, 4) {
		s.Fold(&d, uint64(i+1), t0, &p)
	}
	catalog := make([]string, 20000)
	for i := range catalog {
		catalog[i] = fmt.Sprint("p", i) // p0-p50 reported, the rest never
	}
	got := s.WeightsLDP(&p, catalog)
	for _, it := range got {
		var n int
		if _, err := fmt.Sscanf(it.ID, "p%d", &n); err != nil || n > 50 {
			t.Errorf("%s, never reported, was published (pop %v)", it.ID, it.Pop)
		}
	}
	if len(got) == 0 {
		t.Error("nothing published")
	}
	t.Logf("%d items published from a catalogue of %d", len(got), len(catalog))
}
