package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// What TestAttackCost asserts an attacker needs.
//
// Issue 9 asks for 25% of a window's deltas to put an arbitrary item into
// the home top 5. That is out of reach while a new visitor's home page is
// ranked by popularity: an item's popularity is the share of deltas that
// show it, any delta can show any item, so an attacker with a share a of
// the deltas gives its item a, and the fifth most popular item of the demo
// has about 8%: a > f5/(1+f5) suffices, whatever the aggregation (binary
// counting removed the rest: one delta counts once). minHomeShare states
// what holds. Pairs after a popular item are held to minPairCost by
// PairShare and PairCap.
const (
	minHomeShare = 0.05 // share of a window's deltas needed to put any item into the home top 5 (issue target: 0.25)
	minPairCost  = 20   // deltas needed to plant a pair after the most popular item
)

// TestAttackCost measures, on 2,000 honest simulated shoppers of the demo
// run on the real tailor.wasm, what an attacker sending crafted deltas
// needs (issue 9, finding 7):
//   - to put an arbitrary item (the one honest shoppers like least) into a
//     new visitor's home top 5: the share of the window's deltas;
//   - to plant a pair after a given item (the three most popular ones, and
//     running-shoes-1 as in the issue): the number of deltas to get the
//     pair published, and to get it into the top 5 after a click. After an
//     item few visitors see, k (5) remains the price: the pair's support
//     is the attacker's own.
//
// The attacker's deltas are as strong as the wire format allows and still
// look like a shopper's (the server's shape checks pass them).
func TestAttackCost(t *testing.T) {
	const honest = 2000
	b := newAttackBench(t, honest)
	clean := b.weights(0, nil)
	var pops []wire.ItemWeights
	for _, it := range b.s.Candidates() {
		pops = append(pops, wire.ItemWeights{ID: it.ID})
	}
	for i := range pops {
		it, _ := item(clean, pops[i].ID)
		pops[i].Pop = it.Pop
	}
	slices.SortStableFunc(pops, func(x, y wire.ItemWeights) int { return cmp.Compare(y.Pop, x.Pop) })
	home := b.rank(t, clean)
	least, most := pops[len(pops)-1].ID, pops[0].ID
	t.Logf("%d honest deltas; home top %d: %v; most popular %s, least %s", honest, topK, home, most, least)

	// The home page.
	homeAttack := func(target string) func(i int) wire.Delta {
		return func(i int) wire.Delta {
			d := wire.Delta{Items: []wire.Count{{ID: target, N: wire.MaxDeltaWeight}}}
			copy(d.ID[:], fmt.Sprintf("home-%d", i))
			return d
		}
	}
	m := smallest(4*honest, func(m int) bool {
		return slices.Contains(b.rank(t, b.weights(m, homeAttack(least))), least)
	})
	share := float64(m) / float64(honest+m)
	t.Logf("home top %d: %d attacker deltas (%.1f%% of the window's) put %s there", topK, m, 100*share, least)
	if share < minHomeShare {
		t.Errorf("an attacker with %.1f%% of the window's deltas put %s into the home top %d; want at least %.0f%% needed",
			100*share, least, topK, 100*minHomeShare)
	}

	// A pair after a given item.
	for i, from := range []string{most, pops[1].ID, pops[2].ID, "running-shoes-1"} {
		to := least
		if to == from {
			to = pops[len(pops)-2].ID
		}
		attack := pairAttack("pair", from, to, wire.MaxDeltaWeight)
		published := smallest(2*honest, func(m int) bool { return neighbor(b.weights(m, attack), from, to) })
		shown := smallest(2*honest, func(m int) bool { return slices.Contains(b.rank(t, b.weights(m, attack), from), to) })
		t.Logf("pair %s → %s: published from %d attacker deltas, in the top %d after a click on %s from %d", from, to, published, topK, from, shown)
		if i == 0 && published < minPairCost {
			t.Errorf("%d deltas planted %s after %s; want at least %d needed", published, to, from, minPairCost)
		}
	}
}

// TestModelDifferencing is the attack of a downloader who only polls the
// public model: on a quiet site the interval publishes a version as soon as
// anything arrived, and the manifest says how many deltas built each
// version, so two consecutive versions that differ by one delta give that
// delta away. Pop is relative to the most popular item: an item the new
// delta named grows by 1/sum against the others, far above float32's
// precision, so the items whose Pop ratio stands above the common one are
// exactly the published items of the victim's delta.
//
// The defence (publish.Aggregator): the interval publishes only once at
// least k (MinCohort) new deltas were folded, so consecutive versions
// differ by k deltas or more and their difference is a count over k
// deltas, as the k floor promises; the test asserts that of every pair of
// consecutive versions it can fetch (versions stay served by number).
// Default mode, default k; real tailor.wasm deltas synced to the whole
// server on loopback, publishing every 1000 deltas or every 20 ms.
func TestModelDifferencing(t *testing.T) {
	const honest = 120
	p := aggregate.DefaultParams
	k := uint64(p.MinCohort)
	sim := newSim(t)
	demo := demosite.Site("http://localhost")
	sites := siteSet(t, demo)
	st := stacktest.StartInterval(t, sites, p, 1000, 20*time.Millisecond)
	dl := &downloader{url: st.URL, key: demosite.Key, c: &http.Client{Timeout: 30 * time.Second}}

	cfg := demo.Config()
	deltas := visitAll(t, sim, cfg, int(honest+k))
	sync := func(b []byte) {
		t.Helper()
		res, err := dl.c.Post(dl.url+"/v1/sync", "text/plain;charset=UTF-8", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("sync: %d", res.StatusCode)
		}
	}
	for _, d := range deltas[:honest] {
		sync(d)
	}
	// A version waits for k deltas: up to k-1 honest ones may stay pending
	// (bounded wait for them: before the defence, all are published).
	dl.waitDeltas(t, honest-k+1)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if dl.manifest(t, -1).Deltas == honest {
			break
		}
	}

	// The victim's delta, alone. Give the interval time to publish it (a
	// bound, not an assertion: under load the attack may just not get its
	// chance), then k-1 other visitors' deltas.
	victim := deltas[honest]
	sync(victim)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if dl.manifest(t, -1).Deltas > honest {
			break
		}
	}
	for _, d := range deltas[honest+1:] {
		sync(d)
	}
	last := dl.waitDeltas(t, honest+1) // k-1 deltas follow the victim's: it is published

	vd, err := ingest.Decode(victim)
	if err != nil {
		t.Fatal(err)
	}
	prev := dl.version(t, 0) // every version since the first, the honest ones' too
	for n := uint32(1); n <= last.Version; n++ {
		cur := dl.version(t, n)
		added := cur.manifest.Deltas - prev.manifest.Deltas
		named := differenced(prev.pop, cur.pop)
		var truth []string
		for _, c := range vd.Items {
			if _, ok := prev.pop[c.ID]; ok {
				truth = append(truth, c.ID)
			}
		}
		if prev.manifest.Deltas <= honest && cur.manifest.Deltas > honest {
			t.Logf("v%d -> v%d, the victim's: %d deltas; differencing names %v; the victim's published items %v", n-1, n, added, named, truth)
		}
		if added < k {
			t.Errorf("versions %d and %d differ by %d deltas (< k = %d): differencing names %v, the victim's delta held %v",
				n-1, n, added, k, named, truth)
		}
		prev = cur
	}
}

// downloader fetches a site's public model as anyone with the site key.
type downloader struct {
	url, key string
	c        *http.Client
}

// fetched is one version: its manifest and each item's popularity.
type fetched struct {
	manifest api.Manifest
	pop      map[string]float32
}

func (d *downloader) get(t *testing.T, path string) []byte {
	t.Helper()
	res, err := d.c.Get(d.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, res.StatusCode, err, b)
	}
	return b
}

// manifest returns version n's manifest (n < 0: the current one).
func (d *downloader) manifest(t *testing.T, n int64) api.Manifest {
	t.Helper()
	path := "/v1/model?site=" + d.key
	if n >= 0 {
		path += fmt.Sprintf("&version=%d", n)
	}
	var m api.Manifest
	if err := json.Unmarshal(d.get(t, path), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitDeltas polls until a version built from at least n deltas is out.
func (d *downloader) waitDeltas(t *testing.T, n uint64) api.Manifest {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := d.manifest(t, -1)
		if m.Deltas >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no version of %d deltas published in time (last: v%d, %d deltas)", n, m.Version, m.Deltas)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// version fetches version n whole.
func (d *downloader) version(t *testing.T, n uint32) fetched {
	t.Helper()
	f := fetched{manifest: d.manifest(t, int64(n)), pop: map[string]float32{}}
	for _, sh := range f.manifest.Shards {
		var w wire.Weights
		if err := wire.Unmarshal(d.get(t, sh.URL), &w, "weights"); err != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			f.pop[it.ID] = it.Pop
		}
	}
	return f
}

// differenced is the attack: the items published in both versions whose
// popularity grew faster than the median item's (what decay and the
// most popular item's growth do to all), sorted.
func differenced(a, b map[string]float32) []string {
	var ratios []float64
	for id, pa := range a {
		if pb, ok := b[id]; ok && pa > 0 {
			ratios = append(ratios, float64(pb)/float64(pa))
		}
	}
	if len(ratios) == 0 {
		return nil
	}
	slices.Sort(ratios)
	common := ratios[len(ratios)/2]
	var out []string
	for id, pa := range a {
		if pb, ok := b[id]; ok && pa > 0 && float64(pb)/float64(pa) > common*(1+1e-4) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

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
// devices that each compare the two products (on two pages, then back on
// another visit) still publish it, and k - 1 do not.
func TestOneVisitorAlonePublished(t *testing.T) {
	const honest = 60
	p := aggregate.DefaultParams
	s := newSim(t)
	demo := demosite.Site("http://localhost")
	sites := siteSet(t, demo)
	cfg := demo.Config()
	deltas := visitAll(t, s, cfg, honest)
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
		in := harnesstest.Instance(t)
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

	// k devices, each comparing the two products on two pages, and back
	// for a page of another visit: a block of two items no third joined
	// goes with the first delta of the next visit (sdk/delta Block).
	var cohort [][]byte
	for i := range p.MinCohort {
		in, at := instance(), at.Add(time.Duration(i)*time.Hour)
		cohort = append(cohort, compare(in, at, 2)...)
		cohort = append(cohort, compare(in, at.Add(2*time.Hour), 1)...)
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
	sites := siteSet(t, demo)
	st := stacktest.Start(t, sites, aggregate.DefaultParams, 1<<20, api.WithAdminToken(adminToken), api.WithStatsRelease(batch, 0))
	srv := &server{url: st.URL, agg: st.Agg, c: &http.Client{Timeout: 30 * time.Second}}

	cfg := demo.Config()
	const visitors = 120
	deltas := visitAll(t, s, cfg, visitors)
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
