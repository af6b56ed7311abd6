package console

import (
	"reflect"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

func learnedOf(items ...wire.ItemWeights) *learned {
	l := &learned{items: items, byID: map[string]*wire.ItemWeights{}}
	for i := range l.items {
		l.byID[l.items[i].ID] = &l.items[i]
	}
	return l
}

// TestDiff: items added, gone, moved in popularity, and neighbours gained
// and lost, largest changes first; unchanged items are left out.
func TestDiff(t *testing.T) {
	a := learnedOf(
		wire.ItemWeights{ID: "same", Pop: 0.5, Next: []wire.Neighbor{{ID: "x", W: 1}}},
		wire.ItemWeights{ID: "moved", Pop: 0.2, Next: []wire.Neighbor{{ID: "x", W: 1}, {ID: "y", W: 0.5}}},
		wire.ItemWeights{ID: "gone", Pop: 0.1})
	b := learnedOf(
		wire.ItemWeights{ID: "same", Pop: 0.5, Next: []wire.Neighbor{{ID: "x", W: 0.9}}},
		wire.ItemWeights{ID: "moved", Pop: 0.6, Next: []wire.Neighbor{{ID: "x", W: 1}, {ID: "z", W: 0.5}}},
		wire.ItemWeights{ID: "new", Pop: 0.3, Next: []wire.Neighbor{{ID: "moved", W: 1}}})
	got, n := diff(a, b)
	if n != 3 || len(got) != 3 {
		t.Fatalf("%d changes (%d listed): %+v; want 3", n, len(got), got)
	}
	want := []struct {
		id          string
		added, gone bool
		gained      []string
		lost        []string
	}{
		{"new", true, false, []string{"moved"}, nil},
		{"gone", false, true, nil, nil},
		{"moved", false, false, []string{"z"}, []string{"y"}},
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.Added != w.added || g.Gone != w.gone || !reflect.DeepEqual(g.Gained, w.gained) || !reflect.DeepEqual(g.Lost, w.lost) {
			t.Errorf("change %d = %+v, want %+v", i, g, w)
		}
	}
	if got[2].Was != 0.2 || got[2].Now != 0.6 {
		t.Errorf("moved: %v → %v, want 0.2 → 0.6", got[2].Was, got[2].Now)
	}
}
