package baselines

import (
	"context"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// AR is session-rec's AssociationRules (baselines/ar.py, defaults:
// pruning=20): every ordered pair of clicks (a, b) in one training session,
// in either order and at any distance, adds 1 to the rules a→b and b→a
// (an item paired with itself adds 2 to a→a, as in the Python). After a
// click on a, the strongest rules of a are recommended. Only the last
// click matters.
type AR struct {
	Pruning float64 // DefaultPruning unless set before Fit

	cat   *catalog
	rules *ruleTable
}

// NewAR returns an unfitted AR with session-rec's defaults.
func NewAR() *AR { return &AR{Pruning: DefaultPruning} }

// Name implements eval.Method.
func (m *AR) Name() string { return "AR" }

// Fit counts co-occurrences.
func (m *AR) Fit(ctx context.Context, train []data.Session) error {
	var err error
	m.cat, m.rules, err = mineRules(ctx, train, m.Pruning, func(t *ruleTable, before []int32, b int32) {
		for _, a := range before {
			t.add(a, b, 1)
			t.add(b, a, 1)
		}
	})
	return err
}

// Start implements eval.Method.
func (m *AR) Start() eval.Session { return ruleSession{m.cat, m.rules} }

// ruleSession recommends from a rule table after the last click.
type ruleSession struct {
	cat   *catalog
	rules *ruleTable
}

func (s ruleSession) Next(item string, _ int64, k int) ([]string, error) {
	id := s.cat.lookup(item)
	if id < 0 {
		return nil, nil
	}
	return s.rules.next(s.cat, id, k), nil
}
