package site_test

import (
	"crypto/sha256"
	"testing"

	"github.com/tailorhq/tailor/server/site"
)

func TestAdmin(t *testing.T) {
	const token = "admin-token-of-the-site-tests-000000000"
	sum := func(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }
	for _, tc := range []struct {
		name    string
		admin   site.Admin
		sum     [sha256.Size]byte
		set, is bool
	}{
		{"the token", site.NewAdmin(token), sum(token), true, true},
		{"another token", site.NewAdmin(token), sum(token + "x"), true, false},
		{"none, the empty token", site.NewAdmin(""), sum(""), false, false},
		{"none, a zero sum", site.Admin{}, [sha256.Size]byte{}, false, false},
	} {
		if got := tc.admin.Set(); got != tc.set {
			t.Errorf("%s: Set() = %v, want %v", tc.name, got, tc.set)
		}
		if got := tc.admin.Is(tc.sum); got != tc.is {
			t.Errorf("%s: Is = %v, want %v", tc.name, got, tc.is)
		}
	}
}
