package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/console"
)

// TestInstall: the install page writes the script tag with the loader's
// content-hashed URL, the site key and the SRI hash, and wires the page
// checker to the chunk that holds the loader's scanner; without built
// assets it says what to run.
func TestInstall(t *testing.T) {
	assets := map[string]api.AssetRef{
		"tailor.js":       {URL: "/assets/tailor.0123456789abcdef.js", Integrity: "sha384-AAAA"},
		"tailor-extra.js": {URL: "/assets/tailor-extra.fedcba9876543210.js", Integrity: "sha384-BBBB"},
	}
	s := newStack(t, stackConfig{opts: []console.Option{console.WithAssets(func(name string) (api.AssetRef, bool) {
		ref, ok := assets[name]
		return ref, ok
	})}})
	s.signIn(t, shopToken)
	page := s.do(t, http.MethodGet, "/console/sites/shop/install", nil)
	host := strings.TrimPrefix(s.url, "http://")
	for _, want := range []string{
		`&lt;script src=&#34;http://` + host + `/assets/tailor.0123456789abcdef.js&#34; data-site=&#34;shop&#34; integrity=&#34;sha384-AAAA&#34; crossorigin=&#34;anonymous&#34; async&gt;&lt;/script&gt;`,
		`data-scanner="/assets/tailor-extra.fedcba9876543210.js"`,
		`<script type="module" src="/console/static/checker.js"></script>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the install page lacks %s:\n%s", want, page.body)
		}
	}
	if js := s.do(t, http.MethodGet, "/console/static/checker.js", nil); js.code != http.StatusOK || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("checker.js: %d %s", js.code, js.header.Get("Content-Type"))
	}

	bare := newStack(t, stackConfig{})
	bare.signIn(t, shopToken)
	if page := bare.do(t, http.MethodGet, "/console/sites/shop/install", nil); !strings.Contains(page.body, "make dist") {
		t.Errorf("without assets the install page does not say what to run:\n%s", page.body)
	}
}
