package synctest

import (
	"bytes"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/ingest"
)

// TestDelta: the delta decodes, ingest takes it on a federated site, it
// has the shape a device's delta has (sdk/delta's sample: its pairs, none
// chaining, and no item), and its id stands where Hammer rewrites it.
func TestDelta(t *testing.T) {
	body, idAt := Delta()
	d, err := ingest.Decode(body)
	if err == nil {
		err = ingest.Check(&d, ingest.Policy{Privacy: wire.PrivacyFederated})
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Pairs) != delta.SampledPairs || len(d.Items) != 0 || len(d.Arms) != 2 {
		t.Errorf("delta of %d pairs, %d items, %d arms; want %d, none, 2", len(d.Pairs), len(d.Items), len(d.Arms), delta.SampledPairs)
	}
	for _, p := range d.Pairs {
		for _, q := range d.Pairs {
			if p.To == q.From {
				t.Errorf("pairs %s→%s and %s→%s chain", p.From, p.To, q.From, q.To)
			}
		}
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
