package synctest_test

import (
	"bytes"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/internal/synctest"
)

func TestDelta(t *testing.T) {
	body, idAt := synctest.Delta()
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

func TestHammerBare(t *testing.T) {
	body, idAt := synctest.Delta()
	url := synctest.Bare(t)
	took, lat := synctest.Hammer(t, []string{url, url}, 4, 50, body, idAt)
	if len(lat) != 50 || took <= 0 {
		t.Errorf("Hammer of 50 syncs: %d latencies in %v", len(lat), took)
	}
}
