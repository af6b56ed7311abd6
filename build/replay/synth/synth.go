// Package synth generates synthetic shopping sessions with a known
// structure, so the replay benchmark has data that is always available
// (tests, a clean clone) and whose right answers are known: items fall in
// categories, and a visitor mostly moves from an item to its fixed
// successor, sometimes to another item of the same category, rarely to a
// globally popular item. Sequence-aware methods (SR, V-SKNN) should
// therefore beat popularity by far, and category rules should sit between.
//
//	train, test, cats := synth.Generate(synth.Default(), 1)
//
// # Notes
//
// Generate is deterministic: equal Params and seed give equal sessions.
package synth

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tailorhq/tailor/build/replay/data"
)

// Params shape the generated data.
type Params struct {
	Items, Categories      int
	TrainSessions, TestSes int
	// MinLen and MaxLen bound a session's clicks; lengths are uniform.
	MinLen, MaxLen int
	// PSuccessor is the chance the next click is the item's successor,
	// PCategory that it is another item of the same category; otherwise
	// it is a popular item (Zipf over the catalogue).
	PSuccessor, PCategory float64
}

// Default is a small dataset: 1,000 items in 20 categories, 3,000 training
// and 400 evaluation sessions of 2 to 8 clicks.
func Default() Params {
	return Params{
		Items: 1000, Categories: 20,
		TrainSessions: 3000, TestSes: 400,
		MinLen: 2, MaxLen: 8,
		PSuccessor: 0.6, PCategory: 0.25,
	}
}

// start is the first click's time: 2016-05-01 00:00 UTC.
var start = time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// Generate returns training sessions, evaluation sessions (all later than
// the training ones) and the item→category map. Item ids are "i0".."iN",
// category ids "c0".."cM"; sessions start 10 minutes apart and clicks come
// 30 seconds apart.
func Generate(p Params, seed uint64) (train, test []data.Session, categories map[string]string) {
	if p.Items < 2 || p.Categories < 1 || p.MinLen < 2 || p.MaxLen < p.MinLen {
		panic(fmt.Sprintf("synth: bad params %+v", p))
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	item := func(i int) string { return fmt.Sprintf("i%d", i) }
	catOf := make([]int, p.Items)
	byCat := make([][]int, p.Categories)
	categories = make(map[string]string, p.Items)
	for i := range p.Items {
		c := i % p.Categories
		catOf[i] = c
		byCat[c] = append(byCat[c], i)
		categories[item(i)] = fmt.Sprintf("c%d", c)
	}
	// Each item's successor: a fixed random other item of its category.
	succ := make([]int, p.Items)
	for i := range p.Items {
		peers := byCat[catOf[i]]
		succ[i] = i
		if len(peers) > 1 {
			j := rng.IntN(len(peers) - 1)
			if j >= indexOf(peers, i) {
				j++
			}
			succ[i] = peers[j]
		}
	}
	// Popularity: Zipf with exponent 1 over a random permutation.
	perm := rng.Perm(p.Items)
	cum := make([]float64, p.Items)
	total := 0.0
	for r := range p.Items {
		total += 1 / float64(r+1)
		cum[r] = total
	}
	popular := func() int {
		x := rng.Float64() * total
		lo, hi := 0, p.Items-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return perm[lo]
	}
	gen := func(n, offset int) []data.Session {
		out := make([]data.Session, 0, n)
		for s := range n {
			at := start + int64(offset+s)*600_000
			length := p.MinLen + rng.IntN(p.MaxLen-p.MinLen+1)
			cur := popular()
			ses := data.Session{ID: fmt.Sprintf("s%d", offset+s)}
			for range length {
				ses.Clicks = append(ses.Clicks, data.Click{Item: item(cur), At: at})
				at += 30_000
				switch x := rng.Float64(); {
				case x < p.PSuccessor:
					cur = succ[cur]
				case x < p.PSuccessor+p.PCategory:
					peers := byCat[catOf[cur]]
					cur = peers[rng.IntN(len(peers))]
				default:
					cur = popular()
				}
			}
			out = append(out, ses)
		}
		return out
	}
	train = gen(p.TrainSessions, 0)
	test = gen(p.TestSes, p.TrainSessions)
	return train, test, categories
}

func indexOf(s []int, x int) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}
