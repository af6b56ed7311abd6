package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// DefaultLeversTTL is how long a Levers serves a site's settings before it
// reads them again: how long a lever pulled on one replica takes, at most,
// to act on another.
const DefaultLeversTTL = 2 * time.Second

// Levers reads and changes each site's levers (store.Settings): the pin
// that api.WithPin applies to GET /v1/model and the pause that
// publish.WithPaused applies to publication. They live in the store, so
// they survive a restart and every replica of a shared store applies them;
// each replica caches them for the TTL.
//
//	levers := console.NewLevers(st, console.DefaultLeversTTL, log)
//	agg, _ := publish.New(st, sites, publish.WithPaused(levers.Paused))
//	srv, _ := api.New(st, agg, sites, api.WithPin(levers.Pin), ...)
//
// # Notes
//
// Levers is goroutine-safe. Paused and Pin never fail: a store that cannot
// be read leaves the levers as last read (logged).
type Levers struct {
	st  store.Store
	ttl time.Duration
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	bySite map[string]cachedSettings
}

type cachedSettings struct {
	s  store.Settings
	at time.Time
}

// NewLevers returns the levers of the sites in st, cached for ttl.
func NewLevers(st store.Store, ttl time.Duration, log *slog.Logger) *Levers {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Levers{st: st, ttl: ttl, log: log, now: time.Now, bySite: map[string]cachedSettings{}}
}

// Paused reports whether the site's owner paused learning.
func (l *Levers) Paused(key string) bool { return l.cached(key).Paused }

// Pin returns the version the site's owner pinned, if any.
func (l *Levers) Pin(key string) (uint32, bool) {
	s := l.cached(key)
	return s.Pin, s.Pinned
}

// cached returns a site's settings, read again once older than the TTL.
func (l *Levers) cached(key string) store.Settings {
	l.mu.Lock()
	c, ok := l.bySite[key]
	l.mu.Unlock()
	if ok && l.now().Sub(c.at) < l.ttl {
		return c.s
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := l.Read(ctx, key)
	if err != nil {
		l.log.Warn("read the site's levers; keeping the last read", "site", key, "err", err)
		l.mu.Lock()
		l.bySite[key] = cachedSettings{s: c.s, at: l.now()} // retry after the TTL, not at every call
		l.mu.Unlock()
		return c.s
	}
	return s
}

// Read reads a site's settings from the store, and caches them.
func (l *Levers) Read(ctx context.Context, key string) (store.Settings, error) {
	s, err := l.st.Settings(ctx, key)
	if err != nil {
		return store.Settings{}, err
	}
	l.put(key, s)
	return s, nil
}

func (l *Levers) put(key string, s store.Settings) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.bySite[key]; ok && c.s.Rev > s.Rev {
		return // a newer read won
	}
	l.bySite[key] = cachedSettings{s: s, at: l.now()}
}

// changeAttempts bounds how often Change reads again after another
// replica changed the settings first.
const changeAttempts = 5

// Change applies change to a site's settings and logs entry in its audit
// log, in one write: read, change, put at the read revision, again from a
// fresh read if another replica wrote in between. change may refuse with
// an error, which Change returns (nothing written).
func (l *Levers) Change(ctx context.Context, key string, entry store.AuditEntry, change func(*store.Settings) error) (store.Settings, error) {
	for range changeAttempts {
		s, err := l.st.Settings(ctx, key)
		if err != nil {
			return s, err
		}
		if err := change(&s); err != nil {
			return s, err
		}
		s.Log(entry)
		err = l.st.PutSettings(ctx, key, s)
		if errors.Is(err, store.ErrSettingsMoved) {
			continue
		}
		if err != nil {
			return s, err
		}
		s.Rev++
		l.put(key, s)
		return s, nil
	}
	return store.Settings{}, fmt.Errorf("console: %s: %w %d times in a row", key, store.ErrSettingsMoved, changeAttempts)
}

// Site returns the site of the --sites file with its owner's edit of the
// rules and slot settings applied (the file's site when there is none, or
// when the stored edit no longer validates: logged).
func (l *Levers) Site(s *site.Site) *site.Site {
	return l.edited(s, l.cached(s.Key))
}

// SiteConfig returns the configuration devices get of a site, encoded
// (publish.WithSiteConfig): the file's, with its owner's edit applied.
func (l *Levers) SiteConfig(s *site.Site) []byte { return l.Site(s).ConfigBytes() }

// edited applies a site's stored edit to the file's site.
func (l *Levers) edited(s *site.Site, st store.Settings) *site.Site {
	if len(st.Config) == 0 {
		return s
	}
	var e site.Edit
	if err := json.Unmarshal(st.Config, &e); err != nil {
		l.log.Error("the site's stored configuration does not decode; serving the file's", "site", s.Key, "err", err)
		return s
	}
	edited, err := s.Edited(e)
	if err != nil {
		l.log.Error("the site's stored configuration is invalid; serving the file's", "site", s.Key, "err", err)
		return s
	}
	return edited
}
