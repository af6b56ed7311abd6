package publish_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
)

// TestHandoff: the leader folds the value offered for a stored delta
// whose site and bytes are the ones offered, and decodes the stored body
// otherwise: other bytes, withdrawn, offered twice under one id (the
// first stays), past the bound, or offered to a follower (which keeps
// nothing). Each delta's body says 1 impression and the value offered
// 7, so the arm's total tells which was folded. (The API offers only
// the value its body encodes; the test breaks that to see the choice.)
func TestHandoff(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	a := start(t, st, sites(t, 0))
	t.Cleanup(func() { a.Close(ctx) })
	n := 0
	delta := func(impressions uint32) wire.Delta {
		n++
		d := wire.Delta{Site: shop, Items: []wire.Count{{ID: "gown", N: 1}},
			Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: impressions}}}
		copy(d.ID[:], fmt.Sprintf("handoff-%08d", n))
		return d
	}
	impressions := func() uint64 {
		arms, err := a.Arms(shop)
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for _, v := range arms {
			sum += v[wire.ArmTreatment].Impressions
		}
		return sum
	}
	for _, tc := range []struct {
		name  string
		offer func(stored, offered *wire.Delta, body []byte) // before the append of stored's body
		want  uint64                                         // impressions folded
	}{
		{"offered", func(_, o *wire.Delta, body []byte) { a.Offer(o, body) }, 7},
		{"other bytes", func(_, o *wire.Delta, _ []byte) { a.Offer(o, wire.Marshal(o)) }, 1},
		{"withdrawn", func(_, o *wire.Delta, body []byte) {
			if a.Offer(o, body) {
				a.Withdraw(o)
			}
		}, 1},
		{"another withdrawn", func(s, o *wire.Delta, body []byte) {
			a.Offer(o, body)
			a.Withdraw(s) // not the value offered under the id: o stays
		}, 7},
		{"offered twice", func(s, o *wire.Delta, body []byte) {
			a.Offer(s, body)
			if a.Offer(o, body) {
				t.Error("a second value under one id was kept")
			}
		}, 1},
		{"past the bound", func(_, o *wire.Delta, body []byte) {
			a.Offer(o, body)
			for range 2 * 1000 {
				other := delta(0)
				a.Offer(&other, wire.Marshal(&other))
			}
		}, 1},
		{"not offered", func(*wire.Delta, *wire.Delta, []byte) {}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored := delta(1)
			offered := stored
			offered.Arms = []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 7}}
			body := wire.Marshal(&stored)
			before := impressions()
			tc.offer(&stored, &offered, body)
			if _, err := st.Append(ctx, store.Delta{Site: shop, ID: stored.ID, Received: time.Now(), Body: body}); err != nil {
				t.Fatal(err)
			}
			if err := a.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := impressions() - before; got != tc.want {
				t.Errorf("folded %d impressions, want %d", got, tc.want)
			}
		})
	}
	t.Run("follower", func(t *testing.T) {
		f := follower(t, st, sites(t, 0))
		d := delta(1)
		if f.Offer(&d, wire.Marshal(&d)) {
			t.Error("a follower kept an offered delta")
		}
	})
}
