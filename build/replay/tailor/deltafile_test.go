package tailor

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/sdk/wire"
)

// TestDeltaFileRoundTrip checks that a delta file gives back the deltas
// it was written with, only to the same devices: other sessions, another
// seed, another privacy mode or another guest read nothing, and a damaged
// file is an error, not a short set of deltas.
func TestDeltaFileRoundTrip(t *testing.T) {
	train := []data.Session{data.NewSession("s1", "a", "b", "c"), data.NewSession("s2", "b", "d")}
	other := []data.Session{data.NewSession("s1", "a", "b", "c"), data.NewSession("s2", "b", "e")}
	key := memoKey{n: len(train), privacy: wire.PrivacyFederated, cfg: 1}
	guest := []byte("\x00asm")
	deltas := [][][]byte{{[]byte("one"), []byte("two"), {}}, nil}
	path := filepath.Join(t.TempDir(), "deltas")
	if err := writeDeltas(path, newFileKey(key, train, guest), deltas); err != nil {
		t.Fatal(err)
	}
	got, ok, err := readDeltas(path, newFileKey(key, train, guest))
	if err != nil || !ok {
		t.Fatalf("read back: ok %v, err %v", ok, err)
	}
	if !slices.EqualFunc(got, deltas, func(a, b [][]byte) bool {
		return slices.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) })
	}) {
		t.Errorf("read back %q, want %q", got, deltas)
	}
	seed2, ldp := key, key
	seed2.cfg = 2
	ldp.privacy = wire.PrivacyLDP
	for name, k := range map[string]fileKey{
		"other sessions": newFileKey(key, other, guest),
		"other seed":     newFileKey(seed2, train, guest),
		"other mode":     newFileKey(ldp, train, guest),
		"other guest":    newFileKey(key, train, []byte("\x00asm rebuilt")),
	} {
		if got, ok, err := readDeltas(path, k); ok || err != nil || got != nil {
			t.Errorf("%s: read %d devices, ok %v, err %v; want none", name, len(got), ok, err)
		}
	}
	if _, ok, err := readDeltas(filepath.Join(t.TempDir(), "absent"), newFileKey(key, train, guest)); ok || err != nil {
		t.Errorf("absent file: ok %v, err %v; want neither", ok, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(b) - 1, len(deltaMagic) + 3, 5} {
		bad := filepath.Join(t.TempDir(), "cut")
		if err := os.WriteFile(bad, b[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := readDeltas(bad, newFileKey(key, train, guest)); ok || !errors.Is(err, ErrDeltaFile) {
			t.Errorf("file cut at %d of %d bytes: ok %v, err %v; want ErrDeltaFile", cut, len(b), ok, err)
		}
	}
}

// TestParseVariant checks that a variant sets the fields it names, leaves
// the others at the shipped defaults, and refuses unknown fields and
// values the server would refuse.
func TestParseVariant(t *testing.T) {
	p, err := ParseVariant("neighbors=50, pairshare=0.05,hop=0.2")
	if err != nil {
		t.Fatal(err)
	}
	want := ServerParams()
	want.Neighbors, want.PairShare, want.Hop = 50, 0.05, 0.2
	if p != want {
		t.Errorf("ParseVariant = %+v, want %+v", p, want)
	}
	for _, spec := range []string{"mincohort=1", "neighbors", "neighbors=x", "neighbors=500", "pairshare=1", ""} {
		if _, err := ParseVariant(spec); !errors.Is(err, ErrVariant) {
			t.Errorf("ParseVariant(%q) = %v, want ErrVariant", spec, err)
		}
	}
}
