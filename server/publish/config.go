package publish

import (
	"context"
	"fmt"

	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// WithSiteConfig lets the site's owner change the configuration devices
// get (rules, slot settings: the console's rules page) without a restart.
// config(s) returns the configuration of the site s of the --sites file
// as devices should receive it now (site.ConfigBytes of the site with the
// owner's edit applied; nil or empty: the file's).
//
// When it differs from the newest version's, the leader publishes a
// configuration version: the newest version's weights, counts and
// checkpoint under the next number, with the new configuration. It
// releases nothing newly learned, so neither a pause nor the central DP
// budget holds it back, and devices download only the configuration (the
// shards keep their URLs).
//
// config is called under the aggregator's lock at every step, for every
// site: it must be quick (a cached lookup).
func WithSiteConfig(config func(s *site.Site) []byte) Option {
	return func(a *Aggregator) error {
		a.config = config
		return nil
	}
}

// refreshConfig takes up the owner's configuration of a site, if it
// changed; the caller holds mu or has not started.
func (a *Aggregator) refreshConfig(s *siteState) {
	if a.config == nil {
		return
	}
	cfg := a.config(s.site)
	if len(cfg) == 0 {
		cfg = s.site.ConfigBytes()
	}
	if h := store.Hash(cfg); h != s.configHash {
		s.config, s.configHash = cfg, h
	}
}

// publishConfig publishes a configuration version when the site's
// configuration is not the newest version's; the caller holds mu.
func (a *Aggregator) publishConfig(ctx context.Context, s *siteState) error {
	cur := s.current.Load()
	if cur == nil || cur.Config == s.configHash {
		return nil
	}
	key := s.site.Key
	state, err := a.st.State(ctx, key) // the checkpoint at cur.Cursor
	if err != nil {
		return fmt.Errorf("publish: %s: configuration version: %w", key, err)
	}
	v := *cur
	v.Number, v.Created, v.New, v.Config = cur.Number+1, a.now().UTC(), 0, s.configHash
	v.Shards = append([]store.Shard(nil), cur.Shards...)
	v.Privacy.Rho = 0 // no new release: the ledger must not count the weights twice
	err = a.st.Publish(ctx, store.Publication{Version: v, Blobs: map[string][]byte{s.configHash: s.config}, State: state})
	if err != nil {
		return fmt.Errorf("publish: %s: %w", key, err)
	}
	s.current.Store(&v)
	a.log.Info("published configuration version", "site", key, "version", v.Number, "config", v.Config)
	return nil
}
