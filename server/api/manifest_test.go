package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/tailorhq/tailor/server/aggregate"
)

// TestManifestGzip: a manifest lists every shard's hash, so with many
// shards it is served gzip-encoded to clients that accept it: the same
// JSON, smaller, under its own ETag, revalidated to 304.
func TestManifestGzip(t *testing.T) {
	p := aggregate.DefaultParams
	p.MinCohort, p.Shards = 1, 256
	s := newStack(t, stackConfig{params: p})
	plain := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Accept-Encoding", "identity")
	gz := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Accept-Encoding", "br, gzip")
	if plain.code != 200 || gz.code != 200 || gz.header.Get("Content-Encoding") != "gzip" || plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("manifest: %d %v / %d %v", plain.code, plain.header, gz.code, gz.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, plain.body) {
		t.Fatalf("gzip manifest decodes to %d bytes (%v), want the %d of the plain one", len(body), err, len(plain.body))
	}
	if 2*len(gz.body) > len(plain.body) {
		t.Errorf("gzip manifest %d bytes of %d: want under half", len(gz.body), len(plain.body))
	}
	etag := gz.header.Get("ETag")
	if etag == "" || etag == plain.header.Get("ETag") {
		t.Errorf("gzip manifest ETag %q, plain %q: want its own", etag, plain.header.Get("ETag"))
	}
	if r := s.do(t, http.MethodGet, "/v1/model?site=demo", nil, "Accept-Encoding", "gzip", "If-None-Match", etag); r.code != http.StatusNotModified {
		t.Errorf("If-None-Match on the gzip manifest: %d, want 304", r.code)
	}
	t.Logf("manifest of %d shards: %d bytes, %d gzip", p.Shards, len(plain.body), len(gz.body))
}
