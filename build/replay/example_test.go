package replay_test

import (
	"context"
	"fmt"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
)

// repeat recommends the item just clicked: a stand-in for a Tailor mode.
type repeat struct{ epsilon float64 }

func (m *repeat) Name() string                                       { return "repeat" }
func (m *repeat) Fit(context.Context, []data.Session) error          { return nil }
func (m *repeat) Start() eval.Session                                { return m }
func (m *repeat) Next(item string, _ int64, _ int) ([]string, error) { return []string{item}, nil }

// Annotate fills in what only the method knows.
func (m *repeat) Annotate(r *report.Result) {
	r.Mode = report.ModeLDP
	r.Epsilon = report.Float(m.epsilon)
	r.BytesSynced = report.Float(512)
}

// A package registers its methods in init; the command then runs them
// with every other registered method, or alone with -methods.
func ExampleRegister() {
	for _, eps := range []float64{1, 4} {
		replay.Register(fmt.Sprintf("example-repeat-e%g", eps), func(replay.Config) (eval.Method, error) {
			return &repeat{epsilon: eps}, nil
		})
	}

	split := eval.NewSplit([]data.Session{data.NewSession("1", "a", "b")}, []data.Session{data.NewSession("2", "a", "a", "b")})
	results, err := replay.Run(context.Background(), split, replay.Options{
		Methods: []string{"example-repeat-e1", "example-repeat-e4"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		hr, _, _ := r.At(20)
		fmt.Printf("%s %s HR@20 %.2f bytes %.0f\n", r.Method, r.ModeLabel(), hr, *r.BytesSynced)
	}
	// Output:
	// repeat ldp ε=1 HR@20 0.50 bytes 512
	// repeat ldp ε=4 HR@20 0.50 bytes 512
}
