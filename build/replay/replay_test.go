package replay

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
)

// echo recommends the item just clicked, and records what it was given.
type echo struct {
	cfg    Config
	fitted int
	fitErr error
	mode   string
}

func (m *echo) Name() string { return "echo" }
func (m *echo) Fit(_ context.Context, train []data.Session) error {
	m.fitted = len(train)
	if m.cfg.FitProgress != nil {
		m.cfg.FitProgress(1, 1)
	}
	return m.fitErr
}
func (m *echo) Start() eval.Session { return m }
func (m *echo) Next(item string, _ int64, _ int) ([]string, error) {
	return []string{item}, nil
}
func (m *echo) Annotate(r *report.Result) {
	if m.mode != "" {
		r.Mode = m.mode
		r.Epsilon = report.Float(4)
		r.BytesSynced = report.Float(1234)
	}
}

// unregister removes a name registered by a test.
func unregister(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(factories, name)
	order = slices.DeleteFunc(order, func(n string) bool { return n == name })
}

// register registers a factory for the test only.
func register(t *testing.T, name string, f Factory) {
	t.Helper()
	Register(name, f)
	t.Cleanup(func() { unregister(name) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

func TestRegistry(t *testing.T) {
	f := func(Config) (eval.Method, error) { return &echo{}, nil }
	register(t, "test-a", f)
	register(t, "test-b", f)
	names := Names()
	if i, j := slices.Index(names, "test-a"), slices.Index(names, "test-b"); i < 0 || j != i+1 {
		t.Errorf("names %v: want test-a then test-b", names)
	}
	mustPanic(t, "duplicate", func() { Register("test-a", f) })
	mustPanic(t, "empty name", func() { Register("", f) })
	mustPanic(t, "nil factory", func() { Register("test-c", nil) })

	got, err := Resolve([]string{"test-b", "test-a"})
	if err != nil || !slices.Equal(got, []string{"test-b", "test-a"}) {
		t.Errorf("Resolve = %v, %v", got, err)
	}
	_, err = Resolve([]string{"test-a", "nope"})
	var unknown *UnknownError
	if !errors.As(err, &unknown) || !slices.Equal(unknown.Names, []string{"nope"}) {
		t.Errorf("Resolve unknown: %v", err)
	}
	if all, _ := Resolve(nil); !slices.Equal(all, Names()) {
		t.Errorf("Resolve(nil) = %v", all)
	}
}

func TestRun(t *testing.T) {
	var built []*echo
	register(t, "test-echo", func(c Config) (eval.Method, error) {
		m := &echo{cfg: c}
		built = append(built, m)
		return m, nil
	})
	register(t, "test-ldp", func(c Config) (eval.Method, error) { return &echo{cfg: c, mode: report.ModeLDP}, nil })

	split := eval.NewSplit([]data.Session{data.NewSession("1", "a", "a", "b")}, []data.Session{data.NewSession("2", "a", "a", "b")})
	var phases []Phase
	var done []string // methods of each Done call, in order
	results, err := Run(context.Background(), split, Options{
		Methods:  []string{"test-echo", "test-ldp"},
		Config:   Config{Seed: 42},
		Progress: func(p Progress) { phases = append(phases, p.Phase) },
		Done: func(rs []report.Result) error {
			done = append(done, rs[len(rs)-1].Mode)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || len(built) != 1 || built[0].cfg.Seed != 42 || built[0].fitted != 1 {
		t.Fatalf("results %d, built %d", len(results), len(built))
	}
	// Echo: after a (next a) hit at rank 1; after a (next b) miss.
	r := results[0]
	if hr, mrr, _ := r.At(20); r.Method != "echo" || r.Mode != report.ModeCentral || hr != 0.5 || mrr != 0.5 {
		t.Errorf("result %+v", r)
	}
	if l := results[1]; l.Mode != report.ModeLDP || l.Epsilon == nil || *l.Epsilon != 4 || *l.BytesSynced != 1234 {
		t.Errorf("annotated result %+v", l)
	}
	if !slices.Contains(phases, PhaseFit) || !slices.Contains(phases, PhaseEval) {
		t.Errorf("progress phases %v", phases)
	}
	if !slices.Equal(done, []string{report.ModeCentral, report.ModeLDP}) {
		t.Errorf("Done saw the modes %v, want one call per method in order", done)
	}
	// An error from Done stops the run after that method.
	stop := errors.New("disk full")
	rs, err := Run(context.Background(), split, Options{Methods: []string{"test-echo", "test-ldp"},
		Done: func([]report.Result) error { return stop }})
	if !errors.Is(err, stop) || len(rs) != 1 {
		t.Errorf("Done failing: %d results, err %v", len(rs), err)
	}
}

func TestRunErrors(t *testing.T) {
	boom := errors.New("boom")
	register(t, "test-factory-fails", func(Config) (eval.Method, error) { return nil, boom })
	register(t, "test-fit-fails", func(Config) (eval.Method, error) { return &echo{fitErr: boom}, nil })
	split := eval.NewSplit([]data.Session{data.NewSession("1", "a", "b")}, []data.Session{data.NewSession("2", "a", "b")})
	for _, name := range []string{"test-factory-fails", "test-fit-fails"} {
		if _, err := Run(context.Background(), split, Options{Methods: []string{name}}); !errors.Is(err, boom) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	var unknown *UnknownError
	if _, err := Run(context.Background(), split, Options{Methods: []string{"nope"}}); !errors.As(err, &unknown) {
		t.Errorf("unknown method: %v", err)
	}
}
