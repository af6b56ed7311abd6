package harness_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/abi"
	"github.com/tailorhq/tailor/wasm/harness"
)

// doc builds a msgpack document with the writer.
func doc(f func(w *msgp.Writer)) []byte {
	w := msgp.NewWriter(64)
	f(w)
	return w.Bytes()
}

func validEvent() []byte {
	return wire.Marshal(&wire.Event{Kind: wire.KindClick, Time: t0.UnixMilli(), Item: &wire.Item{ID: "a", Category: "c"}})
}

// TestBadInputLeavesStateUnchanged sends malformed, truncated, oversized
// and invalid inputs to every export that takes input: each must return
// BadInput with a message, never trap, and leave the profile as it was.
func TestBadInputLeavesStateUnchanged(t *testing.T) {
	in := initialized(t)
	if err := in.Track(event(wire.KindClick, "gown-1", "evening-gowns", t0)); err != nil {
		t.Fatal(err)
	}
	before, err := in.SaveProfile()
	if err != nil {
		t.Fatal(err)
	}
	ev := validEvent()
	nanEvent := wire.Marshal(&wire.Event{Kind: wire.KindClick, Time: 1, Item: &wire.Item{ID: "a", Price: float32(math.NaN())}})
	infWeights := doc(func(w *msgp.Writer) {
		w.MapHeader(2)
		w.String("schema")
		w.Uint(wire.WeightsSchema)
		w.String("items")
		w.ArrayHeader(1)
		w.ArrayHeader(3)
		w.String("x")
		w.Float64(math.Inf(1))
		w.ArrayHeader(0)
	})
	tests := []struct {
		name string
		op   string
		in   []byte
	}{
		{"event garbage", abi.Track, []byte("not msgpack at all")},
		{"event truncated", abi.Track, ev[:len(ev)-3]},
		{"event trailing bytes", abi.Track, append(bytes.Clone(ev), 0xc0)},
		{"event empty", abi.Track, []byte{}},
		{"event NaN price", abi.Track, nanEvent},
		{"event unknown kind", abi.Track, wire.Marshal(&wire.Event{Kind: 99, Time: 1})},
		{"event without item", abi.Track, wire.Marshal(&wire.Event{Kind: wire.KindClick, Time: 1})},
		{"event hostile str32 length", abi.Track, []byte{0x81, 0xa1, 'q', 0xdb, 0x80, 0, 0, 0}},
		{"event hostile map32 count", abi.Track, []byte{0xdf, 0xff, 0xff, 0xff, 0xff}},
		{"event deep nesting", abi.Track, append(append([]byte{0x81, 0xa1, 'z'}, bytes.Repeat([]byte{0x91}, 100000)...), 0xc0)},
		{"rank hour 25", abi.Rank, doc(func(w *msgp.Writer) {
			w.MapHeader(2)
			w.String("ts")
			w.Int(1)
			w.String("cx")
			w.MapHeader(1)
			w.String("h")
			w.Uint(25)
		})},
		{"rank without time", abi.Rank, wire.Marshal(&wire.RankRequest{Slot: "s"})},
		{"rank too many candidates", abi.Rank, doc(func(w *msgp.Writer) {
			w.MapHeader(1)
			w.String("c")
			w.ArrayHeader(wire.MaxCandidates + 1)
			for i := 0; i <= wire.MaxCandidates; i++ {
				(&wire.Item{ID: "x"}).EncodeTo(w)
			}
		})},
		{"weights unknown schema", abi.Weights, doc(func(w *msgp.Writer) {
			w.MapHeader(1)
			w.String("schema")
			w.Uint(99)
		})},
		{"weights Inf popularity", abi.Weights, infWeights},
		{"config unknown privacy", abi.Init, doc(func(w *msgp.Writer) {
			w.MapHeader(2)
			w.String("schema")
			w.Uint(wire.ConfigSchema)
			w.String("privacy")
			w.String("everything")
		})},
		{"config unknown rule field", abi.Init, wire.Marshal(&wire.Config{Rules: []wire.Rule{{ID: "r", If: []wire.Cond{{Field: "zodiac", Op: wire.OpIn}}, Then: wire.Action{Do: wire.DoBoost}}}})},
		{"profile garbage", abi.LoadProfile, []byte{0x93, 1, 2}},
		{"profile unknown schema", abi.LoadProfile, doc(func(w *msgp.Writer) {
			w.MapHeader(1)
			w.String("schema")
			w.Uint(99)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra []uint64
			if tt.op == abi.Init {
				extra = []uint64{1}
			}
			_, err := in.Call(tt.op, tt.in, extra...)
			var ge *harness.GuestError
			if !errors.As(err, &ge) || ge.Status != abi.BadInput || ge.Message == "" {
				t.Fatalf("%s(%d bytes) = %v, want a BadInput guest error with a message", tt.op, len(tt.in), err)
			}
			after, err := in.SaveProfile()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("profile changed by a rejected %s", tt.op)
			}
		})
	}
}

// TestAbsurdSizes checks the ABI's own bound: an allocation over
// abi.MaxInput is refused, and the instance stays usable.
func TestAbsurdSizes(t *testing.T) {
	in := initialized(t)
	_, err := in.Call(abi.Track, make([]byte, abi.MaxInput+1))
	var ge *harness.GuestError
	if !errors.As(err, &ge) || ge.Status != abi.BadInput {
		t.Fatalf("Track of %d bytes = %v, want BadInput", abi.MaxInput+1, err)
	}
	if err := in.Track(event(wire.KindClick, "a", "", t0)); err != nil {
		t.Fatalf("instance unusable after a refused input: %v", err)
	}
}
