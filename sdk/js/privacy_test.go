//go:build !wasip1

package jstest

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tailorhq/tailor/sdk/wire"
)

// gpcOn turns Global Privacy Control on in every document.
const gpcOn = `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true, configurable: true});`

// idbRead is JavaScript that resolves with what a request on Tailor's
// IndexedDB object store answers (ask(store) makes the request), through
// then; with 0 when the database or its store does not exist, which it
// does not create.
func idbRead(ask, then string) string {
	return `new Promise(done => {
	const q = indexedDB.open("tailor");
	q.onupgradeneeded = () => q.transaction.abort();
	q.onerror = () => done(0);
	q.onsuccess = () => {
		const db = q.result;
		if (!db.objectStoreNames.contains("kv")) return db.close(), done(0);
		const r = (` + ask + `)(db.transaction("kv").objectStore("kv"));
		r.onsuccess = () => (db.close(), done((` + then + `)(r.result)));
	};
})`
}

var (
	// idbRecords counts the records Tailor keeps in IndexedDB.
	idbRecords = idbRead(`s => s.count()`, `n => n`)
	// idbSavedAt is when Tailor last saved a record (its t, in ms since
	// the epoch; 0 for none).
	idbSavedAt = idbRead(`s => s.getAll()`, `rs => Math.max(0, ...rs.map(r => r.t || 0))`)
)

// clickSaved clicks what selector finds and waits until Tailor saved a
// record since, in the page's clock (Date.now()).
func (tb *tab) clickSaved(selector string) {
	tb.T().Helper()
	at := eval[float64](tb, `Date.now()`)
	tb.Click(selector)
	tb.Wait(idbSavedAt + `.then(t => t >= ` + strconv.FormatFloat(at, 'f', 0, 64) + `)`)
}

// checkRequests fails the test for any request of the page other than
// its own files and what Tailor may ask for: the manifest, the site's
// configuration and shards, tailor.wasm, the lazily loaded chunks
// (profile() loads its details'), and /v1/sync when sync is allowed.
func checkRequests(t *testing.T, tb *tab, srv *server, syncAllowed bool) {
	t.Helper()
	for _, r := range tb.Requests() {
		method, raw, _ := strings.Cut(r, " ")
		u, err := url.Parse(raw)
		if err != nil || u.Host != strings.TrimPrefix(srv.URL, "http://") {
			t.Errorf("request outside the test server: %s", r)
			continue
		}
		p := u.Path
		switch {
		case method == "GET" && (p == "/store" || p == "/product" || p == "/frame" || strings.HasPrefix(p, "/t/")):
		case method == "GET" && p == "/tailor.js":
		case method == "GET" && p == "/v1/model" && u.RawQuery == "site=test":
		case method == "GET" && (strings.HasPrefix(p, "/v1/config/") || strings.HasPrefix(p, "/v1/shards/")):
		case method == "GET" && (p == "/tailor.wasm" || strings.HasPrefix(p, "/assets/tailor.") && strings.HasSuffix(p, ".wasm")):
		case method == "GET" && (strings.HasPrefix(p, "/assets/tailor-extra.") || strings.HasPrefix(p, "/assets/tailor-details.")) && strings.HasSuffix(p, ".js"):
		case method == "POST" && p == "/v1/sync" && syncAllowed:
		default:
			t.Errorf("unexpected request: %s", r)
		}
	}
	for _, r := range srv.requests() {
		if r.Method == "OPTIONS" {
			t.Errorf("a CORS preflight was sent: %+v", r)
		}
		if r.Path == "/v1/sync" && !syncAllowed {
			t.Errorf("a sync was sent: %+v", r)
		}
	}
}

// visitAndLeave opens the store, clicks the watches ids, waits for the
// re-ranking, checks that the page reports sync as wantSync, and leaves
// the page (pagehide).
func visitAndLeave(t *testing.T, tb *tab, srv *server, wantSync bool, ids ...string) {
	t.Helper()
	tb.load(srv.URL+"/store", "recs")
	// Each click re-ranks the slot, so a click by coordinates can land
	// where its item no longer is: click the element itself, and wait until
	// the device holds it, before the next and before leaving.
	for _, id := range ids {
		eval[bool](tb, `(document.querySelector('#recs [data-tailor-item="`+id+`"]').click(), true)`)
		tb.Wait(`tailor.profile().then(p => (p.session || []).some(e => e.item == '` + id + `'))`)
	}
	tb.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory == 'running-watches'`)
	if got := eval[bool](tb, `tailor.profile().then(p => p.sync)`); got != wantSync {
		t.Errorf("profile().sync = %v, want %v", got, wantSync)
	}
	tb.NoErrors()
	tb.Open("about:blank")
}

// waitSyncs waits up to d for at least n deltas at the server.
func waitSyncs(srv *server, n int, d time.Duration) []wire.Delta {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if s := srv.synced(); len(s) >= n {
			return s
		}
	}
	return srv.synced()
}

func TestSyncSendsDeltaOnPagehide(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	visitAndLeave(t, tb, srv, true, "w1", "w2", "w3") // a block: the delta sends its pairs
	ds := waitSyncs(srv, 1, 5*time.Second)
	if len(ds) != 1 {
		t.Fatalf("%d deltas synced after pagehide, want 1", len(ds))
	}
	d := ds[0]
	if d.Site != "test" || d.Model != wire.EpochOf(1) {
		t.Errorf("delta of site %q, model %d; want test, %d (version 1's epoch)", d.Site, d.Model, wire.EpochOf(1))
	}
	if len(d.Items) != 0 {
		t.Errorf("delta items %v: a delta names items through its pairs", d.Items)
	}
	if len(d.Pairs) != 3 || !slices.ContainsFunc(d.Pairs, func(p wire.Pair) bool { return p.From == "w1" && p.To == "w2" || p.From == "w2" && p.To == "w1" }) {
		t.Errorf("delta pairs %+v: want the 3 of w1, w2, w3, one of w1 and w2", d.Pairs)
	}
	for _, r := range srv.requests() {
		if r.Path == "/v1/sync" && r.ContentType != "text/plain" {
			t.Errorf("sync sent as %q, want text/plain (no CORS preflight)", r.ContentType)
		}
	}
	checkRequests(t, tb, srv, true)
}

func TestNoSyncWithGlobalPrivacyControl(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t, gpcOn)
	visitAndLeave(t, tb, srv, false, "w1", "w2") // personalization still works: it waits for watches to lead
	if ds := waitSyncs(srv, 1, 1500*time.Millisecond); len(ds) != 0 {
		t.Errorf("%d deltas synced with Global Privacy Control on", len(ds))
	}
	checkRequests(t, tb, srv, false)
}

func TestNoSyncInLocalPrivacyMode(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyLocal})
	tb := newTab(t)
	visitAndLeave(t, tb, srv, false, "w1", "w2")
	if ds := waitSyncs(srv, 1, 1500*time.Millisecond); len(ds) != 0 {
		t.Errorf("%d deltas synced in local privacy mode", len(ds))
	}
	checkRequests(t, tb, srv, false)
}

func TestConsentRequired(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Attrs: ` data-consent="required"`})
	tb := newTab(t)
	tb.load(srv.URL + "/store")
	cold := tb.order("#recs")
	// Each click re-ranks the slot, so a click by coordinates can land
	// where its item no longer is: click the element itself, and wait until
	// the device holds it, before the next and before leaving.
	for _, id := range []string{"w1", "w2"} {
		eval[bool](tb, `(document.querySelector('#recs [data-tailor-item="`+id+`"]').click(), true)`)
		tb.Wait(`tailor.profile().then(p => (p.session || []).some(e => e.item == '` + id + `'))`)
	}
	tb.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory == 'running-watches'`)
	// The loader's save timer (1 s, set by the last ranking above) has run:
	// a page timer of 1 s set after it runs after it.
	eval[bool](tb, `new Promise(r => setTimeout(() => r(true), 1000))`)
	if n := eval[int](tb, idbRecords); n != 0 {
		t.Errorf("%d records stored before consent", n)
	}
	if s := eval[string](tb, `tailor.profile().then(p => p.storage)`); s != "memory" {
		t.Errorf("storage %q before consent, want memory", s)
	}
	tb.Open("about:blank")
	if ds := waitSyncs(srv, 1, 1500*time.Millisecond); len(ds) != 0 {
		t.Fatalf("%d deltas synced before consent", len(ds))
	}

	// Nothing was kept: the next page starts cold. Consent, then the
	// profile is stored and synced.
	tb.load(srv.URL + "/store")
	if got := tb.order("#recs"); !slices.Equal(got, cold) {
		t.Errorf("order after reload without consent %v, want the cold %v", got, cold)
	}
	eval[bool](tb, `(tailor.consent(true), true)`)
	tb.Click(`#recs [data-tailor-item="c1"]`)
	tb.Wait(idbRecords + `.then(n => n == 1)`)
	tb.NoErrors()
	tb.Open("about:blank")
	if ds := waitSyncs(srv, 1, 5*time.Second); len(ds) != 1 {
		t.Errorf("%d deltas synced after consent, want 1", len(ds))
	}
	checkRequests(t, tb, srv, true)
}

func TestManifestRevalidatedWithETag(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, ManifestNoCache: true})
	tb := newTab(t)
	for i := 0; i < 2; i++ {
		tb.load(srv.URL+"/store", "recs")
		if v := eval[int](tb, `__t.ranked[0].version`); v != 1 {
			t.Errorf("load %d ranked with model version %d, want 1", i, v)
		}
	}
	var models []request
	for _, r := range srv.requests() {
		if r.Path == "/v1/model" {
			models = append(models, r)
		}
		if strings.HasPrefix(r.Path, "/v1/shards/") && r.IfNoneMatch != "" {
			t.Errorf("an immutable shard was revalidated: %+v", r)
		}
	}
	if len(models) != 2 || models[0].Status != 200 || models[1].Status != 304 || models[1].IfNoneMatch == "" {
		t.Errorf("manifest requests %+v, want a 200 then a 304 answering If-None-Match", models)
	}
	tb.NoErrors()
}

func TestShardsOnlyForPageItems(t *testing.T) {
	const n = 64
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Shards: n, Head: true})
	tb := newTab(t)
	tb.load(srv.URL + "/store")
	want := map[int]bool{n: true} // the head shard, which every page fetches
	for _, id := range append(ids(products), ids(banners)...) {
		want[wire.ShardOf(id, n)] = true
	}
	index := map[string]int{}
	for i := 0; i <= n; i++ {
		// the test server numbers shard URLs in manifest order
		index[srv.shardURL(i)] = i
	}
	got := map[int]bool{}
	for _, r := range srv.requests() {
		if strings.HasPrefix(r.Path, "/v1/shards/") {
			got[index[r.Path]] = true
		}
	}
	if len(got) != len(want) {
		t.Errorf("fetched %d shards, want the head and the %d that hold the page's items", len(got), len(want)-1)
	}
	for i := range want {
		if !got[i] {
			t.Errorf("shard %d (an item of the page) was not fetched", i)
		}
	}
	tb.NoErrors()
}

// rememberedShards is the loader's REMEMBER (sdk/js/src/boot.js): how
// many items of the stored profile a page view requests the shards of.
const rememberedShards = 4

// TestShardsRevealFewRememberedItems is the attack on what shard requests
// reveal: whoever serves the model's shards (the operator, a CDN) logs,
// by address and time, every shard a page requests. A visitor whose
// stored profile remembers many items across many buckets (43 items in
// 43 shards of 1,024, as a 40,000-item catalogue's model has: 3 bought,
// then 40 viewed) opens a page with a few items on a cold HTTP cache (a
// new browser, or a new model version). Beyond the head and the shards of
// the page's own items, which the site's server sees anyway, the page
// must request at most rememberedShards shards of remembered items: those
// of the most recently viewed ones, which weigh most in the ranking.
// (Before the bound, that page requested all 43.)
func TestShardsRevealFewRememberedItems(t *testing.T) {
	const n = 1024
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Shards: n, Head: true})
	page := map[int]bool{n: true} // the head shard, which every page fetches
	for _, id := range append(ids(products), ids(banners)...) {
		page[wire.ShardOf(id, n)] = true
	}
	// Remembered items, each in a shard of its own, none the page's.
	used := maps.Clone(page)
	var bought, viewed []string
	for i := 0; len(bought)+len(viewed) < 43; i++ {
		id := "r" + strconv.Itoa(i)
		if s := wire.ShardOf(id, n); !used[s] {
			used[s] = true
			if len(bought) < 3 {
				bought = append(bought, id)
			} else {
				viewed = append(viewed, id)
			}
		}
	}
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	at := eval[float64](tb, `Date.now()`)
	list := func(ids []string) string { return `["` + strings.Join(ids, `","`) + `"]` }
	eval[bool](tb, `((bought, viewed) => {
		bought.forEach(id => tailor.track({kind: "purchase", item: {id, category: "c"}}));
		viewed.forEach(id => tailor.track({kind: "view", item: id}));
		return true;
	})(`+list(bought)+`, `+list(viewed)+`)`)
	tb.Wait(idbSavedAt + `.then(t => t >= ` + strconv.FormatFloat(at, 'f', 0, 64) + `)`)
	if got := eval[int](tb, `tailor.profile().then(p => p.session.length)`); got < len(viewed) {
		t.Fatalf("the profile's session holds %d items, want at least the %d viewed", got, len(viewed))
	}

	// The attack: on a cold HTTP cache (as in a fresh browser, with the
	// same IndexedDB) the store opens again; record every shard it requests.
	tb.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, network.ClearBrowserCache, cdp.Empty{})
		return chromedp.Void{}, err
	})
	before := len(srv.requests())
	tb.load(srv.URL+"/store", "recs")
	index := map[string]int{}
	for i := 0; i <= n; i++ {
		index[srv.shardURL(i)] = i // the test server numbers shard URLs in manifest order
	}
	got := map[int]bool{}
	for _, r := range srv.requests()[before:] {
		if strings.HasPrefix(r.Path, "/v1/shards/") {
			got[index[r.Path]] = true
		}
	}
	var remembered []int
	for s := range got {
		if !page[s] {
			remembered = append(remembered, s)
		}
	}
	slices.Sort(remembered)
	var want []int // the shards of the most recently viewed items
	for _, id := range viewed[len(viewed)-rememberedShards:] {
		want = append(want, wire.ShardOf(id, n))
	}
	slices.Sort(want)
	t.Logf("the page requested %d shards: the head, %d of its own items', %d of remembered items'",
		len(got), len(got)-len(remembered)-1, len(remembered))
	if len(remembered) > rememberedShards {
		t.Errorf("the page requested %d shards of remembered items, want at most %d", len(remembered), rememberedShards)
	}
	if !slices.Equal(remembered, want) {
		t.Errorf("shards of remembered items requested %v, want %v (the %d most recently viewed items')", remembered, want, rememberedShards)
	}
	for s := range page {
		if !got[s] {
			t.Errorf("shard %d (the head or a page item's) was not requested", s)
		}
	}
	tb.NoErrors()
}

// TestLDPReportsAndBudget: on a federated+ldp site the synced delta holds
// only ε-LDP reports, nothing in the clear, and profile() shows the day's
// budget and, on the next page, what the sync spent of it.
func TestLDPReportsAndBudget(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyLDP})
	tb := newTab(t)
	type budget struct{ Epsilon, Budget, Spent float64 }
	tb.load(srv.URL + "/store")
	if got := eval[budget](tb, `tailor.profile().then(p => p.ldp)`); got != (budget{1, 4, 0}) {
		t.Errorf("before a sync, profile().ldp = %+v, want ε 1 per delta, 4 per day, 0 spent", got)
	}
	visitAndLeave(t, tb, srv, true, "w1", "w2") // leaves two pages: two syncs
	ds := waitSyncs(srv, 2, 5*time.Second)
	if len(ds) != 2 {
		t.Fatalf("%d deltas synced after two pages, want 2", len(ds))
	}
	for _, d := range ds {
		if len(d.Pairs)+len(d.Items)+len(d.Arms) != 0 || len(d.Reports) == 0 || d.Epsilon != 1 {
			t.Errorf("LDP delta: pairs %v items %v arms %v reports %v eps %v; want reports only, ε 1",
				d.Pairs, d.Items, d.Arms, d.Reports, d.Epsilon)
		}
	}
	// The page left last saves its profile at pagehide, which a browser
	// may not finish: the next page sees at least the first sync's spend.
	tb.load(srv.URL + "/store")
	if got := eval[budget](tb, `tailor.profile().then(p => p.ldp)`); got.Epsilon != 1 || got.Budget != 4 || got.Spent < 1 || got.Spent > 2 {
		t.Errorf("after two syncs, profile().ldp = %+v, want 1 or 2 of 4 spent", got)
	}
}
