package api_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

const origin = "https://shop.example"

// The credentials of the tests: the admin's, and the demo site owner's.
const (
	adminToken = "admin-token-of-the-tests-0000000000000000"
	ownerToken = "owner-token-of-the-demo-site-000000000000"
)

// asAdmin and asOwner are the headers that carry the credentials.
var (
	asAdmin = []string{"Authorization", "Bearer " + adminToken}
	asOwner = []string{"Authorization", "Bearer " + ownerToken}
)

// stack is a whole server on loopback: bbolt store, aggregator, API.
type stack struct {
	url   string
	store *bolt.DB
	agg   *publish.Aggregator
	srv   *api.Server
	c     *http.Client
}

// siteKey is the key of the tests' federated site.
const siteKey = "demo"

// testSites are the sites of the tests: demo (federated), ldp, local.
func testSites(t testing.TB) *site.Set {
	t.Helper()
	set, err := site.NewSet(shopSite(),
		site.Site{Key: "ldp", Origins: []string{origin}, Privacy: wire.PrivacyLDP, Epsilon: 2},
		site.Site{Key: "kiosk", Origins: []string{"https://kiosk.example"}, Privacy: wire.PrivacyLocal})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// shopSite is the tests' federated site, siteKey: a shop at origin with
// a 20% holdout, an owner, refills and a segment rule.
func shopSite() site.Site {
	owner, _ := hex.DecodeString(site.HashToken(ownerToken))
	return site.Site{Key: siteKey, Origins: []string{origin}, Privacy: wire.PrivacyFederated, Holdout: 0.2, Explore: 0.05,
		OwnerHash: owner, Replenish: map[string]uint16{"coffee-beans": 21}, Rules: []wire.Rule{{ID: "evening", Segment: "evening shopper",
			If:   []wire.Cond{{Field: "viewed.category", Op: wire.OpIn, Values: []string{"evening-gowns"}}},
			Then: wire.Action{Do: wire.DoBoost, Categories: []string{"clutches"}, Weight: 1}}}}
}

type stackConfig struct {
	sites  *site.Set
	params aggregate.Params
	every  int
	opts   []api.Option
}

// newStack starts a server over a new store; it is closed with the test.
func newStack(t testing.TB, cfg stackConfig) *stack {
	t.Helper()
	if cfg.sites == nil {
		cfg.sites = testSites(t)
	}
	if cfg.params == (aggregate.Params{}) {
		cfg.params = aggregate.DefaultParams
		cfg.params.MinCohort = 1
	}
	if cfg.every == 0 {
		cfg.every = 1 << 30
	}
	opts := append([]api.Option{api.WithAdminToken(adminToken), api.WithStatsRelease(1, 0)}, cfg.opts...)
	st := stacktest.Start(t, cfg.sites, cfg.params, cfg.every, opts...)
	s := &stack{url: st.URL, store: st.DB, agg: st.Agg, srv: st.API,
		c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.Cleanup(s.c.CloseIdleConnections)
	return s
}

var deltaIDs atomic.Uint64

// newDelta returns a valid delta of the demo site with a fresh id.
func newDelta() wire.Delta {
	d := wire.Delta{Site: siteKey, Pairs: []wire.Pair{{From: "evening-gowns-1", To: "metallic-heels-1", W: 1}},
		Items: []wire.Count{{ID: "evening-gowns-1", N: 1}, {ID: "metallic-heels-1", N: 1}},
		Arms:  []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 10, Clicks: 2, Exposed: true}, {Arm: wire.ArmHoldout, Impressions: 10, Clicks: 1, Exposed: true}}}
	n := deltaIDs.Add(1)
	copy(d.ID[:], fmt.Sprintf("t%015d", n))
	return d
}

// response is a decoded API response.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request and reads the whole response; the API sets no
// cookie.
func (s *stack) do(t testing.TB, method, path string, body io.Reader, header ...string) *response {
	t.Helper()
	res, b := stacktest.Do(t, s.c, method, s.url+path, body, header...)
	if c := res.Header.Get("Set-Cookie"); c != "" {
		t.Errorf("%s %s set a cookie: %q", method, path, c)
	}
	return &response{code: res.StatusCode, header: res.Header, body: b}
}

// sync posts an encoded delta.
func (s *stack) sync(t testing.TB, body []byte, header ...string) *response {
	t.Helper()
	return s.do(t, http.MethodPost, "/v1/sync", bytes.NewReader(body), append([]string{"Content-Type", "application/msgpack"}, header...)...)
}

// stored returns how many deltas the store holds for a site.
func (s *stack) stored(t testing.TB, key string) int {
	t.Helper()
	ds, err := s.store.Deltas(context.Background(), key, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

// flush publishes what is pending and returns the current version.
func (s *stack) flush(t testing.TB) store.Version {
	t.Helper()
	if err := s.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, _ := s.agg.Current(siteKey)
	return v
}
