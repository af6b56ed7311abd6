//go:build !wasip1

package jstest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// shopPages is ../shared/pages (see its README): saved pages of real
// shops, read at test time, never copied into the repository.
const shopPages = "../../../shared/pages"

// scanned is what tailor.scan() returned on a page, how long it took
// (the first call, then the median and the fastest of scanRuns more: on a
// busy machine the fastest is the nearest to the scan's own cost), and the
// median of each phase of the scan (scan.js loaded on its own, scanRuns
// times). tailor.scan()'s first call is the page's second scan: the
// loader scanned it at boot. Own is the page's first scan, the one a
// page load pays (scan.js's code compiled, the page's elements read
// from JavaScript for the first time), timed on the page without the
// loader.
type scanned struct {
	Main  *scanItem
	Items []scanItem
	Grids []struct {
		Selector string
		Count    int
	}
	Events   []struct{ Kind, Item string }
	First    float64
	Own      float64
	Median   float64
	Fastest  float64
	Phases   scanPhases
	Elements int // the page's elements when scanned
	// Tiles are the grids' tile elements scan(document, els) gives, each
	// as "tag.classes #its place in its parent in tag.classes: its product
	// id" (not a place in the page: the pages' own scripts add elements).
	Tiles []string
}

// scanPhases is the median time in ms of each phase of a scan.
type scanPhases struct{ JSONLD, Microdata, DataLayer, Grids float64 }

func (p scanPhases) String() string {
	return fmt.Sprintf("JSON-LD %.1f, microdata %.1f, dataLayer %.1f, grids %.1f ms", p.JSONLD, p.Microdata, p.DataLayer, p.Grids)
}

// scanRuns is how many times a page is scanned after the first call.
const scanRuns = 7

type scanItem struct {
	ID, Name, Category string
	Price              float64
}

var (
	headEnd = regexp.MustCompile(`(?i)</head>`)
	charset = regexp.MustCompile(`(?i)<meta[^>]+charset`)
)

// shopServer serves the loader (newServer's handler), the scanner's
// source at /scan.js (an ES module of its own, for timing its phases) and
// each page of shopPages at /shop/<dir>/<file> with one thing added: the
// script tag, at the end of its <head>.
func shopServer(t *testing.T, s site) *httptest.Server {
	t.Helper()
	inner := newServer(t, s)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if serveScanner(w, r) {
			return
		}
		// ?bare serves the page as it is, for scanFirst.
		rest, ok := strings.CutPrefix(r.URL.Path, "/shop/")
		if !ok {
			inner.Config.Handler.ServeHTTP(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(shopPages, filepath.Dir(rest), filepath.Base(rest)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		// Byte offsets: some pages are not UTF-8 (they name their charset).
		tag := `<script src="` + srv.URL + `/tailor.js" data-site="test" async></script>`
		if r.URL.Query().Has("bare") {
			tag = ""
		}
		page := string(b)
		if loc := headEnd.FindStringIndex(page); loc != nil {
			page = page[:loc[0]] + tag + page[loc[0]:]
		} else {
			page = tag + page
		}
		ct := "text/html; charset=utf-8"
		if charset.MatchString(page[:min(len(page), 4096)]) {
			ct = "text/html"
		}
		w.Header().Set("Content-Type", ct)
		w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveScanner serves the scanner's source at /scan.js, an ES module of
// its own (it imports nothing) for scanPage to time its phases; it tells
// whether r asked for it.
func serveScanner(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/scan.js" {
		return false
	}
	w.Header().Set("Content-Type", "text/javascript")
	http.ServeFile(w, r, filepath.Join("src", "scan.js"))
	return true
}

// offline blocks every request off loopback: the saved pages name their
// shops' scripts, images and trackers, which must not be fetched (nor
// waited for).
func offline(tb *tab) {
	tb.T().Helper()
	tb.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
			{URLPattern: "http://127.0.0.1:*/*", Block: false},
			{URLPattern: "*://*:*/*", Block: true},
		}})
		return chromedp.Void{}, err
	})
}

// scanPage opens a page and calls tailor.scan() once Tailor is ready (on
// a page without Tailor's markup the loader has then loaded its chunk,
// which holds the scanner, and scanned the page once), then scanRuns
// times more, and times each phase of the scan with scan.js imported on
// its own (served at /scan.js). Not tb.Open, which waits for the load
// event: some pages' own scripts keep it from coming offline.
func scanPage(tb *tab, url string) (r scanned) {
	tb.T().Helper()
	tb.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url})
		return chromedp.Void{}, err
	})
	tb.Wait(`location.href == ` + strconv.Quote(url) + ` && document.readyState != 'loading' && window.tailor && window.tailor.scan`)
	defer dumpScan(tb.T(), url, &r)
	return eval[scanned](tb, `(async () => {
		const runs = `+strconv.Itoa(scanRuns)+`
		const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
		const time = (f) => { const t = performance.now(); const r = f(); return [performance.now() - t, r] }
		await tailor.ready
		let t = performance.now()
		const r = await tailor.scan()
		const first = performance.now() - t
		const all = []
		for (let i = 0; i < runs; i++) { t = performance.now(); await tailor.scan(); all.push(performance.now() - t) }
		// The phases, as scan() runs them (a page's <base> must not move
		// the module's URL).
		const m = await import(location.origin + '/scan.js')
		const ph = { jsonld: [], microdata: [], dataLayer: [], grids: [] }
		const els = new Map()
		m.scan(document, els)
		const at = (e) => e.localName + '.' + e.className + ' #' + [...e.parentElement.children].indexOf(e) + ' in ' + e.parentElement.localName + '.' + e.parentElement.className
		const tiles = [...els].map(([e, it]) => at(e) + ': ' + it.id)
		for (let i = 0; i < runs; i++) {
			m.at(document)
			const canon = m.canonical(document)
			const [a, main] = time(() => m.jsonld(document, canon))
			const [b] = time(() => m.microdata(document, canon))
			const [c] = time(() => m.layer(window.dataLayer, []))
			const [d] = time(() => m.tiles(document, main?.id))
			ph.jsonld.push(a), ph.microdata.push(b), ph.dataLayer.push(c), ph.grids.push(d)
		}
		return { ...r, tiles, first, fastest: Math.min(...all), median: med(all), elements: document.getElementsByTagName('*').length,
			phases: { JSONLD: med(ph.jsonld), Microdata: med(ph.microdata), DataLayer: med(ph.dataLayer), Grids: med(ph.grids) } }
	})()`)
}

// scanFirst opens the page at url without the loader and times its first
// scan as the loader's boot does it: once the document is parsed, by a
// scan.js module of its own (a URL no other page imports, so that its
// code is compiled for this page).
func scanFirst(tb *tab, url string) float64 {
	tb.T().Helper()
	bare := url + "?bare"
	tb.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: bare})
		return chromedp.Void{}, err
	})
	tb.Wait(`location.href == ` + strconv.Quote(bare) + ` && document.readyState != 'loading'`)
	return eval[float64](tb, `(async () => {
		const m = await import(location.origin + '/scan.js?' + encodeURIComponent(location.pathname))
		const t = performance.now()
		m.scan(document)
		return performance.now() - t
	})()`)
}

// dumpScan writes what scan() found on the page at url (main, items,
// grids, events and tile elements, no times) to $TAILOR_SCAN_DUMP/<page>.json
// when that variable names a directory: two runs' directories compare
// the scanner's output before and after a change, page by page.
func dumpScan(t testing.TB, url string, r *scanned) {
	t.Helper()
	dir := os.Getenv("TAILOR_SCAN_DUMP")
	if dir == "" {
		return
	}
	b, err := json.MarshalIndent(map[string]any{"main": r.Main, "items": r.Items, "grids": r.Grids, "events": r.Events, "tiles": r.Tiles}, "", " ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, strings.TrimSuffix(filepath.Base(url), ".html")+".json"), b, 0o644)
	}
	if err != nil {
		t.Error(err)
	}
}

// wantMain is each product page's main product as its markup names it,
// read by hand from the HTML, with why the id is not the SKU that
// product/truth.json annotated, where it is not.
var wantMain = map[string]struct {
	id    string
	price float64
	why   string
}{
	"3suisses-fr.html":          {"ontre-pro-trek-resine-noir-casio-montres-casio-304103-14347.html", 259, "microdata has no sku (productID is the mpn): the canonical path's last 64 characters, which end in the annotated 14347"},
	"ar-sa-namshi-com.html":     {"14448AT50HJP", 99, ""},
	"costco-com.html":           {"1275464", 329.99, ""}, // metascraper fixture: no truth
	"currys-ie.html":            {"10134622", 9.99, "JSON-LD sku is the catalogue number 10134622 (also in the URL); 141677 is the annotated on-page code"},
	"dom-1k-by.html":            {"/kitchenappliances-pots/taller/TalleR_TR_1047-1609583.html", 352, "JSON-LD has no sku: the canonical path, which holds 1609583"},
	"eduscho-at.html":           {"/massivholz-waschmaschinenregal-p400105394.html", 99.95, "JSON-LD (in a CDATA comment) has no sku: the canonical path, which holds 400105394"},
	"getit-co-il.html":          {"OPTIPLEX 9010 TOWER", 1679, "JSON-LD sku is the model; 144432 is its mpn"},
	"globalindustrial-com.html": {"work-benches/components/tops/60-x-24-maple-square-edge-bench-top", 0, ""},
	"gomaji-com.html":           {"/store/122725?pid=260591", 210, "JSON-LD has no sku: the canonical path with its pid, 260591"},
	"ikea-com.html":             {"002.937.72", 450, ""},
	"jossandmain-com.html":      {"J001109161", 98.99, ""},
	"jumbo-ch.html":             {"1049084", 19.5, ""},
	"k-rauta-ee.html":           {"763127", 978, ""},
	"kids-1k-by.html":           {"/mumsgoods-bagskangaroo/babybjorn/BabyBjorn_One-987929.html", 502.2, "JSON-LD has no sku: the canonical path, which holds 987929"},
	"mobly-com-br.html":         {"746423", 1759.99, ""},
	"overstock-com.html":        {"34092028", 31.49, ""},
	"potterybarn-com.html":      {"/products/tully-brass-sconce", 0, ""},
	"smartprix-com.html":        {"pd1hjfqnc2j", 2433, ""},
	"stockcenter-com-ar.html":   {"PU_106160/01", 0, ""}, // its offers give the price as an object: none read
	"vmzona-com.html":           {"amx1", 43.97, ""},
	"wayfair-com.html":          {"W005759888", 111.99, ""},
	"zalando-fi.html":           {"SU221U09P-E11", 74.95, ""},
	"zalando-ie.html":           {"VEI22G013-K11", 344, ""},
	"zara-com.html":             {"84518927-040-35", 69.95, "one Product per size, each with its own sku; 1002/710 is the annotated model reference"},
}

// wantTiles is each listing page's product tiles, counted by hand in the
// HTML, and what the id of a true tile looks like (a found tile whose id
// does not is a false one).
var wantTiles = map[string]struct {
	count int
	id    string
	note  string
}{
	"debijenkorf-nl-category.html":            {24, `^\d{15}$`, "24 li tiles; ids from data-sku (each tile also links to its brand)"},
	"infor-ingen-cl-category.html":            {9, `^/index\.php\?product_id=\d+$`, "9 tiles; the product is named in the query"},
	"inmykonos-com-category.html":             {15, `^/shop-in-mykonos/fashion/\d+-`, "15 tiles of shops (a directory, not products), no prices"},
	"mypapershop-com-category.html":           {24, `^/\d{6}/`, "24 tiles"},
	"rc-race-shop-de-featured.html":           {10, `-p-\d+\.html$`, "10 tiles, each with brand, wishlist and shipping links"},
	"taylormorriseyewear-com-collection.html": {16, `^/shop/[a-z0-9-]+$`, "15 grid tiles in rows of three and one recently-viewed tile alone in the sidebar"},
	"thefrumps-com-store.html":                {3, `^/gp/product/`, "3 tiles linking to another shop, no prices"},
}

// TestScanShops runs tailor.scan() on each saved shop page, as it is but
// for the script tag: the main product of every product page (id, name,
// price), the tiles of every listing page (at least 90% found, at most 5%
// false), no uncaught error from the loader. It logs the scan's time per
// page (the first call and the median of the next scanRuns calls; the
// loader has scanned once at boot; and the page's own first scan, on the
// page without the loader), p50/p95 over the pages, and the
// phases of the three slowest pages; it asserts no time (the machine may
// be busy).
func TestScanShops(t *testing.T) {
	if _, err := os.Stat(shopPages); err != nil {
		t.Skip("scan tests skipped: no ../shared/pages (saved shop pages) next to the checkout")
	}
	var tr map[string]struct{ Fields map[string][]string }
	if b, err := os.ReadFile(filepath.Join(shopPages, "product", "truth.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	srv := shopServer(t, site{})
	tb := newTab(t)
	offline(tb)
	type timed struct {
		page  string
		bytes int64
		r     scanned
	}
	var pages []timed
	for _, dir := range []string{"product", "listing"} {
		files, _ := filepath.Glob(filepath.Join(shopPages, dir, "*.html"))
		for _, f := range files {
			name := filepath.Base(f)
			t.Run(dir+"/"+name, func(t *testing.T) {
				defer tb.As(t)()
				own := scanFirst(tb, srv.URL+"/shop/"+dir+"/"+name)
				r := scanPage(tb, srv.URL+"/shop/"+dir+"/"+name)
				r.Own = own
				fi, _ := os.Stat(f)
				pages = append(pages, timed{dir + "/" + name, fi.Size(), r})
				t.Logf("%d bytes, %d elements: scan %.1f ms (fastest %.1f ms, first call %.1f ms, the page's first scan %.1f ms); %s", fi.Size(), r.Elements, r.Median, r.Fastest, r.First, r.Own, r.Phases)
				if dir == "product" {
					checkMain(t, name, r, tr[name].Fields)
				} else {
					checkTiles(t, name, r)
				}
				for _, e := range tb.Exceptions() {
					if strings.Contains(e, "/tailor.js") {
						t.Errorf("uncaught error from the loader: %s", e)
					}
				}
			})
		}
	}
	if len(pages) == 0 {
		return
	}
	var first, median, fastest, own []float64
	for _, p := range pages {
		first, median, fastest, own = append(first, p.r.First), append(median, p.r.Median), append(fastest, p.r.Fastest), append(own, p.r.Own)
	}
	t.Logf("tailor.scan() over %d pages, median of %d calls per page: p50 %.1f ms p95 %.1f ms max %.1f ms; fastest of the %d p50 %.1f ms p95 %.1f ms; first call p50 %.1f ms p95 %.1f ms max %.1f ms; the page's first scan p50 %.1f ms p95 %.1f ms max %.1f ms",
		len(pages), scanRuns, pct(median, 50), pct(median, 95), pct(median, 100), scanRuns, pct(fastest, 50), pct(fastest, 95), pct(first, 50), pct(first, 95), pct(first, 100), pct(own, 50), pct(own, 95), pct(own, 100))
	slices.SortFunc(pages, func(a, b timed) int { return cmp.Compare(b.r.Median, a.r.Median) })
	for _, p := range pages[:min(3, len(pages))] {
		t.Logf("slow: %s (%d bytes, %d elements) %.1f ms: %s", p.page, p.bytes, p.r.Elements, p.r.Median, p.r.Phases)
	}
}

func checkMain(t *testing.T, name string, r scanned, truth map[string][]string) {
	t.Helper()
	want, ok := wantMain[name]
	if !ok {
		t.Fatalf("%s: no expected main product written in the test", name)
	}
	if r.Main == nil {
		t.Fatalf("no main product (want %q)", want.id)
	}
	m := r.Main
	t.Logf("main %q %q price %v category %q; %d tiles in %d grids", m.ID, m.Name, m.Price, m.Category, len(r.Items), len(r.Grids))
	if m.ID != want.id || m.Price != want.price || m.Name == "" {
		t.Errorf("main = {%q, %q, %v}, want {%q, a name, %v}", m.ID, m.Name, m.Price, want.id, want.price)
	}
	// The expectations agree with the benchmark's annotations, or say why not.
	if skus := truth["sku"]; len(skus) > 0 && !slices.Contains(skus, want.id) && want.why == "" {
		t.Errorf("id %q is none of truth.json's skus %q and the test gives no reason", want.id, skus)
	}
	if p := truth["price"]; len(p) > 0 && want.price != 0 {
		if v, _ := strconv.ParseFloat(p[0], 64); math.Abs(v-want.price) > 0.005 {
			t.Errorf("price %v, truth.json says %s", want.price, p[0])
		}
	}
}

func checkTiles(t *testing.T, name string, r scanned) {
	t.Helper()
	want, ok := wantTiles[name]
	if !ok {
		t.Fatalf("%s: no tile count written in the test", name)
	}
	if r.Main != nil {
		t.Errorf("a listing page has no main product, got %+v", *r.Main)
	}
	re := regexp.MustCompile(want.id)
	var found, wrong []string
	for _, it := range r.Items {
		if re.MatchString(it.ID) {
			found = append(found, it.ID)
		} else {
			wrong = append(wrong, it.ID)
		}
	}
	t.Logf("tiles found %d / expected %d / false %d (%s); grids %v",
		len(found), want.count, len(wrong), want.note, r.Grids)
	if 10*len(found) < 9*want.count {
		t.Errorf("found %d of %d tiles: %q", len(found), want.count, found)
	}
	if 20*len(wrong) > len(r.Items) {
		t.Errorf("%d false tiles of %d: %q", len(wrong), len(r.Items), wrong)
	}
}

// pct returns the p-th percentile of xs (nearest rank).
func pct(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// shopSlots declares a slot on each listing page by selector, as a site's
// configuration would (read by hand from the HTML): the tiles' container
// and, when they are not its children, the tiles. shot names the pages
// whose slot is photographed before and after.
var shopSlots = map[string]struct {
	container, tile string
	shot            bool
}{
	"debijenkorf-nl-category.html":            {"ul.dbk-productlist", "", true},
	"infor-ingen-cl-category.html":            {".product-list", ".product-block", false},
	"inmykonos-com-category.html":             {"#dataContainerItems", "", false},
	"mypapershop-com-category.html":           {".searchspring-results_container", "", true},
	"rc-race-shop-de-featured.html":           {"#switch_listing .listing-wrapper", "", false},
	"taylormorriseyewear-com-collection.html": {".category-products", ".products-grid > div", false}, // rows of three: the slot is a row
	"thefrumps-com-store.html":                {"#post-5185 .entry", "", false},
}

// slotWatch records the rankings of the page (tailor:ranked) and keeps
// clicks from leaving it (the tiles link to the shops, which are offline).
const slotWatch = `window.__r = [];
document.addEventListener("tailor:ranked", (e) => __r.push({ slot: e.detail.slot, ids: e.detail.items.map((x) => x.id) }));
addEventListener("click", (e) => e.preventDefault());`

// TestShopSlots declares a slot on each saved listing page, by selector
// and then as "auto" (the largest grid the scanner finds), in the
// manifest's slots as server/site serves them, and checks that
// Tailor marks and ranks it, then, after a click on one of its tiles,
// re-ranks it in place: the tiles in the ranking's order, each with its
// parent and classes, and no uncaught error. Two pages are photographed
// before and after into dist/screenshots/.
func TestShopSlots(t *testing.T) {
	if _, err := os.Stat(shopPages); err != nil {
		t.Skip("shop slot tests skipped: no ../shared/pages (saved shop pages) next to the checkout")
	}
	tb := newTab(t, slotWatch)
	offline(tb)
	for name, sl := range shopSlots {
		for _, auto := range []bool{false, true} {
			testShopSlot(t, tb, name, sl.container, sl.tile, sl.shot && !auto, auto)
		}
	}
}

// testShopSlot runs TestShopSlots on one page, its slot declared by
// selector or, with auto, as the largest grid the scanner finds.
func testShopSlot(t *testing.T, tb *tab, name, container, tile string, photo, auto bool) {
	t.Helper()
	sub := name + "/selector"
	if auto {
		sub = name + "/auto"
	}
	t.Run(sub, func(t *testing.T) {
		defer tb.As(t)()
		sl := slotConfig{Name: "grid", Container: container, Tile: tile}
		if auto {
			sl = slotConfig{Name: "grid", Auto: true}
		}
		srv := shopServer(t, site{Slots: []slotConfig{sl}})
		url := srv.URL + "/shop/listing/" + name
		tb.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url})
			return chromedp.Void{}, err
		})
		tb.Wait(`location.href == ` + strconv.Quote(url) + ` && window.__r && __r.some((r) => r.slot == "grid")`)
		tiles := `[...document.querySelectorAll('[data-tailor-slot="grid"] > [data-tailor-item]')]`
		n := eval[int](tb, `(window.__tiles = `+tiles+`.map((e) => ({ e, p: e.parentElement, c: e.className }))).length`)
		if n < 3 {
			t.Fatalf("%d tiles marked in the declared slot", n)
		}
		before := eval[[]string](tb, tiles+`.map((e) => e.dataset.tailorItem)`)
		shot := func(when string) {
			if !photo {
				return
			}
			png := browsertest.Run(tb.Tab, chromedp.Screenshot(`[data-tailor-slot="grid"]`))
			dir := filepath.Join("..", "..", "dist", "screenshots")
			os.MkdirAll(dir, 0o755)
			path := filepath.Join(dir, "shop-"+strings.TrimSuffix(name, ".html")+"-"+when+".png")
			if err := os.WriteFile(path, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", path)
		}
		shot("before")
		// A click on the last tile (the item element itself: a click by
		// coordinates could land elsewhere while the slot re-ranks).
		k := eval[int](tb, `__r.filter((r) => r.slot == "grid").length`)
		clicked := before[len(before)-1]
		eval[bool](tb, tiles+`.at(-1).click() ?? true`)
		tb.Wait(`__r.filter((r) => r.slot == "grid").length > ` + strconv.Itoa(k))
		shot("after")
		after := eval[[]string](tb, tiles+`.map((e) => e.dataset.tailorItem)`)
		ranked := eval[[]string](tb, `__r.filter((r) => r.slot == "grid").at(-1).ids`)
		t.Logf("%d tiles; before %q; clicked %q; after %q", n, before, clicked, after)
		if !slices.Equal(after, ranked[:min(len(ranked), len(after))]) {
			t.Errorf("tiles in the order %q, the ranking says %q", after, ranked)
		}
		if slices.Equal(after, before) {
			t.Errorf("the click left the slot's order as it was: %q", after)
		}
		if moved := eval[[]string](tb, `__tiles.filter((x) => x.e.parentElement != x.p || x.e.className != x.c).map((x) => x.e.dataset.tailorItem)`); len(moved) > 0 {
			t.Errorf("tiles %q lost their parent or classes", moved)
		}
		for _, e := range tb.Exceptions() {
			if strings.Contains(e, "/tailor") {
				t.Errorf("uncaught error from the loader: %s", e)
			}
		}
	})
}

// TestScanFirstAB times the page's first scan (as scanFirst does) with
// two scanners alternately, page by page, in one run: A is the file
// $TAILOR_SCAN_AB names (an older scan.js), B is src/scan.js. Each round
// swaps which goes first; each scan is of a fresh page load with a module
// URL of its own (its code compiled for that page). It fails when the two
// find anything different (main, items, grids, events, tile elements) on
// a page, and logs p50/p95 of each over the pages (the median of its
// rounds per page), in wall time and in the CPU time of the page's thread
// (a trace's FunctionCall event of the timer that scans): on a busy
// machine the wall time counts the waits for a core, the CPU time does
// not; and how many scans collected garbage, with the collections' wall
// and CPU time. TAILOR_SCAN_AB_ROUNDS sets the rounds (3), and
// TAILOR_SCAN_AB_PAGES (comma-separated names) keeps only the shop pages
// named, with the hostile one. Skipped unless TAILOR_SCAN_AB is set: it
// measures a change, it does not check the product.
func TestScanFirstAB(t *testing.T) {
	old := os.Getenv("TAILOR_SCAN_AB")
	if old == "" {
		t.Skip("A/B timing skipped: TAILOR_SCAN_AB names no older scan.js")
	}
	if _, err := os.Stat(shopPages); err != nil {
		t.Skip("no ../shared/pages")
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("TAILOR_SCAN_AB_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	hostile := hostilePage()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/ab/a.js"):
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, old)
		case strings.HasPrefix(r.URL.Path, "/ab/b.js"):
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, filepath.Join("src", "scan.js"))
		case r.URL.Path == "/hostile":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(hostile))
		default:
			serveShopPage(w, r)
		}
	}))
	defer srv.Close()
	// The page's own scripts may replace setTimeout: the scan runs in a
	// timer of the browser's own, a task whose CPU time the trace gives.
	tb := newTab(t, "window.__tailorTimer = setTimeout.bind(window)")
	offline(tb)
	// TAILOR_SCAN_AB_PAGES (names, comma-separated) keeps the shop pages
	// whose path holds one of them, the slow ones say, for more rounds.
	pages := append([]string{"/hostile"}, shopPaths(os.Getenv("TAILOR_SCAN_AB_PAGES"))...)
	type run struct {
		Ms   float64
		Out  string
		Task string `json:"-"` // the timer's function, named after the load
	}
	n := 0
	// first scans the page p with scanner v in a timer named after the
	// load (its FunctionCall event in the trace).
	first := func(p, v string) run {
		n++
		task := "tailorScan" + strconv.Itoa(n)
		url := srv.URL + p + "?n=" + strconv.Itoa(n)
		openParsed(tb, url)
		x := eval[run](tb, `(async () => {
			const m = await import(location.origin + '/ab/`+v+`.js?`+strconv.Itoa(n)+`')
			let ms
			await new Promise((done) => __tailorTimer(({ `+task+`: () => {
				const t = performance.now()
				m.scan(document)
				ms = performance.now() - t
				done()
			} }).`+task+`, 0))
			const els = new Map()
			const r = m.scan(document, els)
			const at = (e) => e.localName + '.' + e.className + ' #' + [...e.parentElement.children].indexOf(e) + ' in ' + e.parentElement.localName + '.' + e.parentElement.className
			return { ms, out: JSON.stringify([r, [...els].map(([e, it]) => at(e) + ': ' + JSON.stringify(it))]) }
		})()`)
		x.Task = task
		return x
	}
	times := map[string][][]float64{"a": make([][]float64, len(pages)), "b": make([][]float64, len(pages))}
	tasks := map[string][][]string{"a": make([][]string, len(pages)), "b": make([][]string, len(pages))}
	trace := tb.Trace([]string{"devtools.timeline"}, func() {
		for r := 0; r < rounds; r++ {
			for i, p := range pages {
				vs := []string{"a", "b"}
				if (r+i)%2 == 1 {
					vs = []string{"b", "a"}
				}
				outs := map[string]string{}
				for _, v := range vs {
					x := first(p, v)
					times[v][i] = append(times[v][i], x.Ms)
					tasks[v][i] = append(tasks[v][i], x.Task)
					outs[v] = x.Out
				}
				if r == 0 && outs["a"] != outs["b"] {
					t.Errorf("%s: the scanners disagree:\nA %s\nB %s", p, outs["a"], outs["b"])
				}
			}
		}
	})
	// Each scan's CPU time: its timer's FunctionCall event, named after
	// the function (the page's thread's own time, not the time it waited
	// for a core on a busy machine).
	cpuOf := map[string]float64{}
	calls := map[string]browsertest.TraceEvent{}
	for _, e := range trace {
		if data, _ := e.Args["data"].(map[string]any); e.Name == "FunctionCall" && data != nil {
			if f, _ := data["functionName"].(string); strings.HasPrefix(f, "tailorScan") {
				cpuOf[f] = e.TDur / 1000
				calls[f] = e
			}
		}
	}
	// The garbage collections inside each scan (on its thread, within its
	// FunctionCall). One may take far more wall time than CPU time: its
	// parallel phase waits for V8's helper threads, which a busy machine
	// starves (132 ms wall for 3 ms CPU in one scan at a load of 10).
	type gcs struct {
		n         int
		wall, cpu float64
	}
	gcOf := map[string]gcs{}
	for _, e := range trace {
		if e.Name != "MinorGC" && e.Name != "MajorGC" {
			continue
		}
		for f, c := range calls {
			if e.PID == c.PID && e.TID == c.TID && e.TS >= c.TS && e.TS < c.TS+c.Dur {
				g := gcOf[f]
				gcOf[f] = gcs{g.n + 1, g.wall + e.Dur/1000, g.cpu + e.TDur/1000}
			}
		}
	}
	// Per page the median of its rounds and the fastest (on a busy
	// machine the nearest to the scan's own cost), and the median CPU time.
	med, fast, cpu := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	gc := map[string]gcs{}
	for _, v := range []string{"a", "b"} {
		for i, xs := range times[v] {
			var cs []float64
			for _, task := range tasks[v][i] {
				if c, ok := cpuOf[task]; ok {
					cs = append(cs, c)
				}
				if g, ok := gcOf[task]; ok {
					a := gc[v]
					gc[v] = gcs{a.n + 1, a.wall + g.wall, a.cpu + g.cpu}
				}
			}
			if len(cs) == 0 {
				t.Fatalf("%s: no FunctionCall event in the trace for scanner %s", pages[i], v)
			}
			med[v], fast[v], cpu[v] = append(med[v], pct(xs, 50)), append(fast[v], pct(xs, 0)), append(cpu[v], pct(cs, 50))
		}
	}
	for i, p := range pages {
		t.Logf("%-50s A %5.1f (fastest %5.1f, CPU %5.1f) B %5.1f (fastest %5.1f, CPU %5.1f) ms", p, med["a"][i], fast["a"][i], cpu["a"][i], med["b"][i], fast["b"][i], cpu["b"][i])
	}
	for _, v := range []string{"a", "b"} {
		t.Logf("%s: the page's first scan over %d pages, median of %d rounds: p50 %.1f p95 %.1f max %.1f ms; fastest: p50 %.1f p95 %.1f max %.1f ms; CPU: p50 %.1f p95 %.1f max %.1f ms",
			strings.ToUpper(v), len(pages), rounds, pct(med[v], 50), pct(med[v], 95), pct(med[v], 100), pct(fast[v], 50), pct(fast[v], 95), pct(fast[v], 100), pct(cpu[v], 50), pct(cpu[v], 95), pct(cpu[v], 100))
		// The target is over the shop pages (pages[0] is the hostile one).
		t.Logf("%s: over the %d shop pages: p50 %.1f p95 %.1f ms; CPU p50 %.1f p95 %.1f ms",
			strings.ToUpper(v), len(pages)-1, pct(med[v][1:], 50), pct(med[v][1:], 95), pct(cpu[v][1:], 50), pct(cpu[v][1:], 95))
		t.Logf("%s: %d of %d scans collected garbage (MinorGC, MajorGC): %.1f ms wall, %.1f ms CPU in all",
			strings.ToUpper(v), gc[v].n, rounds*len(pages), gc[v].wall, gc[v].cpu)
	}
}

// serveShopPage answers /shop/DIR/NAME with the saved page as it is, no
// script tag added (the timing tests inject their scanner themselves),
// as UTF-8 unless the page names its charset.
func serveShopPage(w http.ResponseWriter, r *http.Request) {
	b, err := os.ReadFile(filepath.Join(shopPages, strings.TrimPrefix(r.URL.Path, "/shop/")))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if !charset.Match(b[:min(len(b), 4096)]) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Write(b)
}

// shopPaths lists the shop pages as /shop/DIR/NAME, those whose path holds
// one of the comma-separated names of only, or all of them when only is
// empty or "all".
func shopPaths(only string) []string {
	names := strings.FieldsFunc(only, func(r rune) bool { return r == ',' })
	all := len(names) == 0 || slices.Contains(names, "all")
	var paths []string
	for _, dir := range []string{"product", "listing"} {
		files, _ := filepath.Glob(filepath.Join(shopPages, dir, "*.html"))
		for _, f := range files {
			p := "/shop/" + dir + "/" + filepath.Base(f)
			if all || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(p, n) }) {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// openParsed navigates tb to url, with no script added, and waits until
// the page is parsed: the timing tests then scan it themselves.
func openParsed(tb *tab, url string) {
	tb.Do(func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url})
		return chromedp.Void{}, err
	})
	tb.Wait(`location.href == ` + strconv.Quote(url) + ` && document.readyState != 'loading'`)
}
