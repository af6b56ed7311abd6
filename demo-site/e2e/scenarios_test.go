//go:build !wasip1

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// The acceptance scenarios of DESIGN.md, one test each (5 and 6 share
// their visitor), as a visitor acts: open pages, click, scroll, wait, and
// read what the page shows.

// segments are the demo site's segment names (server/site/demo.go).
var segments = []string{"evening shopper", "runner", "female shopper", "summer season", "winter season"}

// inCategory returns the items of the given categories.
func inCategory(items []item, categories ...string) []item {
	var out []item
	for _, it := range items {
		if slices.Contains(categories, it.Category) {
			out = append(out, it)
		}
	}
	return out
}

// stay keeps the visitor on the page: a capturing listener cancels the
// navigation of every link (the loader and the store's script still see
// the click, as on a site that opens products in place), and marks the
// document so that the test can tell that it was not replaced.
const stay = `(() => {
	addEventListener("click", (e) => { const a = e.target.closest && e.target.closest("a[href]"); if (a) e.preventDefault(); }, true);
	window.__stayed = performance.timeOrigin;
	return true;
})()`

// stayed reports whether the page is still the document stay marked.
const stayed = `window.__stayed === performance.timeOrigin && performance.getEntriesByType("navigation").length == 1`

// reader reads the page in front of them: the mouse wheel scrolls a little
// (the page's main item stays in view), and they stay for d.
func (tb *tab) reader(d time.Duration) {
	tb.T().Helper()
	wheel := func(dy float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.SynthesizeScrollGesture, input.SynthesizeScrollGestureParams{
				X: 600, Y: 400, YDistance: -dy, GestureSourceType: input.GestureSourceTypeMouse})
			return err
		})
	}
	tb.Do(wheel(120), chromedp.Sleep(d/2), wheel(60), chromedp.Sleep(d/2))
	if y := eval[float64](tb, `scrollY`); y <= 0 {
		tb.T().Errorf("the page did not scroll (scrollY %v)", y)
	}
}

// why clicks the "Why am I seeing this?" of an item in a slot and returns
// the explanation the page shows.
func (tb *tab) why(slot, id string) string {
	tb.T().Helper()
	card := fmt.Sprintf(`[data-tailor-slot=%q] [data-tailor-item=%q]`, slot, id)
	tb.Click(card + ` .why`)
	tb.Wait(`!document.querySelector('` + card + ` .reason').hidden`)
	return eval[string](tb, `document.querySelector('`+card+` .reason').textContent`)
}

// profile opens "See my profile" in the privacy panel and returns what it
// shows (JSON).
func (tb *tab) profile() string {
	tb.T().Helper()
	tb.Click(`#show-profile`)
	tb.Wait(`!document.getElementById('profile-view').hidden && document.getElementById('profile-view').textContent`)
	return eval[string](tb, `document.getElementById('profile-view').textContent`)
}

// waitSyncs waits up to d for the front to have passed at least n syncs.
func waitSyncs(f *front, n int, d time.Duration) []served {
	deadline := time.Now().Add(d)
	for len(f.syncs()) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return f.syncs()
}

// Scenario 1: a visitor who views red evening gowns and metallic heels
// gets evening clutches, jewelry and the "how to style for a formal party"
// post on the home page, on the next page view.
func TestScenario1EveningLook(t *testing.T) {
	tb := visitor(t, nil, "/p/evening-gowns-1", "also-like") // Scarlet Silk Evening Gown
	for _, p := range []string{"/p/evening-gowns-2", "/p/metallic-heels-1", "/p/metallic-heels-2"} {
		tb.visit(p, "also-like")
	}
	tb.visit("/", "home-recs")
	recs, posts, hero := tb.slot("home-recs"), tb.slot("home-posts"), tb.slot("hero")
	t.Logf("home-recs: %v", recs)
	t.Logf("home-posts: %v; hero: %v", posts, hero)
	if len(recs) != 8 {
		t.Errorf("home-recs shows %d items, want 8 (its limit)", len(recs))
	}
	// An item exploration promoted (the site explores in a share of its
	// rankings) is the product at work but not the model's choice: only
	// the rest count.
	var chosen []item
	for _, it := range recs {
		if it.Source != "explore" {
			chosen = append(chosen, it)
		}
	}
	clutches, jewelry := inCategory(chosen, "clutches"), inCategory(chosen, "jewelry")
	if len(clutches) == 0 || len(jewelry) == 0 {
		t.Errorf("home-recs %v: want evening clutches and jewelry among them", ids(recs))
	}
	for _, it := range append(clutches, jewelry...) {
		if it.Source != "model" {
			t.Errorf("%v: want it placed by the model (AI mode)", it)
		}
	}
	if len(posts) == 0 || posts[0].ID != "post-formal-party" {
		t.Errorf("home-posts %v: want post-formal-party first", ids(posts))
	}
	if len(clutches) > 0 {
		why := tb.why("home-recs", clutches[0].ID)
		t.Logf("why %s: %q", clutches[0].ID, why)
		if !strings.HasPrefix(why, "Because you") {
			t.Errorf("why %s = %q, want it to name what the visitor did", clutches[0].ID, why)
		}
	}
	tb.screenshot("scenario1-evening-look")
	// The demo site is federated: each page left synced a profile delta.
	syncs := waitSyncs(tb.front, 1, 5*time.Second)
	for _, s := range syncs {
		if s.Status != 202 {
			t.Errorf("sync answered %d, want 202", s.Status)
		}
	}
	if len(syncs) == 0 {
		t.Error("no profile delta was synced after four pages left")
	}
	tb.checkRequests(true)
	tb.NoErrors()
}

// Scenario 2: a visitor who spends time on GPS running-watch reviews and
// the "first marathon" post gets the watch, energy gels and running
// apparel.
func TestScenario2Runner(t *testing.T) {
	tb := visitor(t, nil, "/p/gps-watches-1", "also-like")
	tb.reader(2500 * time.Millisecond)
	tb.visit("/p/gps-watches-2", "also-like")
	tb.reader(2500 * time.Millisecond)
	tb.visit("/a/post-first-marathon", "shop-story")
	tb.reader(2500 * time.Millisecond)
	tb.visit("/", "home-recs")
	recs := tb.slot("home-recs")
	t.Logf("home-recs: %v", recs)
	t.Logf("hero: %v; home-posts: %v", tb.slot("hero"), tb.slot("home-posts"))
	for _, c := range []string{"gps-watches", "energy-gels", "running-apparel"} {
		if len(inCategory(recs, c)) == 0 {
			t.Errorf("home-recs %v: want %s among them", ids(recs), c)
		}
	}
	// The time spent counted: the profile the visitor can see ("See my
	// profile") weighs each page read above a mere view (0.5).
	type entry struct {
		Item, Name string
		Weight     float64
	}
	var p struct{ Session, History []entry }
	if err := json.Unmarshal([]byte(tb.profile()), &p); err != nil {
		t.Fatal(err)
	}
	seen := append(p.Session, p.History...)
	for _, id := range []string{"gps-watches-1", "gps-watches-2", "post-first-marathon"} {
		i := slices.IndexFunc(seen, func(e entry) bool { return e.Item == id })
		if i < 0 {
			t.Errorf("the profile does not list %s", id)
			continue
		}
		t.Logf("profile: %s (%s) weighs %.3f", id, seen[i].Name, seen[i].Weight)
		if seen[i].Weight <= 0.5 {
			t.Errorf("profile: %s weighs %.3f, no more than a view: the time spent did not count", id, seen[i].Weight)
		}
	}
	tb.checkRequests(true)
	tb.NoErrors()
}

// Scenario 3: a visitor who clicks a winter coat and then switches to
// beachwear sees the summer banner on the next render, with no page
// reload needed for the slot.
func TestScenario3SummerBannerWithoutReload(t *testing.T) {
	tb := visitor(t, nil, "/", "hero")
	eval[bool](tb, stay)
	t.Logf("hero at first: %v", tb.slot("hero"))

	// A winter coat: among the recommendations when one shows, else the
	// store's picks.
	coat := `[data-tailor-slot="home-recs"] [data-tailor-item^="winter-coats-"]`
	if len(inCategory(tb.slot("home-recs"), "winter-coats")) == 0 {
		coat = `.picks [data-tailor-item^="winter-coats-"]`
	}
	n := tb.rankings("hero")
	tb.Click(coat + ` img`)
	tb.waitRanked("hero", n+1)
	hero := tb.slot("hero")
	t.Logf("hero after a winter coat: %v", hero)
	if len(hero) != 1 || hero[0].ID != "banner-winter" {
		t.Errorf("hero after a winter coat shows %v, want banner-winter", hero)
	}

	// Beachwear: the store's pick first (the recommendations are all
	// winter now), then one of the recommendations, which follow.
	n = tb.rankings("hero")
	tb.Click(`.picks [data-tailor-item^="beachwear-"] img`)
	tb.waitRanked("hero", n+1)
	recs := tb.slot("home-recs")
	t.Logf("home-recs after one beachwear click: %v", recs)
	beach := inCategory(recs, "beachwear")
	if len(beach) == 0 {
		t.Fatalf("home-recs %v: no beachwear after a click on beachwear", ids(recs))
	}
	n = tb.rankings("hero")
	tb.Click(fmt.Sprintf(`[data-tailor-slot="home-recs"] [data-tailor-item=%q] img`, beach[len(beach)-1].ID))
	tb.waitRanked("hero", n+1)
	hero = tb.slot("hero")
	t.Logf("hero after beachwear: %v", hero)
	t.Logf("home-recs after beachwear: %v", tb.slot("home-recs"))
	if len(hero) != 1 || hero[0].ID != "banner-summer" || hero[0].Source != "model" {
		t.Errorf("hero shows %v, want banner-summer placed by the model", hero)
	}
	if !eval[bool](tb, stayed) || eval[string](tb, `location.pathname`) != "/" {
		t.Error("the page navigated or reloaded: the slot was to change in place")
	}
	tb.checkRequests(true)
	tb.NoErrors()
}

// Scenario 4: a visitor who bought a coffee machine sees filters and
// beans when coming back about three weeks later (the test moves the
// page's clock by 22 days).
func TestScenario4CoffeeRefills(t *testing.T) {
	tb := visitor(t, nil, "/p/coffee-machines-1", "also-like")
	n := tb.rankings("also-like")
	tb.Click(`[data-buy-now]`) // the store pushes a GA4 purchase to its dataLayer
	tb.Wait(`document.querySelector('[data-buy-now]').textContent.includes('Bought')`)
	tb.waitRanked("also-like", n+1)

	// The same day, nothing is due for a refill.
	tb.visit("/", "home-recs")
	for _, it := range tb.slot("home-recs") {
		if it.Reason == "replenish" {
			t.Errorf("%v: a refill suggested on the day of the purchase", it)
		}
	}

	tb.AddScript(shiftClock(22 * 24 * time.Hour))
	tb.visit("/", "home-recs")
	if days := eval[float64](tb, `(new Date() - performance.timeOrigin) / 864e5`); days < 21.9 || days > 22.1 {
		t.Fatalf("the page's clock is %.2f days ahead, want 22", days)
	}
	recs := tb.slot("home-recs")
	t.Logf("home-recs 22 days later: %v", recs)
	filters, beans := inCategory(recs, "coffee-filters"), inCategory(recs, "coffee-beans")
	if len(filters) == 0 || len(beans) == 0 {
		t.Errorf("home-recs %v: want coffee filters and beans among them", ids(recs))
	}
	for _, it := range append(filters, beans...) {
		if it.Source != "model" || it.Reason != "replenish" || it.Ref != "coffee-machines-1" {
			t.Errorf("%v: want it explained as a refill of coffee-machines-1", it)
		}
	}
	if len(filters) > 0 {
		why := tb.why("home-recs", filters[0].ID)
		t.Logf("why %s: %q", filters[0].ID, why)
		if want := "Time for a refill? You bought Barista Espresso Machine"; why != want {
			t.Errorf("why %s = %q, want %q", filters[0].ID, why, want)
		}
	}
	tb.checkRequests(true)
	tb.NoErrors()
}

// Scenarios 5 and 6: a man who views dresses (a gift) is not put in a
// "female" segment: what he sees follows his behaviour, not a demographic
// rule; with "rules only" the same visitor sees the traditional segment
// rules at work, so the difference is visible side by side.
func TestScenario5And6GiftBuyer(t *testing.T) {
	tb := visitor(t, nil, "/p/running-shoes-1", "also-like")
	tb.visit("/p/gps-watches-1", "also-like") // his own interests
	tb.visit("/p/evening-gowns-1", "also-like")
	tb.visit("/p/office-dresses-1", "also-like") // the gift
	tb.visit("/", "home-recs")
	slots := []string{"hero", "home-recs", "home-posts"}
	ai := map[string][]item{}
	for _, s := range slots {
		ai[s] = tb.slot(s)
	}
	aiRanking := tb.candidates("home-recs")
	aiShot := tb.screenshot("scenario6-ai")
	// What the ranking read: each page's weight (a view 0.5, plus dwell
	// from 2 s on, which a slow start under load adds to some pages).
	t.Logf("profile session: %v", eval[[]struct {
		Item   string
		Weight float64
	}](tb, `tailor.profile().then(p => p.session)`))

	t.Run("5 AI follows his behaviour", func(t *testing.T) {
		defer tb.As(t)()
		if !eval[bool](tb, `document.querySelector('[data-mode="ai"]').classList.contains('on')`) {
			t.Error(`the panel does not show "AI" as the mode`)
		}
		for _, s := range slots {
			t.Logf("AI %s: %v", s, ai[s])
			for _, it := range ai[s] {
				if it.Ref == "female shopper" || it.Source == "rule" || slices.Contains(segments, it.Ref) {
					t.Errorf("AI %s: %v is explained by a segment", s, it)
				}
			}
		}
		// His running interests lead the page: its banner and its first
		// story, and they stay among his recommendations.
		if h := ai["hero"]; len(h) != 1 || h[0].ID != "banner-running" {
			t.Errorf("hero %v, want banner-running", h)
		}
		if p := ai["home-posts"]; len(p) == 0 || p[0].ID != "post-first-marathon" {
			t.Errorf("home-posts %v, want post-first-marathon first", ids(p))
		}
		// This visit's latest views are the dresses, and their neighbours
		// rightly lead home-recs; his running interests stay near the top
		// of its ranking of the page's 66 products: in the 8 shown in most
		// runs, 9th in some (the seeded model and exploration vary from
		// run to run), so within the first 12.
		running := slices.IndexFunc(aiRanking, func(it item) bool {
			return len(inCategory([]item{it}, "running-shoes", "gps-watches", "running-socks", "energy-gels", "running-apparel")) > 0
		})
		t.Logf("first running item at place %d of the %d ranked", running+1, len(aiRanking))
		if running < 0 || running >= 12 {
			t.Errorf("home-recs ranking %v: his running interests not in its first 12", ids(aiRanking))
		}
	})

	t.Run("6 rules only shows the segments", func(t *testing.T) {
		defer tb.As(t)()
		n := tb.rankings("home-recs")
		tb.Click(`[data-mode="rules"]`)
		tb.waitRanked("home-recs", n+1)
		tb.Wait(`document.querySelector('[data-mode="rules"]').classList.contains('on')`)
		rules := map[string][]item{}
		for _, s := range slots {
			rules[s] = tb.slot(s)
		}
		t.Logf("AI vs rules only, side by side:\n%s", sideBySide(ai, rules, slots))
		// The difference is visible side by side: the two pages differ, and
		// every recommendation in rules-only mode is a segment rule's (below).
		// Both lists may hold the same items in the same order — he viewed
		// dresses and running gear, which his segments boost too — so the
		// order of home-recs alone is no test of it.
		differ := false
		for _, s := range slots {
			differ = differ || !slices.Equal(ids(ai[s]), ids(rules[s]))
		}
		if !differ {
			t.Errorf("rules only shows the same page as the model:\n%s", sideBySide(ai, rules, slots))
		}
		seen := map[string]bool{}
		for _, it := range rules["home-recs"] {
			if it.Source != "rule" || !slices.Contains(segments, it.Ref) {
				t.Errorf("rules only: %v, want it placed by a segment rule", it)
			}
			seen[it.Ref] = true
		}
		t.Logf("segments at work in home-recs: %v", seen)
		if len(rules["home-recs"]) > 0 {
			why := tb.why("home-recs", rules["home-recs"][0].ID)
			if why != "Recommended by the store" {
				t.Errorf("why %s = %q, want the store's rule", rules["home-recs"][0].ID, why)
			}
		}
		rulesShot := tb.screenshot("scenario6-rules")
		t.Logf("screenshot, AI (left) and rules only (right): %s", joinShots(t, "scenario6-ai-vs-rules", aiShot, rulesShot))
		tb.checkRequests(true)
		tb.NoErrors()
	})
}

// runningGear and dressWear are the categories of the gift buyer's own
// interests and of the gift.
var (
	runningGear = []string{"running-shoes", "gps-watches", "running-socks", "energy-gels", "running-apparel"}
	dressWear   = []string{"office-dresses", "evening-gowns", "blouses"}
)

// Scenario 5 over visits (issue 12): the gift buyer as he comes back.
// Weeks of running, a visit every few days (the test moves the page's
// clock), then a visit of dresses ending in a purchase, the gift. In
// that visit the dresses lead (what he looks at now); on his next visit
// his running interests lead the home page again and the dresses are at
// most a minority: one visit's burst, even with a purchase, does not
// take over.
func TestScenario5GiftBuyerOverVisits(t *testing.T) {
	tb := visitor(t, nil, "/p/running-shoes-1", "also-like")
	tb.visit("/p/gps-watches-1", "also-like")
	days := 0
	later := func(d int) { // the next visit, d days on
		days += d
		tb.AddScript(shiftClock(time.Duration(d) * 24 * time.Hour)) // adds to the shifts before it
	}
	for _, pages := range [][]string{{"/p/running-shoes-2", "/p/energy-gels-1"}, {"/p/gps-watches-2", "/p/running-apparel-1"}} {
		later(4)
		for _, p := range pages {
			tb.visit(p, "also-like")
		}
	}

	later(4) // the gift
	for _, p := range []string{"/p/evening-gowns-1", "/p/office-dresses-2", "/p/office-dresses-1"} {
		tb.visit(p, "also-like")
	}
	n := tb.rankings("also-like")
	tb.Click(`[data-buy-now]`)
	tb.Wait(`document.querySelector('[data-buy-now]').textContent.includes('Bought')`)
	tb.waitRanked("also-like", n+1)
	tb.visit("/", "home-recs")
	gift := tb.slot("home-recs")
	t.Logf("home-recs in the gift visit: %v", gift)
	if len(inCategory(gift[:min(3, len(gift))], dressWear...)) == 0 {
		t.Errorf("home-recs in the gift visit %v: want what he looks at now among the first three", ids(gift))
	}

	later(3) // his next visit
	tb.visit("/", "home-recs")
	if d := eval[float64](tb, `(new Date() - performance.timeOrigin) / 864e5`); d < float64(days)-0.1 || d > float64(days)+0.1 {
		t.Fatalf("the page's clock is %.2f days ahead, want %d", d, days)
	}
	recs, hero, posts := tb.slot("home-recs"), tb.slot("hero"), tb.slot("home-posts")
	t.Logf("home-recs on the next visit: %v", recs)
	t.Logf("hero %v, home-posts %v", hero, posts)
	var chosen []item // exploration's pick is no choice of the model
	for _, it := range recs {
		if it.Source != "explore" {
			chosen = append(chosen, it)
		}
	}
	running, dresses := inCategory(chosen, runningGear...), inCategory(chosen, dressWear...)
	if len(running) <= len(chosen)/2 || len(dresses) >= len(running) || len(chosen) == 0 || !slices.Contains(runningGear, chosen[0].Category) {
		t.Errorf("home-recs on the next visit %v: %d running, %d dresses; want running first and a majority, dresses a minority", ids(recs), len(running), len(dresses))
	}
	if len(hero) != 1 || hero[0].ID != "banner-running" {
		t.Errorf("hero %v, want banner-running", hero)
	}
	if len(posts) == 0 || posts[0].ID != "post-first-marathon" {
		t.Errorf("home-posts %v, want post-first-marathon first", ids(posts))
	}
	tb.checkRequests(true)
	tb.NoErrors()
}

// sideBySide lays out two rankings of the same slots in two columns.
func sideBySide(ai, rules map[string][]item, slots []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %-3s %-48s %s\n", "slot", "#", "AI (learns from you)", "Rules only (segments)")
	for _, s := range slots {
		for i := 0; i < max(len(ai[s]), len(rules[s])); i++ {
			var l, r string
			if i < len(ai[s]) {
				l = ai[s][i].String()
			}
			if i < len(rules[s]) {
				r = rules[s][i].String()
			}
			fmt.Fprintf(&b, "%-12s %-3d %-48s %s\n", s, i+1, l, r)
		}
	}
	return b.String()
}

// Scenario 7: a visitor with Global Privacy Control on: personalization
// still works on the device, and nothing is sent.
func TestScenario7GlobalPrivacyControl(t *testing.T) {
	const gpcOn = `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true, configurable: true});`
	tb := visitor(t, nil, "/", "home-recs", gpcOn)
	if !eval[bool](tb, `document.getElementById('gpc-note').checkVisibility()`) {
		t.Error("the privacy panel does not say that Global Privacy Control is on")
	}
	eval[bool](tb, stay)
	for _, pick := range []struct{ id, categories string }{
		{"gps-watches-1", "gps-watches energy-gels running-apparel running-shoes running-socks"},
		{"coffee-machines-1", "coffee-machines coffee-beans coffee-filters"},
	} {
		n := tb.rankings("home-recs")
		tb.Click(fmt.Sprintf(`.picks [data-tailor-item=%q] img`, pick.id))
		tb.waitRanked("home-recs", n+1)
		recs := tb.slot("home-recs")
		t.Logf("home-recs after a click on %s: %v", pick.id, recs)
		if len(recs) == 0 || !strings.Contains(pick.categories, recs[0].Category) || recs[0].Source != "model" {
			t.Errorf("home-recs %v: want it led by what follows %s", ids(recs), pick.id)
		}
	}
	profile := tb.profile()
	if !strings.Contains(profile, `"sync": false`) || !strings.Contains(profile, "gps-watches-1") {
		t.Errorf("the profile the visitor sees says:\n%s\nwant sync off and the watch clicked", profile)
	}
	// Pages left (pagehide) are when a delta would go.
	tb.visit("/p/gps-watches-2", "also-like")
	tb.visit("/", "home-recs")
	if syncs := waitSyncs(tb.front, 1, 2*time.Second); len(syncs) > 0 {
		t.Errorf("with Global Privacy Control on, the page synced: %v", syncs)
	}
	tb.checkRequests(false)
	tb.NoErrors()
}
