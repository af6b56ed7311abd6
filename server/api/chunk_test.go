package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"reflect"
	"testing"

	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/site"
)

// TestAssetChunk checks that the loader's lazily loaded chunks (the
// scanner's, profile()'s details) are served at the name the core imports
// each by: NAME.HASH.js, HASH the first 16 hex digits of its SHA-256
// (build/loader.sh computes it the same way), as a script other origins
// may import (CORS).
func TestAssetChunk(t *testing.T) {
	js := []byte(`export function init(core) { return {} }` + "\n")
	sum := sha256.Sum256(js)
	for _, chunk := range []string{"tailor-extra", "tailor-details"} {
		want := "/assets/" + chunk + "." + hex.EncodeToString(sum[:])[:16] + ".js"
		for name, dir := range assetLayouts(t, chunk+".js", js) {
			t.Run(chunk+"/"+name, func(t *testing.T) {
				s := newStack(t, stackConfig{opts: []api.Option{api.WithAssets(dir)}})
				var list map[string]api.AssetInfo
				s.do(t, http.MethodGet, "/v1/assets", nil).json(t, &list)
				if got := list[chunk+".js"].URL; got != want {
					t.Fatalf("%s.js listed at %q, want %q", chunk, got, want)
				}
				r := s.do(t, http.MethodGet, want, nil)
				if r.code != 200 || r.header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
					r.header.Get("Access-Control-Allow-Origin") != "*" || string(r.body) != string(js) {
					t.Errorf("GET %s: %d %v %q", want, r.code, r.header, r.body)
				}
			})
		}
	}
}

// TestManifestSlots checks that a site's slots declared by selector reach
// the loader in the manifest, as the configuration declares them.
func TestManifestSlots(t *testing.T) {
	demo := shopSite()
	demo.Slots = []site.Slot{{Name: "grid", Container: "#products", Tile: "li.product", Limit: 12}, {Name: "auto", Auto: true}}
	set, err := site.NewSet(demo)
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackConfig{sites: set})
	var m api.Manifest
	s.do(t, http.MethodGet, "/v1/model?site=demo", nil).json(t, &m)
	if !reflect.DeepEqual(m.Slots, demo.Slots) {
		t.Errorf("manifest slots %+v, want %+v", m.Slots, demo.Slots)
	}
}
