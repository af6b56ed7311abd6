package baselines

import (
	"context"
	"fmt"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// SR parameters: session-rec's SequentialRules defaults (baselines/sr.py:
// steps=10, weighting='div', pruning=20). Its YOOCHOOSE configurations
// tune them (conf/save/rsc15/window/window_rsc15_baselines.yml: steps 8,
// div; conf/save/rsc15_64/single_rsc15_64_baselines.yml: steps 4,
// quadratic); the defaults are what issue 5 asks for.
const (
	SRSteps     = 10
	SRWeighting = Div
)

// SR is session-rec's SequentialRules (Kamehkhosh et al. 2017): in every
// training session, a click on b adds weight(i) to the rule a→b for each
// of the steps clicks a before it, i = 1 for the previous click; then each
// item keeps its Pruning strongest rules. After a click on a, the
// strongest rules of a are recommended. Only the last click matters.
type SR struct {
	Steps     int       // SRSteps unless set before Fit
	Weighting Weighting // SRWeighting unless set before Fit
	Pruning   float64   // DefaultPruning unless set before Fit

	cat   *catalog
	rules *ruleTable
}

// NewSR returns an unfitted SR with session-rec's defaults.
func NewSR() *SR { return &SR{Steps: SRSteps, Weighting: SRWeighting, Pruning: DefaultPruning} }

// Name implements eval.Method.
func (m *SR) Name() string { return "SR" }

// Fit mines the rules.
func (m *SR) Fit(ctx context.Context, train []data.Session) error {
	if m.Steps < 1 {
		return fmt.Errorf("baselines: SR steps %d < 1", m.Steps)
	}
	weights := make([]float64, m.Steps+1)
	for i := 1; i <= m.Steps; i++ {
		w, err := stepWeight(m.Weighting, i)
		if err != nil {
			return err
		}
		weights[i] = w
	}
	var err error
	m.cat, m.rules, err = mineRules(ctx, train, m.Pruning, func(t *ruleTable, before []int32, b int32) {
		for i := 1; i <= min(m.Steps, len(before)); i++ {
			t.add(before[len(before)-i], b, weights[i])
		}
	})
	return err
}

// Start implements eval.Method.
func (m *SR) Start() eval.Session { return ruleSession{m.cat, m.rules} }
