//go:build !wasip1

package browsertest

import (
	"context"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// The deadlines of one step: an action (a navigation, a click, an
// evaluation), and a wait for a condition.
const (
	actionTimeout = 30 * time.Second
	waitTimeout   = 20 * time.Second
)

// Do runs actions in the tab with a deadline, failing the test on error.
func (tb *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

// Run runs an action that yields a value (a screenshot, say) with a
// deadline, failing the test on error.
func Run[T any](tb *Tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// Open loads url in the tab.
func (tb *Tab) Open(url string) {
	tb.t.Helper()
	tb.Do(chromedp.Navigate(url))
}

// Eval evaluates a JavaScript expression, awaiting a promise, into a T,
// failing the test on error. A navigation in flight is waited out.
//
//	ids := browsertest.Eval[[]string](tb, `__t.ranked.map(r => r.slot)`)
func Eval[T any](tb *Tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
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

// Wait evaluates a JavaScript expression every 20 ms until it (or the
// promise it gives) is truthy, failing the test after 20 s. A navigation
// in flight and a name not defined yet (a script still loading) are
// waited out.
//
// It is not chromedp.Poll: that keeps the JavaScript context of the page
// it started in, and a page restored from the back/forward cache has
// another.
func (tb *Tab) Wait(expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	check := chromedp.Evaluate[bool]("Promise.resolve("+expr+").then(v => !!v)", chromedp.EvalAwaitPromise)
	for {
		ok, err := chromedp.Run(ctx, check)
		switch {
		case err == nil && ok:
			return
		case ctx.Err() != nil:
			tb.t.Fatalf("waiting for %s: %v\npage errors: %v", expr, ctx.Err(), tb.Errors())
		case err != nil && !staleContext(err) && !strings.Contains(err.Error(), "is not defined"):
			tb.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// staleContext reports whether err is DevTools losing the page's
// JavaScript context to a navigation in flight (the promise it awaited
// included): worth another try.
func staleContext(err error) bool {
	return strings.Contains(err.Error(), "Cannot find context with specified id") ||
		strings.Contains(err.Error(), "Promise was collected") ||
		strings.Contains(err.Error(), "Execution context was destroyed") ||
		strings.Contains(err.Error(), "Inspected target navigated or closed")
}

// Click clicks the element sel matches, as a visitor would: the mouse
// moves to it (scrolling it into view) and clicks. Content replaced in
// between (a slot re-ranked after an earlier click) may remove the node
// chromedp resolved, so a click that lost its node is tried again, up to
// five times.
func (tb *Tab) Click(sel string) {
	tb.t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "could not find node") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		tb.t.Fatalf("click %s: %v", sel, err)
	}
}
