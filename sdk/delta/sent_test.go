package delta_test

import (
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// reload stores s and loads it back, as a page reload does with the profile.
func reload(t *testing.T, s *delta.Stats) {
	t.Helper()
	w := msgp.NewWriter(1024)
	s.EncodeTo(w)
	r := msgp.NewReader(w.Bytes())
	s.DecodeFrom(r)
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
}

// TestNeverSentTwice is the device side of the k floor: the server counts
// deltas, a pair's in both directions, so a visitor who makes the same
// pair (and views the same item) on every page must not put them in every
// page's delta. Across Takes, reloads and Reset, each item and each pair,
// in either direction, leaves at most once; fresh keys beside them still
// do, and a Take with nothing fresh sends nothing.
func TestNeverSentTwice(t *testing.T) {
	for _, between := range []struct {
		name string
		f    func(*testing.T, *delta.Stats)
	}{
		{"take only", func(*testing.T, *delta.Stats) {}},
		{"reload", reload},
		{"reset", func(_ *testing.T, s *delta.Stats) { s.Reset() }},
	} {
		t.Run(between.name, func(t *testing.T) {
			var s delta.Stats
			r := rng(3)
			pairs, items := map[wire.Pair]int{}, map[string]int{}
			fresh := 0
			for page := range 200 {
				s.AddPair("rare", "other", 1)
				s.AddPair("other", "rare", 1)
				s.AddItem("rare", 1)
				s.AddItem("other", 1)
				if page%10 == 0 { // now and then a page with a new item
					id := "new-" + strconv.Itoa(page)
					s.AddPair("rare", id, 1)
					s.AddItem(id, 1)
				}
				d, ok := s.Take(delta.Header{Site: "demo"}, r)
				if ok && len(d.Pairs)+len(d.Items) == 0 {
					t.Fatalf("page %d: an empty delta was sent", page)
				}
				for _, p := range d.Pairs {
					pairs[wire.Pair{From: min(p.From, p.To), To: max(p.From, p.To)}]++
				}
				for _, c := range d.Items {
					items[c.ID]++
					if len(c.ID) > 4 && c.ID[:4] == "new-" {
						fresh++
					}
				}
				between.f(t, &s)
			}
			for p, n := range pairs {
				if n > 1 {
					t.Errorf("pair %s, %s sent in %d deltas", p.From, p.To, n)
				}
			}
			for id, n := range items {
				if n > 1 {
					t.Errorf("item %s sent in %d deltas", id, n)
				}
			}
			if items["rare"] != 1 || pairs[wire.Pair{From: "other", To: "rare"}] != 1 {
				t.Errorf("the repeated item and pair never sent: %v %v", items, pairs)
			}
			if fresh != 20 {
				t.Errorf("%d of the 20 new items sent, want each once", fresh)
			}
		})
	}
}

// TestSentBounded sends far more distinct keys than MaxSent: the set saved
// with the profile stays within MaxSent, and the oldest keys are forgotten
// first, so a key sent long ago may leave again while a recent one may not.
func TestSentBounded(t *testing.T) {
	var s delta.Stats
	r := rng(5)
	send := func(id string) bool {
		s.AddItem(id, 1)
		d, ok := s.Take(delta.Header{Site: "demo"}, r)
		return ok && len(d.Items) == 1 && d.Items[0].ID == id
	}
	if !send("first") {
		t.Fatal("first item not sent")
	}
	for i := range 3 * delta.MaxSent {
		if !send("item-" + strconv.Itoa(i)) {
			t.Fatalf("fresh item %d not sent", i)
		}
	}
	w := msgp.NewWriter(1024)
	s.EncodeTo(w)
	r2 := msgp.NewReader(w.Bytes())
	r2.Tuple(4)
	for range 3 {
		r2.Skip()
	}
	if n := len(r2.BytesView()) / 4; n != delta.MaxSent || r2.Err() != nil {
		t.Errorf("%d keys remembered (%v), want %d", n, r2.Err(), delta.MaxSent)
	}
	if send("item-" + strconv.Itoa(3*delta.MaxSent-1)) {
		t.Error("the last key sent was sent again")
	}
	if !send("first") {
		t.Errorf("the first key is still remembered after %d others", 3*delta.MaxSent)
	}
}

// TestSentDecode checks the stored form, 4-byte hashes: pending
// statistics saved before the sent set (3 fields) load with nothing sent;
// more than MaxSent keys, or a partial hash, is refused.
func TestSentDecode(t *testing.T) {
	stats := func(fields int, sent []byte) []byte {
		w := msgp.NewWriter(256)
		w.ArrayHeader(fields)
		w.MapHeader(0)
		w.MapHeader(1)
		w.String("rare")
		w.Float32(1)
		w.ArrayHeader(0)
		if fields == 4 {
			w.Bin(sent)
		}
		return w.Bytes()
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		ok   bool
	}{
		{"old, 3 fields", stats(3, nil), true},
		{"none sent", stats(4, nil), true},
		{"some sent", stats(4, []byte{1, 0, 0, 0, 2, 0, 0, 0}), true},
		{"MaxSent", stats(4, make([]byte, 4*delta.MaxSent)), true},
		{"too many", stats(4, make([]byte, 4*delta.MaxSent+4)), false},
		{"a partial hash", stats(4, []byte{1, 2, 3}), false},
		{"5 fields", append(stats(4, nil)[:0:0], 0x95), false},
	} {
		var s delta.Stats
		r := msgp.NewReader(tc.doc)
		s.DecodeFrom(r)
		if err := r.Finish(); (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		if tc.ok {
			if _, ok := s.Take(delta.Header{Site: "demo"}, rng(1)); !ok {
				t.Errorf("%s: the pending item is not sent", tc.name)
			}
		}
	}
}
