//go:build !wasip1

package jstest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
)

// category returns the category of a test product.
func category(id string) string {
	for _, p := range append(append([]product{}, products...), banners...) {
		if p.ID == id {
			return p.Category
		}
	}
	return ""
}

// leading counts how many of the first ids belong to category c.
func leading(order []string, c string) int {
	n := 0
	for _, id := range order {
		if category(id) != c {
			break
		}
		n++
	}
	return n
}

// visibleVariant returns the hero slot's shown banner(s).
func visibleVariant(tb *tab) []string {
	return eval[[]string](tb, `[...document.querySelectorAll('#hero > [data-tailor-variant]')].filter(e => !e.hidden).map(e => e.dataset.tailorItem)`)
}

func TestRanksSlotsAndFollowsClicks(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	cold := tb.order("#recs")
	if len(cold) != len(products) {
		t.Fatalf("recs shows %d items, want all %d: %v", len(cold), len(products), cold)
	}
	if got := tb.order("#picks"); len(got) != 3 {
		t.Errorf("picks (data-tailor-limit=3) shows %v, want 3 items", got)
	}
	if v := eval[int](tb, `__t.ranked.find(r => r.slot == 'recs').version`); v != 1 {
		t.Errorf("ranked with model version %d, want 1", v)
	}

	n := tb.rankings("recs")
	for _, id := range []string{"w1", "w2", "w3"} {
		tb.Click(`#recs [data-tailor-item="` + id + `"]`)
	}
	tb.Wait(`__t.ranked.filter(r => r.slot == 'recs').length > ` + strconv.Itoa(n))
	tb.Wait(`[...document.querySelectorAll('#recs [data-tailor-item]')].slice(0, 4).every(e => e.dataset.tailorCategory == 'running-watches')`)
	after := tb.order("#recs")
	if slices.Equal(after, cold) {
		t.Errorf("the order did not change after three clicks on watches: %v", after)
	}
	if got := leading(tb.order("#picks"), "running-watches"); got != 3 {
		t.Errorf("picks after clicks on watches: %v, want 3 watches", tb.order("#picks"))
	}
	if got := visibleVariant(tb); !slices.Equal(got, []string{"b-running"}) {
		t.Errorf("hero shows %v, want only b-running after clicks on watches", got)
	}
	if first := eval[string](tb, `document.querySelector('#recs').firstElementChild.className`); first != "note" {
		t.Errorf("the slot's first child is %q: a child without data-tailor-item must keep its place", first)
	}
	for _, attr := range []string{"source", "reason", "ref"} {
		if n := eval[int](tb, `document.querySelectorAll('#recs [data-tailor-`+attr+`]').length`); n != len(products) {
			t.Errorf("%d items of recs carry data-tailor-%s, want %d", n, attr, len(products))
		}
	}
	if n := eval[int](tb, `document.querySelectorAll('.tailor-loading').length`); n != 0 {
		t.Errorf("%d slots still hidden against flicker", n)
	}

	// The profile lives in IndexedDB: after a reload, watches still lead.
	// On a busy machine the page left may still be saving it when the new
	// one first ranks; the loader looks again for up to 12 s and re-ranks
	// once it arrives (tailor.js), so wait for what is checked.
	tb.load(srv.URL+"/store", "recs")
	tb.Wait(`[...document.querySelectorAll('#recs [data-tailor-item]')].slice(0, 4).every(e => e.dataset.tailorCategory == 'running-watches')`)
	if got := leading(tb.order("#recs"), "running-watches"); got < 4 {
		t.Errorf("after a reload recs is %v, want watches first (the profile did not survive)", tb.order("#recs"))
	}
	tb.NoErrors()
}

func TestVariantFollowsLatestInterest(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "hero")
	for _, id := range []string{"c1", "c2"} {
		tb.Click(`#recs [data-tailor-item="` + id + `"]`)
	}
	tb.Wait(`!document.querySelector('#hero [data-tailor-item="b-coffee"]').hidden`)
	// Switching interests: the banner follows, with no reload.
	for _, id := range []string{"w1", "w2", "w3"} {
		tb.Click(`#recs [data-tailor-item="` + id + `"]`)
	}
	tb.Wait(`!document.querySelector('#hero [data-tailor-item="b-running"]').hidden`)
	if got := visibleVariant(tb); len(got) != 1 {
		t.Errorf("hero shows %v, want exactly one banner", got)
	}
	tb.NoErrors()
}

func TestExplainProfileModeForget(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	cold := tb.order("#recs")
	// A click inside data-tailor-ignore (a "Why?" button on a card) is no signal.
	eval[bool](tb, `(document.querySelector('#recs [data-tailor-item="g4"]').insertAdjacentHTML('beforeend', '<button id="why" data-tailor-ignore>Why?</button>'), true)`)
	tb.Click(`#why`)
	tb.Click(`#recs [data-tailor-item="w1"]`)
	tb.Wait(`document.querySelector('#recs [data-tailor-item="w2"]').dataset.tailorReason == 'session'`)

	// w2 follows w1 in the model: it ranks "because you viewed" w1, by name.
	if got := eval[string](tb, `tailor.explain('w2')`); got != "Because you viewed Pacer GPS Running Watch" {
		t.Errorf("explain(w2) = %q", got)
	}
	if got := eval[string](tb, `[...document.querySelectorAll('#recs [data-tailor-item="w2"]')].map(e => e.dataset.tailorSource + '/' + e.dataset.tailorReason + '/' + e.dataset.tailorRef).join()`); got != "model/session/w1" {
		t.Errorf("w2 marked %q, want model/session/w1", got)
	}
	if got := eval[string](tb, `tailor.explain('no-such-item')`); got != "" {
		t.Errorf("explain of an unranked item = %q, want empty", got)
	}

	type entry struct {
		Item, Name string
		Weight     float64
	}
	type trait struct{ Kind, Value string }
	type profile struct {
		Mode, Privacy, Storage string
		Model                  int
		Sync                   bool
		Session                []entry
		Interests              []trait
		Pending                struct{ Items []string }
	}
	p := eval[profile](tb, `tailor.profile()`)
	if p.Mode != "ai" || p.Model != 1 || p.Storage != "indexeddb" || p.Privacy != "federated" || !p.Sync {
		t.Errorf("profile %+v: want mode ai, model 1, indexeddb, federated, sync on", p)
	}
	if len(p.Session) != 1 || p.Session[0].Item != "w1" || p.Session[0].Name != "Pacer GPS Running Watch" {
		t.Errorf("profile session %+v, want w1 by name (and not g4, clicked inside data-tailor-ignore)", p.Session)
	}
	if !slices.Contains(p.Interests, trait{"category", "running-watches"}) {
		t.Errorf("profile interests %+v lack the category running-watches", p.Interests)
	}
	// A page with Tailor's markup: profile()'s details come from their own
	// small chunk, not with the page scanner's.
	var chunks []string
	for _, r := range srv.requests() {
		if name, ok := strings.CutPrefix(r.Path, "/assets/tailor-"); ok && strings.HasSuffix(name, ".js") {
			chunks = append(chunks, strings.SplitN(name, ".", 2)[0])
		}
	}
	if !slices.Equal(chunks, []string{"details"}) {
		t.Errorf("profile() loaded the chunks %q, want [details] alone", chunks)
	}
	if !slices.Contains(p.Pending.Items, "w1") {
		t.Errorf("profile pending %+v lacks w1", p.Pending)
	}

	// The mode is used for every ranking and kept across pages.
	n := tb.rankings("recs")
	if got := eval[string](tb, `tailor.mode('rules')`); got != "rules" {
		t.Errorf("mode('rules') = %q", got)
	}
	tb.Wait(`__t.ranked.filter(r => r.slot == 'recs').length > ` + strconv.Itoa(n))
	if arm := eval[string](tb, `__t.ranked[__t.ranked.length - 1].arm`); arm != "rules" {
		t.Errorf("ranked in the %q arm after mode('rules')", arm)
	}
	tb.load(srv.URL + "/store")
	if got := eval[string](tb, `tailor.mode()`); got != "rules" {
		t.Errorf("mode after reload = %q, want rules", got)
	}

	// Forget wipes the device: the profile is empty, now and after a
	// reload, and the mode is the default again (the rules-only arm, a
	// visitor's rare choice, would mark the deltas after forget as the
	// same visitor's).
	eval[bool](tb, `tailor.forget().then(() => true)`)
	p = eval[profile](tb, `tailor.profile()`)
	if len(p.Session) != 0 || len(p.Interests) != 0 {
		t.Errorf("profile after forget: %+v", p)
	}
	if got := eval[string](tb, `tailor.mode()`); got != "ai" {
		t.Errorf("mode after forget = %q, want ai", got)
	}
	tb.load(srv.URL+"/store", "recs")
	p = eval[profile](tb, `tailor.profile()`)
	if len(p.Session)+len(p.Interests) != 0 {
		t.Errorf("profile after forget and reload: %+v", p)
	}
	if got := eval[string](tb, `tailor.mode()`); got != "ai" {
		t.Errorf("mode after forget and reload = %q, want ai", got)
	}
	if got := tb.order("#recs"); !slices.Equal(got, cold) {
		t.Errorf("order after forget %v, want the cold %v", got, cold)
	}
	tb.NoErrors()
}

// TestHostileShardRefused: a model shard naming more fresh ids than a
// page's engine holds (model.MaxIDs; whoever serves the model could send
// one) is refused by the guest, and the page ranks with the other shard:
// Tailor stays up, the refused shard's neighbours are not there, the
// other's are.
func TestHostileShardRefused(t *testing.T) {
	flooded, other := "w2", "g1" // both have neighbours in the fixture
	if wire.ShardOf(flooded, 2) == wire.ShardOf(other, 2) {
		t.Fatalf("the fixture's %s and %s share a shard", flooded, other)
	}
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Flood: flooded})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	type ranked struct{ ID, Source, Reason, Ref string }
	next := func(id string) ranked {
		var cands []string
		for _, it := range weights() {
			cands = append(cands, it.ID)
		}
		got := eval[[]ranked](tb, `(tailor.track({kind: 'click', item: '`+id+`'}), tailor.rank(['`+strings.Join(cands, "', '")+`']))`)
		for _, r := range got {
			if r.Ref == id && r.Reason == "session" {
				return r
			}
		}
		return ranked{}
	}
	if r := next(other); r.ID == "" {
		t.Errorf("after a click on %s (the applied shard) no item ranks as its neighbour", other)
	}
	if r := next(flooded); r.ID != "" {
		t.Errorf("after a click on %s (the refused shard) %s ranks as its neighbour: the shard was applied", flooded, r.ID)
	}
	tb.NoErrors()
}

func TestStorageBlockedWorksInMemory(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	t.Run("indexedDB throws", func(t *testing.T) {
		tb := newTab(t, `Object.defineProperty(window, "indexedDB", {get() { throw new DOMException("blocked", "SecurityError"); }});`)
		tb.load(srv.URL + "/store")
		tb.Click(`#recs [data-tailor-item="w1"]`)
		tb.Click(`#recs [data-tailor-item="w2"]`)
		tb.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory == 'running-watches'`)
		if s := eval[string](tb, `tailor.profile().then(p => p.storage)`); s != "memory" {
			t.Errorf("storage %q, want memory", s)
		}
		tb.NoErrors()
	})
	t.Run("sandboxed frame", func(t *testing.T) {
		tb := newTab(t)
		tb.Open(srv.URL + "/frame")
		tb.Wait(`window.__frame`)
		type report struct {
			IDs     []string
			Storage string
			Errors  []string
		}
		r := eval[report](tb, `__frame`)
		if len(r.IDs) != len(products) || r.Storage != "memory" || len(r.Errors) > 0 {
			t.Errorf("the sandboxed frame reported %+v: want all items ranked, storage memory, no errors", r)
		}
		tb.NoErrors()
	})
}

func TestWasmFailureKeepsDefaultContent(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, WasmStatus: 500, Timeout: 300})
	tb := newTab(t)
	tb.load(srv.URL + "/store")
	if got := tb.order("#recs"); !slices.Equal(got, ids(products)) {
		t.Errorf("recs %v, want the default order %v", got, ids(products))
	}
	if got := tb.order("#picks"); len(got) != len(products) {
		t.Errorf("picks %v, want the default content (all items)", got)
	}
	if got := visibleVariant(tb); !slices.Equal(got, []string{"b-evening"}) {
		t.Errorf("hero shows %v, want the default b-evening", got)
	}
	tb.Wait(`getComputedStyle(document.querySelector('#recs')).visibility == 'visible' && !document.querySelector('.tailor-loading')`)
	tb.Wait(`window.__siteRan && window.__siteSawReady`)
	type ranked struct{ ID, Source string }
	got := eval[[]ranked](tb, `tailor.rank(['w1', {id: 'g1', name: 'Gown'}], {limit: 5})`)
	if len(got) != 2 || got[0].ID != "w1" || got[1].ID != "g1" || got[0].Source != "default" {
		t.Errorf("rank without an engine = %+v, want the given order from source default", got)
	}
	if got := eval[string](tb, `tailor.explain('w1')`); got != "" {
		t.Errorf("explain without an engine = %q", got)
	}
	eval[bool](tb, `(tailor.track({kind: 'click', item: 'w1'}), tailor.set({tier: 'gold'}), tailor.mode('rules'), tailor.consent(false), true)`)
	eval[bool](tb, `tailor.forget().then(() => tailor.profile()).then(() => true)`)
	tb.NoErrors() // the failed load is the browser's own network log, not an error of the page
	failed := false
	for _, r := range srv.requests() {
		failed = failed || strings.HasSuffix(r.Path, ".wasm") && r.Status == 500
	}
	if !failed {
		t.Error("tailor.wasm was not requested")
	}
}

func TestAntiFlicker(t *testing.T) {
	t.Run("bounded", func(t *testing.T) {
		srv := newServer(t, site{Privacy: wire.PrivacyFederated, Timeout: 1000, WasmDelay: 3 * time.Second})
		tb := newTab(t)
		tb.Open(srv.URL + "/store")
		if hidden := eval[[]string](tb, `__t.hidden.map(h => h.slot)`); len(hidden) != 3 {
			t.Errorf("slots hidden while tailor.wasm loads: %v, want hero, recs and picks", hidden)
		}
		if v := eval[string](tb, `getComputedStyle(document.body).visibility`); v != "visible" {
			t.Errorf("body visibility %q: the body must never be hidden", v)
		}
		tb.Wait(`document.querySelector('#recs').style.visibility == '' && !document.querySelector('.tailor-loading')`)
		if at := eval[float64](tb, `performance.now()`); at > 2800 {
			t.Errorf("slots shown at %.0f ms, after the wasm arrived; want at the 1000 ms bound", at)
		}
		if n := eval[int](tb, `__t.ranked.length`); n != 0 {
			t.Errorf("%d rankings before tailor.wasm arrived", n)
		}
		tb.Wait(`__t.ranked.some(r => r.slot == 'recs')`) // personalizes when it can
		tb.NoErrors()
	})
	t.Run("slots parsed after the script ran", func(t *testing.T) {
		srv := newServer(t, site{Privacy: wire.PrivacyFederated, SlowBody: 500 * time.Millisecond})
		tb := newTab(t)
		tb.load(srv.URL + "/store")
		type event struct {
			Slot string
			At   float64
		}
		if start := eval[float64](tb, `performance.getEntriesByName('tailor:start')[0].startTime`); start > 450 {
			t.Fatalf("tailor.js started at %.0f ms, not before the body arrived (500 ms)", start)
		}
		hidden := eval[[]event](tb, `__t.hidden`)
		ranked := eval[[]event](tb, `__t.ranked`)
		for _, slot := range []string{"hero", "recs", "picks"} {
			i := slices.IndexFunc(hidden, func(e event) bool { return e.Slot == slot })
			j := slices.IndexFunc(ranked, func(e event) bool { return e.Slot == slot })
			if i < 0 || j < 0 || hidden[i].At > ranked[j].At {
				t.Errorf("slot %s: hidden %v, ranked %v; want hidden as parsed, then ranked", slot, hidden, ranked)
			}
		}
		if n := eval[int](tb, `document.querySelectorAll('.tailor-loading').length`); n != 0 {
			t.Errorf("%d slots still hidden", n)
		}
		tb.NoErrors()
	})
}

func TestStrictCSP(t *testing.T) {
	t.Run("wasm-unsafe-eval", func(t *testing.T) {
		srv := newServer(t, site{Privacy: wire.PrivacyFederated, CSP: "script-src 'self' 'wasm-unsafe-eval'"})
		tb := newTab(t)
		tb.load(srv.URL + "/store")
		tb.Wait(`__t.ranked.some(r => r.slot == 'recs') && document.querySelector('#recs [data-tailor-source="model"]')`)
		if v := eval[[]string](tb, `__t.csp`); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
		tb.NoErrors()
	})
	t.Run("no wasm allowed", func(t *testing.T) {
		// A CSP that forbids WebAssembly: default content, no uncaught error.
		srv := newServer(t, site{Privacy: wire.PrivacyFederated, CSP: "script-src 'self'", Timeout: 300})
		tb := newTab(t)
		tb.load(srv.URL + "/store")
		if got := tb.order("#recs"); !slices.Equal(got, ids(products)) {
			t.Errorf("recs %v, want the default order", got)
		}
		if exc := tb.Exceptions(); len(exc) > 0 {
			t.Errorf("uncaught exceptions: %v", exc)
		}
		if errs := eval[[]string](tb, `__t.errors`); len(errs) > 0 {
			t.Errorf("the page saw errors: %v", errs)
		}
	})
}

func TestSPANavigation(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	n := tb.rankings("recs")
	tb.Click(`#recs [data-tailor-item="g1"]`)
	// A view of the app renders a new slot: it is ranked before it paints.
	before := eval[bool](tb, `(async () => {
		history.pushState({}, '', '/store?view=gowns');
		const s = document.createElement('div');
		s.id = 'spa';
		s.setAttribute('data-tailor-slot', 'spa');
		s.innerHTML = ['c1', 'w1', 'g3', 'g2'].map(id => document.querySelector('#recs [data-tailor-item="' + id + '"]').outerHTML).join('');
		document.body.append(s);
		await Promise.resolve();
		return !!s.querySelector('[data-tailor-source]');
	})()`)
	if !before {
		t.Error("the new slot was not ranked in the task that added it")
	}
	if got := leading(tb.order("#spa"), "evening-gowns"); got != 2 {
		t.Errorf("spa slot %v, want the two gowns first after a click on a gown", tb.order("#spa"))
	}
	tb.Wait(`__t.ranked.filter(r => r.slot == 'recs').length > ` + strconv.Itoa(n+1)) // the click, then the navigation
	n = tb.rankings("recs")
	eval[bool](tb, `(history.back(), true)`)
	tb.Wait(`location.search == '' && __t.ranked.filter(r => r.slot == 'recs').length > ` + strconv.Itoa(n))
	tb.NoErrors()
}

func TestDataLayerEvents(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	// Entries pushed before Tailor loads are replayed.
	tb := newTab(t, `window.dataLayer = [{event: "view_item", ecommerce: {items: [{item_id: "c1", item_name: "Barista Pro Coffee Machine", item_category: "coffee-machines", price: 399}]}}];`)
	tb.load(srv.URL + "/store")
	type entry struct{ Item string }
	type profile struct{ Session, Purchases []entry }
	if p := eval[profile](tb, `tailor.profile()`); len(p.Session) != 1 || p.Session[0].Item != "c1" {
		t.Errorf("session %+v, want c1 from the replayed view_item", p.Session)
	}
	n := eval[int](tb, `dataLayer.push({ecommerce: null}, {event: "add_to_cart", ecommerce: {items: [{item_id: "c2"}]}})`)
	if n != 3 {
		t.Errorf("dataLayer.push returned %d, want the array's length 3", n)
	}
	eval[bool](tb, `(function () {
		function gtag() { dataLayer.push(arguments); }
		gtag("event", "purchase", {transaction_id: "t1", items: [{item_id: "c4", item_name: "Espresso Beans 500 g", price: 14}]});
		return true;
	})()`)
	tb.Wait(`[...document.querySelectorAll('#recs [data-tailor-item]')].slice(0, 3).every(e => e.dataset.tailorCategory.startsWith('coffee'))`)
	p := eval[profile](tb, `tailor.profile()`)
	if len(p.Purchases) != 1 || p.Purchases[0].Item != "c4" {
		t.Errorf("purchases %+v, want c4 from gtag's purchase", p.Purchases)
	}
	tb.NoErrors()
}

func TestPageSignals(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	// A search results page: the query is a search event.
	tb.load(srv.URL + "/store?q=gps+watch")
	type trait struct{ Kind, Value string }
	type entry struct {
		Item   string
		Weight float64
	}
	type profile struct {
		Session   []entry
		Interests []trait
	}
	p := eval[profile](tb, `tailor.profile()`)
	if !slices.Contains(p.Interests, trait{"search", "gps"}) {
		t.Errorf("interests %+v lack the search term gps", p.Interests)
	}

	// A product page described by JSON-LD only: a view, then dwell and
	// scroll depth when the visitor leaves.
	tb.load(srv.URL + "/product")
	p = eval[profile](tb, `tailor.profile()`)
	if len(p.Session) != 1 || p.Session[0].Item != "w3" || p.Session[0].Weight != 0.5 {
		t.Fatalf("session %+v, want a view of w3 (weight 0.5) from JSON-LD", p.Session)
	}
	if got := tb.order("#also"); len(got) != 4 || category(got[0]) != "running-watches" {
		t.Errorf("also-like %v, want 4 items led by a watch", got)
	}
	// The visitor stays 2.3 s on the page once it shows (counted from an
	// IntersectionObserver's first report, as the loader counts dwell, not
	// from here: on a busy machine the page may show late), then scrolls to
	// its end; the loader reads the depth in the frame after the scroll
	// event, before the frame callback of this listener, added after its own.
	eval[bool](tb, `new Promise(r => new IntersectionObserver((es, o) => {
		if (es.some(e => e.isIntersecting)) o.disconnect(), setTimeout(() => r(true), 2300);
	}).observe(document.documentElement))`)
	eval[bool](tb, `new Promise(r => {
		addEventListener("scroll", () => requestAnimationFrame(() => r(true)), { once: true });
		scrollTo(0, document.documentElement.scrollHeight);
	})`)
	tb.load(srv.URL + "/store")
	p = eval[profile](tb, `tailor.profile()`)
	var w float64
	for _, e := range p.Session {
		if e.Item == "w3" {
			w = e.Weight
		}
	}
	if w < 0.5+0.2+0.9 { // view, dwell of 2 s or more, scroll past 90%
		t.Errorf("w3 weighs %.3f after dwell and scroll, want at least 1.6 (session %+v)", w, p.Session)
	}
	tb.NoErrors()
}

func TestNoModelRanksOnDevice(t *testing.T) {
	srv := newServer(t, site{NoModel: true})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	if v := eval[int](tb, `__t.ranked[0].version`); v != 0 {
		t.Errorf("model version %d without a model, want 0", v)
	}
	tb.Click(`#recs [data-tailor-item="c3"]`)
	tb.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory.startsWith('coffee')`)
	if s := eval[string](tb, `tailor.profile().then(p => p.privacy + ' ' + p.sync)`); s != "local false" {
		t.Errorf("privacy and sync %q without a model, want local false", s)
	}
	tb.NoErrors()
	tb.Open("about:blank")
	if ds := waitSyncs(srv, 1, time.Second); len(ds) != 0 {
		t.Errorf("%d deltas synced without a model (local by default)", len(ds))
	}
	checkRequests(t, tb, srv, false)
}

func TestQueuedCalls(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t, `window.tailor = [["set", {tier: "gold"}], ["mode", "rules"], function (t) { window.__queued = t.mode(); }];`)
	tb.load(srv.URL + "/store")
	tb.Wait(`window.__queued`)
	type profile struct {
		Mode       string
		Attributes map[string]string
	}
	p := eval[profile](tb, `tailor.profile()`)
	if p.Mode != "rules" || p.Attributes["tier"] != "gold" || eval[string](tb, `__queued`) != "rules" {
		t.Errorf("after queued calls: %+v, queued function saw %q", p, eval[string](tb, `__queued`))
	}
	tb.NoErrors()
}

func TestESModule(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Module: true})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	tb.Click(`#recs [data-tailor-item="c1"]`)
	tb.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory.startsWith('coffee')`)
	exports := eval[[]string](tb, `import('/tailor.mjs').then(m => Object.keys(m).sort())`)
	want := []string{"consent", "default", "explain", "forget", "mode", "profile", "rank", "ready", "scan", "set", "start", "tailor", "track"}
	if !slices.Equal(exports, want) {
		t.Errorf("tailor.mjs exports %v, want %v", exports, want)
	}
	tb.NoErrors()
}

func TestWasmServedWithWrongType(t *testing.T) {
	// Streaming compilation needs application/wasm; the loader falls back.
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, WasmType: "application/octet-stream"})
	tb := newTab(t)
	tb.load(srv.URL + "/store")
	tb.Wait(`document.querySelector('#recs [data-tailor-source="model"]')`)
	tb.NoErrors()
}

func TestContextReachesRules(t *testing.T) {
	in := func(field string, v ...string) wire.Cond { return wire.Cond{Field: field, Op: wire.OpIn, Values: v} }
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Rules: []wire.Rule{
		{ID: "newsletter-beans", If: []wire.Cond{in("ctx.referrer", "email")}, Then: wire.Action{Do: wire.DoPin, IDs: []string{"c4"}}},
		{ID: "desktop-home-lace", If: []wire.Cond{in("ctx.device", "desktop"), in("ctx.page", "home")}, Then: wire.Action{Do: wire.DoPin, IDs: []string{"g4"}}},
		{ID: "gold-tier", If: []wire.Cond{in("attr.tier", "gold")}, Then: wire.Action{Do: wire.DoPin, IDs: []string{"w4"}}},
	}})
	tb := newTab(t)
	top := func(n int) []string {
		got := tb.order("#recs")[:n]
		slices.Sort(got)
		return got
	}
	tb.load(srv.URL + "/store?utm_medium=email")
	if got := top(2); !slices.Equal(got, []string{"c4", "g4"}) {
		t.Errorf("from a newsletter on a desktop home page, recs start with %v, want c4 and g4 pinned", tb.order("#recs"))
	}
	if got := eval[string](tb, `tailor.explain('c4') + ' / ' + document.querySelector('[data-tailor-item="c4"]').dataset.tailorSource`); got != "Recommended by the store / rule" {
		t.Errorf("c4 explained as %q", got)
	}
	// A first visit: the loader is ready before IndexedDB has created its
	// database, and a page left before that writes nothing (frozen in the
	// back/forward cache with its open pending, it blocks the next page's
	// open too: RATIONALE.md). On a busy machine the creation outlasts the
	// first page's rankings; what is checked here needs the database.
	tb.Wait(`tailor.profile().then(p => p.storage == 'indexeddb')`)
	eval[bool](tb, `(tailor.set({tier: 'gold'}), true)`)
	tb.load(srv.URL + "/store") // an internal referrer now; the attribute is kept
	tb.Wait(`[...document.querySelectorAll('#recs [data-tailor-item]')].filter(e => !e.closest('[hidden]'))
		.slice(0, 2).map(e => e.dataset.tailorItem).sort().join() == 'g4,w4'`)
	if got := top(2); !slices.Equal(got, []string{"g4", "w4"}) {
		t.Errorf("next page, recs start with %v, want g4 and w4 pinned (not c4)", tb.order("#recs"))
	}
	tb.NoErrors()
}

// clickItem clicks the element of item id in #recs itself (a click by
// coordinates can land on another item when the slot is re-ranked in
// between, as the click before re-ranks it) and waits until the device
// holds the click.
func (tb *tab) clickItem(id string) {
	tb.T().Helper()
	eval[bool](tb, `(document.querySelector('#recs [data-tailor-item="`+id+`"]').click(), true)`)
	tb.Wait(`tailor.profile().then(p => p.session.some(e => e.item == '` + id + `'))`)
}

func TestOtherPagesLearningIsKept(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	t.Run("another tab", func(t *testing.T) {
		a := newTab(t)
		a.load(srv.URL + "/store")
		// Stored before tab b starts: on a first visit the writes wait for
		// the database to be created, and one landing after tab b's would
		// replace them (seen in the back/forward cache subtest below).
		a.clickSaved(`#recs [data-tailor-item="w1"]`)
		b := a.sibling()
		b.load(srv.URL + "/store")
		b.clickItem("c1")
		b.clickItem("c2")
		b.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory.startsWith('coffee')`)
		b.Open("about:blank") // saves
		// Tab a comes back to the front: it takes what tab b learned.
		eval[bool](a, `(document.dispatchEvent(new Event('visibilitychange')), true)`)
		a.Wait(`document.querySelector('#recs [data-tailor-item]').dataset.tailorCategory.startsWith('coffee')`)
		// Forgetting in one tab is forgetting in the others.
		c := a.sibling()
		c.load(srv.URL + "/store")
		eval[bool](a, `tailor.forget().then(() => true)`)
		eval[bool](c, `(document.dispatchEvent(new Event('visibilitychange')), true)`)
		c.Wait(`tailor.profile().then(p => p.session.length == 0)`)
		a.NoErrors()
		c.NoErrors()
	})
	t.Run("two tabs save in turn", func(t *testing.T) {
		a := newTab(t)
		a.load(srv.URL + "/store")
		a.clickSaved(`#recs [data-tailor-item="w1"]`)
		b := a.sibling()
		b.load(srv.URL + "/store") // reads w1
		// Each click is saved at once, over a record written since the
		// other tab read it: neither tab saw the other's click.
		// (IndexedDB runs the writes in the order they were made: b's,
		// waited for, is the last.)
		eval[bool](a, `(document.querySelector('#recs [data-tailor-item="g1"]').click(), true)`)
		at := eval[float64](b, `Date.now()`)
		eval[bool](b, `(document.querySelector('#recs [data-tailor-item="c3"]').click(), true)`)
		b.Wait(idbSavedAt + `.then(t => t >= ` + strconv.FormatFloat(at, 'f', 0, 64) + `)`)
		c := a.sibling()
		c.load(srv.URL + "/store")
		type entry struct{ Item string }
		p := eval[struct{ Session []entry }](c, `tailor.profile()`)
		got := map[string]bool{}
		for _, e := range p.Session {
			got[e.Item] = true
		}
		if !got["w1"] || !got["g1"] || !got["c3"] {
			t.Errorf("a new page's session %+v, want w1 and both tabs' clicks since, g1 and c3", p.Session)
		}
		for _, tb := range []*tab{a, b, c} {
			tb.NoErrors()
		}
	})
	t.Run("back/forward cache", func(t *testing.T) {
		tb := newTab(t)
		tb.load(srv.URL + "/store")
		// The click is saved at once: wait until it is stored. On a first
		// visit under load, creating the database took longer than the
		// test took to reach the next page; the writes waiting for it were
		// made once the page came back from the back/forward cache, and
		// the newer record, the product page's, replaced them (the loader
		// now takes the record its write replaced and writes the two
		// together, but only while the page lives to read it: waiting
		// here keeps the test about restoring, not about that).
		tb.clickSaved(`#recs [data-tailor-item="g1"]`)
		tb.load(srv.URL + "/product")            // views w3, saved when left
		eval[bool](tb, `(history.back(), true)`) // not NavigateBack: a restored page fires no load event
		tb.Wait(`location.pathname == '/store' && window.tailor && window.__t`)
		if eval[int](tb, `__t.restored || 0`) == 0 {
			t.Log("the page was loaded again, not restored from the back/forward cache")
		}
		tb.Wait(`tailor.profile().then(p => p.session.length == 2)`)
		type entry struct{ Item string }
		p := eval[struct{ Session []entry }](tb, `tailor.profile()`)
		if len(p.Session) != 2 || p.Session[0].Item != "g1" || p.Session[1].Item != "w3" {
			t.Errorf("session %+v after going back, want g1 then w3 (the product page's view)", p.Session)
		}
		tb.NoErrors()
	})
}

// TestFetchBeforeManifestBody: the configuration and the head shard (every
// shard of a model with one by item) are requested from the manifest's
// Tailor-Fetch header, before its body is read: here the server holds the
// body until they were answered. On a cold page the main thread reads a
// body 10-280 ms after its headers (RATIONALE.md).
func TestFetchBeforeManifestBody(t *testing.T) {
	for _, s := range []site{{Shards: 1}, {Shards: 2, Head: true}} {
		s.Privacy, s.HoldManifest = wire.PrivacyFederated, true
		srv := newServer(t, s)
		tb := newTab(t)
		tb.load(srv.URL+"/store", "recs")
		at := map[string]int{}
		for i, r := range srv.requests() {
			if _, ok := at[r.Path]; !ok {
				at[r.Path] = i
			}
		}
		for _, p := range srv.fetch {
			if i, ok := at[p]; !ok || i > at["/v1/model"] {
				t.Errorf("%d shards, head %v: %s answered at %d (%v), the manifest at %d: want it before", s.Shards, s.Head, p, i, ok, at["/v1/model"])
			}
		}
		if v := eval[int](tb, `__t.ranked[0].version`); v != 1 {
			t.Errorf("%d shards, head %v: ranked with model version %d, want 1", s.Shards, s.Head, v)
		}
		tb.NoErrors()
		tb.Close()
	}
}

// TestFetchHeaderBounded: a Tailor-Fetch header is input from the network
// like the manifest; one that names 500 blobs (server/api names two at
// most: the configuration and the head shard, or the one shard) makes
// the page fetch two, not 500, and it still ranks.
func TestFetchHeaderBounded(t *testing.T) {
	srv := newServer(t, site{Privacy: wire.PrivacyFederated, Shards: 2, Head: true, FetchMore: 500})
	tb := newTab(t)
	tb.load(srv.URL+"/store", "recs")
	for _, r := range srv.requests() {
		if strings.HasPrefix(r.Path, "/v1/shards/more") {
			t.Errorf("fetched %s, which the header named past its first two", r.Path)
		}
	}
	if v := eval[int](tb, `__t.ranked[0].version`); v != 1 {
		t.Errorf("ranked with model version %d, want 1", v)
	}
	tb.NoErrors()
}
