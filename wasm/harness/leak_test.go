package harness_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestLongLivedInstanceStaysBounded replays 120,000 events and 17,000
// rankings on one instance, as a long browser session or a simulation that
// reuses instances would. A reactor's goroutines run only inside export
// calls; before the guest yielded to them at the end of each call, a GC
// cycle started here never finished and memory ran out after ~90,000
// events.
func TestLongLivedInstanceStaysBounded(t *testing.T) {
	in := harnesstest.Instance(t)
	var peak uint32
	for round := 0; round < 400; round++ {
		if err := in.Init(cfg()); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var cands []wire.Item
		for i := 0; i < 300; i++ {
			b := byte(i * 7)
			it := wire.Item{ID: fmt.Sprintf("item-%d", b%40), Category: "c", Price: float32(b)}
			cands = append(cands, it)
			at = at.Add(time.Duration(b) * 20 * time.Second)
			if err := in.Track(&wire.Event{Kind: wire.KindClick, Time: at.UnixMilli(), Item: &it}); err != nil {
				t.Fatalf("round %d event %d: %v", round, i, err)
			}
			if i%7 == 6 {
				if _, err := in.Rank(&wire.RankRequest{Slot: "s", Candidates: cands, Limit: 5, Time: at.UnixMilli()}); err != nil {
					t.Fatalf("round %d rank %d: %v", round, i, err)
				}
			}
		}
		peak = max(peak, in.MemorySize())
	}
	if peak > 16<<20 {
		t.Errorf("instance memory peaked at %d bytes, want <= 16 MiB", peak)
	}
}
