package api

import (
	"fmt"
	"html/template"
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

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tailor server</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>Tailor server</h1>
<p>The server is running. The demo store's pages arrive in a later issue; until then, this is what it serves:</p>
<ul>
{{range .Sites}}<li>site <code>{{.}}</code>: <a href="/v1/model?site={{.}}">model manifest</a>, <a href="/v1/stats?site={{.}}">uplift report</a></li>
{{end}}<li><a href="/v1/assets">assets</a> (tailor.js, tailor.wasm: hashed, precompressed, with SRI)</li>
<li><a href="/v1/openapi.yaml">the API (OpenAPI 3)</a>, <a href="/metrics">metrics</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li>
</ul></body></html>
`))

// handleIndex serves a page that says what runs here.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	indexPage.Execute(w, struct{ Sites []string }{s.sites.Keys()})
}
