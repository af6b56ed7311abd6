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
