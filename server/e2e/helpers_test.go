package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// t0 is when the simulated visits happen.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// topK is how many items of a ranking count as a hit for the next click.
const topK = 5

// server is the whole server on loopback.
type server struct {
	url string
	agg *publish.Aggregator
	c   *http.Client
}

func startServer(t *testing.T, sites *site.Set, p aggregate.Params, every int) *server {
	t.Helper()
	st := stacktest.Start(t, sites, p, every, api.WithAdminToken(adminToken))
	s := &server{url: st.URL, agg: st.Agg, c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	t.Cleanup(s.c.CloseIdleConnections)
	return s
}

// adminToken reads the stats (GET /v1/stats is owner-only).
const adminToken = "admin-token-of-the-e2e-tests-000000000000"

func (s *server) get(path string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := s.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b, err
}

// sync posts a delta as a browser's sendBeacon does; it returns the status.
func (s *server) sync(body []byte) (int, error) {
	res, err := s.c.Post(s.url+"/v1/sync", "text/plain;charset=UTF-8", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusAccepted {
		return res.StatusCode, fmt.Errorf("sync: %d %s", res.StatusCode, msg)
	}
	return res.StatusCode, nil
}

// model is what a device fetches: a manifest, its configuration and
// shards, in the order to apply them.
type model struct {
	manifest api.Manifest
	config   wire.Config
	shards   [][]byte
}

// fetch fetches a site's current model as a cold-start device does:
// manifest, then configuration and shards, shards sorted by the version
// their content dates from.
func (s *server) fetch(t *testing.T, key string) *model {
	t.Helper()
	b, err := s.get("/v1/model?site=" + key)
	if err != nil {
		t.Fatal(err)
	}
	m := &model{}
	if err := json.Unmarshal(b, &m.manifest); err != nil {
		t.Fatal(err)
	}
	cb, err := s.get(m.manifest.Config.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.Unmarshal(cb, &m.config, "config"); err != nil {
		t.Fatal(err)
	}
	shards := slices.Clone(m.manifest.Shards)
	slices.SortStableFunc(shards, func(a, b api.ManifestShard) int { return int(a.Version) - int(b.Version) })
	for _, sh := range shards {
		b, err := s.get(sh.URL)
		if err != nil {
			t.Fatal(err)
		}
		m.shards = append(m.shards, b)
	}
	return m
}

// apply configures an instance with the model's configuration and gives
// it the model's weights, as a device does on loading them.
func (m *model) apply(in *harness.Instance) error {
	if err := in.Init(m.config); err != nil {
		return err
	}
	for _, b := range m.shards {
		if err := in.ApplyWeightsBytes(b); err != nil {
			return err
		}
	}
	return nil
}

// items decodes the model's weights by item id.
func (m *model) items(t *testing.T) map[string]wire.ItemWeights {
	t.Helper()
	out := map[string]wire.ItemWeights{}
	for _, b := range m.shards {
		var w wire.Weights
		if err := wire.Unmarshal(b, &w, "weights"); err != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			out[it.ID] = it
		}
	}
	return out
}

// visit plays visitor i's session (persona i mod 6, 8 clicks) on an
// instance reset for cfg, ranking after every click, and returns its hit
// count and its delta.
func visit(s *sim.Sim, in *harness.Instance, cfg wire.Config, i int) (sim.Result, []byte, error) {
	if err := in.Init(cfg); err != nil {
		return sim.Result{}, nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(i), 0x7a11))
	session := s.Session(&sim.Personas[i%len(sim.Personas)], rng, 8)
	res, err := s.Replay(in, session, t0.Add(time.Duration(i)*time.Minute), topK)
	if err != nil {
		return res, nil, err
	}
	d, err := in.TakeDelta()
	return res, d, err
}

// hits counts next-click hits over many visitors concurrently.
type hits struct{ hits, total atomic.Int64 }

func (h *hits) add(r sim.Result) { h.hits.Add(int64(r.Hits)); h.total.Add(int64(r.Total)) }

func (h *hits) rate() float64 { return float64(h.hits.Load()) / float64(max(h.total.Load(), 1)) }

// evaluate replays visitors [from, from+n) on a new pool prepared by
// setup, and returns their hit rate. Nothing is synced.
func evaluate(t *testing.T, s *sim.Sim, cfg wire.Config, from, n int, setup func(*harness.Instance) error) float64 {
	t.Helper()
	pool := harnesstest.Runtime(t).NewPool(8, setup)
	var h hits
	err := pool.Run(context.Background(), n, func(in *harness.Instance, i int) error {
		r, _, err := visit(s, in, cfg, from+i)
		h.add(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h.rate()
}

func newSim(t *testing.T) *sim.Sim {
	t.Helper()
	s, err := sim.New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitVersion polls the manifest until the site's version is at least n.
func (s *server) waitVersion(t *testing.T, key string, n uint32) api.Manifest {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var m api.Manifest
		b, err := s.get("/v1/model?site=" + key)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err == nil && m.Version >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("version %d of %s not published in time (last: %+v, %v)", n, key, m, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// siteSet is the set of sites, failing the test if they do not make one.
func siteSet(t *testing.T, sites ...site.Site) *site.Set {
	t.Helper()
	set, err := site.NewSet(sites...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// visitAll plays visitors [0, n) under cfg on a pool of 4 instances and
// returns their deltas, in visitor order (nil: the visitor had nothing to
// sync).
func visitAll(t *testing.T, s *sim.Sim, cfg wire.Config, n int) [][]byte {
	t.Helper()
	deltas := make([][]byte, n)
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err := pool.Run(context.Background(), n, func(in *harness.Instance, i int) error {
		_, d, err := visit(s, in, cfg, i)
		deltas[i] = d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return deltas
}

// What the attack tests share: the bench of crafted deltas over honest
// traffic (TestAttackCost, TestAttackPairOnly, TestAttackReverse) and
// what a published version tells of a pair.

// attackBench holds honest traffic folded into an aggregate and the real
// tailor.wasm to see what a new visitor is shown.
type attackBench struct {
	s      *sim.Sim
	cfg    wire.Config
	p      aggregate.Params
	honest *aggregate.State
	n      int // honest deltas
	in     *harness.Instance
	seq    uint64
}

func newAttackBench(t *testing.T, honest int) *attackBench {
	t.Helper()
	st := demosite.Site("http://localhost")
	st.Explore, st.Holdout = 0, 0 // no random promotion, no default-order holdout: the ranking is the model's
	b := &attackBench{s: newSim(t), cfg: st.Config(), p: aggregate.DefaultParams, honest: aggregate.NewState(), n: honest}
	deltas := visitAll(t, b.s, b.cfg, honest)
	for i, raw := range deltas {
		d, err := ingest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		b.seq++
		// The window: honest deltas over a day, the attack at its end.
		b.honest.Fold(&d, b.seq, t0.Add(time.Duration(i)*24*time.Hour/time.Duration(honest)), &b.p)
	}
	b.in = harnesstest.Instance(t)
	return b
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

// What the linkage attacks share (TestLinkage, TestLinkageByMetadata,
// TestLinkageOpenPages): shoppers of a synthetic catalogue whose deltas
// the operator sees in the order they arrive.

// largeShop returns shoppers of a synthetic catalogue of n products
// (demo-site/sim Large) and the demo site's configuration.
func largeShop(t *testing.T, products int) (*sim.Large, wire.Config) {
	t.Helper()
	c, err := demosite.Synthetic(products)
	if err != nil {
		t.Fatal(err)
	}
	st := demosite.Site("http://localhost")
	return sim.NewLarge(c), st.Config()
}

// takeDelta takes the delta a device syncs as its page is left, decoded,
// and its size in bytes (0: nothing to sync).
func takeDelta(in *harness.Instance) (wire.Delta, int, error) {
	var d wire.Delta
	b, err := in.TakeDelta()
	if err != nil || len(b) == 0 {
		return d, 0, err
	}
	return d, len(b), wire.Unmarshal(b, &d, "delta")
}

// arrivals runs shop for devices [0, n) on a pool of 4 instances and
// returns what they all sync, in the order it arrives (by at; a device's
// own in its order on a tie).
func arrivals[T any](t *testing.T, n int, at func(T) time.Time, shop func(in *harness.Instance, i int) ([]T, error)) []T {
	t.Helper()
	perDevice := make([][]T, n)
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err := pool.Run(context.Background(), n, func(in *harness.Instance, i int) error {
		var err error
		perDevice[i], err = shop(in, i)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []T
	for _, ds := range perDevice {
		all = append(all, ds...)
	}
	slices.SortStableFunc(all, func(a, b T) int { return at(a).Compare(at(b)) })
	return all
}
