package msgp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// codecCases is the golden table shared by the Writer tests (this file) and
// the Reader round trips (reader_test.go). Each row is one value at a size
// boundary:
//
//   - write produces it with the Writer, and must yield exactly want;
//   - value is what msgpack/v5 decodes want to, and what msgpack/v5 encodes
//     back to want (see TestWriterMatchesMsgpackMarshal for when);
//   - read decodes want with the Reader, and must yield value, or fail with
//     readErr.
var codecCases = []struct {
	name  string
	write func(w *Writer)
	want  []byte
	value any
	read  func(r *Reader) any
	// compactOnly marks rows msgpack/v5 writes identically only with
	// Encoder.UseCompactInts(true): by default it writes int64 and uint64
	// in full width (0xd3/0xcf), which matches only where the shortest
	// form is that width already.
	compactOnly bool
	readErr     error
}{
	// nil and bool
	{name: "nil", write: func(w *Writer) { w.Nil() }, want: unhex("c0"), value: nil, read: readNil},
	{name: "false", write: func(w *Writer) { w.Bool(false) }, want: unhex("c2"), value: false, read: readBool},
	{name: "true", write: func(w *Writer) { w.Bool(true) }, want: unhex("c3"), value: true, read: readBool},

	// Uint: positive fixint, then uint8/16/32/64 at each boundary.
	{name: "uint 0", write: func(w *Writer) { w.Uint(0) }, want: unhex("00"), value: uint64(0), read: readUint, compactOnly: true},
	{name: "uint 1", write: func(w *Writer) { w.Uint(1) }, want: unhex("01"), value: uint64(1), read: readUint, compactOnly: true},
	{name: "uint 127", write: func(w *Writer) { w.Uint(127) }, want: unhex("7f"), value: uint64(127), read: readUint, compactOnly: true},
	{name: "uint 128", write: func(w *Writer) { w.Uint(128) }, want: unhex("cc 80"), value: uint64(128), read: readUint, compactOnly: true},
	{name: "uint 255", write: func(w *Writer) { w.Uint(255) }, want: unhex("cc ff"), value: uint64(255), read: readUint, compactOnly: true},
	{name: "uint 256", write: func(w *Writer) { w.Uint(256) }, want: unhex("cd 01 00"), value: uint64(256), read: readUint, compactOnly: true},
	{name: "uint 65535", write: func(w *Writer) { w.Uint(65535) }, want: unhex("cd ff ff"), value: uint64(65535), read: readUint, compactOnly: true},
	{name: "uint 65536", write: func(w *Writer) { w.Uint(65536) }, want: unhex("ce 00 01 00 00"), value: uint64(65536), read: readUint, compactOnly: true},
	{name: "uint 2^32-1", write: func(w *Writer) { w.Uint(math.MaxUint32) }, want: unhex("ce ff ff ff ff"), value: uint64(math.MaxUint32), read: readUint, compactOnly: true},
	{name: "uint 2^32", write: func(w *Writer) { w.Uint(1 << 32) }, want: unhex("cf 00 00 00 01 00 00 00 00"), value: uint64(1 << 32), read: readUint},
	{name: "uint 2^63", write: func(w *Writer) { w.Uint(1 << 63) }, want: unhex("cf 80 00 00 00 00 00 00 00"), value: uint64(1 << 63), read: readUint},
	{name: "uint 2^64-1", write: func(w *Writer) { w.Uint(math.MaxUint64) }, want: unhex("cf ff ff ff ff ff ff ff ff"), value: uint64(math.MaxUint64), read: readUint},

	// Int: non-negative values take the Uint forms; negative ones take
	// negative fixint, then int8/16/32/64 at each boundary.
	{name: "int 0", write: func(w *Writer) { w.Int(0) }, want: unhex("00"), value: int64(0), read: readInt, compactOnly: true},
	{name: "int 127", write: func(w *Writer) { w.Int(127) }, want: unhex("7f"), value: int64(127), read: readInt, compactOnly: true},
	{name: "int 128", write: func(w *Writer) { w.Int(128) }, want: unhex("cc 80"), value: int64(128), read: readInt, compactOnly: true},
	{name: "int 255", write: func(w *Writer) { w.Int(255) }, want: unhex("cc ff"), value: int64(255), read: readInt, compactOnly: true},
	{name: "int 256", write: func(w *Writer) { w.Int(256) }, want: unhex("cd 01 00"), value: int64(256), read: readInt, compactOnly: true},
	{name: "int 65536", write: func(w *Writer) { w.Int(65536) }, want: unhex("ce 00 01 00 00"), value: int64(65536), read: readInt, compactOnly: true},
	{name: "int 2^32", write: func(w *Writer) { w.Int(1 << 32) }, want: unhex("cf 00 00 00 01 00 00 00 00"), value: int64(1 << 32), read: readInt, compactOnly: true},
	{name: "int max", write: func(w *Writer) { w.Int(math.MaxInt64) }, want: unhex("cf 7f ff ff ff ff ff ff ff"), value: int64(math.MaxInt64), read: readInt, compactOnly: true},
	{name: "int -1", write: func(w *Writer) { w.Int(-1) }, want: unhex("ff"), value: int64(-1), read: readInt, compactOnly: true},
	{name: "int -32", write: func(w *Writer) { w.Int(-32) }, want: unhex("e0"), value: int64(-32), read: readInt, compactOnly: true},
	{name: "int -33", write: func(w *Writer) { w.Int(-33) }, want: unhex("d0 df"), value: int64(-33), read: readInt, compactOnly: true},
	{name: "int -128", write: func(w *Writer) { w.Int(-128) }, want: unhex("d0 80"), value: int64(-128), read: readInt, compactOnly: true},
	{name: "int -129", write: func(w *Writer) { w.Int(-129) }, want: unhex("d1 ff 7f"), value: int64(-129), read: readInt, compactOnly: true},
	{name: "int -32768", write: func(w *Writer) { w.Int(-32768) }, want: unhex("d1 80 00"), value: int64(-32768), read: readInt, compactOnly: true},
	{name: "int -32769", write: func(w *Writer) { w.Int(-32769) }, want: unhex("d2 ff ff 7f ff"), value: int64(-32769), read: readInt, compactOnly: true},
	{name: "int -2^31", write: func(w *Writer) { w.Int(math.MinInt32) }, want: unhex("d2 80 00 00 00"), value: int64(math.MinInt32), read: readInt, compactOnly: true},
	{name: "int -2^31-1", write: func(w *Writer) { w.Int(math.MinInt32 - 1) }, want: unhex("d3 ff ff ff ff 7f ff ff ff"), value: int64(math.MinInt32 - 1), read: readInt},
	{name: "int min", write: func(w *Writer) { w.Int(math.MinInt64) }, want: unhex("d3 80 00 00 00 00 00 00 00"), value: int64(math.MinInt64), read: readInt},

	// Float32 and Float64 always take their full width. The Reader refuses
	// NaN and Inf; msgpack/v5 keeps them (compared bit for bit).
	{name: "float32 0", write: func(w *Writer) { w.Float32(0) }, want: unhex("ca 00 00 00 00"), value: float32(0), read: readFloat32},
	{name: "float32 -0", write: func(w *Writer) { w.Float32(float32(math.Copysign(0, -1))) }, want: unhex("ca 80 00 00 00"), value: float32(math.Copysign(0, -1)), read: readFloat32},
	{name: "float32 1.5", write: func(w *Writer) { w.Float32(1.5) }, want: unhex("ca 3f c0 00 00"), value: float32(1.5), read: readFloat32},
	{name: "float32 max", write: func(w *Writer) { w.Float32(math.MaxFloat32) }, want: unhex("ca 7f 7f ff ff"), value: float32(math.MaxFloat32), read: readFloat32},
	{name: "float32 tiny", write: func(w *Writer) { w.Float32(math.SmallestNonzeroFloat32) }, want: unhex("ca 00 00 00 01"), value: float32(math.SmallestNonzeroFloat32), read: readFloat32},
	{name: "float32 +inf", write: func(w *Writer) { w.Float32(float32(math.Inf(1))) }, want: unhex("ca 7f 80 00 00"), value: float32(math.Inf(1)), read: readFloat32, readErr: ErrNotFinite},
	{name: "float32 nan", write: func(w *Writer) { w.Float32(float32(math.NaN())) }, want: unhex("ca 7f c0 00 00"), value: float32(math.NaN()), read: readFloat32, readErr: ErrNotFinite},
	{name: "float64 0", write: func(w *Writer) { w.Float64(0) }, want: unhex("cb 00 00 00 00 00 00 00 00"), value: float64(0), read: readFloat64},
	{name: "float64 1.5", write: func(w *Writer) { w.Float64(1.5) }, want: unhex("cb 3f f8 00 00 00 00 00 00"), value: float64(1.5), read: readFloat64},
	{name: "float64 -2.25", write: func(w *Writer) { w.Float64(-2.25) }, want: unhex("cb c0 02 00 00 00 00 00 00"), value: float64(-2.25), read: readFloat64},
	{name: "float64 max", write: func(w *Writer) { w.Float64(math.MaxFloat64) }, want: unhex("cb 7f ef ff ff ff ff ff ff"), value: float64(math.MaxFloat64), read: readFloat64},
	{name: "float64 tiny", write: func(w *Writer) { w.Float64(math.SmallestNonzeroFloat64) }, want: unhex("cb 00 00 00 00 00 00 00 01"), value: float64(math.SmallestNonzeroFloat64), read: readFloat64},
	{name: "float64 -inf", write: func(w *Writer) { w.Float64(math.Inf(-1)) }, want: unhex("cb ff f0 00 00 00 00 00 00"), value: math.Inf(-1), read: readFloat64, readErr: ErrNotFinite},
	{name: "float64 nan", write: func(w *Writer) { w.Float64(math.NaN()) }, want: unhex("cb 7f f8 00 00 00 00 00 01"), value: math.NaN(), read: readFloat64, readErr: ErrNotFinite},

	// String: fixstr, then str8/16/32 at each boundary.
	{name: "str 0", write: func(w *Writer) { w.String("") }, want: unhex("a0"), value: "", read: readString},
	{name: "str 1", write: func(w *Writer) { w.String("x") }, want: unhex("a1 78"), value: "x", read: readString},
	{name: "str utf8", write: func(w *Writer) { w.String("é☃") }, want: unhex("a5 c3 a9 e2 98 83"), value: "é☃", read: readString},
	{name: "str 31", write: func(w *Writer) { w.String(xs(31)) }, want: cat(unhex("bf"), []byte(xs(31))), value: xs(31), read: readString},
	{name: "str 32", write: func(w *Writer) { w.String(xs(32)) }, want: cat(unhex("d9 20"), []byte(xs(32))), value: xs(32), read: readString},
	{name: "str 255", write: func(w *Writer) { w.String(xs(255)) }, want: cat(unhex("d9 ff"), []byte(xs(255))), value: xs(255), read: readString},
	{name: "str 256", write: func(w *Writer) { w.String(xs(256)) }, want: cat(unhex("da 01 00"), []byte(xs(256))), value: xs(256), read: readString},
	{name: "str 65535", write: func(w *Writer) { w.String(xs(65535)) }, want: cat(unhex("da ff ff"), []byte(xs(65535))), value: xs(65535), read: readString},
	{name: "str 65536", write: func(w *Writer) { w.String(xs(65536)) }, want: cat(unhex("db 00 01 00 00"), []byte(xs(65536))), value: xs(65536), read: readString},

	// Bin: always bin8/16/32 (there is no fixbin).
	{name: "bin 0", write: func(w *Writer) { w.Bin([]byte{}) }, want: unhex("c4 00"), value: []byte{}, read: readBin},
	{name: "bin 1", write: func(w *Writer) { w.Bin([]byte{0xab}) }, want: unhex("c4 01 ab"), value: []byte{0xab}, read: readBin},
	{name: "bin 255", write: func(w *Writer) { w.Bin(ys(255)) }, want: cat(unhex("c4 ff"), ys(255)), value: ys(255), read: readBin},
	{name: "bin 256", write: func(w *Writer) { w.Bin(ys(256)) }, want: cat(unhex("c5 01 00"), ys(256)), value: ys(256), read: readBin},
	{name: "bin 65535", write: func(w *Writer) { w.Bin(ys(65535)) }, want: cat(unhex("c5 ff ff"), ys(65535)), value: ys(65535), read: readBin},
	{name: "bin 65536", write: func(w *Writer) { w.Bin(ys(65536)) }, want: cat(unhex("c6 00 01 00 00"), ys(65536)), value: ys(65536), read: readBin},

	// Arrays of n nils: fixarray, then array16/32 at each boundary.
	{name: "array 0", write: writeNils(0), want: unhex("90"), value: []any{}, read: readNils},
	{name: "array 1", write: writeNils(1), want: unhex("91 c0"), value: make([]any, 1), read: readNils},
	{name: "array 15", write: writeNils(15), want: cat(unhex("9f"), nilBody(15)), value: make([]any, 15), read: readNils},
	{name: "array 16", write: writeNils(16), want: cat(unhex("dc 00 10"), nilBody(16)), value: make([]any, 16), read: readNils},
	{name: "array 65535", write: writeNils(65535), want: cat(unhex("dc ff ff"), nilBody(65535)), value: make([]any, 65535), read: readNils},
	{name: "array 65536", write: writeNils(65536), want: cat(unhex("dd 00 01 00 00"), nilBody(65536)), value: make([]any, 65536), read: readNils},

	// Maps of n pairs "00000": nil, "00001": nil, ...: fixmap, then
	// map16/32 at each boundary.
	{name: "map 0", write: writeKeys(0), want: unhex("80"), value: keyMap(0), read: readKeys},
	{name: "map 1", write: writeKeys(1), want: unhex("81 a5 30 30 30 30 30 c0"), value: keyMap(1), read: readKeys},
	{name: "map 15", write: writeKeys(15), want: cat(unhex("8f"), keyBody(15)), value: keyMap(15), read: readKeys},
	{name: "map 16", write: writeKeys(16), want: cat(unhex("de 00 10"), keyBody(16)), value: keyMap(16), read: readKeys},
	{name: "map 65535", write: writeKeys(65535), want: cat(unhex("de ff ff"), keyBody(65535)), value: keyMap(65535), read: readKeys},
	{name: "map 65536", write: writeKeys(65536), want: cat(unhex("df 00 01 00 00"), keyBody(65536)), value: keyMap(65536), read: readKeys},

	// A small document of every kind, keys in sorted order so msgpack/v5
	// (with SetSortMapKeys) writes the same bytes.
	{
		name: "document",
		write: func(w *Writer) {
			w.MapHeader(5)
			w.String("b")
			w.Bin([]byte{1, 2})
			w.String("n")
			w.Nil()
			w.String("t")
			w.Bool(true)
			w.String("v")
			w.Uint(300)
			w.String("w")
			w.ArrayHeader(3)
			w.Float32(1.5)
			w.Int(-1)
			w.String("x")
		},
		want: unhex("85 a1 62 c4 02 01 02 a1 6e c0 a1 74 c3 a1 76 cd 01 2c a1 77 93 ca 3f c0 00 00 ff a1 78"),
		value: map[string]any{
			"b": []byte{1, 2},
			"n": nil,
			"t": true,
			"v": uint64(300),
			"w": []any{float32(1.5), int64(-1), "x"},
		},
		read:        readDocument,
		compactOnly: true,
	},
}

func TestWriter(t *testing.T) {
	for _, tc := range codecCases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(0)
			tc.write(w)
			if got := w.Bytes(); !bytes.Equal(got, tc.want) {
				t.Fatalf("Writer wrote\n%s\nwant\n%s", short(got), short(tc.want))
			}
			if w.Len() != len(tc.want) {
				t.Fatalf("Len() = %d, want %d", w.Len(), len(tc.want))
			}
		})
	}
}

// TestWriterDecodesWithMsgpack checks that msgpack/v5 decodes every golden
// the Writer produces to the same value, both into the value's own type and
// into interface{}.
func TestWriterDecodesWithMsgpack(t *testing.T) {
	for _, tc := range codecCases {
		t.Run(tc.name, func(t *testing.T) {
			var ptr any = new(any) // a nil value has no type of its own
			if tc.value != nil {
				ptr = reflect.New(reflect.TypeOf(tc.value)).Interface()
			}
			if err := msgpack.Unmarshal(tc.want, ptr); err != nil {
				t.Fatalf("msgpack.Unmarshal(%T): %v", ptr, err)
			}
			if got := reflect.ValueOf(ptr).Elem().Interface(); !equalValue(got, tc.value) {
				t.Fatalf("msgpack.Unmarshal(%T) = %s, want %s", ptr, short(got), short(tc.value))
			}

			var untyped any
			if err := msgpack.Unmarshal(tc.want, &untyped); err != nil {
				t.Fatalf("msgpack.Unmarshal(*interface{}): %v", err)
			}
			if !equalValue(untyped, tc.value) {
				t.Fatalf("msgpack.Unmarshal(*interface{}) = %s, want %s", short(untyped), short(tc.value))
			}
		})
	}
}

// TestWriterMatchesMsgpackMarshal checks that msgpack/v5 encodes each value
// to the Writer's exact bytes. What is identical:
//
//   - nil, bool, float32 (0xca), float64 (0xcb), str (v5 uses str8, unlike
//     v4's default), bin, array and map headers: with default options.
//     (Maps also need SetSortMapKeys(true), for order only.)
//   - uint64 and int64: only with UseCompactInts(true); by default v5 writes
//     them as 0xcf/0xd3 with 8 bytes. Go's int and uint are compact by
//     default, checked here too.
//
// What differs, by design: UseCompactFloats(true) writes integral floats as
// ints, and Marshal([]byte(nil)) writes nil (see TestWriterBinNil).
func TestWriterMatchesMsgpackMarshal(t *testing.T) {
	for _, tc := range codecCases {
		t.Run(tc.name, func(t *testing.T) {
			compact := marshal(t, tc.value, true)
			if !bytes.Equal(compact, tc.want) {
				t.Fatalf("msgpack/v5 with UseCompactInts(true) wrote\n%s\nwant\n%s", short(compact), short(tc.want))
			}

			plain := marshal(t, tc.value, false)
			if same := bytes.Equal(plain, tc.want); same == tc.compactOnly {
				t.Fatalf("msgpack/v5 default wrote\n%s\nWriter wrote\n%s\nidentical = %v, want %v",
					short(plain), short(tc.want), same, !tc.compactOnly)
			}

			var goInt any // int and uint, which v5 writes compactly by default
			switch v := tc.value.(type) {
			case uint64:
				goInt = uint(v)
				if v > math.MaxUint {
					return
				}
			case int64:
				goInt = int(v)
				if v > math.MaxInt || v < math.MinInt {
					return
				}
			default:
				return
			}
			if got := marshal(t, goInt, false); !bytes.Equal(got, tc.want) {
				t.Fatalf("msgpack/v5 default wrote %T as %x, want %x", goInt, got, tc.want)
			}
		})
	}
}

// TestWriterBinNil records the one Writer output msgpack/v5 would not
// produce for the same Go value: Bin(nil) is an empty bin, where msgpack/v5
// writes a nil []byte as nil. Both decode to an empty []byte in msgpack/v5.
func TestWriterBinNil(t *testing.T) {
	w := NewWriter(0)
	w.Bin(nil)
	if want := unhex("c4 00"); !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("Bin(nil) = %x, want %x", w.Bytes(), want)
	}
	if got := marshal(t, []byte(nil), false); !bytes.Equal(got, unhex("c0")) {
		t.Fatalf("msgpack/v5 Marshal([]byte(nil)) = %x, want c0", got)
	}
	var b []byte
	if err := msgpack.Unmarshal(w.Bytes(), &b); err != nil || b == nil || len(b) != 0 {
		t.Fatalf("msgpack.Unmarshal(%x) = %#v, %v; want []byte{}", w.Bytes(), b, err)
	}
}

func TestWriterBuffer(t *testing.T) {
	w := NewWriter(16)
	if w.Len() != 0 || len(w.Bytes()) != 0 || cap(w.Bytes()) != 16 {
		t.Fatalf("NewWriter(16): Len %d, len %d, cap %d; want 0, 0, 16", w.Len(), len(w.Bytes()), cap(w.Bytes()))
	}

	w.ArrayHeader(2)
	w.Raw(unhex("01 a1 78"))
	if want := unhex("92 01 a1 78"); !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("ArrayHeader then Raw = %x, want %x", w.Bytes(), want)
	}

	w.Reset()
	if w.Len() != 0 || cap(w.Bytes()) != 16 {
		t.Fatalf("after Reset: Len %d, cap %d; want 0, 16", w.Len(), cap(w.Bytes()))
	}
	w.Bool(true)
	if want := unhex("c3"); !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("after Reset, Bool(true) = %x, want %x", w.Bytes(), want)
	}

	var zero Writer // the zero Writer is ready to use
	zero.Nil()
	if want := unhex("c0"); !bytes.Equal(zero.Bytes(), want) {
		t.Fatalf("zero Writer Nil() = %x, want %x", zero.Bytes(), want)
	}
}

// marshal encodes v with msgpack/v5, map keys sorted so output is
// deterministic and structs as arrays; compact turns on UseCompactInts.
func marshal(t *testing.T, v any, compact bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseArrayEncodedStructs(true)
	enc.UseCompactInts(compact)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("msgpack/v5 Encode(%T): %v", v, err)
	}
	return buf.Bytes()
}

// unhex decodes golden hex, spaces allowed. It panics on a typo because
// tables are built before any *testing.T exists.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(fmt.Sprintf("unhex(%q): %v", s, err))
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// xs returns a string of n 'x's; ys returns n bytes cycling 0..250.
func xs(n int) string { return strings.Repeat("x", n) }

func ys(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func writeNils(n int) func(w *Writer) {
	return func(w *Writer) {
		w.ArrayHeader(n)
		for range n {
			w.Nil()
		}
	}
}

func nilBody(n int) []byte { return bytes.Repeat([]byte{0xc0}, n) }

// key returns the i'th map key: five digits, so every key is a 6-byte
// fixstr and sorted order is numeric order.
func key(i int) string { return fmt.Sprintf("%05d", i) }

func writeKeys(n int) func(w *Writer) {
	return func(w *Writer) {
		w.MapHeader(n)
		for i := range n {
			w.String(key(i))
			w.Nil()
		}
	}
}

func keyBody(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, 0xa5)
		b = append(b, key(i)...)
		b = append(b, 0xc0)
	}
	return b
}

func keyMap(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[key(i)] = nil
	}
	return m
}

// Readers for codecCases, each through the typed API.

func readNil(r *Reader) any {
	if !r.IsNil() {
		r.Fail(ErrType)
	}
	return nil
}

func readBool(r *Reader) any    { return r.Bool() }
func readUint(r *Reader) any    { return r.Uint() }
func readInt(r *Reader) any     { return r.Int() }
func readFloat32(r *Reader) any { return r.Float32() }
func readFloat64(r *Reader) any { return r.Float() }
func readString(r *Reader) any  { return r.String() }
func readBin(r *Reader) any     { return bytes.Clone(r.BytesView()) }

func readNils(r *Reader) any {
	s := make([]any, r.ArrayHeader())
	for range s {
		readNil(r)
	}
	return s
}

func readKeys(r *Reader) any {
	n := r.MapHeader()
	m := make(map[string]any, n)
	for range n {
		m[r.String()] = readNil(r)
	}
	return m
}

func readDocument(r *Reader) any {
	m := map[string]any{}
	n := r.MapHeader()
	for range n {
		switch k := r.String(); k {
		case "b":
			m[k] = readBin(r)
		case "n":
			m[k] = readNil(r)
		case "t":
			m[k] = r.Bool()
		case "v":
			m[k] = r.Uint()
		case "w":
			if r.ArrayHeader() != 3 {
				r.Fail(ErrRange)
			}
			m[k] = []any{r.Float32(), r.Int(), r.String()}
		default:
			r.Skip()
		}
	}
	return m
}

// Canonical forms, so values decoded by msgpack/v5 (int8, uint16, float32,
// ...) compare with ours: integers by sign and magnitude, floats bit for bit
// (NaN equals itself, -0 differs from 0), bin apart from str, maps either as
// Go maps or as ordered key/value pairs.
type (
	f32bits uint32
	f64bits uint64
	binVal  string
	pairs   []any // k0, v0, k1, v1, ...
)

func canon(v any) any {
	switch v := v.(type) {
	case nil, bool, string:
		return v
	case float32:
		return f32bits(math.Float32bits(v))
	case float64:
		return f64bits(math.Float64bits(v))
	case []byte:
		return binVal(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canon(e)
		}
		return out
	case pairs:
		out := make(pairs, len(v))
		for i, e := range v {
			out[i] = canon(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = canon(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i := rv.Int(); i < 0 {
			return i
		}
		return uint64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint()
	}
	panic(fmt.Sprintf("canon: unexpected %T", v))
}

func equalValue(a, b any) bool { return reflect.DeepEqual(canon(a), canon(b)) }

// isEmpty reports whether v is what a read returns after an error: a zero
// value, or an empty slice or map.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len() == 0
	}
	return rv.IsZero()
}

// short formats a value or byte slice for a failure message, eliding the
// middle of large ones.
func short(v any) string {
	var s string
	if b, ok := v.([]byte); ok {
		s = hex.EncodeToString(b)
	} else {
		s = fmt.Sprintf("%#v", v)
	}
	if len(s) > 200 {
		s = fmt.Sprintf("%s ...(%d chars)... %s", s[:100], len(s)-200, s[len(s)-100:])
	}
	return s
}
