//go:build !wasip1

// Package jstest tests the browser loader (sdk/js) in Debian's Chromium,
// driven with chromedp: the real dist/tailor.js and tailor.wasm, served
// with a model shaped as server/api serves it from an httptest server on
// loopback. Without Chromium the tests skip, saying so.
package jstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// loaderAssets are what the tests serve: tailor.js, tailor.mjs and the
// lazily loaded chunks tailor-extra.js and tailor-details.js built by
// build/loader.sh from sdk/js/src, and dist/tailor.wasm (make wasm).
var loaderAssets struct {
	js, mjs, extra, details, wasm []byte
	skip                          string // why the browser tests cannot run
}

func TestMain(m *testing.M) {
	if loaderAssets.skip = browsertest.Missing(); loaderAssets.skip == "" {
		if err := build(); err != nil {
			fmt.Fprintln(os.Stderr, "jstest:", err)
			os.Exit(1)
		}
	}
	if loaderAssets.skip != "" {
		fmt.Fprintln(os.Stderr, "jstest:", loaderAssets.skip)
	}
	os.Exit(m.Run())
}

// build reads tailor.wasm from dist/, building it the way the Makefile
// does when it is missing, then makes tailor.js with build/loader.sh into
// a temporary directory (so the tests always run the current sources).
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
	// The wasm first: the loader starts fetching it by the hashed name it
	// was built with.
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
	if loaderAssets.wasm, err = os.ReadFile(wasm); err != nil {
		return err
	}
	if _, err := exec.LookPath("npm"); err != nil {
		b, err := os.ReadFile(filepath.Join(root, "dist", "tailor.js"))
		if err != nil {
			loaderAssets.skip = "browser tests skipped: no npm to build tailor.js and no dist/tailor.js (run build/loader.sh)"
			return nil
		}
		loaderAssets.js = b
		loaderAssets.mjs, _ = os.ReadFile(filepath.Join(root, "dist", "tailor.mjs"))
		loaderAssets.extra, _ = os.ReadFile(filepath.Join(root, "dist", "tailor-extra.js"))
		loaderAssets.details, _ = os.ReadFile(filepath.Join(root, "dist", "tailor-details.js"))
	} else {
		cmd := exec.Command("bash", filepath.Join(root, "build", "loader.sh"))
		cmd.Env = append(os.Environ(), "DIST="+tmp, "WASM="+wasm)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build/loader.sh: %w\n%s", err, out)
		}
		if loaderAssets.js, err = os.ReadFile(filepath.Join(tmp, "tailor.js")); err != nil {
			return err
		}
		if loaderAssets.mjs, err = os.ReadFile(filepath.Join(tmp, "tailor.mjs")); err != nil {
			return err
		}
		if loaderAssets.extra, err = os.ReadFile(filepath.Join(tmp, "tailor-extra.js")); err != nil {
			return err
		}
		if loaderAssets.details, err = os.ReadFile(filepath.Join(tmp, "tailor-details.js")); err != nil {
			return err
		}
	}
	return nil
}

// tab is one page in a fresh Chromium (its own profile directory, so its
// HTTP cache and IndexedDB start empty), with the loader's own helpers.
type tab struct{ *browsertest.Tab }

// newTab starts Chromium; each script in early runs in every new document
// before the page's own scripts.
func newTab(t *testing.T, early ...string) *tab {
	t.Helper()
	if loaderAssets.skip != "" {
		t.Skip(loaderAssets.skip)
	}
	return &tab{browsertest.New(t, browsertest.WithWindowSize(1000, 800), browsertest.WithScripts(early...))}
}

// sibling opens another tab in tb's browser: same profile, so the same
// IndexedDB and HTTP cache.
func (tb *tab) sibling(early ...string) *tab {
	tb.T().Helper()
	return &tab{tb.Sibling(early...)}
}

// eval is browsertest.Eval on a tab.
func eval[T any](tb *tab, expr string) T {
	tb.T().Helper()
	return browsertest.Eval[T](tb.Tab, expr)
}

// ready waits for tailor.ready (which resolves even when Tailor fails).
func (tb *tab) ready() {
	tb.T().Helper()
	tb.Wait(`window.tailor && window.tailor.ready`)
	eval[bool](tb, `window.tailor.ready.then(() => true)`)
}

// load opens url, waits for tailor.ready, then for the first ranking of
// each of slots (the tailor:ranked events the page records in __t.ranked).
func (tb *tab) load(url string, slots ...string) {
	tb.T().Helper()
	tb.Open(url)
	tb.ready()
	for _, s := range slots {
		tb.Wait(`__t.ranked.some(r => r.slot == '` + s + `')`)
	}
}

// order returns the item ids of a slot's visible children, in page order.
func (tb *tab) order(slot string) []string {
	tb.T().Helper()
	return eval[[]string](tb, `[...document.querySelectorAll('`+slot+` [data-tailor-item]')]
		.filter(e => !e.closest('[hidden]')).map(e => e.dataset.tailorItem)`)
}

// rankings returns how many tailor:ranked events a slot had.
func (tb *tab) rankings(slot string) int {
	tb.T().Helper()
	return eval[int](tb, `__t.ranked.filter(r => r.slot == '`+slot+`').length`)
}
