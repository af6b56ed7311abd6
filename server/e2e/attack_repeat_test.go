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
// not published"): k counts deltas, and one honest device syncs each time
// a page is left. One visitor of the demo, on the real tailor.wasm, goes
// from the product honest shoppers leave least to one they never paired it
// with, on each of 3,000 page views (10 visits, the stored profile
// reloaded every 100 pages); each page leave syncs what the device has to
// send. Beside 60 honest shoppers (default parameters, k = 5), at most one
// of the visitor's deltas may carry the pair, and each item one, and the
// published model must not name the pair: the device sends a pair or an
// item once (sdk/delta MaxSent). Before the device kept what it sent,
// every delta carried the pair and 5 page views published it. k distinct
// devices that each compare the two products (on two pages) still
// publish it, and k - 1 do not.
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

	// published reports whether a server given the honest deltas and
	// extra publishes from → to.
	published := func(extra [][]byte) bool {
		t.Helper()
		srv := startServer(t, sites, p, 1<<20)
		for _, d := range append(append([][]byte(nil), deltas...), extra...) {
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
	// carries reports whether a delta holds the pair in either direction,
	// and how many of the two items.
	carries := func(raw []byte) (pair bool, items int) {
		t.Helper()
		d, err := ingest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range d.Pairs {
			pair = pair || pr.From == from.ID && pr.To == to.ID || pr.From == to.ID && pr.To == from.ID
		}
		for _, c := range d.Items {
			if c.ID == from.ID || c.ID == to.ID {
				items++
			}
		}
		return pair, items
	}
	// compare has a device go from from to to on n pages, and returns
	// the deltas it syncs as each page is left.
	compare := func(in *harness.Instance, at time.Time, n int) (out [][]byte) {
		t.Helper()
		for range n {
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
			if len(d) > 0 {
				out = append(out, d)
			}
		}
		return out
	}
	instance := func() *harness.Instance {
		t.Helper()
		in, err := harnesstest.Runtime(t).Instantiate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close(context.Background()) })
		if err := in.Init(cfg); err != nil {
			t.Fatal(err)
		}
		return in
	}

	const pages = 3000
	in := instance()
	var visitor [][]byte
	at := t0.Add(48 * time.Hour)
	for page := range pages {
		if page%100 == 99 { // a reload: the next page loads the stored profile
			b, err := in.SaveProfile()
			if err != nil {
				t.Fatal(err)
			}
			if err := in.LoadProfile(b); err != nil {
				t.Fatal(err)
			}
		}
		if page%300 == 299 {
			at = at.Add(2 * time.Hour) // another visit
		}
		visitor = append(visitor, compare(in, at, 1)...)
		at = at.Add(80 * time.Second)
	}
	carrying, items := 0, 0 // the visitor's deltas with the pair; his items sent
	for _, d := range visitor {
		pair, n := carries(d)
		carrying, items = carrying+btoi(pair), items+n
	}
	alone := published(visitor)
	t.Logf("one visitor's %s -> %s (%d honest deltas pair out of %s), %d page views: %d deltas, %d carry the pair, the two items sent %d times; published beside %d honest shoppers: %v",
		from.ID, to.ID, support[from.ID], from.ID, pages, len(visitor), carrying, items, honest, alone)
	if carrying > 1 || items > 2 || alone {
		t.Errorf("one visitor's pair in %d of his deltas, its items sent %d times, published %v; want at most 1, each item once and not published", carrying, items, alone)
	}

	// k devices, each comparing the two products on two pages.
	var cohort [][]byte
	for i := range p.MinCohort {
		cohort = append(cohort, compare(instance(), at.Add(time.Duration(i)*time.Hour), 2)...)
	}
	if n := len(cohort); n != p.MinCohort {
		t.Fatalf("%d devices synced %d deltas, want one each", p.MinCohort, n)
	}
	if !published(cohort) {
		t.Errorf("%d devices made %s -> %s: not published", p.MinCohort, from.ID, to.ID)
	}
	if published(cohort[:p.MinCohort-1]) {
		t.Errorf("%d devices made %s -> %s: published below k = %d", p.MinCohort-1, from.ID, to.ID, p.MinCohort)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
