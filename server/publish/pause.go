package publish

// WithPaused lets the site's owner pause learning: while paused(key)
// reports true, the aggregator publishes no new version of the site (not
// on Flush nor on Close either). Deltas are still accepted, stored and
// folded, so the uplift counts keep moving, and the next version after the
// pause holds them (unless the owner purges their window).
//
// paused is called under the aggregator's lock at every step, for every
// site with deltas pending: it must be quick (a cached lookup), and may
// read the store at most now and then.
func WithPaused(paused func(key string) bool) Option {
	return func(a *Aggregator) error {
		a.paused = paused
		return nil
	}
}

// isPaused reports whether learning is paused for the site.
func (a *Aggregator) isPaused(key string) bool { return a.paused != nil && a.paused(key) }
