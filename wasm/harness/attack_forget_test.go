package harness_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestForgetLeavesNothingToSend is the attack of an operator who waits for
// the delta after tailor.forget(): the visitor clicked three items and was
// shown a ranking, then forgot before any sync. The real tailor.wasm must
// then have nothing to send; the next delta may name only what came after
// forget (no item, pair or arm count of before); and the saved profile
// holds no byte of the forgotten ids.
func TestForgetLeavesNothingToSend(t *testing.T) {
	in := initialized(t)
	before := []string{"secret-gown", "secret-heels", "secret-clutch"}
	at := t0
	for _, id := range before {
		if err := in.Track(event(wire.KindClick, id, "c", at)); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Minute)
	}
	cands := []wire.Item{{ID: "secret-gown", Category: "c"}, {ID: "secret-ring", Category: "c"}}
	if _, err := in.Rank(&wire.RankRequest{Slot: "home", Candidates: cands, Time: at.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if err := in.Forget(); err != nil {
		t.Fatal(err)
	}
	if d, err := in.TakeDelta(); err != nil || len(d) != 0 {
		t.Fatalf("after forget, a delta of %d bytes (%v), want none", len(d), err)
	}
	for i, id := range []string{"after-1", "after-2", "after-3"} {
		if err := in.Track(event(wire.KindClick, id, "c", at.Add(time.Duration(i+1)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	d := harnesstest.Delta(t, in)
	for _, c := range d.Items {
		if strings.HasPrefix(c.ID, "secret-") {
			t.Errorf("the delta after forget names %s", c.ID)
		}
	}
	for _, p := range d.Pairs {
		if strings.HasPrefix(p.From, "secret-") || strings.HasPrefix(p.To, "secret-") {
			t.Errorf("the delta after forget pairs %s -> %s", p.From, p.To)
		}
	}
	if len(d.Arms) != 0 {
		t.Errorf("the delta after forget counts arms %+v: the ranking was shown before", d.Arms)
	}
	saved, err := in.SaveProfile()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(saved, []byte("secret-")) {
		t.Errorf("the profile saved after forget holds a forgotten id")
	}
}
