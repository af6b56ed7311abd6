// Package sim simulates shoppers of the demo store: personas whose sessions
// walk between related categories, turned into the events the loader would
// send. Tests, benchmarks and the demo's seeding drive tailor.wasm with
// them through the harness. The shoppers are deterministic given a seed.
package sim

import (
	"context"
	"math/rand/v2"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
)

// Persona is a kind of shopper: where sessions start, and which categories
// follow which (the first listed most often).
type Persona struct {
	Name  string
	Start []string
	Next  map[string][]string
}

// Personas of the demo store.
var Personas = []Persona{
	{Name: "evening", Start: []string{"evening-gowns", "metallic-heels"}, Next: map[string][]string{
		"evening-gowns": {"metallic-heels", "clutches", "jewelry"}, "metallic-heels": {"clutches", "evening-gowns", "jewelry"},
		"clutches": {"jewelry", "evening-gowns"}, "jewelry": {"clutches", "evening-gowns"}}},
	{Name: "runner", Start: []string{"gps-watches", "running-shoes"}, Next: map[string][]string{
		"gps-watches": {"energy-gels", "running-apparel", "running-shoes"}, "running-shoes": {"running-socks", "running-apparel", "gps-watches"},
		"energy-gels": {"running-apparel", "gps-watches"}, "running-apparel": {"energy-gels", "running-socks"}, "running-socks": {"running-shoes", "running-apparel"}}},
	{Name: "winter", Start: []string{"winter-coats"}, Next: map[string][]string{
		"winter-coats": {"sweaters", "winter-coats"}, "sweaters": {"winter-coats", "sweaters"}}},
	{Name: "beach", Start: []string{"beachwear"}, Next: map[string][]string{
		"beachwear": {"sunglasses", "beachwear"}, "sunglasses": {"beachwear"}}},
	{Name: "coffee", Start: []string{"coffee-machines"}, Next: map[string][]string{
		"coffee-machines": {"coffee-beans", "coffee-filters"}, "coffee-beans": {"coffee-filters", "coffee-machines"}, "coffee-filters": {"coffee-beans"}}},
	{Name: "office", Start: []string{"office-dresses"}, Next: map[string][]string{
		"office-dresses": {"blouses", "office-dresses"}, "blouses": {"office-dresses"}}},
}

// Sim generates sessions over a catalogue.
type Sim struct {
	Catalog *demosite.Catalog
	items   []wire.Item
}

// New returns a simulator over the demo store's catalogue.
func New() (*Sim, error) {
	c, err := demosite.Load()
	if err != nil {
		return nil, err
	}
	s := &Sim{Catalog: c}
	for i := range c.Products {
		s.items = append(s.items, c.Products[i].Item())
	}
	return s, nil
}

// Candidates returns every product, in catalogue order: the default order
// of a "recommended" slot.
func (s *Sim) Candidates() []wire.Item { return s.items }

// Session returns n products a shopper of persona p clicks in order.
func (s *Sim) Session(p *Persona, rng *rand.Rand, n int) []demosite.Product {
	cat := p.Start[rng.IntN(len(p.Start))]
	out := make([]demosite.Product, 0, n)
	for len(out) < n {
		in := s.Catalog.ByCategory(cat)
		out = append(out, in[rng.IntN(len(in))])
		next := p.Next[cat]
		// Biased to the first-listed: index = floor(len * u^2).
		u := rng.Float64()
		cat = next[int(float64(len(next))*u*u)]
	}
	return out
}

// Event returns the event of a shopper's action on a product at t.
func Event(kind wire.Kind, p *demosite.Product, t time.Time) *wire.Event {
	it := p.Item()
	return &wire.Event{Kind: kind, Time: t.UnixMilli(), Item: &it, Ctx: Context(t)}
}

// Context returns the page context of a product page at t.
func Context(t time.Time) wire.Context { return PageContext(t, "product") }

// PageContext returns the context of a page of the kind (home, product) at t.
func PageContext(t time.Time, kind string) wire.Context {
	return wire.Context{Hour: uint8(t.Hour()), Weekday: uint8(t.Weekday()), Month: uint8(t.Month()),
		Device: "desktop", Referrer: "direct", Page: kind}
}

// Slots of the demo store's pages a shopper ranks, with their
// data-tailor-limit (demo-site/templates).
const (
	HomeRecs      = "home-recs" // home page, "Recommended for you"
	HomeRecsLimit = 8
	AlsoLike      = "also-like" // product page, "You may also like"
	AlsoLikeLimit = 6
)

// RulesShare is the share of simulated shoppers who turned rules-only
// mode on (the demo's toggle, tailor.mode('rules')): their slots are
// ranked by the site's rules alone, the experiment's third arm.
const RulesShare = 0.1

// Result counts next-click predictions: after each click but the last, was
// the next click in the top K of the ranking?
type Result struct {
	Hits, Total int
}

// Add adds another result.
func (r *Result) Add(o Result) { r.Hits += o.Hits; r.Total += o.Total }

// Rate returns hits per prediction.
func (r Result) Rate() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Hits) / float64(r.Total)
}

// Replay plays a session on an instance click by click, ranking the whole
// catalogue after each click and checking the next click against the top k.
// The instance keeps what it learned (call Init first for a new visitor).
func (s *Sim) Replay(in *harness.Instance, session []demosite.Product, start time.Time, k int) (Result, error) {
	var r Result
	t := start
	for i := range session {
		if err := in.Track(Event(wire.KindClick, &session[i], t)); err != nil {
			return r, err
		}
		if i == len(session)-1 {
			break
		}
		t = t.Add(40 * time.Second)
		res, err := in.Rank(&wire.RankRequest{Slot: "recommended", Candidates: s.items, Limit: k, Time: t.UnixMilli(), Ctx: Context(t)})
		if err != nil {
			return r, err
		}
		r.Total++
		for _, it := range res.Items {
			if it.ID == session[i+1].ID {
				r.Hits++
				break
			}
		}
	}
	return r, nil
}

// Shopper is one simulated shopper of Traffic.
type Shopper struct {
	Persona *Persona
	Session []demosite.Product // the products clicked, in order
	Buys    bool               // adds the last to the cart and buys it
	Mode    wire.Mode          // the ranking mode the shopper chose
	rng     *rand.Rand         // what else the shopper draws (the time between clicks)
}

// Shopper returns the i-th shopper of Traffic with seed: a persona's
// session of 3-8 clicks; every sixth shopper buys; a RulesShare of them
// (drawn from a second stream, which leaves the walks as they were before
// there were modes) rank in rules-only mode.
func (s *Sim) Shopper(seed uint64, i int) Shopper {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	p := &Personas[rng.IntN(len(Personas))]
	sh := Shopper{Persona: p, Session: s.Session(p, rng, 3+rng.IntN(6)), Buys: i%6 == 0, rng: rng}
	if rand.New(rand.NewPCG(^seed, uint64(i))).Float64() < RulesShare {
		sh.Mode = wire.ModeRules
	}
	return sh
}

// Traffic runs n simulated shoppers on tailor.wasm through pool (see
// Shopper: a persona's session of 3-8 clicks, every sixth buys), and hands
// each profile delta to sync as the loader would post it: after every
// page, as it does on pagehide. One
// delta per page matters: a delta carries a small sample of what is
// pending, so a whole session in one delta would teach the server much
// less than a browser's deltas do.
//
// Each shopper lands on the home page and every click opens a product's
// page; on each page the shopper's device ranks the slot the page shows
// (home-recs, then also-like of the product) over the site's default
// order, as the loader does before anything is clicked. So the arms get
// what the loader reports: impressions for the items shown, a click when
// the product clicked next was among them, a conversion when a product so
// clicked is bought. What a shopper clicks does not depend on what was
// shown (the persona's walk), so a better ranking shows the next click more
// often: the click-through of the AI arm against the holdout's measures
// that. A RulesShare of the shoppers rank in rules-only mode.
//
// Shoppers' clicks are deterministic given seed; what the devices draw at
// random (ids, samples, the holdout) follows the pool's runtime (the host's
// CSPRNG unless harness.WithSeededRandom). Traffic is how the demo's server
// starts with learned weights: a first visitor then does not start from
// nothing.
func (s *Sim) Traffic(ctx context.Context, pool *harness.Pool, cfg wire.Config, n int, seed uint64, start time.Time,
	sync func(delta []byte) error) error {
	home := s.Catalog.Recommended()
	homeItems := make([]wire.Item, len(home))
	for i := range home {
		homeItems[i] = home[i].Item()
	}
	return pool.Run(ctx, n, func(in *harness.Instance, i int) error {
		if err := in.Init(cfg); err != nil {
			return err
		}
		sh := s.Shopper(seed, i)
		mode, session := sh.Mode, sh.Session
		show := func(slot string, cands []wire.Item, limit int, kind string, at time.Time) error {
			_, err := in.Rank(&wire.RankRequest{Slot: slot, Candidates: cands, Limit: limit, Time: at.UnixMilli(),
				Ctx: PageContext(at, kind), Mode: mode})
			return err
		}
		// leave ends a page: the delta the loader posts on pagehide.
		leave := func() error {
			d, err := in.TakeDelta()
			if err != nil || len(d) == 0 {
				return err
			}
			return sync(d)
		}
		rng := sh.rng
		at := start.Add(time.Duration(i) * time.Minute)
		if err := show(HomeRecs, homeItems, HomeRecsLimit, "home", at); err != nil {
			return err
		}
		for j := range session {
			at = at.Add(time.Duration(20+rng.IntN(60)) * time.Second)
			click := Event(wire.KindClick, &session[j], at)
			if j == 0 {
				click.Ctx = PageContext(at, "home")
			}
			if err := in.Track(click); err != nil {
				return err
			}
			if err := leave(); err != nil {
				return err
			}
			also := s.Catalog.AlsoLike(&session[j])
			cands := make([]wire.Item, len(also))
			for k := range also {
				cands[k] = also[k].Item()
			}
			if err := show(AlsoLike, cands, AlsoLikeLimit, "product", at.Add(time.Second)); err != nil {
				return err
			}
		}
		if sh.Buys {
			last := &session[len(session)-1]
			for _, k := range []wire.Kind{wire.KindCart, wire.KindPurchase} {
				at = at.Add(time.Minute)
				if err := in.Track(Event(k, last, at)); err != nil {
					return err
				}
				if err := leave(); err != nil {
					return err
				}
			}
		}
		return leave()
	})
}
