//go:build !wasip1

package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
	"github.com/tailorhq/tailor/sdk/wire"
)

// hostile are the texts the owner of one site and his devices write into
// everything the console shows: each breaks out of one HTML context (text,
// a double- or single-quoted attribute, a URL, RCDATA of a textarea or a
// title, a comment, the SVG of the charts) into an element xss-N, an
// event handler or a javascript: URL, if it is written unescaped. None
// holds whitespace or a control character, so each passes as an item id
// (ingest), a category of a refill line and a preview's id.
var hostile = []string{
	`<img/src/onerror=alert(1)><xss-1>`,
	`"><xss-2/onxss=alert(2)>`,
	`'><xss-3/onxss=alert(3)>`,
	`javascript:alert(4)//xss-4`,
	`</textarea><xss-5/onxss=alert(5)>`,
	`</title></pre></code><xss-6>`,
	`--><!--<xss-7>--><xss-7b>`,
	`]]></desc></svg><xss-8/onload=alert(8)>`,
	`<script>alert(9)</script><xss-9>`,
	`<a/href=javascript:alert(10)>xss-10</a>`,
}

// pageCheck runs in each console page after it loaded: the elements,
// attributes and scripts hostile text would have made, and whatever the
// hook below recorded (a dialog, a violation of the page's CSP); and all
// the text a person sees or can copy from the page (form fields' values
// included).
const pageCheck = `(() => {
	const bad = [];
	for (const e of document.querySelectorAll('*')) {
		if (/^xss/i.test(e.localName) || ['img', 'iframe', 'object', 'embed', 'frame', 'base', 'style', 'foreignobject'].includes(e.localName.toLowerCase()))
			bad.push('element <' + e.localName + '>');
		if (e.localName == 'meta' && e.hasAttribute('http-equiv')) bad.push('meta http-equiv');
		if (e.localName == 'link' && new URL(e.href, location).pathname != '/console/static/console.css') bad.push('link ' + e.href);
		for (const a of e.attributes) {
			if (/^(on|xss)/i.test(a.name)) bad.push('attribute ' + a.name + ' on <' + e.localName + '>');
			if (/(^|:)(href|src|action|formaction)$/i.test(a.name) && /^\s*(javascript|data|vbscript):/i.test(a.value))
				bad.push(a.name + '=' + a.value);
		}
	}
	for (const s of document.scripts)
		if (!s.src || new URL(s.src).pathname != '/console/static/checker.js' || s.textContent.trim()) bad.push('script ' + (s.src || s.textContent.slice(0, 60)));
	const text = [document.title, document.body.innerText,
		...[...document.querySelectorAll('input, textarea, option')].map((f) => f.value)].join('\n');
	return { bad: bad.concat(window.__xss || []), text };
})()`

// xssHook runs in every document before its own content: a dialog, and a
// script, handler or URL the page's Content-Security-Policy refused, are
// recorded for pageCheck.
const xssHook = `window.__xss = [];
for (const f of ['alert', 'confirm', 'prompt', 'print']) window[f] = (m) => window.__xss.push('dialog ' + f + '(' + m + ')');
document.addEventListener('securitypolicyviolation', (e) => window.__xss.push('CSP refused ' + e.violatedDirective + ' ' + (e.blockedURI || e.sample)), true);`

type checked struct {
	Bad  []string `json:"bad"`
	Text string   `json:"text"`
}

// TestStoredXSS is the attack of an owner of one site on the operator's
// admin and on the owner of another site of the same server: he writes
// hostile text into every field the console lets him edit (rule ids,
// segments, conditions' values, actions' categories, tags and ids, refill
// categories; the rules page's preview inputs), and his devices sync
// deltas whose item ids are hostile (ingest takes any id without a control
// character), enough of them to clear the default k. Then the admin views
// every page of both sites in Chromium, and the other owner every page of
// his own: nothing the hostile text holds may become markup (an element,
// an event handler, a javascript: URL, a script), nothing may run (a
// dialog, a CSP violation), every page is served with a policy that would
// refuse inline script, and the other owner's pages show none of it. The
// hostile texts must reach the admin's pages as text, so that the test
// would see their markup if escaping failed.
func TestStoredXSS(t *testing.T) {
	if why := browsertest.Missing(); why != "" {
		t.Skip(why)
	}
	s := newStack(t, stackConfig{})
	owner := s.browser()
	owner.signIn(t, shopToken)

	// The owner's rules and slot settings: hostile text in every string.
	rule := func(i int, h string) map[string]any {
		return map[string]any{"id": h, "segment": hostile[(i+1)%len(hostile)],
			"if":   []map[string]any{{"field": "viewed.category", "op": "in", "values": []string{hostile[(i+2)%len(hostile)], h}}},
			"then": map[string]any{"do": "boost", "categories": []string{hostile[(i+3)%len(hostile)]}, "tags": []string{h}, "ids": []string{h}, "weight": 1}}
	}
	var rules []map[string]any
	var refill strings.Builder
	for i, h := range hostile {
		rules = append(rules, rule(i, h))
		fmt.Fprintf(&refill, "%s %d\n", h, 30+i)
	}
	js, err := json.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	res := owner.submit(t, "/console/sites/shop/rules", "/console/sites/shop/rules", url.Values{"rules": {string(js)},
		"explore": {"0.05"}, "holdout": {"0.1"}, "diversity": {"0"}, "replenish": {refill.String()}, "action": {"save"}})
	if res.code != http.StatusSeeOther || !strings.HasSuffix(res.header.Get("Location"), "done=rules") {
		t.Fatalf("the owner's hostile rules were not saved: %d\n%s", res.code, res.body)
	}
	if res := owner.lever(t, "shop", "pause", nil); res.code >= 400 {
		t.Fatalf("pause: %d", res.code)
	}
	if res := owner.lever(t, "shop", "resume", nil); res.code >= 400 {
		t.Fatalf("resume: %d", res.code)
	}

	// The owner's devices: each hostile id in 5 deltas (the default k)
	// with a pair to the next, synced through the API's ingest; then a
	// second version, so that "what changed" lists them too.
	sync := func(from, to string, n int) {
		t.Helper()
		for range n {
			deltaN++
			d := wire.Delta{Site: "shop", Pairs: []wire.Pair{{From: from, To: to, W: 1}},
				Items: []wire.Count{{ID: from, N: 1}, {ID: to, N: 1}}}
			slices.SortFunc(d.Items, func(a, b wire.Count) int { return strings.Compare(a.ID, b.ID) })
			copy(d.ID[:], fmt.Sprintf("x%015d", deltaN))
			res, err := http.Post(s.url+"/v1/sync", "text/plain;charset=UTF-8", bytes.NewReader(wire.Marshal(&d)))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				t.Fatalf("sync of %q → %q: %d", from, to, res.StatusCode)
			}
		}
	}
	for i, h := range hostile[:len(hostile)/2] {
		sync(h, hostile[i+1], 5)
	}
	if err := s.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, h := range hostile[len(hostile)/2:] {
		sync(h, hostile[(len(hostile)/2+i+1)%len(hostile)], 5)
	}
	if err := s.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	tb := browsertest.New(t, browsertest.WithScripts(xssHook))
	signIn := func(token string) {
		t.Helper()
		tb.Open(s.url + "/console")
		tb.Wait(`document.querySelector('#token')`)
		browsertest.Eval[bool](tb, fmt.Sprintf(`(document.querySelector('#token').value = %q, setTimeout(() => document.querySelector('#token').form.submit()), true)`, token))
		tb.Wait(`location.pathname != '/console' || document.querySelector('a[href="/console/sites/shop"]')`)
		tb.Wait(`document.readyState == 'complete' && document.querySelector('form.signout')`)
	}
	signOut := func() {
		t.Helper()
		browsertest.Eval[bool](tb, `(setTimeout(() => document.querySelector('form.signout').submit()), true)`)
		tb.Wait(`document.readyState == 'complete' && document.querySelector('#token')`)
	}
	// view opens a page and returns its text, failing on any markup or
	// script hostile text made, and on a missing or weak policy.
	view := func(who, path string) string {
		t.Helper()
		tb.Open(s.url + path)
		tb.Wait(`document.readyState == 'complete'`)
		c := browsertest.Eval[checked](tb, pageCheck)
		if len(c.Bad) > 0 {
			t.Errorf("%s, %s: hostile text became markup or ran:\n  %s", who, path, strings.Join(c.Bad, "\n  "))
		}
		return c.Text
	}
	shopPages := []string{"/console/sites/shop", "/console/sites/shop/experiment", "/console/sites/shop/learned",
		"/console/sites/shop/learned?item=" + url.QueryEscape(hostile[0]), "/console/sites/shop/learned?item=" + url.QueryEscape(hostile[len(hostile)/2]),
		"/console/sites/shop/learned?since=1", "/console/sites/shop/learned?item=" + url.QueryEscape(hostile[1]) + "&since=1",
		"/console/sites/shop/learned?item=" + url.QueryEscape(`<xss-q>"'`) + "&since=" + url.QueryEscape(`"><xss-s>`),
		"/console/sites/shop/levers", "/console/sites/shop/rules", "/console/sites/shop/site", "/console/sites/shop/install"}
	otherPages := []string{"/console/sites/other", "/console/sites/other/experiment", "/console/sites/other/learned",
		"/console/sites/other/levers", "/console/sites/other/rules", "/console/sites/other/site", "/console/sites/other/install"}

	// Every page is served with a policy that refuses inline script and
	// framing: the escaping's second line.
	admin := s.browser()
	admin.signIn(t, adminToken)
	for _, p := range append(append([]string{"/console"}, shopPages...), otherPages...) {
		res := admin.do(t, http.MethodGet, p, nil)
		if res.code != http.StatusOK {
			t.Fatalf("the admin's %s: %d", p, res.code)
		}
		h := res.header
		csp := h.Get("Content-Security-Policy")
		script := directive(csp, "script-src")
		if script == "" || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") ||
			directive(csp, "object-src") != "'none'" || directive(csp, "base-uri") != "'none'" || directive(csp, "frame-ancestors") != "'none'" {
			t.Errorf("%s: policy %q; want a script-src without 'unsafe-inline' or 'unsafe-eval', object-src, base-uri and frame-ancestors 'none'", p, csp)
		}
	}

	signIn(adminToken)
	seen := view("admin", "/console")
	for _, p := range append(shopPages, otherPages...) {
		seen += view("admin", p)
	}
	for _, h := range hostile {
		if !strings.Contains(seen, h) {
			t.Errorf("the admin's pages never show %q as text: the test cannot tell whether it is escaped", h)
		}
	}
	if text := view("admin", "/console/sites/shop/learned"); !strings.Contains(text, hostile[0]) {
		t.Errorf("the learned page does not list the devices' hostile item %q", hostile[0])
	}
	signOut()

	signIn(otherToken)
	for _, p := range otherPages {
		text := view("the other owner", p)
		for _, h := range hostile {
			if strings.Contains(text, h) {
				t.Errorf("the other owner's %s shows the first owner's %q", p, h)
			}
		}
	}
	signOut()

	// The owner's own preview echoes what he typed into it.
	signIn(shopToken)
	tb.Open(s.url + "/console/sites/shop/rules")
	tb.Wait(`document.querySelector('#candidates')`)
	ids := strings.Join(hostile, "\n")
	browsertest.Eval[bool](tb, fmt.Sprintf(`(() => {
		document.querySelector('#candidates').value = %q;
		document.querySelector('#viewed').value = %q;
		document.querySelector('#attrs').value = %q;
		setTimeout(() => document.querySelector('button[value=preview]').click());
		return true })()`, ids, ids, "k="+hostile[0]+"\n"+hostile[1]+"="+hostile[2]))
	tb.Wait(`document.readyState == 'complete' && document.querySelector('#pr')`)
	c := browsertest.Eval[checked](tb, pageCheck)
	if len(c.Bad) > 0 {
		t.Errorf("the owner's preview: hostile text became markup or ran:\n  %s", strings.Join(c.Bad, "\n  "))
	}
	if !strings.Contains(c.Text, hostile[4]) {
		t.Errorf("the preview does not list the hostile candidates")
	}
}

// directive returns the sources of a directive of a Content-Security-Policy
// ("" when it has none).
func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}
