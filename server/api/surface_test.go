package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/server/api"
)

// withFields appends fields to an encoded delta's map (a fixmap).
func withFields(t *testing.T, body []byte, kv ...string) []byte {
	t.Helper()
	if body[0] < 0x80 || int(body[0])+len(kv)/2 > 0x8f {
		t.Fatalf("not a small fixmap: %x", body[0])
	}
	w := msgp.NewWriter(len(body) + 128)
	w.Raw([]byte{body[0] + byte(len(kv)/2)})
	w.Raw(body[1:])
	for _, s := range kv {
		w.String(s)
	}
	return w.Bytes()
}

// TestSyncStoresCanonical: a body with fields a modified loader added (the
// page URL, a search query) is accepted, and the store holds the delta
// re-encoded, with neither key nor value; a retry of the same body is a
// duplicate.
func TestSyncStoresCanonical(t *testing.T) {
	s := newStack(t, stackConfig{})
	d := newDelta()
	body := withFields(t, enc(d), "url", "https://shop.example/orders?email=visitor@example.com", "q", "pregnancy test")
	r := s.sync(t, body)
	if r.code != http.StatusAccepted {
		t.Fatalf("sync with extra fields: %d %s", r.code, r.body)
	}
	ds, err := s.store.Deltas(context.Background(), "demo", 0, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("stored %d deltas, %v", len(ds), err)
	}
	stored := ds[0].Body
	for _, leak := range []string{"url", "shop.example", "visitor@example.com", "pregnancy", "\xa1q"} {
		if bytes.Contains(stored, []byte(leak)) {
			t.Errorf("the stored delta holds %q: %x", leak, stored)
		}
	}
	if !bytes.Equal(stored, enc(d)) {
		t.Errorf("stored %x, want the canonical encoding %x", stored, enc(d))
	}
	r = s.sync(t, body)
	if r.code != http.StatusAccepted || r.header.Get(api.SyncStatusHeader) != "duplicate" {
		t.Errorf("retry of the same body: %d %s", r.code, r.body)
	}
	r = s.sync(t, enc(d))
	if r.code != http.StatusAccepted || r.header.Get(api.SyncStatusHeader) != "duplicate" {
		t.Errorf("the same delta without the extra fields: %d %s", r.code, r.body)
	}
}

// TestSyncRateLimit: a source over its rate gets 429 with Retry-After and
// stores nothing; another source is unaffected; the refusals are counted
// in the metrics.
func TestSyncRateLimit(t *testing.T) {
	s := newStack(t, stackConfig{opts: []api.Option{api.WithRateLimit(0.001, 3), api.WithTrustForwardedFor(true)}})
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	for i := range 3 {
		if r := s.sync(t, enc(newDelta()), from("203.0.113.7")...); r.code != http.StatusAccepted {
			t.Fatalf("sync %d within the burst: %d %s", i+1, r.code, r.body)
		}
	}
	r := s.sync(t, enc(newDelta()), from("203.0.113.7")...)
	var e api.Error
	r.json(t, &e)
	if r.code != http.StatusTooManyRequests || e.Reason != "rate_limited" || r.header.Get("Retry-After") == "" || r.header.Get("Retry-After") == "0" {
		t.Fatalf("sync over the rate: %d %v %s", r.code, r.header, r.body)
	}
	t.Logf("429, Retry-After %s: %s", r.header.Get("Retry-After"), e.Error)
	if n := s.stored(t, "demo"); n != 3 {
		t.Errorf("stored %d deltas, want 3", n)
	}
	if r := s.sync(t, enc(newDelta()), from("198.51.100.1")...); r.code != http.StatusAccepted {
		t.Errorf("another address: %d %s", r.code, r.body)
	}
	m := s.do(t, http.MethodGet, "/metrics", nil, asAdmin...)
	if !strings.Contains(string(m.body), `tailor_syncs_total{reason="rate_limited",result="rejected"} 1`) {
		t.Error("the metrics do not count the rate-limited sync")
	}
	if strings.Contains(string(m.body), "203.0.113.7") {
		t.Error("the metrics name the address")
	}
}

// TestHeaders: HTML pages (the index and a site's own pages) get a CSP
// that forbids framing, X-Frame-Options and a Referrer-Policy; every
// answer, /v1/model's included, nosniff; the manifest, whose CORS answer
// depends on Origin, Vary: Origin whatever the origin.
func TestHeaders(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/own-csp" {
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
		}
		if r.URL.Path != "/sniffed" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Write([]byte("<!doctype html><p>store"))
	})
	s := newStack(t, stackConfig{opts: []api.Option{api.WithPages(pages)}})
	s.sync(t, enc(newDelta()))
	s.flush(t)
	bare := newStack(t, stackConfig{})
	for _, tc := range []struct {
		name string
		s    *stack
		path string
		csp  string
	}{
		{"the index", bare, "/", ""},
		{"a site's page", s, "/product/1", ""},
		{"a site's home", s, "/", ""},
		{"a page with its own policy", s, "/own-csp", "default-src 'none'"},
		{"a page without a Content-Type", s, "/sniffed", ""},
	} {
		r := tc.s.do(t, http.MethodGet, tc.path, nil)
		h := r.header
		csp := h.Get("Content-Security-Policy")
		if tc.csp != "" && csp != tc.csp || tc.csp == "" && (!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval'")) {
			t.Errorf("%s: CSP %q", tc.name, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", tc.name, h)
		}
	}
	for _, o := range []string{"", origin, "https://evil.example"} {
		r := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Origin", o)
		if r.code != 200 || !vary(r.header, "Origin") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("manifest, Origin %q: %d %v", o, r.code, r.header)
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); (o == origin) != (got == origin) {
			t.Errorf("manifest, Origin %q: Access-Control-Allow-Origin %q", o, got)
		}
		if r.header.Get("Content-Security-Policy") != "" {
			t.Errorf("manifest with a CSP: %v", r.header)
		}
	}
	for _, path := range []string{"/healthz", "/v1/model?site=nope", "/v1/assets", "/v1/openapi.yaml", "/metrics"} {
		if r := s.do(t, http.MethodGet, path, nil); r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d without nosniff", path, r.code)
		}
	}
	if r := s.sync(t, []byte("junk")); r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("a sync refusal without nosniff")
	}
}

func vary(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return true
			}
		}
	}
	return false
}

// TestMethodNotAllowed: another method on an API path is 405 with Allow,
// with a site's pages beside the API (which would answer 404) or not.
func TestMethodNotAllowed(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	for _, s := range []*stack{newStack(t, stackConfig{opts: []api.Option{api.WithPages(pages)}}), newStack(t, stackConfig{})} {
		for _, tc := range []struct{ method, path, allow string }{
			{"POST", "/v1/model?site=demo", "GET, HEAD"},
			{"DELETE", "/v1/model", "GET, HEAD"},
			{"GET", "/v1/sync", "OPTIONS, POST"},
			{"PUT", "/v1/sync", "OPTIONS, POST"},
			{"POST", "/v1/stats", "GET, HEAD"},
			{"POST", "/metrics", "GET, HEAD"},
			{"POST", "/v1/shards/" + strings.Repeat("a", 64), "GET, HEAD"},
			{"DELETE", "/assets/tailor.js", "GET, HEAD"},
		} {
			r := s.do(t, tc.method, tc.path, nil)
			var e api.Error
			r.json(t, &e)
			if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow || e.Reason != "method_not_allowed" {
				t.Errorf("%s %s: %d Allow %q %s, want 405 Allow %q", tc.method, tc.path, r.code, r.header.Get("Allow"), r.body, tc.allow)
			}
		}
		if r := s.do(t, http.MethodHead, "/v1/model?site=demo", nil); r.code == http.StatusMethodNotAllowed {
			t.Errorf("HEAD /v1/model: 405")
		}
	}
}

// TestIndexNamesNoSite: GET / on a server of several sites lists none of
// their keys.
func TestIndexNamesNoSite(t *testing.T) {
	s := newStack(t, stackConfig{})
	r := s.do(t, http.MethodGet, "/", nil)
	if r.code != 200 {
		t.Fatalf("GET /: %d", r.code)
	}
	for _, key := range []string{"demo", "ldp", "kiosk", "site="} {
		if bytes.Contains(r.body, []byte(key)) {
			t.Errorf("the index names %q:\n%s", key, r.body)
		}
	}
}

// TestLocalNotLimited: the process's own in-memory requests (the demo's
// seeding) are not rate limited, and spend no network source's tokens.
func TestLocalNotLimited(t *testing.T) {
	s := newStack(t, stackConfig{opts: []api.Option{api.WithRateLimit(0.001, 1)}})
	for i := range 5 {
		req := httptest.NewRequest(http.MethodPost, "/v1/sync", bytes.NewReader(enc(newDelta())))
		req.Header.Set("Content-Type", "application/msgpack")
		rec := httptest.NewRecorder()
		s.srv.Local().ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("local sync %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if r := s.sync(t, enc(newDelta())); r.code != http.StatusAccepted {
		t.Fatalf("the first network sync: %d %s", r.code, r.body)
	}
	if r := s.sync(t, enc(newDelta())); r.code != http.StatusTooManyRequests {
		t.Fatalf("the second network sync: %d %s", r.code, r.body)
	}
}
