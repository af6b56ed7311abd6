package e2e

import (
	"bytes"
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

// startServer starts the whole server on loopback (stacktest.Start) with
// the admin token and opts, and returns its client.
func startServer(t *testing.T, sites *site.Set, p aggregate.Params, every int, opts ...api.Option) *server {
	t.Helper()
	return client(t, stacktest.Start(t, sites, p, every, append([]api.Option{api.WithAdminToken(adminToken)}, opts...)...))
}

// client is the client of a running stack; its stats need the stack to
// take adminToken.
func client(t *testing.T, st *stacktest.Stack) *server {
	s := &server{url: st.URL, agg: st.Agg, c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	t.Cleanup(s.c.CloseIdleConnections)
	return s
}

// adminToken reads the stats (GET /v1/stats is owner-only).
const adminToken = "admin-token-of-the-e2e-tests-000000000000"

// get fetches path with the admin token, which no route but the stats and
// the metrics reads: the model's routes answer anyone with the site key
// alike.
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
	return s.fetchVersion(t, key, -1)
}

// fetchVersion fetches version n of a site's model (n < 0: the current
// one) as fetch does.
func (s *server) fetchVersion(t *testing.T, key string, n int64) *model {
	t.Helper()
	m := &model{manifest: s.manifest(t, key, n)}
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

// manifest returns version n's manifest of a site (n < 0: the current
// one).
func (s *server) manifest(t *testing.T, key string, n int64) api.Manifest {
	t.Helper()
	m, err := s.tryManifest(key, n)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *server) tryManifest(key string, n int64) (api.Manifest, error) {
	path := "/v1/model?site=" + key
	if n >= 0 {
		path += fmt.Sprintf("&version=%d", n)
	}
	var m api.Manifest
	b, err := s.get(path)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	return m, err
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

// waitManifest polls a site's current manifest until done holds of it,
// failing the test after 30 seconds (what says what it waits for).
func (s *server) waitManifest(t *testing.T, key, what string, done func(api.Manifest) bool) api.Manifest {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := s.tryManifest(key, -1)
		if err == nil && done(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of %s not published in time (last: v%d, %d deltas, %v)", what, key, m.Version, m.Deltas, err)
		}
		time.Sleep(10 * time.Millisecond)
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
