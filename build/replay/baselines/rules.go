package baselines

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/tailorhq/tailor/build/replay/data"
)

// DefaultPruning is session-rec's default for AR and SR (pruning=20): keep
// the 20 strongest rules of each item.
const DefaultPruning = 20

// ruleTable accumulates weighted rules "after item a, item b" and keeps,
// per a, its rules in order of first insertion: the order in which
// Python's dict iterates and collections.Counter.most_common breaks ties.
type ruleTable struct {
	rules map[int32][]scored      // a -> rules, insertion order until pruned
	pos   map[int32]map[int32]int // a -> b -> index in rules[a]
}

func newRuleTable() *ruleTable {
	return &ruleTable{rules: make(map[int32][]scored), pos: make(map[int32]map[int32]int)}
}

// mineRules builds the catalogue of train and a rule table, in which
// rule(t, before, b) records the rules of each click b of a session given
// the session's clicks before it, then prunes the table: AR and SR differ
// only in rule. A done ctx stops it, checked every 1,024 sessions.
func mineRules(ctx context.Context, train []data.Session, pruning float64, rule func(t *ruleTable, before []int32, b int32)) (*catalog, *ruleTable, error) {
	cat, t := newCatalog(train), newRuleTable()
	var last []int32
	for i, s := range train {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		last = last[:0]
		for _, c := range s.Clicks {
			b := cat.ids[c.Item]
			rule(t, last, b)
			last = append(last, b)
		}
	}
	t.prune(pruning)
	return cat, t, nil
}

// touch makes sure the rule a→b exists, as a zero weight.
func (t *ruleTable) touch(a, b int32) {
	p := t.pos[a]
	if p == nil {
		p = make(map[int32]int)
		t.pos[a] = p
	}
	if _, ok := p[b]; !ok {
		p[b] = len(t.rules[a])
		t.rules[a] = append(t.rules[a], scored{id: b})
	}
}

func (t *ruleTable) add(a, b int32, w float64) {
	t.touch(a, b)
	t.rules[a][t.pos[a][b]].score += w
}

// prune keeps the strongest rules of each item, ties going to the rule
// inserted first, as session-rec's prune does with Counter.most_common:
// pruning >= 1 keeps that many, 0 < pruning < 1 drops that fraction, 0
// keeps all. The kept rules are then ordered by byScore.
func (t *ruleTable) prune(pruning float64) {
	for a, rs := range t.rules {
		keep := len(rs)
		switch {
		case pruning >= 1:
			keep = int(pruning)
		case pruning > 0:
			keep = len(rs) - int(float64(len(rs))*pruning)
		}
		slices.SortStableFunc(rs, func(x, y scored) int { return cmp.Compare(y.score, x.score) })
		rs = slices.Clip(rs[:min(keep, len(rs))])
		// Which rules survive follows session-rec; the order of the
		// survivors follows this package's tie rule (byScore).
		slices.SortFunc(rs, byScore)
		t.rules[a] = rs
	}
	t.pos = nil
}

// next returns the names of the k strongest rules after item a.
func (t *ruleTable) next(c *catalog, a int32, k int) []string {
	rs := t.rules[a]
	return c.namesOf(rs[:min(k, len(rs))])
}

// Weighting is a decay function of session-rec's SR and V-SKNN, named as
// in its configuration files.
type Weighting string

// The weighting functions session-rec's configurations name.
const (
	Same      Weighting = "same"
	Div       Weighting = "div"
	Linear    Weighting = "linear"
	Log       Weighting = "log"
	Quadratic Weighting = "quadratic"
)

// stepWeight is session-rec's decay by distance i >= 1 (sr.py's linear,
// same, div, log, quadratic, and vsknn.py's *_score functions).
func stepWeight(w Weighting, i int) (float64, error) {
	x := float64(i)
	switch w {
	case Same:
		return 1, nil
	case Div:
		return 1 / x, nil
	case Linear:
		if i <= 100 {
			return 1 - 0.1*x, nil
		}
		return 0, nil
	case Log:
		return 1 / math.Log10(x+1.7), nil
	case Quadratic:
		return 1 / (x * x), nil
	}
	return 0, fmt.Errorf("baselines: unknown weighting %q (want same, div, linear, log or quadratic)", w)
}
