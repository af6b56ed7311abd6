package ingest_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
	"github.com/tailorhq/tailor/wasm/sim"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// sample is a delta as a device sends it.
func sample() wire.Delta {
	return wire.Delta{Site: "demo", Model: 3, ID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		Pairs: []wire.Pair{{From: "gown-1", To: "heels-2", W: 1}, {From: "heels-2", To: "clutch-1", W: 0.5}},
		Items: []wire.Count{{ID: "gown-1", N: 1}, {ID: "heels-2", N: 2}},
		Arms:  []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 10, Clicks: 2, Conversions: 1}}}
}

// doc writes a delta map by hand, for documents the device never writes:
// fields are written in order by the functions given.
func doc(fields ...func(w *msgp.Writer)) []byte {
	w := msgp.NewWriter(256)
	w.MapHeader(len(fields))
	for _, f := range fields {
		f(w)
	}
	return w.Bytes()
}

func kv(key string, value func(w *msgp.Writer)) func(w *msgp.Writer) {
	return func(w *msgp.Writer) { w.String(key); value(w) }
}

func raw(b []byte) func(w *msgp.Writer) { return func(w *msgp.Writer) { w.Raw(b) } }
func str(s string) func(w *msgp.Writer) { return func(w *msgp.Writer) { w.String(s) } }
func uint_(v uint64) func(w *msgp.Writer) {
	return func(w *msgp.Writer) { w.Uint(v) }
}

var (
	schema = kv("schema", uint_(wire.DeltaSchema))
	site   = kv("site", str("demo"))
	id     = kv("id", func(w *msgp.Writer) { w.Bin(bytes.Repeat([]byte{7}, 16)) })
)

func pairs(from, to string, weight func(w *msgp.Writer)) func(w *msgp.Writer) {
	return kv("pairs", func(w *msgp.Writer) {
		w.ArrayHeader(1)
		w.ArrayHeader(3)
		w.String(from)
		w.String(to)
		weight(w)
	})
}

func f32(v float32) func(w *msgp.Writer) { return func(w *msgp.Writer) { w.Float32(v) } }
func f64(v float64) func(w *msgp.Writer) { return func(w *msgp.Writer) { w.Float64(v) } }

func nested(depth int) []byte {
	b := bytes.Repeat([]byte{0x91}, depth)
	return append(b, 0x01)
}

// hostile are 5-byte payloads whose length prefixes claim gigabytes:
// msgpack/v5's ordinary decoding allocates what they claim (upstream #401).
var hostile = []struct{ name, hex string }{
	{"bin32 of 2 GiB", "c6 80 00 00 00"},
	{"str32 of 2 GiB", "db 80 00 00 00"},
	{"array32 of 4G elements", "dd ff ff ff ff"},
	{"map32 of 4G pairs", "df ff ff ff ff"},
	{"bin32 of 4 GiB", "c6 ff ff ff ff"},
	{"str32 of 4 GiB", "db ff ff ff ff"},
	{"ext32 of 4 GiB", "c9 ff ff ff ff"},
}

func TestDecode(t *testing.T) {
	good := sample()
	for _, tc := range []struct {
		name string
		in   []byte
		want error // nil: decodes to what wire.Unmarshal gives
	}{
		{"sample", wire.Marshal(&good), nil},
		{"empty delta", doc(schema, site, id), nil},
		{"unknown fields skipped", doc(schema, kv("future", raw(unhex("82 a1 61 93 01 02 03 a1 62 c0"))), site), nil},
		{"integer weight", doc(schema, pairs("a", "b", uint_(3))), nil},
		{"float64 weight", doc(schema, pairs("a", "b", f64(0.25))), nil},
		{"bin ids", doc(schema, kv("pairs", raw(unhex("91 93 c4 01 61 c4 01 62 01")))), nil},
		{"nesting at the limit", doc(schema, kv("x", raw(nested(ingest.MaxDepth)))), nil},

		{"empty body", nil, ingest.ErrMalformed},
		{"garbage", []byte("hello, server"), ingest.ErrMalformed},
		{"json", []byte(`{"schema":1}`), ingest.ErrMalformed},
		{"truncated", wire.Marshal(&good)[:40], ingest.ErrMalformed},
		{"trailing bytes", append(wire.Marshal(&good), 0xc0), ingest.ErrMalformed},
		{"not a map", unhex("93 01 02 03"), ingest.ErrMalformed},
		{"too deep", doc(schema, kv("x", raw(nested(ingest.MaxDepth+1)))), ingest.ErrMalformed},
		{"very deep", doc(schema, kv("x", raw(nested(10000)))), ingest.ErrMalformed},
		{"ext type", doc(schema, kv("x", raw(unhex("d4 01 00")))), ingest.ErrMalformed},
		{"reserved code", doc(schema, kv("x", raw(unhex("c1")))), ingest.ErrMalformed},
		{"wrong type", doc(schema, kv("site", uint_(1))), ingest.ErrMalformed},
		{"pair of 2", doc(schema, kv("pairs", raw(unhex("91 92 a1 61 a1 62")))), ingest.ErrMalformed},
		{"map count beyond input", unhex("de ff ff"), ingest.ErrMalformed},

		{"too big", doc(schema, kv("x", str(strings.Repeat("x", wire.MaxDeltaBytes)))), ingest.ErrTooBig},

		{"no schema", doc(site, id), ingest.ErrSchema},
		{"schema 2", doc(kv("schema", uint_(2)), site), ingest.ErrSchema},

		{"NaN", doc(schema, pairs("a", "b", f32(float32(math.NaN())))), ingest.ErrInvalid},
		{"+Inf", doc(schema, pairs("a", "b", f64(math.Inf(1)))), ingest.ErrInvalid},
		{"-Inf eps", doc(schema, kv("eps", f32(float32(math.Inf(-1))))), ingest.ErrInvalid},
		{"weight too large", doc(schema, pairs("a", "b", f32(wire.MaxDeltaWeight+1))), ingest.ErrInvalid},
		{"weight beyond float32", doc(schema, pairs("a", "b", f64(1e300))), ingest.ErrInvalid},
		{"negative eps", doc(schema, kv("eps", f32(-1))), ingest.ErrInvalid},
		{"empty id", doc(schema, pairs("", "b", f32(1))), ingest.ErrInvalid},
		{"long id", doc(schema, pairs(strings.Repeat("a", wire.MaxIDLen+1), "b", f32(1))), ingest.ErrInvalid},
		{"long site", doc(schema, kv("site", str(strings.Repeat("s", wire.MaxIDLen+1)))), ingest.ErrInvalid},
		{"delta id of 15 bytes", doc(schema, kv("id", func(w *msgp.Writer) { w.Bin(make([]byte, 15)) })), ingest.ErrInvalid},
		{"model beyond uint32", doc(schema, kv("model", uint_(1<<32))), ingest.ErrInvalid},
		{"negative model", doc(schema, kv("model", func(w *msgp.Writer) { w.Int(-1) })), ingest.ErrInvalid},
		{"unknown arm", doc(schema, kv("arms", raw(unhex("91 94 a3 66 6f 6f 01 01 01")))), ingest.ErrInvalid},
		{"arm count too large", doc(schema, kv("arms", func(w *msgp.Writer) {
			w.ArrayHeader(1)
			w.ArrayHeader(4)
			w.String("treatment")
			w.Uint(1<<20 + 1)
			w.Uint(0)
			w.Uint(0)
		})), ingest.ErrInvalid},
		{"too many pairs", doc(schema, kv("pairs", func(w *msgp.Writer) {
			w.ArrayHeader(wire.MaxDeltaPairs + 1)
			for i := 0; i <= wire.MaxDeltaPairs; i++ {
				w.ArrayHeader(3)
				w.String("a")
				w.String("b")
				w.Uint(1)
			}
		})), ingest.ErrInvalid},
		{"too many fields", doc(schema, kv("a", uint_(1)), kv("b", uint_(1)), kv("c", uint_(1)), kv("d", uint_(1)), kv("e", uint_(1)),
			kv("f", uint_(1)), kv("g", uint_(1)), kv("h", uint_(1)), kv("i", uint_(1)), kv("j", uint_(1)), kv("k", uint_(1)),
			kv("l", uint_(1)), kv("m", uint_(1)), kv("n", uint_(1)), kv("o", uint_(1)), kv("p", uint_(1))), ingest.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ingest.Decode(tc.in)
			var want wire.Delta
			wireErr := wire.Unmarshal(tc.in, &want, "delta")
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Decode(%x) = %v, want %v", short(tc.in), err, tc.want)
				}
				if wireErr == nil {
					t.Errorf("wire.Unmarshal accepts what Decode rejects")
				}
				t.Logf("%v", err)
				return
			}
			if err != nil || wireErr != nil {
				t.Fatalf("Decode: %v; wire.Unmarshal: %v", err, wireErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Decode = %+v\nwire      %+v", got, want)
			}
		})
	}
}

func short(b []byte) []byte { return b[:min(len(b), 48)] }

// TestHostile keeps the 5-byte payloads that kill a process decoding with
// msgpack/v5 naively, alone and in every place a delta has a length, and
// checks that decoding each allocates no more than a small multiple of its
// size.
func TestHostile(t *testing.T) {
	for _, h := range hostile {
		p := unhex(h.hex)
		for _, in := range []struct {
			where string
			b     []byte
		}{
			{"alone", p},
			{"as the site", doc(schema, kv("site", raw(p)))},
			{"as the id", doc(schema, kv("id", raw(p)))},
			{"as the pairs", doc(schema, kv("pairs", raw(p)))},
			{"as a pair", doc(schema, kv("pairs", raw(append([]byte{0x91}, p...))))},
			{"as a pair's id", doc(schema, kv("pairs", raw(append(unhex("91 93"), p...))))},
			{"as an unknown field", doc(schema, kv("x", raw(p)))},
			{"as a key", append([]byte{0x81}, p...)},
			{"nested in an unknown field", doc(schema, kv("x", raw(append(nested(20)[:20], p...))))},
		} {
			_, err := ingest.Decode(in.b)
			if !errors.Is(err, ingest.ErrMalformed) {
				t.Errorf("%s %s: Decode = %v, want ErrMalformed", h.name, in.where, err)
			}
			if a := allocated(func() { ingest.Decode(in.b) }); a > 4096 {
				t.Errorf("%s %s: decoding %d bytes allocated %d bytes", h.name, in.where, len(in.b), a)
			}
		}
	}
}

// allocated returns the bytes fn allocates, on average over runs.
func allocated(fn func()) uint64 {
	const runs = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

// TestAllocationBound decodes the largest valid deltas and checks the
// allocation is a small multiple of the input.
func TestAllocationBound(t *testing.T) {
	d := wire.Delta{Site: "demo", Epsilon: 1}
	for i := 0; i < wire.MaxDeltaPairs; i++ {
		d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("f", i), To: fmt.Sprint("t", i), W: 1})
	}
	for i := 0; i < wire.MaxDeltaItems/4; i++ {
		d.Items = append(d.Items, wire.Count{ID: fmt.Sprint("i", i), N: 1})
	}
	b := wire.Marshal(&d)
	if len(b) > wire.MaxDeltaBytes {
		t.Fatalf("test delta of %d bytes is over the cap", len(b))
	}
	if _, err := ingest.Decode(b); err != nil {
		t.Fatal(err)
	}
	a := allocated(func() { ingest.Decode(b) })
	t.Logf("decoding a %d-byte delta allocates %d bytes", len(b), a)
	if a > 8*uint64(len(b)) {
		t.Errorf("decoding %d bytes allocated %d bytes, more than 8x", len(b), a)
	}
}

// TestGuestBytes runs simulated visitors through the real tailor.wasm and
// checks that every delta it writes decodes with msgpack/v5 to exactly
// what the guest's own decoder gives, and passes Check.
func TestGuestBytes(t *testing.T) {
	s, err := sim.New()
	if err != nil {
		t.Fatal(err)
	}
	in := harnesstest.Instance(t)
	n := 0
	for i := 0; i < 60; i++ {
		cfg := wire.Config{Site: "demo", Privacy: wire.PrivacyFederated}
		if i%3 == 0 {
			cfg.Privacy, cfg.Epsilon = wire.PrivacyLDP, 1 // noise: negative and fractional weights
		}
		if err := in.Init(cfg); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		session := s.Session(&sim.Personas[i%len(sim.Personas)], rng, 3+i%20)
		if _, err := s.Replay(in, session, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), 5); err != nil {
			t.Fatal(err)
		}
		b, err := in.TakeDelta()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			continue
		}
		n++
		var want wire.Delta
		if err := wire.Unmarshal(b, &want, "delta"); err != nil {
			t.Fatalf("visitor %d: the guest's own decoder rejects its delta: %v", i, err)
		}
		got, err := ingest.Decode(b)
		if err != nil {
			t.Fatalf("visitor %d: Decode: %v\n%x", i, err, b)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("visitor %d: Decode = %+v\nwire      %+v", i, got, want)
		}
		if err := ingest.Check(&got); err != nil {
			t.Errorf("visitor %d: Check: %v", i, err)
		}
		if len(got.Pairs) == 0 || len(got.Items) == 0 || len(got.Arms) == 0 {
			t.Errorf("visitor %d: delta without pairs, items or arms: %+v", i, got)
		}
	}
	if n < 50 {
		t.Fatalf("only %d of 60 visitors produced a delta", n)
	}
	var _ *harness.Instance = in
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(d *wire.Delta)
		ok     bool
	}{
		{"sample", func(d *wire.Delta) {}, true},
		{"negative weight with noise", func(d *wire.Delta) { d.Epsilon = 1; d.Pairs[0].W = -2 }, true},
		{"negative weight without noise", func(d *wire.Delta) { d.Pairs[0].W = -2 }, false},
		{"negative count without noise", func(d *wire.Delta) { d.Items[0].N = -1 }, false},
		{"self pair", func(d *wire.Delta) { d.Pairs[0].To = d.Pairs[0].From }, false},
		{"pair twice", func(d *wire.Delta) { d.Pairs[1] = d.Pairs[0] }, false},
		{"item twice", func(d *wire.Delta) { d.Items[1].ID = d.Items[0].ID }, false},
		{"arm twice", func(d *wire.Delta) { d.Arms = append(d.Arms, d.Arms[0]) }, false},
		{"invalid UTF-8", func(d *wire.Delta) { d.Items[0].ID = "\xff\xfe" }, false},
		{"control character", func(d *wire.Delta) { d.Pairs[0].From = "a\nb" }, false},
		{"site with NUL", func(d *wire.Delta) { d.Site = "de\x00mo" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sample()
			tc.modify(&d)
			err := ingest.Check(&d)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ingest.ErrInvalid) {
				t.Errorf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// FuzzDecode holds Decode to the guest's decoder: on every input both
// accept or both reject, and what both accept decodes to the same delta.
// It also checks that Decode never panics and that Check never panics on
// what Decode accepts.
func FuzzDecode(f *testing.F) {
	d := sample()
	f.Add(wire.Marshal(&d))
	d.Epsilon, d.Pairs[0].W = 0.5, -3
	f.Add(wire.Marshal(&d))
	f.Add(doc(schema, kv("future", raw(unhex("82 a1 61 93 01 02 03 a1 62 c0"))), site))
	f.Add(doc(schema, kv("pairs", raw(unhex("91 93 c4 01 61 c4 01 62 01")))))
	f.Add(doc(schema, pairs("a", "b", f64(0.25))))
	f.Add(doc(schema, kv("x", raw(nested(ingest.MaxDepth)))))
	f.Add(doc(schema, kv("x", raw(nested(ingest.MaxDepth+1)))))
	f.Add(doc(schema, kv("arms", raw(unhex("91 94 a7 68 6f 6c 64 6f 75 74 01 02 03")))))
	for _, h := range hostile {
		p := unhex(h.hex)
		f.Add(p)
		f.Add(doc(schema, kv("site", raw(p))))
		f.Add(doc(schema, kv("pairs", raw(append(unhex("91 93"), p...)))))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ingest.Decode(b)
		var want wire.Delta
		wireErr := wire.Unmarshal(b, &want, "delta")
		if (err == nil) != (wireErr == nil) {
			t.Fatalf("%x:\nDecode: %v\nwire:   %v", b, err, wireErr)
		}
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) && !errors.Is(err, ingest.ErrInvalid) &&
				!errors.Is(err, ingest.ErrSchema) && !errors.Is(err, ingest.ErrTooBig) {
				t.Fatalf("Decode(%x) = %v: not one of the package's errors", b, err)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%x:\nDecode %+v\nwire   %+v", b, got, want)
		}
		ingest.Check(&got)
	})
}

func ExampleDecode() {
	body := wire.Marshal(&wire.Delta{Site: "demo", Model: 3, Pairs: []wire.Pair{{From: "gown-1", To: "heels-2", W: 1}}})
	d, err := ingest.Decode(body)
	if err == nil {
		err = ingest.Check(&d)
	}
	fmt.Println(d.Site, d.Model, d.Pairs, err)

	_, err = ingest.Decode([]byte{0xc6, 0x80, 0x00, 0x00, 0x00}) // claims a 2 GiB bin
	fmt.Println(errors.Is(err, ingest.ErrMalformed))
	// Output:
	// demo 3 [{gown-1 heels-2 1}] <nil>
	// true
}
