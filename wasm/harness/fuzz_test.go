package harness_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/abi"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
	"github.com/vmihailenco/msgpack/v5"
)

// fuzzInstance is one instance shared by a fuzz target's iterations (a
// fresh one per input would spend the run instantiating), guarded because
// the fuzzer may call from several goroutines.
var fuzzInstance struct {
	sync.Mutex
	in *harness.Instance
}

func withFuzzInstance(t *testing.T, f func(in *harness.Instance)) {
	fuzzInstance.Lock()
	defer fuzzInstance.Unlock()
	if fuzzInstance.in == nil {
		in, err := harnesstest.Runtime(t).Instantiate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fuzzInstance.in = in
	}
	f(fuzzInstance.in)
}

// FuzzGuestInput sends arbitrary bytes to every export that takes input:
// the guest must answer OK or a GuestError, never trap, and stay usable.
func FuzzGuestInput(f *testing.F) {
	f.Add(uint8(0), validEvent())
	f.Add(uint8(1), wire.Marshal(&wire.RankRequest{Slot: "s", Time: 1, Candidates: []wire.Item{{ID: "a"}}}))
	f.Add(uint8(2), wire.Marshal(&wire.Weights{Version: 1, Items: []wire.ItemWeights{{ID: "a", Pop: 1, Next: []wire.Neighbor{{ID: "b", W: 1}}}}}))
	f.Add(uint8(3), []byte{0x81, 0xa6, 's', 'c', 'h', 'e', 'm', 'a', 0x01})
	f.Add(uint8(4), []byte{0xc6, 0x80, 0, 0, 0})
	f.Add(uint8(0), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	ops := []string{abi.Track, abi.Rank, abi.Weights, abi.LoadProfile, abi.Init}
	f.Fuzz(func(t *testing.T, op uint8, b []byte) {
		withFuzzInstance(t, func(in *harness.Instance) {
			if err := in.Init(cfg()); err != nil {
				t.Fatal(err)
			}
			name := ops[int(op)%len(ops)]
			var extra []uint64
			if name == abi.Init {
				extra = []uint64{7}
			}
			_, err := in.Call(name, b, extra...)
			var ge *harness.GuestError
			if err != nil && !errors.As(err, &ge) {
				t.Fatalf("%s trapped: %v", name, err)
			}
			if ge != nil && ge.Status != abi.BadInput {
				t.Fatalf("%s: status %d (%s), want BadInput", name, ge.Status, ge.Message)
			}
			if err := in.Init(cfg()); err != nil {
				t.Fatalf("instance unusable after %s: %v", name, err)
			}
		})
	})
}

// FuzzGuestOutputDecodesWithMsgpack drives a visitor from fuzz bytes and
// checks that every document the guest writes (rank result, delta,
// profile) decodes with github.com/vmihailenco/msgpack/v5 as the server
// will, and agrees with sdk/wire's decoder.
func FuzzGuestOutputDecodesWithMsgpack(f *testing.F) {
	f.Add([]byte("abcabd"), uint8(0))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(2))
	f.Add([]byte("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"), uint8(1))
	f.Fuzz(func(t *testing.T, script []byte, privacy uint8) {
		if len(script) > 400 {
			script = script[:400]
		}
		withFuzzInstance(t, func(in *harness.Instance) {
			c := wire.Config{Site: "fuzz", Privacy: wire.Privacy(privacy % 3), Epsilon: 2, Explore: 0.2, Diversity: 0.3}
			if err := in.Init(c); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var cands []wire.Item
			for i, b := range script {
				id := fmt.Sprintf("item-%d", b%40)
				it := wire.Item{ID: id, Category: fmt.Sprintf("cat-%d", b%7), Tags: []string{fmt.Sprint("t", b%5)}, Price: float32(b)}
				cands = append(cands, it)
				kind := []wire.Kind{wire.KindView, wire.KindClick, wire.KindCart, wire.KindPurchase, wire.KindDwell}[int(b)%5]
				at = at.Add(time.Duration(b) * 20 * time.Second)
				if err := in.Track(&wire.Event{Kind: kind, Time: at.UnixMilli(), Item: &it, Dwell: uint32(b) * 100}); err != nil {
					t.Fatal(err)
				}
				if i%7 == 6 {
					res, err := in.Rank(&wire.RankRequest{Slot: "s", Candidates: cands, Limit: 5, Time: at.UnixMilli()})
					if err != nil {
						t.Fatal(err)
					}
					checkMsgpack(t, "rank result", wire.Marshal(&res))
				}
			}
			d, err := in.TakeDelta()
			if err != nil {
				t.Fatal(err)
			}
			if len(d) > 0 {
				checkMsgpack(t, "delta", d)
				var got wire.Delta
				if err := wire.Unmarshal(d, &got, "delta"); err != nil {
					t.Fatal(err)
				}
				var m struct {
					Site  string        `msgpack:"site"`
					Model uint32        `msgpack:"model"`
					ID    []byte        `msgpack:"id"`
					Pairs []interface{} `msgpack:"pairs"`
					Items []interface{} `msgpack:"items"`
					Eps   float32       `msgpack:"eps"`
				}
				if err := msgpack.Unmarshal(d, &m); err != nil {
					t.Fatalf("msgpack/v5 cannot decode the delta: %v", err)
				}
				if m.Site != got.Site || m.Model != got.Model || string(m.ID) != string(got.ID[:]) ||
					len(m.Pairs) != len(got.Pairs) || len(m.Items) != len(got.Items) || m.Eps != got.Epsilon {
					t.Fatalf("msgpack/v5 and wire disagree on the delta: %+v vs %+v", m, got)
				}
				if len(d) > wire.MaxDeltaBytes {
					t.Fatalf("delta of %d bytes over the cap %d", len(d), wire.MaxDeltaBytes)
				}
			}
			p, err := in.SaveProfile()
			if err != nil {
				t.Fatal(err)
			}
			checkMsgpack(t, "profile", p)
		})
	})
}

// checkMsgpack decodes a document with msgpack/v5 into generic values.
// Every input here comes from the guest, within its own caps, so handing
// it to msgpack/v5 (which allocates by length prefixes) is safe.
func checkMsgpack(t *testing.T, what string, b []byte) {
	t.Helper()
	var v map[string]interface{}
	if err := msgpack.Unmarshal(b, &v); err != nil {
		t.Fatalf("msgpack/v5 cannot decode the guest's %s (%d bytes): %v", what, len(b), err)
	}
}
