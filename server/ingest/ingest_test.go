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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// federated is the policy of a federated site.
var federated = ingest.Policy{Privacy: wire.PrivacyFederated}

// sample is a delta as a device of a federated site sends it.
func sample() wire.Delta {
	return wire.Delta{Site: "demo", Model: 3, ID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		Pairs: []wire.Pair{{From: "gown-1", To: "heels-2", W: 1}, {From: "heels-2", To: "clutch-1", W: 1}},
		Items: []wire.Count{{ID: "gown-1", N: 1}, {ID: "heels-2", N: 2}, {ID: "clutch-1", N: 1}},
		Arms:  []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 10, Clicks: 2, Conversions: 1, Exposed: true}}}
}

// ldpSample is a delta as a device of a federated+ldp site sends it:
// reports only.
func ldpSample() wire.Delta {
	return wire.Delta{Site: "demo", Model: 3, ID: [16]byte{9}, Epsilon: 2,
		Reports: []wire.Report{{Kind: wire.ReportPair, Row: 2047, Col: 7}}}
}

// hadamardReports are what a guest from before OLH sent: an item and a
// pair report of a Hadamard sketch.
func hadamardReports() []wire.Report {
	return []wire.Report{{Kind: wire.ReportItem, Row: 3, Col: 4000, Bit: 1}, {Kind: wire.ReportPair, Row: 15, Col: 0, Bit: -1}}
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

func raw(b []byte) func(w *msgp.Writer)  { return func(w *msgp.Writer) { w.Raw(b) } }
func text(s string) func(w *msgp.Writer) { return func(w *msgp.Writer) { w.String(s) } }
func uint_(v uint64) func(w *msgp.Writer) {
	return func(w *msgp.Writer) { w.Uint(v) }
}

var (
	schema = kv("schema", uint_(wire.DeltaSchema))
	site   = kv("site", text("demo"))
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

// agree checks that what Decode accepted, the msgpack/v5 oracle decodes
// to the same delta, and that the canonical bytes decode back to it: the
// same values, not only the same bytes again (the leader folds the value
// the API decoded in place of the stored canonical bytes, see
// server/publish handoff.go).
func agree(t *testing.T, b []byte, got wire.Delta) {
	t.Helper()
	want, err := oracle(b)
	if err != nil {
		t.Fatalf("Decode accepts %x, msgpack/v5 does not: %v", short(b), err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%x:\nDecode    %+v\nmsgpack/v5 %+v", short(b), got, want)
	}
	canonical := ingest.Canonical(&got)
	back, err := ingest.Decode(canonical)
	if err != nil || !bytes.Equal(ingest.Canonical(&back), canonical) || !sameDelta(&back, &got) {
		t.Fatalf("the canonical bytes %x decode to %+v, %v; want %+v", canonical, back, err, got)
	}
	w := msgp.NewWriter(1)
	w.Raw([]byte("a previous delta")) // CanonicalTo resets the writer it reuses
	if to := ingest.CanonicalTo(w, &got); !bytes.Equal(to, canonical) {
		t.Fatalf("CanonicalTo = %x, Canonical = %x", to, canonical)
	}
}

// sameDelta reports whether a and b hold the same values (an empty list
// and none alike; weights bit for bit).
func sameDelta(a, b *wire.Delta) bool {
	bits := math.Float32bits
	return a.Site == b.Site && a.Model == b.Model && a.ID == b.ID && bits(a.Epsilon) == bits(b.Epsilon) &&
		slices.EqualFunc(a.Pairs, b.Pairs, func(p, q wire.Pair) bool { return p.From == q.From && p.To == q.To && bits(p.W) == bits(q.W) }) &&
		slices.EqualFunc(a.Items, b.Items, func(p, q wire.Count) bool { return p.ID == q.ID && bits(p.N) == bits(q.N) }) &&
		slices.Equal(a.Arms, b.Arms) && slices.Equal(a.Reports, b.Reports)
}

func TestDecode(t *testing.T) {
	good, ldp := sample(), ldpSample()
	for _, tc := range []struct {
		name string
		in   []byte
		want error // nil: decodes to what msgpack/v5 gives
	}{
		{"sample", wire.Marshal(&good), nil},
		{"ldp sample", wire.Marshal(&ldp), nil},
		{"no statistics", doc(schema, site, id), nil},
		{"unknown fields skipped", doc(schema, kv("future", raw(unhex("82 a1 61 93 01 02 03 a1 62 c0"))), site), nil},
		{"unknown map with integer keys", doc(schema, kv("future", raw(unhex("81 01 02"))), site), nil},
		{"integer weight", doc(schema, pairs("a", "b", uint_(3))), nil},
		{"float64 weight", doc(schema, pairs("a", "b", f64(0.25))), nil},
		{"negative integer weight", doc(schema, pairs("a", "b", func(w *msgp.Writer) { w.Int(-3) })), nil},
		{"bin ids", doc(schema, kv("pairs", raw(unhex("91 93 c4 01 61 c4 01 62 01")))), nil},
		{"bin key", doc(schema, raw(unhex("c4 04 73 69 74 65 a4 64 65 6d 6f"))), nil},
		{"repeated key: the last wins", doc(schema, site, kv("site", text("other"))), nil},
		{"nesting at the limit", doc(schema, kv("x", raw(nested(msgp.MaxDepth)))), nil},

		{"empty body", nil, ingest.ErrMalformed},
		{"garbage", []byte("hello, server"), ingest.ErrMalformed},
		{"json", []byte(`{"schema":1}`), ingest.ErrMalformed},
		{"truncated", wire.Marshal(&good)[:40], ingest.ErrMalformed},
		{"trailing bytes", append(wire.Marshal(&good), 0xc0), ingest.ErrMalformed},
		{"not a map", unhex("93 01 02 03"), ingest.ErrMalformed},
		{"too deep", doc(schema, kv("x", raw(nested(msgp.MaxDepth+1)))), ingest.ErrMalformed},
		{"very deep", doc(schema, kv("x", raw(nested(10000)))), ingest.ErrMalformed},
		{"ext type", doc(schema, kv("x", raw(unhex("d4 01 00")))), ingest.ErrMalformed},
		{"reserved code", doc(schema, kv("x", raw(unhex("c1")))), ingest.ErrMalformed},
		{"wrong type", doc(schema, kv("site", uint_(1))), ingest.ErrMalformed},
		{"pair of 2", doc(schema, kv("pairs", raw(unhex("91 92 a1 61 a1 62")))), ingest.ErrMalformed},
		{"map count beyond input", unhex("de ff ff"), ingest.ErrMalformed},

		{"too big", doc(schema, kv("x", text(strings.Repeat("x", wire.MaxDeltaBytes)))), ingest.ErrTooBig},

		{"no schema", doc(site, id), ingest.ErrSchema},
		{"unknown schema", doc(kv("schema", uint_(wire.DeltaSchema+1)), site), ingest.ErrSchema},

		{"NaN", doc(schema, pairs("a", "b", f32(float32(math.NaN())))), ingest.ErrInvalid},
		{"+Inf", doc(schema, pairs("a", "b", f64(math.Inf(1)))), ingest.ErrInvalid},
		{"-Inf eps", doc(schema, kv("eps", f32(float32(math.Inf(-1))))), ingest.ErrInvalid},
		{"weight too large", doc(schema, pairs("a", "b", f32(wire.MaxDeltaWeight+1))), ingest.ErrInvalid},
		{"weight beyond float32", doc(schema, pairs("a", "b", f64(1e300))), ingest.ErrInvalid},
		{"negative eps", doc(schema, kv("eps", f32(-1))), ingest.ErrInvalid},
		{"empty id", doc(schema, pairs("", "b", f32(1))), ingest.ErrInvalid},
		{"long id", doc(schema, pairs(strings.Repeat("a", wire.MaxIDLen+1), "b", f32(1))), ingest.ErrInvalid},
		{"long site", doc(schema, kv("site", text(strings.Repeat("s", wire.MaxIDLen+1)))), ingest.ErrInvalid},
		{"delta id of 15 bytes", doc(schema, kv("id", func(w *msgp.Writer) { w.Bin(make([]byte, 15)) })), ingest.ErrInvalid},
		{"model beyond uint32", doc(schema, kv("model", uint_(1<<32))), ingest.ErrInvalid},
		{"negative model", doc(schema, kv("model", func(w *msgp.Writer) { w.Int(-1) })), ingest.ErrInvalid},
		{"unknown arm", doc(schema, kv("arms", raw(unhex("91 95 a3 66 6f 6f 01 01 01 c3")))), ingest.ErrInvalid},
		{"report bit 0", doc(schema, kv("reports", raw(unhex("91 94 00 00 00 00")))), ingest.ErrInvalid},
		{"report row out of range", doc(schema, kv("reports", raw(unhex("91 94 00 10 00 01")))), ingest.ErrInvalid},
		{"report kind unknown", doc(schema, kv("reports", raw(unhex("91 94 02 00 00 01")))), ingest.ErrInvalid},
		{"arm count too large", doc(schema, kv("arms", func(w *msgp.Writer) {
			w.ArrayHeader(1)
			w.ArrayHeader(5)
			w.String("treatment")
			w.Uint(wire.MaxArmCount + 1)
			w.Uint(0)
			w.Uint(0)
			w.Bool(true)
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
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Decode(%x) = %v, want %v", short(tc.in), err, tc.want)
				}
				t.Logf("%v", err)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			agree(t, tc.in, got)
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
			{"as the reports", doc(schema, kv("reports", raw(p)))},
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
	d := wire.Delta{Site: "demo"}
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

// TestStoredBytes: a modified loader's extra fields (the page URL, a
// search query) are accepted and dropped: the bytes the store keeps hold
// neither the keys nor the values.
func TestStoredBytes(t *testing.T) {
	d := sample()
	body := wire.Marshal(&d)
	// Append two fields to the delta's map: bump its fixmap count.
	if body[0] < 0x80 || body[0] >= 0x8e {
		t.Fatalf("sample does not start with a small fixmap: %x", body[0])
	}
	w := msgp.NewWriter(256)
	w.Raw([]byte{body[0] + 2})
	w.Raw(body[1:])
	w.String("url")
	w.String("https://shop.example/account/orders?email=visitor@example.com")
	w.String("q")
	w.String("pregnancy test")
	body = w.Bytes()

	got, err := ingest.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Check(&got, federated); err != nil {
		t.Fatal(err)
	}
	stored := ingest.Canonical(&got)
	for _, s := range []string{"url", "shop.example", "visitor@example.com", "pregnancy", "\xa1q"} {
		if !bytes.Contains(body, []byte(s)) {
			t.Fatalf("the test body lacks %q", s)
		}
		if bytes.Contains(stored, []byte(s)) {
			t.Errorf("the stored bytes hold %q: %x", s, stored)
		}
	}
	if !bytes.Equal(stored, wire.Marshal(&d)) {
		t.Errorf("stored %x, want the canonical encoding %x", stored, wire.Marshal(&d))
	}
}

func TestCheck(t *testing.T) {
	ldpSite := ingest.Policy{Privacy: wire.PrivacyLDP, Epsilon: 4}
	maxed := func(d *wire.Delta) {
		for i := range d.Pairs {
			d.Pairs[i].W = wire.MaxDeltaWeight
		}
		for i := range d.Items {
			d.Items[i].N = wire.MaxDeltaWeight
		}
	}
	for _, tc := range []struct {
		name   string
		ldp    bool // start from ldpSample on an LDP site
		modify func(d *wire.Delta)
		want   error
	}{
		{"sample", false, func(d *wire.Delta) {}, nil},
		{"ldp sample", true, func(d *wire.Delta) {}, nil},
		{"arms only", false, func(d *wire.Delta) { d.Pairs, d.Items = nil, nil }, nil},
		{"one weight at the maximum", false, func(d *wire.Delta) { d.Items[0].N = wire.MaxDeltaWeight }, nil},
		{"pairs into one item from earlier ones", false, func(d *wire.Delta) {
			d.Items = d.Items[2:]
			d.Pairs = nil
			for i := range ingest.PairsPerItem {
				d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("earlier-", i), To: d.Items[0].ID, W: 1})
			}
		}, nil},
		{"arm counts at the device's caps", false, func(d *wire.Delta) {
			d.Arms[0] = wire.ArmCount{Impressions: delta.MaxImpressions, Clicks: delta.MaxClicks, Conversions: delta.MaxConversions}
		}, nil},
		{"a click synced after its impression", false, func(d *wire.Delta) { d.Arms[0] = wire.ArmCount{Clicks: 1} }, nil},
		{"a purchase synced after its click", false, func(d *wire.Delta) { d.Arms[0] = wire.ArmCount{Impressions: 5, Conversions: 1} }, nil},

		{"empty", false, func(d *wire.Delta) { d.Pairs, d.Items, d.Arms = nil, nil, nil }, ingest.ErrEmpty},
		{"empty slices", false, func(d *wire.Delta) { d.Pairs, d.Items, d.Arms = []wire.Pair{}, []wire.Count{}, []wire.ArmCount{} }, ingest.ErrEmpty},
		{"empty ldp", true, func(d *wire.Delta) { d.Reports = nil }, ingest.ErrEmpty},
		{"eps on a federated site", false, func(d *wire.Delta) { d.Epsilon = 1 }, ingest.ErrNoiseClaim},
		{"reports on a federated site", false, func(d *wire.Delta) { d.Reports = ldpSample().Reports }, ingest.ErrNoiseClaim},
		{"negative weight", false, func(d *wire.Delta) { d.Pairs[0].W = -2 }, ingest.ErrNegative},
		{"negative weight claiming noise", false, func(d *wire.Delta) { d.Epsilon = 1; d.Pairs[0].W = -2 }, ingest.ErrNoiseClaim},
		{"negative count", false, func(d *wire.Delta) { d.Items[0].N = -1 }, ingest.ErrNegative},
		{"no eps on an ldp site", true, func(d *wire.Delta) { d.Epsilon = 0 }, ingest.ErrPrivacy},
		{"eps over the site's", true, func(d *wire.Delta) { d.Epsilon = 4.5 }, ingest.ErrPrivacy},
		{"pairs in clear on an ldp site", true, func(d *wire.Delta) { d.Pairs = sample().Pairs }, ingest.ErrClear},
		{"items in clear on an ldp site", true, func(d *wire.Delta) { d.Items = sample().Items }, ingest.ErrClear},
		{"arms in clear on an ldp site", true, func(d *wire.Delta) { d.Arms = sample().Arms }, ingest.ErrClear},
		{"two reports", true, func(d *wire.Delta) { d.Reports = append(d.Reports, d.Reports[0]) }, ingest.ErrReports},
		{"an older guest's hadamard reports", true, func(d *wire.Delta) { d.Reports = hadamardReports() }, nil},
		{"one hadamard report", true, func(d *wire.Delta) { d.Reports = hadamardReports()[:1] }, ingest.ErrReports},
		{"two hadamard item reports", true, func(d *wire.Delta) { d.Reports = hadamardReports(); d.Reports[1].Kind = wire.ReportItem }, ingest.ErrReports},
		{"hadamard and olh reports", true, func(d *wire.Delta) { d.Reports = append(hadamardReports(), d.Reports[0]) }, ingest.ErrReports},
		{"sixteen reports", true, func(d *wire.Delta) {
			for len(d.Reports) < wire.MaxDeltaReports {
				d.Reports = append(d.Reports, d.Reports[0])
			}
		}, ingest.ErrReports},
		{"all weights at the maximum", false, maxed, ingest.ErrMaxWeights},
		{"all weights at the maximum, pairs only", false, func(d *wire.Delta) { maxed(d); d.Items = nil }, ingest.ErrMaxWeights},
		{"a lone item at the maximum", false, func(d *wire.Delta) { d.Pairs, d.Items = nil, d.Items[:1]; maxed(d) }, ingest.ErrMaxWeights},
		{"pairs without items", false, func(d *wire.Delta) { d.Items = nil }, nil},
		{"more than PairsPerItem pairs without items", false, func(d *wire.Delta) {
			d.Items, d.Pairs = nil, nil
			for i := range ingest.PairsPerItem + 1 {
				d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("earlier-", i), To: "now", W: 1})
			}
		}, ingest.ErrPairCount},
		{"more pairs than n×PairsPerItem", false, func(d *wire.Delta) {
			d.Items = d.Items[2:]
			d.Pairs = nil
			for i := range ingest.PairsPerItem + 1 {
				d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("earlier-", i), To: d.Items[0].ID, W: 1})
			}
		}, ingest.ErrPairCount},
		{"impressions over the cap", false, func(d *wire.Delta) { d.Arms[0].Impressions = delta.MaxImpressions + 1 }, ingest.ErrArmCounts},
		{"clicks over the cap", false, func(d *wire.Delta) { d.Arms[0].Clicks = delta.MaxClicks + 1 }, ingest.ErrArmCounts},
		{"conversions over the cap", false, func(d *wire.Delta) { d.Arms[0].Conversions = delta.MaxConversions + 1 }, ingest.ErrArmCounts},
		{"exposed without impressions", false, func(d *wire.Delta) { d.Arms[0].Impressions = 0 }, ingest.ErrArmCounts},
		{"clicks without exposure", false, func(d *wire.Delta) { d.Arms[0].Impressions, d.Arms[0].Exposed = 0, false }, nil},
		{"self pair", false, func(d *wire.Delta) { d.Pairs[0].To = d.Pairs[0].From }, ingest.ErrInvalid},
		{"pair twice", false, func(d *wire.Delta) { d.Pairs[1] = d.Pairs[0] }, ingest.ErrInvalid},
		{"item twice", false, func(d *wire.Delta) { d.Items[1].ID = d.Items[0].ID }, ingest.ErrInvalid},
		// A device's sorted lists are checked without sorting; others are sorted.
		{"sorted items", false, func(d *wire.Delta) {
			slices.SortFunc(d.Items, func(a, b wire.Count) int { return strings.Compare(a.ID, b.ID) })
		}, nil},
		{"pair twice apart", false, func(d *wire.Delta) { d.Pairs = append(d.Pairs, d.Pairs[0]) }, ingest.ErrInvalid},
		{"item twice apart", false, func(d *wire.Delta) { d.Items[2].ID = d.Items[0].ID }, ingest.ErrInvalid},
		{"pairs unsorted", false, func(d *wire.Delta) { d.Pairs[0], d.Pairs[1] = d.Pairs[1], d.Pairs[0] }, nil},
		{"arm twice", false, func(d *wire.Delta) { d.Arms = append(d.Arms, d.Arms[0]) }, ingest.ErrInvalid},
		{"invalid UTF-8", false, func(d *wire.Delta) { d.Items[0].ID = "\xff\xfe" }, ingest.ErrInvalid},
		{"control character", false, func(d *wire.Delta) { d.Pairs[0].From = "a\nb" }, ingest.ErrInvalid},
		{"site with NUL", false, func(d *wire.Delta) { d.Site = "de\x00mo" }, ingest.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, p := sample(), federated
			if tc.ldp {
				d, p = ldpSample(), ldpSite
			}
			tc.modify(&d)
			err := ingest.Check(&d, p)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
			if err != nil {
				reason := ingest.Reason(err)
				if reason == "" || !slices.Contains(ingest.Reasons(), reason) {
					t.Errorf("Reason(%v) = %q", err, reason)
				}
				t.Logf("%s: %v", reason, err)
			}
		})
	}
}

// TestReasons: one distinct token per refusal.
func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range ingest.Reasons() {
		if r == "" || seen[r] || strings.ToLower(r) != r || strings.ContainsAny(r, " -") {
			t.Errorf("reason %q is empty, repeated or not a lowercase_token", r)
		}
		seen[r] = true
	}
	if r := ingest.Reason(errors.New("other")); r != "" {
		t.Errorf("Reason of a foreign error = %q", r)
	}
}

// TestHonestDeltas runs simulated visitors through the real tailor.wasm,
// ranking, clicking what was shown, buying, and syncing at random moments
// (so that a click or a purchase may land in a later delta than its
// impression), on federated and federated+ldp sites; every delta decodes
// with msgpack/v5 to what Decode gives, and Check refuses none.
func TestHonestDeltas(t *testing.T) {
	s, err := sim.New()
	if err != nil {
		t.Fatal(err)
	}
	in := harnesstest.Instance(t)
	const visitors = 40
	var n, clicksOver, conversionsOver int
	for i := 0; i < visitors; i++ {
		cfg := wire.Config{Site: "demo", Privacy: wire.PrivacyFederated, Holdout: 0.3}
		policy := federated
		if i%3 == 0 {
			cfg.Privacy, cfg.Epsilon = wire.PrivacyLDP, 2
			policy = ingest.Policy{Privacy: wire.PrivacyLDP, Epsilon: 2}
		}
		if err := in.Init(cfg); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		session := s.Session(&sim.Personas[i%len(sim.Personas)], rng, 3+i%10)
		at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		take := func() {
			b, err := in.TakeDelta()
			if err != nil {
				t.Fatal(err)
			}
			if b == nil {
				return
			}
			n++
			d, err := ingest.Decode(b)
			if err != nil {
				t.Fatalf("visitor %d: Decode: %v\n%x", i, err, b)
			}
			agree(t, b, d)
			for _, a := range d.Arms {
				if a.Clicks > a.Impressions {
					clicksOver++
				}
				if a.Conversions > a.Clicks {
					conversionsOver++
				}
			}
			if err := ingest.Check(&d, policy); err != nil {
				t.Errorf("visitor %d (%v): an honest delta is refused: %v\n%+v", i, cfg.Privacy, err, d)
			}
		}
		for j := range session {
			at = at.Add(30 * time.Second)
			if err := in.Track(sim.Event(wire.KindClick, &session[j], at)); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(2) == 0 {
				continue
			}
			res, err := in.Rank(&wire.RankRequest{Slot: "recommended", Candidates: s.Candidates(), Limit: 5, Time: at.UnixMilli(), Ctx: sim.Context(at)})
			if err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				take()
			}
			if len(res.Items) > 0 && rng.IntN(3) > 0 {
				// Click a shown item, sometimes after a sync, and sometimes buy it.
				shown := res.Items[rng.IntN(len(res.Items))].ID
				var p *wire.Item
				for k, c := range s.Candidates() {
					if c.ID == shown {
						p = &s.Candidates()[k]
					}
				}
				if p == nil {
					t.Fatalf("ranked %q is not a candidate", shown)
				}
				for _, kind := range []wire.Kind{wire.KindClick, wire.KindCart, wire.KindPurchase}[:1+rng.IntN(3)] {
					at = at.Add(10 * time.Second)
					if err := in.Track(&wire.Event{Kind: kind, Item: p, Time: at.UnixMilli(), Ctx: sim.Context(at)}); err != nil {
						t.Fatal(err)
					}
					if rng.IntN(3) == 0 {
						take()
					}
				}
			}
		}
		take()
	}
	t.Logf("%d deltas from %d visitors accepted; %d arms with more clicks than impressions, %d with more conversions than clicks",
		n, visitors, clicksOver, conversionsOver)
	if n < visitors {
		t.Fatalf("only %d deltas from %d visitors", n, visitors)
	}
}

// FuzzDecode holds Decode to the msgpack/v5 oracle: what Decode accepts,
// msgpack/v5 decodes to the same delta, and its canonical bytes decode
// back to it. Decode and Check never panic.
func FuzzDecode(f *testing.F) {
	d := sample()
	f.Add(wire.Marshal(&d))
	l := ldpSample()
	f.Add(wire.Marshal(&l))
	d.Epsilon, d.Pairs[0].W = 0.5, -3
	f.Add(wire.Marshal(&d))
	f.Add(doc(schema, kv("future", raw(unhex("82 a1 61 93 01 02 03 a1 62 c0"))), site))
	f.Add(doc(schema, kv("pairs", raw(unhex("91 93 c4 01 61 c4 01 62 01")))))
	f.Add(doc(schema, pairs("a", "b", f64(0.25))))
	f.Add(doc(schema, kv("x", raw(nested(msgp.MaxDepth)))))
	f.Add(doc(schema, kv("x", raw(nested(msgp.MaxDepth+1)))))
	f.Add(doc(schema, kv("arms", raw(unhex("91 95 a7 68 6f 6c 64 6f 75 74 01 02 03 c3")))))
	f.Add(doc(schema, kv("reports", raw(unhex("92 94 00 03 cd 0f a0 01 94 01 0f 00 ff")))))
	for _, h := range hostile {
		p := unhex(h.hex)
		f.Add(p)
		f.Add(doc(schema, kv("site", raw(p))))
		f.Add(doc(schema, kv("pairs", raw(append(unhex("91 93"), p...)))))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ingest.Decode(b)
		if err != nil {
			if ingest.Reason(err) == "" {
				t.Fatalf("Decode(%x) = %v: not one of the package's errors", b, err)
			}
			return
		}
		agree(t, b, got)
		ingest.Check(&got, federated)
		ingest.Check(&got, ingest.Policy{Privacy: wire.PrivacyLDP, Epsilon: 1})
	})
}

func ExampleDecode() {
	body := wire.Marshal(&wire.Delta{Site: "demo", Model: 3,
		Pairs: []wire.Pair{{From: "gown-1", To: "heels-2", W: 1}},
		Items: []wire.Count{{ID: "gown-1", N: 1}, {ID: "heels-2", N: 1}}})
	d, err := ingest.Decode(body)
	if err == nil {
		err = ingest.Check(&d, ingest.Policy{Privacy: wire.PrivacyFederated})
	}
	fmt.Println(d.Site, d.Model, d.Pairs, err)

	_, err = ingest.Decode([]byte{0xc6, 0x80, 0x00, 0x00, 0x00}) // claims a 2 GiB bin
	fmt.Println(ingest.Reason(err))

	d.Epsilon = 1 // local noise claimed on a site without local DP
	fmt.Println(ingest.Reason(ingest.Check(&d, ingest.Policy{Privacy: wire.PrivacyFederated})))
	// Output:
	// demo 3 [{gown-1 heels-2 1}] <nil>
	// malformed
	// noise_claimed
}
