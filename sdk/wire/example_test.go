package wire_test

import (
	"errors"
	"fmt"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Marshal writes any wire type as MessagePack; Unmarshal reads it back,
// checking every bound, and names the document in its errors.
func ExampleMarshal() {
	d := wire.Delta{
		Site:  "demo",
		Model: 4,
		Pairs: []wire.Pair{{From: "gown-1", To: "heels-3", W: 1}},
		Items: []wire.Count{{ID: "gown-1", N: 1}, {ID: "heels-3", N: 1}},
	}
	b := wire.Marshal(&d)
	fmt.Println(len(b), "bytes")

	var got wire.Delta
	if err := wire.Unmarshal(b, &got, "delta"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Site, got.Model, got.Pairs[0].From, "->", got.Pairs[0].To)
	// Output:
	// 124 bytes
	// demo 4 gown-1 -> heels-3
}

// A decoder refuses what it does not know, and the error says what and
// where; errors.Is matches the package's sentinels.
func ExampleUnmarshal() {
	b := wire.Marshal(&wire.Weights{Version: 3})
	b[8] = 2 // the schema version: {"schema": 1, ...} becomes {"schema": 2, ...}

	var w wire.Weights
	err := wire.Unmarshal(b, &w, "weights")
	fmt.Println(err)
	fmt.Println(errors.Is(err, wire.ErrSchema))
	// Output:
	// decode weights: weights: wire: unknown schema version
	// true
}

func ExampleShardOf() {
	for _, id := range []string{"gown-1", "heels-3", "clutch-2"} {
		fmt.Println(id, wire.ShardOf(id, 16))
	}
	// Output:
	// gown-1 8
	// heels-3 8
	// clutch-2 15
}
