//go:build !wasip1

// Package jstest tests the browser loader (sdk/js) in Debian's Chromium,
// driven with chromedp: the real dist/tailor.js and tailor.wasm, served
// with a model shaped as server/api serves it from an httptest server on
// loopback. Without Chromium the tests skip, saying so.
package jstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// chromium is Debian's Chromium (apt-get install chromium); CHROMIUM
// overrides it.
var chromium = "/usr/bin/chromium"

// loaderAssets are what the tests serve: tailor.js built by
// build/loader.sh from sdk/js/src, and dist/tailor.wasm (make wasm).
var loaderAssets struct {
	js, mjs, wasm []byte
	skip          string // why the browser tests cannot run
}

func TestMain(m *testing.M) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		chromium = p
	}
	if _, err := os.Stat(chromium); err != nil {
		loaderAssets.skip = "browser tests skipped: no Chromium at " + chromium + " (apt-get install chromium, or set CHROMIUM)"
	} else if err := build(); err != nil {
		fmt.Fprintln(os.Stderr, "jstest:", err)
		os.Exit(1)
	}
	if loaderAssets.skip != "" {
		fmt.Fprintln(os.Stderr, "jstest:", loaderAssets.skip)
	}
	os.Exit(m.Run())
}

// build makes tailor.js with build/loader.sh into a temporary directory
// (so the tests always run the current sources) and reads tailor.wasm
// from dist/, building it the way the Makefile does when it is missing.
func build() error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tailor-loader-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := exec.LookPath("npm"); err != nil {
		b, err := os.ReadFile(filepath.Join(root, "dist", "tailor.js"))
		if err != nil {
			loaderAssets.skip = "browser tests skipped: no npm to build tailor.js and no dist/tailor.js (run build/loader.sh)"
			return nil
		}
		loaderAssets.js = b
		loaderAssets.mjs, _ = os.ReadFile(filepath.Join(root, "dist", "tailor.mjs"))
	} else {
		cmd := exec.Command("bash", filepath.Join(root, "build", "loader.sh"))
		cmd.Env = append(os.Environ(), "DIST="+tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build/loader.sh: %w\n%s", err, out)
		}
		if loaderAssets.js, err = os.ReadFile(filepath.Join(tmp, "tailor.js")); err != nil {
			return err
		}
		if loaderAssets.mjs, err = os.ReadFile(filepath.Join(tmp, "tailor.mjs")); err != nil {
			return err
		}
	}
	wasm := filepath.Join(root, "dist", "tailor.wasm")
	if _, err := os.Stat(wasm); errors.Is(err, os.ErrNotExist) {
		wasm = filepath.Join(tmp, "tailor.wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared",
			"-ldflags=-s -w -buildid=", "-o", wasm, "./wasm/guest")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build tailor.wasm: %w\n%s", err, out)
		}
	}
	loaderAssets.wasm, err = os.ReadFile(wasm)
	return err
}

// tab is one page in a fresh Chromium (its own profile directory, so its
// HTTP cache and IndexedDB start empty), with what the page did recorded
// from DevTools events.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string // uncaught exceptions and unhandled rejections
	console    []string // console.error and console.warn calls
	logErrors  []string // the browser's own error log (failed loads among them)
	requests   []string // "METHOD URL" of every request the page made
}

// newTab starts Chromium; each script in early runs in every new document
// before the page's own scripts.
func newTab(t *testing.T, early ...string) *tab {
	t.Helper()
	if loaderAssets.skip != "" {
		t.Skip(loaderAssets.skip)
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
		chromedp.WindowSize(1000, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	return attach(t, actx, early)
}

// sibling opens another tab in tb's browser: same profile, so the same
// IndexedDB and HTTP cache.
func (tb *tab) sibling(early ...string) *tab {
	tb.t.Helper()
	return attach(tb.t, tb.ctx, early)
}

// attach opens a tab in the browser of parent (starting it if needed).
func attach(t *testing.T, parent context.Context, early []string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
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
	for _, src := range early {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

// do runs actions with a deadline.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

// open loads url.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url))
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
// (Not chromedp.Poll: it keeps the context of the page it started in,
// and a page restored from the back/forward cache has another.)
func (tb *tab) wait(expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	check := chromedp.Evaluate[bool]("Promise.resolve("+expr+").then(v => !!v)", chromedp.EvalAwaitPromise)
	for {
		ok, err := chromedp.Run(ctx, check)
		switch {
		case ok:
			return
		case ctx.Err() != nil:
			tb.t.Fatalf("waiting for %s: %v\npage errors: %v", expr, ctx.Err(), tb.errors())
		case err != nil && !staleContext(err):
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

// ready waits for tailor.ready (which resolves even when Tailor fails).
func (tb *tab) ready() {
	tb.t.Helper()
	tb.wait(`window.tailor && window.tailor.ready`)
	eval[bool](tb, `window.tailor.ready.then(() => true)`)
}

// click clicks the element sel matches, as a visitor would.
// A real mouse click resolves the element, scrolls to it, then clicks; a
// slot re-ranked in between (after an earlier click) replaces the node
// chromedp resolved, so a click that lost its node is tried again.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		tb.t.Fatal(err)
	}
}

// order returns the item ids of a slot's visible children, in page order.
func (tb *tab) order(slot string) []string {
	tb.t.Helper()
	return eval[[]string](tb, `[...document.querySelectorAll('`+slot+` [data-tailor-item]')]
		.filter(e => !e.closest('[hidden]')).map(e => e.dataset.tailorItem)`)
}

// rankings returns how many tailor:ranked events a slot had.
func (tb *tab) rankings(slot string) int {
	tb.t.Helper()
	return eval[int](tb, `__t.ranked.filter(r => r.slot == '`+slot+`').length`)
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
