package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/store"
)

func TestModel(t *testing.T) {
	p := aggregate.DefaultParams
	p.MinCohort, p.Shards, p.HeadItems = 1, 4, 0 // four shards by item, to see unchanged ones keep their URL
	s := newStack(t, stackConfig{params: p})
	r := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Origin", origin)
	var m0 api.Manifest
	r.json(t, &m0)
	if r.code != 200 || m0.Version != 0 || m0.ShardCount != 4 || len(m0.Shards) != 4 || m0.Deltas != 0 {
		t.Fatalf("version 0 manifest: %d %s", r.code, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=30, stale-while-revalidate=600" {
		t.Errorf("current manifest Cache-Control %q", cc)
	}
	if r.header.Get("Access-Control-Allow-Origin") != origin || r.header.Get("ETag") == "" {
		t.Errorf("manifest headers %v", r.header)
	}
	if r := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "If-None-Match", r.header.Get("ETag")); r.code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.code)
	}
	if r := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("manifest allows a foreign origin")
	}

	// The configuration devices get is the site's.
	r = s.do(t, http.MethodGet, m0.Config.URL, nil)
	var cfg wire.Config
	if err := wire.Unmarshal(r.body, &cfg, "config"); err != nil || r.code != 200 {
		t.Fatalf("config: %d %v", r.code, err)
	}
	demo, _ := testSites(t).Get("demo")
	if !reflect.DeepEqual(cfg, demo.Config()) {
		t.Errorf("config = %+v\nwant     %+v", cfg, demo.Config())
	}

	for range 3 {
		s.sync(t, enc(newDelta()))
	}
	s.flush(t)
	r = s.do(t, http.MethodGet, "/v1/model?site=demo", nil)
	var m1 api.Manifest
	r.json(t, &m1)
	if m1.Version != 1 || m1.Deltas != 3 || m1.Config != m0.Config || m1.Bytes == 0 {
		t.Fatalf("version 1 manifest: %s", r.body)
	}
	items := map[string]bool{}
	unchanged := 0
	for i, sh := range m1.Shards {
		if sh.Version == 0 {
			unchanged++
			if sh.URL != m0.Shards[i].URL {
				t.Errorf("unchanged shard %d moved: %s, was %s", i, sh.URL, m0.Shards[i].URL)
			}
		}
		for _, enc := range []string{"identity", "gzip"} {
			r := s.do(t, http.MethodGet, sh.URL, nil, "Accept-Encoding", enc)
			if r.code != 200 || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
				r.header.Get("Content-Type") != "application/msgpack" || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("shard %d (%s): %d %v", i, enc, r.code, r.header)
			}
			b := r.body
			if r.header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				b, _ = io.ReadAll(zr)
			} else if enc == "gzip" && len(b) > 100 {
				t.Errorf("shard %d of %d bytes not gzipped", i, len(b))
			}
			var w wire.Weights
			if err := wire.Unmarshal(b, &w, "weights"); err != nil {
				t.Fatal(err)
			}
			if int(w.Shard) != i || w.Shards != 4 || w.Version != sh.Version || api.ShardName(store.Hash(b)) != sh.Hash {
				t.Errorf("shard %d: %+v", i, w)
			}
			for _, it := range w.Items {
				items[it.ID] = true
				if wire.ShardOf(it.ID, 4) != i {
					t.Errorf("%s in shard %d", it.ID, i)
				}
			}
		}
		if r := s.do(t, http.MethodGet, sh.URL, nil, "Accept-Encoding", "identity", "If-None-Match", `"`+sh.Hash+`"`); r.code != http.StatusNotModified {
			t.Errorf("shard If-None-Match: %d", r.code)
		}
	}
	if !items["evening-gowns-1"] || !items["metallic-heels-1"] || unchanged == 0 {
		t.Errorf("version 1 items %v, %d unchanged shards", items, unchanged)
	}
	// An old version stays as it was, immutable.
	r = s.do(t, http.MethodGet, "/v1/model?site=demo&version=0", nil)
	var again api.Manifest
	r.json(t, &again)
	if again.Version != 0 || !reflect.DeepEqual(again.Shards, m0.Shards) || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("version 0 again: %s %v", r.body, r.header)
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/v1/model", 400},
		{"/v1/model?site=nope", 404},
		{"/v1/model?site=demo&version=x", 400},
		{"/v1/model?site=demo&version=9", 404},
		{"/v1/shards/abc", 404},
		{"/v1/shards/" + strings.Repeat("0", 64), 404},
		{"/v1/config/" + strings.Repeat("f", 64), 404},
		{"/nothing", 404},
	} {
		if r := s.do(t, http.MethodGet, tc.path, nil); r.code != tc.code {
			t.Errorf("GET %s: %d, want %d (%s)", tc.path, r.code, tc.code, r.body)
		}
	}
}

func TestCORS(t *testing.T) {
	s := newStack(t, stackConfig{})
	for _, tc := range []struct {
		origin, method string
		code           int
	}{
		{origin, "POST", 204},
		{"https://evil.example", "POST", 403},
		{origin, "DELETE", 403},
		{"", "POST", 403},
	} {
		r := s.do(t, http.MethodOptions, "/v1/sync", nil, "Origin", tc.origin, "Access-Control-Request-Method", tc.method,
			"Access-Control-Request-Headers", "content-type")
		allowed := r.header.Get("Access-Control-Allow-Origin")
		if r.code != tc.code || (tc.code == 204) != (allowed == tc.origin && allowed != "") {
			t.Errorf("preflight from %q for %s: %d, allow %q", tc.origin, tc.method, r.code, allowed)
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("preflight allows credentials")
		}
	}
	// A refusal is readable by an allowed origin, not by a foreign one,
	// nor by another site's origin.
	if r := s.sync(t, []byte("junk"), "Origin", origin); r.code != 400 || r.header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("refusal to an allowed origin: %d %v", r.code, r.header)
	}
	if r := s.sync(t, []byte("junk"), "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("refusal readable by a foreign origin")
	}
	kiosk := newDelta()
	kiosk.Site = "demo"
	if r := s.sync(t, enc(kiosk), "Origin", "https://kiosk.example"); r.code != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another site's origin: %d %v", r.code, r.header)
	}
	// sendBeacon: text/plain, no preflight.
	r := s.sync(t, enc(newDelta()), "Content-Type", "text/plain;charset=UTF-8", "Origin", origin)
	if r.code != http.StatusAccepted || r.header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("beacon sync: %d %v", r.code, r.header)
	}
}

func TestStats(t *testing.T) {
	s := newStack(t, stackConfig{})
	for range 20 {
		s.sync(t, enc(newDelta()))
	}
	s.flush(t)
	r := s.do(t, http.MethodGet, "/v1/stats?site=demo", nil, asOwner...)
	var st api.Stats
	r.json(t, &st)
	if r.code != 200 || len(st.Versions) != 1 || st.Holdout != 0.2 || st.Deltas != 20 || st.Released == nil {
		t.Fatalf("stats: %d %s", r.code, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("stats headers: %v", r.header)
	}
	tr, ho := st.Total.Arms["treatment"], st.Total.Arms["holdout"]
	if tr.Impressions != 200 || tr.Clicks != 40 || ho.Impressions != 200 || ho.Clicks != 20 || tr.CTR != 0.2 {
		t.Errorf("arms: %+v", st.Total.Arms)
	}
	u := st.Total.CTRUplift
	if u == nil || u.Absolute < 0.099 || u.Absolute > 0.101 || !(u.CI95[0] < u.Absolute && u.Absolute < u.CI95[1]) || *u.Relative < 0.99 {
		t.Errorf("uplift: %+v", u)
	}
	if r := s.do(t, http.MethodGet, "/v1/stats?site=nope", nil, asAdmin...); r.code != 404 {
		t.Errorf("unknown site: %d", r.code)
	}
	if r := s.do(t, http.MethodGet, "/v1/stats", nil, asAdmin...); r.code != 400 {
		t.Errorf("no site: %d", r.code)
	}
}

// TestStatsOwnerOnly: the site key every page carries opens the model,
// not the stats; the owner's token opens its own site's, the admin's
// every site's; without either, a known and an unknown site answer alike.
func TestStatsOwnerOnly(t *testing.T) {
	s := newStack(t, stackConfig{})
	s.sync(t, enc(newDelta()))
	for _, tc := range []struct {
		name   string
		path   string
		header []string
		code   int
	}{
		{"no credential", "/v1/stats?site=demo", nil, 401},
		{"the site key in a header", "/v1/stats?site=demo", []string{"Authorization", "Bearer demo"}, 401},
		{"a wrong token", "/v1/stats?site=demo", []string{"Authorization", "Bearer " + strings.Repeat("x", 43)}, 401},
		{"basic auth", "/v1/stats?site=demo", []string{"Authorization", "Basic " + ownerToken}, 401},
		{"the owner's token for another site", "/v1/stats?site=ldp", asOwner, 401},
		{"no credential, unknown site", "/v1/stats?site=nope", nil, 401},
		{"the owner", "/v1/stats?site=demo", asOwner, 200},
		{"the owner, bearer in lower case", "/v1/stats?site=demo", []string{"Authorization", "bearer " + ownerToken}, 200},
		{"the admin", "/v1/stats?site=demo", asAdmin, 200},
		{"the admin, another site", "/v1/stats?site=ldp", asAdmin, 200},
		{"metrics without credential", "/metrics", nil, 401},
		{"metrics with the owner's token", "/metrics", asOwner, 401},
		{"metrics with the admin's token", "/metrics", asAdmin, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, http.MethodGet, tc.path, nil, tc.header...)
			if r.code != tc.code {
				t.Fatalf("%d %s, want %d", r.code, r.body, tc.code)
			}
			if r.code == 401 && (!strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") || !bytes.Contains(r.body, []byte(`"unauthorized"`))) {
				t.Errorf("401 without its challenge or reason: %v %s", r.header, r.body)
			}
			if r.code == 401 && bytes.Contains(r.body, []byte("impressions")) {
				t.Errorf("401 with stats: %s", r.body)
			}
		})
	}
	// Without an admin token configured, no token is the admin's.
	bare, err := api.New(nil, s.agg, testSites(t))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	bare.Handler().ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("metrics of a server without an admin token, empty bearer: %d", rec.Code)
	}
	if _, err := api.New(nil, s.agg, testSites(t), api.WithAdminToken("short")); err == nil {
		t.Error("a 5-character admin token was accepted")
	}
}

// TestStatsReleasedInBatches: a single visitor's delta does not move the
// stats; they move once enough deltas arrived.
func TestStatsReleasedInBatches(t *testing.T) {
	s := newStack(t, stackConfig{opts: []api.Option{api.WithStatsRelease(10, 0)}})
	stats := func() api.Stats {
		t.Helper()
		s.flush(t)
		var st api.Stats
		r := s.do(t, http.MethodGet, "/v1/stats?site=demo", nil, asOwner...)
		r.json(t, &st)
		if r.code != 200 {
			t.Fatalf("stats: %d %s", r.code, r.body)
		}
		return st
	}
	impressions := func(st api.Stats) uint64 { return st.Total.Arms["treatment"].Impressions }
	for i := range 9 {
		s.sync(t, enc(newDelta()))
		if st := stats(); st.Released != nil || impressions(st) != 0 {
			t.Fatalf("after %d deltas, the stats show %d impressions: %+v", i+1, impressions(st), st)
		}
	}
	s.sync(t, enc(newDelta())) // the 10th: the first release
	first := stats()
	if first.Released == nil || first.Deltas != 10 || impressions(first) != 100 {
		t.Fatalf("after 10 deltas: %+v", first)
	}
	// One more visitor: nothing moves, until nine more came.
	for i := range 10 {
		s.sync(t, enc(newDelta()))
		st := stats()
		if i < 9 && (st.Deltas != 10 || impressions(st) != impressions(first) || !st.Released.Equal(*first.Released)) {
			t.Fatalf("%d deltas after the first release, the stats moved: %+v", i+1, st)
		}
		if i == 9 && (st.Deltas != 20 || impressions(st) != 200) {
			t.Fatalf("10 deltas after the first release, the stats did not move: %+v", st)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := newStack(t, stackConfig{})
	for _, path := range []string{"/healthz", "/readyz", "/", "/v1/openapi.yaml"} {
		if r := s.do(t, http.MethodGet, path, nil); r.code != 200 {
			t.Errorf("GET %s: %d", path, r.code)
		}
	}
	s.sync(t, enc(newDelta()))
	s.sync(t, []byte("junk"))
	s.flush(t)
	r := s.do(t, http.MethodGet, "/metrics", nil, asAdmin...)
	for _, want := range []string{
		`tailor_syncs_total{reason="accepted",result="accepted"} 1`,
		`tailor_syncs_total{reason="malformed",result="rejected"} 1`,
		`tailor_model_version{site="demo"} 1`,
		`tailor_model_deltas{site="demo"} 1`,
		`tailor_aggregation_lag_seconds{site="demo"}`,
		`tailor_http_requests_total{code="202",route="POST /v1/sync"} 1`, // each code of a route counted apart
		`tailor_http_requests_total{code="400",route="POST /v1/sync"} 1`,
		`tailor_http_requests_total{code="200",route="GET /healthz"} 1`,
		`tailor_http_request_duration_seconds_count{route="POST /v1/sync"} 2`,
		`tailor_http_request_duration_seconds_bucket{route="POST /v1/sync"`,
		`tailor_http_request_bytes_total{route="POST /v1/sync"}`,
		`tailor_http_response_bytes_total{route="GET /readyz"}`,
		`tailor_model_bytes{site="demo"}`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestCloseDrains starts a sync whose body arrives slowly, closes the
// server meanwhile, and checks the sync still completes (202) while new
// connections are refused and readiness fails.
func TestCloseDrains(t *testing.T) {
	s := newStack(t, stackConfig{})
	pr, pw := io.Pipe()
	done := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/sync", pr)
		req.Header.Set("Content-Type", "application/msgpack")
		res, err := s.c.Do(req)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	body := enc(newDelta())
	pw.Write(body[:10])
	time.Sleep(50 * time.Millisecond) // the request is in flight
	closed := make(chan error, 1)
	go func() { closed <- s.srv.Close() }()
	time.Sleep(50 * time.Millisecond)
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Error("a new connection was served after Close")
	}
	pw.Write(body[10:])
	pw.Close()
	res := <-done
	if res == nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("in-flight sync during Close: %v", res)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if s.stored(t, siteKey) != 1 {
		t.Error("the drained sync was not stored")
	}
}

// assetLayouts writes an asset named name into a dist directory both ways
// the server serves one: "plain" (the file as built) and, when brotli is
// installed, "built" (as build/assets.sh lays it out: hashed,
// precompressed, assets.json). It returns the directories by layout.
func assetLayouts(t *testing.T, name string, b []byte) map[string]string {
	t.Helper()
	layouts := map[string]string{}
	for _, layout := range []string{"plain", "built"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if layout == "built" {
			if _, err := exec.LookPath("brotli"); err != nil {
				t.Log("brotli not installed: the built layout is not tested (apt-get install brotli)")
				break
			}
			script, _ := filepath.Abs("../../build/assets.sh")
			if out, err := exec.Command(script, dir).CombinedOutput(); err != nil {
				t.Fatalf("build/assets.sh: %v\n%s", err, out)
			}
		}
		layouts[layout] = dir
	}
	return layouts
}

// TestAssets serves a dist directory both ways: as build/assets.sh lays it
// out (hashed, precompressed, assets.json), and plain.
func TestAssets(t *testing.T) {
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("tailor "), 4000)...)
	sum := sha512.Sum384(wasm)
	sri := "sha384-" + base64.StdEncoding.EncodeToString(sum[:])

	for name, dir := range assetLayouts(t, "tailor.wasm", wasm) {
		t.Run(name, func(t *testing.T) {
			s := newStack(t, stackConfig{opts: []api.Option{api.WithAssets(dir)}})
			r := s.do(t, http.MethodGet, "/v1/assets", nil)
			var list map[string]api.AssetInfo
			r.json(t, &list)
			info, ok := list["tailor.wasm"]
			if !ok || info.Integrity != sri || info.Bytes != len(wasm) || !strings.HasPrefix(info.URL, "/assets/tailor.") {
				t.Fatalf("assets: %s", r.body)
			}
			if _, ok := list["tailor.js"]; ok {
				t.Error("tailor.js listed, but it is not built")
			}
			encodings := []string{"identity", "gzip"}
			if name == "built" {
				encodings = append(encodings, "br")
			}
			for _, enc := range encodings {
				r := s.do(t, http.MethodGet, info.URL, nil, "Accept-Encoding", enc)
				got := r.header.Get("Content-Encoding")
				if r.code != 200 || r.header.Get("Content-Type") != "application/wasm" || (enc != "identity") != (got == enc) ||
					r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.header.Get("Vary") != "Accept-Encoding" {
					t.Errorf("%s: %d %v", enc, r.code, r.header)
				}
				if enc == "identity" && !bytes.Equal(r.body, wasm) {
					t.Error("identity body differs")
				}
				if len(r.body) >= len(wasm) && enc != "identity" {
					t.Errorf("%s body of %d bytes is not smaller", enc, len(r.body))
				}
			}
			var m api.Manifest
			s.do(t, http.MethodGet, "/v1/model?site=demo", nil).json(t, &m)
			if m.Assets["tailor.wasm"].URL != info.URL || m.Assets["tailor.wasm"].Integrity != sri {
				t.Errorf("manifest assets %+v", m.Assets)
			}
			if r := s.do(t, http.MethodGet, "/tailor.js", nil); r.code != 404 {
				t.Errorf("tailor.js: %d, want 404 until it is built", r.code)
			}
			if r := s.do(t, http.MethodGet, "/assets/tailor.0000000000000000.wasm", nil); r.code != 404 {
				t.Errorf("unknown asset: %d", r.code)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, opt := range []api.Option{
		api.WithTimeouts(api.Timeouts{}),
		api.WithManifestMaxAge(-time.Second),
		api.WithAssets("testdata/no-such-dir/../../api_test.go"), // not a directory: no assets, no error
	} {
		_, err := api.New(nil, nil, testSites(t), opt)
		_ = err
	}
	if _, err := api.New(nil, nil, testSites(t), api.WithTimeouts(api.Timeouts{Read: time.Second})); err == nil {
		t.Error("a zero timeout was accepted")
	}
	if _, err := api.New(nil, nil, testSites(t), api.WithManifestMaxAge(-time.Second)); err == nil {
		t.Error("a negative max-age was accepted")
	}
	for name, opt := range map[string]api.Option{
		"a rate limit without burst":  api.WithRateLimit(1, 0),
		"stats released every 0":      api.WithStatsRelease(0, time.Minute),
		"stats with a negative delay": api.WithStatsRelease(20, -time.Second),
		"an admin token of 31":        api.WithAdminToken(strings.Repeat("a", api.MinTokenLen-1)),
	} {
		if _, err := api.New(nil, nil, testSites(t), opt); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
	if _, err := api.New(nil, nil, testSites(t), api.WithRateLimit(0, 0), api.WithAdminToken("")); err != nil {
		t.Errorf("no rate limit, no admin token: %v", err)
	}
	_ = context.Background
	_ = fmt.Sprint
}
