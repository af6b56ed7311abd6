package msgp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// TestReaderRoundTrip reads back every golden of codecCases.
func TestReaderRoundTrip(t *testing.T) {
	for _, tc := range codecCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.readErr == nil {
				checkRead(t, tc.want, tc.read, tc.value)
				return
			}
			got, err := readAll(tc.want, tc.read)
			if !errors.Is(err, tc.readErr) {
				t.Fatalf("Finish() = %v, want %v", err, tc.readErr)
			}
			if !isEmpty(got) {
				t.Fatalf("read = %s after error, want zero", short(got))
			}
		})
	}
}

// readAll reads in with read, then finishes the reader: the value read
// and Finish's error (the first error met).
func readAll(in []byte, read func(*Reader) any) (any, error) {
	r := NewReader(in)
	v := read(r)
	return v, r.Finish()
}

// checkRead fails t unless read reads want from in and the reader then
// finishes without error.
func checkRead(t *testing.T, in []byte, read func(*Reader) any, want any) {
	t.Helper()
	got, err := readAll(in, read)
	if err != nil {
		t.Fatalf("reading %x: Finish() = %v", in, err)
	}
	if !equalValue(got, want) {
		t.Fatalf("reading %x = %s, want %s", in, short(got), short(want))
	}
}

// TestReaderForms covers encodings the Writer never produces but other
// encoders may: wider-than-needed ints (msgpack/v5's default for int64 and
// uint64), signed tags holding non-negative values, str8 for short strings,
// str read as bytes and bin as string, ints read as floats.
func TestReaderForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		read func(r *Reader) any
		want any
	}{
		{"uint from uint64 tag", unhex("cf 00 00 00 00 00 00 00 05"), readUint, uint64(5)},
		{"uint from uint16 tag", unhex("cd 00 01"), readUint, uint64(1)},
		{"uint from int8 tag", unhex("d0 05"), readUint, uint64(5)},
		{"uint from int64 tag", unhex("d3 7f ff ff ff ff ff ff ff"), readUint, uint64(math.MaxInt64)},
		{"int from uint8 tag", unhex("cc ff"), readInt, int64(255)},
		{"int from uint64 tag", unhex("cf 7f ff ff ff ff ff ff ff"), readInt, int64(math.MaxInt64)},
		{"int from int16 tag", unhex("d1 00 05"), readInt, int64(5)},
		{"int from int32 tag", unhex("d2 ff ff ff ff"), readInt, int64(-1)},
		{"int from int64 tag", unhex("d3 ff ff ff ff ff ff ff fe"), readInt, int64(-2)},
		{"float from fixint", unhex("05"), readFloat64, float64(5)},
		{"float from negative fixint", unhex("e0"), readFloat64, float64(-32)},
		{"float from int64", unhex("d3 80 00 00 00 00 00 00 00"), readFloat64, float64(math.MinInt64)},
		{"float from uint64", unhex("cf ff ff ff ff ff ff ff ff"), readFloat64, float64(math.MaxUint64)},
		{"float from float32", unhex("ca 3f c0 00 00"), readFloat64, float64(1.5)},
		{"float32 from float64", unhex("cb 3f f8 00 00 00 00 00 00"), readFloat32, float32(1.5)},
		{"float32 from float64 max", unhex("cb 47 ef ff ff e0 00 00 00"), readFloat32, float32(math.MaxFloat32)},
		{"float32 from int", unhex("cd 01 00"), readFloat32, float32(256)},
		{"string from str8", unhex("d9 03 61 62 63"), readString, "abc"},
		{"string from str16", unhex("da 00 03 61 62 63"), readString, "abc"},
		{"string from str32", unhex("db 00 00 00 03 61 62 63"), readString, "abc"},
		{"string from bin8", unhex("c4 03 61 62 63"), readString, "abc"},
		{"string from bin32", unhex("c6 00 00 00 03 61 62 63"), readString, "abc"},
		{"bytes from fixstr", unhex("a3 61 62 63"), readBin, []byte("abc")},
		{"bytes from bin16", unhex("c5 00 03 61 62 63"), readBin, []byte("abc")},
		{"bytes empty", unhex("a0"), readBin, []byte{}},
		{"array16 of 1", unhex("dc 00 01 c0"), readNils, []any{nil}},
		{"array32 of 1", unhex("dd 00 00 00 01 c0"), readNils, []any{nil}},
		{"map16 of 1", unhex("de 00 01 a1 6b c0"), readKeys, map[string]any{"k": nil}},
		{"map32 of 1", unhex("df 00 00 00 01 a1 6b c0"), readKeys, map[string]any{"k": nil}},
		{"skip then read", unhex("92 93 01 02 03 05"), func(r *Reader) any { r.ArrayHeader(); r.Skip(); return r.Uint() }, uint64(5)},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRead(t, tc.in, tc.read, tc.want) })
	}
}

// TestReaderReadsMsgpackDefaults reads what msgpack/v5 writes with default
// options (fixed-width int64/uint64, float32 as 0xca).
func TestReaderReadsMsgpackDefaults(t *testing.T) {
	for _, tc := range []struct {
		value any
		read  func(r *Reader) any
	}{
		{uint64(5), readUint},
		{uint64(math.MaxUint64), readUint},
		{int64(5), readInt},
		{int64(-5), readInt},
		{int64(math.MinInt64), readInt},
		{int(-200), readInt},
		{uint(70000), readUint},
		{float32(-1.25), readFloat32},
		{float64(1e300), readFloat64},
		{"héllo", readString},
		{[]byte{1, 2, 3}, readBin},
		{[]any{nil, nil}, readNils},
		{map[string]any{"a": nil, "b": nil}, readKeys},
	} {
		b, err := msgpack.Marshal(tc.value)
		if err != nil {
			t.Fatalf("msgpack.Marshal(%#v): %v", tc.value, err)
		}
		t.Run(fmt.Sprintf("%T", tc.value), func(t *testing.T) { checkRead(t, b, tc.read, tc.value) })
	}
}

func TestReaderErrors(t *testing.T) {
	skip := func(r *Reader) any { r.Skip(); return nil }
	for _, tc := range []struct {
		name string
		in   []byte
		read func(r *Reader) any
		want error
	}{
		// Empty input, for every read.
		{"empty bool", nil, readBool, ErrShort},
		{"empty uint", nil, readUint, ErrShort},
		{"empty int", nil, readInt, ErrShort},
		{"empty float", nil, readFloat64, ErrShort},
		{"empty float32", nil, readFloat32, ErrShort},
		{"empty string", nil, readString, ErrShort},
		{"empty bytes", nil, readBin, ErrShort},
		{"empty array", nil, func(r *Reader) any { return r.ArrayHeader() }, ErrShort},
		{"empty map", nil, func(r *Reader) any { return r.MapHeader() }, ErrShort},
		{"empty skip", nil, skip, ErrShort},
		{"empty nil", nil, readNil, ErrType}, // IsNil reports false; it never fails

		// Wrong types.
		{"bool from int", unhex("01"), readBool, ErrType},
		{"bool from nil", unhex("c0"), readBool, ErrType},
		{"uint from str", unhex("a1 78"), readUint, ErrType},
		{"uint from nil", unhex("c0"), readUint, ErrType},
		{"uint from float", unhex("ca 3f c0 00 00"), readUint, ErrType},
		{"int from bool", unhex("c3"), readInt, ErrType},
		{"float from str", unhex("a0"), readFloat64, ErrType},
		{"float from nil", unhex("c0"), readFloat64, ErrType},
		{"string from int", unhex("01"), readString, ErrType},
		{"string from nil", unhex("c0"), readString, ErrType},
		{"string from array", unhex("90"), readString, ErrType},
		{"bytes from map", unhex("80"), readBin, ErrType},
		{"array from map", unhex("80"), func(r *Reader) any { return r.ArrayHeader() }, ErrType},
		{"array from nil", unhex("c0"), func(r *Reader) any { return r.ArrayHeader() }, ErrType},
		{"map from array", unhex("90"), func(r *Reader) any { return r.MapHeader() }, ErrType},
		{"map from str", unhex("a0"), func(r *Reader) any { return r.MapHeader() }, ErrType},

		// Ranges.
		{"uint from negative fixint", unhex("ff"), readUint, ErrRange},
		{"uint from negative int8", unhex("d0 80"), readUint, ErrRange},
		{"uint from negative int16", unhex("d1 ff 7f"), readUint, ErrRange},
		{"uint from negative int32", unhex("d2 80 00 00 00"), readUint, ErrRange},
		{"uint from negative int64", unhex("d3 ff ff ff ff ff ff ff ff"), readUint, ErrRange},
		{"int from uint64 2^63", unhex("cf 80 00 00 00 00 00 00 00"), readInt, ErrRange},
		{"float32 from large float64", unhex("cb 47 f0 00 00 00 00 00 00"), readFloat32, ErrRange},
		{"float32 from large negative float64", unhex("cb c7 f0 00 00 00 00 00 00"), readFloat32, ErrRange},

		// NaN and Inf, as float32 and float64, through Float and Float32.
		{"float nan32", unhex("ca 7f c0 00 00"), readFloat64, ErrNotFinite},
		{"float +inf32", unhex("ca 7f 80 00 00"), readFloat64, ErrNotFinite},
		{"float -inf32", unhex("ca ff 80 00 00"), readFloat64, ErrNotFinite},
		{"float nan64", unhex("cb 7f f8 00 00 00 00 00 00"), readFloat64, ErrNotFinite},
		{"float signaling nan64", unhex("cb 7f f0 00 00 00 00 00 01"), readFloat64, ErrNotFinite},
		{"float +inf64", unhex("cb 7f f0 00 00 00 00 00 00"), readFloat64, ErrNotFinite},
		{"float -inf64", unhex("cb ff f0 00 00 00 00 00 00"), readFloat64, ErrNotFinite},
		{"float32 nan32", unhex("ca ff c0 00 01"), readFloat32, ErrNotFinite},
		{"float32 inf64", unhex("cb 7f f0 00 00 00 00 00 00"), readFloat32, ErrNotFinite},

		// Truncated bodies.
		{"uint16 short", unhex("cd 01"), readUint, ErrShort},
		{"int64 short", unhex("d3 00 00 00 00 00 00 00"), readInt, ErrShort},
		{"float32 short", unhex("ca 3f c0 00"), readFloat64, ErrShort},
		{"float64 short", unhex("cb 3f"), readFloat64, ErrShort},
		{"str8 no length", unhex("d9"), readString, ErrShort},
		{"str8 short", unhex("d9 03 61 62"), readString, ErrShort},
		{"fixstr short", unhex("a3 61 62"), readString, ErrShort},
		{"bin16 short", unhex("c5 00"), readBin, ErrShort},
		{"array16 short header", unhex("dc 00"), func(r *Reader) any { return r.ArrayHeader() }, ErrShort},
		{"fixarray more than remains", unhex("93 01 02"), func(r *Reader) any { return r.ArrayHeader() }, ErrShort},
		{"fixmap more than remains", unhex("82 01 02 03"), func(r *Reader) any { return r.MapHeader() }, ErrShort},
		{"skip array short", unhex("92 01"), skip, ErrShort},
		{"skip float32 short", unhex("ca 00 00"), skip, ErrShort},
		{"skip uint64 short", unhex("cf 00"), skip, ErrShort},

		// Ext types and the reserved tag: Tailor never writes them.
		{"skip reserved c1", unhex("c1"), skip, ErrType},
		{"skip ext8", unhex("c7 01 05 00"), skip, ErrType},
		{"skip ext16", unhex("c8 00 01 05 00"), skip, ErrType},
		{"skip ext32", unhex("c9 00 00 00 01 05 00"), skip, ErrType},
		{"skip fixext1", unhex("d4 05 00"), skip, ErrType},
		{"skip fixext2", unhex("d5 05 00 00"), skip, ErrType},
		{"skip fixext4", unhex("d6 ff 00 00 00 00"), skip, ErrType}, // msgpack/v5's timestamp
		{"skip fixext8", unhex("d7 05 00 00 00 00 00 00 00 00"), skip, ErrType},
		{"skip fixext16", append(unhex("d8 05"), make([]byte, 16)...), skip, ErrType},
		{"skip ext in array", unhex("92 01 d4 05 00"), skip, ErrType},
		{"uint from fixext", unhex("d4 05 00"), readUint, ErrType},
		{"string from ext8", unhex("c7 01 05 00"), readString, ErrType},
		{"float from reserved", unhex("c1"), readFloat64, ErrType},

		// Trailing bytes.
		{"trailing after uint", unhex("01 02"), readUint, ErrTrailing},
		{"trailing after skip", unhex("91 01 c0"), skip, ErrTrailing},
		{"nothing read", unhex("c0"), func(r *Reader) any { return nil }, ErrTrailing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			got := tc.read(r)
			if err := r.Finish(); !errors.Is(err, tc.want) {
				t.Fatalf("Finish() = %v, want %v", err, tc.want)
			}
			if tc.want != ErrTrailing && !isEmpty(got) {
				t.Fatalf("read = %s on error, want zero", short(got))
			}
			if r.Offset() > len(tc.in) {
				t.Fatalf("Offset() = %d > len %d", r.Offset(), len(tc.in))
			}
		})
	}
}

// TestReaderLimits checks the *Max reads on both sides of their limit.
func TestReaderLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		read func(r *Reader) any
		want any
		err  error
	}{
		{"uint at max", unhex("0a"), func(r *Reader) any { return r.UintMax(10) }, uint64(10), nil},
		{"uint over max", unhex("0b"), func(r *Reader) any { return r.UintMax(10) }, uint64(0), ErrRange},
		{"uint64 over max", unhex("cf ff ff ff ff ff ff ff ff"), func(r *Reader) any { return r.UintMax(math.MaxUint64 - 1) }, uint64(0), ErrRange},
		{"uint max zero", unhex("00"), func(r *Reader) any { return r.UintMax(0) }, uint64(0), nil},
		{"uint max negative", unhex("ff"), func(r *Reader) any { return r.UintMax(10) }, uint64(0), ErrRange},
		{"string at max", unhex("a3 61 62 63"), func(r *Reader) any { return r.StringMax(3) }, "abc", nil},
		{"string over max", unhex("a4 61 62 63 64"), func(r *Reader) any { return r.StringMax(3) }, "", ErrTooLong},
		{"string max zero", unhex("a0"), func(r *Reader) any { return r.StringMax(0) }, "", nil},
		{"string over max zero", unhex("a1 61"), func(r *Reader) any { return r.StringMax(0) }, "", ErrTooLong},
		{"bin over max", unhex("c4 02 00 00"), func(r *Reader) any { return r.StringMax(1) }, "", ErrTooLong},
		{"string max short", unhex("a4 61"), func(r *Reader) any { return r.StringMax(3) }, "", ErrShort},
		{"array at max", unhex("92 01 02"), func(r *Reader) any { n := r.ArrayMax(2); r.Skip(); r.Skip(); return n }, 2, nil},
		{"array over max", unhex("93 01 02 03"), func(r *Reader) any { return r.ArrayMax(2) }, 0, ErrTooLong},
		{"array16 over max", cat(unhex("dc 00 11"), make([]byte, 17)), func(r *Reader) any { return r.ArrayMax(16) }, 0, ErrTooLong},
		{"array max short", unhex("93 01"), func(r *Reader) any { return r.ArrayMax(2) }, 0, ErrShort},
		{"map at max", unhex("81 01 02"), func(r *Reader) any { n := r.MapMax(1); r.Skip(); r.Skip(); return n }, 1, nil},
		{"map over max", unhex("82 01 02 03 04"), func(r *Reader) any { return r.MapMax(1) }, 0, ErrTooLong},
		{"map max zero", unhex("80"), func(r *Reader) any { return r.MapMax(0) }, 0, nil},
		{"float32 at max", unhex("cb 47 ef ff ff e0 00 00 00"), readFloat32, float32(math.MaxFloat32), nil},
		{"float32 at -max", unhex("cb c7 ef ff ff e0 00 00 00"), readFloat32, float32(-math.MaxFloat32), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			got := tc.read(r)
			err := r.Finish()
			if !errors.Is(err, tc.err) {
				t.Fatalf("Finish() = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("read = %#v, want %#v", got, tc.want)
			}
		})
	}
}

// truncDoc is a valid document of every type and most widths, for the
// truncation tests and as a fuzz seed.
func truncDoc() []byte {
	w := NewWriter(0)
	w.MapHeader(14)
	w.String("nil")
	w.Nil()
	w.String("bool")
	w.Bool(true)
	w.String("u8")
	w.Uint(200)
	w.String("u16")
	w.Uint(60000)
	w.String("u32")
	w.Uint(1 << 31)
	w.String("u64")
	w.Uint(1 << 40)
	w.String("ints")
	w.ArrayHeader(5)
	w.Int(-5)
	w.Int(-100)
	w.Int(-1000)
	w.Int(-100000)
	w.Int(-1 << 40)
	w.String("f32")
	w.Float32(0.25)
	w.String("f64")
	w.Float64(-0.125)
	w.String("str8")
	w.String(xs(40))
	w.String("str16")
	w.String(xs(300))
	w.String("bin8")
	w.Bin(ys(3))
	w.String("bin16")
	w.Bin(ys(260))
	w.String("nested")
	w.MapHeader(1)
	w.String("a")
	w.ArrayHeader(16)
	for i := range 16 {
		w.Uint(uint64(i))
	}
	return w.Bytes()
}

// decodeTruncDoc reads truncDoc with the typed API, in the sticky-error
// loop of the package doc, and checks every value.
func decodeTruncDoc(r *Reader) {
	n := r.MapMax(32)
	for range n {
		k := r.StringMax(16)
		var ok bool
		switch k {
		case "nil":
			ok = r.IsNil()
		case "bool":
			ok = r.Bool()
		case "u8":
			ok = r.UintMax(255) == 200
		case "u16":
			ok = r.Uint() == 60000
		case "u32":
			ok = r.Uint() == 1<<31
		case "u64":
			ok = r.Uint() == 1<<40
		case "ints":
			ok = r.ArrayMax(5) == 5 && r.Int() == -5 && r.Int() == -100 && r.Int() == -1000 &&
				r.Int() == -100000 && r.Int() == -1<<40
		case "f32":
			ok = r.Float32() == 0.25
		case "f64":
			ok = r.Float() == -0.125
		case "str8":
			ok = r.String() == xs(40)
		case "str16":
			ok = r.StringMax(300) == xs(300)
		case "bin8":
			ok = bytes.Equal(r.BytesView(), ys(3))
		case "bin16":
			ok = bytes.Equal(r.BytesView(), ys(260))
		case "nested":
			ok = r.MapHeader() == 1 && r.String() == "a" && r.ArrayHeader() == 16
			for i := range 16 {
				ok = ok && r.Uint() == uint64(i)
			}
		}
		if !ok {
			r.Fail(errors.New("truncDoc: wrong value at " + k))
		}
	}
}

// TestReaderTruncated cuts a valid document at every byte: Skip and the
// typed decode must both fail with ErrShort, never read past the cut, and
// accept the whole document.
func TestReaderTruncated(t *testing.T) {
	doc := truncDoc()
	for _, tc := range []struct {
		name   string
		decode func(r *Reader)
	}{
		{"skip", func(r *Reader) { r.Skip() }},
		{"typed", decodeTruncDoc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(doc)
			tc.decode(r)
			if err := r.Finish(); err != nil {
				t.Fatalf("whole document (%d bytes): %v", len(doc), err)
			}
			for cut := range len(doc) {
				// A copy with no spare capacity, so reading past the
				// cut would panic rather than pass unnoticed.
				in := bytes.Clone(doc[:cut])
				r := NewReader(in)
				tc.decode(r)
				if err := r.Finish(); !errors.Is(err, ErrShort) {
					t.Fatalf("cut at %d of %d: Finish() = %v, want %v", cut, len(doc), err, ErrShort)
				}
				if r.Offset() > cut {
					t.Fatalf("cut at %d: Offset() = %d", cut, r.Offset())
				}
			}
		})
	}
}

// TestReaderSticky checks that after the first error every read returns its
// zero value, consumes nothing, and Err keeps reporting that first error.
func TestReaderSticky(t *testing.T) {
	other := errors.New("other")
	for _, tc := range []struct {
		name  string
		in    []byte
		first func(r *Reader)
		want  error
	}{
		{"type", unhex("a1 78 01 c3 91 01 81 01 02"), func(r *Reader) { r.Uint() }, ErrType},
		{"range", unhex("ff 01 c3 91 01 81 01 02"), func(r *Reader) { r.Uint() }, ErrRange},
		{"short", unhex("93 01 c3"), func(r *Reader) { r.ArrayHeader() }, ErrShort},
		{"not finite", unhex("ca 7f 80 00 00 01 c3 91 01"), func(r *Reader) { r.Float() }, ErrNotFinite},
		{"too long", unhex("a2 61 62 01 c3 91 01"), func(r *Reader) { r.StringMax(1) }, ErrTooLong},
		{"depth", nestedArrays(MaxDepth+1, 0x01), func(r *Reader) { r.Skip() }, ErrDepth},
		{"fail", unhex("01 c3 91 01"), func(r *Reader) { r.Fail(other) }, other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			tc.first(r)
			if err := r.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("Err() = %v, want %v", err, tc.want)
			}
			off := r.Offset()
			for _, op := range readOps {
				if got := op.read(r); !isEmpty(got) {
					t.Errorf("%s after error = %#v, want zero", op.name, got)
				}
				if r.Offset() != off {
					t.Errorf("%s after error moved Offset from %d to %d", op.name, off, r.Offset())
				}
			}
			r.Fail(ErrType)
			if err := r.Finish(); !errors.Is(err, tc.want) {
				t.Fatalf("Finish() = %v, want the first error %v", err, tc.want)
			}
			if r.Remaining() != len(tc.in)-off {
				t.Fatalf("Remaining() = %d, want %d", r.Remaining(), len(tc.in)-off)
			}
		})
	}
}

// readOps calls each read of the Reader; the sticky and fuzz tests run them
// all.
var readOps = []struct {
	name string
	read func(r *Reader) any
}{
	{"IsNil", func(r *Reader) any { return r.IsNil() }},
	{"Bool", func(r *Reader) any { return r.Bool() }},
	{"Uint", func(r *Reader) any { return r.Uint() }},
	{"UintMax", func(r *Reader) any { return r.UintMax(1000) }},
	{"Int", func(r *Reader) any { return r.Int() }},
	{"Float", func(r *Reader) any { return r.Float() }},
	{"Float32", func(r *Reader) any { return r.Float32() }},
	{"String", func(r *Reader) any { return r.String() }},
	{"StringMax", func(r *Reader) any { return r.StringMax(8) }},
	{"BytesView", func(r *Reader) any { return r.BytesView() }},
	{"ArrayHeader", func(r *Reader) any { return r.ArrayHeader() }},
	{"ArrayMax", func(r *Reader) any { return r.ArrayMax(4) }},
	{"MapHeader", func(r *Reader) any { return r.MapHeader() }},
	{"MapMax", func(r *Reader) any { return r.MapMax(4) }},
	{"Skip", func(r *Reader) any { r.Skip(); return nil }},
	{"Tuple", func(r *Reader) any { r.Tuple(2); return nil }},
}

func TestReaderTuple(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		n    int
		want error
	}{
		{"exact", unhex("92 01 02"), 2, nil},
		{"empty", unhex("90"), 0, nil},
		{"array16", unhex("dc 00 02 01 02"), 2, nil},
		{"fewer", unhex("91 01"), 2, ErrType},
		{"more", unhex("93 01 02 03"), 2, ErrType},
		{"not an array", unhex("82 01 02 03 04"), 2, ErrType},
		{"short", unhex("92 01"), 2, ErrShort},
		{"short, zero wanted", unhex("92 01"), 0, ErrShort},
		{"hostile", unhex("dd ff ff ff ff"), 0, ErrShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			r.Tuple(tc.n)
			if tc.want == nil {
				for range tc.n {
					r.Skip()
				}
			}
			if err := r.Finish(); !errors.Is(err, tc.want) {
				t.Fatalf("Tuple(%d), Finish() = %v, want %v", tc.n, err, tc.want)
			}
		})
	}
}

// TestReaderLoopEndsOnError runs the package doc's decode loop into an
// error: the remaining iterations do no harm, since String returns "" (no
// case matches), Skip does nothing and every value stays zero.
func TestReaderLoopEndsOnError(t *testing.T) {
	in := unhex("82 a1 76 a1 78 a1 77 01") // {"v": "x", "w": 1}: v is not a uint
	r := NewReader(in)
	var v, w uint64
	calls := 0
	n := r.MapHeader()
	for range n {
		calls++
		switch r.String() {
		case "v":
			v = r.Uint()
		case "w":
			w = r.Uint()
		default:
			r.Skip()
		}
	}
	if err := r.Finish(); !errors.Is(err, ErrType) {
		t.Fatalf("Finish() = %v, want %v", err, ErrType)
	}
	if v != 0 || w != 0 || calls != 2 {
		t.Fatalf("v, w, calls = %d, %d, %d; want 0, 0, 2", v, w, calls)
	}
}

func TestReaderIsNil(t *testing.T) {
	r := NewReader(unhex("c0 00"))
	if !r.IsNil() || r.Offset() != 1 {
		t.Fatalf("IsNil on c0: Offset %d, want true and 1", r.Offset())
	}
	if r.IsNil() || r.Offset() != 1 {
		t.Fatalf("IsNil on 00 consumed or reported nil: Offset %d", r.Offset())
	}
	if r.Uint() != 0 || r.Finish() != nil {
		t.Fatalf("after IsNil, Uint then Finish: %v", r.Err())
	}
	if r.IsNil() || r.Err() != nil {
		t.Fatalf("IsNil at end of input = true or set %v; want false and no error", r.Err())
	}
}

func TestReaderFinish(t *testing.T) {
	if err := NewReader(nil).Finish(); err != nil {
		t.Fatalf("Finish() on empty input = %v", err)
	}
	r := NewReader(unhex("01 02"))
	r.Uint()
	if err := r.Finish(); !errors.Is(err, ErrTrailing) {
		t.Fatalf("Finish() = %v, want %v", err, ErrTrailing)
	}
	if err := r.Err(); !errors.Is(err, ErrTrailing) {
		t.Fatalf("Err() after Finish = %v, want %v (sticky)", err, ErrTrailing)
	}
	if r.Uint() != 0 {
		t.Fatalf("Uint after ErrTrailing read a value")
	}
}

// nestedArrays returns depth one-element arrays around leaf.
func nestedArrays(depth int, leaf ...byte) []byte {
	return append(bytes.Repeat([]byte{0x91}, depth), leaf...)
}

// nestedMaps returns depth {"": ...} maps around leaf.
func nestedMaps(depth int, leaf ...byte) []byte {
	return append(bytes.Repeat([]byte{0x81, 0xa0}, depth), leaf...)
}

// TestReaderSkipDepth checks Skip's bound: the outermost value is at depth
// 0, and a value deeper than MaxDepth fails with ErrDepth, after reading at
// most MaxDepth+1 levels however deep the input goes.
func TestReaderSkipDepth(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"arrays, leaf at MaxDepth", nestedArrays(MaxDepth, 0x01), nil},
		{"arrays, leaf at MaxDepth+1", nestedArrays(MaxDepth+1, 0x01), ErrDepth},
		{"arrays, empty at MaxDepth", nestedArrays(MaxDepth, 0x90), nil},
		{"arrays, empty at MaxDepth+1", nestedArrays(MaxDepth+1, 0x90), ErrDepth},
		{"maps, leaf at MaxDepth", nestedMaps(MaxDepth, 0xc0), nil},
		{"maps, leaf at MaxDepth+1", nestedMaps(MaxDepth+1, 0xc0), ErrDepth},
		{"mixed, leaf at MaxDepth+1", append(nestedMaps(MaxDepth/2), nestedArrays(MaxDepth/2+1, 0x01)...), ErrDepth},
		{"arrays 100000 deep", nestedArrays(100_000, 0x01), ErrDepth},
		{"maps 100000 deep", nestedMaps(100_000, 0x01), ErrDepth},
		{"arrays 100000 deep, truncated", nestedArrays(100_000), ErrDepth},
		{"array16 100000 deep", bytes.Repeat(unhex("dc 00 01"), 100_000), ErrDepth},
		{"wide not deep", cat(unhex("dc 27 10"), bytes.Repeat(unhex("91 01"), 10_000)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			r.Skip()
			if err := r.Finish(); !errors.Is(err, tc.want) {
				t.Fatalf("Skip, Finish() = %v, want %v", err, tc.want)
			}
			// Each level is at most 3 bytes of header here.
			if tc.want == ErrDepth && r.Offset() > 3*(MaxDepth+1) {
				t.Fatalf("Skip read %d bytes before ErrDepth; want at most %d", r.Offset(), 3*(MaxDepth+1))
			}
		})
	}
}

// hostile holds length prefixes that claim far more than the input holds.
// Every read must fail at once with ErrShort, allocating nothing.
var hostile = []struct {
	name string
	in   []byte
	read func(r *Reader) any
}{
	{"bin32 2^31", unhex("c6 80 00 00 00"), readBin},
	{"bin32 2^31 as string", unhex("c6 80 00 00 00"), readString},
	{"bin32 2^32-1", unhex("c6 ff ff ff ff"), readBin},
	{"str32 2^31", unhex("db 80 00 00 00"), readString},
	{"str32 2^31 max", unhex("db 80 00 00 00"), func(r *Reader) any { return r.StringMax(math.MaxInt) }},
	{"str32 2^32-1", unhex("db ff ff ff ff"), readString},
	{"str16 65535", unhex("da ff ff 61"), readString},
	{"bin16 65535", unhex("c5 ff ff 61"), readBin},
	{"array32 2^32-1", unhex("dd ff ff ff ff"), func(r *Reader) any { return r.ArrayHeader() }},
	{"array32 2^31", unhex("dd 80 00 00 00"), func(r *Reader) any { return r.ArrayHeader() }},
	{"array32 2^32-1 max", unhex("dd ff ff ff ff"), func(r *Reader) any { return r.ArrayMax(math.MaxInt) }},
	{"array32 2^32-1 decode", unhex("dd ff ff ff ff"), readNils},
	{"array16 65535", unhex("dc ff ff c0 c0"), func(r *Reader) any { return r.ArrayHeader() }},
	{"map32 2^32-1", unhex("df ff ff ff ff"), func(r *Reader) any { return r.MapHeader() }},
	{"map32 2^31", unhex("df 80 00 00 00"), func(r *Reader) any { return r.MapHeader() }},
	{"map32 2^32-1 max", unhex("df ff ff ff ff"), func(r *Reader) any { return r.MapMax(math.MaxInt) }},
	{"map32 2^32-1 decode", unhex("df ff ff ff ff"), readKeys},
	{"map16 2 pairs in 3 bytes", unhex("de 00 02 01 02 03"), func(r *Reader) any { return r.MapHeader() }},
	{"array of hostile str", unhex("91 db ff ff ff ff"), func(r *Reader) any { r.ArrayHeader(); return r.String() }},
}

func TestReaderHostileLengths(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			for _, read := range []func(r *Reader) any{tc.read, func(r *Reader) any { r.Skip(); return nil }} {
				r := NewReader(tc.in)
				got := read(r)
				if err := r.Err(); !errors.Is(err, ErrShort) {
					t.Fatalf("Err() = %v, want %v", err, ErrShort)
				}
				if !isEmpty(got) {
					t.Fatalf("read = %s, want zero", short(got))
				}
				if r.Offset() > len(tc.in) {
					t.Fatalf("Offset() = %d > len %d", r.Offset(), len(tc.in))
				}
			}

			// One Reader for all runs, so its own allocation is not counted.
			r := new(Reader)
			run := func() {
				*r = *NewReader(tc.in)
				tc.read(r)
				*r = *NewReader(tc.in)
				r.Skip()
			}
			// At most the empty map readKeys makes.
			if allocs := testing.AllocsPerRun(100, run); allocs > 1 {
				t.Errorf("AllocsPerRun = %v, want at most 1", allocs)
			}
			// AllocsPerRun counts allocations, not their size: check bytes
			// too. One honoured prefix would allocate >= 64 KiB (2 GiB for
			// the 32-bit ones); allow 64 KiB over all 100 runs.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 100 {
				run()
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
				t.Errorf("100 runs allocated %d bytes, want at most %d", n, 64<<10)
			}
		})
	}
}
