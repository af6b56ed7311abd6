// Package api is the Tailor server's HTTP API: devices sync profile deltas
// (POST /v1/sync) and fetch the model (GET /v1/model, then its immutable,
// content-addressed shards and configuration); site owners read the
// uplift report (GET /v1/stats) and the operator the metrics (/metrics),
// both with a bearer credential; browsers load tailor.js and tailor.wasm
// from content-hashed, precompressed, immutable URLs. openapi.yaml
// documents every route, status and header; a test keeps the two in step.
//
//	srv, err := api.New(st, agg, sites, api.WithAssets("dist"), api.WithLogger(log),
//		api.WithRateLimit(1, 30), api.WithAdminToken(os.Getenv("TAILOR_ADMIN_TOKEN")))
//	if err := srv.Open("localhost:8080"); err != nil { ... }
//	defer srv.Close()
//
// What a page's site key opens is what every visitor may see: the model
// and the assets. Stats need the site's owner token (site.Site.OwnerHash)
// or the admin token, and are released in batches (WithStatsRelease), so
// that no poller sees one visitor's counts; metrics need the admin token.
// Syncs are rate limited per source address (WithRateLimit), which is
// neither logged nor stored. No route of the API sets a cookie or reads
// one; only the site owner's console, mounted at /console (WithConsole),
// keeps its session in a cookie for that path alone. CORS
// allows each site key's configured origins (content-addressed blobs and
// assets: any origin). Every answer carries nosniff (but a recorded sync's
// 202, which has no body); HTML pages a Content-Security-Policy that
// forbids framing, and a Referrer-Policy.
//
// # Notes
//
// A Server is goroutine-safe. Open starts serving in a goroutine; Close
// stops accepting, drains requests in flight for up to the shutdown
// timeout, and waits for the serving goroutine. It does not close the
// store or the aggregator, which the caller owns.
package api

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// OpenAPI is the API's OpenAPI 3 document, served at /v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// MaxBodyBytes caps every request body: one profile delta.
const MaxBodyBytes = wire.MaxDeltaBytes

// Errors of the server, and the reasons a sync is refused. Each refusal is
// a status code and a message (see openapi.yaml).
var (
	ErrClosed          = errors.New("api: server closed")
	ErrUnknownSite     = errors.New("api: unknown site key")
	ErrOrigin          = errors.New("api: origin not allowed for the site")
	ErrLocalMode       = errors.New("api: the site's privacy mode is local: devices sync nothing")
	ErrRateLimited     = errors.New("api: too many syncs from this address")
	ErrUnauthorized    = errors.New("api: owner credential required")
	ErrContentEncoding = errors.New("api: unsupported content encoding")
	ErrUnknownModel    = errors.New("api: model version unknown")
	ErrStaleModel      = errors.New("api: model version too old")
	ErrMediaType       = errors.New("api: unsupported content type")
	ErrTooLarge        = errors.New("api: body too large")
	ErrBadParameters   = errors.New("api: bad parameters")
	ErrBadManifest     = errors.New("api: malformed manifest")
)

// Option configures a Server.
type Option func(*Server) error

// WithLogger sets the server's logger (discarding by default).
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) error {
		s.log = l
		return nil
	}
}

// WithAssets serves tailor.js and tailor.wasm from dir as build/assets.sh
// lays them out (assets.json plus hashed, precompressed files), or, if it
// has not run, the plain files found there. A missing file is not an
// error: what exists is served.
func WithAssets(dir string) Option {
	return func(s *Server) error {
		a, err := loadAssets(dir)
		if err != nil {
			return err
		}
		s.assets = a
		return nil
	}
}

// WithMaxModelLag refuses deltas computed against a model more than n
// versions older than the current one (default 1000).
func WithMaxModelLag(n uint32) Option {
	return func(s *Server) error {
		s.maxLag = n
		return nil
	}
}

// WithClock sets the clock a sync's arrival is read from: the rate
// limit, the hour the store records (store.Delta.Received, which the
// aggregator's decay reads) and the console's hourly counts see it. By
// default (nil) the middleware's one read of the wall clock per
// request. The replay sets one it controls, as it does the aggregator's
// (publish.WithClock), so that two runs store the same deltas.
func WithClock(now func() time.Time) Option {
	return func(s *Server) error {
		s.now = now
		return nil
	}
}

// WithManifestMaxAge sets how long browsers may cache the current
// manifest (default 30s).
func WithManifestMaxAge(d time.Duration) Option {
	return func(s *Server) error {
		if d < 0 {
			return fmt.Errorf("api: manifest max-age %v is negative", d)
		}
		s.manifestMaxAge = d
		return nil
	}
}

// WithPages serves h for every path the API does not route, the index
// page included: a site's own pages (the demo store) served beside the API.
func WithPages(h http.Handler) Option {
	return func(s *Server) error {
		s.pages = h
		return nil
	}
}

// WithRateLimit limits syncs per source address to rate a second on
// average and burst at once (429 with Retry-After beyond); rate <= 0: no
// limit (the default of New; tailor-server sets one).
func WithRateLimit(rate float64, burst int) Option {
	return func(s *Server) error {
		if rate <= 0 {
			s.limiter = nil
			return nil
		}
		if burst < 1 {
			return fmt.Errorf("api: rate limit burst %d: want 1 or more", burst)
		}
		s.limiter = newLimiter(rate, burst, defaultMaxBuckets)
		return nil
	}
}

// WithTrustForwardedFor takes a sync's source address for the rate limit
// from the last X-Forwarded-For entry, the one a reverse proxy in front of
// the server appends. Only behind such a proxy: else any client picks its
// own address.
func WithTrustForwardedFor(trust bool) Option {
	return func(s *Server) error {
		s.trustForwardedFor = trust
		return nil
	}
}

// WithAdminToken sets the operator's credential: it reads every site's
// stats and the metrics. Empty: none (the default).
func WithAdminToken(token string) Option {
	return func(s *Server) error {
		if token != "" && len(token) < MinTokenLen {
			return fmt.Errorf("api: the admin token has %d characters, want %d or more", len(token), MinTokenLen)
		}
		s.admin = site.NewAdmin(token)
		return nil
	}
}

// WithStatsRelease sets when a site's stats move: only once at least
// minDeltas new deltas were counted and minDelay passed since the last
// release (defaults DefaultStatsDeltas and DefaultStatsDelay).
func WithStatsRelease(minDeltas int, minDelay time.Duration) Option {
	return func(s *Server) error {
		if minDeltas < 1 || minDelay < 0 {
			return fmt.Errorf("api: stats release after %d deltas and %v: want 1 or more and a non-negative delay", minDeltas, minDelay)
		}
		s.stats = newReleases(uint64(minDeltas), minDelay)
		return nil
	}
}

// Timeouts of the http.Server and of Close.
type Timeouts struct {
	ReadHeader time.Duration // to read a request's headers
	Read       time.Duration // to read a whole request
	Write      time.Duration // to write a response, from the end of its request's headers
	Idle       time.Duration // a keep-alive connection waits for its next request
	Shutdown   time.Duration // Close waits for requests in flight
}

// DefaultTimeouts suit browsers on slow networks downloading tailor.wasm.
var DefaultTimeouts = Timeouts{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 60 * time.Second,
	Idle: 120 * time.Second, Shutdown: 10 * time.Second}

// WithTimeouts sets every timeout; none may be zero.
func WithTimeouts(t Timeouts) Option {
	return func(s *Server) error {
		if t.ReadHeader <= 0 || t.Read <= 0 || t.Write <= 0 || t.Idle <= 0 || t.Shutdown <= 0 {
			return fmt.Errorf("api: every timeout must be positive: %+v", t)
		}
		s.timeouts = t
		return nil
	}
}

// WithRegistry registers the server's metrics with reg instead of a
// registry of its own; /metrics serves reg.
func WithRegistry(reg *prometheus.Registry) Option {
	return func(s *Server) error {
		s.registry = reg
		return nil
	}
}

// Server is the HTTP API.
type Server struct {
	store          store.Store
	agg            *publish.Aggregator
	sites          *site.Set
	log            *slog.Logger
	assets         *assets
	maxLag         uint32
	manifestMaxAge time.Duration
	timeouts       Timeouts
	registry       *prometheus.Registry
	metrics        *metrics
	blobs          *blobCache
	manifests      *manifestCache
	names          shardNames // shard names of the versions served (handleBlob)

	limiter           *limiter         // nil: no rate limit
	now               func() time.Time // WithClock; nil: arrival's
	trustForwardedFor bool
	admin             site.Admin
	stats             *releases

	handler http.Handler
	http    *http.Server
	ln      net.Listener
	ready   atomic.Bool

	pages     http.Handler                    // a site's pages, beside the API (WithPages)
	console   http.Handler                    // the owner's console at /console (WithConsole)
	pin       func(key string) (uint32, bool) // a rolled-back model (WithPin)
	siteSyncs siteSyncs
	ctx       context.Context // canceled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New returns a server over a store and an aggregator (already started)
// for a set of sites.
func New(st store.Store, agg *publish.Aggregator, sites *site.Set, opts ...Option) (*Server, error) {
	s := &Server{store: st, agg: agg, sites: sites, log: slog.New(slog.DiscardHandler), assets: &assets{},
		maxLag: 1000, manifestMaxAge: 30 * time.Second, timeouts: DefaultTimeouts,
		blobs: newBlobCache(64 << 20), manifests: newManifestCache(256),
		stats: newReleases(DefaultStatsDeltas, DefaultStatsDelay)}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.registry, agg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.ctx, s.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	allow := map[string][]string{} // path: methods
	for _, rt := range s.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if path == "/{$}" {
			if s.pages != nil {
				mux.Handle(rt.pattern, s.pages)
				continue
			}
		} else {
			allow[path] = append(allow[path], method)
		}
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	// Another method on an API path is 405 with Allow, not the pages'
	// 404 (without pages the mux would answer so itself).
	for path, methods := range allow {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead)
		}
		slices.Sort(methods)
		mux.HandleFunc(path, methodNotAllowed(strings.Join(methods, ", ")))
	}
	if s.pages != nil {
		mux.Handle("/", s.pages)
	}
	if s.console != nil {
		mux.Handle(ConsolePath, s.console)
		mux.Handle(ConsolePath+"/", s.console)
	}
	s.handler = s.instrument(mux)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.timeouts.ReadHeader,
		ReadTimeout:       s.timeouts.Read,
		WriteTimeout:      s.timeouts.Write,
		IdleTimeout:       s.timeouts.Idle,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	return s, nil
}

// route is one pattern of the mux.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes is every route the server registers; openapi.yaml documents
// exactly these (TestOpenAPI).
func (s *Server) routes() []route {
	return []route{
		{"GET /{$}", s.handleIndex},
		{"GET /healthz", s.handleHealthz},
		{"GET /readyz", s.handleReadyz},
		{"GET /metrics", s.handleMetrics},
		{"GET /v1/openapi.yaml", s.handleOpenAPI},
		{"POST /v1/sync", s.handleSync},
		{"OPTIONS /v1/sync", s.handleSyncPreflight},
		{"GET /v1/model", s.handleModel},
		{"GET /v1/shards/{hash}", s.handleBlob},
		{"GET /v1/config/{hash}", s.handleBlob},
		{"GET /v1/stats", s.handleStats},
		{"GET /v1/assets", s.handleAssetList},
		{"GET /assets/{name}", s.handleAsset},
		{"GET /tailor.js", s.handleLoader},
	}
}

// Handler returns the server's handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens on addr and serves in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	s.Serve(ln)
	return nil
}

// Serve serves on ln in the background; Close closes it.
func (s *Server) Serve(ln net.Listener) {
	s.ln = ln
	s.ready.Store(true)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.log.Info("listening", "addr", ln.Addr().String())
}

// Addr returns the address the server listens on, once serving.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL returns the server's base URL, once serving.
func (s *Server) URL() string { return "http://" + s.Addr().String() }

// Close stops the server: it fails readiness, stops accepting, waits up
// to the shutdown timeout for requests in flight, then cancels those left.
func (s *Server) Close() error {
	s.ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), s.timeouts.Shutdown)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.cancel()
	if err != nil {
		s.http.Close()
	}
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}
