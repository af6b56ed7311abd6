package stacktest

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// NewBrowser returns a client that acts as a browser of the console: a
// cookie jar of its own (its sign-in session), and no redirect followed,
// so that each step of a test reads the console's own answer (a form
// posted answers 303 See Other).
func NewBrowser() *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// csrfField is the hidden field that carries a console form's CSRF token.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// FormToken returns the CSRF token of a console page's forms, and whether
// the page has one.
func FormToken(page string) (string, bool) {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Submit posts fields (nil: none) to action as the form of the console
// page at from would, with that page's CSRF token, as a browser does; it
// returns the answer with its whole body read (see Do). It fails the test
// if the page at from has no form.
func Submit(tb testing.TB, c *http.Client, from, action string, fields url.Values) (*http.Response, []byte) {
	tb.Helper()
	res, page := Do(tb, c, http.MethodGet, from, nil)
	token, ok := FormToken(string(page))
	if !ok {
		tb.Fatalf("GET %s: %d without a form\n%s", from, res.StatusCode, page)
	}
	if fields == nil {
		fields = url.Values{}
	}
	fields.Set("csrf", token)
	return Do(tb, c, http.MethodPost, action, strings.NewReader(fields.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
}
