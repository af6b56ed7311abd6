package msgp_test

import (
	"fmt"

	"github.com/tailorhq/tailor/sdk/msgp"
)

// A Writer appends each value in its shortest form; headers announce how
// many values follow.
func ExampleWriter() {
	w := msgp.NewWriter(64)
	w.MapHeader(2)
	w.String("v")
	w.Uint(300)
	w.String("w")
	w.ArrayHeader(3)
	w.Float32(1.5)
	w.Int(-1)
	w.Bin([]byte{0xab})
	fmt.Printf("% x\n", w.Bytes())
	// Output:
	// 82 a1 76 cd 01 2c a1 77 93 ca 3f c0 00 00 ff c4 01 ab
}

// record is what ExampleReader decodes.
type record struct {
	V    uint64
	Name string
}

// decodeRecord is the decode loop of the package doc: read everything,
// skip unknown keys, check the error once at the end.
func decodeRecord(b []byte) (record, error) {
	var rec record
	r := msgp.NewReader(b)
	n := r.MapMax(16)
	for i := 0; i < n; i++ {
		switch r.StringMax(16) {
		case "v":
			rec.V = r.Uint()
		case "name":
			rec.Name = r.StringMax(64)
		default:
			r.Skip()
		}
	}
	if err := r.Finish(); err != nil {
		return record{}, fmt.Errorf("decode record: %w", err)
	}
	return rec, nil
}

// A Reader's errors are sticky, so a decoder reads a whole structure and
// checks Finish once.
func ExampleReader() {
	w := msgp.NewWriter(64)
	w.MapHeader(3)
	w.String("v")
	w.Uint(300)
	w.String("future")
	w.ArrayHeader(2)
	w.Bool(true)
	w.Nil()
	w.String("name")
	w.String("abc")

	rec, err := decodeRecord(w.Bytes())
	fmt.Println(rec, err)

	// Bad input fails with the first error met, however deep.
	for _, b := range [][]byte{
		w.Bytes()[:w.Len()-1],                  // truncated
		append(w.Bytes(), 0xc0),                // trailing bytes
		{0x81, 0xa1, 'v', 0xff},                // v = -1
		{0x81, 0xa1, 'v', 0xd6, 0, 0, 0, 0, 0}, // an ext type
		{0xdf, 0xff, 0xff, 0xff, 0xff},         // 2^32-1 pairs claimed in 5 bytes
	} {
		_, err := decodeRecord(b)
		fmt.Println(err)
	}
	// Output:
	// {300 abc} <nil>
	// decode record: msgp: unexpected end of input
	// decode record: msgp: trailing bytes
	// decode record: msgp: value out of range
	// decode record: msgp: unexpected type
	// decode record: msgp: unexpected end of input
}

// Skip discards a value of any type, but no deeper than MaxDepth.
func ExampleReader_Skip() {
	r := msgp.NewReader([]byte{0x92, 0x91, 0x01, 0xa1, 'x', 0x07})
	r.Skip()
	fmt.Println(r.Uint(), r.Finish())

	deep := make([]byte, 1000)
	for i := range deep {
		deep[i] = 0x91 // [[[[...
	}
	r = msgp.NewReader(deep)
	r.Skip()
	fmt.Println(r.Err())
	// Output:
	// 7 <nil>
	// msgp: nesting too deep
}
