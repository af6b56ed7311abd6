package eval

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tailorhq/tailor/build/replay/data"
)

// scripted is a Method whose sessions answer from a function of the
// clicked item.
type scripted struct {
	answer func(item string) []string
	starts atomic.Int64
	closed atomic.Int64
	closer bool
}

func (m *scripted) Name() string                              { return "scripted" }
func (m *scripted) Fit(context.Context, []data.Session) error { return nil }
func (m *scripted) Start() Session {
	m.starts.Add(1)
	if m.closer {
		return &closingSession{m: m}
	}
	return &scriptedSession{m: m}
}

type scriptedSession struct{ m *scripted }

func (s *scriptedSession) Next(item string, at int64, k int) ([]string, error) {
	return s.m.answer(item), nil
}

type closingSession struct{ m *scripted }

func (s *closingSession) Next(item string, at int64, k int) ([]string, error) {
	return s.m.answer(item), nil
}
func (s *closingSession) Close() error { s.m.closed.Add(1); return nil }

// sessions builds sessions from item lists, one click a second.
func sessions(items ...[]string) []data.Session {
	var out []data.Session
	for i, its := range items {
		out = append(out, data.NewSession(string(rune('A'+i)), its...))
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestNewSplitFiltersUnknownItems(t *testing.T) {
	train := sessions([]string{"a", "b"}, []string{"c", "a"})
	test := sessions(
		[]string{"a", "x", "b"}, // x removed, a b kept
		[]string{"x", "a"},      // left with one click: dropped
		[]string{"c", "c"},
	)
	s := NewSplit(train, test)
	if got, want := len(s.Test), 2; got != want {
		t.Fatalf("%d test sessions, want %d", got, want)
	}
	if s.DroppedClicks != 3 || s.DroppedSessions != 1 {
		t.Errorf("dropped %d clicks, %d sessions; want 3, 1", s.DroppedClicks, s.DroppedSessions)
	}
	if got := s.Test[0].Clicks; len(got) != 2 || got[0].Item != "a" || got[1].Item != "b" {
		t.Errorf("first session %+v", got)
	}
	if len(test[0].Clicks) != 3 {
		t.Error("input modified")
	}
	if s.Predictions() != 2 {
		t.Errorf("predictions %d, want 2", s.Predictions())
	}
}

func TestEvaluateMetrics(t *testing.T) {
	// Predictions: after a -> [b c d] (next b: rank 1), after b -> [x y c]
	// (next c: rank 3), after c -> [] (next a: miss), after d -> ranks 6.
	answers := map[string][]string{
		"a": {"b", "c", "d"},
		"b": {"x", "y", "c"},
		"c": nil,
		"d": {"1", "2", "3", "4", "5", "a"},
	}
	m := &scripted{answer: func(it string) []string { return answers[it] }}
	train := sessions([]string{"a", "b", "c", "d", "x", "y", "1", "2", "3", "4", "5"})
	test := sessions([]string{"a", "b", "c", "a"}, []string{"d", "a"})
	met, err := Evaluate(context.Background(), m, NewSplit(train, test), Options{Ks: []int{1, 5, 10}})
	if err != nil {
		t.Fatal(err)
	}
	if met.Predictions != 4 || met.Sessions != 2 {
		t.Fatalf("predictions %d sessions %d", met.Predictions, met.Sessions)
	}
	tests := []struct {
		k       int
		hr, mrr float64
	}{
		{1, 1.0 / 4, 1.0 / 4},
		{5, 2.0 / 4, (1 + 1.0/3) / 4},
		{10, 3.0 / 4, (1 + 1.0/3 + 1.0/6) / 4},
	}
	for _, tc := range tests {
		hr, mrr, ok := met.At(tc.k)
		if !ok || !near(hr, tc.hr) || !near(mrr, tc.mrr) {
			t.Errorf("@%d: HR %v MRR %v, want %v %v", tc.k, hr, mrr, tc.hr, tc.mrr)
		}
	}
	// Recommended training items: b c d x y 1 2 3 4 5 a = all 11.
	if !near(met.Coverage, 1) {
		t.Errorf("coverage %v, want 1", met.Coverage)
	}
	// Distinct share: 11 distinct among 3+3+0+6 = 12 slots.
	if met.DiversityKind != DiversityDistinct || !near(met.Diversity, 11.0/12) {
		t.Errorf("diversity %v %s", met.Diversity, met.DiversityKind)
	}
	if m.starts.Load() != 2 {
		t.Errorf("Start called %d times, want 2", m.starts.Load())
	}
}

func TestEvaluateCategoryDiversity(t *testing.T) {
	cats := map[string]string{"a": "1", "b": "1", "c": "2"} // d has none
	m := &scripted{answer: func(string) []string { return []string{"a", "b", "c", "d"} }}
	s := NewSplit(sessions([]string{"a", "b", "c", "d"}), sessions([]string{"a", "b"}))
	met, err := Evaluate(context.Background(), m, s, Options{Categories: cats})
	if err != nil {
		t.Fatal(err)
	}
	// 6 pairs; only (a, b) share a category.
	if met.DiversityKind != DiversityCategoryILD || !near(met.Diversity, 5.0/6) {
		t.Errorf("diversity %v %s, want 5/6", met.Diversity, met.DiversityKind)
	}
}

func TestEvaluateDeterministicAcrossWorkers(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e", "f", "g"}
	var test [][]string
	for i := range 200 {
		var s []string
		for j := range 2 + i%5 {
			s = append(s, items[(i*3+j*j)%len(items)])
		}
		test = append(test, s)
	}
	m := &scripted{answer: func(it string) []string {
		out := []string{}
		for i, x := range items {
			if x != it && (i+len(it))%2 == 0 {
				out = append(out, x)
			}
		}
		return out
	}}
	split := NewSplit(sessions(items), sessions(test...))
	var want *Metrics
	for _, w := range []int{1, 2, 7, 500} {
		met, err := Evaluate(context.Background(), m, split, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		met.Duration = 0
		if want == nil {
			want = met
		} else if !reflect.DeepEqual(met, want) {
			t.Errorf("workers %d: %+v\nwant %+v", w, met, want)
		}
	}
}

func TestEvaluateProgress(t *testing.T) {
	m := &scripted{answer: func(string) []string { return nil }}
	split := NewSplit(sessions([]string{"a", "b", "c"}),
		sessions([]string{"a", "b"}, []string{"a", "b", "c"}, []string{"c", "a"}))
	var mu sync.Mutex
	var calls [][2]int
	_, err := Evaluate(context.Background(), m, split, Options{Workers: 2, Progress: func(d, t int) {
		mu.Lock()
		calls = append(calls, [2]int{d, t})
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[2] != [2]int{4, 4} {
		t.Fatalf("progress calls %v", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Errorf("progress went back: %v", calls)
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	boom := errors.New("boom")
	split := NewSplit(sessions([]string{"a", "b"}), sessions([]string{"a", "b"}, []string{"b", "a"}))
	tests := []struct {
		name string
		m    Method
		opt  Options
		want error
	}{
		{"duplicate", &scripted{answer: func(string) []string { return []string{"a", "b", "a"} }}, Options{}, ErrDuplicate},
		{"session error", &failing{err: boom}, Options{Workers: 2}, boom},
		{"bad cut-off", &scripted{answer: func(string) []string { return nil }}, Options{Ks: []int{0, 5}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(context.Background(), tc.m, split, tc.opt)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Evaluate(context.Background(), &failing{}, NewSplit(nil, nil), Options{}); !errors.Is(err, ErrNoTest) {
		t.Errorf("empty split: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, &failing{}, split, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

type failing struct{ err error }

func (m *failing) Name() string                              { return "failing" }
func (m *failing) Fit(context.Context, []data.Session) error { return nil }
func (m *failing) Start() Session                            { return m }
func (m *failing) Next(string, int64, int) ([]string, error) { return nil, m.err }

func TestEvaluateClosesSessions(t *testing.T) {
	m := &scripted{closer: true, answer: func(string) []string { return nil }}
	split := NewSplit(sessions([]string{"a", "b"}), sessions([]string{"a", "b"}, []string{"b", "a"}, []string{"a", "a"}))
	if _, err := Evaluate(context.Background(), m, split, Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	if m.closed.Load() != 3 {
		t.Errorf("closed %d sessions, want 3", m.closed.Load())
	}
}

func TestRatioCI(t *testing.T) {
	// Identical sessions: no spread, zero width.
	r, h := ratioCI([]float64{1, 1, 1}, []float64{2, 2, 2})
	if !near(r, 0.5) || !near(h, 0) {
		t.Errorf("r %v h %v", r, h)
	}
	// Two sessions, one all hits one all misses, 1 prediction each:
	// r = 0.5, var = 2 * (0.25+0.25) / 4 = 0.25, half = 1.96 * 0.5.
	r, h = ratioCI([]float64{1, 0}, []float64{1, 1})
	if !near(r, 0.5) || !near(h, 0.98) {
		t.Errorf("r %v h %v", r, h)
	}
}

func TestSplitSample(t *testing.T) {
	ids := func(s *Split) []string {
		var out []string
		for _, ses := range s.Test {
			out = append(out, ses.ID)
		}
		return out
	}
	tests := []struct {
		n    int
		want []string
	}{
		{0, []string{"0", "1", "2", "3", "4", "5"}},
		{6, []string{"0", "1", "2", "3", "4", "5"}},
		{9, []string{"0", "1", "2", "3", "4", "5"}},
		{3, []string{"0", "2", "4"}},
		{4, []string{"0", "1", "3", "4"}},
		{1, []string{"0"}},
	}
	for _, tc := range tests {
		var test []data.Session
		for i := range 6 {
			test = append(test, data.Session{ID: string(rune('0' + i)), Clicks: []data.Click{{Item: "a"}, {Item: "a"}}})
		}
		s := NewSplit([]data.Session{{ID: "t", Clicks: []data.Click{{Item: "a"}}}}, test)
		s.Sample(tc.n)
		if got := ids(s); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Sample(%d) kept %v, want %v", tc.n, got, tc.want)
		}
	}
}
