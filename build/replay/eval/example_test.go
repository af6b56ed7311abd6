package eval_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// lastSeen recommends the items that followed the clicked item in
// training: a toy Method.
type lastSeen struct{ next map[string][]string }

func (m *lastSeen) Name() string { return "last-seen" }

func (m *lastSeen) Fit(_ context.Context, train []data.Session) error {
	m.next = make(map[string][]string)
	for _, s := range train {
		for i := 0; i+1 < len(s.Clicks); i++ {
			a, b := s.Clicks[i].Item, s.Clicks[i+1].Item
			m.next[a] = append(m.next[a], b)
		}
	}
	return nil
}

// Start can be called from several goroutines: m is read-only after Fit.
func (m *lastSeen) Start() eval.Session { return session{m} }

type session struct{ m *lastSeen }

func (s session) Next(item string, _ int64, k int) ([]string, error) {
	var out []string
	for _, it := range s.m.next[item] {
		if len(out) < k && !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func ExampleEvaluate() {
	train := []data.Session{data.NewSession("1", "shoe", "sock", "hat"), data.NewSession("2", "shoe", "lace")}
	test := []data.Session{data.NewSession("3", "shoe", "lace", "unknown", "hat")}
	split := eval.NewSplit(train, test) // drops "unknown": not in training

	m := &lastSeen{}
	ctx := context.Background()
	if err := m.Fit(ctx, split.Train); err != nil {
		fmt.Println(err)
		return
	}
	met, err := eval.Evaluate(ctx, m, split, eval.Options{Ks: []int{1, 20}, Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	hr1, mrr1, _ := met.At(1)
	hr20, mrr20, _ := met.At(20)
	fmt.Printf("%d predictions, dropped %d click\n", met.Predictions, split.DroppedClicks)
	fmt.Printf("HR@1 %.2f MRR@1 %.2f HR@20 %.2f MRR@20 %.2f\n", hr1, mrr1, hr20, mrr20)
	// Output:
	// 2 predictions, dropped 1 click
	// HR@1 0.00 MRR@1 0.00 HR@20 0.50 MRR@20 0.25
}
