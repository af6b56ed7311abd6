package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// immutable is the Cache-Control of content-addressed responses.
const immutable = "public, max-age=31536000, immutable"

// Manifest is the body of GET /v1/model: where a version's weights and
// configuration are. A browser fetches only the shards of the items it
// meets (wire.ShardOf), and applies shards in ascending Version order;
// an unchanged shard keeps its Version and URL across versions, so a new
// version costs only what changed.
//
// Every device downloads the manifest on its first page view, so its JSON
// is compact (MarshalJSON): each shard is its name (ShardName: 128 bits
// of its hash), once, at its index in hashes, with the version its
// content dates from at the same index of versions; with head, the last
// shard (index ShardCount) is the head. The loader derives a shard's URL
// from its name (/v1/shards/{name}). Shards,
// with each shard's index, URL and head mark spelled out, is what
// UnmarshalJSON rebuilds for Go clients.
type Manifest struct {
	Site       string              `json:"site"`
	Version    uint32              `json:"version"`
	Created    time.Time           `json:"created"`
	Deltas     uint64              `json:"deltas"` // profile deltas that built it
	ShardCount int                 `json:"-"`      // shards by wire.ShardOf: the hashes but the head
	Shards     []ManifestShard     `json:"-"`      // by index, the head last
	Config     BlobRef             `json:"config"`
	Bytes      int                 `json:"bytes"` // of all shards
	Privacy    store.Privacy       `json:"privacy"`
	Assets     map[string]AssetRef `json:"assets,omitempty"`
	Slots      []site.Slot         `json:"slots,omitempty"` // the site's slots declared by selector
}

// ManifestShard is one shard of a version, as a Go client reads it.
type ManifestShard struct {
	Index   int    // shard Index holds the items wire.ShardOf(id, ShardCount) = Index
	Version uint32 // the version its content dates from
	URL     string // /v1/shards/{Hash}
	Hash    string // its name: ShardName of its blob's hash
	// Head marks the shard of the most popular items, which a device
	// fetches whatever it meets (index ShardCount); the shards by id leave
	// its items out.
	Head bool
}

// plainManifest is Manifest without its JSON methods.
type plainManifest Manifest

// compactManifest is a manifest's JSON: the fields of Manifest, and its
// shards as parallel arrays by index, the head last.
type compactManifest struct {
	*plainManifest
	Hashes   []string `json:"hashes"`
	Versions []uint32 `json:"versions"`
	Head     bool     `json:"head,omitempty"` // the last shard is the head
}

// shardURL is where a shard is served: the loader derives the same URL
// from the name (sdk/js/src/model.js).
func shardURL(name string) string { return "/v1/shards/" + name }

// ShardName returns the name of a shard whose blob has hash (a valid
// store.Hash): its first 128 bits, in hex. Every device downloads each
// shard's name in the manifest, and 128 bits cost half the 256 of the
// hash (~17 brotli bytes, not ~34); the loader checks no integrity (the
// manifest and the shards come from one server), so a name is an
// address, and 128 bits keep names of different blobs apart (a collision
// needs ~2^64 blobs, or as much work to craft one).
func ShardName(hash string) string { return hash[:32] }

// validName reports whether s is a shard name: 32 lowercase hex digits.
func validName(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// MarshalJSON writes the manifest's compact JSON from its Shards: by
// index, the head (if any) last.
func (m Manifest) MarshalJSON() ([]byte, error) {
	c := compactManifest{plainManifest: (*plainManifest)(&m), Hashes: []string{}, Versions: []uint32{}}
	for i, sh := range m.Shards {
		if sh.Index != i || sh.Head && i != len(m.Shards)-1 {
			return nil, fmt.Errorf("%w: shard %d of %d at %d (head %t): want them by index, the head last", ErrBadManifest, sh.Index, len(m.Shards), i, sh.Head)
		}
		c.Hashes, c.Versions, c.Head = append(c.Hashes, sh.Hash), append(c.Versions, sh.Version), sh.Head
	}
	return json.Marshal(c)
}

// UnmarshalJSON reads a manifest's compact JSON into Shards (the URL
// derived from each hash), checking that every shard has a version and
// a well-formed hash.
func (m *Manifest) UnmarshalJSON(b []byte) error {
	var p plainManifest
	c := compactManifest{plainManifest: &p}
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if len(c.Hashes) != len(c.Versions) || c.Head && len(c.Hashes) == 0 {
		return fmt.Errorf("%w: %d shard hashes, %d versions, head %t", ErrBadManifest, len(c.Hashes), len(c.Versions), c.Head)
	}
	p.ShardCount, p.Shards = len(c.Hashes), make([]ManifestShard, len(c.Hashes))
	if c.Head {
		p.ShardCount--
	}
	for i, h := range c.Hashes {
		if !validName(h) {
			return fmt.Errorf("%w: shard %d hash %q", ErrBadManifest, i, h)
		}
		p.Shards[i] = ManifestShard{Index: i, Version: c.Versions[i], URL: shardURL(h), Hash: h, Head: i == p.ShardCount}
	}
	*m = Manifest(p)
	return nil
}

// BlobRef points at a content-addressed blob.
type BlobRef struct {
	URL   string `json:"url"`
	Hash  string `json:"hash"`
	Bytes int    `json:"bytes"`
}

// unknownSite answers a request whose site key no site has: 400 without
// one, 404 for an unknown one.
func unknownSite(w http.ResponseWriter, key string) {
	code := http.StatusNotFound
	if key == "" {
		code = http.StatusBadRequest
	}
	writeError(w, code, reasonUnknownSite, fmt.Errorf("%w %q: pass ?site=KEY", ErrUnknownSite, key))
}

// siteRequest checks the site key of a read request (400 without one, 404
// for an unknown one) and allows the site's origins to read the answer. It
// returns the site, or false when it answered the request already. The
// answer varies with Origin (a cache must not hand one origin's answer to
// another), so it says so whether the origin is allowed or not.
func (s *Server) siteRequest(w http.ResponseWriter, r *http.Request, key string) (*site.Site, bool) {
	w.Header().Add("Vary", "Origin")
	st, ok := s.sites.Get(key)
	if !ok {
		unknownSite(w, key)
		return nil, false
	}
	if origin := r.Header.Get("Origin"); origin != "" && st.AllowsOrigin(origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
	return st, true
}

// handleModel serves a site's manifest: the current version (or the one
// its owner pinned, WithPin) with a short max-age, or a given version
// (?version=N), immutable.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("site")
	if _, ok := s.siteRequest(w, r, key); !ok {
		return
	}
	cur, ok := s.agg.Current(key)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, reasonUnavailable, fmt.Errorf("site %q has no model yet", key))
		return
	}
	// Past its max-age, a manifest of the last 10 minutes still serves at
	// once while the browser revalidates it behind (stale-while-revalidate):
	// a visitor's next page view ranks without a round trip first, one page
	// view late at most to see a new version or a rollback.
	v, cache := cur, fmt.Sprintf("public, max-age=%d, stale-while-revalidate=600", int(s.manifestMaxAge.Seconds()))
	vs := q.Get("version")
	if pin, ok := s.pinned(key); ok && vs == "" && pin < cur.Number {
		// The owner rolled the model back: devices get the pinned version.
		vs = strconv.FormatUint(uint64(pin), 10)
	}
	if vs != "" {
		n, err := strconv.ParseUint(vs, 10, 32)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Errorf("%w: version %q", ErrBadParameters, vs))
			return
		}
		if uint32(n) != cur.Number {
			if uint32(n) > cur.Number {
				writeError(w, http.StatusNotFound, "not_found", fmt.Errorf("version %d of site %q is not published", n, key))
				return
			}
			if v, err = s.store.Version(r.Context(), key, uint32(n)); err != nil {
				s.storeError(w, fmt.Sprintf("version %d of site %q", n, key), err)
				return
			}
		}
		if q.Get("version") != "" {
			cache = immutable
		}
	}
	m, err := s.manifest(r.Context(), v)
	if err != nil {
		s.storeError(w, "manifest", err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Add("Vary", "Accept-Encoding")
	h.Set(FetchHeader, m.fetch)
	h.Set("Access-Control-Expose-Headers", FetchHeader)
	// Brotli- or gzip-encoded when accepted: a manifest lists every
	// shard's hash, and a device fetches it on its first page view.
	body, etag := m.body.pick(h, r.Header.Get("Accept-Encoding"), m.etag)
	writeEncoded(w, r, body, etag, "application/json")
}

// storeError answers a failed store read: 404 for what does not exist,
// else 503.
func (s *Server) storeError(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Errorf("%s: not found", what))
		return
	}
	s.log.Error("store read", "what", what, "err", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, reasonUnavailable, fmt.Errorf("%s: store unavailable", what))
}

// FetchHeader is the manifest's header that names, space-separated, what
// every page view fetches after it whatever its items: the configuration
// and the head shard (every shard when the model has one by item). The
// loader requests them as soon as the manifest's headers are in: on a
// cold page the main thread reads the body 10-280 ms later, behind the
// page's own tasks, and the configuration and the shards had been the
// last thing the first ranking waited for (RATIONALE.md, "Where does the
// first personalized slot wait").
const FetchHeader = "Tailor-Fetch"

// cachedManifest is an encoded manifest, in every encoding, and its
// ETag.
type cachedManifest struct {
	body  encoded
	etag  string
	fetch string // FetchHeader's value
}

func (s *Server) manifest(ctx context.Context, v store.Version) (*cachedManifest, error) {
	key := fmt.Sprintf("%s\x00%d", v.Site, v.Number)
	if m := s.manifests.get(key); m != nil {
		return m, nil
	}
	cfg, err := s.blobs.get(ctx, s.store, v.Config)
	if err != nil {
		return nil, err
	}
	m := Manifest{Site: v.Site, Version: v.Number, Created: v.Created, Deltas: v.Deltas,
		Config: BlobRef{URL: "/v1/config/" + v.Config, Hash: v.Config, Bytes: len(cfg.raw)}, Bytes: v.Bytes,
		Privacy: v.Privacy, Assets: s.assets.refs()}
	if st, ok := s.sites.Get(v.Site); ok {
		m.Slots = st.Slots
	}
	for _, sh := range v.Shards {
		name := ShardName(sh.Hash)
		m.Shards = append(m.Shards, ManifestShard{Index: sh.Index, Version: sh.Version, URL: shardURL(name), Hash: name, Head: sh.Head})
		if !sh.Head {
			m.ShardCount++
		}
	}
	s.names.add(v)
	body, err := json.Marshal(&m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	fetch := []string{m.Config.URL}
	for _, sh := range m.Shards {
		if sh.Head || m.ShardCount <= 1 {
			fetch = append(fetch, sh.URL)
		}
	}
	c := &cachedManifest{body: encode(append(body, '\n')), etag: `"` + hex.EncodeToString(sum[:16]) + `"`, fetch: strings.Join(fetch, " ")}
	s.manifests.put(key, c)
	return c, nil
}

// handleBlob serves a content-addressed blob (a shard or a configuration)
// by its hash, or a shard by its name (ShardName): immutable, brotli- or
// gzip-encoded when the client accepts it.
func (s *Server) handleBlob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("hash")
	hash := id
	if validName(id) {
		var ok bool
		if hash, ok = s.resolveName(r.Context(), id); !ok {
			writeError(w, http.StatusNotFound, "not_found", fmt.Errorf("no shard named %q in a version served", id))
			return
		}
	} else if !store.ValidHash(id) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Errorf("%q is not a blob hash or shard name", id))
		return
	}
	b, err := s.blobs.get(r.Context(), s.store, hash)
	if err != nil {
		s.storeError(w, "blob "+hash, err)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Cache-Control", immutable)
	h.Set("Vary", "Accept-Encoding")
	body, etag := b.pick(h, r.Header.Get("Accept-Encoding"), `"`+id+`"`)
	writeEncoded(w, r, body, etag, "application/msgpack")
}

// resolveName returns the hash of the shard named name in a version this
// server serves: one whose manifest it built, else a site's current or
// pinned one (a manifest another replica served, or one built before a
// restart).
func (s *Server) resolveName(ctx context.Context, name string) (string, bool) {
	if h, ok := s.names.get(name); ok {
		return h, true
	}
	for _, key := range s.sites.Keys() {
		cur, ok := s.agg.Current(key)
		if !ok {
			continue
		}
		s.names.add(cur)
		if pin, ok := s.pinned(key); ok && pin < cur.Number && !s.names.has(key, pin) {
			if v, err := s.store.Version(ctx, key, pin); err == nil {
				s.names.add(v)
			}
		}
	}
	return s.names.get(name)
}

// maxNames bounds the shard names a server keeps: past it, it forgets
// them all and learns those of the versions asked for again. A version
// has at most aggregate.MaxShards + 1 shards.
const maxNames = 1 << 16

// shardNames maps the names of the shards of the versions a server
// served to their hashes. Goroutine-safe.
type shardNames struct {
	mu       sync.Mutex
	hash     map[string]string // by name
	versions map[string]bool   // site\x00version added
}

func (n *shardNames) add(v store.Version) {
	n.mu.Lock()
	defer n.mu.Unlock()
	key := fmt.Sprintf("%s\x00%d", v.Site, v.Number)
	if n.versions[key] {
		return
	}
	if n.hash == nil || len(n.hash)+len(v.Shards) > maxNames {
		n.hash, n.versions = map[string]string{}, map[string]bool{}
	}
	n.versions[key] = true
	for _, sh := range v.Shards {
		n.hash[ShardName(sh.Hash)] = sh.Hash
	}
}

func (n *shardNames) has(site string, version uint32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.versions[fmt.Sprintf("%s\x00%d", site, version)]
}

func (n *shardNames) get(name string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, ok := n.hash[name]
	return h, ok
}

// writeEncoded ends a cached response whose encoding (Content-Encoding,
// Vary, Cache-Control) the caller chose: body under its ETag, or 304 Not
// Modified when the client's If-None-Match already names that ETag.
func writeEncoded(w http.ResponseWriter, r *http.Request, body []byte, etag, contentType string) {
	h := w.Header()
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// etagMatch reports whether an If-None-Match header matches etag (weak
// comparison, as RFC 9110 requires for If-None-Match).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// acceptsEncoding reports whether an Accept-Encoding header accepts coding
// with a non-zero quality, by name or by "*".
func acceptsEncoding(header, coding string) bool {
	named, star := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch {
		case strings.EqualFold(name, coding):
			named = q
		case name == "*":
			star = q
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// encoded is a cached response body in each encoding a client may
// accept: brotli (what browsers accept, the smallest), gzip (what other
// clients do) and none; an encoding is nil when it is not smaller. Blobs
// and manifests never change, so each is compressed once, when cached,
// never per request.
type encoded struct {
	raw, br, gz []byte
}

// brotliBest is the size up to which a body is compressed at brotli's
// best quality (11), the slowest: a shard or a manifest of a few
// kilobytes takes milliseconds; past it, quality 9, whose cost grows
// linearly (1 MB, load ~20: 1.5 s at 11, 0.13 s at 9, 13% larger), so
// that the first request for a large blob does not wait seconds.
const brotliBest = 64 << 10

// encode compresses b for the cache.
func encode(b []byte) encoded {
	var br, gz bytes.Buffer
	q := brotli.BestCompression
	if len(b) > brotliBest {
		q = 9
	}
	bw := brotli.NewWriterLevel(&br, q)
	bw.Write(b)
	bw.Close()
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	e := encoded{raw: b}
	if br.Len() < len(b) {
		e.br = br.Bytes()
	}
	if gz.Len() < len(b) {
		e.gz = gz.Bytes()
	}
	return e
}

// size is the memory e holds.
func (e encoded) size() int { return len(e.raw) + len(e.br) + len(e.gz) }

// pick returns the body to send to a client whose Accept-Encoding is ae
// and its ETag (etag, quoted, with the coding's suffix), and sets the
// Content-Encoding header when it chose one.
func (e encoded) pick(h http.Header, ae, etag string) ([]byte, string) {
	tag := func(suffix string) string { return strings.TrimSuffix(etag, `"`) + suffix + `"` }
	switch {
	case e.br != nil && acceptsEncoding(ae, "br"):
		h.Set("Content-Encoding", "br")
		return e.br, tag("-br")
	case e.gz != nil && acceptsEncoding(ae, "gzip"):
		h.Set("Content-Encoding", "gzip")
		return e.gz, tag("-gz")
	}
	return e.raw, etag
}

// blobCache keeps recently served blobs in memory, bounded in bytes.
// Blobs are immutable, so entries never go stale.
type blobCache struct {
	mu    sync.Mutex
	max   int
	size  int
	items map[string]*encoded
}

func newBlobCache(maxBytes int) *blobCache {
	return &blobCache{max: maxBytes, items: map[string]*encoded{}}
}

func (c *blobCache) get(ctx context.Context, st store.Store, hash string) (*encoded, error) {
	c.mu.Lock()
	b := c.items[hash]
	c.mu.Unlock()
	if b != nil {
		return b, nil
	}
	raw, err := st.Blob(ctx, hash)
	if err != nil {
		return nil, err
	}
	e := encode(raw)
	b = &e
	n := b.size()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.items[hash]; old != nil {
		return old, nil
	}
	for k, e := range c.items { // evict arbitrary entries: a rare event
		if c.size+n <= c.max {
			break
		}
		c.size -= e.size()
		delete(c.items, k)
	}
	if n <= c.max {
		c.items[hash] = b
		c.size += n
	}
	return b, nil
}

// manifestCache keeps encoded manifests by site and version, first in
// first out.
type manifestCache struct {
	mu    sync.Mutex
	max   int
	order []string
	items map[string]*cachedManifest
}

func newManifestCache(n int) *manifestCache {
	return &manifestCache{max: n, items: map[string]*cachedManifest{}}
}

func (c *manifestCache) get(key string) *cachedManifest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[key]
}

func (c *manifestCache) put(key string, m *cachedManifest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, key)
	c.items[key] = m
}

// pinned returns the version a site's owner pinned, if any.
func (s *Server) pinned(key string) (uint32, bool) {
	if s.pin == nil {
		return 0, false
	}
	return s.pin(key)
}
