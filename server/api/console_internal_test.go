package api

import (
	"testing"
	"time"
)

// TestSiteSyncsRing: an hour's slot is reused a day later, its old counts
// dropped, and hours without syncs are zero.
func TestSiteSyncsRing(t *testing.T) {
	var c siteSyncs
	t0 := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	c.add("shop", reasonAccepted, t0)
	c.add("shop", "negative_weight", t0.Add(time.Hour))
	c.add("shop", reasonDuplicate, t0.Add(24*time.Hour)) // the slot of t0, a day later
	got := c.hours("shop", t0.Add(24*time.Hour))
	if len(got) != SyncHoursKept {
		t.Fatalf("%d hours", len(got))
	}
	first, last := got[0], got[SyncHoursKept-1]
	if !last.Hour.Equal(t0.Add(24*time.Hour).Truncate(time.Hour)) || last.Accepted != 1 || last.Refused != 0 {
		t.Errorf("the current hour: %+v, want 1 accepted", last)
	}
	if !first.Hour.Equal(t0.Add(time.Hour).Truncate(time.Hour)) || first.Refused != 1 || first.Accepted != 0 {
		t.Errorf("the oldest hour: %+v, want 10:00 with 1 refused", first)
	}
	for _, h := range got[1 : SyncHoursKept-1] {
		if h.Accepted+h.Refused != 0 {
			t.Errorf("hour %v: %+v, want none", h.Hour, h)
		}
	}
	if other := c.hours("other", t0); other[SyncHoursKept-1].Accepted != 0 {
		t.Errorf("another site: %+v", other)
	}
}
