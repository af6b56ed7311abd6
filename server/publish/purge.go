package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/store"
)

// Errors of Purge.
var (
	ErrPurgeWindow   = errors.New("publish: purge: invalid window")
	ErrPurgeMismatch = errors.New("publish: purge: the site's configuration or the aggregation parameters differ from the latest version's")
	ErrPurgeBudget   = errors.New("publish: purge: the central DP budget of the window is spent: no version can be published now")
)

// purgeAttempts bounds how often Purge publishes again after another
// aggregator published the same version number first.
const purgeAttempts = 10

// PurgeReport is what Purge did.
type PurgeReport struct {
	Site     string
	From, To time.Time     // the window purged, widened to whole hours (the store's Granularity)
	Deleted  int           // deltas received in the window, deleted
	Folded   int           // deltas still stored, folded over the base into the rebuilt aggregate
	Version  store.Version // the version published from it
}

// Purge takes the deltas a site received in [from, to) out of its model:
// it deletes them from the store, rebuilds the aggregate as the site's
// base checkpoint plus every delta still stored, and publishes it as a new
// version. The window is widened to whole hours, since the store records
// arrivals to the hour, and must have ended.
//
//	r, err := agg.Purge(ctx, "demo", from, to)
//
// Earlier versions are immutable and keep the purged deltas' influence; a
// client gets them only by asking for their number. Deltas older than the
// retention window are already in the base, beyond reach: a window that
// starts before the base's newest hour fails with store.ErrRetired (their
// influence decays instead). Purging again is harmless: a purge that
// failed after deleting publishes the rebuilt version when run again.
//
// # Notes
//
// Purge runs on an aggregator that is not started (a tool's: the
// `tailor-server purge` command), or on the leading one. Against a store
// shared by replicas, it needs no lock: the store deletes atomically, and
// version numbers fence publications. When the leader publishes first,
// Purge folds the deltas logged since its rebuild and publishes the next
// number; the leader's next publication then fails, and it restores from
// the purged checkpoint, within its publication interval.
func (a *Aggregator) Purge(ctx context.Context, key string, from, to time.Time) (PurgeReport, error) {
	r := PurgeReport{Site: key, From: store.Coarse(from), To: store.Coarse(to)}
	if r.To.Before(to) {
		r.To = r.To.Add(store.Granularity)
	}
	switch {
	case !from.Before(to):
		return r, fmt.Errorf("%w: from %s is not before to %s", ErrPurgeWindow, from.Format(time.RFC3339), to.Format(time.RFC3339))
	case r.To.After(a.now()):
		return r, fmt.Errorf("%w: it must have ended (it ends at %s, widened to the hour; now is %s)",
			ErrPurgeWindow, r.To.Format(time.RFC3339), a.now().UTC().Format(time.RFC3339))
	case r.From.Year() < 2000:
		return r, fmt.Errorf("%w: from %s is before 2000", ErrPurgeWindow, from.Format(time.RFC3339))
	}
	s := a.lookup(key)
	if s == nil {
		return r, fmt.Errorf("%w: %q", ErrUnknownSite, key)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started && !a.leadingNow() {
		return r, errNoLeader
	}
	// Refuse a tool run with other flags than the server's before
	// deleting anything.
	latest, err := a.st.Latest(ctx, key)
	if err != nil {
		return r, fmt.Errorf("publish: purge %s: %w", key, err)
	}
	if err := a.publishable(ctx, s, &latest); err != nil {
		return r, err
	}
	n, err := a.st.DeleteReceived(ctx, key, r.From, r.To)
	if err != nil {
		return r, fmt.Errorf("publish: purge %s: %w", key, err)
	}
	r.Deleted = n
	a.log.Info("purge: deleted the window's deltas", "site", key, "from", r.From, "to", r.To, "deleted", n)
	state, base, folded, err := a.rebuild(ctx, s)
	if err != nil {
		return r, fmt.Errorf("publish: purge %s: %w", key, err)
	}
	r.Folded = folded
	for attempt := 1; ; attempt++ {
		latest, err := a.st.Latest(ctx, key)
		if err != nil {
			return r, fmt.Errorf("publish: purge %s: %w", key, err)
		}
		if err := a.publishable(ctx, s, &latest); err != nil {
			return r, fmt.Errorf("%w (the window's deltas are deleted: purge again once it can publish)", err)
		}
		s.current.Store(&latest)
		s.state, s.pending = state, 0
		err = a.publishNext(ctx, s)
		if !errors.Is(err, store.ErrVersionExists) || attempt == purgeAttempts {
			if err != nil {
				return r, err
			}
			if v := s.current.Load(); v.Number != latest.Number+1 {
				return r, fmt.Errorf("%w (the window's deltas are deleted: purge again once it can publish)", ErrPurgeBudget)
			}
			r.Version = *s.current.Load()
			return r, a.compactAfterPurge(ctx)
		}
		// Another aggregator published first: fold what it folded since, or
		// rebuild if retention moved the base meanwhile.
		a.log.Info("purge: another aggregator published meanwhile; catching up to publish the next version",
			"site", key, "attempt", attempt)
		n, err := a.foldAfter(ctx, s, state)
		if err == nil {
			var now store.Base
			if now, err = a.st.Base(ctx, key); err == nil && now.Through != base.Through {
				state, base, n, err = a.rebuild(ctx, s)
				r.Folded = 0
			}
		}
		if err != nil {
			return r, fmt.Errorf("publish: purge %s: %w", key, err)
		}
		r.Folded += n
	}
}

// Rebuild returns a site's aggregate rebuilt from the store as its base
// checkpoint plus every delta still stored: what Purge publishes. Without
// a purge, it matches the checkpoint of a version holding every stored
// delta (up to the order of float additions).
func (a *Aggregator) Rebuild(ctx context.Context, key string) (*aggregate.State, error) {
	s := a.lookup(key)
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSite, key)
	}
	state, _, _, err := a.rebuild(ctx, s)
	return state, err
}

// rebuild returns the site's base checkpoint plus every delta stored, the
// base it started from, and how many deltas it folded. Should retention
// move the base while it reads (deltas it had not read yet may be gone),
// it starts over.
func (a *Aggregator) rebuild(ctx context.Context, s *siteState) (*aggregate.State, store.Base, int, error) {
	for attempt := 1; ; attempt++ {
		base, err := a.st.Base(ctx, s.site.Key)
		if err != nil {
			return nil, base, 0, err
		}
		state, err := baseState(base)
		if err != nil {
			return nil, base, 0, err
		}
		a.log.Info("rebuilding the aggregate from the base checkpoint and the deltas stored", "site", s.site.Key,
			"base_through", base.Through, "base_until", base.Until)
		n, err := a.foldAfter(ctx, s, state)
		if err != nil {
			return nil, base, 0, err
		}
		now, err := a.st.Base(ctx, s.site.Key)
		if err != nil {
			return nil, base, 0, err
		}
		if now.Through == base.Through {
			return state, base, n, nil
		}
		if attempt == purgeAttempts {
			return nil, base, 0, fmt.Errorf("the base checkpoint moved during each of %d rebuilds", attempt)
		}
	}
}

// compactAfterPurge compacts a store that keeps deleted bytes in free
// pages, so that nothing of the purged deltas remains in it (even when
// this run deleted nothing: it may retry a purge whose compaction failed).
func (a *Aggregator) compactAfterPurge(ctx context.Context) error {
	c, ok := a.st.(store.Compactor)
	if !ok {
		return nil
	}
	start := time.Now()
	if err := c.Compact(ctx); err != nil {
		return fmt.Errorf("publish: purge: the new version is published, but compacting the store failed (purge again to retry): %w", err)
	}
	a.log.Info("purge: compacted the store, so that nothing of the deleted deltas remains in it", "took", time.Since(start))
	return nil
}

// foldAfter folds the site's deltas stored after state's cursor into state,
// logging progress, and returns how many it folded.
func (a *Aggregator) foldAfter(ctx context.Context, s *siteState, state *aggregate.State) (int, error) {
	const every = 100_000
	n := 0
	for {
		ds, err := a.st.Deltas(ctx, s.site.Key, state.Cursor, foldBatch)
		if err != nil {
			return n, err
		}
		for i := range ds {
			a.foldStored(state, s, &ds[i])
			if n++; n%every == 0 {
				a.log.Info("rebuilding", "site", s.site.Key, "folded", n, "cursor", state.Cursor)
			}
		}
		if len(ds) < foldBatch {
			return n, nil
		}
	}
}

// publishable fails unless the version after v can be published as the
// server would: v was published with this aggregator's site
// configuration, clipping, decay and noise (a purge run with other flags
// than the server's would publish a different model), and, with central
// DP, the window's budget has room for one more release (the ledger is
// read from the versions' manifests). The caller holds mu.
func (a *Aggregator) publishable(ctx context.Context, s *siteState, v *store.Version) error {
	if v.Config != s.configHash {
		return fmt.Errorf("%w: site %s's configuration is not the one of version %d (give purge the server's --sites)",
			ErrPurgeMismatch, s.site.Key, v.Number)
	}
	p, q := s.params.Privacy(0), v.Privacy
	if p.MinCohort != q.MinCohort || p.ClipWeight != q.ClipWeight || p.ClipItem != q.ClipItem || p.ClipL1 != q.ClipL1 ||
		p.HalfLife != q.HalfLife || p.Noise != q.Noise {
		return fmt.Errorf("%w: version %d was aggregated with k %d, clip %v/%v/%v, half-life %s, noise %s; this purge with k %d, clip %v/%v/%v, half-life %s, noise %s (give purge the server's flags)",
			ErrPurgeMismatch, v.Number, q.MinCohort, q.ClipWeight, q.ClipItem, q.ClipL1, q.HalfLife, q.Noise,
			p.MinCohort, p.ClipWeight, p.ClipItem, p.ClipL1, p.HalfLife, p.Noise)
	}
	if s.params.Noise != aggregate.NoiseGaussian || s.params.LDPEpsilon > 0 {
		return nil
	}
	if err := a.readLedger(ctx, s, *v); err != nil {
		return err
	}
	if s.spent(a.now(), s.params.DPWindow)+s.params.Rho() > s.params.RhoBudget()*(1+1e-9) {
		return fmt.Errorf("%w (%d releases in the last %v)", ErrPurgeBudget, len(s.ledger), s.params.DPWindow)
	}
	return nil
}
