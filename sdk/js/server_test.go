//go:build !wasip1

package jstest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/wire"
)

// product is one item of the test store.
type product struct {
	ID, Name, Category, Tags string
	Price                    float32
}

// products are the test store's items, in the store's default order:
// categories mixed, as a store's home page would show them.
var products = []product{
	{"g1", "Scarlet Silk Evening Gown", "evening-gowns", "formal,red,silk", 249},
	{"w1", "Pacer GPS Running Watch", "running-watches", "running,gps", 199},
	{"c1", "Barista Pro Coffee Machine", "coffee-machines", "coffee,kitchen", 399},
	{"g2", "Midnight Velvet Gown", "evening-gowns", "formal,velvet", 289},
	{"w2", "Trail GPS Watch", "running-watches", "running,gps,trail", 229},
	{"c2", "Arabica Beans 1 kg", "coffee-beans", "coffee,beans", 24},
	{"g3", "Emerald Satin Gown", "evening-gowns", "formal,green,satin", 259},
	{"w3", "Marathon GPS Watch", "running-watches", "running,gps,marathon", 279},
	{"c3", "Paper Coffee Filters", "coffee-filters", "coffee,filters", 6},
	{"g4", "Ivory Lace Gown", "evening-gowns", "formal,lace", 319},
	{"w4", "Tempo Sport Watch", "running-watches", "running,sport", 149},
	{"c4", "Espresso Beans 500 g", "coffee-beans", "coffee,beans,espresso", 14},
}

// banners are the hero slot's variants; the first shows by default.
var banners = []product{
	{"b-evening", "Evening Glamour", "banners", "formal,evening", 0},
	{"b-running", "Run Your First Marathon", "banners", "running,marathon", 0},
	{"b-coffee", "Morning Coffee", "banners", "coffee,beans", 0},
}

// ids returns the ids of ps.
func ids(ps []product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// site is how the test server behaves for one test.
type site struct {
	Privacy         wire.Privacy
	Attrs           string        // more attributes of the script tag, e.g. ` data-consent="required"`
	Timeout         int           // data-tailor-timeout in ms (default 5000: tests wait for rankings)
	WasmStatus      int           // when set, tailor.wasm answers with this status
	NoModel         bool          // GET /v1/model answers 503: no model yet
	CSP             string        // the pages' Content-Security-Policy
	Shards          int           // shards of the model (default 2)
	Head            bool          // the manifest adds a head shard (index Shards: the most popular items), as server/aggregate does
	ManifestNoCache bool          // the manifest is revalidated on every use (Cache-Control: no-cache)
	WasmDelay       time.Duration // tailor.wasm answers after this long
	SlowBody        time.Duration // the store's <body> comes this long after its <head>
	Module          bool          // the store loads the ES module build (tailor.mjs)
	WasmType        string        // Content-Type of tailor.wasm (default application/wasm)
	Rules           []wire.Rule   // the site's rules, in its configuration
	Slots           []slotConfig  // the site's slots declared by selector, in the manifest
	Flood           string        // the shard of this item also names more fresh ids than a page's engine holds (model.MaxIDs)
	HoldManifest    bool          // the manifest's body waits until what its Tailor-Fetch header names was fetched (10 s at most)
	FetchMore       int           // the Tailor-Fetch header names this many more blobs, which no manifest lists (a hostile header)
}

// slotConfig mirrors server/site.Slot: a slot declared by CSS selector.
type slotConfig struct {
	Name      string `json:"name"`
	Container string `json:"container,omitempty"`
	Tile      string `json:"tile,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	Auto      bool   `json:"auto,omitempty"`
}

// request is one request the test server saw.
type request struct {
	Method, Path, Query, IfNoneMatch, ContentType string
	Status                                        int
}

// server is the site and Tailor's API for one test: the test store's
// pages, tailor.js, tailor.wasm and a model shaped as server/api serves
// it, with every request recorded.
type server struct {
	*httptest.Server
	site     site
	blobs    map[string][]byte // config and shards by hash, shards by name too
	manifest []byte            // GET /v1/model
	fetch    []string          // its Tailor-Fetch header: the configuration, the head shard (all shards when one by item)

	mu    sync.Mutex
	log   []request
	syncs []wire.Delta
}

// manifest mirrors server/api.Manifest: the JSON the loader reads
// (sdk/js/src/model.js, function manifest).
type manifest struct {
	Site    string `json:"site"`
	Version uint32 `json:"version"`
	// shard i's name and version by index; with Head, the head last
	Hashes   []string            `json:"hashes"`
	Versions []uint32            `json:"versions"`
	Head     bool                `json:"head,omitempty"`
	Config   blobRef             `json:"config"`
	Bytes    int                 `json:"bytes"`
	Assets   map[string]assetRef `json:"assets,omitempty"`
	Slots    []slotConfig        `json:"slots,omitempty"`
}

type blobRef struct {
	URL   string `json:"url"`
	Hash  string `json:"hash"`
	Bytes int    `json:"bytes"`
}

type assetRef struct {
	URL       string `json:"url"`
	Integrity string `json:"integrity"`
}

var pages = template.Must(template.ParseFiles("testdata/store.html"))

// weights are the test model's items: popularity and where visitors go next.
func weights() []wire.ItemWeights {
	next := map[string][]wire.Neighbor{
		"w1": {{ID: "w2", W: 0.9}, {ID: "w3", W: 0.6}},
		"w2": {{ID: "w3", W: 0.8}, {ID: "w4", W: 0.5}},
		"g1": {{ID: "g2", W: 0.9}, {ID: "g3", W: 0.5}},
		"c1": {{ID: "c2", W: 0.9}, {ID: "c3", W: 0.8}},
	}
	pop := map[string]float32{"g1": 0.9, "c1": 0.8, "w1": 0.7}
	var out []wire.ItemWeights
	for _, p := range append(append([]product{}, products...), banners...) {
		w := pop[p.ID]
		if w == 0 {
			w = 0.4
		}
		out = append(out, wire.ItemWeights{ID: p.ID, Pop: w, Next: next[p.ID]})
	}
	return out
}

func newServer(t *testing.T, s site) *server {
	t.Helper()
	if s.Timeout == 0 {
		s.Timeout = 5000
	}
	if s.Shards == 0 {
		s.Shards = 2
	}
	srv := &server{site: s, blobs: map[string][]byte{}}
	srv.manifest, _ = json.Marshal(srv.model())
	srv.Server = httptest.NewServer(http.HandlerFunc(srv.serve))
	t.Cleanup(srv.Close)
	return srv
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// model returns the manifest and stores the blobs it names.
func (s *server) model() manifest {
	cfg := wire.Marshal(&wire.Config{Site: "test", Privacy: s.site.Privacy, Epsilon: 1, Rules: s.site.Rules})
	s.blobs[hashOf(cfg)] = cfg
	m := manifest{Site: "test", Version: 1, Slots: s.site.Slots,
		Config: blobRef{URL: "/v1/config/" + hashOf(cfg), Hash: hashOf(cfg), Bytes: len(cfg)}}
	items := weights()
	total := s.site.Shards // a blob counts the head shard too, as server/aggregate's do
	if s.site.Head {
		total++
	}
	for i := 0; i < s.site.Shards; i++ {
		w := wire.Weights{Version: 1, Shard: uint16(i), Shards: uint16(total)}
		for _, it := range items {
			if wire.ShardOf(it.ID, s.site.Shards) == i {
				w.Items = append(w.Items, it)
			}
		}
		if s.site.Flood != "" && wire.ShardOf(s.site.Flood, s.site.Shards) == i {
			for j := 0; j*(1+wire.MaxNeighbors) <= model.MaxIDs; j++ {
				it := wire.ItemWeights{ID: fmt.Sprint("flood-", j), Pop: 1}
				for k := range wire.MaxNeighbors {
					it.Next = append(it.Next, wire.Neighbor{ID: fmt.Sprint("f", j, "-", k), W: 1})
				}
				w.Items = append(w.Items, it)
			}
		}
		b := wire.Marshal(&w)
		h := hashOf(b)
		s.blobs[h] = b
		s.blobs[h[:32]] = b // a shard's name (server/api.ShardName)
		m.Hashes, m.Versions = append(m.Hashes, h[:32]), append(m.Versions, 1)
		m.Bytes += len(b)
	}
	s.fetch = []string{m.Config.URL}
	if s.site.Shards <= 1 {
		s.fetch = append(s.fetch, "/v1/shards/"+m.Hashes[0])
	}
	if s.site.Head {
		w := wire.Weights{Version: 1, Shard: uint16(s.site.Shards), Shards: uint16(total), Items: items[:1]}
		b := wire.Marshal(&w)
		h := hashOf(b)
		s.blobs[h] = b
		s.blobs[h[:32]] = b
		m.Hashes, m.Versions, m.Head = append(m.Hashes, h[:32]), append(m.Versions, 1), true
		s.fetch = append(s.fetch, "/v1/shards/"+h[:32])
	}
	wasm := loaderAssets.wasm
	sri := sha512.Sum384(wasm)
	m.Assets = map[string]assetRef{"tailor.wasm": {URL: "/assets/tailor." + hashOf(wasm)[:16] + ".wasm",
		Integrity: "sha384-" + base64.StdEncoding.EncodeToString(sri[:])}}
	return m
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *server) serve(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw, status: 200}
	defer func() {
		s.mu.Lock()
		s.log = append(s.log, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			IfNoneMatch: r.Header.Get("If-None-Match"), ContentType: r.Header.Get("Content-Type"), Status: w.status})
		s.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*") // the sandboxed frame's origin is opaque
	path := r.URL.Path
	switch {
	case path == "/store":
		if s.site.CSP != "" {
			h.Set("Content-Security-Policy", s.site.CSP)
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache") // not no-store: the page may enter the back/forward cache
		var b bytes.Buffer
		err := pages.Execute(&b, map[string]any{"Timeout": s.site.Timeout, "Attrs": s.site.Attrs,
			"Products": products, "Banners": banners, "Module": s.site.Module})
		if err != nil {
			panic(err)
		}
		head, body, _ := strings.Cut(b.String(), "<body")
		io.WriteString(w, head)
		w.Flush()
		time.Sleep(s.site.SlowBody)
		io.WriteString(w, "<body"+body)
	case path == "/frame":
		serveFile(w, "testdata/frame.html", "text/html; charset=utf-8")
	case path == "/blank":
		h.Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body></body></html>`)
	case path == "/product":
		serveFile(w, "testdata/product.html", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
	case strings.HasPrefix(path, "/t/"):
		serveFile(w, filepath.Join("testdata", filepath.Base(path)), "text/javascript")
	case strings.HasPrefix(path, "/src/"):
		serveFile(w, filepath.Join("src", filepath.Base(path)), "text/javascript")
	case path == "/tailor.js" || path == "/tailor.mjs":
		h.Set("Content-Type", "text/javascript")
		h.Set("Cache-Control", "public, max-age=3600")
		if path == "/tailor.js" {
			w.Write(loaderAssets.js)
		} else {
			w.Write(loaderAssets.mjs)
		}
	case strings.HasPrefix(path, "/assets/tailor-extra.") && strings.HasSuffix(path, ".js"):
		serveChunk(w, r, "tailor-extra", loaderAssets.extra)
	case strings.HasPrefix(path, "/assets/tailor-details.") && strings.HasSuffix(path, ".js"):
		serveChunk(w, r, "tailor-details", loaderAssets.details)
	case path == "/tailor.wasm" || strings.HasPrefix(path, "/assets/tailor.") && strings.HasSuffix(path, ".wasm"):
		time.Sleep(s.site.WasmDelay)
		if s.site.WasmStatus != 0 {
			http.Error(w, "broken on purpose", s.site.WasmStatus)
			return
		}
		h.Set("Content-Type", "application/wasm")
		if s.site.WasmType != "" {
			h.Set("Content-Type", s.site.WasmType)
		}
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(loaderAssets.wasm)
	case path == "/v1/model" && r.Method == "GET":
		if s.site.NoModel || r.URL.Query().Get("site") != "test" {
			http.Error(w, `{"error":"no model yet","reason":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		body := s.manifest
		etag := `"` + hashOf(body)[:32] + `"`
		h.Set("ETag", etag)
		fetch := s.fetch
		for i := range s.site.FetchMore {
			fetch = append(fetch, fmt.Sprint("/v1/shards/more", i))
		}
		h.Set("Tailor-Fetch", strings.Join(fetch, " ")) // as server/api serves it (FetchHeader)
		h.Set("Access-Control-Expose-Headers", "Tailor-Fetch")
		h.Set("Cache-Control", "public, max-age=30, stale-while-revalidate=600") // as server/api serves it
		if s.site.ManifestNoCache {
			h.Set("Cache-Control", "no-cache")
		}
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		if s.site.HoldManifest {
			w.WriteHeader(http.StatusOK)
			w.Flush()
			s.await(s.fetch, 10*time.Second)
		}
		w.Write(body)
	case strings.HasPrefix(path, "/v1/config/") || strings.HasPrefix(path, "/v1/shards/"):
		b, ok := s.blobs[filepath.Base(path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", "application/msgpack")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(b)
	case path == "/v1/sync" && r.Method == "POST":
		body, _ := io.ReadAll(io.LimitReader(r.Body, wire.MaxDeltaBytes+1))
		var d wire.Delta
		if err := wire.Unmarshal(body, &d, "delta"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.syncs = append(s.syncs, d)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// await waits until every path in paths was answered, or for at most
// bound.
func (s *server) await(paths []string, bound time.Duration) {
	for end := time.Now().Add(bound); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if s.answered(paths) {
			return
		}
	}
}

// answered reports whether every path in paths was answered.
func (s *server) answered(paths []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		found := false
		for _, r := range s.log {
			found = found || r.Path == p
		}
		if !found {
			return false
		}
	}
	return true
}

// serveChunk serves a lazily loaded chunk of the loader, b, at
// /assets/NAME.HASH.js: the core names it by its hash, any other is a
// stale build.
func serveChunk(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	if r.URL.Path != "/assets/"+name+"."+hashOf(b)[:16]+".js" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

func serveFile(w http.ResponseWriter, name, contentType string) {
	b, err := os.ReadFile(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	io.Copy(w, bytes.NewReader(b))
}

// shardURL returns the path of shard i in the manifest (the head's: i =
// the shard count), as the loader derives it from the hash.
func (s *server) shardURL(i int) string {
	var m manifest
	json.Unmarshal(s.manifest, &m)
	return "/v1/shards/" + m.Hashes[i]
}

// requests returns a copy of the requests seen so far.
func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.log...)
}

// synced returns the deltas received so far.
func (s *server) synced() []wire.Delta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wire.Delta(nil), s.syncs...)
}
