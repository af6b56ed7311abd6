package demosite

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	s, err := NewStore(func() Script { return Script{Src: "/tailor.abc.js", Integrity: "sha384-x"} }, "demo")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	tests := []struct {
		path, want string
		status     int
	}{
		{"/", `data-tailor-slot="hero"`, 200},
		{"/", `src="/tailor.abc.js" data-site="demo" integrity="sha384-x"`, 200},
		{"/", `<h2>Store picks</h2>`, 200},
		{"/p/evening-gowns-1", `"@type":"Product"`, 200},
		{"/p/evening-gowns-1", `data-tailor-slot="also-like"`, 200},
		{"/a/post-formal-party", "How to style for a formal party", 200},
		{"/c/gps-watches", "Pace GPS Running Watch", 200},
		{"/search?q=gown", "results for", 200},
		{"/cart", `id="checkout"`, 200},
		{"/img/jewelry-1", "<svg", 200},
		{"/static/store.js", "dataLayer", 200},
		{"/p/nope", "", 404},
		{"/a/evening-gowns-1", "", 404},
	}
	for _, tt := range tests {
		status, body := get(mux, tt.path)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d, body contains %q: %v", tt.path, status, tt.want, strings.Contains(body, tt.want))
		}
	}
}

// get returns the status and body h answers a GET of path with.
func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestCatalog(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Products) < 60 {
		t.Errorf("%d products, want 60+", len(c.Products))
	}
	seen := map[string]bool{}
	for _, list := range [][]Product{c.Products, c.Articles, c.Banners} {
		for _, p := range list {
			if seen[p.ID] || p.Name == "" || p.Category == "" {
				t.Errorf("bad or duplicate entry %+v", p)
			}
			seen[p.ID] = true
		}
	}
	for _, want := range []string{"post-formal-party", "post-first-marathon", "banner-summer", "coffee-filters-1"} {
		if c.Find(want) == nil {
			t.Errorf("catalogue lacks %s", want)
		}
	}
}
