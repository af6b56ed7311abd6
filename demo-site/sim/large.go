package sim

import (
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"sync"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/device"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Large simulates shoppers of a large synthetic catalogue
// (demosite.Synthetic): the demo's personas walk between its categories,
// and inside a category along a product line (the next products in
// catalogue order, the ones a product page of a large catalogue shows,
// Catalog.Near), so that the pairs of neighbouring products recur often
// enough across shoppers to be published (the server's cohort k): on
// 40,000 products, 20,000 shoppers give a fifth of them neighbours,
// 100,000 half. Popularity is skewed twice: the personas' start
// categories (those of the categories they walk on to see fewer
// sessions), and a category's bestsellers (the first 5% of its line)
// start three times their share of its sessions.
type Large struct {
	Catalog *demosite.Catalog
}

// NewLarge returns a simulator over c.
func NewLarge(c *demosite.Catalog) *Large { return &Large{Catalog: c} }

// The walk inside a category: the next product of the line, the one after,
// the previous one, else on to the persona's next category (the same place
// in its line).
const (
	stepNext = 0.80
	stepSkip = 0.10
	stepBack = 0.05
	// A session starts at a bestseller (the first 5% of a category's line)
	// this often, else anywhere in it.
	bestsellerShare = 0.1
)

// Session returns the products the i-th shopper with seed clicks, in
// order: 3-8 of them, as the demo's shoppers (Sim.Shopper).
func (s *Large) Session(seed uint64, i int) []demosite.Product {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	p := &Personas[rng.IntN(len(Personas))]
	cat := p.Start[rng.IntN(len(p.Start))]
	in := s.Catalog.ByCategory(cat)
	n := 3 + rng.IntN(6)
	out := make([]demosite.Product, 0, n)
	if len(in) == 0 {
		return out
	}
	at := rng.IntN(len(in))
	if rng.Float64() < bestsellerShare {
		at = rng.IntN(max(1, len(in)/20))
	}
	for len(out) < n {
		out = append(out, in[at])
		switch x := rng.Float64(); {
		case x < stepNext:
			at = (at + 1) % len(in)
		case x < stepNext+stepSkip:
			at = (at + 2) % len(in)
		case x < stepNext+stepSkip+stepBack:
			at = (at + len(in) - 1) % len(in)
		default:
			// Biased to the first-listed, as Sim.Session.
			next := p.Next[cat]
			v := rng.Float64()
			c := next[int(float64(len(next))*v*v)]
			if to := s.Catalog.ByCategory(c); len(to) > 0 {
				at = at * len(to) / len(in)
				cat, in = c, to
			}
		}
	}
	return out
}

// Traffic runs n shoppers (Session; every sixth buys its last product)
// with seed on workers goroutines, each shopper a fresh sdk/device: the
// code tailor.wasm runs, natively, since a large catalogue needs more
// shoppers than the seeding on wasm (Sim.Traffic) runs in seconds. Each
// delta goes to post as the loader posts it, after every page; the
// devices rank no slot, so the deltas carry pairs and items but no arm
// counts. Their randomness (delta ids, samples) is the host's
// cryptographic generator's.
func (s *Large) Traffic(ctx context.Context, workers int, cfg wire.Config, n int, seed uint64, start time.Time,
	post func(delta []byte) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			var key [32]byte
			crand.Read(key[:])
			rnd := rand.New(rand.NewChaCha8(key)) // a CSPRNG, seeded from the host's
			for i := range next {
				if err := s.shopper(cfg, rnd, seed, i, start.Add(time.Duration(i)*10*time.Second), post); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			i = n
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// shopper runs the i-th shopper on a new device.
func (s *Large) shopper(cfg wire.Config, rnd device.Random, seed uint64, i int, at time.Time, post func([]byte) error) error {
	d := device.New(cfg, rnd)
	leave := func() error {
		if delta, ok := d.TakeDelta(); ok {
			return post(wire.Marshal(&delta))
		}
		return nil
	}
	session := s.Session(seed, i)
	for j := range session {
		at = at.Add(time.Duration(20+j*7) * time.Second)
		click := Event(wire.KindClick, &session[j], at)
		if j == 0 {
			click.Ctx = PageContext(at, "home")
		}
		d.Track(click)
		if err := leave(); err != nil {
			return err
		}
	}
	if i%6 == 0 && len(session) > 0 {
		last := &session[len(session)-1]
		for _, k := range []wire.Kind{wire.KindCart, wire.KindPurchase} {
			at = at.Add(time.Minute)
			d.Track(Event(k, last, at))
			if err := leave(); err != nil {
				return err
			}
		}
	}
	return nil
}
