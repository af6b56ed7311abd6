package site

import (
	"crypto/sha256"
	"crypto/subtle"
)

// Admin is the operator's credential as a server keeps it: the SHA-256 of
// the admin token, or none. It opens every site, where an owner token
// opens one (Site.Owns); the API's bearer tokens and the console's
// sign-in both ask it.
//
//	admin := site.NewAdmin(os.Getenv("TAILOR_ADMIN_TOKEN"))
//	ok := admin.Is(sha256.Sum256([]byte(token)))
//
// # Notes
//
// An Admin is a value, safe to share between goroutines.
type Admin struct {
	sum [sha256.Size]byte
	set bool
}

// NewAdmin keeps the SHA-256 of token; "" is no admin token.
func NewAdmin(token string) Admin {
	if token == "" {
		return Admin{}
	}
	return Admin{sum: sha256.Sum256([]byte(token)), set: true}
}

// Set reports whether there is an admin token.
func (a Admin) Set() bool { return a.set }

// Is reports whether sum, the SHA-256 of a token, is the admin token's
// (false without one). The comparison takes constant time: its timing
// tells nothing of either token.
func (a Admin) Is(sum [sha256.Size]byte) bool {
	return a.set && subtle.ConstantTimeCompare(sum[:], a.sum[:]) == 1
}
