package delta_test

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

func encodeStats(s *delta.Stats) []byte {
	w := msgp.NewWriter(256)
	s.EncodeTo(w)
	return w.Bytes()
}

func decodeStats(b []byte) (*delta.Stats, error) {
	var s delta.Stats
	r := msgp.NewReader(b)
	s.DecodeFrom(r)
	return &s, r.Finish()
}

// FuzzStats decodes arbitrary stored statistics (they live in the stored
// profile): DecodeFrom never panics; what it accepts encodes to bytes that
// decode to the same bytes again; and Take on it, with and without noise,
// builds a delta within wire.MaxDeltaBytes.
func FuzzStats(f *testing.F) {
	var s delta.Stats
	f.Add(encodeStats(&s))
	s.AddPair("gown-1", "heels-3", 1)
	s.AddPair("heels-3", "clutch-2", 0.5)
	s.AddItem("gown-1", 2)
	s.AddArm(wire.ArmTreatment, 5, 1, 0)
	s.AddArm(wire.ArmRules, 1, 0, 0)
	f.Add(encodeStats(&s))
	for _, h := range []string{
		"93 80 80 93 93 00 00 00 93 00 00 00 93 00 00 00",
		"93 81 a3 61 00 62 ca 3f 80 00 00 80 90",
		"93 82 a1 61 ca 3f 80 00 00 a1 61 ca 3f 80 00 00 80 90", // a repeated key
		"93 81 a1 61 ca 00 00 00 00 80 90",                      // a zero weight
		"93 81 a1 61 ca 7f c0 00 00 80 90",                      // NaN
		"93 df ff ff ff ff",                                     // map32 claiming 2^32-1
		"93 80 de 03 21",                                        // more than MaxPending
		"93 80 80 94 93 00 00 00 93 00 00 00 93 00 00 00 93 00 00 00",
		"93 80 80 91 93 ce 00 10 00 01 00 00", // over 2^20 impressions
		"92 80 80",
		"93 81 db 7f ff ff ff",
	} {
		b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			f.Fatalf("seed %q: %v", h, err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeStats(b)
		if err != nil {
			return
		}
		b2 := encodeStats(s)
		s2, err := decodeStats(b2)
		if err != nil {
			t.Fatalf("accepted\n% x\nbut its re-encoding\n% x\nfails: %v", b, b2, err)
		}
		if b3 := encodeStats(s2); !bytes.Equal(b3, b2) {
			t.Fatalf("re-encoding is not stable:\n% x\n% x", b2, b3)
		}
		if s.Empty() != s2.Empty() {
			t.Fatalf("Empty() changed in a round trip")
		}
		for _, eps := range []float32{0, 1} {
			s, _ := decodeStats(b)
			d, ok := s.Take(delta.Header{Site: "demo", Epsilon: eps}, rand.New(rand.NewPCG(1, 2)))
			if ok && s2.Empty() || eps > 0 && ok == s2.Empty() { // federated: pairs alone send nothing
				t.Fatalf("Take reported %v for stats with Empty() = %v", ok, s2.Empty())
			}
			if n := len(wire.Marshal(&d)); n > wire.MaxDeltaBytes {
				t.Fatalf("delta of %d bytes, over the cap", n)
			}
		}
	})
}
