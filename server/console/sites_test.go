package console_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/server/console"
	"github.com/tailorhq/tailor/server/site"
)

var shownToken = regexp.MustCompile(`<input id="(?:token-[^"]+|newtoken)" readonly value="([^"]+)">`)

// token returns the owner token a page shows once.
func token(t *testing.T, res *response) string {
	t.Helper()
	return field(t, shownToken, "owner token", res)
}

// TestAddSite: the admin adds a site with its origins and privacy mode;
// its owner token is shown once and only its hash stored; the sites page
// says which sites came from the --sites file; the site is served from
// the next start, and its token opens it. Owners cannot add sites; the
// form is validated as the file is.
func TestAddSite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tailor.db")
	s := newStack(t, stackConfig{path: path})
	s.signIn(t, adminToken)
	page := s.do(t, http.MethodGet, "/console", nil)
	if page.code != http.StatusOK || strings.Count(page.body, "from file (--sites)") != 2 {
		t.Fatalf("sites page (%d) does not mark the two file sites:\n%s", page.code, page.body)
	}
	add := func(fields url.Values) *response {
		t.Helper()
		return s.submit(t, "/console", "/console/sites", fields)
	}
	for _, tc := range []struct {
		name   string
		fields url.Values
		want   string
	}{
		{"the key of a file site", url.Values{"key": {"shop"}, "origins": {"https://x.example"}, "privacy": {"federated"}}, "exists"},
		{"an origin with a path", url.Values{"key": {"x"}, "origins": {"https://x.example/shop"}, "privacy": {"federated"}}, "is not of the form"},
		{"no origin", url.Values{"key": {"x"}, "privacy": {"local"}}, "no origins"},
		{"ldp without epsilon", url.Values{"key": {"x"}, "origins": {"*"}, "privacy": {"federated+ldp"}}, "needs an epsilon"},
		{"unknown privacy", url.Values{"key": {"x"}, "origins": {"*"}, "privacy": {"public"}}, "is not local"},
	} {
		if res := add(tc.fields); res.code != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d, want 422 saying %q:\n%s", tc.name, res.code, tc.want, res.body)
		}
	}
	res := add(url.Values{"key": {"newshop"}, "origins": {"https://new.example\nhttps://www.new.example"}, "privacy": {"federated+ldp"}, "epsilon": {"4"}})
	if res.code != http.StatusCreated || !strings.Contains(res.body, "served from the next start") {
		t.Fatalf("add: %d\n%s", res.code, res.body)
	}
	tok := token(t, res)
	if again := s.do(t, http.MethodGet, "/console", nil); strings.Contains(again.body, tok) {
		t.Error("the owner token is shown twice")
	}
	if res := add(url.Values{"key": {"newshop"}, "origins": {"*"}, "privacy": {"local"}}); res.code != http.StatusUnprocessableEntity {
		t.Errorf("adding newshop twice: %d, want 422", res.code)
	}
	generated := add(url.Values{"origins": {"*"}, "privacy": {"local"}})
	if generated.code != http.StatusCreated || !regexp.MustCompile(`Site site-[0-9a-f]{12} added`).MatchString(generated.body) {
		t.Errorf("add without a key: %d, want a generated key:\n%s", generated.code, generated.body)
	}
	if res := s.do(t, http.MethodGet, "/v1/model?site=newshop", nil); res.code != http.StatusNotFound {
		t.Errorf("before a restart, /v1/model?site=newshop: %d, want 404", res.code)
	}
	st, _ := s.db.Settings(context.Background(), " sites")
	if strings.Contains(string(st.Config), tok) || !strings.Contains(string(st.Config), site.HashToken(tok)) {
		t.Errorf("the registry keeps %s, want the token's hash only", st.Config)
	}

	owner := newStack(t, stackConfig{})
	owner.signIn(t, shopToken)
	form := owner.do(t, http.MethodGet, "/console/sites/shop", nil)
	if res := owner.do(t, http.MethodPost, "/console/sites", url.Values{"csrf": {csrf(t, form)}, "key": {"mine"}, "origins": {"*"}, "privacy": {"local"}}); res.code != http.StatusUnauthorized {
		t.Errorf("an owner adds a site: %d, want 401", res.code)
	}

	s.agg.Close(context.Background())
	s.db.Close()
	r := newStack(t, stackConfig{path: path})
	if res := r.do(t, http.MethodGet, "/v1/model?site=newshop", nil); res.code != http.StatusOK || !strings.Contains(res.body, `"version":0`) {
		t.Fatalf("after a restart, /v1/model?site=newshop: %d %s", res.code, res.body)
	}
	if res := r.signIn(t, tok); res.code != http.StatusSeeOther {
		t.Fatalf("sign in with the new site's token: %d", res.code)
	}
	cfg := r.do(t, http.MethodGet, "/console/sites/newshop/site", nil)
	for _, want := range []string{"federated&#43;ldp", "ε = 4", "https://new.example, https://www.new.example", "Added in the console"} {
		if !strings.Contains(cfg.body, want) {
			t.Errorf("the new site's page lacks %q:\n%s", want, cfg.body)
		}
	}
}

// TestRotate: rotating an owner token shows the new one once; the old
// token and its sessions open nothing, for the console and GET /v1/stats;
// another replica over the same store applies the rotation when it
// refreshes the registry.
func TestRotate(t *testing.T) {
	s := newStack(t, stackConfig{})
	s.signIn(t, shopToken)
	page := s.do(t, http.MethodGet, "/console/sites/shop/site", nil)
	if !strings.Contains(page.body, "Set by the file") || !strings.Contains(page.body, "From the <code>--sites</code> file") {
		t.Errorf("the site page does not say the site and its token come from the file:\n%s", page.body)
	}
	res := s.do(t, http.MethodPost, "/console/sites/shop/site/rotate", url.Values{"csrf": {csrf(t, page)}})
	if res.code != http.StatusOK || !strings.Contains(res.body, "not shown again") {
		t.Fatalf("rotate: %d\n%s", res.code, res.body)
	}
	tok := token(t, res)
	if res := s.do(t, http.MethodGet, "/console/sites/shop", nil); res.code != http.StatusSeeOther {
		t.Errorf("the old token's session after the rotation: %d, want a redirect to sign in", res.code)
	}
	if res := s.signIn(t, shopToken); res.code != http.StatusUnauthorized {
		t.Errorf("sign in with the old token: %d, want 401", res.code)
	}
	if res := s.signIn(t, tok); res.code != http.StatusSeeOther {
		t.Errorf("sign in with the new token: %d, want 303", res.code)
	}
	for _, x := range []struct {
		token string
		code  int
	}{{shopToken, http.StatusUnauthorized}, {tok, http.StatusOK}} {
		if res := s.do(t, http.MethodGet, "/v1/stats?site=shop", nil, "Authorization", "Bearer "+x.token); res.code != x.code {
			t.Errorf("GET /v1/stats with the %s token: %d, want %d", map[bool]string{true: "old", false: "new"}[x.token == shopToken], res.code, x.code)
		}
	}
	if page := s.do(t, http.MethodGet, "/console/sites/shop/site", nil); !strings.Contains(page.body, "Rotated in the console (overrides the file's)") {
		t.Errorf("the site page does not say the token was rotated:\n%s", page.body)
	}

	// Another replica over the same store: its registry applies the
	// rotation when it refreshes.
	set := testSites(t)
	reg := console.NewRegistry(s.db, set, console.NewLevers(s.db, 0, nil), nil)
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := set.Get("shop"); string(st.OwnerHash) != string(hashOf(t, tok)) {
		t.Error("a replica's registry does not apply the rotated token")
	}
}

// TestAddSiteLive: with the aggregator's AddSite (as tailor-server runs),
// a site added is served at once — its model, its owner's sign-in — and
// another replica's registry starts serving it when it refreshes.
func TestAddSiteLive(t *testing.T) {
	s := newStack(t, stackConfig{live: true})
	s.signIn(t, adminToken)
	form := s.do(t, http.MethodGet, "/console", nil)
	res := s.do(t, http.MethodPost, "/console/sites", url.Values{"csrf": {csrf(t, form)}, "key": {"live"},
		"origins": {"https://live.example"}, "privacy": {"federated"}})
	if res.code != http.StatusCreated || !strings.Contains(res.body, "serves it within seconds") {
		t.Fatalf("add: %d\n%s", res.code, res.body)
	}
	tok := token(t, res)
	if res := s.do(t, http.MethodGet, "/v1/model?site=live", nil); res.code != http.StatusOK || !strings.Contains(res.body, `"version":0`) {
		t.Fatalf("/v1/model?site=live right after the add: %d %s", res.code, res.body)
	}
	owner := s.browser()
	if res := owner.signIn(t, tok); res.code != http.StatusSeeOther {
		t.Fatalf("sign in with the added site's token: %d", res.code)
	}

	set := testSites(t)
	var added []string
	reg := console.NewRegistry(s.db, set, console.NewLevers(s.db, 0, nil), nil)
	reg.OnAdd(func(_ context.Context, st *site.Site) error { added = append(added, st.Key); return nil })
	if err := reg.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Get("live"); !ok || strings.Join(added, ",") != "live" {
		t.Fatalf("another replica's refresh: served %v, added %v; want live", set.Keys(), added)
	}
}
