package e2e

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
)

// The loader's view of the model's freshness (server/api: the manifest's
// Cache-Control) and the server's publication cadence (tailor-server
// --publish-interval, a busy site reaching k every interval).
const (
	manifestMaxAge = 30 * time.Second
	manifestStale  = 600 * time.Second // stale-while-revalidate
	publishEvery   = 30 * time.Second
	openGap        = 6 * time.Minute // between the clicks of a page left open
)

// maxArmsLinked is what TestLinkageByMetadata allows a delta's arms to
// link, with any other field (PRIVACY.md, "What Tailor cannot protect"):
// a holdout or rules-only device's deltas stand out among the treatment's.
const maxArmsLinked = 0.05

// metaDelta is one delta as the operator's store keeps it, beyond its
// items: what TestLinkageByMetadata links by.
type metaDelta struct {
	device  int
	open    bool      // its page was left open
	at      time.Time // arrival (pagehide of its page)
	model   uint32
	arms    string // the arms it reports, in order ("" none)
	exposed bool
	pairs   int
	size    int
}

// TestLinkageByMetadata is the operator's attack on "which deltas come
// from the same device" by what a delta carries besides its items: the
// model version the device held, its arm counts and Exposed bit, its
// number of pairs and its byte length. TestLinkage's shoppers (2,000
// products, a new shopper every 10 s) browse as the loader does: each page
// loads a new engine, its stored profile, the model version of its cached
// manifest (max-age 30 s, stale-while-revalidate 600 s; a version every
// 30 s), ranks a slot (5% of devices are in the holdout, 10% chose
// rules-only) and syncs its delta when left. For each delta the attacker
// takes the latest earlier one within 30 minutes, in the store's order,
// whose field is the same; a field links when that guess is right more
// often than the guess by order alone. The exact model version linked
// 9.7-10.0% of the later deltas, 20.3-20.5% with the arms (the median
// delta shared its version with 10 of the window's): a delta names the
// version's epoch (wire.ModelEpoch), and the test fails on a guest that
// names the version. The arms link a holdout or rules-only device's
// deltas (PRIVACY.md, "What Tailor cannot protect"): allowed up to
// maxArmsLinked of all later deltas, as their deltas carry no pairs.
func TestLinkageByMetadata(t *testing.T) {
	const shoppers = 1500
	all := metaDeltas(t, shoppers, 0)

	every := func(*metaDelta) bool { return true }
	rare := func(d *metaDelta) bool { return d.arms != "" && d.arms != wire.ArmTreatment.String() }
	fields := []struct {
		name   string
		key    func(*metaDelta) string
		counts func(*metaDelta) bool
		most   float64 // the share of right links allowed
	}{
		{"order alone", func(*metaDelta) string { return "" }, every, maxLinked},
		{"model version", func(d *metaDelta) string { return fmt.Sprint(d.model) }, every, maxLinked},
		{"exposed bit", func(d *metaDelta) string { return fmt.Sprint(d.exposed) }, every, maxLinked},
		{"number of pairs", func(d *metaDelta) string { return fmt.Sprint(d.pairs) }, every, maxLinked},
		{"arms", func(d *metaDelta) string { return d.arms }, every, maxArmsLinked},
		{"byte length", func(d *metaDelta) string { return fmt.Sprint(d.size) }, every, maxArmsLinked},
		{"byte length, treatment deltas", func(d *metaDelta) string { return fmt.Sprint(d.size) }, func(d *metaDelta) bool { return d.arms == wire.ArmTreatment.String() }, maxLinked},
		{"version and arms", func(d *metaDelta) string { return fmt.Sprint(d.model, d.arms) }, every, maxArmsLinked},
		{"all of them", func(d *metaDelta) string { return fmt.Sprint(d.model, d.arms, d.exposed, d.pairs, d.size) }, every, maxArmsLinked},
		{"arms, holdout and rules-only deltas", func(d *metaDelta) string { return d.arms }, rare, 1},
	}
	t.Logf("%d shoppers, %d deltas", shoppers, len(all))
	for _, d := range all {
		if rare(&d) && d.pairs > 0 {
			t.Fatalf("a %s delta carries %d pairs: linked by its arm, it would give them away", d.arms, d.pairs)
		}
	}
	for _, f := range fields {
		r, m, later := link(all, f.key, f.counts)
		t.Logf("%-36s linked right %5.1f%% of %4d later deltas; median %4d deltas share it in the window", f.name, 100*r, later, m)
		if r > f.most {
			t.Errorf("linked by %s: %.1f%% of the later deltas, PRIVACY.md says at most %.0f%%", f.name, 100*r, 100*f.most)
		}
	}
}

// link guesses, for each delta that counts, the latest earlier delta
// within 30 minutes with the same key, and returns the share of the
// later deltas that count (those after an earlier one of their device)
// it links right and the median number of deltas sharing the key in
// the window.
func link(all []metaDelta, key func(*metaDelta) string, counts func(*metaDelta) bool) (right float64, median, later int) {
	n := 0
	var sizes []int
	for i := range all {
		d := &all[i]
		if !counts(d) {
			continue
		}
		k := key(d)
		guess, same, hasEarlier := -1, 0, false
		for j := i - 1; j >= 0 && d.at.Sub(all[j].at) <= 30*time.Minute; j-- {
			hasEarlier = hasEarlier || all[j].device == d.device
			if key(&all[j]) == k {
				same++
				if guess < 0 {
					guess = j
				}
			}
		}
		sizes = append(sizes, same)
		if hasEarlier {
			later++
		}
		if guess >= 0 && all[guess].device == d.device {
			n++
		}
	}
	if len(sizes) == 0 {
		return 0, 0, 0
	}
	sort.Ints(sizes)
	return float64(n) / float64(max(later, 1)), sizes[len(sizes)/2], later
}

// metaDeltas returns the deltas of shoppers browsing as
// TestLinkageByMetadata says, in the order they arrive; every openEvery-th
// shopper (0: none) keeps one page open instead, clicking every
// openGap, and syncs a minute after each click with the model version
// the page loaded.
func metaDeltas(t *testing.T, shoppers, openEvery int) []metaDelta {
	const products, seed = 2000, 11
	large, cfg := largeShop(t, products)
	published := t0.Add(-time.Hour) // version 1
	versionAt := func(at time.Time) uint32 { return 1 + uint32(at.Sub(published)/publishEvery) }
	return arrivals(t, shoppers, func(d metaDelta) time.Time { return d.at }, func(in *harness.Instance, i int) (out []metaDelta, err error) {
		rng := rand.New(rand.NewPCG(seed, uint64(i)^0x5eed))
		mode := wire.ModeAI
		if rng.Float64() < sim.RulesShare {
			mode = wire.ModeRules
		}
		open := openEvery > 0 && i%openEvery == 0
		var saved []byte
		var fetched time.Time // the manifest in the browser's cache
		var cached uint32
		session := large.Session(seed, i)
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		for j := range session {
			at = at.Add(time.Duration(20+j*7) * time.Second)
			if open && j > 0 {
				at = at.Add(openGap)
			}
			// A page loads: the manifest from the cache while fresh, stale
			// (revalidated behind the page) within the stale window, else
			// from the server.
			held := cached
			switch age := at.Sub(fetched); {
			case open && !fetched.IsZero(): // the page read its manifest when it loaded
			case fetched.IsZero() || age > manifestMaxAge+manifestStale:
				cached, fetched = versionAt(at), at
				held = cached
			case age > manifestMaxAge:
				cached, fetched = versionAt(at), at
			}
			if err := in.Init(cfg); err != nil {
				return nil, err
			}
			if saved != nil {
				if err := in.LoadProfile(saved); err != nil {
					return nil, err
				}
			}
			if err := in.ApplyWeights(&wire.Weights{Version: held}); err != nil {
				return nil, err
			}
			p := &session[j]
			var cands []wire.Item
			for _, q := range large.Catalog.Near(p, 12) {
				cands = append(cands, q.Item())
			}
			if _, err := in.Rank(&wire.RankRequest{Slot: "also", Candidates: cands, Limit: 6, Time: at.UnixMilli(), Ctx: sim.Context(at), Mode: mode}); err != nil {
				return nil, err
			}
			if err := in.Track(sim.Event(wire.KindClick, p, at.Add(5*time.Second))); err != nil {
				return nil, err
			}
			// pagehide: the next page's load, or half a minute for the
			// last; on a page left open, the minute's sync
			left := at.Add(time.Duration(20+(j+1)*7) * time.Second)
			if open {
				left = at.Add(time.Minute)
			}
			d, size, err := takeDelta(in)
			if err != nil {
				return nil, err
			}
			if saved, err = in.SaveProfile(); err != nil {
				return nil, err
			}
			if size == 0 {
				continue
			}
			md := metaDelta{device: i, open: open, at: left, model: d.Model, pairs: len(d.Pairs), size: size}
			var arms []string
			for _, a := range d.Arms {
				arms = append(arms, a.Arm.String())
				md.exposed = md.exposed || a.Exposed
			}
			md.arms = strings.Join(arms, ",")
			out = append(out, md)
		}
		return out, nil
	})
}

// TestLinkageOpenPages is TestLinkageByMetadata's attack on pages left
// open (PRIVACY.md, "What Tailor cannot protect"): one shopper in 20 keeps
// a page open, clicking every 6 minutes, and syncs a minute after each
// click with the model epoch the page loaded, which the site leaves after
// 32 minutes. It measures how often the epoch links such a page's deltas,
// against order alone: 1.2-1.5% of them, 2.4-4.7% with the arms (0.3%
// and 2.1% with a click every 15 minutes), since the other pages left open in the
// epoch hold it too; allowed up to maxArmsLinked and twice that.
func TestLinkageOpenPages(t *testing.T) {
	all := metaDeltas(t, 1500, 20)
	open := func(d *metaDelta) bool { return d.open }
	for _, f := range []struct {
		name string
		key  func(*metaDelta) string
		most float64
	}{
		{"order alone", func(*metaDelta) string { return "" }, maxLinked},
		{"model epoch", func(d *metaDelta) string { return fmt.Sprint(d.model) }, maxArmsLinked},
		{"epoch and arms", func(d *metaDelta) string { return fmt.Sprint(d.model, d.arms) }, 2 * maxArmsLinked},
	} {
		r, m, later := link(all, f.key, open)
		t.Logf("pages left open, %-14s linked right %5.1f%% of %4d later deltas; median %4d deltas share it in the window", f.name, 100*r, later, m)
		if r > f.most {
			t.Errorf("linked by %s: %.1f%% of the later deltas of pages left open, PRIVACY.md says at most %.0f%%", f.name, 100*r, 100*f.most)
		}
	}
}
