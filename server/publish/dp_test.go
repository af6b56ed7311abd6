package publish_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/aggregate/aggregatetest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// TestAggregatorDPBudget publishes with central DP until the window's
// budget is spent: each version records the (ε, δ) spent so far, the next
// publication is refused (the last version stays current), and a
// restarted aggregator reads the spending back from the manifests.
func TestAggregatorDPBudget(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	st := openStore(t, path)
	p := aggregate.DefaultParams
	p.MinCohort, p.Noise, p.Epsilon, p.Delta, p.DPReleases, p.DPWindow = 1, aggregate.NoiseGaussian, 1, 1e-6, 2, time.Hour
	open := func() *publish.Aggregator {
		return start(t, st, sites(t, 0.05), publish.WithParams(p), publish.WithPublishEvery(1000, time.Hour), publish.WithNoiseSeed(1))
	}
	a := open()
	n := 0
	publishOne := func(a *publish.Aggregator) store.Version {
		t.Helper()
		appendDelta(t, st, n, "a", "b")
		n++
		return flush(t, a)
	}
	for i, want := range []float64{p.EpsilonOf(p.Rho()), p.EpsilonOf(2 * p.Rho())} {
		v := publishOne(a)
		if v.Number != uint32(i+1) || math.Abs(v.Privacy.Epsilon-want) > 1e-12 || v.Privacy.Rho != p.Rho() || v.Privacy.Window != "1h0m0s" {
			t.Fatalf("version %d: %+v, want number %d, eps %v", v.Number, v.Privacy, i+1, want)
		}
	}
	if v, _ := a.Current(shop); math.Abs(v.Privacy.Epsilon-p.Epsilon) > 1e-9 {
		t.Errorf("the window's last release records eps %v, want the budget %v", v.Privacy.Epsilon, p.Epsilon)
	}
	if v := publishOne(a); v.Number != 2 {
		t.Fatalf("published version %d past the budget", v.Number)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b := open()
	defer b.Close(ctx)
	if v := publishOne(b); v.Number != 2 {
		t.Fatalf("a restarted aggregator published version %d past the budget", v.Number)
	}
}

// TestAggregatorLDP runs a federated+ldp site: devices send only reports,
// the aggregator estimates over the site's catalogue and publishes the
// frequent items and their pairs.
func TestAggregatorLDP(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	catalog := make([]string, 40)
	for i := range catalog {
		catalog[i] = fmt.Sprint("p", i)
	}
	set, err := site.NewSet(site.Site{Key: "ldp", Origins: []string{"*"}, Privacy: wire.PrivacyLDP, Epsilon: 4, Catalog: catalog})
	if err != nil {
		t.Fatal(err)
	}
	a, err := publish.New(st, set, publish.WithPublishEvery(1<<20, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	rng := rand.New(rand.NewPCG(1, 2))
	ds := aggregatetest.LDPDeltas(rng, 5000, 4, 4)
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ { // concurrent appends share the store's commits
		go func() {
			for i := w; i < len(ds); i += 16 {
				d := ds[i]
				d.Site = "ldp"
				copy(d.ID[:], fmt.Sprintf("ldp-%d", i))
				if _, err := st.Append(ctx, store.Delta{Site: "ldp", ID: d.ID, Received: time.Now(), Body: wire.Marshal(&d)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < 16; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	v, _ := a.Current("ldp")
	items := map[string]wire.ItemWeights{}
	for _, sh := range v.Shards {
		b, err := st.Blob(ctx, sh.Hash)
		var w wire.Weights
		if err != nil || wire.Unmarshal(b, &w, "weights") != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			items[it.ID] = it
		}
	}
	if items["p0"].Pop != 1 || len(items["p0"].Next) == 0 || items["p0"].Next[0].ID != "p1" {
		t.Errorf("p0 = %+v, want the most popular, followed by p1", items["p0"])
	}
	if v.Privacy.Rho != 0 || v.Deltas != 5000 {
		t.Errorf("version %+v", v)
	}
}
