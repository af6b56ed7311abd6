package publish_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/tailorhq/tailor/server/publish"
)

// TestPaused: a paused site gets no new version, even on Flush; its deltas
// are still folded (the arms count them) and the first version after the
// pause holds them.
func TestPaused(t *testing.T) {
	db := newStore(t)
	var paused atomic.Bool
	paused.Store(true)
	a := start(t, db, sites(t, 0.1), publish.WithPaused(func(key string) bool { return key == shop && paused.Load() }))
	defer a.Close(context.Background())
	for i := range 3 {
		appendDelta(t, db, i, "gown", "heels")
	}
	if v := flush(t, a); v.Number != 0 {
		t.Fatalf("paused: version %d published, want 0", v.Number)
	}
	if _, n, err := a.ArmsCounted(shop); err != nil || n != 3 {
		t.Fatalf("paused: %d deltas counted in the arms (%v), want 3", n, err)
	}
	paused.Store(false)
	if v := flush(t, a); v.Number != 1 || v.Deltas != 3 {
		t.Fatalf("resumed: version %d with %d deltas, want 1 with 3", v.Number, v.Deltas)
	}
}
