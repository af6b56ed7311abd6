package api

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
)

// ConsolePath is where WithConsole mounts the site owner's console.
const ConsolePath = "/console"

// WithConsole serves h, the site owner's console (package console), at
// /console and below. It is the only handler whose cookies reach the
// browser, and only its own (Path=/console): visitors get none.
func WithConsole(h http.Handler) Option {
	return func(s *Server) error {
		s.console = h
		return nil
	}
}

// WithPin lets the site's owner roll the model back: while pin(key)
// reports a version, GET /v1/model without ?version= serves that version's
// manifest to devices instead of the newest (one newer than the newest is
// ignored). pin is called on every manifest request: it must be quick.
func WithPin(pin func(key string) (uint32, bool)) Option {
	return func(s *Server) error {
		s.pin = pin
		return nil
	}
}

// inConsole reports whether a path is the console's.
func inConsole(path string) bool {
	return path == ConsolePath || strings.HasPrefix(path, ConsolePath+"/")
}

// Released returns what GET /v1/stats would serve of a site now: the arms'
// counts by model version of the current release, the deltas counted in
// it and when it was taken (zero before the first). The console shows the
// same batches, so that it tells an owner no more than the API does.
func (s *Server) Released(key string) (arms map[uint32]aggregate.Arms, deltas uint64, at time.Time, err error) {
	rel, err := s.stats.get(key, time.Now(), s.agg.ArmsCounted)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	return rel.arms, rel.deltas, rel.at, nil
}

// SyncCounts returns a site's syncs since this server started, by reason
// token (accepted, duplicate, and the refusals of a delta that named the
// site). Each replica counts its own; /metrics has the totals of every
// refusal, those of deltas that named no known site included.
func (s *Server) SyncCounts(key string) map[string]uint64 {
	return s.siteSyncs.get(key)
}

// siteSyncs counts syncs by site and reason, for known sites only: the
// keys a client sends cannot grow the map.
type siteSyncs struct {
	mu sync.Mutex
	n  map[string]map[string]uint64
}

func (c *siteSyncs) add(key, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]map[string]uint64{}
	}
	m := c.n[key]
	if m == nil {
		m = map[string]uint64{}
		c.n[key] = m
	}
	m[reason]++
}

func (c *siteSyncs) get(key string) map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.n[key]))
	for r, n := range c.n[key] {
		out[r] = n
	}
	return out
}
