package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/store"
)

// ErrNotFollower is Lead's error on an aggregator not made WithFollower.
var ErrNotFollower = errors.New("publish: not a follower (WithFollower)")

// followTimeout bounds a follower's re-reading of the newest versions.
const followTimeout = 10 * time.Second

// WithFollower makes the aggregator one of several replicas over a shared
// store. It starts following: it publishes nothing, and serves (Current,
// Arms) the newest version the store holds and its checkpoint, re-read on
// Refresh and at least every poll. Between Lead and the end of Lead's
// context it aggregates and publishes as the only aggregator of a store
// does.
//
//	agg, err := publish.New(st, sites, publish.WithFollower(time.Second))
//	err = agg.Start(ctx)        // follows: Current is the store's newest version
//	err = agg.Lead(leadership) // when elected; follows again when it ends
//	agg.Refresh()              // when told of a new version
func WithFollower(poll time.Duration) Option {
	return func(a *Aggregator) error {
		if poll < 10*time.Millisecond {
			return fmt.Errorf("publish: follower poll %v: need >= 10ms", poll)
		}
		a.poll = poll
		return nil
	}
}

// Lead makes a started follower the leader while lead lasts: it restores
// each site's checkpoint from the store, folds the deltas logged after it
// and publishes what is due (version 0 of a new site, a new version when
// the site's configuration changed), then aggregates in the background.
// When lead ends, the aggregator drops its aggregate and follows again; a
// later Lead restores afresh, since another replica may have published
// meanwhile. On error it stays a follower.
func (a *Aggregator) Lead(lead context.Context) error {
	if a.poll == 0 {
		return ErrNotFollower
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.started {
		return ErrNotStarted
	}
	if a.leadingNow() {
		return errors.New("publish: already leading")
	}
	for _, key := range a.keys {
		if err := a.restore(lead, a.sites[key]); err != nil {
			for _, key := range a.keys {
				a.sites[key].reset()
			}
			return err
		}
	}
	a.lead = lead
	a.leading.Store(true)
	select { // wake the loop, to watch the new leadership's end
	case a.refresh <- struct{}{}:
	default:
	}
	return nil
}

// Leading reports whether the aggregator aggregates: always without
// WithFollower, else between Lead and the end of its context.
func (a *Aggregator) Leading() bool { return a.leading.Load() }

// leadingNow reports whether this aggregator leads, and so may write; the
// caller holds mu.
func (a *Aggregator) leadingNow() bool {
	return a.lead != nil && a.lead.Err() == nil
}

// Refresh tells a follower that a new version may have been published; it
// never blocks.
func (a *Aggregator) Refresh() {
	select {
	case a.refresh <- struct{}{}:
	default:
	}
}

// stepDown ends a leadership that ended; the caller holds mu.
func (a *Aggregator) stepDown() {
	if a.lead == nil {
		return
	}
	a.lead = nil
	a.leading.Store(false)
	for _, key := range a.keys {
		s := a.sites[key]
		if s.pending > 0 {
			a.log.Info("leadership ended; the next leader folds what was pending", "site", key, "pending", s.pending)
		}
		s.reset()
	}
}

// reset drops a site's aggregate, keeping what it serves.
func (s *siteState) reset() {
	s.state, s.pending, s.oldest = aggregate.NewState(), 0, time.Time{}
	s.lag.Store(0)
}

// restore rebuilds a site's aggregate from the store's newest checkpoint
// and version, as Start does; the caller holds mu or has not started.
func (a *Aggregator) restore(ctx context.Context, s *siteState) error {
	s.reset()
	return a.open(ctx, s)
}

// followAll re-reads every site's newest version; the caller holds mu.
func (a *Aggregator) followAll(ctx context.Context) error {
	var first error
	for _, key := range a.keys {
		if err := a.follow(ctx, a.sites[key]); err != nil && first == nil && ctx.Err() == nil {
			a.log.Warn("following the published versions failed; retrying", "site", key, "err", err)
			first = err
		}
	}
	return first
}

// follow serves a site's newest stored version, with its checkpoint's
// aggregate (for Arms).
func (a *Aggregator) follow(ctx context.Context, s *siteState) error {
	key := s.site.Key
	v, err := a.st.Latest(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil // the leader has not published version 0 yet
	case err != nil:
		return fmt.Errorf("publish: %s: %w", key, err)
	}
	if cur := s.current.Load(); cur != nil && cur.Number == v.Number {
		return nil
	}
	state, err := a.checkpoint(ctx, key)
	if err != nil {
		return err
	}
	s.state = state
	s.current.Store(&v)
	s.published = v.Created
	return nil
}

// leaderContext returns a context that ends with ctx or with the
// leadership, and its release.
func leaderContext(ctx, lead context.Context) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(lead, cancel)
	return ctx, func() bool { cancel(); return stop() }
}
