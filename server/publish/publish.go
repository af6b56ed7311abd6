// Package publish runs a site's aggregation: it tails the store's delta
// log, folds each delta into the site's aggregate (package aggregate, the
// math), publishes a model version every N folded deltas or every T when
// there is something new, and keeps the central DP ledger, retention and
// purge. Version 0 is the empty model. Each version is stored with a
// checkpoint of the aggregate, so a restart folds only the deltas after
// it, and no acknowledged delta is lost.
//
// Several replicas sharing one store run it WithFollower: each follows the
// versions the store holds, and the one that Lead makes the leader (by an
// election outside this package: package cluster) aggregates and publishes
// until its leadership ends, then follows again.
//
//	agg, err := publish.New(st, sites, publish.WithPublishEvery(1000, 30*time.Second))
//	err = agg.Start(ctx) // catches up, publishes version 0 if needed
//	defer agg.Close(ctx) // publishes what is due (k new deltas or more)
//	agg.Notify()         // after each accepted delta
//	v, ok := agg.Current("demo")
//
// # Notes
//
// An Aggregator is goroutine-safe. Its background goroutine runs from
// Start to Close.
package publish

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// Errors of the aggregator.
var (
	ErrUnknownSite = errors.New("publish: unknown site")
	ErrNotStarted  = errors.New("publish: not started")
)

// foldBatch is how many deltas one store read returns.
const foldBatch = 1000

// Option configures an Aggregator.
type Option func(*Aggregator) error

// WithParams sets the aggregation's defences and shape (DefaultParams
// otherwise).
func WithParams(p aggregate.Params) Option {
	return func(a *Aggregator) error {
		if err := p.Validate(); err != nil {
			return err
		}
		a.params = p
		return nil
	}
}

// WithPublishEvery publishes a new version once n deltas were folded since
// the last, or once every interval when any were (defaults 1000 and 30s);
// either way only once at least k (the site's MinCohort) were, so that no
// two versions differ by fewer than k deltas. Flush publishes what is
// pending.
func WithPublishEvery(n int, interval time.Duration) Option {
	return func(a *Aggregator) error {
		if n < 1 || interval < 10*time.Millisecond {
			return fmt.Errorf("publish: publish every %d deltas or %v: need >= 1 and >= 10ms", n, interval)
		}
		a.every, a.interval = uint64(n), interval
		return nil
	}
}

// WithLogger sets the logger of publications and background errors.
func WithLogger(l *slog.Logger) Option {
	return func(a *Aggregator) error {
		a.log = l
		return nil
	}
}

// WithClock sets the clock the aggregator reads (time.Now by default or
// when nil): a version's creation time, the publication interval, the
// central-DP window and retention's cutoff. The replay sets one it
// controls, so that two runs on the same input publish the same bytes.
func WithClock(now func() time.Time) Option {
	return func(a *Aggregator) error {
		a.now = now
		if now == nil {
			a.now = time.Now
		}
		return nil
	}
}

// WithNoiseSeed makes the noise reproducible, for tests. By default it is
// seeded from crypto/rand.
func WithNoiseSeed(seed uint64) Option {
	return func(a *Aggregator) error {
		a.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		return nil
	}
}

// Aggregator folds deltas and publishes versions for a set of sites.
type Aggregator struct {
	st       store.Store
	params   aggregate.Params
	every    uint64
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu sync.Mutex // guards every siteState's aggregate and rng
	// closing: Close's last step publishes only sites with k new deltas.
	closing bool
	rng     *rand.Rand
	sites   map[string]*siteState // written under mu and sitesMu (AddSite); read under either
	keys    []string              // likewise

	sitesMu sync.RWMutex // lets Current and the other lock-free reads look a site up

	notify  chan struct{}
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// The leadership: while lead is set and not done, the aggregator folds
	// and publishes; otherwise it follows the versions the store holds.
	// The only aggregator of its store leads for ever (a lead that never
	// ends); a replica (WithFollower) leads between Lead and the end of
	// its context.
	lead     context.Context // guarded by mu
	poll     time.Duration   // WithFollower: how often a follower re-reads the versions
	refresh  chan struct{}   // Refresh
	leading  atomic.Bool
	followed atomic.Int64 // when a follower last re-read the versions, Unix ns

	ret retention // WithRetention; guarded by mu

	paused func(key string) bool     // WithPaused; nil: never
	config func(s *site.Site) []byte // WithSiteConfig; nil: the file's

	handoff handoff // deltas the API offers decoded (Offer)
}

type siteState struct {
	site       *site.Site
	params     aggregate.Params // the aggregator's, with the site's LDP fields set
	config     []byte
	configHash string
	state      *aggregate.State
	pending    uint64    // deltas folded since the last publication
	oldest     time.Time // received time of the first of them
	published  time.Time // when the last version was published
	current    atomic.Pointer[store.Version]
	lag        atomic.Int64 // nanoseconds, for metrics
	lastBuild  atomic.Int64 // nanoseconds the last publication took
	foldErrors atomic.Uint64
	ledger     []release // central DP: the site's releases in the window; guarded by mu
	refused    bool      // the last publication was refused for the budget (logged once)
}

// release is one version published with central DP noise, for the
// window's accounting.
type release struct {
	at  time.Time
	rho float64
}

// New returns an aggregator of the sites over a store; Start starts it.
func New(st store.Store, sites *site.Set, opts ...Option) (*Aggregator, error) {
	a := &Aggregator{st: st, params: aggregate.DefaultParams, every: 1000, interval: 30 * time.Second, ret: retention{window: DefaultRetention},
		log: slog.New(slog.DiscardHandler), now: time.Now, sites: map[string]*siteState{},
		notify: make(chan struct{}, 1), refresh: make(chan struct{}, 1)}
	for _, opt := range opts {
		if err := opt(a); err != nil {
			return nil, err
		}
	}
	if a.poll == 0 {
		a.lead = context.Background() // the only aggregator of its store: leads for ever
	}
	if a.rng == nil {
		var seed [16]byte
		crand.Read(seed[:])
		a.rng = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:]), binary.LittleEndian.Uint64(seed[8:])))
	}
	for _, key := range sites.Keys() {
		s, _ := sites.Get(key)
		a.sites[key] = a.newSiteState(s)
		a.keys = append(a.keys, key)
	}
	return a, nil
}

// newSiteState returns the empty state of a site to aggregate.
func (a *Aggregator) newSiteState(s *site.Site) *siteState {
	cfg := s.ConfigBytes()
	p := a.params
	if s.Privacy == wire.PrivacyLDP {
		p.LDPEpsilon = float64(s.Epsilon)
	}
	return &siteState{site: s, params: p, config: cfg, configHash: store.Hash(cfg), state: aggregate.NewState()}
}

// Params returns the aggregation parameters.
func (a *Aggregator) Params() aggregate.Params { return a.params }

// Start restores each site's checkpoint, folds the deltas logged after it,
// publishes version 0 for a new site (and a new version when the site's
// configuration changed), then starts folding and publishing in the
// background.
func (a *Aggregator) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("publish: started twice")
	}
	for _, key := range a.keys {
		if a.lead == nil { // a replica starts following
			if err := a.follow(ctx, a.sites[key]); err != nil {
				return err
			}
		} else if err := a.open(ctx, a.sites[key]); err != nil {
			return err
		}
	}
	a.leading.Store(a.lead != nil)
	loop, cancel := context.WithCancel(context.Background())
	a.started, a.cancel = true, cancel
	a.wg.Add(1)
	go a.run(loop)
	return nil
}

func (a *Aggregator) open(ctx context.Context, s *siteState) error {
	key := s.site.Key
	state, err := a.checkpoint(ctx, key)
	if err != nil {
		return err
	}
	s.state = state
	v, err := a.st.Latest(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := a.publish(ctx, s, 0, nil); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("publish: %s: %w", key, err)
	default:
		s.current.Store(&v)
		s.published = v.Created
		if err := a.readLedger(ctx, s, v); err != nil {
			return err
		}
	}
	if err := a.fold(ctx, s); err != nil {
		return err
	}
	a.refreshConfig(s)
	if cur := s.current.Load(); cur.Config != s.configHash {
		a.log.Info("site configuration changed", "site", key, "version", cur.Number)
		if s.pending < batchOf(s) {
			return a.publishConfig(ctx, s) // the last weights: fewer than k new deltas wait
		}
		return a.publishNext(ctx, s)
	}
	if s.pending >= max(a.every, batchOf(s)) {
		return a.publishNext(ctx, s)
	}
	return nil
}

// checkpoint returns the aggregate of a site's newest stored checkpoint
// (empty when there is none).
func (a *Aggregator) checkpoint(ctx context.Context, key string) (*aggregate.State, error) {
	state := aggregate.NewState()
	b, err := a.st.State(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("publish: %s: %w", key, err)
	default:
		if err := state.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("publish: %s: %w", key, err)
		}
	}
	return state, nil
}

// Notify tells the aggregator that deltas were appended; it never blocks.
func (a *Aggregator) Notify() {
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// run folds on every notification and publishes when a site is due; a
// follower re-reads the newest versions instead.
func (a *Aggregator) run(ctx context.Context) {
	defer a.wg.Done()
	every := min(max(a.interval/4, 10*time.Millisecond), time.Second)
	if a.poll > 0 {
		every = min(every, a.poll)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	// A notification within foldEvery of the last step is folded at the
	// end of that time, with whatever else arrived (soon).
	soon := time.NewTimer(time.Hour)
	soon.Stop()
	var soonC <-chan time.Time // soon.C while armed
	var last time.Time         // of the last step
	for {
		var lost <-chan struct{} // the end of the leadership (nil: never, or not leading)
		a.mu.Lock()
		if a.lead != nil {
			lost = a.lead.Done()
		}
		a.mu.Unlock()
		notify := a.notify
		if soonC != nil {
			notify = nil // already due: later notifications wait in the channel, not waking this loop
		}
		select {
		case <-ctx.Done():
			soon.Stop()
			return
		case <-notify:
			if !a.leading.Load() {
				continue // the leader reads the log itself
			}
			if wait := foldEvery - time.Since(last); wait > 0 {
				if soonC == nil {
					soon.Reset(wait)
					soonC = soon.C
				}
				continue
			}
		case <-soonC:
		case <-a.refresh:
		case <-lost:
		case <-tick.C:
			if !a.leading.Load() && time.Since(time.Unix(0, a.followed.Load())) < a.poll {
				continue
			}
		}
		soon.Stop()
		soonC, last = nil, time.Now()
		a.step(ctx, false)
	}
}

// foldEvery is how often notifications make the leader fold at most.
// Every accepted sync notifies, and folding each group of appends as it
// came woke the aggregator ~3.5 times per group commit (4,947 steps for
// 20,000 syncs from 32 clients), each step reading the store's tail again;
// folded every 10 ms, a step takes what a few groups appended. Publication
// is not delayed beyond it: it follows the count and the interval.
const foldEvery = 10 * time.Millisecond

// step folds every site's new deltas and publishes those due (all with
// anything pending when force is set); a follower re-reads the newest
// versions. It returns the first error.
func (a *Aggregator) step(ctx context.Context, force bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.leadingNow() {
		a.stepDown()
		a.followed.Store(time.Now().UnixNano())
		ctx, cancel := context.WithTimeout(ctx, followTimeout) // a store that hangs must not hold mu
		defer cancel()
		return a.followAll(ctx)
	}
	ctx, stop := leaderContext(ctx, a.lead)
	defer stop()
	var first error
	for _, key := range a.keys {
		s := a.sites[key]
		a.refreshConfig(s)
		err := a.publishConfig(ctx, s)
		if err == nil {
			err = a.fold(ctx, s)
		}
		// Unforced, a version waits for k new deltas (MinCohort): the
		// manifest says how many deltas built each version, so two
		// versions one delta apart would give that delta's items and
		// pairs away to anyone who compares them (e2e
		// TestModelDifferencing). Their difference is then a count over
		// k deltas, as the k floor promises, and a quiet site's last
		// deltas wait for company.
		batch := batchOf(s)
		due := s.pending > 0 && (force && !a.closing ||
			s.pending >= batch && (force || s.pending >= a.every || a.now().Sub(s.published) >= a.interval))
		if err == nil && due && !a.isPaused(key) {
			err = a.publishNext(ctx, s)
		}
		if errors.Is(err, store.ErrVersionExists) {
			// Another aggregator published this number: this one's aggregate
			// is stale. Start over from the store's newest checkpoint.
			a.log.Warn("another aggregator published; restoring from the store", "site", key, "err", err)
			err = a.restore(ctx, s)
		}
		if s.pending > 0 {
			s.lag.Store(int64(a.now().Sub(s.oldest)))
		} else {
			s.lag.Store(0)
		}
		if err != nil && ctx.Err() == nil {
			a.log.Error("aggregation failed; retrying", "site", key, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	a.retainAll(ctx, false) // logs its errors; retried at the next step
	return first
}

// batchOf is the fewest new deltas a version of s publishes unforced: k.
func batchOf(s *siteState) uint64 { return uint64(max(s.params.MinCohort, 1)) }

// fold folds a site's deltas logged after its cursor.
func (a *Aggregator) fold(ctx context.Context, s *siteState) error {
	for {
		ds, err := a.st.Deltas(ctx, s.site.Key, s.state.Cursor, foldBatch)
		if err != nil {
			return fmt.Errorf("publish: %s: %w", s.site.Key, err)
		}
		for i := range ds {
			d := &ds[i]
			// Stored bodies are what ingest wrote: deltas it decoded with
			// this same decoder, checked, and re-encoded. One this process's
			// API appended was offered decoded (handoff.go).
			wd := a.handoff.take(d)
			if wd == nil {
				wd = new(wire.Delta)
				if err := wire.Unmarshal(d.Body, wd, "delta"); err != nil {
					// Accepted deltas were validated; one failing now is a bug or
					// corruption. Skip it, counted, rather than stop the site.
					s.foldErrors.Add(1)
					a.log.Error("stored delta does not decode; skipped", "site", s.site.Key, "seq", d.Seq, "err", err)
					s.state.Cursor = d.Seq
					continue
				}
			}
			if s.pending == 0 {
				s.oldest = a.now() // not d.Received: the store keeps only its hour
			}
			s.state.Fold(wd, d.Seq, d.Received, &s.params)
			s.pending++
		}
		if len(ds) < foldBatch {
			return nil
		}
	}
}

// publishNext publishes the site's next version.
func (a *Aggregator) publishNext(ctx context.Context, s *siteState) error {
	cur := s.current.Load()
	return a.publish(ctx, s, cur.Number+1, cur.Shards)
}

// publish builds version n from the site's aggregate and stores it with
// its checkpoint. With central DP, a version past the window's budget is
// not published (logged once; the last version keeps being served).
func (a *Aggregator) publish(ctx context.Context, s *siteState, n uint32, prev []store.Shard) error {
	start := time.Now()
	p := &s.params
	ldpSite := p.LDPEpsilon > 0
	charge := p.Noise == aggregate.NoiseGaussian && n > 0 && !ldpSite // version 0 and LDP estimates release nothing new
	windowRho := 0.0
	if charge {
		windowRho = s.spent(a.now(), p.DPWindow) + p.Rho()
		if windowRho > p.RhoBudget()*(1+1e-9) {
			if !s.refused {
				a.log.Warn("central DP budget of the window spent; not publishing until older releases leave it",
					"site", s.site.Key, "releases", len(s.ledger), "window", p.DPWindow, "epsilon", p.Epsilon, "delta", p.Delta)
			}
			s.refused = true
			return nil
		}
	}
	var items []wire.ItemWeights
	switch {
	case ldpSite:
		items = s.state.WeightsLDP(p, s.site.Catalog)
	case p.Noise == aggregate.NoiseGaussian:
		sigma := p.Sigma()
		items = s.state.Weights(p, func() float64 { return sigma * a.rng.NormFloat64() })
	default:
		items = s.state.Weights(p, nil)
	}
	shards, blobs := aggregate.Shards(n, items, aggregate.ChooseLayout(items, p, prev), prev)
	blobs[s.configHash] = s.config
	v := store.Version{Site: s.site.Key, Number: n, Created: a.now().UTC(), Deltas: s.state.Deltas, New: s.pending,
		Cursor: s.state.Cursor, Shards: shards, Config: s.configHash, Privacy: p.Privacy(windowRho)}
	if !charge {
		v.Privacy.Rho, v.Privacy.Epsilon = 0, 0
	}
	for _, sh := range shards {
		v.Bytes += sh.Bytes
	}
	checkpoint, err := s.state.MarshalBinary()
	if err != nil {
		return err
	}
	if err := a.st.Publish(ctx, store.Publication{Version: v, Blobs: blobs, State: checkpoint}); err != nil {
		return fmt.Errorf("publish: %s: %w", s.site.Key, err)
	}
	took := time.Since(start)
	if charge {
		s.ledger = append(s.ledger, release{v.Created, v.Privacy.Rho})
	}
	s.refused = false
	s.current.Store(&v)
	s.pending, s.published = 0, v.Created
	s.lastBuild.Store(int64(took))
	changed := 0
	for _, sh := range shards {
		if sh.Version == n {
			changed++
		}
	}
	pairs, kept := s.state.Len()
	a.log.Info("published model version", "site", v.Site, "version", n, "deltas", v.Deltas, "new", v.New,
		"items", len(items), "shards", len(shards), "changed_shards", changed, "bytes", v.Bytes,
		"pairs_kept", pairs, "items_kept", kept, "min_cohort", v.Privacy.MinCohort,
		"clip_weight", v.Privacy.ClipWeight, "clip_item", v.Privacy.ClipItem, "clip_l1", v.Privacy.ClipL1, "half_life", v.Privacy.HalfLife,
		"noise", v.Privacy.Noise, "epsilon", v.Privacy.Epsilon, "delta", v.Privacy.Delta, "noise_scale", v.Privacy.Scale, "took", took)
	return nil
}

// spent is the ρ of the site's releases within window before now; it
// drops older ones from the ledger. The caller holds mu.
func (s *siteState) spent(now time.Time, window time.Duration) float64 {
	keep := s.ledger[:0]
	rho := 0.0
	for _, r := range s.ledger {
		if now.Sub(r.at) < window {
			keep = append(keep, r)
			rho += r.rho
		}
	}
	s.ledger = keep
	return rho
}

// readLedger rebuilds a site's central DP ledger from the versions
// published within the window, newest (v) first: the accounting lives in
// the manifests, so that no restart or rebuild of the aggregate resets it.
func (a *Aggregator) readLedger(ctx context.Context, s *siteState, v store.Version) error {
	s.ledger = s.ledger[:0]
	if s.params.Noise != aggregate.NoiseGaussian {
		return nil
	}
	since := a.now().Add(-s.params.DPWindow)
	var rs []release
	for {
		if v.Created.Before(since) {
			break
		}
		if v.Privacy.Rho > 0 {
			rs = append(rs, release{v.Created, v.Privacy.Rho})
		}
		if v.Number == 0 {
			break
		}
		prev, err := a.st.Version(ctx, s.site.Key, v.Number-1)
		if err != nil {
			return fmt.Errorf("publish: %s: read the DP ledger: %w", s.site.Key, err)
		}
		v = prev
	}
	slices.Reverse(rs)
	s.ledger = rs
	return nil
}

// Flush folds every delta logged so far and publishes each site that has
// any pending, now; a follower that does not lead re-reads the newest
// versions instead.
func (a *Aggregator) Flush(ctx context.Context) error {
	if !a.isStarted() {
		return ErrNotStarted
	}
	return a.step(ctx, true)
}

func (a *Aggregator) isStarted() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.started
}

// Close stops the background work and, leading, publishes what is due:
// fewer than k new deltas wait in the store for the next start, which
// folds them again (a version one delta after the last would give it
// away, see step).
func (a *Aggregator) Close(ctx context.Context) error {
	a.mu.Lock()
	started, cancel := a.started, a.cancel
	a.mu.Unlock()
	if !started {
		return nil
	}
	cancel()
	a.wg.Wait()
	if !a.leading.Load() {
		return nil
	}
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	return a.step(ctx, true)
}

// Current returns a site's newest published version.
func (a *Aggregator) Current(key string) (store.Version, bool) {
	s := a.lookup(key)
	if s == nil {
		return store.Version{}, false
	}
	v := s.current.Load()
	if v == nil {
		return store.Version{}, false
	}
	return *v, true
}

// Arms returns a site's per-arm totals by the model version devices held.
func (a *Aggregator) Arms(key string) (map[uint32]aggregate.Arms, error) {
	s := a.lookup(key)
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSite, key)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return s.state.Arms(), nil
}

// Info is a site's aggregation status, for metrics.
type Info struct {
	Version     uint32        // the newest published version
	Deltas      uint64        // deltas in it
	Bytes       int           // bytes of its shards
	Lag         time.Duration // age of the oldest folded delta not yet published
	LastPublish time.Duration // how long the last publication took
	FoldErrors  uint64        // stored deltas that failed to decode
}

// Info returns a site's status without waiting for the aggregation.
func (a *Aggregator) Info(key string) (Info, bool) {
	s := a.lookup(key)
	if s == nil {
		return Info{}, false
	}
	var in Info
	if v := s.current.Load(); v != nil {
		in.Version, in.Deltas, in.Bytes = v.Number, v.Deltas, v.Bytes
	}
	in.Lag = time.Duration(s.lag.Load())
	in.LastPublish = time.Duration(s.lastBuild.Load())
	in.FoldErrors = s.foldErrors.Load()
	return in, true
}

// Sites returns the site keys aggregated.
func (a *Aggregator) Sites() []string {
	a.sitesMu.RLock()
	defer a.sitesMu.RUnlock()
	return append([]string(nil), a.keys...)
}
