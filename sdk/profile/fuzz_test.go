package profile_test

import (
	"bytes"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/profile"
)

// FuzzProfile decodes arbitrary stored profiles: Unmarshal never panics,
// and a profile it accepts marshals to bytes that load again to the same
// profile and the same bytes.
func FuzzProfile(f *testing.F) {
	f.Add(profile.New().Marshal())
	f.Add(sampleProfile().Marshal())
	f.Add(simulate(f, 500, 1, false).Marshal())
	f.Add(simulate(f, 500, 1, true).Marshal()) // with the keys its deltas sent
	for _, tc := range badProfiles(f) {
		if len(tc.doc) <= 8192 {
			f.Add(tc.doc)
		}
	}
	for _, s := range [][]byte{
		{0xde, 0xff, 0xff}, // map16 claiming 65535 pairs
		{0x81, 0xa7, 's', 'e', 's', 's', 'i', 'o', 'n', 0xdd, 0x7f, 0xff, 0xff, 0xff},
		{0x81, 0xa7, 'p', 'e', 'n', 'd', 'i', 'n', 'g', 0x93, 0xdf, 0xff, 0xff, 0xff, 0xff},
		{0x81, 0xa5, 'a', 't', 't', 'r', 's', 0xde, 0x00, 0x20, 0xdb, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := profile.Unmarshal(b)
		if err != nil {
			return
		}
		b2 := p.Marshal()
		p2, err := profile.Unmarshal(b2)
		if err != nil {
			t.Fatalf("accepted\n% x\nbut its re-marshalled form\n% x\nfails: %v", b, b2, err)
		}
		if !wiretest.SameData(p2, p) {
			t.Fatalf("reloaded\n%+v\nwant\n%+v", p2, p)
		}
		if b3 := p2.Marshal(); !bytes.Equal(b3, b2) {
			t.Fatalf("re-marshalling is not stable:\n% x\n% x", b2, b3)
		}
	})
}
