package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// registryKey is the store.Settings record that holds the registry: a
// name no site can have (site keys have no surrounding spaces). Its
// Config is the site.Registry's JSON, its Audit the sites page's log.
const registryKey = " sites"

// Errors of the sites page.
var (
	ErrSiteExists = errors.New("console: a site with this key exists")
	ErrSiteForm   = errors.New("console: the site's form is not valid")
)

// Registry keeps the sites the console added and the owner tokens it
// rotated (site.Registry) in the store, and applies them to the served
// site.Set:
//
//	reg := console.NewRegistry(st, sites, levers, log)
//	err := reg.Load(ctx)  // before publish.New: added sites are served
//	go reg.Run(ctx, console.DefaultLeversTTL) // rotations on other replicas
//
// A site added is served at once by the replica that added it, and by the
// others within Run's period, once OnAdd gives the aggregator's AddSite
// (without it, from each server's next start: Load). A rotated owner
// token acts likewise: the old token opens nothing any more.
//
// # Notes
//
// A Registry is goroutine-safe.
type Registry struct {
	st     store.Store
	sites  *site.Set
	levers *Levers
	log    *slog.Logger
	file   map[string]bool // the keys of the --sites file

	mu      sync.Mutex
	reg     site.Registry // as last read
	started map[string]bool
	onAdd   func(ctx context.Context, s *site.Site) error
}

// OnAdd gives what starts serving a site added while the server runs:
// the aggregator's AddSite. The site joins the served set once it
// returns.
func (r *Registry) OnAdd(add func(ctx context.Context, s *site.Site) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onAdd = add
}

// NewRegistry returns the registry of the sites in set (those of the
// --sites file).
func NewRegistry(st store.Store, set *site.Set, levers *Levers, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{st: st, sites: set, levers: levers, log: log, file: map[string]bool{}, started: map[string]bool{}}
	for _, k := range set.Keys() {
		r.file[k], r.started[k] = true, true
	}
	return r
}

// read reads the registry from the store.
func (r *Registry) read(ctx context.Context) (site.Registry, store.Settings, error) {
	var reg site.Registry
	st, err := r.st.Settings(ctx, registryKey)
	if err != nil {
		return reg, st, err
	}
	if len(st.Config) > 0 {
		if err := json.Unmarshal(st.Config, &reg); err != nil {
			return reg, st, err
		}
	}
	return reg, st, nil
}

// Load reads the registry and serves its sites and rotated owner tokens:
// at a server's start, before the aggregator and the API take the sites.
// A site of the --sites file is never replaced by one the console added
// with the same key (a file provisioned later wins; logged).
func (r *Registry) Load(ctx context.Context) error {
	return r.apply(ctx, true)
}

// Refresh reads the registry again and applies what another replica
// changed since: rotated owner tokens, and added sites (with OnAdd; else
// they wait for the next start).
func (r *Registry) Refresh(ctx context.Context) error {
	return r.apply(ctx, false)
}

// Run refreshes the registry every period until ctx ends (errors logged).
func (r *Registry) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("console: read the sites registry; retrying", "err", err)
			}
		}
	}
}

func (r *Registry) apply(ctx context.Context, start bool) error {
	reg, _, err := r.read(ctx)
	if err != nil {
		return fmt.Errorf("console: sites registry: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reg = reg
	for _, s := range reg.Sites {
		switch {
		case r.file[s.Key]:
			if start {
				r.log.Warn("console: a site added in the console has the key of one in the --sites file; serving the file's", "site", s.Key)
			}
			continue
		case r.started[s.Key] || !start && r.onAdd == nil:
			continue
		}
		if h := reg.Owners[s.Key]; h != nil {
			s.OwnerHash = h
		}
		if !start {
			if err := r.onAdd(ctx, &s); err != nil {
				return err
			}
			r.log.Info("console: serving an added site", "site", s.Key)
		}
		if err := r.sites.Put(s); err != nil {
			return err
		}
		r.started[s.Key] = true
	}
	for key, h := range reg.Owners {
		cur, ok := r.sites.Get(key)
		if !ok || !r.started[key] || slices.Equal(cur.OwnerHash, h) {
			continue
		}
		s := *cur
		s.OwnerHash = h
		if err := r.sites.Put(s); err != nil {
			return err
		}
	}
	return nil
}

// change applies change to the registry in one write, logged in its
// audit log, and serves the result's owner tokens.
func (r *Registry) change(ctx context.Context, entry store.AuditEntry, change func(*site.Registry) error) error {
	var reg site.Registry
	_, err := r.levers.Change(ctx, registryKey, entry, func(st *store.Settings) error {
		reg = site.Registry{}
		if len(st.Config) > 0 {
			if err := json.Unmarshal(st.Config, &reg); err != nil {
				return err
			}
		}
		if reg.Owners == nil {
			reg.Owners = map[string][]byte{}
		}
		if err := change(&reg); err != nil {
			return err
		}
		js, err := json.Marshal(reg)
		st.Config = js
		return err
	})
	if err != nil {
		return err
	}
	return r.apply(ctx, false)
}

// Add adds a site: served at once with OnAdd, else from each server's
// next start.
func (r *Registry) Add(ctx context.Context, s site.Site, who string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	entry := store.AuditEntry{At: time.Now().UTC(), Who: who, Action: "add site",
		Detail: fmt.Sprintf("%s (%s, origins %v)", s.Key, site.PrivacyName(s.Privacy), s.Origins)}
	return r.change(ctx, entry, func(reg *site.Registry) error {
		if _, served := r.sites.Get(s.Key); served || slices.ContainsFunc(reg.Sites, func(x site.Site) bool { return x.Key == s.Key }) {
			return fmt.Errorf("%w: %q", ErrSiteExists, s.Key)
		}
		reg.Sites = append(reg.Sites, s)
		return nil
	})
}

// Rotate replaces a site's owner token by the one whose SHA-256 is hash:
// the old token opens nothing once this replica, and then every replica,
// applies it.
func (r *Registry) Rotate(ctx context.Context, key string, hash []byte, who string) error {
	entry := store.AuditEntry{At: time.Now().UTC(), Who: who, Action: "rotate owner token", Detail: key}
	return r.change(ctx, entry, func(reg *site.Registry) error {
		reg.Owners[key] = hash
		return nil
	})
}

// SiteState is how the sites page lists a site.
type SiteState struct {
	Site     *site.Site
	FromFile bool // from the --sites file
	Pending  bool // added in the console, served from the next start
	Rotated  bool // its owner token was rotated in the console
}

// List returns the served sites, then those waiting for a start.
func (r *Registry) List() []SiteState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []SiteState
	for _, k := range r.sites.Keys() {
		s, _ := r.sites.Get(k)
		out = append(out, SiteState{Site: s, FromFile: r.file[k], Rotated: r.reg.Owners[k] != nil})
	}
	for i := range r.reg.Sites {
		if s := &r.reg.Sites[i]; !r.started[s.Key] && !r.file[s.Key] {
			out = append(out, SiteState{Site: s, Pending: true, Rotated: r.reg.Owners[s.Key] != nil})
		}
	}
	return out
}

// State returns how the sites page lists one site.
func (r *Registry) State(key string) (SiteState, bool) {
	for _, s := range r.List() {
		if s.Site.Key == key {
			return s, true
		}
	}
	return SiteState{}, false
}

// Audit returns the sites page's log, newest first.
func (r *Registry) Audit(ctx context.Context) ([]store.AuditEntry, error) {
	st, err := r.st.Settings(ctx, registryKey)
	if err != nil {
		return nil, err
	}
	slices.Reverse(st.Audit)
	return st.Audit, nil
}
