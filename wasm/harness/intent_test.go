package harness_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestGiftBuyerVisits is issue 12's gift buyer through tailor.wasm on the
// demo store's catalogue, each visit a new page that loads the profile
// the last one saved, as the loader does: weeks of running, then one
// session of office dresses ending in a purchase (a gift). On his next
// visit's home page his running interests lead and the dresses are at
// most a minority; a visitor who then keeps to dresses for three visits
// does get dresses first.
func TestGiftBuyerVisits(t *testing.T) {
	s := demoSim(t)
	runner, office := &sim.Personas[1], &sim.Personas[5]
	isRunning := func(id string) bool { _, ok := runner.Next[s.Catalog.Find(id).Category]; return ok }
	isOffice := func(id string) bool { _, ok := office.Next[s.Catalog.Find(id).Category]; return ok }
	start := time.Date(2026, 11, 2, 19, 0, 0, 0, time.UTC)

	// visit opens a page on day day with the saved profile, lets do act
	// on it, ranks the home page's recommendations and saves the profile.
	var saved []byte
	visit := func(day int, do func(in *harness.Instance, at time.Time)) []string {
		t.Helper()
		in := harnesstest.Instance(t)
		if err := in.Init(cfg()); err != nil {
			t.Fatal(err)
		}
		if saved != nil {
			if err := in.LoadProfile(saved); err != nil {
				t.Fatal(err)
			}
		}
		at := start.AddDate(0, 0, day)
		if do != nil {
			do(in, at)
			at = at.Add(20 * time.Minute)
		}
		res, err := in.Rank(&wire.RankRequest{Slot: "home-recs", Candidates: s.Candidates(), Limit: 8, Time: at.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		if saved, err = in.SaveProfile(); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range res.Items {
			ids = append(ids, r.ID)
		}
		return ids
	}
	// shop views, reads and clicks each product of a session in turn; the
	// last one is bought when buy is set.
	shop := func(session []demosite.Product, dwell time.Duration, buy bool) func(*harness.Instance, time.Time) {
		return func(in *harness.Instance, at time.Time) {
			for i := range session {
				p := &session[i]
				events := []*wire.Event{sim.Event(wire.KindView, p, at), sim.Event(wire.KindClick, p, at.Add(time.Minute))}
				if dwell > 0 {
					e := sim.Event(wire.KindDwell, p, at.Add(30*time.Second))
					e.Dwell = uint32(dwell.Milliseconds())
					events = append(events, e)
				}
				if buy && i == len(session)-1 {
					events = append(events, sim.Event(wire.KindCart, p, at.Add(90*time.Second)), sim.Event(wire.KindPurchase, p, at.Add(2*time.Minute)))
				}
				for _, e := range events {
					if err := in.Track(e); err != nil {
						t.Fatal(err)
					}
				}
				at = at.Add(3 * time.Minute)
			}
		}
	}
	count := func(ids []string, of func(string) bool) int {
		n := 0
		for _, id := range ids {
			if of(id) {
				n++
			}
		}
		return n
	}

	rng := rand.New(rand.NewPCG(12, 5))
	for day := 0; day < 14; day += 4 { // four running visits, a glance at a few items each
		visit(day, shop(s.Session(runner, rng, 3), 0, false))
	}
	afterRuns := saved
	gift := visit(14, shop(s.Session(office, rng, 5), 40*time.Second, true))
	if n := count(gift[:3], isOffice); n < 2 {
		t.Errorf("in the gift session: %d office items in the top 3 %v, want what he is looking at to lead", n, gift)
	}
	next := visit(16, nil)
	t.Logf("the next visit's home page: %v", next)
	if r, o := count(next[:3], isRunning), count(next, isOffice); r < 3 || o > 3 {
		t.Errorf("next visit: %d running items in the top 3, %d office items in the top 8 %v; want running leading, dresses a minority", r, o, next)
	}

	saved = afterRuns
	for day := 14; day < 17; day++ {
		visit(day, shop(s.Session(office, rng, 3), 0, day == 14))
	}
	switched := visit(19, nil)
	t.Logf("after three office visits: %v", switched)
	if o := count(switched[:3], isOffice); o < 2 || slices.IndexFunc(switched, isOffice) != 0 {
		t.Errorf("after three office visits: %d office items in the top 3 %v, want them first", o, switched)
	}
}
