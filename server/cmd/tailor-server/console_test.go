package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
)

// submit posts fields to action as the console page at from's form
// would, and returns the answer's status.
func submit(t *testing.T, c *http.Client, from, action string, fields url.Values) int {
	t.Helper()
	res, _ := stacktest.Submit(t, c, from, action, fields)
	return res.StatusCode
}

// page returns a console page's status and body.
func page(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, b := stacktest.Do(t, c, http.MethodGet, u, nil)
	return res.StatusCode, string(b)
}

// testConsole: two replicas on one database share the console's sessions
// and levers. A version pinned on one is what the other serves devices; a
// pause set on the other shows on the first; both show the audit log;
// rules saved on one are served by the other, an owner token rotated on
// one opens the site's stats on the other, and a site added on one is
// served by the other.
func testConsole(t *testing.T, bin string, pg *pgtest.Server) {
	db := pg.NewDatabase(t)
	args := []string{"--store", db, "--publish-every", "1", "--publish-interval", "100ms", "--min-cohort", "1"}
	a := start(t, bin, args...)
	b := start(t, bin, args...)
	c := &http.Client{Timeout: 10 * time.Second}
	for n := range 2 {
		if code, _, err := post(c, a.url, crashDelta(n)); err != nil || code != http.StatusAccepted {
			t.Fatalf("sync: %d %v", code, err)
		}
		waitDeltas(t, uint64(n+1), a, b)
	}
	newest := manifest(t, a).Version

	cc := stacktest.NewBrowser()
	if code := submit(t, cc, a.url+"/console", a.url+"/console/signin", url.Values{"token": {testAdminToken}}); code != http.StatusSeeOther {
		t.Fatalf("sign in on a: %d", code)
	}
	levers := "/console/sites/" + testSite + "/levers"
	pin := newest - 1
	if code := submit(t, cc, a.url+levers, a.url+levers+"/pin", url.Values{"version": {strconv.FormatUint(uint64(pin), 10)}}); code != http.StatusSeeOther {
		t.Fatalf("pin v%d on a: %d", pin, code)
	}
	for deadline := time.Now().Add(20 * time.Second); manifest(t, b).Version != pin; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replica b serves v%d, not the v%d pinned on a", manifest(t, b).Version, pin)
		}
	}

	// a's session, on b.
	ua, _ := url.Parse(a.url + "/console")
	ub, _ := url.Parse(b.url + "/console")
	cc.Jar.SetCookies(ub, cc.Jar.Cookies(ua))
	if code := submit(t, cc, b.url+levers, b.url+levers+"/pause", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("pause on b with a's session: %d", code)
	}
	code, body := page(t, cc, a.url+levers)
	if code != http.StatusOK || !strings.Contains(body, "Resume learning") || !strings.Contains(body, "<td>pin</td>") ||
		!strings.Contains(body, "<td>pause</td>") {
		t.Errorf("a's levers page after the pause on b (%d) shows no pause or no audit log:\n%s", code, body)
	}

	// Rules saved on b: the leader, whichever it is, publishes them as a
	// configuration version (paused or not), which a serves.
	if code := submit(t, cc, b.url+levers, b.url+levers+"/unpin", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("unpin on b: %d", code)
	}
	rulesPage := "/console/sites/" + testSite + "/rules"
	before := manifest(t, a).Config.Hash
	rule := `[{"id": "replicas", "then": {"do": "pin", "ids": ["gown"]}}]`
	if code := submit(t, cc, b.url+rulesPage, b.url+rulesPage, url.Values{"action": {"save"}, "rules": {rule},
		"explore": {"0.05"}, "holdout": {"0.05"}, "diversity": {"0"}}); code != http.StatusSeeOther {
		t.Fatalf("save rules on b: %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); manifest(t, a).Config.Hash == before; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a does not serve the rules saved on b")
		}
	}
	if code, body := page(t, cc, a.url+rulesPage); code != http.StatusOK || !strings.Contains(body, "&#34;replicas&#34;") {
		t.Errorf("a's rules page (%d) lacks the rule saved on b:\n%s", code, body)
	}

	// An owner token rotated on a opens the site's stats on b.
	sitePage := "/console/sites/" + testSite + "/site"
	res, rotated := stacktest.Submit(t, cc, a.url+sitePage, a.url+sitePage+"/rotate", nil)
	m := regexp.MustCompile(`id="newtoken" readonly value="([^"]+)"`).FindSubmatch(rotated)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("rotate on a: %d\n%s", res.StatusCode, rotated)
	}
	stats, _ := http.NewRequest(http.MethodGet, b.url+"/v1/stats?site="+testSite, nil)
	stats.Header.Set("Authorization", "Bearer "+string(m[1]))
	waitOK(t, c, stats, "b answers the owner token rotated on a with %d")

	// A site added on b is served by a: its model, version 0.
	if code := submit(t, cc, b.url+"/console", b.url+"/console/sites", url.Values{"key": {"added"}, "origins": {"*"}, "privacy": {"federated"}}); code != http.StatusCreated {
		t.Fatalf("add a site on b: %d", code)
	}
	model, _ := http.NewRequest(http.MethodGet, a.url+"/v1/model?site=added", nil)
	waitOK(t, c, model, "a answers /v1/model for the site added on b with %d")
}

// waitOK sends req until it is answered 200, for up to 20 s (what one
// replica does reaches the other within the registry's refresh); past
// that it fails with format and the last status.
func waitOK(t *testing.T, c *http.Client, req *http.Request, format string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf(format, res.StatusCode)
		}
	}
}
