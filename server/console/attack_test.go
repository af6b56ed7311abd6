package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOwnerCannotReachAnotherSite is the IDOR attack on a multi-site
// console: the owner of shop, signed in, with a valid CSRF token of its
// own session and the console's own origin, asks for every page of
// other and posts every form of it. Each answers 404 (the same as a site
// that does not exist: the key's existence is not confirmed either), no
// lever of other moves, and nothing of other's owner-only pages (its
// install snippet, its rules) comes back.
func TestOwnerCannotReachAnotherSite(t *testing.T) {
	s := newStack(t, stackConfig{})
	if res := s.signIn(t, shopToken); res.code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.code)
	}
	token := csrf(t, s.do(t, http.MethodGet, "/console/sites/shop/levers", nil))
	origin := []string{"Origin", s.url}
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/console/sites/other", nil},
		{http.MethodGet, "/console/sites/other/install", nil},
		{http.MethodGet, "/console/sites/other/experiment", nil},
		{http.MethodGet, "/console/sites/other/learned", nil},
		{http.MethodGet, "/console/sites/other/levers", nil},
		{http.MethodGet, "/console/sites/other/site", nil},
		{http.MethodGet, "/console/sites/other/rules", nil},
		{http.MethodPost, "/console/sites/other/levers/pause", url.Values{"csrf": {token}}},
		{http.MethodPost, "/console/sites/other/levers/pin", url.Values{"csrf": {token}, "version": {"0"}}},
		{http.MethodPost, "/console/sites/other/site/rotate", url.Values{"csrf": {token}}},
		{http.MethodPost, "/console/sites/other/rules", url.Values{"csrf": {token}, "rules": {"[]"}}},
		{http.MethodPost, "/console/sites", url.Values{"csrf": {token}, "key": {"other"}, "origins": {"https://evil.example"}, "privacy": {"local"}}},
	} {
		res := s.do(t, c.method, c.path, c.form, origin...)
		want := http.StatusNotFound
		if c.path == "/console/sites" {
			want = http.StatusUnauthorized // adding a site is the operator's
		}
		if res.code != want {
			t.Errorf("%s %s as shop's owner: %d, want %d", c.method, c.path, res.code, want)
		}
		if strings.Contains(res.body, "other.example") {
			t.Errorf("%s %s as shop's owner shows other's origin", c.method, c.path)
		}
	}
	if s.levers.Paused("other") {
		t.Error("shop's owner paused other")
	}
	if pin, ok := s.levers.Pin("other"); ok {
		t.Errorf("shop's owner pinned other at %d", pin)
	}
	if res := s.do(t, http.MethodGet, "/console/sites/shop", nil); res.code != http.StatusOK {
		t.Errorf("shop's own overview: %d", res.code)
	}
}
