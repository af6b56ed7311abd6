//go:build !wasip1

package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
)

const page = `<!doctype html><title>browsertest</title>
<script>window.__sawEarly = window.__early === true;</script>
<button id="b" onclick="this.replaceWith(Object.assign(document.createElement('p'), {id: 'done'}))">b</button>
<script>fetch('/ping').then(() => { window.__pinged = true; });</script>`

func TestTab(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(page))
	}))
	defer srv.Close()

	tb := browsertest.New(t, browsertest.WithWindowSize(800, 600), browsertest.WithScripts(`window.__early = true;`))
	tb.Open(srv.URL + "/")
	if !browsertest.Eval[bool](tb, `window.__sawEarly`) {
		t.Error("the script given to New did not run before the page's own")
	}
	tb.Click(`#b`)
	tb.Wait(`document.getElementById('done')`)
	tb.Wait(`window.__pinged`)
	if reqs := tb.Requests(); !slices.Contains(reqs, "GET "+srv.URL+"/ping") {
		t.Errorf("requests %q: no GET /ping", reqs)
	}
	tb.NoErrors()

	browsertest.Eval[bool](tb, `localStorage.setItem('k', 'v'), console.error('boom'), true`)
	deadline := time.Now().Add(5 * time.Second)
	for !slices.ContainsFunc(tb.Errors(), func(e string) bool { return strings.Contains(e, "boom") }) {
		if time.Now().After(deadline) {
			t.Fatalf("console.error not among the errors: %q", tb.Errors())
		}
		time.Sleep(20 * time.Millisecond)
	}

	sib := tb.Sibling()
	sib.Open(srv.URL + "/")
	if v := browsertest.Eval[string](sib, `localStorage.getItem('k')`); v != "v" {
		t.Errorf("a sibling tab reads %q from localStorage, want the first tab's %q", v, "v")
	}
	if errs := sib.Errors(); len(errs) > 0 {
		t.Errorf("the sibling tab has the first tab's errors: %q", errs)
	}
}

// TestMeasureRank runs MeasureRank on a page whose tailor.rank records
// what it was given: the page's items under the selector, once each, then
// made-up ones, for every warm-up and timed call.
func TestMeasureRank(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>rank</title>
<div id="other"><a data-tailor-item="o1" data-tailor-category="c" data-tailor-tags="t" data-tailor-price="1">o1</a></div>
<div id="recs"><a data-tailor-item="a" data-tailor-category="c" data-tailor-tags="x,y" data-tailor-price="5">a</a>
<a data-tailor-item="b">b</a><a data-tailor-item="a">a again</a></div>
<script>window.tailor = { given: [], rank: async (items, opts) => { tailor.given.push(items.map(i => i.id).join() + "/" + opts.slot); return []; } };</script>`))
	}))
	defer srv.Close()
	tb := browsertest.New(t)
	tb.Open(srv.URL + "/")
	l := browsertest.MeasureRank(tb, "#recs", 4, 2, 5)
	if l.Calls != 5 || l.P50 < 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max || l.Mean > l.Max {
		t.Errorf("latency %+v", l)
	}
	given := browsertest.Eval[[]string](tb, `tailor.given`)
	if len(given) != 7 || given[0] != "a,b,bench-2,bench-3/bench" || given[6] != given[0] {
		t.Errorf("tailor.rank was given %q, want 7 calls with a,b,bench-2,bench-3", given)
	}
	browsertest.Eval[bool](tb, `(tailor.given = [], true)`)
	browsertest.MeasureRank(tb, "", 2, 0, 1)
	if given := browsertest.Eval[[]string](tb, `tailor.given`); !slices.Equal(given, []string{"o1,a/bench"}) {
		t.Errorf("over the whole page, n 2: tailor.rank was given %q", given)
	}
	tb.NoErrors()
}
