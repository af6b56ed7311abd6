package model

import (
	"github.com/tailorhq/tailor/sdk/internal/rnd"
	"github.com/tailorhq/tailor/sdk/rules"
	"github.com/tailorhq/tailor/sdk/wire"
)

// generate proposes candidates when a slot names none: this session's
// items and their neighbours, then the most popular items.
func (in *Input) generate() []wire.Item {
	x := in.Index
	var items []wire.Item
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			items = append(items, wire.Item{ID: id})
		}
	}
	s := in.Profile.Session
	for i := len(s) - 1; i >= 0; i-- {
		add(s[i].Key)
		if n, ok := x.num[s[i].Key]; ok {
			for _, e := range x.next[n] {
				add(x.ids[e.to])
			}
		}
	}
	for _, n := range x.top {
		add(x.ids[n])
	}
	return items
}

// applyRules adds the site's rules to the scores: filters remove, pins
// lead, boosts and buries add. In rules-only mode the site's default order
// breaks ties, so a slot no rule touches keeps it.
func (in *Input) applyRules(items []scored) []scored {
	if len(in.Config.Rules) == 0 {
		return items
	}
	cands := make([]wire.Item, len(items))
	for i := range items {
		cands[i] = *items[i].item
	}
	fx := rules.Evaluate(in.Config.Rules, in.Profile, &in.Req.Ctx, cands, in.Req.Mode == wire.ModeRules)
	out := items[:0]
	for i, s := range items {
		e := fx[i]
		if e.Filter {
			continue
		}
		learned := s.score
		s.score += in.Params.Rule * e.Boost
		s.pinned = e.Pin
		if e.Pin || e.Rule != "" && s.score-learned > learned {
			s.source = wire.SourceRule
			s.top = vote{w: e.Boost, reason: wire.ReasonRule, ref: e.Rule}
		}
		out = append(out, s)
	}
	return out
}

// diversify re-ranks the first window positions greedily, discounting an
// item by Diversity times the top score for each item of its category
// already placed above it.
func (in *Input) diversify(items []scored, limit int) {
	lambda := in.Config.Diversity
	n := min(limit, in.Params.Window)
	if lambda <= 0 || n < 2 || items[0].score <= 0 {
		return
	}
	penalty := lambda * items[0].score
	pool := min(len(items), 3*n)
	// Number the pool's categories once: the loop below would otherwise
	// look a category up in a map window × pool times.
	kinds := map[string]int32{}
	for j := range items[:pool] {
		s := &items[j]
		s.kind = -1
		if c := s.item.Category; c != "" {
			k, ok := kinds[c]
			if !ok {
				k = int32(len(kinds))
				kinds[c] = k
			}
			s.kind = k
		}
	}
	placed := make([]int32, len(kinds))
	for i := 0; i < n; i++ {
		best, bestScore := i, float32(0)
		for j := i; j < pool; j++ {
			if j > i && (items[i].pinned || items[j].pinned) {
				break // pins keep their places: nothing moves ahead of one
			}
			v := items[j].score
			if k := items[j].kind; k >= 0 {
				v -= penalty * float32(placed[k])
			}
			if j == i || v > bestScore {
				best, bestScore = j, v
			}
		}
		if best != i {
			moved := items[best]
			copy(items[i+1:best+1], items[i:best])
			items[i] = moved
		}
		if k := items[i].kind; k >= 0 {
			placed[k]++
		}
	}
}

// explore, in a configured share of rankings, promotes one item from below
// the window into it, at a random position: visitors see something new and
// the server learns about items the model would not yet show.
func (in *Input) explore(items []scored, limit int) {
	share := in.Config.Explore
	r := in.Rand
	n := min(limit, in.Params.Window)
	if share <= 0 || r == nil || n < 2 || len(items) <= n || rnd.Float64(r) >= float64(share) {
		return
	}
	lo := 1 // never displace the top item, nor a pinned one
	for lo < n && items[lo].pinned {
		lo++
	}
	if lo == n {
		return
	}
	from := n + rnd.Intn(r, min(len(items), 3*n)-n)
	to := lo + rnd.Intn(r, n-lo)
	moved := items[from]
	moved.source, moved.top = wire.SourceExplore, vote{reason: wire.ReasonExplore}
	copy(items[to+1:from+1], items[to:from])
	items[to] = moved
}
