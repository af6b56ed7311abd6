package api

import (
	"fmt"
	"net/http"
	"strings"
)

// pageCSP is the Content-Security-Policy of the HTML pages served here
// (the demo store's, the index) unless their handler sets one: scripts and
// everything else from this origin only, WebAssembly compiled by
// tailor.js ('wasm-unsafe-eval', not 'unsafe-eval'), style attributes
// (the store's banners set a colour) but no inline style elements, and no
// framing by anyone.
const pageCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
	"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secureHeaders adds to a response's headers, just before they are
// written: nosniff on every answer that may have a body (an API body is
// never to be read as another type; a recorded sync's bare 202, which has
// none, goes without: writeEmpty), and on HTML pages the policy above,
// X-Frame-Options for browsers without frame-ancestors, and a
// Referrer-Policy that keeps a page's URL within the site.
func secureHeaders(h http.Header) {
	if v := h["X-Content-Type-Options"]; len(v) != 1 || v[0] != "nosniff" { // writeJSON's and assets' answers have it
		h.Set("X-Content-Type-Options", "nosniff")
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		return
	}
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", pageCSP)
	}
	h.Set("X-Frame-Options", "DENY")
	if h.Get("Referrer-Policy") == "" {
		h.Set("Referrer-Policy", "same-origin")
	}
}

// methodNotAllowed answers a method an API path does not route: 405 with
// the methods it does.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Errorf("%s %s: this path answers %s", r.Method, r.URL.Path, allow))
	}
}
