package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// assetNames are the files a browser loads from the server: the loader,
// its lazily loaded chunks (which tailor.js imports by their hashed names:
// the scanner's, profile()'s details) and the wasm.
var assetNames = []string{"tailor.js", "tailor-extra.js", "tailor-details.js", "tailor.wasm"}

// AssetRef is where a browser loads an asset from, with its Subresource
// Integrity hash.
type AssetRef struct {
	URL       string `json:"url"`
	Integrity string `json:"integrity"` // "sha384-..."
}

// AssetInfo is an entry of GET /v1/assets and of build/assets.sh's
// assets.json.
type AssetInfo struct {
	File      string `json:"file"` // the content-hashed name
	URL       string `json:"url,omitempty"`
	Integrity string `json:"integrity"`
	Bytes     int    `json:"bytes"`
	Brotli    int    `json:"br,omitempty"`   // bytes of the .br variant
	Gzip      int    `json:"gzip,omitempty"` // bytes of the .gz variant
}

// asset is one servable file in memory with its precompressed variants.
type asset struct {
	name, file, contentType, integrity, hash string
	raw, br, gz                              []byte
}

// assets are the servable files by hashed file name and by plain name.
type assets struct {
	byFile map[string]*asset
	byName map[string]*asset
}

// loadAssets reads dir/assets.json and the files it lists under
// dir/assets/, as build/assets.sh writes them; without assets.json, it
// hashes the plain files in dir and gzips them itself. Missing files are
// left out.
func loadAssets(dir string) (*assets, error) {
	a := &assets{byFile: map[string]*asset{}, byName: map[string]*asset{}}
	if dir == "" {
		return a, nil
	}
	list, err := os.ReadFile(filepath.Join(dir, "assets.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return a, a.loadPlain(dir)
	case err != nil:
		return nil, fmt.Errorf("api: assets: %w", err)
	}
	var infos map[string]AssetInfo
	if err := json.Unmarshal(list, &infos); err != nil {
		return nil, fmt.Errorf("api: assets: %s/assets.json: %w", dir, err)
	}
	for _, name := range assetNames {
		info, ok := infos[name]
		if !ok {
			continue
		}
		if filepath.Base(info.File) != info.File || !strings.HasSuffix(info.File, filepath.Ext(name)) {
			return nil, fmt.Errorf("api: assets: %s: bad file name %q", name, info.File)
		}
		path := filepath.Join(dir, "assets", info.File)
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("api: assets: %s listed in assets.json: %w", name, err)
		}
		as := newAsset(name, raw)
		if as.integrity != info.Integrity {
			return nil, fmt.Errorf("api: assets: %s: integrity %s, assets.json says %s: rebuild with make dist", path, as.integrity, info.Integrity)
		}
		as.file = info.File
		for _, v := range []struct {
			ext string
			dst *[]byte
		}{{".br", &as.br}, {".gz", &as.gz}} {
			b, err := os.ReadFile(path + v.ext)
			if err == nil {
				*v.dst = b
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("api: assets: %w", err)
			}
		}
		a.add(as)
	}
	return a, nil
}

func (a *assets) loadPlain(dir string) error {
	for _, name := range assetNames {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("api: assets: %w", err)
		}
		as := newAsset(name, raw)
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw)
		zw.Close()
		as.gz = buf.Bytes()
		a.add(as)
	}
	return nil
}

// newAsset hashes a file: its hashed name is name with the first 16 hex
// digits of its SHA-256 before the extension, as build/assets.sh names it.
func newAsset(name string, raw []byte) *asset {
	sum := sha256.Sum256(raw)
	sri := sha512.Sum384(raw)
	ext := filepath.Ext(name)
	hash := hex.EncodeToString(sum[:8])
	ct := "application/octet-stream"
	switch ext {
	case ".wasm":
		ct = "application/wasm"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	}
	return &asset{name: name, file: strings.TrimSuffix(name, ext) + "." + hash + ext, contentType: ct, hash: hash,
		integrity: "sha384-" + base64.StdEncoding.EncodeToString(sri[:]), raw: raw}
}

func (a *assets) add(as *asset) {
	a.byFile[as.file] = as
	a.byName[as.name] = as
}

// refs returns where each asset is, for manifests.
// Asset returns where browsers load an asset (tailor.js, tailor.wasm) from
// under its content-hashed name, with its integrity hash.
func (s *Server) Asset(name string) (AssetRef, bool) {
	ref, ok := s.assets.refs()[name]
	return ref, ok
}

func (a *assets) refs() map[string]AssetRef {
	if len(a.byName) == 0 {
		return nil
	}
	m := map[string]AssetRef{}
	for name, as := range a.byName {
		m[name] = AssetRef{URL: "/assets/" + as.file, Integrity: as.integrity}
	}
	return m
}

// handleAssetList lists the assets served, their URLs and SRI hashes.
func (s *Server) handleAssetList(w http.ResponseWriter, r *http.Request) {
	out := map[string]AssetInfo{}
	for name, as := range s.assets.byName {
		out[name] = AssetInfo{File: as.file, URL: "/assets/" + as.file, Integrity: as.integrity, Bytes: len(as.raw),
			Brotli: len(as.br), Gzip: len(as.gz)}
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, out)
}

// handleAsset serves a content-hashed asset, immutable, brotli or gzip
// encoded when the client accepts it.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	as := s.assets.byFile[r.PathValue("name")]
	if as == nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Errorf("no asset %q: GET /v1/assets lists them", r.PathValue("name")))
		return
	}
	s.serveAsset(w, r, as, immutable)
}

// handleLoader serves tailor.js at its stable URL, the one a site's script
// tag names, with a short max-age; the wasm it loads is content-hashed.
func (s *Server) handleLoader(w http.ResponseWriter, r *http.Request) {
	as := s.assets.byName["tailor.js"]
	if as == nil {
		writeError(w, http.StatusNotFound, "not_found", errors.New("tailor.js is not built yet; GET /v1/assets lists what is served"))
		return
	}
	s.serveAsset(w, r, as, "public, max-age=300")
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, as *asset, cache string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cache)
	h.Set("Vary", "Accept-Encoding")
	body, etag := as.raw, `"`+as.hash+`"`
	ae := r.Header.Get("Accept-Encoding")
	switch {
	case as.br != nil && acceptsEncoding(ae, "br"):
		body, etag = as.br, `"`+as.hash+`-br"`
		h.Set("Content-Encoding", "br")
	case as.gz != nil && acceptsEncoding(ae, "gzip"):
		body, etag = as.gz, `"`+as.hash+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	writeEncoded(w, r, body, etag, as.contentType)
}
