package e2e

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
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
	b := newAttackBench(t)
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
	t.Logf("%d honest deltas; home top %d: %v; most popular %s, least %s", b.n, topK, home, most, least)

	// The home page.
	homeAttack := func(target string) func(i int) wire.Delta {
		return func(i int) wire.Delta {
			d := wire.Delta{Items: []wire.Count{{ID: target, N: wire.MaxDeltaWeight}}}
			copy(d.ID[:], fmt.Sprintf("home-%d", i))
			return d
		}
	}
	m := smallest(4*b.n, func(m int) bool {
		return slices.Contains(b.rank(t, b.weights(m, homeAttack(least))), least)
	})
	share := float64(m) / float64(b.n+m)
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
		published := smallest(2*b.n, func(m int) bool { return neighbor(b.weights(m, attack), from, to) })
		shown := smallest(2*b.n, func(m int) bool { return slices.Contains(b.rank(t, b.weights(m, attack), from), to) })
		t.Logf("pair %s → %s: published from %d attacker deltas, in the top %d after a click on %s from %d", from, to, published, topK, from, shown)
		if i == 0 && published < minPairCost {
			t.Errorf("%d deltas planted %s after %s; want at least %d needed", published, to, from, minPairCost)
		}
	}
}

// What the attack tests share: the bench of crafted deltas over honest
// traffic (TestAttackCost, TestAttackPairOnly, TestAttackReverse) and
// what a published version tells of a pair.

// attackHonest is how many honest shoppers of the demo the attack bench
// folds: TestAttackCost's bench, which the other attack tests measure on.
const attackHonest = 2000

// attackBench holds honest traffic folded into an aggregate and the real
// tailor.wasm to see what a new visitor is shown.
type attackBench struct {
	*honestTraffic
	in *harness.Instance
}

// honestTraffic is the attack bench's honest part: attackHonest shoppers'
// deltas folded over a day. It is made once for the package (honestOnce)
// and only read after: weights folds into a clone.
type honestTraffic struct {
	s      *sim.Sim
	cfg    wire.Config
	p      aggregate.Params
	honest *aggregate.State
	n      int // honest deltas
	seq    uint64
}

var (
	honestOnce sync.Once
	honestMade *honestTraffic
)

// newAttackBench returns the bench over the package's honest traffic
// (made by the first test that asks, which fails if it cannot be made,
// as every later one then does) with an instance of the test's own.
func newAttackBench(t *testing.T) *attackBench {
	t.Helper()
	honestOnce.Do(func() { honestMade = makeHonest(t, attackHonest) })
	if honestMade == nil {
		t.Fatal("the attack bench's honest traffic could not be made (see the first attack test)")
	}
	return &attackBench{honestTraffic: honestMade, in: harnesstest.Instance(t)}
}

func makeHonest(t *testing.T, honest int) *honestTraffic {
	t.Helper()
	st := demosite.Site("http://localhost")
	st.Explore, st.Holdout = 0, 0 // no random promotion, no default-order holdout: the ranking is the model's
	h := &honestTraffic{s: newSim(t), cfg: st.Config(), p: aggregate.DefaultParams, honest: aggregate.NewState(), n: honest}
	deltas := visitAll(t, h.s, h.cfg, honest)
	for i, raw := range deltas {
		d, err := ingest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		h.seq++
		// The window: honest deltas over a day, the attack at its end.
		h.honest.Fold(&d, h.seq, t0.Add(time.Duration(i)*24*time.Hour/time.Duration(honest)), &h.p)
	}
	return h
}

// weights folds m attacker deltas (made by attack) over the honest
// aggregate and returns the weights a version would publish.
func (b *attackBench) weights(m int, attack func(i int) wire.Delta) []wire.ItemWeights {
	s := b.honest.Clone()
	at := t0.Add(24 * time.Hour)
	for i := 0; i < m; i++ {
		d := attack(i)
		s.Fold(&d, b.seq+uint64(i)+1, at, &b.p)
	}
	return s.Weights(&b.p, nil)
}

// rank shows a new visitor who clicked the given items (none: the home
// page) a ranking of the whole catalogue under the weights, and returns
// the top 5 ids.
func (b *attackBench) rank(t *testing.T, ws []wire.ItemWeights, clicked ...string) []string {
	t.Helper()
	if err := b.in.Init(b.cfg); err != nil {
		t.Fatal(err)
	}
	if err := b.in.ApplyWeights(&wire.Weights{Version: 1, Shard: 0, Shards: 1, Items: ws}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(25 * time.Hour)
	for _, id := range clicked {
		p := b.s.Catalog.Find(id)
		if p == nil {
			t.Fatalf("no product %q", id)
		}
		if err := b.in.Track(sim.Event(wire.KindClick, p, at)); err != nil {
			t.Fatal(err)
		}
		at = at.Add(30 * time.Second)
	}
	res, err := b.in.Rank(&wire.RankRequest{Slot: "recommended", Candidates: b.s.Candidates(), Limit: topK, Time: at.UnixMilli(), Ctx: sim.Context(at)})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res.Items))
	for i, it := range res.Items {
		ids[i] = it.ID
	}
	return ids
}

// pairAttack returns the attacker's i-th delta that carries the pair
// from → to with weight w and names both items (in id order, as a
// device's delta does); its id begins with name.
func pairAttack(name, from, to string, w float32) func(i int) wire.Delta {
	return func(i int) wire.Delta {
		items := []wire.Count{{ID: from, N: 1}, {ID: to, N: 1}}
		slices.SortFunc(items, func(a, b wire.Count) int { return cmp.Compare(a.ID, b.ID) })
		d := wire.Delta{Pairs: []wire.Pair{{From: from, To: to, W: w}}, Items: items}
		copy(d.ID[:], fmt.Sprintf("%s-%d", name, i))
		return d
	}
}

// smallest returns the smallest m in [1, hi] for which ok holds, by
// bisection (ok is monotone in m), or hi+1 if none does.
func smallest(hi int, ok func(m int) bool) int {
	if !ok(hi) {
		return hi + 1
	}
	lo := 0 // ok(lo) is false: no attack changes nothing
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// byPopularity returns the items of a model version, most popular first
// (ties by id, so that the order is the same in every run).
func byPopularity(items []wire.ItemWeights) []wire.ItemWeights {
	pops := slices.Clone(items)
	slices.SortStableFunc(pops, func(x, y wire.ItemWeights) int { return cmp.Or(cmp.Compare(y.Pop, x.Pop), cmp.Compare(x.ID, y.ID)) })
	return pops
}

// item returns the weights of id in a version's items (sorted by id, as
// a version publishes them).
func item(ws []wire.ItemWeights, id string) (wire.ItemWeights, bool) {
	i, ok := slices.BinarySearchFunc(ws, id, func(it wire.ItemWeights, id string) int { return cmp.Compare(it.ID, id) })
	if !ok {
		return wire.ItemWeights{}, false
	}
	return ws[i], true
}

// place returns to's place in from's published neighbours (0 first), or
// wire.MaxNeighbors if it is not there (aggregate.Params publishes no
// more than that).
func place(ws []wire.ItemWeights, from, to string) int {
	it, _ := item(ws, from)
	if j := slices.IndexFunc(it.Next, func(nb wire.Neighbor) bool { return nb.ID == to }); j >= 0 {
		return j
	}
	return wire.MaxNeighbors
}

// neighbor reports whether to is among from's published neighbours.
func neighbor(ws []wire.ItemWeights, from, to string) bool {
	return place(ws, from, to) < wire.MaxNeighbors
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
	srv := client(t, stacktest.StartInterval(t, sites, p, 1000, 20*time.Millisecond))

	cfg := demo.Config()
	deltas := visitAll(t, sim, cfg, int(honest+k))
	sync := func(b []byte) {
		t.Helper()
		if _, err := srv.sync(b); err != nil {
			t.Fatal(err)
		}
	}
	current := func() api.Manifest { return srv.manifest(t, demosite.Key, -1) }
	waitDeltas := func(n uint64) api.Manifest {
		t.Helper()
		return srv.waitManifest(t, demosite.Key, fmt.Sprintf("a version of %d deltas", n), func(m api.Manifest) bool { return m.Deltas >= n })
	}
	for _, d := range deltas[:honest] {
		sync(d)
	}
	// A version waits for k deltas: up to k-1 honest ones may stay pending
	// (bounded wait for them: before the defence, all are published).
	waitDeltas(honest - k + 1)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if current().Deltas == honest {
			break
		}
	}

	// The victim's delta, alone. Give the interval time to publish it (a
	// bound, not an assertion: under load the attack may just not get its
	// chance), then k-1 other visitors' deltas.
	victim := deltas[honest]
	sync(victim)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if current().Deltas > honest {
			break
		}
	}
	for _, d := range deltas[honest+1:] {
		sync(d)
	}
	last := waitDeltas(honest + 1) // k-1 deltas follow the victim's: it is published

	vd, err := ingest.Decode(victim)
	if err != nil {
		t.Fatal(err)
	}
	prev := srv.fetchVersion(t, demosite.Key, 0) // every version since the first, the honest ones' too
	prevItems := prev.items(t)
	for n := uint32(1); n <= last.Version; n++ {
		cur := srv.fetchVersion(t, demosite.Key, int64(n))
		curItems := cur.items(t)
		added := cur.manifest.Deltas - prev.manifest.Deltas
		named := differenced(prevItems, curItems)
		var truth []string
		for _, c := range vd.Items {
			if _, ok := prevItems[c.ID]; ok {
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
		prev, prevItems = cur, curItems
	}
}

// differenced is the attack: the items published in both versions whose
// popularity grew faster than the median item's (what decay and the
// most popular item's growth do to all), sorted.
func differenced(a, b map[string]wire.ItemWeights) []string {
	var ratios []float64
	for id, ia := range a {
		if ib, ok := b[id]; ok && ia.Pop > 0 {
			ratios = append(ratios, float64(ib.Pop)/float64(ia.Pop))
		}
	}
	if len(ratios) == 0 {
		return nil
	}
	slices.Sort(ratios)
	common := ratios[len(ratios)/2]
	var out []string
	for id, ia := range a {
		if ib, ok := b[id]; ok && ia.Pop > 0 && float64(ib.Pop)/float64(ia.Pop) > common*(1+1e-4) {
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
	srv := startServer(t, sites, aggregate.DefaultParams, 1<<20, api.WithStatsRelease(batch, 0))

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
