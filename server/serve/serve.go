// Package serve is the Tailor server as a command runs it: its flags (and
// their TAILOR_ environment variables), the store, the aggregator,
// leadership among replicas, the HTTP API and a graceful shutdown, and
// the purge and token subcommands. The production command,
// server/cmd/tailor-server, is Run alone:
//
//	err := serve.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
//
// A command that serves more — the demo store (demo-site/cmd/tailor-demo)
// serves its pages, its own site and a model seeded at start — composes
// the same server with Options (WithSites, WithPages, WithStart,
// WithFlags, WithUsage), so that the product's binary carries nothing of
// it.
//
// # Notes
//
// Run serves until its context ends; the hooks it is given run on its
// goroutine, in the order given.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/cluster"
	"github.com/tailorhq/tailor/server/console"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/server/store/postgres"
)

// config is everything the flags set.
type config struct {
	addr, data, dist, sites string
	store                   string // a postgres:// URL, or "": the embedded store in data
	publishEvery            int
	publishInterval         time.Duration
	maxModelLag             uint
	manifestMaxAge          time.Duration
	params                  aggregate.Params
	timeouts                api.Timeouts
	logFormat, logLevel     string
	retention               time.Duration
	syncRate                float64 // syncs a second per source address; 0: no limit
	syncBurst               int
	trustForwardedFor       bool
	adminToken              string
	secureCookies           bool
	statsDeltas             int
	statsDelay              time.Duration
}

// usage is the head of --help; WithUsage replaces it.
const usage = `tailor-server: the Tailor server.

Devices sync profile deltas (POST /v1/sync); the server aggregates them,
clipped and with a minimum cohort, into model versions every N deltas or T
seconds, and serves the model (GET /v1/model), the uplift report
(GET /v1/stats), tailor.js and tailor.wasm (GET /assets/...), health
(/healthz, /readyz), Prometheus metrics (/metrics) and the site owner's
console (/console: sign in with the site's owner token or the admin token). The API is
documented in server/api/openapi.yaml, served at /v1/openapi.yaml.

State lives in the embedded store (--data) of one server, or in a
PostgreSQL database (--store) that several replicas of it share behind a
load balancer. Deltas are deleted after the retention window (--retention),
folded first into each site's base checkpoint; "tailor-server purge" takes
a time window's deltas out of a site's model (see tailor-server purge --help).

Every flag may be set by an environment variable instead: TAILOR_ and the
flag's name in capitals with dashes as underscores (--publish-every is
TAILOR_PUBLISH_EVERY). A flag on the command line wins.

Flags:
`

// flags declares the flags into c, with head at the top of --help.
func flags(c *config, stderr io.Writer, head string) *flag.FlagSet {
	fs := flag.NewFlagSet("tailor-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := &c.params
	*p = aggregate.DefaultParams
	c.timeouts = api.DefaultTimeouts
	fs.StringVar(&c.addr, "addr", "localhost:8080", "`host:port` to listen on (port 0: any free port)")
	fs.StringVar(&c.data, "data", "data", "`directory` of the embedded store (tailor.db, bbolt, fsynced on every commit); created if missing")
	fs.StringVar(&c.store, "store", "", "`URL` of a PostgreSQL database (postgres://user:password@host:5432/db) shared by several replicas of this server, instead of the embedded store in --data: every replica accepts syncs and serves the newest model, one at a time aggregates")
	fs.StringVar(&c.dist, "dist", "dist", "`directory` of tailor.js and tailor.wasm as build/assets.sh prepares them (hashed, precompressed, assets.json); what is missing is not served")
	fs.StringVar(&c.sites, "sites", "", "site configuration `file` (JSON: site keys, allowed origins, privacy mode, rules, explore and holdout shares; see server/site/testdata/sites.json)")
	fs.IntVar(&c.publishEvery, "publish-every", 1000, "publish a new model version once this many `deltas` arrived since the last")
	fs.DurationVar(&c.publishInterval, "publish-interval", 30*time.Second, "publish a new model version at least this often when k (--min-cohort) deltas arrived")
	fs.UintVar(&c.maxModelLag, "max-model-lag", 1000, "refuse (409) deltas computed against a model more than this many `versions` older than the current one (at least 64: a delta names the epoch of 64 versions its model is in)")
	fs.DurationVar(&c.manifestMaxAge, "manifest-max-age", 30*time.Second, "how long browsers may cache the current model manifest (Cache-Control max-age)")
	fs.IntVar(&p.Shards, "shards", p.Shards, "split each version's weights into this many `shards` by item (a browser fetches only those of the items it meets,\nand the head of popular items); 0: as many as keep a shard near -shard-bytes")
	fs.IntVar(&p.ShardBytes, "shard-bytes", p.ShardBytes, "with -shards 0, the encoded `bytes` a shard aims at")
	fs.IntVar(&p.HeadItems, "head-items", p.HeadItems, "how many of the most popular `items` go into the head shard every browser fetches (0: none)")
	fs.IntVar(&p.Neighbors, "neighbors", p.Neighbors, "neighbours kept per item (K, at most 100)")
	fs.IntVar(&p.MinCohort, "min-cohort", p.MinCohort, "publish a pair or an item only once this many distinct `deltas` contributed to it (k)")
	fs.Float64Var(&p.ClipWeight, "clip-weight", p.ClipWeight, "what each positive entry of a delta counts, once, whatever weight it claims (binary counting)")
	fs.Float64Var(&p.ClipItem, "clip-item", p.ClipItem, "scale a delta's pairs so that no item gets more than this `weight` from them in total, in or out")
	fs.Float64Var(&p.ClipL1, "clip-l1", p.ClipL1, "scale a delta's pairs (and, separately, its items) down to this L1 `norm`")
	fs.IntVar(&p.MaxPairs, "max-pairs", p.MaxPairs, "count at most this many of a delta's strongest `pairs`")
	fs.IntVar(&p.MaxItems, "max-items", p.MaxItems, "count at most this many of a delta's strongest `items`")
	fs.Float64Var(&p.CoOccurrence, "co-occurrence", p.CoOccurrence, "`weight` of co-occurrence (either direction) against the sequential rule (from → to, weight 1)")
	fs.Float64Var(&p.PairShare, "pair-share", p.PairShare, "a pair becomes a neighbour only with this `share` of its from-item's pair support (planting a pair after a popular item then takes many deltas)")
	fs.Float64Var(&p.PairCap, "pair-cap", p.PairCap, "what --pair-share asks of a pair at most, in `deltas`")
	fs.Float64Var(&p.ShareFill, "share-fill", p.ShareFill, "fill a short neighbour list with the pairs --pair-share cut under --pair-cap, at this `weight` of their score (0: drop them)")
	fs.IntVar(&p.PairCohort, "pair-cohort", p.PairCohort, "publish a pair only once this many `deltas` carried it (k if lower)")
	fs.DurationVar(&p.HalfLife, "half-life", p.HalfLife, "half-life of every aggregated sum, so that old input (poisoned or not) fades; 0: no decay")
	fs.Int64Var(&p.KeepBytes, "keep-bytes", p.KeepBytes, "memory `bytes` of one site's aggregate; past it the entries with the fewest contributors are pruned")
	fs.StringVar(&p.Noise, "noise", p.Noise, "central differential privacy of the published model: none, or gaussian (noise on every released sum, DP selection of the keys, (ε, δ) recorded with each version)")
	fs.Float64Var(&p.Epsilon, "epsilon", 0, "privacy budget `ε` of all the versions published within --dp-window, for --noise gaussian")
	fs.Float64Var(&p.Delta, "delta", 0, "`δ` of the --dp-window's budget, for --noise gaussian")
	fs.DurationVar(&p.DPWindow, "dp-window", p.DPWindow, "the window the --noise budget covers; past the budget no version is published until older ones leave the window")
	fs.IntVar(&p.DPReleases, "dp-releases", p.DPReleases, "how many `versions` the --noise budget is split over, per --dp-window (the noise grows with its square root)")
	fs.DurationVar(&c.timeouts.ReadHeader, "read-header-timeout", c.timeouts.ReadHeader, "time to read a request's headers")
	fs.DurationVar(&c.timeouts.Read, "read-timeout", c.timeouts.Read, "time to read a whole request")
	fs.DurationVar(&c.timeouts.Write, "write-timeout", c.timeouts.Write, "time to write a response")
	fs.DurationVar(&c.timeouts.Idle, "idle-timeout", c.timeouts.Idle, "time a keep-alive connection waits for its next request")
	fs.DurationVar(&c.timeouts.Shutdown, "shutdown-timeout", c.timeouts.Shutdown, "time a graceful shutdown waits for requests in flight")
	fs.DurationVar(&c.retention, "retention", publish.DefaultRetention, "delete each delta this long after it arrived, once a published version holds it (it is folded into the site's base checkpoint first); 0 keeps every delta")
	fs.Float64Var(&c.syncRate, "sync-rate", 1, "syncs a `second` each source address may send on average (a device syncs about once a minute; the rest is room for many behind one address); beyond it, 429; 0: no limit")
	fs.IntVar(&c.syncBurst, "sync-burst", 60, "syncs a source address may send at once before --sync-rate applies")
	fs.BoolVar(&c.trustForwardedFor, "trust-forwarded-for", false, "take a sync's source address from the last X-Forwarded-For entry, for the rate limit: only behind a reverse proxy that appends it (else every client picks its own address)")
	fs.StringVar(&c.adminToken, "admin-token", "", "the operator's bearer `token` (32 characters or more; set it by TAILOR_ADMIN_TOKEN, not on the command line, where other users see it): it reads /metrics and every site's /v1/stats; a site's owner reads its own stats with the token whose SHA-256 is its owner_token_sha256 (tailor-server token makes a pair)")
	fs.BoolVar(&c.secureCookies, "secure-cookies", false, "mark the console's session cookie Secure on plain HTTP requests too: behind a reverse proxy that terminates TLS (over TLS it always is)")
	fs.IntVar(&c.statsDeltas, "stats-min-deltas", api.DefaultStatsDeltas, "a site's stats move only once this many new `deltas` were counted (and --stats-delay passed), so that no poller sees one visitor")
	fs.DurationVar(&c.statsDelay, "stats-delay", api.DefaultStatsDelay, "a site's stats move at most this often")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(stderr, head)
		fs.VisitAll(func(f *flag.Flag) {
			name, help := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s\n    \t(env %s, default %q)\n", f.Name, name, help, envName(f.Name), f.DefValue)
		})
	}
	return fs
}

func envName(flag string) string {
	return "TAILOR_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// parse applies environment variables, then the command line; more
// declares a subcommand's own flags beside the server's.
func parse(args []string, getenv func(string) string, stderr io.Writer, more ...func(*flag.FlagSet)) (*config, error) {
	return parseWith(usage, args, getenv, stderr, more...)
}

// parseWith is parse with head at the top of --help.
func parseWith(head string, args []string, getenv func(string) string, stderr io.Writer, more ...func(*flag.FlagSet)) (*config, error) {
	c := new(config)
	fs := flags(c, stderr, head)
	for _, m := range more {
		m(fs)
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	if err := c.params.Validate(); err != nil {
		return nil, err
	}
	if c.store != "" && !strings.HasPrefix(c.store, "postgres://") && !strings.HasPrefix(c.store, "postgresql://") {
		return nil, errors.New("--store: want a postgres:// URL (or nothing, for the embedded store in --data)")
	}
	if c.syncRate < 0 || c.syncBurst < 1 {
		return nil, fmt.Errorf("--sync-rate %v, --sync-burst %d: want a rate of 0 (no limit) or more and a burst of 1 or more", c.syncRate, c.syncBurst)
	}
	if c.adminToken != "" && len(c.adminToken) < api.MinTokenLen {
		return nil, fmt.Errorf("--admin-token: %d characters, want %d or more (tailor-server token makes one)", len(c.adminToken), api.MinTokenLen)
	}
	if c.statsDeltas < 1 || c.statsDelay < 0 {
		return nil, fmt.Errorf("--stats-min-deltas %d, --stats-delay %v: want 1 or more and a non-negative delay", c.statsDeltas, c.statsDelay)
	}
	if c.retention < 0 {
		return nil, fmt.Errorf("--retention %v is negative", c.retention)
	}
	if c.maxModelLag > 1<<32-1 || c.maxModelLag < wire.ModelEpoch {
		return nil, fmt.Errorf("--max-model-lag %d: want %d (a delta names its version's epoch, up to %d versions older) to 2^32-1", c.maxModelLag, wire.ModelEpoch, wire.ModelEpoch-1)
	}
	return c, nil
}

func newLogger(c *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q is not text or json", c.logFormat)
}

// Errors of the site configuration: the server needs --sites, unless the
// command serves its own (WithSites).
var (
	ErrNoSites  = errors.New("--sites is required: the site configuration file (see server/site/testdata/sites.json)")
	ErrOwnSites = errors.New("--sites: this command serves its own sites")
)

// Option configures Run beyond its flags.
type Option func(*options) error

type options struct {
	usage string
	flags []func(*flag.FlagSet)
	sites func(addr *net.TCPAddr, configured string) (*site.Set, error)
	pages func(asset func(name string) (api.AssetRef, bool)) (http.Handler, error)
	start []func(ctx context.Context, s Started)
}

// WithUsage replaces the head of --help (what the command is; the flags
// follow).
func WithUsage(head string) Option {
	return func(o *options) error {
		o.usage = head
		return nil
	}
}

// WithFlags declares a command's own flags beside the server's; they are
// set from the environment (TAILOR_...) as the server's are.
func WithFlags(declare func(fs *flag.FlagSet)) Option {
	return func(o *options) error {
		o.flags = append(o.flags, declare)
		return nil
	}
}

// WithSites gives the sites to serve, instead of --sites (then refused:
// ErrOwnSites). sites gets the address the server listens on and the
// --addr it was given, for a site served by the server itself, whose
// origins are the server's.
func WithSites(sites func(addr *net.TCPAddr, configured string) (*site.Set, error)) Option {
	return func(o *options) error {
		if sites == nil {
			return errors.New("serve: WithSites(nil)")
		}
		o.sites = sites
		return nil
	}
}

// WithPages serves pages beside the API (api.WithPages). pages gets the
// server's assets by name (api.Server.Asset: tailor.js's content-hashed
// URL and integrity hash), to be called while serving.
func WithPages(pages func(asset func(name string) (api.AssetRef, bool)) (http.Handler, error)) Option {
	return func(o *options) error {
		if pages == nil {
			return errors.New("serve: WithPages(nil)")
		}
		o.pages = pages
		return nil
	}
}

// WithStart adds a hook run once the server serves, before it logs
// "serving": start reports its own failures to s.Log and returns for the
// server to carry on. Seeding a model, or printing how to reach the
// server, belongs here.
func WithStart(start func(ctx context.Context, s Started)) Option {
	return func(o *options) error {
		if start == nil {
			return errors.New("serve: WithStart(nil)")
		}
		o.start = append(o.start, start)
		return nil
	}
}

// Started is what a start hook gets of the running server.
type Started struct {
	Addr       net.Addr            // where it listens
	Aggregator *publish.Aggregator // the sites' aggregation
	Local      http.Handler        // the API in memory (api.Server.Local: no rate limit)
	Dist       string              // --dist: tailor.js and tailor.wasm
	Shared     bool                // state in PostgreSQL shared with other replicas (--store), not the embedded store
	Log        *slog.Logger
	Stdout     io.Writer
}

func newOptions(opts []Option) (*options, error) {
	o := &options{usage: usage}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Run runs the command: the server until ctx ends, then a graceful
// shutdown; or, when args start with "purge" or "token", that subcommand.
// getenv reads the TAILOR_ environment variables; the server logs to
// stderr and prints only what a person must read once (WithStart) to
// stdout.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	if len(args) > 0 && args[0] == "purge" {
		return purge(ctx, args[1:], getenv, stdout, stderr, o)
	}
	if len(args) > 0 && args[0] == "token" {
		return token(args[1:], stdout)
	}
	c, err := parseWith(o.usage, args, getenv, stderr, o.flags...)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := o.checkSites(c); err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	sites, err := o.loadSites(c, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return err
	}
	db, pg, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	// The owner's levers (pin, pause, rules) live in the store: every replica
	// applies them, within console.DefaultLeversTTL.
	levers := console.NewLevers(db, console.DefaultLeversTTL, log)
	// Sites added in the console are served from here on, with the --sites
	// file's; owner tokens rotated on another replica act within the TTL.
	registry := console.NewRegistry(db, sites, levers, log)
	if err := registry.Load(ctx); err != nil {
		return err
	}
	regCtx, stopRegistry := context.WithCancel(ctx)
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		registry.Run(regCtx, console.DefaultLeversTTL)
	}()
	defer func() { stopRegistry(); <-regDone }()
	aggOpts := append(aggregateOptions(c, log), publish.WithPaused(levers.Paused), publish.WithSiteConfig(levers.SiteConfig))
	if pg != nil {
		aggOpts = append(aggOpts, publish.WithFollower(followPoll))
	}
	agg, err := publish.New(db, sites, aggOpts...)
	if err != nil {
		return err
	}
	if err := agg.Start(ctx); err != nil {
		return err
	}
	registry.OnAdd(agg.AddSite) // sites added in the console from now on
	if pg != nil {
		// One of several replicas: lead the aggregation when elected, follow
		// the published versions otherwise. Stopped after agg.Close, so that
		// a leader publishes what is due first.
		clusterCtx, stopCluster := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			cluster.Run(clusterCtx, pg, agg, log)
		}()
		defer func() { stopCluster(); <-done }()
	}
	apiOpts := []api.Option{api.WithLogger(log), api.WithAssets(c.dist), api.WithMaxModelLag(uint32(c.maxModelLag)),
		api.WithManifestMaxAge(c.manifestMaxAge), api.WithTimeouts(c.timeouts),
		api.WithRateLimit(c.syncRate, c.syncBurst), api.WithTrustForwardedFor(c.trustForwardedFor),
		api.WithAdminToken(c.adminToken), api.WithStatsRelease(c.statsDeltas, c.statsDelay)}
	var srv *api.Server
	if o.pages != nil {
		// The assets are known once srv is: asset is called while serving.
		pages, err := o.pages(func(name string) (api.AssetRef, bool) { return srv.Asset(name) })
		if err != nil {
			agg.Close(context.Background())
			return err
		}
		apiOpts = append(apiOpts, api.WithPages(pages))
	}
	// The console reads the API's released stats and sync counts once srv
	// is made: they are called while serving.
	con, err := console.New(db, agg, sites, levers, console.WithAdminToken(c.adminToken), console.WithLogger(log),
		console.WithRegistry(registry), console.WithAssets(func(name string) (api.AssetRef, bool) { return srv.Asset(name) }),
		console.WithSecureCookies(c.secureCookies),
		console.WithReleased(func(key string) (map[uint32]aggregate.Arms, uint64, time.Time, error) { return srv.Released(key) }),
		console.WithSyncCounts(func(key string) map[string]uint64 { return srv.SyncCounts(key) }),
		console.WithSyncHours(func(key string) []api.HourSyncs { return srv.SyncHours(key) }))
	if err != nil {
		agg.Close(context.Background())
		return err
	}
	apiOpts = append(apiOpts, api.WithPin(levers.Pin), api.WithConsole(con))
	srv, err = api.New(db, agg, sites, apiOpts...)
	if err != nil {
		agg.Close(context.Background())
		return err
	}
	srv.Serve(ln)
	for _, start := range o.start {
		start(ctx, Started{Addr: ln.Addr(), Aggregator: agg, Local: srv.Local(), Dist: c.dist, Shared: pg != nil, Log: log, Stdout: stdout})
	}
	where := filepath.Join(c.data, "tailor.db")
	if pg != nil {
		where = "postgres" // not the URL: it may hold a password
	}
	log.Info("serving", "addr", ln.Addr().String(), "store", where, "dist", c.dist, "sites", strings.Join(sites.Keys(), ","),
		"publish_every", c.publishEvery, "publish_interval", c.publishInterval, "sync_rate", c.syncRate, "sync_burst", c.syncBurst,
		"admin_token", c.adminToken != "")
	<-ctx.Done()
	log.Info("shutting down")
	err = srv.Close()
	closeCtx, cancel := context.WithTimeout(context.Background(), c.timeouts.Shutdown)
	defer cancel()
	if e := agg.Close(closeCtx); e != nil && err == nil {
		err = e
	}
	log.Info("stopped")
	return err
}

// aggregateOptions are the aggregator's options from the flags: the
// server's, and purge's, which must aggregate as the server does.
func aggregateOptions(c *config, log *slog.Logger) []publish.Option {
	return []publish.Option{publish.WithParams(c.params),
		publish.WithPublishEvery(c.publishEvery, c.publishInterval), publish.WithLogger(log), publish.WithRetention(c.retention)}
}

// followPoll bounds how long a replica that does not lead serves a version
// after a newer one was published, should the database's notification of
// it be lost.
const followPoll = time.Second

// openStore opens the embedded store in c.data, or the PostgreSQL store
// at c.store (then also returned as pg).
func openStore(ctx context.Context, c *config) (st store.Store, pg *postgres.DB, err error) {
	if c.store != "" {
		pg, err = postgres.Open(ctx, c.store)
		if err != nil {
			return nil, nil, err
		}
		return pg, pg, nil
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, nil, err
	}
	db, err := bolt.Open(filepath.Join(c.data, "tailor.db"))
	if err != nil {
		return nil, nil, err
	}
	return db, nil, nil
}

// checkSites fails unless exactly one of --sites and WithSites says which
// sites to serve.
func (o *options) checkSites(c *config) error {
	switch {
	case o.sites != nil && c.sites != "":
		return ErrOwnSites
	case o.sites == nil && c.sites == "":
		return ErrNoSites
	}
	return nil
}

// loadSites reads the site configuration (--sites), or asks WithSites's
// function for the sites served at addr.
func (o *options) loadSites(c *config, addr *net.TCPAddr) (*site.Set, error) {
	if err := o.checkSites(c); err != nil {
		return nil, err
	}
	if o.sites != nil {
		return o.sites(addr, c.addr)
	}
	return site.Load(c.sites)
}

// token runs `tailor-server token`: a new owner token and the line of a
// site's configuration that admits it.
func token(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		fmt.Fprint(stdout, tokenUsage)
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			return nil
		}
		return fmt.Errorf("token takes no arguments")
	}
	t, hash := site.NewToken()
	fmt.Fprintf(stdout, "token (give it to the site's owner; it is not stored):\n  %s\n"+
		"the site's configuration (sites.json) keeps only its SHA-256:\n  \"owner_token_sha256\": %q\n", t, hash)
	return nil
}

const tokenUsage = `tailor-server token: print a new owner token (256 random bits) and
its SHA-256 for a site's owner_token_sha256 in the --sites file. The owner
reads the site's stats with "Authorization: Bearer TOKEN"; the server keeps
only the hash. It also makes a good --admin-token (TAILOR_ADMIN_TOKEN).
`
