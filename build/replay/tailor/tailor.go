// Package tailor puts Tailor itself into the replay benchmark: the real
// tailor.wasm, run through the wazero harness as one simulated device per
// session, in every privacy mode a site can choose, each at the privacy it
// really ships with:
//
//   - tailor-federated: the shipped default. Every training session is a
//     device that syncs its profile delta to a real Tailor server in this
//     process (embedded store, the server's aggregation and defences at
//     aggregate.DefaultParams, minimum cohort k included); each evaluation
//     session then runs on a fresh device holding the weights it
//     downloaded, as a browser would. Its row is the report's headline
//     ("default": true).
//   - tailor-federated-k1: the same deltas aggregated with k = 1, which no
//     site is shipped with: a reference for what the cohort floor costs.
//   - tailor-local: nothing leaves the device and no weights arrive
//     (version 0): what a site gets in its strictest privacy mode.
//   - tailor-ldp-EPS: mode federated+ldp at budget EPS per delta, the
//     server at its defaults, debiasing the reports over the site's
//     catalogue (the training items, as a shop would declare its products).
//   - tailor-dp-EPS: federated, the server adding central differential
//     privacy (Gaussian noise, DP selection of the keys) with budget
//     (EPS, DPDelta) for its window of versions; the other parameters at
//     their defaults.
//
// Importing the package registers the modes with package replay.
//
// # Notes
//
// The harness loads dist/tailor.wasm (or $TAILOR_WASM): build it first
// with make wasm (make replay does).
package tailor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/internal/browserget"
	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tetratelabs/wazero"
)

// Epsilons are the LDP budgets the benchmark registers a mode for.
var Epsilons = []float32{1, 2, 4, 8}

// CentralEpsilons are the central DP budgets it registers a mode for, each
// with δ = DPDelta, the budget of every version the server publishes in
// its window (aggregate.DefaultParams' DPWindow and DPReleases).
var CentralEpsilons = []float64{1, 8}

// DPDelta is δ of the central DP modes: well below one over the number of
// devices of any dataset here.
const DPDelta = 1e-6

// Registered names of the modes.
const (
	NameFederated   = "tailor-federated"    // the shipped default
	NameFederatedK1 = "tailor-federated-k1" // reference, not shipped
	NameLocal       = "tailor-local"
)

// NameLDP is the registered name of the federated+ldp mode at budget eps.
func NameLDP(eps float32) string { return fmt.Sprintf("tailor-ldp-%g", eps) }

// NameCentralDP is the registered name of the central DP mode at budget eps.
func NameCentralDP(eps float64) string { return fmt.Sprintf("tailor-dp-%g", eps) }

// siteKey is the replay's site.
const siteKey = "replay"

func init() {
	replay.Register(NameFederated, func(c replay.Config) (eval.Method, error) {
		return &Method{cfg: c, mode: report.ModeFederated, privacy: wire.PrivacyFederated,
			params: ServerParams(), shipped: true}, nil
	})
	replay.Register(NameFederatedK1, func(c replay.Config) (eval.Method, error) {
		p := ServerParams()
		p.MinCohort = 1
		return &Method{cfg: c, mode: report.ModeFederated, privacy: wire.PrivacyFederated, params: p}, nil
	})
	// The central DP modes come right after the federated ones: they
	// aggregate the same devices' deltas (see deltaMemo).
	for _, eps := range CentralEpsilons {
		replay.Register(NameCentralDP(eps), func(c replay.Config) (eval.Method, error) {
			p := ServerParams()
			p.Noise, p.Epsilon, p.Delta = aggregate.NoiseGaussian, eps, DPDelta
			return &Method{cfg: c, mode: report.ModeCentralDP, privacy: wire.PrivacyFederated, params: p}, nil
		})
	}
	replay.Register(NameLocal, func(c replay.Config) (eval.Method, error) {
		return &Method{cfg: c, mode: report.ModeLocal, privacy: wire.PrivacyLocal, params: ServerParams()}, nil
	})
	for _, eps := range Epsilons {
		replay.Register(NameLDP(eps), func(c replay.Config) (eval.Method, error) {
			return &Method{cfg: c, mode: report.ModeLDP, privacy: wire.PrivacyLDP, epsilon: eps,
				params: ServerParams()}, nil
		})
	}
}

// ServerParams are the aggregation parameters of the replay's server:
// exactly those of a tailor-server started without flags
// (aggregate.DefaultParams), so that every mode's row shows the privacy a
// site really gets.
func ServerParams() aggregate.Params { return aggregate.DefaultParams }

// Method is one Tailor mode.
type Method struct {
	cfg     replay.Config
	mode    string
	privacy wire.Privacy
	epsilon float32
	params  aggregate.Params // the server's aggregation
	shipped bool             // the mode and parameters a site gets by default
	variant string           // the server variant's spec (RegisterVariant), "" for the registered modes

	ranking     *model.Params // the Go device's weights (RegisterRanking); nil: tailor.wasm ranks
	rankingSpec string

	rt     *harness.Runtime
	pool   *harness.Pool // devices holding every shard (the bandit estimate)
	config []byte        // the site configuration devices run with
	site   wire.Config   // config decoded, for the Go device
	model  *served       // the published model, as the server serves it; nil in local mode

	pages      pageBytes    // what evaluation devices downloaded
	synced     atomic.Int64 // delta bytes accepted
	devices    atomic.Int64 // training devices
	reused     bool         // the devices' deltas came from the memo
	fromFile   bool         // the devices' deltas came from the delta file
	catalog    int          // items of the site's declared catalogue
	progressMu sync.Mutex   // FitProgress calls must not overlap
	version    uint32
	deltas     uint64
}

// Name is the method column of the report.
func (m *Method) Name() string {
	if m.variant != "" {
		return "Tailor [" + m.variant + "]"
	}
	if m.ranking != nil {
		return "Tailor {" + m.rankingSpec + "}"
	}
	if m.mode == report.ModeFederated && m.params.MinCohort != ServerParams().MinCohort {
		return fmt.Sprintf("Tailor (k=%d, not shipped)", m.params.MinCohort)
	}
	return "Tailor"
}

// Annotate fills in the mode, whether it is the shipped default, and what
// devices sent and received.
func (m *Method) Annotate(r *report.Result) {
	r.Mode = m.mode
	r.Default = m.shipped
	switch m.mode {
	case report.ModeLDP:
		r.Epsilon = report.Float(float64(m.epsilon))
	case report.ModeCentralDP:
		r.Epsilon = report.Float(m.params.Epsilon)
	}
	if n := m.devices.Load(); n > 0 {
		r.BytesSynced = report.Float(float64(m.synced.Load()) / float64(n))
	}
	if m.model == nil {
		r.ModelBytes = report.Float(0)
		return
	}
	if total, first, later, ok := m.pages.means(); ok {
		r.ModelBytes, r.ModelFirstPage, r.ModelLaterPage = report.Float(total), report.Float(first), report.Float(later)
	}
	noise := m.params.Noise
	if noise != aggregate.NoiseNone {
		noise += fmt.Sprintf(" (ε=%g, δ=%g over %d versions per %s)", m.params.Epsilon, m.params.Delta, m.params.DPReleases, m.params.DPWindow)
	}
	p := &m.params
	r.Notes = fmt.Sprintf("server: minimum cohort k=%d (pairs %d), pair share %g (capped at %g deltas), neighbours %d, half-life %s, central noise %s; model version %d built from %d deltas of %d devices",
		p.MinCohort, max(p.MinCohort, p.PairCohort), p.PairShare, p.PairCap, p.Neighbors, p.HalfLife, noise, m.version, m.deltas, m.devices.Load())
	if m.catalog > 0 {
		items, pairs := m.model.published()
		r.Notes += fmt.Sprintf("; LDP reports debiased over a catalogue of %d items: %d items and %d pairs published", m.catalog, items, pairs)
	}
	r.Notes += "; " + m.model.String()
	if m.reused {
		r.Notes += " (the same devices' deltas as the run before it, aggregated again)"
	}
	if m.fromFile {
		r.Notes += " (the training devices' deltas read from a delta file of an earlier run)"
	}
	if m.variant != "" {
		r.Notes += "; server variant " + m.variant + ", not shipped"
	} else if m.ranking != nil {
		r.Notes += fmt.Sprintf("; ranked by the Go device (package device, not tailor.wasm) at model.Params changed by {%s}, not shipped", m.rankingSpec)
	} else if !m.shipped && m.mode == report.ModeFederated {
		r.Notes += "; a reference: no site is shipped with these parameters"
	}
}

// wasmPath is where the harness finds tailor.wasm.
func wasmPath() string {
	if p := os.Getenv("TAILOR_WASM"); p != "" {
		return p
	}
	return filepath.Join("dist", "tailor.wasm")
}

// Fit runs every training session as a device syncing to a real server
// (except in local mode), then downloads the published model.
func (m *Method) Fit(ctx context.Context, train []data.Session) error {
	// Seeded: the devices' ids, samples and LDP reports are the same from
	// run to run, so that figures can be compared; these deltas never
	// leave the process.
	ctx = withMemories(ctx)
	rt, err := harness.Load(ctx, wasmPath(), harness.WithSeededRandom(uint64(m.cfg.Seed)),
		harness.WithCompilationCache(compiled))
	if err != nil {
		return fmt.Errorf("tailor: %w (build it with make wasm)", err)
	}
	m.rt = rt
	cfg := wire.Config{Site: siteKey, Privacy: m.privacy, Epsilon: m.epsilon}
	m.config = wire.Marshal(&cfg)
	if m.privacy != wire.PrivacyLocal {
		if err := m.federate(ctx, train); err != nil {
			return err
		}
	}
	if m.ranking != nil {
		if err := wire.Unmarshal(m.config, &m.site, "config"); err != nil {
			return fmt.Errorf("tailor: %w", err)
		}
	}
	config, model := m.config, m.model
	m.pool = rt.NewPool(max(1, m.cfg.Workers), func(in *harness.Instance) error {
		if _, err := in.Call("tailor_init", config); err != nil {
			return err
		}
		if model == nil {
			return nil
		}
		_, err := model.fetch(in, nil, nil, nil, true)
		return err
	})
	return nil
}

// compiled keeps tailor.wasm's machine code for every mode of the
// process: each mode's Fit loads the file anew (it may have been rebuilt
// in between) but compiles it only when it changed.
var compiled = wazero.NewCompilationCache()

// federate replays the training sessions as devices against a server in
// this process, and keeps the model they built.
func (m *Method) federate(ctx context.Context, train []data.Session) error {
	dir, err := os.MkdirTemp("", "tailor-replay-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(filepath.Join(dir, "tailor.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	siteCfg := site.Site{Key: siteKey, Origins: []string{"*"}, Privacy: m.privacy, Epsilon: m.epsilon}
	if m.privacy == wire.PrivacyLDP {
		// The server can only estimate what it can enumerate: a
		// federated+ldp site declares its catalogue, here the training
		// items (a shop's product feed).
		siteCfg.Catalog = catalogue(train)
		m.catalog = len(siteCfg.Catalog)
	}
	sites, err := site.NewSet(siteCfg)
	if err != nil {
		return err
	}
	agg, err := publish.New(st, sites, publish.WithParams(m.params),
		publish.WithPublishEvery(publishEvery, time.Hour), publish.WithNoiseSeed(uint64(m.cfg.Seed)),
		publish.WithClock(func() time.Time { return serverTime }), publish.WithRetention(0))
	if err != nil {
		return err
	}
	if err := agg.Start(ctx); err != nil {
		return err
	}
	defer agg.Close(context.Background())
	srv, err := api.New(st, agg, sites, api.WithMaxModelLag(1<<20), api.WithClock(func() time.Time { return serverTime }))
	if err != nil {
		return err
	}
	if err := srv.Open("127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	handler := srv.Handler()

	key := memoKey{first: &train[0], n: len(train), privacy: m.privacy, epsilon: m.epsilon, cfg: m.cfg.Seed,
		clock: m.cfg.HasClock, cats: len(m.cfg.Categories)}
	deltas, ok := memo.get(key)
	m.reused = ok
	if !ok {
		if deltas, err = m.fileOrDevices(ctx, key, train); err != nil {
			return err
		}
		memo.put(key, deltas)
	}
	var done atomic.Int64
	err = parallel(ctx, max(m.cfg.Workers, syncers), len(deltas), func(i int) error {
		if len(deltas[i]) > 0 {
			m.devices.Add(1)
		}
		for _, d := range deltas[i] {
			if err := post(ctx, handler, d); err != nil {
				return err
			}
			m.synced.Add(int64(len(d)))
		}
		if n := done.Add(1); n%1000 == 0 {
			m.fitProgress(int(n), len(deltas))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tailor: syncing devices: %w", err)
	}
	if err := agg.Flush(ctx); err != nil {
		return err
	}
	return m.download(ctx, client, srv.URL())
}

// catalogue is the distinct items of sessions, in order of first click.
func catalogue(sessions []data.Session) []string {
	seen := make(map[string]bool)
	var ids []string
	for _, s := range sessions {
		for _, c := range s.Clicks {
			if !seen[c.Item] {
				seen[c.Item] = true
				ids = append(ids, c.Item)
			}
		}
	}
	return ids
}

// publishEvery is how many deltas the replay's server folds between two
// versions. The replay sends days of syncs in minutes and its training
// devices never download the versions in between: publishing every 2,000
// deltas cost most of the training time on YOOCHOOSE 1/64 (431,000
// syncs), and under central DP it spent releases of the window's budget
// (aggregate.Params.DPReleases) far faster than a server publishing at
// most every 30 s would. Only the final version, after every delta, is
// measured.
const publishEvery = 25000

// serverTime is the time the replay's server reads, the aggregator's and
// the API's: it stands still, so that two runs on the same input publish
// the same bytes. A version's creation time is in the manifest every
// device downloads, and the decay of the sums reads the hour each delta
// arrived in (with the wall clock, a run across the hour's end weighed
// the deltas before it less). No version is published for time passing
// (publishEvery says when instead) and no sum decays: the replay sends
// days of syncs in minutes. It has nine digits of nanoseconds, as most
// times a real server writes do, so that the manifest's size is a real
// one's. The server keeps every delta (a replay is far shorter than the
// retention window anyway).
var serverTime = time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)

// fitProgress reports to FitProgress (devices run, then devices synced),
// one call at a time: the goroutines that run and sync devices all report.
func (m *Method) fitProgress(done, total int) {
	if m.cfg.FitProgress == nil {
		return
	}
	m.progressMu.Lock()
	defer m.progressMu.Unlock()
	m.cfg.FitProgress(done, total)
}

// syncers is how many devices sync at once. The server's durable append
// commits concurrent syncs together (one fsync for many): with as many
// syncs in flight as CPU workers, waiting on the disk, not the CPU, set
// the pace.
const syncers = 32

// devicesDeltas runs every training session on a fresh device and returns
// the deltas each would sync, in session order: one after each click, as
// the loader syncs on every pagehide (each click of these logs is a page
// view), and none for a click that left nothing to sync.
func (m *Method) devicesDeltas(ctx context.Context, train []data.Session) ([][][]byte, error) {
	deltas := make([][][]byte, len(train))
	pool := m.rt.NewPool(max(1, m.cfg.Workers), nil)
	var done atomic.Int64
	err := pool.Run(ctx, len(train), func(in *harness.Instance, i int) error {
		if err := in.Seed(uint64(i)); err != nil {
			return err
		}
		if _, err := in.Call("tailor_init", m.config); err != nil {
			return err
		}
		for _, c := range train[i].Clicks {
			if err := in.Track(m.click(c)); err != nil {
				return err
			}
			delta, err := in.TakeDelta()
			if err != nil {
				return err
			}
			if len(delta) > 0 {
				deltas[i] = append(deltas[i], delta)
			}
		}
		if n := done.Add(1); n%100 == 0 {
			m.fitProgress(int(n), len(train))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tailor: training devices: %w", err)
	}
	return deltas, nil
}

// fileOrDevices returns the training devices' deltas from the delta file
// (SetDeltaFile) when it holds them, else runs the devices, and writes
// the file when there is none yet.
func (m *Method) fileOrDevices(ctx context.Context, key memoKey, train []data.Session) ([][][]byte, error) {
	path := deltaFilePath()
	if path == "" {
		return m.devicesDeltas(ctx, train)
	}
	guest, err := os.ReadFile(wasmPath())
	if err != nil {
		return nil, err
	}
	fk := newFileKey(key, train, guest)
	deltas, ok, err := readDeltas(path, fk)
	if err != nil || ok {
		m.fromFile = ok
		return deltas, err
	}
	if deltas, err = m.devicesDeltas(ctx, train); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := writeDeltas(path, fk, deltas); err != nil {
			return nil, fmt.Errorf("tailor: writing the delta file: %w", err)
		}
	}
	return deltas, nil
}

// memoKey says which devices made a set of deltas: the same training
// sessions, run with the same site configuration and seed, make the same
// deltas whatever the server later does with them.
type memoKey struct {
	first   *data.Session // the training slice, by identity
	n       int
	privacy wire.Privacy
	epsilon float32
	cfg     int64 // seed
	clock   bool
	cats    int
}

// deltaMemo keeps the deltas of the last training devices, so that modes
// differing only in the server's parameters (k = 1 next to the shipped k)
// replay the devices once: on YOOCHOOSE 1/64 that is most of a mode's fit.
// One entry: the registry runs such modes one after the other.
type deltaMemo struct {
	mu     sync.Mutex
	key    memoKey
	deltas [][][]byte
}

var memo deltaMemo

func (d *deltaMemo) get(k memoKey) ([][][]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.deltas == nil || d.key != k {
		return nil, false
	}
	return d.deltas, true
}

func (d *deltaMemo) put(k memoKey, deltas [][][]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.key, d.deltas = k, deltas
}

// parallel calls fn(i) for i in [0, n) on up to workers goroutines and
// returns the first error (the others stop taking work).
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	var (
		next atomic.Int64
		once sync.Once
		err  error
		wg   sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if e := fn(i); e != nil {
					once.Do(func() { err = e; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// download fetches the current manifest, configuration and every shard,
// as a browser does: each counted as served (brotli when the server
// compresses it); evaluation devices then apply only those the loader
// would fetch (served.fetch).
func (m *Method) download(ctx context.Context, client *http.Client, base string) error {
	var man api.Manifest
	b, n, err := browserget.Get(ctx, client, base+"/v1/model?site="+siteKey)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return fmt.Errorf("tailor: manifest: %w", err)
	}
	model := &served{count: man.ShardCount, manifest: n, shards: map[int]shard{}}
	if m.config, model.config, err = browserget.Get(ctx, client, base+man.Config.URL); err != nil {
		return err
	}
	for _, s := range man.Shards {
		b, n, err := browserget.Get(ctx, client, base+s.URL)
		if err != nil {
			return err
		}
		model.shards[s.Index] = shard{b: b, served: n, version: s.Version}
		model.raw += len(b)
		model.all += n
		if s.Head {
			model.head = append(model.head, s.Index)
		}
	}
	m.model = model
	m.version, m.deltas = man.Version, man.Deltas
	return nil
}

// click is the event of a dataset click.
func (m *Method) click(c data.Click) *wire.Event {
	it := &wire.Item{ID: c.Item, Category: m.cfg.Categories[c.Item]}
	return &wire.Event{Kind: wire.KindClick, Time: c.At, Item: it, Ctx: m.context(c.At)}
}

// context is the page context of a click: the time of day and week, when
// the dataset has a clock.
func (m *Method) context(at int64) wire.Context {
	if !m.cfg.HasClock {
		return wire.Context{}
	}
	t := time.UnixMilli(at).UTC().Add(m.cfg.ClockOffset)
	return wire.Context{Hour: uint8(t.Hour()), Weekday: uint8(t.Weekday()), Month: uint8(t.Month())}
}

// Start begins an evaluation session on a fresh device that holds no
// weights yet: on each page view it fetches the shards the loader would.
func (m *Method) Start() eval.Session { return &session{m: m} }

type session struct {
	m      *Method
	in     engine
	ids    []string     // this session's items, oldest first: the loader fetches some of their shards
	held   map[int]bool // shards the device's engine holds
	cached map[int]bool // shards fetched in this session: the browser's HTTP cache
}

// Next tracks a click and returns the device's top k for the next one,
// ranking the items the model knows (no candidate list, as a
// "recommended for you" slot over the whole catalogue). Each click is a
// page view: the device first fetches the head and the shards of the
// page's item and of the session's most recent (pageIDs), counting the
// bytes of those not fetched before. A page load starts a fresh engine
// that holds only what the page requested: when the device holds a shard
// this page view does not request (that of an item past the loader's
// bound), the page view runs on a fresh instance loaded with the saved
// profile, as a page load does.
func (s *session) Next(item string, at int64, k int) ([]string, error) {
	m := s.m
	first := s.in == nil
	ids := pageIDs(item, s.ids)
	s.ids = append(s.ids, item)
	var saved []byte
	if !first && m.model != nil {
		want := m.model.want(ids, false)
		for i := range s.held {
			if !want[i] {
				p, err := s.in.SaveProfile()
				if err != nil {
					return nil, err
				}
				if err := s.Close(); err != nil {
					return nil, err
				}
				saved = p
				break
			}
		}
	}
	if s.in == nil {
		if err := s.open(at, saved); err != nil {
			return nil, err
		}
	}
	if m.model != nil {
		n, err := m.model.fetch(s.in, ids, s.held, s.cached, false)
		if err != nil {
			return nil, err
		}
		m.pages.add(first, n+m.model.boot(first))
	}
	if err := s.in.Track(m.click(data.Click{Item: item, At: at})); err != nil {
		return nil, err
	}
	res, err := s.in.Rank(&wire.RankRequest{Slot: "next", Limit: k, Time: at + 1, Ctx: m.context(at)})
	if err != nil {
		return nil, err
	}
	ids = make([]string, len(res.Items))
	for i, r := range res.Items {
		ids[i] = r.ID
	}
	return ids, nil
}

// open starts the device's engine for a page view at time at, holding no
// shards, with the saved profile (nil on the session's first page view).
func (s *session) open(at int64, saved []byte) error {
	m := s.m
	if s.cached == nil {
		s.cached = map[int]bool{}
	}
	s.held = map[int]bool{}
	if m.ranking != nil {
		in, err := newGoDevice(m.site, *m.ranking, at, saved)
		if err == nil {
			s.in = in
		}
		return err
	}
	// A fresh instance per session: the device holds only what this
	// visitor's pages fetched (a pooled one would keep other sessions'
	// shards).
	in, err := m.rt.Instantiate(withMemories(context.Background()))
	if err != nil {
		return err
	}
	s.in = in
	// The stream depends on the session (the page view's click); the
	// top bit keeps it apart from the training devices' streams.
	if err = in.Seed(uint64(at) | 1<<63); err == nil {
		_, err = in.Call("tailor_init", m.config)
	}
	if err == nil && saved != nil {
		err = in.LoadProfile(saved)
	}
	return err
}

// Close ends the session's device.
func (s *session) Close() error {
	if s.in == nil {
		return nil
	}
	err := s.in.Close(context.Background())
	s.in = nil
	return err
}

// post syncs one delta as the loader does (POST /v1/sync), handing the
// request to the server's handler in this process: the same routing,
// ingest checks, durable append and aggregation as over a socket, without
// the loopback connection's system calls and HTTP framing, which cost a
// sixth of a training pass's CPU time (378,042 syncs per pass on
// YOOCHOOSE 1/64).
func post(ctx context.Context, h http.Handler, body []byte) error {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/sync", bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("Content-Type", "application/msgpack")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		return fmt.Errorf("sync: %d %s: %s", rec.Code, http.StatusText(rec.Code), bytes.TrimSpace(rec.Body.Bytes()))
	}
	return nil
}

// published counts the items and the neighbour entries (pairs) of the
// model's shards: what an LDP site's estimates let through.
func (m *served) published() (items, pairs int) {
	for _, sh := range m.shards {
		var w wire.Weights
		if wire.Unmarshal(sh.b, &w, "weights") != nil {
			continue
		}
		items += len(w.Items)
		for _, it := range w.Items {
			pairs += len(it.Next)
		}
	}
	return items, pairs
}
