package device_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/device"
	"github.com/tailorhq/tailor/sdk/internal/testclock"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// A store of running gear and dresses, each kind's items going with each
// other in the weights, as many shoppers' sessions would teach.
var (
	running = []wire.Item{
		{ID: "shoe-1", Category: "running-shoes", Tags: []string{"running"}, Price: 120},
		{ID: "shoe-2", Category: "running-shoes", Tags: []string{"running"}, Price: 140},
		{ID: "watch-1", Category: "gps-watches", Tags: []string{"running"}, Price: 250},
		{ID: "watch-2", Category: "gps-watches", Tags: []string{"running"}, Price: 300},
		{ID: "rsock-1", Category: "running-socks", Tags: []string{"running"}, Price: 15},
		{ID: "gel-1", Category: "energy-gels", Tags: []string{"running"}, Price: 20},
		{ID: "shorts-1", Category: "running-apparel", Tags: []string{"running"}, Price: 35},
		{ID: "cap-1", Category: "running-apparel", Tags: []string{"running"}, Price: 25},
	}
	dresses = []wire.Item{
		{ID: "dress-1", Category: "office-dresses", Tags: []string{"dress"}, Price: 90},
		{ID: "dress-2", Category: "office-dresses", Tags: []string{"dress"}, Price: 110},
		{ID: "dress-3", Category: "office-dresses", Tags: []string{"dress"}, Price: 95},
		{ID: "gown-7", Category: "evening-gowns", Tags: []string{"dress", "formal"}, Price: 180},
		{ID: "gown-8", Category: "evening-gowns", Tags: []string{"dress", "formal"}, Price: 210},
		{ID: "gown-9", Category: "evening-gowns", Tags: []string{"dress", "formal"}, Price: 160},
	}
)

// storeWeights links every item to the others of its kind.
func storeWeights() *wire.Weights {
	w := &wire.Weights{Version: 5}
	for _, kind := range [][]wire.Item{running, dresses} {
		for _, a := range kind {
			iw := wire.ItemWeights{ID: a.ID, Pop: 0.5}
			for _, b := range kind {
				if b.ID != a.ID {
					iw.Next = append(iw.Next, wire.Neighbor{ID: b.ID, W: 0.5})
				}
			}
			w.Items = append(w.Items, iw)
		}
	}
	return w
}

// shop is one session of a visitor on day day: he views each item and
// clicks through to the next, reading each for dwell seconds (0: a
// glance); he buys the last one when buy is set.
func shop(d *device.Device, day float64, dwell int, buy bool, items ...wire.Item) {
	m := day * 24 * 60
	for _, it := range items {
		d.Track(&wire.Event{Kind: wire.KindView, Time: testclock.At(m), Item: &it})
		if dwell > 0 {
			d.Track(&wire.Event{Kind: wire.KindDwell, Time: testclock.At(m + 1), Item: &it, Dwell: uint32(dwell * 1000)})
		}
		d.Track(&wire.Event{Kind: wire.KindClick, Time: testclock.At(m + 2), Item: &it})
		m += 3
	}
	if buy {
		it := items[len(items)-1]
		d.Track(&wire.Event{Kind: wire.KindCart, Time: testclock.At(m), Item: &it})
		d.Track(&wire.Event{Kind: wire.KindPurchase, Time: testclock.At(m + 1), Item: &it})
	}
}

// home ranks the whole store for a home page at minute m of day day.
func home(d *device.Device, day, m float64, diversity float32) wire.RankResult {
	d.Config().Diversity = diversity
	return d.Rank(&wire.RankRequest{Slot: "home-recs", Candidates: append(append([]wire.Item(nil), dresses...), running...),
		Limit: 8, Time: testclock.At(day*24*60 + m)})
}

// kinds counts the running and dress items among the first n of res.
func kinds(res wire.RankResult, n int) (run, dress int) {
	for _, it := range res.Items[:n] {
		if strings.HasPrefix(it.ID, "dress") || strings.HasPrefix(it.ID, "gown") {
			dress++
		} else {
			run++
		}
	}
	return run, dress
}

func show(res wire.RankResult) string {
	var b strings.Builder
	for _, it := range res.Items {
		fmt.Fprintf(&b, " %s(%.3f %v %s)", it.ID, it.Score, it.Reason, it.Ref)
	}
	return b.String()
}

// TestGiftBuyer is issue 12's gift buyer: weeks of running interest, then
// one session of dresses ending in a purchase (a gift). In that session
// the dresses lead (his intent now); on his next visit his running
// interests lead again and the dresses are at most a minority. A visitor
// who switches to dresses for good (three sessions) does get dresses.
func TestGiftBuyer(t *testing.T) {
	for _, diversity := range []float32{0, 0.1} {
		t.Run(fmt.Sprint("diversity ", diversity), func(t *testing.T) {
			// Weeks of running, a glance at a few items each visit.
			runner := func() *device.Device {
				d := device.New(federated(), seeded(3))
				d.ApplyWeights(storeWeights())
				shop(d, 0, 0, false, running[0], running[2])
				shop(d, 4, 0, false, running[1], running[4])
				shop(d, 9, 0, false, running[0], running[5])
				return d
			}

			// The gift: a long look at five dresses, the last one bought.
			d := runner()
			shop(d, 14, 30, true, dresses[0], dresses[3], dresses[2], dresses[4], dresses[1])
			if r, dr := kinds(home(d, 14, 30, diversity), 3); dr < 2 {
				t.Errorf("in the gift session: %d running, %d dresses in the top 3, want the dresses he is looking at to lead", r, dr)
			}
			for _, m := range []float64{0, 10} { // a new visit: its home page, then after a look at his shoes
				if m > 0 {
					shop(d, 16, 0, false, running[0])
				}
				res := home(d, 16, m+1, diversity)
				r, dr := kinds(res, 8)
				if r3, _ := kinds(res, 3); r3 < 3 || dr > 3 {
					t.Errorf("next visit, minute %v: top 3 hold %d running, top 8 %d running and %d dresses; want running leading, dresses a minority:%s", m, r3, r, dr, show(res))
				}
			}

			// Dresses in three later visits: his interest now.
			d = runner()
			for day := 14.0; day < 17; day++ {
				shop(d, day, 0, false, dresses[int(day)%3], dresses[3+int(day)%3])
			}
			res := home(d, 18, 0, diversity)
			if _, dr := kinds(res, 3); dr < 2 {
				t.Errorf("after three dress sessions: %d dresses in the top 3, want them to lead:%s", dr, show(res))
			}
			if p := d.Profile(); p.Visits != 7 || len(p.Intent) != 0 {
				t.Errorf("profile: %d visits, intent %v; want 7 (the home page's new one) and its empty intent", p.Visits, p.Intent)
			}
		})
	}
}

// TestOneSessionWeighsOne checks what a session leaves when it ends:
// its items add 1 in all to what lasts and its strongest affinity 1,
// however intense (a purchase), and what lasted before fades by
// profile.Carry, and by time.
func TestOneSessionWeighsOne(t *testing.T) {
	d := device.New(federated(), seeded(1))
	shop(d, 0, 20, false, running[0], running[1])
	shop(d, 1, 20, true, dresses[0])
	shop(d, 2, 20, false, running[2])
	p := d.Profile()
	now := testclock.At(2 * 24 * 60)
	older := profile.Carry * profile.Decay(1, testclock.At(24*60), now, profile.HalfLife) // ended a visit earlier, a day earlier
	for _, tc := range []struct {
		table profile.Table
		key   string
		want  float32
	}{
		{p.History, "dress-1", 1},                  // bought, alone in its session: 1 however strong
		{p.History, "shoe-1", older / 2},           // shares its session's 1 with shoe-2
		{p.Traits, "cat:office-dresses", 1},        // the gift session's category
		{p.Traits, "tag:running", older},           // the running session's strongest traits
		{p.Traits, "cat:running-shoes", older},     // (two shoes: category, tag and price band alike)
		{p.Intent, "cat:gps-watches", 0.5 + 2 + 1}, // this session's, unscaled: view, dwell, click
		{p.Traits, "cat:gps-watches", 0},           // not lasting before the session ends
	} {
		if got := tc.table.Get(tc.key, now, profile.HalfLife); got-tc.want > 1e-3*tc.want+1e-6 || tc.want-got > 1e-3*tc.want+1e-6 {
			t.Errorf("%s = %v, want %v", tc.key, got, tc.want)
		}
	}
}
