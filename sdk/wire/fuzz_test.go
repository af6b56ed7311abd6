package wire_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/wire"
)

// fuzzDecoder seeds f with the value's encodings (its own and
// msgpack/v5's), every bad input for its type, and hostile length
// prefixes, then checks on any input that decoding never panics and that
// whatever decodes re-encodes to bytes that decode again to an equal
// value (and to the same bytes).
func fuzzDecoder(f *testing.F, v codec, name string) {
	f.Add(wire.Marshal(v))
	f.Add(mp(f, tree(v)))
	for _, tc := range roundTrips() {
		if sameType(tc.v, v) {
			f.Add(wire.Marshal(tc.v))
		}
	}
	for _, tc := range badInputs(f) {
		if sameType(tc.into, v) && len(tc.doc) <= 4096 {
			f.Add(tc.doc)
		}
	}
	for _, s := range [][]byte{
		{},
		{0x80},
		{0xc0},
		{0xdf, 0xff, 0xff, 0xff, 0xff},       // map32 claiming 2^32-1 pairs
		{0xde, 0xff, 0xff, 0xa1, 0x6b},       // map16 claiming 65535
		{0x81, 0xdb, 0x7f, 0xff, 0xff, 0xff}, // str32 key claiming 2 GiB
		{0x81, 0xa5, 'i', 't', 'e', 'm', 's', 0xdd, 0xff, 0xff, 0xff, 0xff},
		{0x81, 0xa1, 'c', 0xdd, 0x80, 0x00, 0x00, 0x00},
		{0x81, 0xa2, 'i', 'd', 0xc6, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := fresh(v)
		if wire.Unmarshal(b, got, name) != nil {
			return
		}
		b2 := wire.Marshal(got)
		again := fresh(v)
		if err := wire.Unmarshal(b2, again, name); err != nil {
			t.Fatalf("accepted\n% x\nbut its re-encoding\n% x\nfails: %v", b, b2, err)
		}
		if !wiretest.SameData(again, got) {
			t.Fatalf("accepted % x as\n%+v\nre-encoded, it decodes to\n%+v", b, got, again)
		}
		if b3 := wire.Marshal(again); !bytes.Equal(b3, b2) {
			t.Fatalf("re-encoding is not stable:\n% x\n% x", b2, b3)
		}
	})
}

func sameType(a, b codec) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }

func FuzzEvent(f *testing.F)       { fuzzDecoder(f, sampleEvent(), "event") }
func FuzzRankRequest(f *testing.F) { fuzzDecoder(f, sampleRankRequest(), "rank request") }
func FuzzConfig(f *testing.F)      { fuzzDecoder(f, sampleConfig(), "config") }
func FuzzWeights(f *testing.F)     { fuzzDecoder(f, sampleWeights(), "weights") }
func FuzzDelta(f *testing.F)       { fuzzDecoder(f, sampleDelta(), "delta") }
