// Package console is the site owner's console, served by tailor-server at
// /console (api.WithConsole): is Tailor working (versions, syncs accepted
// and refused, privacy spent), is it winning (each arm's rates with 95%
// intervals, the uplift, a sample-ratio-mismatch check), what it learned
// (popular items, an item's neighbours), and the levers (pin a version,
// pause learning, purge a time window), each written to an audit log.
//
//	levers := console.NewLevers(st, console.DefaultLeversTTL, log)
//	c, err := console.New(st, agg, sites, levers, console.WithAdminToken(token),
//		console.WithReleased(srv.Released), console.WithSyncCounts(srv.SyncCounts))
//
// Pages are HTML rendered here, charts SVG drawn here: no script, nothing
// from another origin, nothing added to what visitors download. Signing in
// takes the site's owner token or the admin token (the same credentials as
// GET /v1/stats) in a form; the session is a signed, HttpOnly,
// SameSite=Strict cookie for /console only, and every form carries a CSRF
// token. The stats shown are the batches GET /v1/stats releases.
//
// # Notes
//
// A Console is goroutine-safe. It does not own the store, the aggregator
// or the levers.
package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

//go:embed templates/*.html static/console.css static/checker.js
var files embed.FS

// Errors of the console.
var (
	ErrNoSession = errors.New("console: not signed in")
	ErrCSRF      = errors.New("console: the form's CSRF token is missing or wrong")
	ErrLever     = errors.New("console: lever refused")
)

// Option configures a Console.
type Option func(*Console) error

// WithAdminToken admits the operator's token (api.WithAdminToken's) to
// every site, and derives the session signing key from it, so that
// replicas given the same token accept each other's sessions.
func WithAdminToken(token string) Option {
	return func(c *Console) error {
		c.admin = site.NewAdmin(token)
		c.sessions = newSessions(token)
		return nil
	}
}

// WithReleased gives the stats batches GET /v1/stats serves
// (api.Server.Released): the experiment page shows no other counts.
func WithReleased(released func(key string) (map[uint32]aggregate.Arms, uint64, time.Time, error)) Option {
	return func(c *Console) error {
		c.released = released
		return nil
	}
}

// WithSyncCounts gives each site's syncs by reason (api.Server.SyncCounts).
func WithSyncCounts(counts func(key string) map[string]uint64) Option {
	return func(c *Console) error {
		c.syncCounts = counts
		return nil
	}
}

// WithSyncHours gives each site's syncs by hour (api.Server.SyncHours),
// drawn on the overview.
func WithSyncHours(hours func(key string) []api.HourSyncs) Option {
	return func(c *Console) error {
		c.syncHours = hours
		return nil
	}
}

// WithSignInDelay sets how long a wrong credential waits for its 401
// (default 1s): guessing is slow, and a right and a wrong token take
// different times only by this much.
func WithSignInDelay(d time.Duration) Option {
	return func(c *Console) error {
		if d < 0 {
			return fmt.Errorf("console: sign-in delay %v is negative", d)
		}
		c.signInDelay = d
		return nil
	}
}

// WithSecureCookies marks the cookies Secure even on plain HTTP requests:
// behind a proxy that terminates TLS.
func WithSecureCookies(secure bool) Option {
	return func(c *Console) error {
		c.secure = secure
		return nil
	}
}

// WithMinSample sets below how many impressions, or deltas, in the
// treatment or the holdout arm the experiment page says "not enough data
// yet" instead of a verdict (defaults 1000 and 50).
func WithMinSample(impressions, deltas uint64) Option {
	return func(c *Console) error {
		c.minImpressions, c.minDeltas = impressions, deltas
		return nil
	}
}

// WithRegistry gives the registry of the sites the console adds and the
// owner tokens it rotates (by default one over the console's store and
// sites, not loaded: serve loads it before the sites are taken).
func WithRegistry(r *Registry) Option {
	return func(c *Console) error {
		c.registry = r
		return nil
	}
}

// WithLogger sets the console's logger (discarding by default).
func WithLogger(l *slog.Logger) Option {
	return func(c *Console) error {
		c.log = l
		return nil
	}
}

// Console is the owner's console, an http.Handler for /console and below.
type Console struct {
	st       store.Store
	agg      *publish.Aggregator
	sites    *site.Set
	levers   *Levers
	registry *Registry
	asset    func(name string) (api.AssetRef, bool)

	admin    site.Admin
	sessions *sessions

	released   func(key string) (map[uint32]aggregate.Arms, uint64, time.Time, error)
	syncCounts func(key string) map[string]uint64
	syncHours  func(key string) []api.HourSyncs

	signInDelay    time.Duration
	secure         bool
	minImpressions uint64
	minDeltas      uint64
	log            *slog.Logger
	now            func() time.Time

	pages map[string]*template.Template
	mux   *http.ServeMux

	learnedMu sync.Mutex
	learned   map[string]*learned // by site: the last version's items
}

// New returns the console of sites over their store, aggregator and
// levers.
func New(st store.Store, agg *publish.Aggregator, sites *site.Set, levers *Levers, opts ...Option) (*Console, error) {
	c := &Console{st: st, agg: agg, sites: sites, levers: levers, signInDelay: time.Second,
		minImpressions: 1000, minDeltas: 50, log: slog.New(slog.DiscardHandler), now: time.Now,
		learned: map[string]*learned{}}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.sessions == nil {
		c.sessions = newSessions("")
	}
	if c.registry == nil {
		c.registry = NewRegistry(st, sites, levers, c.log)
	}
	if err := c.parse(); err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /console", c.handleHome)
	m.HandleFunc("GET /console/{$}", c.handleHome)
	m.HandleFunc("POST /console/signin", c.handleSignIn)
	m.HandleFunc("POST /console/signout", c.handleSignOut)
	m.HandleFunc("GET /console/static/console.css", c.handleCSS)
	m.HandleFunc("GET /console/static/checker.js", c.handleChecker)
	m.HandleFunc("GET /console/sites/{key}/install", c.site(c.handleInstall))
	m.HandleFunc("GET /console/sites/{key}", c.site(c.handleOverview))
	m.HandleFunc("GET /console/sites/{key}/experiment", c.site(c.handleExperiment))
	m.HandleFunc("GET /console/sites/{key}/learned", c.site(c.handleLearned))
	m.HandleFunc("GET /console/sites/{key}/levers", c.site(c.handleLevers))
	m.HandleFunc("POST /console/sites/{key}/levers/{lever}", c.site(c.handleLever))
	m.HandleFunc("POST /console/sites", c.handleAddSite)
	m.HandleFunc("GET /console/sites/{key}/site", c.site(c.handleSiteConfig))
	m.HandleFunc("POST /console/sites/{key}/site/rotate", c.site(c.handleRotate))
	m.HandleFunc("GET /console/sites/{key}/rules", c.site(c.handleRules))
	m.HandleFunc("POST /console/sites/{key}/rules", c.site(c.handleRulesPost))
	c.mux = m
	return c, nil
}

// ServeHTTP serves the console. Nothing it answers may be cached or
// framed.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	c.mux.ServeHTTP(w, r)
}

// parse parses every page's template with the layout.
func (c *Console) parse() error {
	c.pages = map[string]*template.Template{}
	funcs := template.FuncMap{
		"pct":          func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) },
		"time":         func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"dur":          duration,
		"deref":        func(p *uint32) uint32 { return *p },
		"privacy":      site.PrivacyName,
		"privacyModes": func() []string { return []string{"local", "federated", "federated+ldp"} },
	}
	for _, name := range []string{"signin", "sites", "overview", "experiment", "learned", "levers", "rules", "site", "install"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// duration writes a duration (or a Go duration string) for a person:
// "7 days", "1h30m0s".
func duration(d any) string {
	var v time.Duration
	switch d := d.(type) {
	case time.Duration:
		v = d
	case string:
		var err error
		if v, err = time.ParseDuration(d); err != nil {
			return d
		}
	}
	switch {
	case v == 0:
		return "0"
	case v%(24*time.Hour) == 0:
		if n := v / (24 * time.Hour); n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
	return v.Round(time.Second).String()
}

// page is what every template gets.
type page struct {
	Title   string
	Tab     string
	Session *session
	Who     string
	CSRF    string
	Site    *site.Site
	Error   string
	Notice  string
	D       any // the page's own data
}

// render writes a page with a status code.
func (c *Console) render(w http.ResponseWriter, code int, name string, p *page) {
	if p.Session != nil {
		p.CSRF = c.sessions.csrf(p.Session)
		p.Who = p.Session.who()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := c.pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
	}
}

func (c *Console) handleCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("static/console.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(b)
}

func (c *Console) handleChecker(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("static/checker.js")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(b)
}

// session returns the request's session, if it carries a valid one whose
// credential still holds (an owner token rotated since ends it).
func (c *Console) session(r *http.Request) (*session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, false
	}
	s, ok := c.sessions.decode(ck.Value)
	if !ok {
		return nil, false
	}
	if s.admin {
		return s, c.admin.Set()
	}
	st, ok := c.sites.Get(s.site)
	if !ok || st.OwnerHash == nil {
		return nil, false
	}
	d := credDigest(st.OwnerHash)
	return s, subtle.ConstantTimeCompare(d[:], s.cred[:]) == 1
}

// credential returns whom a token signs in: the admin, or the owner of
// the site returned. Every comparison is of SHA-256 digests in constant
// time, and every site's is made.
func (c *Console) credential(token string) (admin bool, owner *site.Site) {
	if token == "" {
		return false, nil
	}
	h := sha256.Sum256([]byte(token))
	admin = c.admin.Is(h)
	for _, key := range c.sites.Keys() {
		st, _ := c.sites.Get(key)
		if st.Owns(h) {
			owner = st
		}
	}
	return admin, owner
}

// handleHome shows the sign-in form, or the signed-in user's sites (an
// owner goes straight to the site).
func (c *Console) handleHome(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(r)
	if !ok {
		c.signInForm(w, r, http.StatusOK, "")
		return
	}
	if !s.admin {
		http.Redirect(w, r, "/console/sites/"+url.PathEscape(s.site), http.StatusSeeOther)
		return
	}
	c.renderSites(w, r, http.StatusOK, &page{Session: s}, &sitesPage{})
}

// signInForm renders the sign-in form with a fresh CSRF token, which the
// form and a cookie both carry (there is no session to tie it to yet).
func (c *Console) signInForm(w http.ResponseWriter, r *http.Request, code int, msg string) {
	token := randomToken()
	setCookie(w, r, c.secure, signInCookie, token, 600)
	c.render(w, code, "signin", &page{Title: "Sign in", Error: msg, CSRF: token})
}

// handleSignIn checks a credential: a right one opens a session, a wrong
// one answers 401 after the sign-in delay.
func (c *Console) handleSignIn(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(signInCookie)
	if err != nil || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		c.signInForm(w, r, http.StatusForbidden, "The form expired or came from elsewhere: sign in again.")
		return
	}
	admin, owner := c.credential(r.PostFormValue("token"))
	if !admin && owner == nil {
		select {
		case <-time.After(c.signInDelay):
		case <-r.Context().Done():
			return
		}
		c.log.Info("console: wrong credential") // no address, no token
		c.signInForm(w, r, http.StatusUnauthorized, "That token opens no site.")
		return
	}
	s := c.sessions.newSession(admin, owner)
	setCookie(w, r, c.secure, signInCookie, "", -1)
	setCookie(w, r, c.secure, sessionCookie, c.sessions.encode(s), int(SessionLifetime.Seconds()))
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// handleSignOut ends the session.
func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(r)
	if ok && (!sameOrigin(r) || !c.sessions.checkCSRF(s, r.PostFormValue("csrf"))) {
		http.Error(w, ErrCSRF.Error(), http.StatusForbidden)
		return
	}
	if ok {
		c.sessions.revoke(s)
	}
	setCookie(w, r, c.secure, sessionCookie, "", -1)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// sameOrigin reports whether a POST came from a page of this server: a
// browser sends Origin with every POST, a cross-site one with another host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser's cross-site POST; the CSRF token decides
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// site wraps a site's page: a session that may see the site (else the
// sign-in page, or 404 for another's site, so that it tells nothing of
// which keys exist), and for a POST the CSRF token.
func (c *Console) site(fn func(w http.ResponseWriter, r *http.Request, p *page)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.session(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console", http.StatusSeeOther)
				return
			}
			http.Error(w, ErrNoSession.Error(), http.StatusUnauthorized)
			return
		}
		key := r.PathValue("key")
		st, ok := c.sites.Get(key)
		if !ok || !s.may(key) {
			http.Error(w, "no such site", http.StatusNotFound)
			return
		}
		if r.Method == http.MethodPost && (!sameOrigin(r) || !c.sessions.checkCSRF(s, r.PostFormValue("csrf"))) {
			http.Error(w, ErrCSRF.Error(), http.StatusForbidden)
			return
		}
		fn(w, r, &page{Session: s, Site: st})
	}
}

// versions returns up to n of a site's versions, oldest first, ending at
// the newest.
func (c *Console) versions(ctx context.Context, key string, n int) ([]store.Version, error) {
	cur, ok := c.agg.Current(key)
	if !ok {
		return nil, nil
	}
	var vs []store.Version
	for v := int64(cur.Number); v >= 0 && len(vs) < n; v-- {
		ver, err := c.st.Version(ctx, key, uint32(v))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		vs = append(vs, ver)
	}
	for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
		vs[i], vs[j] = vs[j], vs[i]
	}
	return vs, nil
}
