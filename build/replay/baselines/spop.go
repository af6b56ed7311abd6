package baselines

import (
	"context"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// SPOPTopN is session-rec's SessionPop default top_n: only the 100 most
// popular items get a popularity score.
const SPOPTopN = 100

// SPOP ranks the items of the current session by how often the visitor
// clicked them, then the globally popular items: session-rec's SessionPop,
// score = clicks in session + supp/(supp+1), the second term only for the
// top_n (100) most popular items. Because supp/(supp+1) < 1, a session
// item always outranks a non-session item, and popularity breaks ties
// between session items with equal counts.
type SPOP struct {
	TopN int // SPOPTopN unless set before Fit

	cat *catalog
	pop []float64 // supp/(supp+1) for the TopN most popular, else 0
	top []scored  // the TopN most popular, best first
}

// NewSPOP returns an unfitted S-POP with session-rec's defaults.
func NewSPOP() *SPOP { return &SPOP{TopN: SPOPTopN} }

// Name implements eval.Method.
func (m *SPOP) Name() string { return "S-POP" }

// Fit counts training clicks per item.
func (m *SPOP) Fit(_ context.Context, train []data.Session) error {
	m.cat = newCatalog(train)
	all := m.cat.popular()
	m.top = all[:min(m.TopN, len(all))]
	m.pop = make([]float64, len(m.cat.names))
	for i, s := range m.top {
		m.pop[s.id] = s.score / (s.score + 1)
		m.top[i].score = m.pop[s.id]
	}
	return nil
}

// Start implements eval.Method.
func (m *SPOP) Start() eval.Session { return &spopSession{m: m, counts: make(map[int32]int)} }

type spopSession struct {
	m      *SPOP
	counts map[int32]int // clicks in this session per known item
}

func (s *spopSession) Next(item string, _ int64, k int) ([]string, error) {
	if id := s.m.cat.lookup(item); id >= 0 {
		s.counts[id]++
	}
	cands := make([]scored, 0, len(s.counts)+len(s.m.top))
	for id, n := range s.counts {
		cands = append(cands, scored{id, float64(n) + s.m.pop[id]})
	}
	for _, p := range s.m.top {
		if s.counts[p.id] == 0 {
			cands = append(cands, p)
		}
	}
	return s.m.cat.top(cands, k), nil
}
