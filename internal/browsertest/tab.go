//go:build !wasip1

package browsertest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Tab is one page in a Chromium, with what the page did recorded from
// DevTools events: uncaught exceptions, console errors and warnings, the
// browser's own error log, and every request.
//
// # Notes
//
//   - A Tab reports to one test (New's t, or the one As names); its methods
//     that can fail the test must run on that test's goroutine. Errors,
//     Exceptions and Requests are safe from any goroutine.
//   - A Tab lives until Close or the end of its test, whichever comes
//     first. Closing the tab New made ends its browser, siblings included.
type Tab struct {
	t     testing.TB
	ctx   context.Context
	close func()

	mu         sync.Mutex
	exceptions []string // uncaught exceptions and unhandled rejections
	console    []string // console.error and console.warn calls
	logErrors  []string // the browser's own error log (failed loads among them)
	requests   []string // "METHOD URL" of every request the page made
}

// New starts a fresh Chromium and opens a tab in it. The browser has its
// own profile directory in t.TempDir(), so its HTTP cache and IndexedDB
// start empty: a new visitor. Without Chromium, New skips the test.
//
//	tb := browsertest.New(t, browsertest.WithWindowSize(1200, 900))
func New(t testing.TB, opts ...Option) *Tab {
	t.Helper()
	if why := Missing(); why != "" {
		t.Skip(why)
	}
	c := config{width: 1000, height: 800}
	for _, o := range opts {
		if err := o(&c); err != nil {
			t.Fatal(err)
		}
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(c.width, c.height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancel := chromedp.NewContext(actx)
	return start(t, ctx, func() { cancel(); cancelAlloc() }, c.scripts)
}

// Sibling opens another tab in tb's browser: same profile, so the same
// IndexedDB and HTTP cache (a visitor's second tab). Each script in
// scripts runs in its documents before the page's own scripts.
func (tb *Tab) Sibling(scripts ...string) *Tab {
	tb.t.Helper()
	ctx, cancel := chromedp.NewContext(tb.ctx)
	return start(tb.t, ctx, cancel, scripts)
}

// start opens the tab of ctx, records its events and adds scripts;
// closeFn ends it.
func start(t testing.TB, ctx context.Context, closeFn func(), scripts []string) *Tab {
	t.Helper()
	var once sync.Once
	tb := &Tab{t: t, ctx: ctx, close: func() { once.Do(closeFn) }}
	t.Cleanup(tb.close)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, tb.record); err != nil {
		t.Fatal(err)
	}
	for _, src := range scripts {
		tb.AddScript(src)
	}
	return tb
}

// record keeps what a DevTools event says the page did.
func (tb *Tab) record(ev any) {
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
}

// AddScript runs src in every document the tab opens from now on, before
// the page's own scripts.
func (tb *Tab) AddScript(src string) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		tb.t.Fatal(err)
	}
}

// Close closes the tab; closing the tab New made ends its browser. It is
// safe to call more than once; the end of the test calls it anyway.
func (tb *Tab) Close() { tb.close() }

// T returns the test the tab reports to.
func (tb *Tab) T() testing.TB { return tb.t }

// As makes the tab report to t (a subtest) until restore runs:
//
//	t.Run("mode", func(t *testing.T) {
//		defer tb.As(t)()
//		...
//	})
func (tb *Tab) As(t testing.TB) (restore func()) {
	parent := tb.t
	tb.t = t
	return func() { tb.t = parent }
}

// Errors returns every error the page or the browser reported, except
// failed loads (the browser's network log), which tests read apart.
func (tb *Tab) Errors() []string {
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

// Exceptions returns the uncaught exceptions and unhandled rejections
// alone, of those Errors returns.
func (tb *Tab) Exceptions() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.exceptions...)
}

// NoErrors fails the test if the page saw any error: one Errors returns,
// or one its scripts caught and kept in window.__t.errors (where the
// recorder scripts of Tailor's browser tests keep them).
func (tb *Tab) NoErrors() {
	tb.t.Helper()
	if errs := tb.Errors(); len(errs) > 0 {
		tb.t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
	if errs := Eval[[]string](tb, `window.__t ? __t.errors : []`); len(errs) > 0 {
		tb.t.Errorf("the page's scripts saw errors:\n%s", strings.Join(errs, "\n"))
	}
}

// Requests returns the requests the page made so far, as "METHOD URL".
func (tb *Tab) Requests() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.requests...)
}
