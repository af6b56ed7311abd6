package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

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
	sites, err := site.NewSet(demo)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "tailor.db"))
	if err != nil {
		t.Fatal(err)
	}
	agg, err := publish.New(db, sites, publish.WithParams(p), publish.WithPublishEvery(1000, 20*time.Millisecond))
	if err == nil {
		err = agg.Start(context.Background())
	}
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	srv, err := api.New(db, agg, sites)
	if err == nil {
		err = srv.Open("127.0.0.1:0")
	}
	if err != nil {
		agg.Close(context.Background())
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		agg.Close(context.Background())
		db.Close()
	})
	dl := &downloader{url: srv.URL(), key: demosite.Key, c: &http.Client{Timeout: 30 * time.Second}}

	cfg := demo.Config()
	deltas := make([][]byte, honest+k)
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err = pool.Run(context.Background(), len(deltas), func(in *harness.Instance, i int) error {
		_, d, err := visit(sim, in, cfg, i)
		deltas[i] = d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
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
