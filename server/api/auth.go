package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/tailorhq/tailor/server/site"
)

// MinTokenLen is the shortest admin token accepted: one an operator
// makes up must not be guessable (site.NewToken's have 43 characters).
const MinTokenLen = 32

func hashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// authorized reports whether a request carries the admin token or, for
// st (nil: no site), the site's owner token. The comparison is of SHA-256
// digests in constant time: its timing tells nothing of either token.
func (s *Server) authorized(r *http.Request, st *site.Site) bool {
	token := bearer(r)
	if token == "" {
		return false
	}
	h := hashToken(token)
	ok := s.hasAdmin && subtle.ConstantTimeCompare(h[:], s.admin[:]) == 1
	if st != nil && st.OwnerHash != nil {
		ok = subtle.ConstantTimeCompare(h[:], st.OwnerHash) == 1 || ok
	}
	return ok
}

// unauthorized answers 401 with the challenge of RFC 6750.
func unauthorized(w http.ResponseWriter, what string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tailor"`)
	writeError(w, http.StatusUnauthorized, "unauthorized",
		fmt.Errorf("%w: %s needs Authorization: Bearer TOKEN (the site's owner token or the admin token)", ErrUnauthorized, what))
}

// pageCSP is the Content-Security-Policy of the HTML pages served here
// (the demo store's, the index) unless their handler sets one: scripts and
// everything else from this origin only, WebAssembly compiled by
// tailor.js ('wasm-unsafe-eval', not 'unsafe-eval'), style attributes
// (the store's banners set a colour) but no inline style elements, and no
// framing by anyone.
const pageCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
	"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secureHeaders adds to a response's headers, just before they are
// written: nosniff on every answer (an API body is never to be read as
// another type), and on HTML pages the policy above, X-Frame-Options for
// browsers without frame-ancestors, and a Referrer-Policy that keeps a
// page's URL within the site.
func secureHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
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
