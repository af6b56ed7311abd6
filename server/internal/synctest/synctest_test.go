package synctest

import (
	"bytes"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// TestDelta: the delta decodes, has the size the benchmarks claim, and its
// id stands where Hammer rewrites it.
func TestDelta(t *testing.T) {
	body, idAt := Delta()
	var d wire.Delta
	if err := wire.Unmarshal(body, &d, "delta"); err != nil {
		t.Fatal(err)
	}
	if len(d.Pairs) != 28 || len(d.Items) != 8 || len(d.Arms) != 2 {
		t.Errorf("delta of %d pairs, %d items, %d arms; want 28, 8, 2", len(d.Pairs), len(d.Items), len(d.Arms))
	}
	if idAt < 0 || !bytes.Equal(body[idAt:idAt+16], d.ID[:]) {
		t.Errorf("id at %d, not where the encoding holds %x", idAt, d.ID)
	}
}

// TestHammerBare: every sync Hammer sends is answered and timed.
func TestHammerBare(t *testing.T) {
	body, idAt := Delta()
	url := Bare(t)
	took, lat := Hammer(t, []string{url, url}, 4, 50, body, idAt)
	if len(lat) != 50 || took <= 0 {
		t.Errorf("Hammer of 50 syncs: %d latencies in %v", len(lat), took)
	}
}
