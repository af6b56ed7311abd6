package order_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/order"
)

// TestSortMatchesSortSlice sorts random inputs, with many ties broken by
// position, as callers do, and compares with sort.Slice under the same
// total order.
func TestSortMatchesSortSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type rec struct{ key, pos int }
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 100, 1000} {
		for _, spread := range []int{1, 3, 1 << 20} {
			for trial := 0; trial < 20; trial++ {
				got := make([]rec, n)
				for i := range got {
					got[i] = rec{key: rng.IntN(spread), pos: i}
				}
				want := slices.Clone(got)
				less := func(s []rec) func(i, j int) bool {
					return func(i, j int) bool {
						return s[i].key < s[j].key || s[i].key == s[j].key && s[i].pos < s[j].pos
					}
				}
				order.Sort(len(got), less(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
				sort.Slice(want, less(want))
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d spread=%d: Sort = %v, sort.Slice = %v", n, spread, got, want)
				}
			}
		}
	}
}

// TestSortOrdersNeighbours checks the contract with a partial order (ties
// not broken): afterwards no element is less than the one before it.
func TestSortOrdersNeighbours(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		s := make([]float64, rng.IntN(300))
		for i := range s {
			s[i] = float64(rng.IntN(10))
		}
		orig := slices.Clone(s)
		order.Sort(len(s), func(i, j int) bool { return s[i] > s[j] }, func(i, j int) { s[i], s[j] = s[j], s[i] })
		for i := 1; i < len(s); i++ {
			if s[i] > s[i-1] {
				t.Fatalf("descending sort out of order at %d: %v", i, s)
			}
		}
		slices.Sort(orig)
		sorted := slices.Clone(s)
		slices.Sort(sorted)
		if !slices.Equal(orig, sorted) {
			t.Fatalf("Sort lost or duplicated elements: %v", s)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{in: nil, want: nil},
		{in: []string{"b"}, want: []string{"b"}},
		{in: []string{"b", "a", "c", "a"}, want: []string{"a", "a", "b", "c"}},
		{in: []string{"ab", "a", "", "B"}, want: []string{"", "B", "a", "ab"}},
	} {
		got := slices.Clone(tc.in)
		order.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Strings(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 50; trial++ {
		m := map[string]int{}
		for i := rng.IntN(200); i > 0; i-- {
			m[fmt.Sprintf("k%d", rng.IntN(1000))] = i
		}
		got := order.Keys(m)
		if len(got) != len(m) || !slices.IsSorted(got) {
			t.Fatalf("Keys = %q: not the %d keys in order", got, len(m))
		}
		for _, k := range got {
			if _, ok := m[k]; !ok {
				t.Fatalf("Keys returned %q, not a key", k)
			}
		}
	}
	if got := order.Keys(map[string]bool(nil)); len(got) != 0 {
		t.Errorf("Keys(nil) = %q, want none", got)
	}
}

func ExampleKeys() {
	m := map[string]int{"pear": 3, "apple": 1, "fig": 2}
	fmt.Println(order.Keys(m))
	// Output:
	// [apple fig pear]
}

func ExampleSort() {
	type item struct {
		id    string
		score float32
	}
	items := []item{{"a", 1}, {"b", 3}, {"c", 3}, {"d", 2}}
	// Highest score first, ties by id: a total order, as Sort expects.
	order.Sort(len(items), func(i, j int) bool {
		return items[i].score > items[j].score || items[i].score == items[j].score && items[i].id < items[j].id
	}, func(i, j int) { items[i], items[j] = items[j], items[i] })
	fmt.Println(items)
	// Output:
	// [{b 3} {c 3} {d 2} {a 1}]
}

// TestTopMatchesSort checks that Top puts the first k elements, in order,
// at the front, and keeps every element, for k on both sides of n/2.
func TestTopMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 3, 10, 57, 300, 1000} {
		for _, k := range []int{0, 1, 2, 5, 20, n / 2, n/2 + 1, n - 1, n} {
			if k < 0 || k > n {
				continue
			}
			for trial := 0; trial < 10; trial++ {
				got := make([]int, n)
				for i := range got {
					got[i] = rng.IntN(n/4 + 1)
				}
				want := slices.Clone(got)
				slices.Sort(want)
				rest := slices.Clone(got)
				order.Top(n, k, func(i, j int) bool { return got[i] < got[j] }, func(i, j int) { got[i], got[j] = got[j], got[i] })
				if !slices.Equal(got[:k], want[:k]) {
					t.Fatalf("n=%d k=%d: front %v, want %v", n, k, got[:k], want[:k])
				}
				slices.Sort(rest)
				all := slices.Clone(got)
				slices.Sort(all)
				if !slices.Equal(all, rest) {
					t.Fatalf("n=%d k=%d: Top lost or duplicated elements", n, k)
				}
			}
		}
	}
}
