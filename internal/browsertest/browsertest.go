//go:build !wasip1

// Package browsertest drives a headless Chromium for Tailor's browser
// tests (sdk/js, demo-site/e2e) with chromedp: a fresh browser per tab,
// scripts injected before the page's own, what the page reported recorded
// from DevTools, and the few waits and clicks that survive a page
// navigating or re-ranking under them.
//
// It exists so that those test packages share one copy of that core; what
// is particular to each (the loader's slot orders, the demo store's front
// proxy, request allow-lists, screenshots) stays in its own test files,
// built on a Tab:
//
//	tb := browsertest.New(t, browsertest.WithScripts(recorder))
//	tb.Open(srv.URL + "/store")
//	tb.Wait(`window.tailor && window.tailor.ready`)
//	tb.Click(`#recs [data-tailor-item="w1"]`)
//	n := browsertest.Eval[int](tb, `__t.ranked.length`)
//	tb.NoErrors()
//
// Without Chromium, New skips the test, saying so (see Missing).
//
// It is not built for wasip1: `make test` vets ./sdk/... for
// GOOS=wasip1, where chromedp does not build.
package browsertest

import (
	"errors"
	"os"
)

// DefaultChromium is Debian's Chromium (apt-get install chromium), the
// browser driven unless CHROMIUM names another.
const DefaultChromium = "/usr/bin/chromium"

// Chromium returns the path of the browser the tests drive: $CHROMIUM, or
// DefaultChromium.
func Chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

// Missing returns why no browser test can run here (there is no Chromium
// at Chromium()), or "" when they can. A TestMain reads it to skip its
// costly setup; New skips with it.
func Missing() string {
	p := Chromium()
	if _, err := os.Stat(p); err != nil {
		return "browser tests skipped: chromium not installed (no " + p + "; apt-get install chromium, or set CHROMIUM)"
	}
	return ""
}

// Option configures the browser New starts.
type Option func(*config) error

type config struct {
	width, height int
	scripts       []string
}

// WithWindowSize sets the browser's window (1000 × 800 unless set).
func WithWindowSize(width, height int) Option {
	return func(c *config) error {
		if width <= 0 || height <= 0 {
			return errors.New("browsertest: window size must be positive")
		}
		c.width, c.height = width, height
		return nil
	}
}

// WithScripts adds scripts that run in every document the tab opens, before
// the page's own scripts (a recorder of events, a stub of an API).
func WithScripts(src ...string) Option {
	return func(c *config) error {
		c.scripts = append(c.scripts, src...)
		return nil
	}
}
