package wiretest_test

import (
	"math"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
)

type doc struct {
	Name  string
	N     int32
	U     uint16
	F     float32
	B     bool
	Tags  []string
	Attrs map[string]uint16
	Next  *doc
	ID    [2]byte
	Any   any
}

func TestSameData(t *testing.T) {
	full := func() doc {
		return doc{Name: "a", N: -1, U: 2, F: 0.5, B: true, Tags: []string{"x"},
			Attrs: map[string]uint16{"k": 1}, Next: &doc{Name: "b"}, ID: [2]byte{1, 2}, Any: "s"}
	}
	for _, tc := range []struct {
		name string
		a, b any
		want bool
	}{
		{"equal", full(), full(), true},
		{"nil and empty slice", doc{Tags: nil}, doc{Tags: []string{}}, true},
		{"nil and empty map", doc{Attrs: nil}, doc{Attrs: map[string]uint16{}}, true},
		{"both nil", nil, nil, true},
		{"nil and value", nil, doc{}, false},
		{"types differ", int32(1), int64(1), false},
		{"string", doc{Name: "a"}, doc{Name: "b"}, false},
		{"int", doc{N: 1}, doc{N: 2}, false},
		{"uint", doc{U: 1}, doc{U: 2}, false},
		{"float", doc{F: 1}, doc{F: 2}, false},
		{"NaN", doc{F: float32(math.NaN())}, doc{F: float32(math.NaN())}, false},
		{"bool", doc{B: true}, doc{}, false},
		{"slice element", doc{Tags: []string{"x"}}, doc{Tags: []string{"y"}}, false},
		{"slice length", doc{Tags: []string{"x"}}, doc{Tags: []string{"x", "x"}}, false},
		{"map value", doc{Attrs: map[string]uint16{"k": 1}}, doc{Attrs: map[string]uint16{"k": 2}}, false},
		{"map key", doc{Attrs: map[string]uint16{"k": 1}}, doc{Attrs: map[string]uint16{"j": 1}}, false},
		{"nil pointer", doc{Next: &doc{}}, doc{}, false},
		{"pointee", doc{Next: &doc{N: 1}}, doc{Next: &doc{N: 2}}, false},
		{"array", doc{ID: [2]byte{1}}, doc{ID: [2]byte{2}}, false},
		{"interface", doc{Any: "s"}, doc{Any: "t"}, false},
	} {
		if got := wiretest.SameData(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: SameData = %v, want %v", tc.name, got, tc.want)
		}
	}
}
