//go:build !wasip1

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// page returns the HTML of a page of the demo store.
func page(t *testing.T, path string) string {
	t.Helper()
	res, err := http.Get(env.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return string(b)
}

// TestConsoleInstall: the sites page marks the demo site as the --sites
// file's, its site page shows its configuration, and the install page shows the script tag with the
// loader's hashed URL and SRI, and its page checker, given the demo
// store's HTML, finds its slots and items (with the loader's own scanner)
// and, on a product page, the JSON-LD product.
func TestConsoleInstall(t *testing.T) {
	if env.skip != "" {
		t.Skip(env.skip)
	}
	con := consoleTab(t, "/site")
	con.Wait(`document.querySelector('form[action$="/site/rotate"]')`)
	if text := browsertest.Eval[string](con, `document.querySelector('main').innerText`); !strings.Contains(text, "--sites") || !strings.Contains(text, "federated") {
		t.Errorf("the site page does not show the demo site's configuration:\n%s", text)
	}
	shot(t, con, "console-site")
	con.Open(env.base + "/console")
	con.Wait(`document.querySelector('form[action="/console/sites"]')`)
	if text := browsertest.Eval[string](con, `document.querySelector('main').innerText`); !strings.Contains(text, "from file (--sites)") {
		t.Errorf("the sites page does not mark the demo site as from the file:\n%s", text)
	}
	shot(t, con, "console-sites")
	con.Open(env.base + "/console/sites/demo/install")
	con.Wait(`document.querySelector('#checker') && !document.querySelector('#checker').hidden`)
	if tag := browsertest.Eval[string](con, `document.querySelector('#tag').value`); !strings.Contains(tag, env.script) || !strings.Contains(tag, `integrity="sha384-`) || !strings.Contains(tag, `data-site="demo"`) {
		t.Errorf("the script tag %s lacks the loader's URL %s, its SRI or the site", tag, env.script)
	}
	checkHTML := func(page, path string) string {
		t.Helper()
		html, _ := json.Marshal(page)
		con.Wait(`(() => { document.querySelector('#html').value = ` + string(html) + `; document.querySelector('#url').value = location.origin + '` + path + `'; return true })()`)
		con.Click(`#checker button[type="submit"]`)
		con.Wait(`document.querySelector('#status').textContent == 'Checked.' && !document.querySelector('#found').hidden`)
		return browsertest.Eval[string](con, `document.querySelector('#found').innerText`)
	}
	check := func(path string) string { t.Helper(); return checkHTML(page(t, path), path) }
	home := check("/")
	t.Logf("the checker on the home page:\n%s", home)
	for _, want := range []string{"Slots (3)", "hero", "home-recs", "home-posts", "banner-summer", "banners"} {
		if !strings.Contains(home, want) {
			t.Errorf("the checker on the home page lacks %q", want)
		}
	}
	shot(t, con, "console-install")
	product := check("/p/evening-gowns-1")
	t.Logf("the checker on a product page:\n%s", product)
	for _, want := range []string{"JSON-LD products (1)", "evening-gowns-1", "also-like"} {
		if !strings.Contains(product, want) {
			t.Errorf("the checker on a product page lacks %q", want)
		}
	}
	// A page without Tailor's markup: its dataLayer pushes (GA4, gtag).
	bare := checkHTML(`<!doctype html><title>Mugs</title><script>window.dataLayer = window.dataLayer || [];
dataLayer.push({event: 'add_to_cart', ecommerce: {items: [{item_id: 'sku-1', item_name: 'Mug', price: 9.5}]}});
gtag('event', 'view_item', {items: [{item_id: 'sku-2'}]});</script><p>Mugs</p>`, "/mugs")
	t.Logf("the checker on a page without markup:\n%s", bare)
	for _, want := range []string{"dataLayer events (2)", "sku-1", "sku-2", "No Tailor script tag", "No slot"} {
		if !strings.Contains(bare, want) {
			t.Errorf("the checker on a page without markup lacks %q", want)
		}
	}
	con.NoErrors()
}
