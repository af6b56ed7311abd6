//go:build !wasip1

package e2e

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
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
// HTTP cache and IndexedDB start empty: a new visitor), with what the page
// did recorded from DevTools events.
type tab struct {
	t     *testing.T
	ctx   context.Context
	close func() // ends this browser
	front *front // where the browser reaches the store

	mu         sync.Mutex
	exceptions []string // uncaught exceptions and unhandled rejections
	console    []string // console.error and console.warn calls
	logErrors  []string // the browser's own error log (failed loads among them)
	requests   []string // "METHOD URL" of every request the page made
}

// newTab starts Chromium on the store behind f (a new front when nil);
// each script in early runs in every new document before the page's own
// scripts.
func newTab(t *testing.T, f *front, early ...string) *tab {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	if f == nil {
		f = newFront(t, frontOptions{})
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var once sync.Once
	tb := &tab{t: t, ctx: ctx, front: f, close: func() { once.Do(func() { cancel(); cancelAlloc() }) }}
	t.Cleanup(tb.close)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.exceptions = append(tb.exceptions, msg)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				tb.console = append(tb.console, string(ev.Type)+": "+strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				tb.logErrors = append(tb.logErrors, string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, ev.Request.Method+" "+ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range append([]string{recorder}, early...) {
		tb.addScript(src)
	}
	return tb
}

// addScript runs src in every document opened from now on, before the
// page's own scripts.
func (tb *tab) addScript(src string) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		tb.t.Fatal(err)
	}
}

// run runs actions with a deadline.
func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

// open loads a page of the store (a path) and waits for Tailor to be
// ready on it (tailor.ready resolves even when Tailor fails).
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(tb.front.URL + path))
	tb.wait(`window.tailor && window.tailor.ready`)
	eval[bool](tb, `window.tailor.ready.then(() => true)`)
}

// visit opens a page and waits until its slot was ranked (personalized),
// as a visitor's next page view.
func (tb *tab) visit(path, slot string) {
	tb.t.Helper()
	tb.open(path)
	tb.waitRanked(slot, 1)
}

// waitRanked waits until slot was ranked at least n times on this page.
func (tb *tab) waitRanked(slot string, n int) {
	tb.t.Helper()
	tb.wait(fmt.Sprintf(`__t.ranked.filter(r => r.slot == %q).length >= %d`, slot, n))
}

// rankings returns how many times slot was ranked on this page.
func (tb *tab) rankings(slot string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`__t.ranked.filter(r => r.slot == %q).length`, slot))
}

// eval evaluates a JavaScript expression, awaiting a promise, into a T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	for err != nil && staleContext(err) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	}
	if err != nil {
		tb.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// wait evaluates a JavaScript expression every 20 ms until it (or the
// promise it gives) is truthy.
func (tb *tab) wait(expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	check := chromedp.Evaluate[bool]("Promise.resolve("+expr+").then(v => !!v)", chromedp.EvalAwaitPromise)
	for {
		ok, err := chromedp.Run(ctx, check)
		switch {
		case err == nil && ok:
			return
		case ctx.Err() != nil:
			tb.t.Fatalf("waiting for %s: %v\npage errors: %v", expr, ctx.Err(), tb.errors())
		case err != nil && !staleContext(err) && !strings.Contains(err.Error(), "is not defined"):
			tb.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// staleContext reports whether err is DevTools losing the page's
// JavaScript context to a navigation in flight: worth another try.
func staleContext(err error) bool {
	return strings.Contains(err.Error(), "Cannot find context with specified id") ||
		strings.Contains(err.Error(), "Execution context was destroyed")
}

// click clicks the element sel matches, as a visitor would: the mouse
// moves to it (scrolling it into view) and clicks. A slot re-ranked in
// between (after an earlier click) may replace the node chromedp
// resolved, so a click that lost its node is tried again.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") && !strings.Contains(err.Error(), "could not find node") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		tb.t.Fatalf("click %s: %v", sel, err)
	}
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
	tb.t.Helper()
	return eval[[]item](tb, fmt.Sprintf(`[...document.querySelectorAll('[data-tailor-slot=%q] [data-tailor-item]')]
		.filter(e => e.checkVisibility())
		.map(e => ({id: e.dataset.tailorItem, category: e.dataset.tailorCategory || '',
			source: e.dataset.tailorSource || '', reason: e.dataset.tailorReason || '', ref: e.dataset.tailorRef || ''}))`, name))
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
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.MkdirAll(env.shots, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	path := filepath.Join(env.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot: %s", path)
	return path
}

// errors returns every error the page or the browser reported, except
// failed loads (the browser's network log), which tests read apart.
func (tb *tab) errors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	out = append(out, tb.exceptions...)
	out = append(out, tb.console...)
	for _, e := range tb.logErrors {
		if !strings.HasPrefix(e, "network:") {
			out = append(out, e)
		}
	}
	return out
}

// noErrors fails the test if the page saw any error.
func (tb *tab) noErrors() {
	tb.t.Helper()
	if errs := tb.errors(); len(errs) > 0 {
		tb.t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
	if errs := eval[[]string](tb, `window.__t ? __t.errors : []`); len(errs) > 0 {
		tb.t.Errorf("the page's scripts saw errors:\n%s", strings.Join(errs, "\n"))
	}
}

// pageRequests returns the requests the page made so far.
func (tb *tab) pageRequests() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.requests...)
}

// checkRequests fails the test for any request the page made other than
// the store's own pages and files, what Tailor loads (its assets, the
// model's manifest, configuration and shards) and, when allowed, sync. It
// reads both sides: what DevTools saw the page send (any host), and what
// reached the store's front (beacons of unloading pages included).
func (tb *tab) checkRequests(syncAllowed bool) {
	tb.t.Helper()
	host := strings.TrimPrefix(tb.front.URL, "http://")
	for _, r := range tb.pageRequests() {
		method, raw, _ := strings.Cut(r, " ")
		if raw == "about:blank" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Host != host {
			tb.t.Errorf("a request left the store: %s", r)
			continue
		}
		if !allowed(method, u.Path, u.RawQuery, syncAllowed) {
			tb.t.Errorf("unexpected request from the page: %s", r)
		}
	}
	for _, r := range tb.front.requests() {
		if !allowed(r.Method, r.Path, r.Query, syncAllowed) {
			tb.t.Errorf("unexpected request at the store: %s (%d)", r, r.Status)
		}
	}
}

// allowed reports whether a request is one a page of the store may make:
// the store's pages, images, script and style (and the icon the browser
// asks for), Tailor's script and wasm at their hashed names, the demo
// site's model (manifest, configuration, shards), and sync when allowed.
func allowed(method, path, query string, syncAllowed bool) bool {
	switch {
	case method == "GET" && (path == "/" || path == "/search" || path == "/cart" || path == "/favicon.ico" ||
		strings.HasPrefix(path, "/p/") || strings.HasPrefix(path, "/a/") || strings.HasPrefix(path, "/c/") ||
		strings.HasPrefix(path, "/img/") || strings.HasPrefix(path, "/static/")):
	case method == "GET" && (path == env.script || path == env.wasm):
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
func visitor(t *testing.T, f *front, path, slot string, early ...string) *tab {
	t.Helper()
	for try := 0; ; try++ {
		tb := newTab(t, f, early...)
		tb.visit(path, slot)
		arm := eval[string](tb, `__t.ranked[0].arm`)
		if arm != "holdout" || try == 4 {
			return tb
		}
		t.Logf("visitor %d was drawn into the holdout (the store's default order, by design): another visitor comes", try+1)
		tb.close()
	}
}

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

// as makes the tab report to t (a subtest) until the returned func runs.
func (tb *tab) as(t *testing.T) (restore func()) {
	parent := tb.t
	tb.t = t
	return func() { tb.t = parent }
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
