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

// SyncHours returns a site's syncs accepted and refused in each of the
// last SyncHoursKept hours, oldest first, the current hour last, as this
// server counted them. Hours, not minutes: the store keeps when a delta
// arrived only to the hour, and a console must not tell a site's owner
// more of when a visitor's device synced.
func (s *Server) SyncHours(key string) []HourSyncs {
	return s.siteSyncs.hours(key, time.Now())
}

// SyncHoursKept is how many hours SyncHours covers.
const SyncHoursKept = 24

// HourSyncs is the syncs of a site in one hour.
type HourSyncs struct {
	Hour     time.Time // its start, UTC
	Accepted uint64    // accepted, duplicates included
	Refused  uint64
}

// siteSyncs counts syncs by site and reason, and by hour, for known sites
// only: the keys a client sends cannot grow the maps.
type siteSyncs struct {
	mu     sync.Mutex
	n      map[string]map[string]uint64
	byHour map[string]*[SyncHoursKept]HourSyncs // ring by hour since the epoch
}

func (c *siteSyncs) add(key, reason string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n, c.byHour = map[string]map[string]uint64{}, map[string]*[SyncHoursKept]HourSyncs{}
	}
	m := c.n[key]
	if m == nil {
		m = map[string]uint64{}
		c.n[key] = m
		c.byHour[key] = new([SyncHoursKept]HourSyncs)
	}
	m[reason]++
	hour := now.UTC().Truncate(time.Hour)
	b := &c.byHour[key][hourSlot(hour)]
	if !b.Hour.Equal(hour) {
		*b = HourSyncs{Hour: hour}
	}
	if reason == reasonAccepted || reason == reasonDuplicate {
		b.Accepted++
	} else {
		b.Refused++
	}
}

func hourSlot(hour time.Time) int { return int(hour.Unix() / 3600 % SyncHoursKept) }

func (c *siteSyncs) hours(key string, now time.Time) []HourSyncs {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]HourSyncs, SyncHoursKept)
	last := now.UTC().Truncate(time.Hour)
	for i := range out {
		hour := last.Add(-time.Duration(SyncHoursKept-1-i) * time.Hour)
		out[i] = HourSyncs{Hour: hour}
		if ring := c.byHour[key]; ring != nil && ring[hourSlot(hour)].Hour.Equal(hour) {
			out[i] = ring[hourSlot(hour)]
		}
	}
	return out
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
