package baselines

import (
	"context"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// sessions builds training sessions from item lists; session i starts at
// i hours and clicks are a minute apart, so later sessions are more
// recent.
func sessions(items ...[]string) []data.Session {
	var out []data.Session
	for i, its := range items {
		s := data.Session{ID: string(rune('A' + i))}
		for j, it := range its {
			s.Clicks = append(s.Clicks, data.Click{Item: it, At: int64(i)*3600_000 + int64(j)*60_000})
		}
		out = append(out, s)
	}
	return out
}

// fit fits m on train or fails the test.
func fit(t *testing.T, m eval.Method, train []data.Session) eval.Method {
	t.Helper()
	if err := m.Fit(context.Background(), train); err != nil {
		t.Fatal(err)
	}
	return m
}

// click is one click of a test script and the list expected after it.
type click struct {
	item string
	at   int64
	want []string
}

// play replays clicks in one session of m, checking every list.
func play(t *testing.T, m eval.Method, k int, clicks []click) {
	t.Helper()
	s := m.Start()
	for i, c := range clicks {
		got, err := s.Next(c.item, c.at, k)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s, click %d (%s): got %q, want %q", m.Name(), i, c.item, got, c.want)
		}
	}
}

func TestPOP(t *testing.T) {
	m := fit(t, NewPOP(), sessions([]string{"b", "a"}, []string{"a", "c"}, []string{"a", "b"}, []string{"d", "c"}))
	// a:3, b:2, c:2 (b first seen before c), d:1.
	play(t, m, 3, []click{{item: "d", want: []string{"a", "b", "c"}}, {item: "zzz", want: []string{"a", "b", "c"}}})
	play(t, m, 10, []click{{item: "a", want: []string{"a", "b", "c", "d"}}})
}

func TestSPOP(t *testing.T) {
	train := sessions([]string{"a", "a", "a"}, []string{"b", "c", "b"}, []string{"d", "e"})
	// Popularity: a 3, b 2, c 1, d 1, e 1.
	play(t, fit(t, NewSPOP(), train), 4, []click{
		{item: "e", want: []string{"e", "a", "b", "c"}},
		{item: "d", want: []string{"d", "e", "a", "b"}}, // d and e: 1 click each; d is older in training
		{item: "e", want: []string{"e", "d", "a", "b"}},
		{item: "unknown", want: []string{"e", "d", "a", "b"}},
	})
	// Only the TopN most popular items get a popularity score.
	m := NewSPOP()
	m.TopN = 1
	play(t, fit(t, m, train), 4, []click{{item: "c", want: []string{"c", "a"}}})
}

func TestSegmentCategory(t *testing.T) {
	cats := map[string]string{"a": "shoes", "b": "shoes", "c": "hats", "d": "hats"}
	train := sessions([]string{"a", "b", "b"}, []string{"c", "d", "d"}, []string{"x", "x", "x", "x"})
	m := fit(t, NewSegment(cats, true, 0), train)
	play(t, m, 3, []click{
		{item: "c", want: []string{"d", "c", "x"}},    // popular hats, then global
		{item: "a", want: []string{"b", "a", "x"}},    // popular shoes
		{item: "x", want: []string{"x", "b", "d"}},    // no category: global
		{item: "nope", want: []string{"x", "b", "d"}}, // unknown item: global
	})
	if m.(*Segment).Kind() != "category" {
		t.Errorf("kind %s", m.(*Segment).Kind())
	}
}

func TestSegmentTimeOfDay(t *testing.T) {
	day := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	hour := int64(3600_000)
	at := func(item string, h int64) data.Click { return data.Click{Item: item, At: day + h*hour} }
	train := []data.Session{
		{ID: "1", Clicks: []data.Click{at("coffee", 5), at("coffee", 5), at("paper", 6)}}, // morning at UTC+2
		{ID: "2", Clicks: []data.Click{at("wine", 17), at("wine", 18), at("candle", 18)}}, // evening at UTC+2
		{ID: "3", Clicks: []data.Click{at("lamp", 12), at("lamp", 12), at("lamp", 12)}},   // afternoon
	}
	m := fit(t, NewSegment(nil, true, 2*time.Hour), train)
	if m.(*Segment).Kind() != "time-of-day" {
		t.Fatalf("kind %s", m.(*Segment).Kind())
	}
	play(t, m, 3, []click{
		{item: "lamp", at: day + 6*hour, want: []string{"coffee", "paper", "lamp"}}, // 08:00 local
		{item: "lamp", at: day + 19*hour, want: []string{"wine", "candle", "lamp"}}, // 21:00 local
		{item: "lamp", at: day + 1*hour, want: []string{"lamp", "coffee", "wine"}},  // 03:00 local: no night clicks
	})
	// Without clock and categories: one segment, i.e. POP.
	pop := fit(t, NewSegment(nil, false, 0), train)
	play(t, pop, 2, []click{{item: "wine", at: day + 19*hour, want: []string{"lamp", "coffee"}}})
}

func TestAR(t *testing.T) {
	train := sessions([]string{"a", "b", "c"}, []string{"a", "b"}, []string{"d", "d"})
	// a-b twice, a-c and b-c once; d-d adds 2 to d→d.
	play(t, fit(t, NewAR(), train), 5, []click{
		{item: "a", want: []string{"b", "c"}},
		{item: "c", want: []string{"a", "b"}},
		{item: "b", want: []string{"a", "c"}},
		{item: "d", want: []string{"d"}},
		{item: "e", want: nil},
	})
}

func TestSR(t *testing.T) {
	train := sessions([]string{"a", "b", "c"}, []string{"a", "c"}, []string{"x", "a", "b"})
	// a→b: 1 + 1 = 2; a→c: 1/2 + 1 = 1.5; b→c: 1; x→a 1, x→b 1/2.
	// Rules only point forward and only from the last click.
	m := fit(t, NewSR(), train)
	play(t, m, 5, []click{
		{item: "a", want: []string{"b", "c"}},
		{item: "b", want: []string{"c"}},
		{item: "c", want: nil},
		{item: "x", want: []string{"a", "b"}},
	})
	// steps = 1: only the previous click makes a rule.
	one := NewSR()
	one.Steps = 1
	play(t, fit(t, one, train), 5, []click{{item: "x", want: []string{"a"}}})
	// pruning = 1: one rule per item.
	pr := NewSR()
	pr.Pruning = 1
	play(t, fit(t, pr, train), 5, []click{{item: "a", want: []string{"b"}}})
}

func TestSRRejectsBadParams(t *testing.T) {
	m := NewSR()
	m.Weighting = "cubic"
	if err := m.Fit(context.Background(), sessions([]string{"a", "b"})); err == nil {
		t.Error("unknown weighting accepted")
	}
}

func TestVSKNN(t *testing.T) {
	train := sessions([]string{"a", "b"}, []string{"c", "d"}, []string{"a", "e"})
	m := fit(t, NewVSKNN(VSKNNWindow), train)
	play(t, m, 5, []click{
		// Neighbours of [a]: A and C, equally similar. a is in both (remind).
		{item: "a", want: []string{"a", "b", "e"}},
		// [a c], quadratic weights a 1/4, c 1: D (has c) wins with 1/2, its
		// items decayed by 1 (c is the last click); A and C (1/8) decayed by
		// 1/4 (a is two clicks back).
		{item: "c", want: []string{"c", "d", "a", "b", "e"}},
	})
	// SampleSize 1: only the most recent session sharing an item (C).
	p := VSKNNWindow
	p.SampleSize = 1
	play(t, fit(t, NewVSKNN(p), train), 5, []click{{item: "a", want: []string{"a", "e"}}})
	// K 1: one neighbour; equally similar A and C, the more recent (C) wins.
	p = VSKNNWindow
	p.K = 1
	play(t, fit(t, NewVSKNN(p), train), 5, []click{{item: "a", want: []string{"a", "e"}}})
}

func TestVSKNNIDF(t *testing.T) {
	// a's neighbours vote e twice and b once; but e is clicked in four of
	// five sessions and b in one, so with IDF weighting b comes first.
	train := sessions([]string{"a", "b"}, []string{"a", "e"}, []string{"a", "e"}, []string{"e", "f"}, []string{"e", "g"})
	plain := VSKNNWindow
	play(t, fit(t, NewVSKNN(plain), train), 3, []click{{item: "a", want: []string{"a", "e", "b"}}})
	idf := VSKNNWindow
	idf.IDFWeighting = 2
	play(t, fit(t, NewVSKNN(idf), train), 3, []click{{item: "a", want: []string{"a", "b", "e"}}})
}

func TestVSKNNRejectsBadParams(t *testing.T) {
	for _, p := range []VSKNNParams{
		{K: 0, SampleSize: 10, Similarity: "vec", Weighting: Div, WeightingScore: Div},
		{K: 1, SampleSize: 10, Similarity: "jaccard", Weighting: Div, WeightingScore: Div},
		{K: 1, SampleSize: 10, Similarity: "vec", Weighting: "cubic", WeightingScore: Div},
		{K: 1, SampleSize: 10, Similarity: "vec", Weighting: Div, WeightingScore: "cubic"},
	} {
		if err := NewVSKNN(p).Fit(context.Background(), sessions([]string{"a", "b"})); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestWeightings(t *testing.T) {
	tests := []struct {
		w         Weighting
		step, pos float64 // stepWeight(w, 2), posWeight(w, 2, 4)
	}{
		{Same, 1, 1},
		{Div, 0.5, 0.5},
		{Linear, 0.8, 0.8},
		{Quadratic, 0.25, 0.25},
		{Log, 1 / 0.568201724066995, 1 / 0.568201724066995}, // log10(3.7)
	}
	for _, tc := range tests {
		s, err := stepWeight(tc.w, 2)
		if err != nil || abs(s-tc.step) > 1e-12 {
			t.Errorf("stepWeight(%s, 2) = %v, %v; want %v", tc.w, s, err, tc.step)
		}
		p, err := posWeight(tc.w, 2, 4)
		if err != nil || abs(p-tc.pos) > 1e-12 {
			t.Errorf("posWeight(%s, 2, 4) = %v, %v; want %v", tc.w, p, err, tc.pos)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestConcurrentSessions replays the same sessions sequentially and from
// many goroutines; run with -race.
func TestConcurrentSessions(t *testing.T) {
	var train [][]string
	items := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for i := range 60 {
		train = append(train, []string{items[i%8], items[(i*3+1)%8], items[(i*5+2)%8]})
	}
	methods := []eval.Method{NewPOP(), NewSPOP(), NewSegment(map[string]string{"a": "1", "b": "1"}, false, 0), NewAR(), NewSR(), NewVSKNN(VSKNNWindow), NewVSKNN(VSKNN64)}
	script := [][]string{{"a", "b", "c"}, {"h", "g"}, {"c", "c", "d", "a"}}
	for _, m := range methods {
		fit(t, m, sessions(train...))
		run := func() [][]string {
			var out [][]string
			for _, sc := range script {
				s := m.Start()
				for _, it := range sc {
					top, err := s.Next(it, 0, 20)
					if err != nil {
						t.Error(err)
					}
					out = append(out, top)
				}
				if c, ok := s.(io.Closer); ok { // V-SKNN's scratch goes to the next session
					c.Close()
				}
			}
			return out
		}
		want := run()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got := run(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: concurrent replay differs", m.Name())
				}
			}()
		}
		wg.Wait()
	}
}

func TestRegistered(t *testing.T) {
	names := replay.Names()
	for _, n := range []string{NamePOP, NameSPOP, NameSegment, NameAR, NameSR, NameVSKNN, NameVSKNNWindow} {
		f, ok := replay.Lookup(n)
		if !ok {
			t.Errorf("%s not registered (have %v)", n, names)
			continue
		}
		if _, err := f(replay.Config{}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}
