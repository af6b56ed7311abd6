//go:build !wasip1

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tailorhq/tailor/internal/browsertest"
)

// consoleTab signs in to the console with the admin token, as a person
// would, and opens a page of the demo site's.
func consoleTab(t *testing.T, page string) *browsertest.Tab {
	t.Helper()
	tb := browsertest.New(t, browsertest.WithWindowSize(1200, 900))
	tb.Open(env.base + "/console")
	tb.Wait(`document.querySelector('#token')`)
	tb.Do(chromedp.SendKeys(chromedp.CSS("#token"), consoleAdminToken), chromedp.KeyEvent("\r"))
	tb.Wait(`document.querySelector('a[href="/console/sites/demo"]')`)
	tb.Open(env.base + "/console/sites/demo" + page)
	return tb
}

// modelConfig returns the configuration hash the server's manifest names.
func modelConfig(t *testing.T) string {
	t.Helper()
	res, err := http.Get(env.base + "/v1/model?site=demo")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct{ Config struct{ Hash string } }
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.Config.Hash
}

// TestConsoleRules: the site's owner edits a segment rule on the console's
// rules page (previewing it first), and a visitor of the demo store in
// rules-only mode sees the change on a next page view, once the manifest
// the browser holds is due (its max-age); then the file's rules come back
// (the other tests rely on them).
func TestConsoleRules(t *testing.T) {
	if env.skip != "" {
		t.Skip(env.skip)
	}
	v := visitor(t, nil, "/", "hero")
	n := v.rankings("hero")
	v.Click(`[data-mode="rules"]`)
	v.waitRanked("hero", n+1)
	if h := v.slot("hero"); len(h) != 1 || h[0].ID == "banner-coffee" {
		t.Fatalf("rules only, before the edit: hero %v, want one banner, not banner-coffee", h)
	}

	con := consoleTab(t, "/rules")
	con.Wait(`document.querySelector('#rules') && document.querySelector('#rules').value.includes('"summer"')`)
	shot(t, con, "console-rules")
	before := modelConfig(t)
	// The "summer season" rule pins the coffee banner all year round.
	if !browsertest.Eval[bool](con, `(() => {
		const ta = document.querySelector('#rules'), rs = JSON.parse(ta.value), r = rs.find(r => r.id == 'summer')
		r.if = [{field: 'ctx.month', op: 'between', min: 1, max: 12}]
		r.then = {do: 'pin', ids: ['banner-coffee']}
		ta.value = JSON.stringify(rs, null, 2)
		document.querySelector('#candidates').value = 'banner-summer banners\nbanner-winter banners\nbanner-coffee banners'
		return true
	})()`) {
		t.Fatal("could not edit the rules")
	}
	con.Click(`button[value="preview"]`)
	con.Wait(`document.querySelector('#pr')`)
	if text := browsertest.Eval[string](con, `document.querySelector('section[aria-labelledby="pr"]').innerText`); !strings.Contains(text, "1\tbanner-coffee\tbanners\trule summer season") {
		t.Errorf("the preview does not pin banner-coffee by the edited rule:\n%s", text)
	}
	shot(t, con, "console-rules-preview")
	con.Click(`button[value="save"]`)
	con.Wait(`location.search == '?done=rules'`)
	t.Cleanup(func() {
		con.Open(env.base + "/console/sites/demo/rules")
		con.Click(`button[value="reset"]`)
		con.Wait(`location.search == '?done=reset'`)
		waitConfig(t, func(h string) bool { return h == before })
	})
	saved := time.Now()
	waitConfig(t, func(h string) bool { return h != before })
	t.Logf("the server published the new configuration %v after the save", time.Since(saved).Round(time.Millisecond))

	// The visitor's next page views, until the manifest its browser holds
	// is due (max-age, 30 s by default) and the new configuration arrives.
	views := 0
	for {
		v.open("/")
		v.waitRanked("hero", 1)
		views++
		h := v.slot("hero")
		if len(h) == 1 && h[0].ID == "banner-coffee" {
			if h[0].Source != "rule" || h[0].Ref != "summer season" {
				t.Errorf("hero %v, want banner-coffee placed by the summer season rule", h[0])
			}
			break
		}
		if time.Since(saved) > 3*time.Minute {
			t.Fatalf("3 minutes and %d page views after the save, rules only shows hero %v, want banner-coffee", views, h)
		}
		time.Sleep(time.Second) // a visitor's pace; the manifest is due within its max-age
	}
	t.Logf("rules only shows the edited rule on page view %d, %v after the save", views, time.Since(saved).Round(time.Second))
	v.NoErrors()
	con.NoErrors()
}

// waitConfig waits until the manifest's configuration hash satisfies ok.
func waitConfig(t *testing.T, ok func(hash string) bool) {
	t.Helper()
	for start := time.Now(); ; {
		h := modelConfig(t)
		if ok(h) {
			return
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("the manifest's configuration is still %s a minute later", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
