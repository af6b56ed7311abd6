package api

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"

	"github.com/tailorhq/tailor/server/site"
)

// MinTokenLen is the shortest admin token accepted: one an operator
// makes up must not be guessable (site.NewToken's have 43 characters).
const MinTokenLen = 32

// hashToken is the SHA-256 of a token presented, which site.Admin.Is
// and site.Site.Owns compare.
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
	ok := s.admin.Is(h)
	if st != nil {
		ok = st.Owns(h) || ok
	}
	return ok
}

// unauthorized answers 401 with the challenge of RFC 6750.
func unauthorized(w http.ResponseWriter, what string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tailor"`)
	writeError(w, http.StatusUnauthorized, "unauthorized",
		fmt.Errorf("%w: %s needs Authorization: Bearer TOKEN (the site's owner token or the admin token)", ErrUnauthorized, what))
}
