//go:build !wasip1

// Package large measures in Chromium what a visitor downloads of the
// model per page view on the demo store selling a 40,000-item synthetic
// catalogue (issue 12: a first page view <= 64 KB of model, each later one
// <= 16 KB on average). It runs its own demo server (tailor-demo
// --catalog-size), apart from demo-site/e2e's, whose seeding of the
// demo's own catalogue it does not need. Without Chromium it skips.
package large

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browserget"
	"github.com/tailorhq/tailor/internal/browsertest"
	"github.com/tailorhq/tailor/internal/serverproc"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// The demo this test runs: its catalogue, and the simulated shoppers
// (demo-site/sim.Large, ~5.5 deltas each through POST /v1/sync) whose
// deltas make its model: as many as keep the seeding within ~30 s on two
// busy cores (a model of 256 shards, as DIGINETICA's at 4 KiB a
// shard), unless $TAILOR_LARGE_SHOPPERS says (make bench: 100,000, a
// model with neighbours for about half the catalogue, 1,024 shards, the
// most there are: its manifest alone is ~18 KB brotli, the first page
// view ~53 KB). $TAILOR_LARGE_ARGS adds
// flags of tailor-demo (the server's: -shard-bytes, -head-items, ...).
const (
	catalogSize     = 40_000
	defaultShoppers = 20_000
)

// shoppers returns how many simulated shoppers seed the model.
func shoppers(t *testing.T) int {
	s := os.Getenv("TAILOR_LARGE_SHOPPERS")
	if s == "" {
		return defaultShoppers
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("TAILOR_LARGE_SHOPPERS=%q: want a number of shoppers", s)
	}
	return n
}

// The targets of issue 12, in bytes of model (manifest, configuration,
// shards) downloaded: response bodies as encoded (brotli).
const (
	firstTarget = 64 << 10
	laterTarget = 16 << 10
)

// recorder runs before the page's scripts in every document: it keeps
// every resource timing entry (the default buffer holds 250) and each
// tailor:ranked event.
const recorder = `(() => {
	performance.setResourceTimingBufferSize(10000);
	const t = window.__t = { ranked: [] };
	document.addEventListener("tailor:ranked", (e) => t.ranked.push({ slot: e.detail.slot, arm: e.detail.arm }));
})();`

// transfer is what a page view downloaded of the model, from its resource
// timing entries: transferSize (headers and encoded body, 0 from the HTTP
// cache) and encodedBodySize, per part.
type transfer struct {
	Manifest, Config, Shards float64  // transferSize
	Body                     float64  // encodedBodySize of all three
	ShardsFetched, FromCache int      // shard responses: transferred, answered by the HTTP cache
	IDs                      []string // the page's items: its [data-tailor-item] elements
	ModelShown               int      // items of the page's slot placed by the model's neighbours
	Path                     string
}

func (x transfer) total() float64 { return x.Manifest + x.Config + x.Shards }

// TestModelBytesPerPage runs the demo with a 40,000-item catalogue and a
// model learned from simulated shoppers, then a fresh Chromium (an empty
// HTTP cache: a new visitor) opens the home page and follows links as a
// visitor would: five product pages from "You may also like", the
// category's listing from the product's breadcrumb, a product of the
// listing and two more product pages. Each page view's model bytes are
// the bodies the browser downloaded for the manifest, the configuration
// and the shards (resource timing encodedBodySize of the responses not
// answered by the cache; transferSize, with headers, is logged too). It
// asserts issue 12's targets on the first page view and on the mean of
// the later ones; sizes, not times. And the model was used: the
// visitor's product pages show items placed by its neighbours.
func TestModelBytesPerPage(t *testing.T) {
	if why := browsertest.Missing(); why != "" {
		t.Skip(why)
	}
	root := harnesstest.Root(t)
	made := time.Now()
	if err := serverproc.MakeDist(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	t.Logf("make -s wasm loader assets: %.1f s", time.Since(made).Seconds())
	n := shoppers(t)
	// A bound for a busy machine, not a speed test: 4 minutes, and 2 ms
	// a shopper (~1,000 deltas/s).
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute+time.Duration(n)*2*time.Millisecond)
	defer cancel()
	began := time.Now()
	d, err := serverproc.StartDemo(ctx, serverproc.DemoConfig{Root: root, Shoppers: n,
		// One version at the end of the seeding, not one per 1,000 deltas.
		Args: append([]string{"--catalog-size", strconv.Itoa(catalogSize), "--publish-every", "10000000"}, strings.Fields(os.Getenv("TAILOR_LARGE_ARGS"))...)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Stop(); err != nil {
			t.Errorf("stopping the demo: %v", err)
		}
		if t.Failed() {
			t.Logf("the demo's last log lines:\n%s", d.Tail(30))
		}
	}()
	t.Logf("demo started in %.1f s: %s", time.Since(began).Seconds(), seeding(d.Logs(), n))
	m, err := describeModel(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("model: %s", m)

	var tb *browsertest.Tab
	visited := map[string]bool{}
	var pages []transfer
	view := func(slot string) {
		t.Helper()
		tb.Wait(fmt.Sprintf(`performance.getEntriesByName("tailor:shards").length > 0 && __t.ranked.some(r => r.slot == %q)`, slot))
		x := browsertest.Eval[transfer](tb, fmt.Sprintf(`(() => {
			const x = { manifest: 0, config: 0, shards: 0, body: 0, shardsFetched: 0, fromCache: 0, path: location.pathname + location.search };
			for (const e of performance.getEntriesByType("resource")) {
				const u = new URL(e.name);
				const part = u.pathname == "/v1/model" ? "manifest" : u.pathname.startsWith("/v1/config/") ? "config" : u.pathname.startsWith("/v1/shards/") ? "shards" : "";
				if (!part) continue;
				x[part] += e.transferSize;
				x.body += e.transferSize ? e.encodedBodySize : 0;
				if (part == "shards") e.transferSize ? x.shardsFetched++ : x.fromCache++;
			}
			x.ids = [...new Set([...document.querySelectorAll("[data-tailor-item]")].map(e => e.dataset.tailorItem))];
			x.modelShown = [...document.querySelectorAll('[data-tailor-slot=%q] [data-tailor-item]')]
				.filter(e => e.checkVisibility() && e.dataset.tailorSource == "model" && e.dataset.tailorRef).length;
			return x;
		})()`, slot))
		visited[strings.TrimPrefix(x.Path, "/p/")] = true
		pages = append(pages, x)
		all, past := m.shardsOf(x.IDs)
		t.Logf("page %2d %-22s model %6.0f B (manifest %5.0f, config %4.0f, shards %6.0f: %2d fetched, %2d from the cache; bodies %6.0f B); %2d items on the page in %d shards, %d of them outside the head's; %d shown from the model's neighbours",
			len(pages), x.Path, x.total(), x.Manifest, x.Config, x.Shards, x.ShardsFetched, x.FromCache, x.Body, len(x.IDs), all, past, x.ModelShown)
	}
	// follow clicks an item shown in slot that this visitor has not seen
	// yet, as a visitor following a link, and waits for its page: the
	// first such item, and the last one the next time (a visitor does
	// not only take the first recommendation: on a product page, the
	// first is the next product of its line, whose neighbours the page
	// mostly showed already).
	clicks := 0
	follow := func(slot, next string) {
		t.Helper()
		clicks++
		id := browsertest.Eval[string](tb, fmt.Sprintf(`(() => {
			const seen = new Set(%s);
			const shown = [...document.querySelectorAll('[data-tailor-slot=%q] [data-tailor-item]')].filter(e => e.checkVisibility() && !seen.has(e.dataset.tailorItem));
			const e = %t ? shown.at(-1) : shown[0];
			return e ? e.dataset.tailorItem : "";
		})()`, jsSet(visited), slot, clicks%2 == 0))
		if id == "" {
			// Every item shown was visited: the visitor goes back to one.
			id = browsertest.Eval[string](tb, fmt.Sprintf(`[...document.querySelectorAll('[data-tailor-slot=%q] [data-tailor-item]')].find(e => e.checkVisibility())?.dataset.tailorItem || ""`, slot))
			if id == "" {
				t.Fatalf("%s: no item shown in %s", pages[len(pages)-1].Path, slot)
			}
			t.Logf("%s: every item shown in %s was visited: back to %s", pages[len(pages)-1].Path, slot, id)
		}
		tb.Click(fmt.Sprintf(`[data-tailor-slot=%q] [data-tailor-item=%q]`, slot, id))
		tb.Wait(fmt.Sprintf(`location.pathname == "/p/%s" && document.readyState == "complete"`, id))
		view(next)
	}

	start := time.Now()
	// A new visitor is drawn into the site's holdout (5% of the demo's
	// devices, ranked in the store's default order, without the model's
	// neighbours) on their first ranking: this one is let go and another
	// one comes, with a fresh browser.
	for try := 1; ; try++ {
		tb = browsertest.New(t, browsertest.WithWindowSize(1200, 900), browsertest.WithScripts(recorder))
		tb.Open(d.URL + "/")
		tb.Wait(`__t.ranked.some(r => r.slot == "home-recs")`)
		if arm := browsertest.Eval[string](tb, `__t.ranked.find(r => r.slot == "home-recs").arm`); arm != "holdout" || try == 5 {
			break
		}
		t.Logf("visitor %d was drawn into the holdout: another visitor comes", try)
		tb.Close()
	}
	view("home-recs")
	follow("home-recs", "also-like")
	for range 4 {
		follow("also-like", "also-like")
	}
	crumb := browsertest.Eval[string](tb, `document.querySelector(".crumb a").getAttribute("href")`)
	tb.Click(".crumb a")
	tb.Wait(fmt.Sprintf(`location.pathname == %q && document.readyState == "complete"`, crumb))
	view("listing")
	follow("listing", "also-like")
	for range 3 {
		follow("also-like", "also-like")
	}
	browse := time.Since(start)

	// The figures are body bytes (brotli: Chromium accepts it on
	// http://127.0.0.1 too); on the wire, each response adds ~300 B of
	// headers on HTTP/1.1.
	first, firstWire := pages[0].Body, pages[0].total()
	var later []float64
	sum, sumWire, shown := 0.0, 0.0, 0
	for _, x := range pages[1:] {
		later = append(later, x.Body)
		sum += x.Body
		sumWire += x.total()
	}
	for _, x := range pages {
		shown += x.ModelShown
	}
	mean, meanWire := sum/float64(len(later)), sumWire/float64(len(later))
	t.Logf("model bytes per page view (bodies): first %.0f B (target <= %d), later mean %.0f B over %d pages (target <= %d): %v; transferred with headers: first %.0f B, later mean %.0f B; %d items shown from the model's neighbours; %d page views in %.1f s",
		first, firstTarget, mean, len(later), laterTarget, later, firstWire, meanWire, shown, len(pages), browse.Seconds())
	// The line build/cmd/bench reads.
	t.Logf("BENCH large-catalog first-B=%.0f later-B=%.0f pages=%d first-wire-B=%.0f later-wire-B=%.0f", first, mean, len(later), firstWire, meanWire)
	if first > firstTarget {
		t.Errorf("the first page view downloaded %.0f B of model, over the target's %d", first, firstTarget)
	}
	if shown == 0 {
		t.Error("no page showed an item placed by the model's neighbours: were its shards applied?")
	}
	if mean > laterTarget {
		t.Errorf("the later page views downloaded %.0f B of model on average, over the target's %d", mean, laterTarget)
	}
	if !tb.T().Failed() {
		tb.NoErrors()
	}
}

// seeding returns what the demo logged of its seeding.
func seeding(logs string, shoppers int) string {
	for _, line := range strings.Split(logs, "\n") {
		var r struct {
			Msg             string
			Took, Posting   time.Duration // slog's JSON: nanoseconds
			Deltas, Version int
		}
		if json.Unmarshal([]byte(line), &r) == nil && r.Msg == "seeded the demo model" {
			return fmt.Sprintf("%d shoppers' %d deltas posted through POST /v1/sync in %.1f s, version %d published, %.1f s in all",
				shoppers, r.Deltas, r.Posting.Seconds(), r.Version, r.Took.Seconds())
		}
	}
	return "no seeding logged"
}

// model describes the published model: its layout and how much of the
// catalogue it covers.
type model struct {
	shards, head, items, withNext, neighbours int
	raw, br, headBr, manifest, manifestBr     int
	inHead                                    map[string]bool // the head shard's items
}

// shardsOf returns how many shards by item hold ids (wire.ShardOf, as the
// loader fetches them), and how many of them hold ids outside the head:
// the shards a loader that knew the head's items would fetch.
func (m model) shardsOf(ids []string) (all, past int) {
	a, p := map[int]bool{}, map[int]bool{}
	for _, id := range ids {
		i := wire.ShardOf(id, m.shards)
		a[i] = true
		if !m.inHead[id] {
			p[i] = true
		}
	}
	return len(a), len(p)
}

func (m model) String() string {
	return fmt.Sprintf("%d shards by item + %d head (%d B brotli), %d B decoded, %d B brotli in all; %d items, %d with neighbours (%.0f%% of the catalogue, %.1f neighbours each); manifest %d B, %d B brotli (%.1f B a shard)",
		m.shards, m.head, m.headBr, m.raw, m.br, m.items, m.withNext, 100*float64(m.withNext)/catalogSize, float64(m.neighbours)/float64(max(1, m.withNext)), m.manifest, m.manifestBr, float64(m.manifestBr)/float64(max(1, m.shards+m.head)))
}

// describeModel reads the demo's published model as a browser would
// download it (brotli-encoded, as Chromium accepts it), whole.
func describeModel(base string) (model, error) {
	ctx, c := context.Background(), http.DefaultClient
	m := model{inHead: map[string]bool{}}
	var man api.Manifest
	b, br, err := browserget.Get(ctx, c, base+"/v1/model?site=demo")
	if err != nil {
		return m, err
	}
	m.manifest, m.manifestBr = len(b), br
	if err := json.Unmarshal(b, &man); err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	m.shards = man.ShardCount
	for _, s := range man.Shards {
		b, br, err := browserget.Get(ctx, c, base+s.URL)
		if err != nil {
			return m, err
		}
		var w wire.Weights
		if err := wire.Unmarshal(b, &w, "weights"); err != nil {
			return m, fmt.Errorf("shard %s: %w", s.URL, err)
		}
		m.raw, m.br = m.raw+len(b), m.br+br
		if s.Head {
			m.head++
			m.headBr += br
		}
		for _, it := range w.Items {
			m.items++
			m.inHead[it.ID] = s.Head
			if len(it.Next) > 0 {
				m.withNext++
				m.neighbours += len(it.Next)
			}
		}
	}
	return m, nil
}

// jsSet returns the keys of set as a JavaScript array literal.
func jsSet(set map[string]bool) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	b, _ := json.Marshal(keys)
	return string(b)
}
