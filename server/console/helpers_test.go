package console_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/console"
	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

// The credentials of the tests.
const (
	adminToken = "admin-token-of-the-console-tests-0000000"
	shopToken  = "owner-token-of-the-shop-000000000000000000"
	otherToken = "owner-token-of-the-other-site-000000000000"
)

func hashOf(t testing.TB, token string) []byte {
	b, err := hex.DecodeString(site.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testSites are two federated sites, each with its owner.
func testSites(t testing.TB) *site.Set {
	t.Helper()
	set, err := site.NewSet(
		site.Site{Key: "shop", Origins: []string{"https://shop.example"}, Privacy: wire.PrivacyFederated, Holdout: 0.1, OwnerHash: hashOf(t, shopToken)},
		site.Site{Key: "other", Origins: []string{"https://other.example"}, Privacy: wire.PrivacyFederated, Holdout: 0.1, OwnerHash: hashOf(t, otherToken)})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// stack is the server as tailor-server composes it: store, levers,
// aggregator paused by them, API pinned by them, console mounted in it.
type stack struct {
	url    string
	db     *bolt.DB
	agg    *publish.Aggregator
	api    *api.Server
	levers *console.Levers
	reg    *console.Registry
	c      *http.Client // with a cookie jar: a browser
}

type stackConfig struct {
	path     string // of the store; "": a new one
	opts     []console.Option
	released func(string) (map[uint32]aggregate.Arms, uint64, time.Time, error) // nil: the API's
	live     bool                                                               // sites added are served at once (Registry.OnAdd), as tailor-server does
}

func newStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	db := stacktest.Open(t, cfg.path)
	sites := testSites(t)
	levers := console.NewLevers(db, 0, nil) // no cache: the tests see each change at once
	registry := console.NewRegistry(db, sites, levers, nil)
	if err := registry.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := aggregate.DefaultParams
	p.MinCohort, p.PairShare, p.PairCohort = 1, 0, 1
	agg := stacktest.Aggregate(t, db, sites, publish.WithParams(p), publish.WithPublishEvery(1<<30, time.Hour),
		publish.WithPaused(levers.Paused), publish.WithSiteConfig(levers.SiteConfig))
	s := &stack{db: db, agg: agg, levers: levers, reg: registry, c: stacktest.NewBrowser()}
	if cfg.live {
		registry.OnAdd(agg.AddSite)
	}
	released := cfg.released
	if released == nil {
		released = func(key string) (map[uint32]aggregate.Arms, uint64, time.Time, error) { return s.api.Released(key) }
	}
	opts := append([]console.Option{console.WithAdminToken(adminToken), console.WithSignInDelay(time.Millisecond), console.WithRegistry(registry),
		console.WithReleased(released), console.WithSyncCounts(func(key string) map[string]uint64 { return s.api.SyncCounts(key) }),
		console.WithSyncHours(func(key string) []api.HourSyncs { return s.api.SyncHours(key) })},
		cfg.opts...)
	con, err := console.New(db, agg, sites, levers, opts...)
	if err != nil {
		t.Fatal(err)
	}
	s.api = stacktest.Serve(t, db, agg, sites, api.WithAdminToken(adminToken), api.WithStatsRelease(1, 0),
		api.WithPin(levers.Pin), api.WithConsole(con))
	s.url = s.api.URL()
	return s
}

// response is a read response.
type response struct {
	code   int
	header http.Header
	body   string
}

func (s *stack) do(t *testing.T, method, path string, form url.Values, header ...string) *response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		header = append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
	}
	res, b := stacktest.Do(t, s.c, method, s.url+path, body, header...)
	return &response{code: res.StatusCode, header: res.Header, body: string(b)}
}

// csrf returns the CSRF token of a page's forms.
func csrf(t *testing.T, page *response) string {
	t.Helper()
	token, ok := stacktest.FormToken(page.body)
	if !ok {
		t.Fatalf("no CSRF field in the page (%d):\n%s", page.code, page.body)
	}
	return token
}

// field returns the first group of re in a page, which must have it.
func field(t *testing.T, re *regexp.Regexp, what string, page *response) string {
	t.Helper()
	m := re.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no %s in the page (%d):\n%s", what, page.code, page.body)
	}
	return m[1]
}

// submit posts fields (nil: none) to action as the form of the page at
// path would, with that page's CSRF token, as a browser does.
func (s *stack) submit(t *testing.T, path, action string, fields url.Values) *response {
	t.Helper()
	res, b := stacktest.Submit(t, s.c, s.url+path, s.url+action, fields)
	return &response{code: res.StatusCode, header: res.Header, body: string(b)}
}

// signIn signs the stack's browser in with a token.
func (s *stack) signIn(t *testing.T, token string) *response {
	t.Helper()
	return s.submit(t, "/console", "/console/signin", url.Values{"token": {token}})
}

// lever pulls a lever from the levers page's form.
func (s *stack) lever(t *testing.T, key, lever string, fields url.Values) *response {
	t.Helper()
	return s.submit(t, "/console/sites/"+key+"/levers", "/console/sites/"+key+"/levers/"+lever, fields)
}

var deltaN int

// appendDeltas stores n deltas of a site received at, each with a pair
// a → b and the given arm counts.
func (s *stack) appendDeltas(t *testing.T, key string, n int, at time.Time, a, b string, arms ...wire.ArmCount) {
	t.Helper()
	for range n {
		deltaN++
		d := wire.Delta{Site: key, Pairs: []wire.Pair{{From: a, To: b, W: 1}}, Items: []wire.Count{{ID: a, N: 1}, {ID: b, N: 1}}, Arms: arms}
		copy(d.ID[:], fmt.Sprintf("c%015d", deltaN))
		if _, err := s.db.Append(context.Background(), store.Delta{Site: key, ID: d.ID, Received: at, Body: wire.Marshal(&d)}); err != nil {
			t.Fatal(err)
		}
	}
}

// cookie returns a response's Set-Cookie of a name.
func cookie(res *response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// browser returns the stack with another browser: a cookie jar of its own.
func (s *stack) browser() *stack {
	b := *s
	b.c = stacktest.NewBrowser()
	return &b
}
