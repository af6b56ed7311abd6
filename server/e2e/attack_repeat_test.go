package e2e

import (
	"context"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestOneVisitorAlonePublished is the attack on the k floor's promise to
// an honest-but-curious downloader ("a rare pair only one visitor made is
// not published"): k counts deltas, and one honest device sends a delta
// each time a page is left. One visitor of the demo, on the real
// tailor.wasm, goes from the product honest shoppers leave least to one
// they never paired it with, on each of 8 page views of one long session;
// each page leave syncs what the device has to send. Beside 60 honest
// shoppers (default parameters, k = 5), the published model must not name
// the visitor's pair. Before the device kept what it sent (sdk/delta
// MaxSent), its 8 deltas all carried the pair and 5 page views
// published it.
func TestOneVisitorAlonePublished(t *testing.T) {
	const honest = 60
	p := aggregate.DefaultParams
	s := newSim(t)
	demo := demosite.Site("http://localhost")
	sites, err := site.NewSet(demo)
	if err != nil {
		t.Fatal(err)
	}
	cfg := demo.Config()
	deltas := make([][]byte, honest)
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err = pool.Run(context.Background(), honest, func(in *harness.Instance, i int) error {
		_, d, err := visit(s, in, cfg, i)
		deltas[i] = d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The visitor's pair: from, the product with the fewest honest deltas
	// carrying a pair out of it, and to, one never paired with it.
	support, paired := map[string]int{}, map[[2]string]bool{}
	for _, raw := range deltas {
		d, err := ingest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, pr := range d.Pairs {
			out[pr.From] = true
			paired[[2]string{pr.From, pr.To}], paired[[2]string{pr.To, pr.From}] = true, true
		}
		for id := range out {
			support[id]++
		}
	}
	var from, to *demosite.Product
	for i := range s.Catalog.Products {
		if pr := &s.Catalog.Products[i]; from == nil || support[pr.ID] < support[from.ID] {
			from = pr
		}
	}
	for i := range s.Catalog.Products {
		if pr := &s.Catalog.Products[i]; pr != from && !paired[[2]string{from.ID, pr.ID}] {
			to = pr
			break
		}
	}
	if to == nil {
		t.Fatalf("%s is paired with every product by the %d honest deltas; take fewer", from.ID, honest)
	}

	in, err := harnesstest.Runtime(t).Instantiate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	if err := in.Init(cfg); err != nil {
		t.Fatal(err)
	}
	// published reports whether a server given the honest deltas and the
	// visitor's first n publishes from → to.
	var visitor [][]byte
	published := func(n int) bool {
		t.Helper()
		srv := startServer(t, sites, p, 1<<20)
		for _, d := range append(append([][]byte(nil), deltas...), visitor[:n]...) {
			if _, err := srv.sync(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := srv.agg.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		items := srv.fetch(t, demosite.Key).items(t)
		for _, nb := range items[from.ID].Next {
			if nb.ID == to.ID {
				return true
			}
		}
		return false
	}
	at := t0.Add(48 * time.Hour)
	const pages = 8
	for range pages {
		// A page of from, then to's page: the visitor compares them again.
		for _, pr := range []*demosite.Product{from, to} {
			if err := in.Track(sim.Event(wire.KindClick, pr, at)); err != nil {
				t.Fatal(err)
			}
			at = at.Add(40 * time.Second)
		}
		d, err := in.TakeDelta()
		if err != nil {
			t.Fatal(err)
		}
		if len(d) > 0 { // nothing new on the page: nothing to sync
			visitor = append(visitor, d)
		}
	}
	if len(visitor) == 0 {
		t.Fatal("the visitor sent no delta at all")
	}
	pub := published(len(visitor))
	t.Logf("one visitor's %s -> %s (%d honest deltas pair out of %s) on %d pages: %d deltas sent; published beside %d honest shoppers: %v",
		from.ID, to.ID, support[from.ID], from.ID, pages, len(visitor), honest, pub)
	if pub {
		t.Errorf("one visitor alone published %s -> %s with %d deltas (k = %d)", from.ID, to.ID, len(visitor), p.MinCohort)
	}
}
