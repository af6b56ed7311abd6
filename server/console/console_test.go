package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/console"
)

// TestSignIn: the form, a wrong token (401), a missing CSRF token (403),
// the owner's token (a session cookie for /console only, HttpOnly,
// SameSite=Strict) and what it opens.
func TestSignIn(t *testing.T) {
	s := newStack(t, stackConfig{})
	form := s.do(t, http.MethodGet, "/console", nil)
	if form.code != http.StatusOK || !strings.Contains(form.body, `name="token"`) {
		t.Fatalf("GET /console: %d\n%s", form.code, form.body)
	}
	if !strings.Contains(form.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || form.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the console's headers: %v", form.header)
	}
	token := csrf(t, form)
	for _, tc := range []struct {
		name   string
		csrf   string // "": the form's
		token  string
		header []string
		code   int
	}{
		{"wrong token", "", "not-a-token-of-anyone-0000000000000000000", nil, http.StatusUnauthorized},
		{"empty token", "", "", nil, http.StatusUnauthorized},
		{"no CSRF", "none", shopToken, nil, http.StatusForbidden},
		{"wrong CSRF", "x", shopToken, nil, http.StatusForbidden},
		{"cross-site", "", shopToken, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
	} {
		fields := url.Values{"token": {tc.token}}
		switch tc.csrf {
		case "":
			fields.Set("csrf", token)
		case "x":
			fields.Set("csrf", "x"+token)
		}
		res := s.do(t, http.MethodPost, "/console/signin", fields, tc.header...)
		if res.code != tc.code || cookie(res, "tailor_console") != nil {
			t.Errorf("%s: %d, session cookie %v; want %d and none", tc.name, res.code, cookie(res, "tailor_console"), tc.code)
		}
		if res.code == http.StatusUnauthorized && !strings.Contains(res.body, "opens no site") {
			t.Errorf("%s: the form does not say why:\n%s", tc.name, res.body)
		}
		token = csrf(t, res) // each form has its own
	}
	res := s.do(t, http.MethodPost, "/console/signin", url.Values{"csrf": {token}, "token": {shopToken}})
	ck := cookie(res, "tailor_console")
	if res.code != http.StatusSeeOther || ck == nil {
		t.Fatalf("the owner's token: %d, cookie %v", res.code, ck)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure || ck.MaxAge != int(console.SessionLifetime.Seconds()) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, not Secure over plain HTTP, 12h", ck)
	}
	if home := s.do(t, http.MethodGet, "/console", nil); home.code != http.StatusSeeOther || home.header.Get("Location") != "/console/sites/shop" {
		t.Errorf("an owner's home: %d to %q, want the site", home.code, home.header.Get("Location"))
	}
	if page := s.do(t, http.MethodGet, "/console/sites/shop", nil); page.code != http.StatusOK || !strings.Contains(page.body, "Overview") {
		t.Errorf("the owner's overview: %d", page.code)
	}
	if page := s.do(t, http.MethodGet, "/console/sites/other", nil); page.code != http.StatusNotFound {
		t.Errorf("another owner's site: %d, want 404", page.code)
	}
	if page := s.do(t, http.MethodGet, "/console/sites/nobody", nil); page.code != http.StatusNotFound {
		t.Errorf("an unknown site: %d, want 404", page.code)
	}
	// Visitors still get no cookie: the API's and the pages' answers drop any.
	if res := s.do(t, http.MethodGet, "/v1/model?site=shop", nil); res.header.Get("Set-Cookie") != "" {
		t.Errorf("GET /v1/model set a cookie")
	}
}

// TestSecureCookie: the cookies are Secure when the console is told it
// is behind TLS.
func TestSecureCookie(t *testing.T) {
	s := newStack(t, stackConfig{opts: []console.Option{console.WithSecureCookies(true)}})
	form := s.do(t, http.MethodGet, "/console", nil)
	if ck := cookie(form, "tailor_console_signin"); ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/console" {
		t.Fatalf("sign-in cookie %+v: want Secure, HttpOnly, Path=/console", ck)
	}
}

// TestAdmin: the admin token opens every site and lists them.
func TestAdmin(t *testing.T) {
	s := newStack(t, stackConfig{})
	if res := s.signIn(t, adminToken); res.code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.code)
	}
	home := s.do(t, http.MethodGet, "/console", nil)
	if home.code != http.StatusOK || !strings.Contains(home.body, `href="/console/sites/shop"`) || !strings.Contains(home.body, `href="/console/sites/other"`) {
		t.Fatalf("the admin's home: %d\n%s", home.code, home.body)
	}
	for _, key := range []string{"shop", "other"} {
		if page := s.do(t, http.MethodGet, "/console/sites/"+key+"/levers", nil); page.code != http.StatusOK {
			t.Errorf("the admin on %s: %d", key, page.code)
		}
	}
}

// TestSignOut: signing out needs the CSRF token, clears the cookie and
// ends the session, even for a copy of the cookie.
func TestSignOut(t *testing.T) {
	s := newStack(t, stackConfig{})
	s.signIn(t, shopToken)
	u, _ := url.Parse(s.url + "/console")
	copied := s.c.Jar.Cookies(u)
	if res := s.do(t, http.MethodPost, "/console/signout", url.Values{}); res.code != http.StatusForbidden {
		t.Fatalf("sign-out without CSRF: %d, want 403", res.code)
	}
	page := s.do(t, http.MethodGet, "/console/sites/shop", nil)
	res := s.do(t, http.MethodPost, "/console/signout", url.Values{"csrf": {csrf(t, page)}})
	if ck := cookie(res, "tailor_console"); res.code != http.StatusSeeOther || ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("sign-out: %d, cookie %+v; want 303 and the cookie cleared", res.code, ck)
	}
	if page := s.do(t, http.MethodGet, "/console/sites/shop", nil); page.code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want the sign-in page", page.code)
	}
	s.c.Jar.SetCookies(u, copied)
	if page := s.do(t, http.MethodGet, "/console/sites/shop", nil); page.code != http.StatusSeeOther {
		t.Errorf("a copy of the signed-out cookie: %d, want refused", page.code)
	}
}

// TestCSRF: a lever without the session's CSRF token, with another's, or
// from another origin is refused, and changes nothing.
func TestCSRF(t *testing.T) {
	s := newStack(t, stackConfig{})
	s.signIn(t, shopToken)
	page := s.do(t, http.MethodGet, "/console/sites/shop/levers", nil)
	token := csrf(t, page)
	other := newStack(t, stackConfig{})
	other.signIn(t, shopToken)
	otherToken := csrf(t, other.do(t, http.MethodGet, "/console/sites/shop/levers", nil))
	for _, tc := range []struct {
		name   string
		fields url.Values
		header []string
	}{
		{"none", url.Values{}, nil},
		{"another session's", url.Values{"csrf": {otherToken}}, nil},
		{"cross-site", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}},
	} {
		if res := s.do(t, http.MethodPost, "/console/sites/shop/levers/pause", tc.fields, tc.header...); res.code != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d, want 403", tc.name, res.code)
		}
	}
	if s.levers.Paused("shop") {
		t.Fatal("a refused form paused learning")
	}
	// Signed out, a POST is 401.
	anon := &http.Client{}
	res, err := anon.PostForm(s.url+"/console/sites/shop/levers/pause", url.Values{"csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a lever without a session: %d, want 401", res.StatusCode)
	}
	if res := s.do(t, http.MethodDelete, "/console/sites/shop/levers/pause", nil); res.code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE on a lever: %d, want 405", res.code)
	}
}

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

// TestReplicas: a replica given the same admin token accepts a session
// another signed (no session store), and the levers one writes are the
// other's (the store).
func TestReplicas(t *testing.T) {
	a := newStack(t, stackConfig{})
	a.signIn(t, shopToken)
	b := newStack(t, stackConfig{})
	u, _ := url.Parse(a.url + "/console")
	ub, _ := url.Parse(b.url + "/console")
	b.c.Jar.SetCookies(ub, a.c.Jar.Cookies(u))
	if page := b.do(t, http.MethodGet, "/console/sites/shop", nil); page.code != http.StatusOK {
		t.Fatalf("replica b with a's session: %d", page.code)
	}
	c := newStack(t, stackConfig{opts: []console.Option{console.WithAdminToken("another-admin-token-0000000000000000000")}})
	uc, _ := url.Parse(c.url + "/console")
	c.c.Jar.SetCookies(uc, a.c.Jar.Cookies(u))
	if page := c.do(t, http.MethodGet, "/console/sites/shop", nil); page.code != http.StatusSeeOther {
		t.Fatalf("a server with another admin token took the session: %d", page.code)
	}
}

// TestLevers: each lever acts, is in the audit log, and survives a
// restart.
func TestLevers(t *testing.T) {
	path := t.TempDir() + "/tailor.db"
	s := newStack(t, stackConfig{path: path})
	ctx := context.Background()
	s.signIn(t, shopToken)
	now := time.Now().UTC()
	old := now.Add(-3 * time.Hour)
	s.appendDeltas(t, "shop", 3, old, "gown", "heels")
	s.agg.Flush(ctx)
	s.appendDeltas(t, "shop", 2, now, "coat", "scarf")
	s.agg.Flush(ctx)
	model := func() api.Manifest {
		t.Helper()
		res := s.do(t, http.MethodGet, "/v1/model?site=shop", nil)
		var m api.Manifest
		if err := json.Unmarshal([]byte(res.body), &m); err != nil {
			t.Fatalf("/v1/model: %d %s", res.code, res.body)
		}
		return m
	}
	if v := model().Version; v != 2 {
		t.Fatalf("version %d before any lever, want 2", v)
	}

	if res := s.lever(t, "shop", "pin", url.Values{"version": {"1"}}); res.code != http.StatusSeeOther {
		t.Fatalf("pin: %d\n%s", res.code, res.body)
	}
	if v := model().Version; v != 1 {
		t.Errorf("pinned at v1: /v1/model serves v%d", v)
	}
	if res := s.lever(t, "shop", "pin", url.Values{"version": {"9"}}); res.code != http.StatusUnprocessableEntity {
		t.Errorf("pin an unpublished version: %d, want 422", res.code)
	}

	if res := s.lever(t, "shop", "pause", nil); res.code != http.StatusSeeOther {
		t.Fatalf("pause: %d", res.code)
	}
	s.appendDeltas(t, "shop", 2, now, "coat", "gloves")
	s.agg.Flush(ctx)
	if v, _ := s.agg.Current("shop"); v.Number != 2 {
		t.Errorf("paused: v%d published", v.Number)
	}
	if res := s.lever(t, "shop", "resume", nil); res.code != http.StatusSeeOther {
		t.Fatalf("resume: %d", res.code)
	}
	s.agg.Flush(ctx)
	if v, _ := s.agg.Current("shop"); v.Number != 3 || v.Deltas != 7 {
		t.Errorf("resumed: v%d with %d deltas, want v3 with 7", v.Number, v.Deltas)
	}

	from := old.Truncate(time.Hour)
	res := s.lever(t, "shop", "purge", url.Values{"from": {from.Format("2006-01-02T15:04")}, "to": {from.Add(time.Hour).Format("2006-01-02T15:04")}})
	if res.code != http.StatusSeeOther {
		t.Fatalf("purge: %d\n%s", res.code, res.body)
	}
	v, _ := s.agg.Current("shop")
	if ds, _ := s.db.Deltas(ctx, "shop", 0, 100); len(ds) != 4 || v.Number != 4 || v.Deltas != 4 {
		t.Errorf("purged: %d deltas stored, v%d with %d deltas; want 4, v4 with 4", len(ds), v.Number, v.Deltas)
	}
	if res := s.lever(t, "shop", "purge", url.Values{"from": {"yesterday"}, "to": {"today"}}); res.code != http.StatusUnprocessableEntity {
		t.Errorf("purge of a malformed window: %d, want 422", res.code)
	}
	if res := s.lever(t, "shop", "unpin", nil); res.code != http.StatusSeeOther {
		t.Fatalf("unpin: %d", res.code)
	}
	if v := model().Version; v != 4 {
		t.Errorf("unpinned: /v1/model serves v%d, want v4", v)
	}
	if res := s.lever(t, "shop", "pin", url.Values{"version": {"2"}}); res.code != http.StatusSeeOther {
		t.Fatalf("pin again: %d", res.code)
	}

	page := s.do(t, http.MethodGet, "/console/sites/shop/levers", nil)
	for _, want := range []string{"<td>pin</td>", "<td>pause</td>", "<td>resume</td>", "<td>purge</td>", "<td>unpin</td>", "3 deltas deleted", "<td>owner</td>"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}

	// A restart: the pin holds, on a new process's levers.
	s.agg.Close(ctx)
	s.db.Close()
	r := newStack(t, stackConfig{path: path})
	if pin, ok := r.levers.Pin("shop"); !ok || pin != 2 {
		t.Errorf("after a restart the pin is %d, %v; want 2", pin, ok)
	}
	if pin, ok := r.levers.Pin("other"); ok {
		t.Errorf("the other site is pinned at %d", pin)
	}
}

// releasedArms is a stats release of made-up totals, all in version 1.
func releasedArms(t, h, rules aggregate.ArmTotals) func(string) (map[uint32]aggregate.Arms, uint64, time.Time, error) {
	return func(string) (map[uint32]aggregate.Arms, uint64, time.Time, error) {
		return map[uint32]aggregate.Arms{1: {t, h, rules}}, t.Deltas + h.Deltas + rules.Deltas, time.Unix(1_800_000_000, 0), nil
	}
}

// TestExperiment: the arms with intervals, the SRM check passing on a fair
// split and warning on a skewed one, and no verdict on too little data.
func TestExperiment(t *testing.T) {
	for _, tc := range []struct {
		name       string
		treat, hol aggregate.ArmTotals
		want, not  []string
	}{
		{"fair split", aggregate.ArmTotals{Impressions: 9000, Clicks: 900, Conversions: 90, Deltas: 900},
			aggregate.ArmTotals{Impressions: 1000, Clicks: 70, Conversions: 7, Deltas: 100},
			[]string{"Sample ratio check passed", "10.00% <small>[9.40%, 10.64%]</small>", "&#43;42.9%", "better", "<svg",
				"<td>v1</td>", "10.00% <small>[9.40%, 10.64%] of 9000</small>"},
			[]string{"Sample ratio mismatch", "Not enough data"}},
		{"skewed split", aggregate.ArmTotals{Impressions: 9000, Clicks: 900, Deltas: 850},
			aggregate.ArmTotals{Impressions: 1000, Clicks: 70, Deltas: 150},
			[]string{"Sample ratio mismatch", "p = 1.4e-07", "suspect"}, []string{"better"}},
		{"too little", aggregate.ArmTotals{Impressions: 90, Clicks: 9, Deltas: 9},
			aggregate.ArmTotals{Impressions: 10, Clicks: 1, Deltas: 1},
			[]string{"Not enough data yet", "Sample ratio check passed"}, []string{"Uplift of the AI arm", "Over time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, stackConfig{released: releasedArms(tc.treat, tc.hol, aggregate.ArmTotals{Impressions: 500, Clicks: 40, Deltas: 50})})
			s.signIn(t, shopToken)
			page := s.do(t, http.MethodGet, "/console/sites/shop/experiment", nil)
			if page.code != http.StatusOK {
				t.Fatalf("experiment: %d", page.code)
			}
			defer func() {
				if t.Failed() {
					t.Log(page.body)
				}
			}()
			for _, w := range tc.want {
				if !strings.Contains(page.body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(page.body, w) {
					t.Errorf("the page shows %q", w)
				}
			}
		})
	}
}

// TestExperimentReleased: the page shows the API's released batches, not
// the live counts: one delta is not visible.
func TestExperimentReleased(t *testing.T) {
	s := newStack(t, stackConfig{})
	s.signIn(t, shopToken)
	s.appendDeltas(t, "shop", 1, time.Now(), "a", "b", wire.ArmCount{Arm: wire.ArmTreatment, Impressions: 7, Clicks: 3})
	s.agg.Flush(context.Background())
	// api.WithStatsRelease(1, 0) in the stack: a batch of one is released.
	page := s.do(t, http.MethodGet, "/console/sites/shop/experiment", nil)
	if !strings.Contains(page.body, "from 1 deltas") || !strings.Contains(page.body, "<td>7</td><td>3</td>") {
		t.Errorf("the released delta is not shown:\n%s", page.body)
	}
}

// TestOverviewAndLearned: the overview's version, timeline and syncs, and
// what the model learned: popular items and an item's neighbours.
func TestOverviewAndLearned(t *testing.T) {
	s := newStack(t, stackConfig{})
	s.signIn(t, shopToken)
	s.appendDeltas(t, "shop", 4, time.Now(), "gown", "heels")
	s.agg.Flush(context.Background())
	d := wire.Delta{Site: "shop", ID: [16]byte{7}, Items: []wire.Count{{ID: "gown", N: 1}}}
	sync := httptest.NewRecorder()
	s.api.Handler().ServeHTTP(sync, httptest.NewRequest(http.MethodPost, "/v1/sync", bytes.NewReader(wire.Marshal(&d))))
	if sync.Code != http.StatusAccepted {
		t.Fatalf("sync: %d %s", sync.Code, sync.Body)
	}
	page := s.do(t, http.MethodGet, "/console/sites/shop", nil)
	for _, w := range []string{">v1<", "from 4 deltas", "<svg", "k = 1", "federated", "1 accepted, 0 refused", "<code>accepted</code>"} {
		if !strings.Contains(page.body, w) {
			t.Errorf("the overview lacks %q", w)
		}
	}
	page = s.do(t, http.MethodGet, "/console/sites/shop/learned", nil)
	if !strings.Contains(page.body, `href="?item=gown"`) || !strings.Contains(page.body, "2 items published") {
		t.Errorf("the learned page lacks the popular items:\n%s", page.body)
	}
	page = s.do(t, http.MethodGet, "/console/sites/shop/learned?item=gown", nil)
	if !strings.Contains(page.body, `href="?item=heels"`) || !strings.Contains(page.body, "Because you viewed gown") {
		t.Errorf("gown's neighbours are not shown:\n%s", page.body)
	}
	s.appendDeltas(t, "shop", 2, time.Now(), "gown", "clutch")
	s.agg.Flush(context.Background())
	page = s.do(t, http.MethodGet, "/console/sites/shop/learned?since=1", nil)
	if !strings.Contains(page.body, "items changed since v1") || !strings.Contains(page.body, `href="?item=clutch"`) ||
		!strings.Contains(page.body, "<td>clutch</td>") {
		t.Errorf("what changed since v1 (gown gained clutch) is not shown:\n%s", page.body)
	}
	page = s.do(t, http.MethodGet, "/console/sites/shop/learned?item=%3Cscript%3E", nil)
	if strings.Contains(page.body, "<script>") || !strings.Contains(page.body, "not in the published model") {
		t.Errorf("an unknown item: the page echoes it unescaped or does not say so")
	}
}
