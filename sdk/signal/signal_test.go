package signal_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/signal"
	"github.com/tailorhq/tailor/sdk/wire"
)

func TestStrength(t *testing.T) {
	it := &wire.Item{ID: "a"}
	for _, tc := range []struct {
		name string
		e    wire.Event
		want float32
	}{
		{"page", wire.Event{Kind: wire.KindPage}, 0},
		{"view", wire.Event{Kind: wire.KindView, Item: it}, 0.5},
		{"click", wire.Event{Kind: wire.KindClick, Item: it}, 1},
		{"cart", wire.Event{Kind: wire.KindCart, Item: it}, 2},
		{"purchase", wire.Event{Kind: wire.KindPurchase, Item: it}, 3},
		{"search", wire.Event{Kind: wire.KindSearch, Query: "gown"}, 1},
		{"attrs", wire.Event{Kind: wire.KindAttrs}, 0},
		{"unknown kind", wire.Event{Kind: 200}, 0},
		{"dwell 0", wire.Event{Kind: wire.KindDwell, Item: it}, 0},
		{"dwell 1999 ms", wire.Event{Kind: wire.KindDwell, Item: it, Dwell: 1999}, 0},
		{"dwell 2 s", wire.Event{Kind: wire.KindDwell, Item: it, Dwell: 2000}, 0.2},
		{"dwell 10 s", wire.Event{Kind: wire.KindDwell, Item: it, Dwell: 10000}, 1},
		{"dwell 30 s", wire.Event{Kind: wire.KindDwell, Item: it, Dwell: 30000}, 3},
		{"dwell an hour", wire.Event{Kind: wire.KindDwell, Item: it, Dwell: 3600000}, 3},
		{"scroll 49", wire.Event{Kind: wire.KindScroll, Scroll: 49}, 0},
		{"scroll 50", wire.Event{Kind: wire.KindScroll, Scroll: 50}, 0.5},
		{"scroll 100", wire.Event{Kind: wire.KindScroll, Scroll: 100}, 1},
	} {
		if got := signal.Strength(&tc.e); got != tc.want {
			t.Errorf("%s: Strength = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPriceBand(t *testing.T) {
	for _, tc := range []struct {
		price float32
		want  int
	}{
		{-1, 0}, {0, 0}, {0.01, 1}, {24.99, 1}, {25, 2}, {49.99, 2}, {50, 3},
		{99, 3}, {100, 4}, {249, 4}, {250, 5}, {499.99, 5}, {500, 6}, {1e9, 6},
	} {
		if got := signal.PriceBand(tc.price); got != tc.want {
			t.Errorf("PriceBand(%v) = %d, want %d", tc.price, got, tc.want)
		}
	}
}

func TestTraits(t *testing.T) {
	for _, tc := range []struct {
		name string
		it   wire.Item
		want []string
	}{
		{"bare", wire.Item{ID: "a"}, nil},
		{"category", wire.Item{ID: "a", Category: "shoes"}, []string{"cat:shoes"}},
		{"all", wire.Item{ID: "a", Category: "evening-gowns", Tags: []string{"red", "", "formal"}, Price: 189},
			[]string{"cat:evening-gowns", "tag:red", "tag:formal", "price:4"}},
		{"expensive", wire.Item{ID: "a", Price: 5000}, []string{"price:6"}},
	} {
		got := signal.Traits(nil, &tc.it)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Traits = %q, want %q", tc.name, got, tc.want)
		}
	}
	// Traits appends: a caller passes a stack buffer.
	var buf [4]string
	got := signal.Traits(append(buf[:0], "x"), &wire.Item{Category: "c"})
	if !slices.Equal(got, []string{"x", "cat:c"}) {
		t.Errorf("Traits appended to [x] = %q", got)
	}
}

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"a", nil},
		{"Red Evening-Gowns", []string{"q:red", "q:evening", "q:gowns"}},
		{"  GPS  watch, 42mm!", []string{"q:gps", "q:watch", "q:42mm"}},
		{"a b cd", []string{"q:cd"}},
		{"été Kleid", []string{"q:été", "q:kleid"}},
		{"one two three four five six seven eight nine ten", []string{"q:one", "q:two", "q:three", "q:four", "q:five", "q:six", "q:seven", "q:eight"}},
	} {
		if got := signal.Terms(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %q, want %q", tc.query, got, tc.want)
		}
	}
}

// TestTermsBounded checks that a term stays short enough for the profile
// to store it: a query is up to wire.MaxTextLen bytes, one word of it
// included, and the profile's keys ("q:"+term, "searched="+term) must
// decode again.
func TestTermsBounded(t *testing.T) {
	q := strings.Repeat("x", wire.MaxTextLen) + " ok " + strings.Repeat("y", wire.MaxIDLen)
	for _, term := range signal.Terms(q) {
		if len(term) > 2+wire.MaxIDLen {
			t.Errorf("Terms(%d bytes) gave a term of %d bytes", len(q), len(term))
		}
	}
	if got := signal.Terms(q); !slices.Contains(got, "q:ok") {
		t.Errorf("Terms dropped the short word: %q", got)
	}
}

func TestMatchesTerm(t *testing.T) {
	gown := &wire.Item{ID: "g", Category: "evening-gowns", Tags: []string{"Red", "floor length"}}
	for _, tc := range []struct {
		term string
		it   *wire.Item
		want bool
	}{
		{"q:evening", gown, true},
		{"q:even", gown, true},   // a word starts with the term
		{"q:gown", gown, true},   // "gowns" starts with "gown"
		{"q:gowns", gown, true},  // category word itself
		{"q:red", gown, true},    // tags match, lower-cased
		{"q:length", gown, true}, // any word of a tag
		{"q:reds", gown, false},  // "red" is under four letters
		{"q:eveningwear", gown, true},
		{"q:blue", gown, false},
		{"q:owns", gown, false}, // not a prefix
		{"q:gps", &wire.Item{ID: "w", Category: "running-watches", Tags: []string{"GPS"}}, true},
		{"q:gown", &wire.Item{ID: "x"}, false},
	} {
		if got := signal.MatchesTerm(tc.it, tc.term); got != tc.want {
			t.Errorf("MatchesTerm(%+v, %q) = %v, want %v", tc.it, tc.term, got, tc.want)
		}
	}
}

func TestSplitTrait(t *testing.T) {
	for _, tc := range []struct{ key, kind, value string }{
		{"cat:shoes", "cat", "shoes"},
		{"tag:a:b", "tag", "a:b"},
		{"q:", "q", ""},
		{"plain", "", "plain"},
		{"", "", ""},
	} {
		if kind, value := signal.SplitTrait(tc.key); kind != tc.kind || value != tc.value {
			t.Errorf("SplitTrait(%q) = %q, %q, want %q, %q", tc.key, kind, value, tc.kind, tc.value)
		}
	}
}

func ExampleTraits() {
	it := wire.Item{ID: "heels-3", Category: "metallic-heels", Tags: []string{"formal", "gold"}, Price: 95}
	fmt.Println(signal.Traits(nil, &it))
	// Output:
	// [cat:metallic-heels tag:formal tag:gold price:3]
}

func ExampleTerms() {
	fmt.Println(signal.Terms("Red evening gown, size M"))
	// Output:
	// [q:red q:evening q:gown q:size]
}
