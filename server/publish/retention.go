package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/store"
)

// DefaultRetention is how long the store keeps a delta by default: a
// week, long enough to purge a poisoned window noticed late, short enough
// that the operator does not hold a history of visitors.
const DefaultRetention = 7 * 24 * time.Hour

// retireEvery is how often the retention job runs for a site, and
// retireBatch how many deltas one of its runs deletes at most (a backlog
// goes in several runs, so that no run holds the aggregate for long).
const (
	retireEvery = time.Hour
	retireBatch = 50_000
)

// retention is the state of the retention job (WithRetention); the
// Aggregator's mu guards it.
type retention struct {
	window    time.Duration        // 0: keep every delta
	last      map[string]time.Time // when each site's job last finished its work
	compact   bool                 // deltas were deleted since the last compaction
	compacted time.Time            // when the store was last compacted
	// held is, for each site whose job last stopped at deltas old enough
	// but not yet published, the version it saw: its job is due again as
	// soon as another version is published, not an hour later.
	held map[string]uint32
}

// WithRetention deletes each delta once it is older than window and
// folded into a published version (0 keeps every delta; default
// DefaultRetention). The leading aggregator checks every hour: it folds
// such deltas into the site's base checkpoint (store.Base), the aggregate
// of every delta deleted so far, and has the store keep that base and
// delete them in one transaction (store.Retire); a store that keeps
// deleted bytes in free pages (store.Compactor) is compacted after (once
// a backlog of many runs is through, or hourly while it lasts).
// A delta is so deleted between window and window plus about two hours
// after it arrived (the store knows arrivals to the hour).
//
// Published versions and the checkpoint stay: a restart folds from the
// checkpoint, and a purge (Purge) rebuilds the aggregate as the base plus
// the deltas still stored.
func WithRetention(window time.Duration) Option {
	return func(a *Aggregator) error {
		if window < 0 {
			return fmt.Errorf("publish: retention %v: %w", window, aggregate.ErrParams)
		}
		a.ret.window = window
		return nil
	}
}

// Retention returns the retention window (0: deltas are kept).
func (a *Aggregator) Retention() time.Duration { return a.ret.window }

// Retain runs the retention job for every site now, rather than at its
// hour, and returns how many deltas it deleted; only the leading
// aggregator retires deltas.
//
//	n, err := agg.Retain(ctx)
func (a *Aggregator) Retain(ctx context.Context) (int, error) {
	if !a.isStarted() {
		return 0, ErrNotStarted
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.leadingNow() {
		return 0, nil
	}
	return a.retainAll(ctx, true)
}

// retainAll runs each site's retention job when due (every one when
// force is set), then compacts the store once if anything was deleted;
// the caller holds mu and leads. It returns how many deltas it deleted
// and the first error.
func (a *Aggregator) retainAll(ctx context.Context, force bool) (int, error) {
	if a.ret.window <= 0 {
		return 0, nil
	}
	if a.ret.last == nil {
		a.ret.last, a.ret.held = map[string]time.Time{}, map[string]uint32{}
	}
	total, backlog := 0, false
	var first error
	for _, key := range a.keys {
		s := a.sites[key]
		v, held := a.ret.held[key]
		cur := s.current.Load()
		if !force && !(held && cur != nil && cur.Number != v) && a.now().Sub(a.ret.last[key]) < retireEvery {
			continue
		}
		n, more, err := a.retire(ctx, s)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				a.log.Error("retention failed; retrying", "site", key, "err", err)
			}
			if first == nil {
				first = err
			}
			continue
		}
		if more {
			backlog = true
		} else {
			a.ret.last[key] = a.now()
		}
	}
	// Compact once the backlog is through (a store upgraded with months of
	// deltas retires them in several runs), or hourly while it lasts.
	a.ret.compact = a.ret.compact || total > 0
	c, ok := a.st.(store.Compactor)
	if ok && a.ret.compact && (!backlog || a.now().Sub(a.ret.compacted) >= retireEvery) {
		start := time.Now()
		if err := c.Compact(ctx); err != nil {
			a.log.Error("compacting the store after retention failed", "err", err)
			if first == nil {
				first = err
			}
		} else {
			a.ret.compact, a.ret.compacted = false, a.now()
			a.log.Info("compacted the store, so that nothing of the deleted deltas remains in it", "took", time.Since(start))
		}
	}
	return total, first
}

// retire folds a site's deltas that are older than the window and in the
// published version into its base, and retires them (up to retireBatch;
// more reports a backlog left). It notes in held when it stopped at a
// delta old enough but not yet published (the caller holds mu).
func (a *Aggregator) retire(ctx context.Context, s *siteState) (deleted int, more bool, err error) {
	key := s.site.Key
	cur := s.current.Load()
	delete(a.ret.held, key)
	if cur == nil {
		return 0, false, nil
	}
	// Received is the hour a delta arrived in: it is older than the window
	// for sure once that whole hour is.
	cutoff := a.now().Add(-a.ret.window)
	base, err := a.st.Base(ctx, key)
	if err != nil {
		return 0, false, fmt.Errorf("publish: retention %s: %w", key, err)
	}
	state, err := baseState(base)
	if err != nil {
		return 0, false, fmt.Errorf("publish: retention %s: %w", key, err)
	}
	next := store.Base{Through: base.Through, Until: base.Until}
	folded := 0
	for done := false; !done; {
		ds, err := a.st.Deltas(ctx, key, next.Through, foldBatch)
		if err != nil {
			return 0, false, fmt.Errorf("publish: retention %s: %w", key, err)
		}
		done = len(ds) < foldBatch
		for i := range ds {
			d := &ds[i]
			old := !d.Received.Add(store.Granularity).After(cutoff)
			if d.Seq > cur.Cursor || !old {
				if old {
					a.ret.held[key] = cur.Number // a step looked before the version that holds it
				}
				done = true // not yet published, or not old enough: nor are the next
				break
			}
			if folded == retireBatch {
				done, more = true, true
				break
			}
			a.foldStored(state, s, d)
			next.Through = d.Seq
			if d.Received.After(next.Until) {
				next.Until = d.Received
			}
			folded++
		}
	}
	if next.Through == base.Through {
		return 0, false, nil
	}
	state.Cursor = next.Through
	if next.State, err = state.MarshalBinary(); err != nil {
		return 0, false, fmt.Errorf("publish: retention %s: %w", key, err)
	}
	start := time.Now()
	deleted, err = a.st.Retire(ctx, key, base.Through, next)
	if err != nil {
		return 0, false, fmt.Errorf("publish: retention %s: %w", key, err)
	}
	a.log.Info("retired deltas older than the retention window into the base checkpoint", "site", key,
		"deleted", deleted, "through", next.Through, "until", next.Until, "retention", a.ret.window,
		"base_bytes", len(next.State), "took", time.Since(start))
	return deleted, more, nil
}

// baseState decodes a base checkpoint (empty for none).
func baseState(b store.Base) (*aggregate.State, error) {
	state := aggregate.NewState()
	if len(b.State) == 0 {
		state.Cursor = b.Through
		return state, nil
	}
	if err := state.UnmarshalBinary(b.State); err != nil {
		return nil, fmt.Errorf("base checkpoint: %w", err)
	}
	return state, nil
}

// foldStored folds a stored delta into state as the aggregator folds it; a
// body that does not decode (which the aggregator skipped, counted) is
// skipped too, and reported false.
func (a *Aggregator) foldStored(state *aggregate.State, s *siteState, d *store.Delta) bool {
	var wd wire.Delta
	if err := wire.Unmarshal(d.Body, &wd, "delta"); err != nil {
		state.Cursor = max(state.Cursor, d.Seq)
		return false
	}
	state.Fold(&wd, d.Seq, d.Received, &s.params)
	return true
}

// errNoLeader is why a follower that does not lead refuses to write.
var errNoLeader = errors.New("publish: this replica does not lead the aggregation")
