package demosite

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestStaticCached: the store's own script and style sheet are kept by
// the browser for a while (they have no validator), a missing file is not.
func TestStaticCached(t *testing.T) {
	s, err := NewStore(func() Script { return Script{Src: "/tailor.js"} }, "demo")
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	tests := []struct {
		path, cache string
		status      int
	}{
		{"/static/store.js", "public, max-age=300", 200},
		{"/static/store.css", "public, max-age=300", 200},
		{"/static/nope.css", "", 404},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.status || rec.Header().Get("Cache-Control") != tt.cache {
			t.Errorf("GET %s = %d, Cache-Control %q; want %d, %q", tt.path, rec.Code, rec.Header().Get("Cache-Control"), tt.status, tt.cache)
		}
	}
}
