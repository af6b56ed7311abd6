//go:build !wasip1

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tailorhq/tailor/internal/browsertest"
)

// consoleAdminToken is the demo server's admin token in these tests.
const consoleAdminToken = "admin-token-of-the-e2e-tests-00000000000000"

// TestConsole signs in to the site owner's console as a person would (a
// wrong token first, then the right one, typed, Enter to submit), views
// each page of the demo store's site, pulls a lever (pause, then resume:
// harmless to the other tests' model) and saves each page as
// dist/screenshots/console-*.png, on a desktop and on a phone. The pages
// hold under the server's Content-Security-Policy: no error is logged.
func TestConsole(t *testing.T) {
	if env.skip != "" {
		t.Skip(env.skip)
	}
	tb := browsertest.New(t, browsertest.WithWindowSize(1200, 900))
	tb.Open(env.base + "/console")
	tb.Wait(`document.querySelector('#token')`)
	shot(t, tb, "console-signin")
	signIn := func(token string) {
		t.Helper()
		tb.Do(chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.KeyEvent("\r"))
	}
	signIn("not-the-token-of-anyone-000000000000000000")
	tb.Wait(`document.querySelector('.error') && document.querySelector('.error').textContent.includes('opens no site')`)
	signIn(consoleAdminToken)
	tb.Wait(`location.pathname == '/console' && document.querySelector('a[href="/console/sites/demo"]')`)
	tb.Click(`a[href="/console/sites/demo"]`)
	tb.Wait(`location.pathname == '/console/sites/demo' && document.querySelector('svg.chart circle')`)
	if text := browsertest.Eval[string](tb, `document.querySelector('main').innerText`); !strings.Contains(text, "federated") || !strings.Contains(text, "k = ") {
		t.Errorf("the overview does not show the privacy mode and k:\n%s", text)
	}
	shot(t, tb, "console-overview")

	tb.Click(`nav a[href$="/experiment"]`)
	tb.Wait(`location.pathname.endsWith('/experiment') && document.querySelectorAll('table tbody tr').length >= 3`)
	text := browsertest.Eval[string](tb, `document.querySelector('main').innerText`)
	// The 3,000 seeded shoppers (demo-site/sim) rank the pages' slots, a
	// tenth of them in rules-only mode: every arm has impressions, and
	// their split fits the site's holdout share.
	for _, want := range []string{"AI (treatment)", "Holdout (default order)", "Rules only", "Sample ratio check passed"} {
		if !strings.Contains(text, want) {
			t.Errorf("the experiment page lacks %q:\n%s", want, text)
		}
	}
	if n, arms := browsertest.Eval[int](tb, `document.querySelectorAll('svg.chart line.ci').length`),
		browsertest.Eval[int](tb, `[...document.querySelectorAll('#ar ~ table tbody tr')].filter(r => r.cells[1] && +r.cells[1].textContent > 0).length`); arms != 3 || n != 3*2*arms {
		t.Errorf("the arms charts have %d interval lines for %d arms with impressions, want 3 arms, 3 lines per arm in each of 2 charts", n, arms)
	}
	t.Logf("experiment page:\n%s", text)
	shot(t, tb, "console-experiment")

	tb.Click(`nav a[href$="/learned"]`)
	tb.Wait(`location.pathname.endsWith('/learned') && document.querySelector('a[href^="?item="]')`)
	tb.Click(`main table a[href^="?item="]`)
	tb.Wait(`location.search.startsWith('?item=') && document.querySelector('#nb')`)
	if text := browsertest.Eval[string](tb, `document.querySelector('main').innerText`); !strings.Contains(text, "Because you viewed") {
		t.Errorf("the most popular item shows no neighbours:\n%s", text)
	}
	tb.Click(`#ch ~ form button, section[aria-labelledby="ch"] button`)
	tb.Wait(`location.search.includes('since=') && document.querySelector('#ch')`)
	if text := browsertest.Eval[string](tb, `document.querySelector('section[aria-labelledby="ch"]').innerText`); !strings.Contains(text, "changed since") {
		t.Errorf("comparing with the previous version shows nothing:\n%s", text)
	}
	shot(t, tb, "console-learned")

	tb.Click(`nav a[href$="/levers"]`)
	tb.Wait(`location.pathname.endsWith('/levers') && document.querySelector('form[action$="/pause"] button')`)
	tb.Click(`form[action$="/pause"] button`)
	tb.Wait(`location.search == '?done=pause' && document.querySelector('form[action$="/resume"] button')`)
	tb.Click(`form[action$="/resume"] button`)
	tb.Wait(`location.search == '?done=resume' && document.querySelector('#au')`) // the URL changes before the page is parsed
	if text := browsertest.Eval[string](tb, `document.querySelector('#au').parentElement.innerText`); !strings.Contains(text, "pause") || !strings.Contains(text, "resume") {
		t.Errorf("the audit log lacks the levers pulled:\n%s", text)
	}
	shot(t, tb, "console-levers")
	tb.NoErrors()

	phone := browsertest.New(t, browsertest.WithWindowSize(390, 844))
	phone.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)) // a window is 500 px wide at least
	phone.Open(env.base + "/console")
	phone.Wait(`document.querySelector('#token')`)
	phone.Do(chromedp.SendKeys(chromedp.CSS("#token"), consoleAdminToken), chromedp.KeyEvent("\r"))
	phone.Wait(`document.querySelector('a[href="/console/sites/demo"]')`)
	phone.Open(env.base + "/console/sites/demo/experiment")
	phone.Wait(`document.querySelector('#ar')`)
	if w := browsertest.Eval[int](phone, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("on a phone the experiment page is %d px wide: it scrolls sideways", w)
	}
	shot(t, phone, "console-experiment-phone")
	phone.NoErrors()
}

// shot saves a full-page screenshot as dist/screenshots/name.png.
func shot(t *testing.T, tb *browsertest.Tab, name string) {
	t.Helper()
	png := browsertest.Run(tb, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(env.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(env.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
