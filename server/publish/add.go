package publish

import (
	"context"
	"fmt"

	"github.com/tailorhq/tailor/server/site"
)

// AddSite starts aggregating a site added while the aggregator runs (the
// console's sites page): a leader restores it from the store as Start
// does (publishing its version 0 when it has none), a follower follows
// its versions. A site already aggregated is left as it is.
//
// # Notes
//
// AddSite waits for the aggregator's lock: for a step in progress.
func (a *Aggregator) AddSite(ctx context.Context, s *site.Site) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lookup(s.Key) != nil {
		return nil
	}
	st := a.newSiteState(s)
	if a.started {
		var err error
		if a.leadingNow() {
			lead, stop := leaderContext(ctx, a.lead)
			err = a.open(lead, st)
			stop()
		} else {
			err = a.follow(ctx, st)
		}
		if err != nil {
			return fmt.Errorf("publish: add site %s: %w", s.Key, err)
		}
	}
	a.sitesMu.Lock()
	defer a.sitesMu.Unlock()
	a.sites[s.Key] = st
	a.keys = append(a.keys, s.Key)
	return nil
}

// lookup returns a site's state, nil for an unknown site; it needs no
// lock (AddSite may add one meanwhile).
func (a *Aggregator) lookup(key string) *siteState {
	a.sitesMu.RLock()
	defer a.sitesMu.RUnlock()
	return a.sites[key]
}
