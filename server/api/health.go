package api

import (
	"fmt"
	"net/http"
)

// handleHealthz answers 200 while the process serves.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the server takes traffic: it is serving,
// not shutting down, and every site has a model; else 503.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, reasonUnavailable, fmt.Errorf("%w: shutting down", ErrClosed))
		return
	}
	for _, key := range s.sites.Keys() {
		if _, ok := s.agg.Current(key); !ok {
			writeError(w, http.StatusServiceUnavailable, reasonUnavailable, fmt.Errorf("site %q has no model yet", key))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// handleOpenAPI serves the API's OpenAPI document.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(OpenAPI)
}

// indexPage says what runs here and nothing of the sites served: their
// keys are their owners' to publish. It has no inline style or script, so
// the pages' Content-Security-Policy holds for it too.
var indexPage = []byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tailor server</title></head><body>
<h1>Tailor server</h1>
<p>The server is running. It serves:</p>
<ul>
<li><a href="/v1/assets">assets</a> (tailor.js, tailor.wasm: hashed, precompressed, with SRI)</li>
<li><a href="/v1/openapi.yaml">the API (OpenAPI 3)</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li>
</ul></body></html>
`)

// handleIndex serves a page that says what runs here.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(indexPage)
}
