package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
)

// decodeBody undoes a response's Content-Encoding.
func decodeBody(t *testing.T, r *response) []byte {
	t.Helper()
	var rd io.Reader
	switch enc := r.header.Get("Content-Encoding"); enc {
	case "":
		return r.body
	case "br":
		rd = brotli.NewReader(bytes.NewReader(r.body))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	default:
		t.Fatalf("Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestManifestEncodings: a manifest lists every shard's hash, and every
// device downloads it on its first page view, so it is served
// brotli-encoded to clients that accept it (browsers do), else gzip:
// the same JSON, smaller, each under its own ETag, revalidated to 304.
// Blobs (shards, configurations) are served the same way.
func TestManifestEncodings(t *testing.T) {
	p := aggregate.DefaultParams
	p.MinCohort, p.Shards = 1, 256
	s := newStack(t, stackConfig{params: p})
	plain := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Accept-Encoding", "identity")
	if plain.code != 200 || plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("manifest: %d %v", plain.code, plain.header)
	}
	var m api.Manifest
	if err := json.Unmarshal(plain.body, &m); err != nil || len(m.Shards) != 257 {
		t.Fatalf("manifest of %d shards (%v), want 256 and the head", len(m.Shards), err)
	}
	// The model has no items: its shards are too small to compress, its
	// configuration is not.
	blob := m.Config.URL
	sizes := map[string]int{}
	for _, tc := range []struct{ accept, want string }{
		{"identity", ""},
		{"gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br, zstd", "br"}, // headless Chromium's, on http://127.0.0.1 too
		{"br;q=0, gzip", "gzip"},
		{"*", "br"},
		{"", ""},
	} {
		for _, path := range []string{"/v1/model?site=demo", blob} {
			r := s.do(t, http.MethodGet, path, nil, "Accept-Encoding", tc.accept)
			if r.code != 200 || r.header.Get("Content-Encoding") != tc.want || !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Accept-Encoding") {
				t.Fatalf("%s, Accept-Encoding %q: %d %v, want encoding %q", path, tc.accept, r.code, r.header, tc.want)
			}
			if path != blob && !bytes.Equal(decodeBody(t, r), plain.body) {
				t.Errorf("manifest, %q: decodes to other bytes than the plain one", tc.accept)
			}
			etag := r.header.Get("ETag")
			if suffix := map[string]string{"br": `-br"`, "gzip": `-gz"`}[tc.want]; !strings.HasSuffix(etag, suffix) || suffix == "" && strings.Contains(etag, "-") {
				t.Errorf("%s, %q: ETag %s, want one of its own encoding", path, tc.accept, etag)
			}
			if again := s.do(t, http.MethodGet, path, nil, "Accept-Encoding", tc.accept, "If-None-Match", etag); again.code != http.StatusNotModified {
				t.Errorf("%s, %q, If-None-Match %s: %d, want 304", path, tc.accept, etag, again.code)
			}
			if path != blob {
				sizes[tc.want] = len(r.body)
			}
		}
	}
	// A shard costs its name (16 bytes of entropy in 32 hex digits) and
	// little more: the old manifest's hash, url, index and bytes cost 50
	// gzip bytes.
	if sizes["gzip"] >= sizes[""] || sizes["br"] >= sizes["gzip"] || sizes["br"] > 20*257 {
		t.Errorf("manifest of 256 shards: %d bytes, gzip %d, brotli %d: want brotli < gzip < plain, and <= 20 B a shard", sizes[""], sizes["gzip"], sizes["br"])
	}
	t.Logf("manifest of %d shards: %d bytes, %d gzip, %d brotli (%.1f B a shard)", p.Shards, sizes[""], sizes["gzip"], sizes["br"], float64(sizes["br"])/257)
}

// TestManifestJSON: each shard is its name, once, by index, with its
// version at the same index, the head last; a Go client reads it back
// with each shard's index, URL and head mark.
func TestManifestJSON(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 32) }
	m := api.Manifest{Site: "demo", Version: 3, ShardCount: 2, Shards: []api.ManifestShard{
		{Index: 0, Version: 1, URL: "/v1/shards/" + h("a"), Hash: h("a")},
		{Index: 1, Version: 3, URL: "/v1/shards/" + h("b"), Hash: h("b")},
		{Index: 2, Version: 2, URL: "/v1/shards/" + h("c"), Hash: h("c"), Head: true},
	}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"hashes":   `["` + h("a") + `","` + h("b") + `","` + h("c") + `"]`,
		"versions": `[1,3,2]`,
		"head":     `true`,
	} {
		if string(raw[k]) != want {
			t.Errorf("%s: %s, want %s", k, raw[k], want)
		}
	}
	for _, k := range []string{"shards", "shard_count", "Shards", "ShardCount"} {
		if _, ok := raw[k]; ok {
			t.Errorf("the JSON has %q: %s", k, b)
		}
	}
	if n := strings.Count(string(b), h("a")); n != 1 {
		t.Errorf("shard 0's hash %d times in %s", n, b)
	}
	var back api.Manifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Shards, m.Shards) || back.ShardCount != 2 || back.Version != 3 || back.Site != "demo" {
		t.Errorf("read back %+v, want %+v", back, m)
	}
	// Without a head, every shard is one by id.
	m.Shards, m.ShardCount = m.Shards[:2], 2
	if err := roundTrip(m, &back); err != nil || !reflect.DeepEqual(back.Shards, m.Shards) || back.ShardCount != 2 {
		t.Errorf("without a head: read back %+v (%v), want %+v", back, err, m)
	}

	for _, tc := range []struct {
		name string
		m    api.Manifest
		json string
	}{
		{name: "head not last", m: api.Manifest{Shards: []api.ManifestShard{{Index: 0, Hash: h("c"), Head: true}, {Index: 1, Hash: h("a")}}}},
		{name: "shards out of order", m: api.Manifest{Shards: []api.ManifestShard{{Index: 1, Hash: h("b")}, {Index: 0, Hash: h("a")}}}},
		{name: "versions missing", json: `{"hashes":["` + h("a") + `"],"versions":[]}`},
		{name: "a version too many", json: `{"hashes":[],"versions":[1]}`},
		{name: "head without shards", json: `{"hashes":[],"versions":[],"head":true}`},
		{name: "short name", json: `{"hashes":["abc"],"versions":[1]}`},
		{name: "a whole hash", json: `{"hashes":["` + h("a") + h("a") + `"],"versions":[1]}`},
		{name: "upper case", json: `{"hashes":["` + strings.ToUpper(h("a")) + `"],"versions":[1]}`},
		{name: "path in a hash", json: `{"hashes":["../../v1/stats` + h("a")[14:] + "aaaaaaaaaaaaaa" + `"],"versions":[1]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.json == "" {
				_, err = json.Marshal(tc.m)
			} else {
				var m api.Manifest
				err = json.Unmarshal([]byte(tc.json), &m)
			}
			if !errors.Is(err, api.ErrBadManifest) {
				t.Errorf("error %v, want ErrBadManifest", err)
			}
		})
	}
}

// roundTrip encodes m and decodes it into back.
func roundTrip(m api.Manifest, back *api.Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, back)
}

// FuzzManifestJSON: reading a manifest never panics, and what it reads
// writes back to JSON that reads the same.
func FuzzManifestJSON(f *testing.F) {
	h := strings.Repeat("a", 32)
	f.Add(`{"hashes":["` + h + `"],"versions":[1],"head":true}`)
	f.Add(`{"hashes":["` + h + `","` + h + `"],"versions":[1,2]}`)
	f.Add(`{"hashes":[],"versions":[]}`)
	f.Add(`{"hashes":null,"versions":[4294967295],"head":false}`)
	f.Fuzz(func(t *testing.T, s string) {
		var m api.Manifest
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		var back api.Manifest
		if err := roundTrip(m, &back); err != nil || !reflect.DeepEqual(back.Shards, m.Shards) || back.ShardCount != m.ShardCount {
			t.Fatalf("%s: read %+v, back %+v (%v)", s, m.Shards, back.Shards, err)
		}
	})
}

// TestShardNames: a shard is served by its name (128 bits of its hash)
// whether or not this server built a manifest naming it (another replica
// did, or this one before a restart), and by its whole hash; a name no
// version served has is 404.
func TestShardNames(t *testing.T) {
	p := aggregate.DefaultParams
	p.MinCohort, p.Shards = 1, 4
	s := newStack(t, stackConfig{params: p})
	cur, ok := s.agg.Current("demo")
	if !ok || len(cur.Shards) != 5 {
		t.Fatalf("current version: %v, %d shards", ok, len(cur.Shards))
	}
	sh := cur.Shards[2]
	for _, tc := range []struct {
		name, path string
		code       int
	}{
		{"name, no manifest built yet", "/v1/shards/" + api.ShardName(sh.Hash), 200},
		{"whole hash", "/v1/shards/" + sh.Hash, 200},
		{"name of no shard", "/v1/shards/" + strings.Repeat("0", 32), 404},
		{"name of the configuration", "/v1/shards/" + api.ShardName(cur.Config), 404},
		{"upper case", "/v1/shards/" + strings.ToUpper(api.ShardName(sh.Hash)), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, http.MethodGet, tc.path, nil, "Accept-Encoding", "identity")
			if r.code != tc.code {
				t.Fatalf("%s: %d, want %d", tc.path, r.code, tc.code)
			}
			if tc.code == 200 && !bytes.Equal(r.body, mustBlob(t, s, sh.Hash)) {
				t.Errorf("%s: other bytes than the shard's", tc.path)
			}
		})
	}
	var m api.Manifest
	s.do(t, http.MethodGet, "/v1/model?site=demo", nil).json(t, &m)
	for i, ms := range m.Shards {
		if ms.Hash != api.ShardName(cur.Shards[i].Hash) || ms.URL != "/v1/shards/"+ms.Hash {
			t.Errorf("manifest shard %d: %+v, want the name of %s", i, ms, cur.Shards[i].Hash)
		}
	}
}

// mustBlob reads a blob from the stack's store.
func mustBlob(t *testing.T, s *stack, hash string) []byte {
	t.Helper()
	b, err := s.store.Blob(t.Context(), hash)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestManifestFetchHeader: the manifest's Tailor-Fetch header names what
// every page view fetches after it, the configuration and the head shard
// (every shard when there is one by id), so that the loader requests
// them as soon as the manifest's headers are in, before its body is read:
// on a cold page the main thread hands the body over 10-280 ms later
// (RATIONALE.md). A page on another origin may read the header.
func TestManifestFetchHeader(t *testing.T) {
	for _, tc := range []struct {
		shards int
		want   func(m api.Manifest) []string
	}{
		{256, func(m api.Manifest) []string { return []string{m.Config.URL, m.Shards[256].URL} }},
		{1, func(m api.Manifest) []string { return []string{m.Config.URL, m.Shards[0].URL} }},
	} {
		p := aggregate.DefaultParams
		p.MinCohort, p.Shards = 1, tc.shards
		s := newStack(t, stackConfig{params: p})
		r := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Accept-Encoding", "br", "Origin", "https://shop.example")
		var m api.Manifest
		if err := json.Unmarshal(decodeBody(t, r), &m); err != nil || r.code != 200 {
			t.Fatalf("%d shards: manifest %d: %v", tc.shards, r.code, err)
		}
		want := tc.want(m)
		if got := strings.Fields(r.header.Get(api.FetchHeader)); !reflect.DeepEqual(got, want) {
			t.Errorf("%d shards (%d in the manifest): Tailor-Fetch %q, want %q", tc.shards, len(m.Shards), got, want)
		}
		if got := r.header.Get("Access-Control-Expose-Headers"); got != api.FetchHeader {
			t.Errorf("Access-Control-Expose-Headers %q, want Tailor-Fetch", got)
		}
		for _, u := range want {
			if b := s.do(t, http.MethodGet, u, nil); b.code != 200 {
				t.Errorf("%s: %d", u, b.code)
			}
		}
	}
}
