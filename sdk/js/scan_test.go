//go:build !wasip1

package jstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// hostilePage is a page built to trip a scanner: JSON-LD that does not
// parse, nests past any sense or names a Product with odd types; a
// dataLayer of junk and of getters that throw; product JSON that does not
// parse in attributes; a hidden template tile and a <template>; 2,000
// navigation links, then the grid, then 20,000 links (past the bound of
// links read), half with 200-byte ids. Its main product is in @graph →
// mainEntity, its grid has five tiles.
func hostilePage() string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>hostile</title>
<link rel="canonical" href="https://shop.example/p/main-1">
<script type="application/ld+json">{"@type":"Product", "name": </script>
<script type="application/ld+json">` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `</script>
<script type="application/ld+json">{"@graph":[{"@type":"WebPage","mainEntity":{"@type":"Product","sku":"SKU-1","name":"Main one","offers":[{"price":"1.234,50"}]}}]}</script>
<script type="application/ld+json">{"@type":"Product","sku":{"x":1},"name":5,"offers":"free"}</script>
<script>
window.dataLayer = [null, 5, "x", {ecommerce: "str"}, {ecommerce: {detail: {products: "x"}}},
  Object.defineProperty({}, "ecommerce", {get() { throw new Error("boom") }}),
  {event: "view_item", ecommerce: {items: [{item_id: {toString() { throw new Error("boom") }}}]}},
  {event: "add_to_cart", ecommerce: {items: [{item_id: "t2", price: 3}]}}]
</script>
</head><body><nav>`)
	for i := 0; i < 2000; i++ {
		b.WriteString(`<a href="/nav?i=` + fmt.Sprint(i) + `">n</a>`)
	}
	// Menus of category links that look like tiles (a picture, a price):
	// a submenu of a nested list, a menu bar.
	b.WriteString(`</nav><ul class="menu"><li>Women<ul>`)
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, `<li class="cat"><a href="/c/w%d"><img src="/i.png" alt="Women %d"></a><span class="price">from %d,99 €</span></li>`, i, i, i)
	}
	b.WriteString(`</ul></li></ul><div role="menubar">`)
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, `<div class="cat"><a href="/c/m%d"><img src="/i.png" alt="Men %d"></a><span class="price">%d,99 €</span></div>`, i, i, i)
	}
	b.WriteString(`</div><h1>Main one</h1><ul id="grid">`)
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, `<li class="tile" data-product='{"id": broken'><a href="/p/t%d"><img src="/i.png" alt="Tile %d"></a><span class="price">%d,99 €</span><a href="/p/t%d">Tile %d</a></li>`, i, i, i, i, i)
	}
	b.WriteString(`<li class="tile" style="display: none"><a href="/p/hidden"><img src="/i.png"></a><span class="price">1,99 €</span></li>`)
	b.WriteString(`<template><li class="tile"><a href="/p/tpl"><img src="/i.png"></a><span class="price">1,99 €</span></li></template>`)
	b.WriteString(`</ul><footer><ul>`)
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, `<li><a href="/f/%d" data-product-id="%s">f</a></li>`, i, strings.Repeat("x", i%2*200))
	}
	b.WriteString(`</ul></footer></body></html>`)
	return b.String()
}

// pageServer serves page at path with tailor.js's script tag before
// </head>, as a site adds it, the scanner's module at /scan.js, and all
// else (tailor.js, the model, sync) from a test server of its own.
func pageServer(t *testing.T, path, page string) *httptest.Server {
	inner := newServer(t, site{})
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if serveScanner(w, r) {
			return
		}
		if r.URL.Path != path {
			inner.Config.Handler.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(strings.Replace(page, "</head>", `<script src="`+srv.URL+`/tailor.js" data-site="test" async></script></head>`, 1)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestScanHostile checks that tailor.scan() neither throws nor stalls on
// a hostile page, and still finds its main product and grid.
func TestScanHostile(t *testing.T) {
	page := hostilePage()
	srv := pageServer(t, "/hostile", page)
	tb := newTab(t)
	r := scanPage(tb, srv.URL+"/hostile")
	t.Logf("%d KB page, %d elements: tailor.scan() %.1f ms (first call %.1f ms); %s; grids %v", len(page)>>10, r.Elements, r.Median, r.First, r.Phases, r.Grids)
	if r.Main == nil || r.Main.ID != "SKU-1" || r.Main.Name != "Main one" || r.Main.Price != 1234.5 {
		t.Errorf("main = %+v, want SKU-1, Main one, 1234.5", r.Main)
	}
	var ids []string
	for _, it := range r.Items {
		ids = append(ids, it.ID)
	}
	if want := []string{"/p/t1", "/p/t2", "/p/t3", "/p/t4", "/p/t5"}; !slices.Equal(ids, want) {
		t.Errorf("items %q, want %q (no hidden or template tile, no navigation, no menu)", ids, want)
	}
	if !slices.ContainsFunc(r.Events, func(e struct{ Kind, Item string }) bool { return e.Kind == "cart" && e.Item == "t2" }) {
		t.Errorf("events %v, want the add_to_cart of t2", r.Events)
	}
	for _, e := range tb.Exceptions() {
		if strings.Contains(e, "/tailor.js") {
			t.Errorf("uncaught error from the loader: %s", e)
		}
	}
}

// plainShop is a listing page with no Tailor markup: four product tiles
// (links and prices only) and a dataLayer that another script fills.
const plainShop = `<!doctype html><html><head><meta charset="utf-8"><title>plain</title></head><body>
<h1>Shoes</h1><ul class="grid">
<li class="tile"><a href="/p/shoe-1"><img src="data:," alt="Shoe one"></a><span class="price">10,00 €</span></li>
<li class="tile"><a href="/p/shoe-2"><img src="data:," alt="Shoe two"></a><span class="price">20,00 €</span></li>
<li class="tile"><a href="/p/shoe-3"><img src="data:," alt="Shoe three"></a><span class="price">30,00 €</span></li>
<li class="tile"><a href="/p/shoe-4"><img src="data:," alt="Shoe four"></a><span class="price">40,00 €</span></li>
</ul></body></html>`

// TestEventsWithoutMarkup checks what the loader's chunk adds on a page
// without Tailor's markup and without a declared slot: a click on a tile
// the scanner found, Universal Analytics enhanced-ecommerce add and
// purchase pushes, and a GA4 add_to_cart all reach the device.
func TestEventsWithoutMarkup(t *testing.T) {
	srv := pageServer(t, "/plain", plainShop)
	tb := newTab(t, `addEventListener("click", (e) => e.preventDefault());`)
	tb.Open(srv.URL + "/plain")
	tb.ready()
	eval[bool](tb, `(document.querySelectorAll(".tile")[1].click(),
		dataLayer.push({event: "addToCart", ecommerce: {add: {products: [{id: "ua-add", name: "UA added", price: "5.00"}]}}}),
		dataLayer.push({event: "purchase", ecommerce: {purchase: {actionField: {id: "T1"}, products: [{id: "ua-buy", name: "UA bought", price: "7.00"}]}}}),
		dataLayer.push({event: "add_to_cart", ecommerce: {items: [{item_id: "ga-add", item_name: "GA added", price: 3}]}}),
		true)`)
	tb.Wait(`tailor.profile().then((p) => ["/p/shoe-2", "ua-add", "ga-add"].every((id) => p.session.some((s) => s.item == id)) && p.purchases.some((s) => s.item == "ua-buy"))`)
	if n := eval[int](tb, `tailor.profile().then((p) => p.session.filter((s) => /shoe-[134]/.test(s.item)).length)`); n != 0 {
		t.Errorf("%d tiles that were not clicked are in the session", n)
	}
	tb.NoErrors()
	// What the scanner's chunk finds stays on the device (PRIVACY.md,
	// "Code delivery"): the page asks for nothing but itself, the model
	// and Tailor's files (and the browser its favicon).
	for _, r := range tb.Requests() {
		method, raw, _ := strings.Cut(r, " ")
		p := strings.TrimPrefix(raw, srv.URL)
		if method != "GET" || p == raw || !(p == "/plain" || p == "/favicon.ico" || p == "/tailor.js" || p == "/tailor.wasm" ||
			strings.HasPrefix(p, "/v1/model?") || strings.HasPrefix(p, "/v1/config/") || strings.HasPrefix(p, "/v1/shards/") || strings.HasPrefix(p, "/assets/tailor")) {
			t.Errorf("unexpected request: %s", r)
		}
	}
}
