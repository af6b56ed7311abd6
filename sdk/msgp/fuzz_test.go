package msgp

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// FuzzReader walks arbitrary input three ways (Skip, a typed decode driven
// by each value's tag, and every read in turn regardless of type) and checks
// that none panics or reads past the input. For input Skip accepts whole,
// msgpack/v5 must decode it too, to the same value: what the Reader accepts
// is a subset of what msgpack/v5 accepts.
//
// msgpack/v5 runs only on accepted input: on hostile length prefixes it
// allocates what they claim (a 2 GiB make for c6 80 00 00 00), and accepted
// input has every length checked against its size.
func FuzzReader(f *testing.F) {
	for _, tc := range codecCases {
		if len(tc.want) <= 1<<10 {
			f.Add(tc.want)
		}
	}
	for _, tc := range hostile {
		f.Add(tc.in)
	}
	for _, s := range []string{
		"", "c1", "c7 01 05 00", "d4 05 00", "d6 ff 00 00 00 00",
		"ca 7f c0 00 00", "cb ff f0 00 00 00 00 00 00",
		"01 02", "92 01", "dc 00", "82 01 02 03",
		"81 01 02",             // int key: msgpack/v5's default map decoding rejects it
		"81 90 01",             // array key: unhashable as a Go map key
		"82 a1 6b 01 a1 6b 02", // duplicate key
		"a2 ff fe",             // invalid UTF-8
	} {
		f.Add(unhex(s))
	}
	f.Add(truncDoc())
	f.Add(truncDoc()[:100])
	f.Add(nestedArrays(MaxDepth, 0x01))
	f.Add(nestedArrays(MaxDepth+1, 0x01))
	f.Add(nestedMaps(MaxDepth, 0xc0))
	f.Add(nestedArrays(1000))

	f.Fuzz(func(t *testing.T, data []byte) {
		// 1. Skip, as a decoder does for unknown fields.
		r := NewReader(data)
		r.Skip()
		checkOffset(t, "Skip", r, data)
		skipErr := r.Finish()

		// 2. The typed API, choosing each read by the value's tag.
		r = NewReader(data)
		ours := decodeAny(r, data, 0)
		checkOffset(t, "decodeAny", r, data)
		typedErr := r.Finish()

		// 3. Every read in turn, whatever the input holds.
		for start := range readOps {
			blindWalk(t, data, start)
		}

		// Skip and the typed decode read the same structure, so they
		// fail alike; only the typed decode checks floats are finite.
		switch {
		case skipErr != nil && typedErr == nil:
			t.Fatalf("Skip failed with %v but the typed decode accepted %x", skipErr, data)
		case errors.Is(typedErr, ErrNotFinite):
		case typedErr != skipErr:
			t.Fatalf("Skip failed with %v, typed decode with %v", skipErr, typedErr)
		}
		if skipErr != nil {
			return
		}

		// msgpack/v5 decodes maps into map[string]any by default,
		// rejecting other keys, and panics on unhashable keys with
		// DecodeUntypedMap; so decode maps as ordered pairs, which keeps
		// any key and the order we read.
		br := bytes.NewReader(data)
		dec := msgpack.NewDecoder(br)
		dec.SetMapDecoder(decodePairs)
		theirs, err := dec.DecodeInterface()
		if err != nil {
			t.Fatalf("Reader accepted %x, msgpack/v5 failed: %v", data, err)
		}
		if br.Len() != 0 {
			t.Fatalf("Reader accepted %x whole, msgpack/v5 left %d bytes", data, br.Len())
		}
		if err := msgpack.NewDecoder(bytes.NewReader(data)).Skip(); err != nil {
			t.Fatalf("Reader accepted %x, msgpack/v5 Skip failed: %v", data, err)
		}
		if typedErr == nil && !equalValue(ours, theirs) {
			t.Fatalf("decoding %x:\nReader     %s\nmsgpack/v5 %s", data, short(canon(ours)), short(canon(theirs)))
		}
	})
}

// decodeAny decodes any value through the typed API, choosing each read by
// the tag ahead (which only a test, holding the input, can see). It bounds
// depth as Skip does, with the same meaning.
func decodeAny(r *Reader, data []byte, depth int) any {
	if depth > MaxDepth {
		r.Fail(ErrDepth)
		return nil
	}
	if r.Err() != nil || r.Remaining() == 0 {
		r.Skip() // records ErrShort at the end of input
		return nil
	}
	switch t := data[r.Offset()]; {
	case t == 0xc0:
		r.IsNil()
		return nil
	case t == 0xc2 || t == 0xc3:
		return r.Bool()
	case t <= 0x7f || (t >= 0xcc && t <= 0xcf):
		return r.Uint()
	case t >= 0xe0 || (t >= 0xd0 && t <= 0xd3):
		return r.Int()
	case t == 0xca:
		return r.Float32()
	case t == 0xcb:
		return r.Float()
	case (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb):
		return r.String()
	case t >= 0xc4 && t <= 0xc6:
		return bytes.Clone(r.BytesView())
	case (t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd:
		s := make([]any, r.ArrayHeader())
		for i := range s {
			s[i] = decodeAny(r, data, depth+1)
		}
		return s
	case (t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf:
		p := make(pairs, 2*r.MapHeader())
		for i := range p {
			p[i] = decodeAny(r, data, depth+1)
		}
		return p
	}
	r.Skip() // records ErrType for ext and reserved tags
	return nil
}

// decodePairs is a msgpack/v5 map decoder giving maps as ordered pairs.
func decodePairs(d *msgpack.Decoder) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	p := make(pairs, 2*n)
	for i := range p {
		if p[i], err = d.DecodeInterface(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// blindWalk calls readOps in turn from start, whatever the input holds,
// until an error or the end of input, then checks that every read after the
// error returns zero and consumes nothing.
func blindWalk(t *testing.T, data []byte, start int) {
	t.Helper()
	r := NewReader(data)
	// IsNil may consume nothing; every other read that succeeds consumes
	// at least a byte, so 2*len+2 calls reach the end.
	for i := 0; r.Err() == nil && r.Remaining() > 0 && i < 2*len(data)+2; i++ {
		op := readOps[(start+i)%len(readOps)]
		before := r.Offset()
		op.read(r)
		checkOffset(t, op.name, r, data)
		if r.Offset() < before {
			t.Fatalf("%s moved Offset back from %d to %d", op.name, before, r.Offset())
		}
	}
	for r.Err() == nil {
		r.Skip() // ends with ErrShort at the end of input, if nothing before
	}
	off := r.Offset()
	for _, op := range readOps {
		if got := op.read(r); !isEmpty(got) {
			t.Fatalf("%s after %v = %#v, want zero", op.name, r.Err(), got)
		}
		if r.Offset() != off {
			t.Fatalf("%s after %v moved Offset from %d to %d", op.name, r.Err(), off, r.Offset())
		}
	}
}

func checkOffset(t *testing.T, after string, r *Reader, data []byte) {
	t.Helper()
	if r.Offset() < 0 || r.Offset() > len(data) || r.Offset()+r.Remaining() != len(data) {
		t.Fatalf("after %s on %x: Offset %d, Remaining %d, len %d", after, data, r.Offset(), r.Remaining(), len(data))
	}
}

// rtDoc is FuzzRoundTrip's document as msgpack/v5 sees it: an array, which
// msgpack/v5 decodes into a struct field by field, and encodes from one with
// UseArrayEncodedStructs (see marshal).
type rtDoc struct {
	Nil  any
	Bool bool
	U    uint64
	I    int64
	F64  float64
	F32  float32
	S    string
	Bin  []byte
	M    map[string]int64
	A    []any
}

// FuzzRoundTrip writes a document of every type from the fuzz arguments,
// reads it back with the Reader, decodes it with msgpack/v5, and checks
// that msgpack/v5 (with UseCompactInts) encodes the same document to the
// same bytes.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), int64(0), 0.0, "", []byte{})
	f.Add(uint64(127), int64(-32), 1.5, "x", []byte{1})
	f.Add(uint64(128), int64(-33), math.Copysign(0, -1), strings.Repeat("x", 31), []byte(nil))
	f.Add(uint64(math.MaxUint32), int64(math.MinInt32), math.MaxFloat64, strings.Repeat("x", 32), make([]byte, 256))
	f.Add(uint64(1<<32), int64(math.MinInt32-1), math.SmallestNonzeroFloat64, strings.Repeat("é", 200), make([]byte, 70000))
	f.Add(uint64(math.MaxUint64), int64(math.MinInt64), math.Inf(1), "\xff\xfe", []byte("abc"))
	f.Add(uint64(1<<63), int64(math.MaxInt64), math.NaN(), "k", []byte{0})
	f.Add(uint64(65535), int64(-32769), 1e39, "", []byte{}) // finite float64, +Inf as float32

	f.Fuzz(func(t *testing.T, u uint64, i int64, fl float64, s string, b []byte) {
		if b == nil {
			b = []byte{} // msgpack/v5 writes a nil []byte as nil; see TestWriterBinNil
		}
		f32 := float32(fl)
		w := NewWriter(0)
		w.ArrayHeader(10)
		w.Nil()
		w.Bool(u&1 == 1)
		w.Uint(u)
		w.Int(i)
		w.Float64(fl)
		w.Float32(f32)
		w.String(s)
		w.Bin(b)
		w.MapHeader(1)
		w.String(s)
		w.Int(i)
		w.ArrayHeader(2)
		w.Uint(u)
		w.Int(i)
		doc := w.Bytes()

		// Reader.
		r := NewReader(doc)
		if n := r.ArrayMax(10); n != 10 {
			t.Fatalf("ArrayMax(10) = %d (%v)", n, r.Err())
		}
		if !r.IsNil() {
			t.Fatalf("IsNil() = false (%v)", r.Err())
		}
		if got := r.Bool(); got != (u&1 == 1) {
			t.Fatalf("Bool() = %v", got)
		}
		if got := r.Uint(); got != u {
			t.Fatalf("Uint() = %d, want %d", got, u)
		}
		if got := r.Int(); got != i {
			t.Fatalf("Int() = %d, want %d", got, i)
		}
		finite := !math.IsNaN(fl) && !math.IsInf(fl, 0)
		finite32 := !math.IsNaN(float64(f32)) && !math.IsInf(float64(f32), 0)
		if got := r.Float(); finite && math.Float64bits(got) != math.Float64bits(fl) {
			t.Fatalf("Float() = %v, want %v", got, fl)
		}
		if got := r.Float32(); finite && finite32 && math.Float32bits(got) != math.Float32bits(f32) {
			t.Fatalf("Float32() = %v, want %v", got, f32)
		}
		if !finite || !finite32 {
			if err := r.Err(); !errors.Is(err, ErrNotFinite) {
				t.Fatalf("reading %v / %v: Err() = %v, want %v", fl, f32, err, ErrNotFinite)
			}
		} else {
			if got := r.String(); got != s {
				t.Fatalf("String() = %q, want %q", got, s)
			}
			if got := r.BytesView(); !bytes.Equal(got, b) {
				t.Fatalf("BytesView() = %x, want %x", got, b)
			}
			if r.MapMax(1) != 1 || r.StringMax(len(s)) != s || r.Int() != i {
				t.Fatalf("map {%q: %d} read back wrong (%v)", s, i, r.Err())
			}
			if r.ArrayHeader() != 2 || r.Uint() != u || r.Int() != i {
				t.Fatalf("array [%d, %d] read back wrong (%v)", u, i, r.Err())
			}
			if err := r.Finish(); err != nil {
				t.Fatalf("Finish() = %v", err)
			}
		}

		// msgpack/v5 decodes the same document.
		var got rtDoc
		if err := msgpack.Unmarshal(doc, &got); err != nil {
			t.Fatalf("msgpack.Unmarshal: %v", err)
		}
		if got.Nil != nil || got.Bool != (u&1 == 1) || got.U != u || got.I != i ||
			math.Float64bits(got.F64) != math.Float64bits(fl) ||
			math.Float32bits(got.F32) != math.Float32bits(f32) ||
			got.S != s || !bytes.Equal(got.Bin, b) ||
			len(got.M) != 1 || got.M[s] != i ||
			len(got.A) != 2 || !equalValue(got.A[0], u) || !equalValue(got.A[1], i) {
			t.Fatalf("msgpack/v5 decoded %#v", got)
		}

		// ...and, with compact ints, encodes it to the same bytes.
		want := rtDoc{
			Bool: u&1 == 1, U: u, I: i, F64: fl, F32: f32, S: s, Bin: b,
			M: map[string]int64{s: i}, A: []any{u, i},
		}
		if enc := marshal(t, want, true); !bytes.Equal(enc, doc) {
			t.Fatalf("msgpack/v5 wrote\n%s\nWriter wrote\n%s", short(enc), short(doc))
		}
	})
}
