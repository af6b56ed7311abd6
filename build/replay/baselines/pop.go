package baselines

import (
	"context"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// POP recommends the items clicked most in the training data, whatever the
// visitor does: session-rec's Pop with its defaults (top_n=None, support
// counted in events). Its score supp/(supp+1) orders like the click count.
type POP struct {
	cat *catalog
	top []string // all items, most popular first
}

// NewPOP returns an unfitted POP.
func NewPOP() *POP { return &POP{} }

// Name implements eval.Method.
func (m *POP) Name() string { return "POP" }

// Fit counts training clicks per item.
func (m *POP) Fit(_ context.Context, train []data.Session) error {
	m.cat = newCatalog(train)
	m.top = m.cat.namesOf(m.cat.popular())
	return nil
}

// Start implements eval.Method.
func (m *POP) Start() eval.Session { return popSession{m} }

type popSession struct{ m *POP }

func (s popSession) Next(_ string, _ int64, k int) ([]string, error) {
	return s.m.top[:min(k, len(s.m.top))], nil
}
