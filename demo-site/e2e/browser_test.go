//go:build !wasip1

package e2e

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tailorhq/tailor/internal/browsertest"
)

// recorder runs before the page's own scripts in every document: it
// records what the tests read and a visitor could see in DevTools (errors
// the page sees, each tailor:ranked event, long tasks, CSP violations).
// It is the test's, not the store's: the store's pages are served as
// they are.
const recorder = `(() => {
	const t = window.__t = { errors: [], ranked: [], longtasks: [], frames: [], csp: [] };
	addEventListener("error", (e) => t.errors.push("error: " + e.message));
	addEventListener("unhandledrejection", (e) => t.errors.push("unhandled rejection: " + e.reason));
	document.addEventListener("securitypolicyviolation", (e) => t.csp.push(e.violatedDirective + " " + e.blockedURI));
	document.addEventListener("tailor:ranked", (e) => {
		const d = e.detail;
		t.ranked.push({ slot: d.slot, at: performance.now(), ids: d.items.map((x) => x.id), arm: d.arm, version: d.version });
	});
	try {
		new PerformanceObserver((list) => list.getEntries().forEach((x) =>
			t.longtasks.push({ start: x.startTime, duration: x.duration })
		)).observe({ type: "longtask", buffered: true });
		// Long animation frames say which scripts ran in them.
		new PerformanceObserver((list) => list.getEntries().forEach((x) =>
			t.frames.push({ start: x.startTime, duration: x.duration, blocking: x.blockingDuration,
				scripts: x.scripts.map((s) => ({ src: s.sourceURL, invoker: s.invoker, duration: s.duration })) })
		)).observe({ type: "long-animation-frame", buffered: true });
	} catch (e) { /* no long task timing */ }
})();`

// tab is one page in a fresh Chromium (its own profile directory, so its
// HTTP cache and IndexedDB start empty: a new visitor), with the demo
// store's own helpers.
type tab struct {
	*browsertest.Tab
	front *front // where the browser reaches the store
}

// newTab starts Chromium on the store behind f (a new front when nil);
// each script in early runs in every new document before the page's own
// scripts, after the recorder.
func newTab(t *testing.T, f *front, early ...string) *tab {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	if f == nil {
		f = newFront(t, frontOptions{})
	}
	bt := browsertest.New(t, browsertest.WithWindowSize(1200, 900), browsertest.WithScripts(recorder), browsertest.WithScripts(early...))
	return &tab{Tab: bt, front: f}
}

// eval is browsertest.Eval on a tab.
func eval[T any](tb *tab, expr string) T {
	tb.T().Helper()
	return browsertest.Eval[T](tb.Tab, expr)
}

// open loads a page of the store (a path) and waits for Tailor to be
// ready on it (tailor.ready resolves even when Tailor fails).
func (tb *tab) open(path string) {
	tb.T().Helper()
	tb.Open(tb.front.URL + path)
	tb.Wait(`window.tailor && window.tailor.ready`)
	eval[bool](tb, `window.tailor.ready.then(() => true)`)
}

// visit opens a page and waits until its slot was ranked (personalized),
// as a visitor's next page view.
func (tb *tab) visit(path, slot string) {
	tb.T().Helper()
	tb.open(path)
	tb.waitRanked(slot, 1)
}

// waitRanked waits until slot was ranked at least n times on this page.
func (tb *tab) waitRanked(slot string, n int) {
	tb.T().Helper()
	tb.Wait(fmt.Sprintf(`__t.ranked.filter(r => r.slot == %q).length >= %d`, slot, n))
}

// rankings returns how many times slot was ranked on this page.
func (tb *tab) rankings(slot string) int {
	tb.T().Helper()
	return eval[int](tb, fmt.Sprintf(`__t.ranked.filter(r => r.slot == %q).length`, slot))
}

// item is an item as a slot shows it: its id and what the loader set on
// its element to explain its place.
type item struct {
	ID, Category, Source, Reason, Ref string
}

func (it item) String() string {
	s := it.ID + " (" + it.Source
	if it.Reason != "" {
		s += ", " + it.Reason
	}
	if it.Ref != "" {
		s += ": " + it.Ref
	}
	return s + ")"
}

// slot returns the items a slot shows (those displayed), in page order.
func (tb *tab) slot(name string) []item {
	tb.T().Helper()
	return tb.items(name, ".filter(e => e.checkVisibility())")
}

// candidates returns every item of a slot in its order, those past its
// limit (hidden) included: the whole ranking, not only what shows.
func (tb *tab) candidates(name string) []item {
	tb.T().Helper()
	return tb.items(name, "")
}

// items reads a slot's items in their order, through filter.
func (tb *tab) items(name, filter string) []item {
	tb.T().Helper()
	return eval[[]item](tb, fmt.Sprintf(`[...document.querySelectorAll('[data-tailor-slot=%q] [data-tailor-item]')]
		%s
		.map(e => ({id: e.dataset.tailorItem, category: e.dataset.tailorCategory || '',
			source: e.dataset.tailorSource || '', reason: e.dataset.tailorReason || '', ref: e.dataset.tailorRef || ''}))`, name, filter))
}

// ids returns the ids of items.
func ids(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// screenshot saves a full-page PNG as dist/screenshots/name.png and
// returns its path.
func (tb *tab) screenshot(name string) string {
	tb.T().Helper()
	png := browsertest.Run(tb.Tab, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(env.shots, 0o755); err != nil {
		tb.T().Fatal(err)
	}
	path := filepath.Join(env.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.T().Fatal(err)
	}
	tb.T().Logf("screenshot: %s", path)
	return path
}

// checkRequests fails the test for any request the page made other than
// the store's own pages and files, what Tailor loads (its assets, the
// model's manifest, configuration and shards) and, when allowed, sync. It
// reads both sides: what DevTools saw the page send (any host), and what
// reached the store's front (beacons of unloading pages included).
func (tb *tab) checkRequests(syncAllowed bool) {
	tb.T().Helper()
	host := strings.TrimPrefix(tb.front.URL, "http://")
	for _, r := range tb.Requests() {
		method, raw, _ := strings.Cut(r, " ")
		if raw == "about:blank" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Host != host {
			tb.T().Errorf("a request left the store: %s", r)
			continue
		}
		if !allowed(method, u.Path, u.RawQuery, syncAllowed) {
			tb.T().Errorf("unexpected request from the page: %s", r)
		}
	}
	for _, r := range tb.front.requests() {
		if !allowed(r.Method, r.Path, r.Query, syncAllowed) {
			tb.T().Errorf("unexpected request at the store: %s (%d)", r, r.Status)
		}
	}
}

// allowed reports whether a request is one a page of the store may make:
// the store's pages, images, script and style (and the icon the browser
// asks for), Tailor's script, its lazily loaded chunk and wasm at their
// hashed names, the demo site's model (manifest, configuration, shards),
// and sync when allowed.
func allowed(method, path, query string, syncAllowed bool) bool {
	switch {
	case method == "GET" && (path == "/" || path == "/search" || path == "/cart" || path == "/favicon.ico" ||
		strings.HasPrefix(path, "/p/") || strings.HasPrefix(path, "/a/") || strings.HasPrefix(path, "/c/") ||
		strings.HasPrefix(path, "/img/") || strings.HasPrefix(path, "/static/")):
	case method == "GET" && (path == env.script || path == env.wasm):
	case method == "GET" && strings.HasPrefix(path, "/assets/tailor-details.") && strings.HasSuffix(path, ".js"): // the loader's lazily loaded chunk of profile()'s details
	case method == "GET" && strings.HasPrefix(path, "/assets/tailor-extra.") && strings.HasSuffix(path, ".js"): // the scanner's chunk (a site that declares slots)
	case method == "GET" && path == "/v1/model" && query == "site=demo":
	case method == "GET" && (strings.HasPrefix(path, "/v1/config/") || strings.HasPrefix(path, "/v1/shards/")):
	case method == "POST" && path == "/v1/sync" && query == "":
		return syncAllowed
	default:
		return false
	}
	return true
}

// visitor starts a new visitor's browser (through f; a new front when
// nil) and opens their first page, waiting for slot to be ranked. A new
// visitor is drawn into the site's holdout (5% of the demo's devices,
// which keep the store's default order so that the uplift can be
// measured) on their first ranking; the scenarios are about the other
// 95%, so a holdout visitor is let go and another one comes.
//
// The first page's profile is stored before visitor returns: on a first
// visit the loader's writes wait for IndexedDB to create its database,
// which takes seconds under load, and a page left before that is frozen
// in the back/forward cache with them, never to write them; the next
// pages then start without its view (TestScenario5And6GiftBuyer led with
// the formal banner and story, his running shoes lost; a visitor who
// stays a few seconds on a page, as people do, does not meet it).
func visitor(t *testing.T, f *front, path, slot string, early ...string) *tab {
	t.Helper()
	for try := 0; ; try++ {
		tb := newTab(t, f, early...)
		tb.visit(path, slot)
		arm := eval[string](tb, `__t.ranked[0].arm`)
		if arm != "holdout" || try == 4 {
			tb.Wait(profileStored)
			return tb
		}
		t.Logf("visitor %d was drawn into the holdout (the store's default order, by design): another visitor comes", try+1)
		tb.Close()
	}
}

// profileStored is whether the loader's IndexedDB record holds a profile,
// or storage is blocked (TestStorageBlocked): nothing to wait for. It
// creates no database (the loader's own creation stays the one).
const profileStored = `new Promise(done => {
	let q;
	try { q = indexedDB.open("tailor"); } catch { return done(true); }
	q.onupgradeneeded = () => q.transaction.abort();
	q.onerror = () => done(false);
	q.onsuccess = () => {
		const db = q.result;
		if (!db.objectStoreNames.contains("kv")) return db.close(), done(false);
		const r = db.transaction("kv").objectStore("kv").getAll();
		r.onsuccess = () => (db.close(), done(r.result.some(x => x && x.p)));
	};
})`

// shiftClock moves the page's clock by d: Date.now() and new Date() (with
// no arguments) read d later; a date given explicitly stays as given.
func shiftClock(d time.Duration) string {
	return fmt.Sprintf(`(() => {
	const shift = %d, RealDate = Date, realNow = Date.now;
	function ShiftedDate(...a) {
		const d = a.length ? new RealDate(...a) : new RealDate(realNow() + shift);
		return new.target ? d : d.toString();
	}
	ShiftedDate.prototype = RealDate.prototype;
	ShiftedDate.now = () => realNow() + shift;
	ShiftedDate.parse = RealDate.parse;
	ShiftedDate.UTC = RealDate.UTC;
	window.Date = ShiftedDate;
})();`, d.Milliseconds())
}

// joinShots lays screenshots side by side, left to right, into
// dist/screenshots/name.png and returns its path.
func joinShots(t *testing.T, name string, paths ...string) string {
	t.Helper()
	var shots []image.Image
	w, h := 0, 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		shots = append(shots, img)
		w += img.Bounds().Dx()
		h = max(h, img.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	x := 0
	for _, img := range shots {
		r := img.Bounds()
		draw.Draw(out, image.Rect(x, 0, x+r.Dx(), r.Dy()), img, r.Min, draw.Src)
		x += r.Dx()
	}
	path := filepath.Join(env.shots, name+".png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, out); err != nil {
		t.Fatal(err)
	}
	return path
}
