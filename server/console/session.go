package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tailorhq/tailor/server/site"
)

// Cookie names: the session, and the sign-in form's CSRF token before
// there is one.
const (
	sessionCookie = "tailor_console"
	signInCookie  = "tailor_console_signin"
)

// SessionLifetime is how long a sign-in lasts.
const SessionLifetime = 12 * time.Hour

// session is who signed in: the admin (every site) or one site's owner.
//
// It lives in the cookie alone, signed with HMAC-SHA256: a replica that
// shares the signing key (derived from the admin token, which every
// replica is given) accepts a session another signed, with no session
// store. An owner's session also carries a digest of the owner token's
// hash: rotating the token ends the sessions it opened.
type session struct {
	admin   bool
	site    string   // the owner's site; "" for the admin
	cred    [8]byte  // first bytes of SHA-256 of the site's OwnerHash
	expires int64    // Unix seconds
	nonce   [16]byte // names the session: CSRF token, sign-out
}

// who is the session's role, for the audit log.
func (s *session) who() string {
	if s.admin {
		return "admin"
	}
	return "owner"
}

// may reports whether the session may see and change a site.
func (s *session) may(key string) bool { return s.admin || s.site == key }

// credDigest is what a session keeps of an owner's credential.
func credDigest(ownerHash []byte) (d [8]byte) {
	h := sha256.Sum256(ownerHash)
	copy(d[:], h[:])
	return d
}

// sessions signs and checks session cookies.
//
// # Notes
//
// sessions is goroutine-safe. Sign-out revokes a session on this replica
// only (a list kept until the session would have expired anyway); on the
// others the browser's cookie is gone, which is what a sign-out is for,
// and a copied cookie stays valid until it expires.
type sessions struct {
	key []byte
	now func() time.Time

	mu      sync.Mutex
	revoked map[[16]byte]int64 // nonce: expiry
}

// newSessions derives the signing key from the admin token, so that every
// replica given the same token accepts the others' sessions; without one,
// the key is random, and sessions end with the process.
func newSessions(adminToken string) *sessions {
	key := make([]byte, 32)
	if adminToken != "" {
		m := hmac.New(sha256.New, []byte(adminToken))
		m.Write([]byte("tailor console session key v1"))
		key = m.Sum(nil)
	} else {
		rand.Read(key)
	}
	return &sessions{key: key, now: time.Now, revoked: map[[16]byte]int64{}}
}

func (ss *sessions) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, ss.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// encode returns the cookie value of a session: payload.mac, base64url.
func (ss *sessions) encode(s *session) string {
	b := make([]byte, 0, 64)
	if s.admin {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(s.expires))
	b = append(b, s.nonce[:]...)
	b = append(b, s.cred[:]...)
	b = append(b, s.site...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b) + "." + enc.EncodeToString(ss.mac([]byte("session\x00"), b))
}

// decode checks a cookie value and returns its session, if it is valid,
// unexpired and not signed out.
func (ss *sessions) decode(v string) (*session, bool) {
	p, m, ok := strings.Cut(v, ".")
	if !ok || len(v) > 512 {
		return nil, false
	}
	enc := base64.RawURLEncoding
	b, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, ss.mac([]byte("session\x00"), b)) || len(b) < 1+8+16+8 {
		return nil, false
	}
	s := &session{admin: b[0] == 1, expires: int64(binary.BigEndian.Uint64(b[1:9]))}
	copy(s.nonce[:], b[9:25])
	copy(s.cred[:], b[25:33])
	s.site = string(b[33:])
	if s.admin != (s.site == "") || ss.now().Unix() >= s.expires {
		return nil, false
	}
	ss.mu.Lock()
	_, out := ss.revoked[s.nonce]
	ss.mu.Unlock()
	return s, !out
}

// csrf returns a session's CSRF token: forms carry it, and a POST without
// it is refused. A cross-site page can neither read it nor compute it.
func (ss *sessions) csrf(s *session) string {
	return base64.RawURLEncoding.EncodeToString(ss.mac([]byte("csrf\x00"), s.nonce[:]))
}

// checkCSRF compares a form's token with the session's in constant time.
func (ss *sessions) checkCSRF(s *session, token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(ss.csrf(s))) == 1
}

// revoke signs a session out on this replica.
func (ss *sessions) revoke(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now().Unix()
	for n, exp := range ss.revoked {
		if exp <= now {
			delete(ss.revoked, n)
		}
	}
	ss.revoked[s.nonce] = s.expires
}

// newSession opens a session for a credential: the admin's, or a site's
// owner's.
func (ss *sessions) newSession(admin bool, st *site.Site) *session {
	s := &session{admin: admin, expires: ss.now().Add(SessionLifetime).Unix()}
	rand.Read(s.nonce[:])
	if !admin {
		s.site = st.Key
		s.cred = credDigest(st.OwnerHash)
	}
	return s
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, for
// /console only, Secure when the request came over TLS (directly, or
// through a proxy that says so and that the console was told to trust).
func setCookie(w http.ResponseWriter, r *http.Request, secure bool, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure || r.TLS != nil})
}

// randomToken returns 128 random bits, hex.
func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
