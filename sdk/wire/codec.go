package wire

import "github.com/tailorhq/tailor/sdk/msgp"

// Encoder is a wire type that writes itself as MessagePack.
type Encoder interface {
	EncodeTo(w *msgp.Writer)
}

// Decoder is a wire type that reads itself from MessagePack; errors are
// left in the Reader.
type Decoder interface {
	DecodeFrom(r *msgp.Reader)
}

// Marshal encodes v into a new byte slice.
func Marshal(v Encoder) []byte {
	w := msgp.NewWriter(256)
	v.EncodeTo(w)
	return w.Bytes()
}

// Unmarshal decodes b into v; the whole of b must be one document. what
// names the document in the error.
func Unmarshal(b []byte, v Decoder, what string) error {
	r := msgp.NewReader(b)
	v.DecodeFrom(r)
	return Finish(r, what)
}
