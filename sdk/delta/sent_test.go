package delta_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/msgp"
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

// TestNoItemTwice is the device side of two promises. The operator must
// not link two deltas of one device, and the server's k floor counts
// deltas: a visitor who views the same items on every page, or goes on
// from an item an earlier delta named, must not put either in a later
// delta. Across Takes, reloads, Reset and new sessions, no item is named
// by two deltas (through their pairs; a federated delta names no item on
// its own), the repeated items leave once, new items beside them still
// do, and a Take with nothing fresh sends nothing.
func TestNoItemTwice(t *testing.T) {
	for _, between := range []struct {
		name string
		f    func(*testing.T, *delta.Stats)
	}{
		{"take only", func(*testing.T, *delta.Stats) {}},
		{"reload", reload},
		{"reset", func(_ *testing.T, s *delta.Stats) { s.Reset() }},
		{"new session", func(_ *testing.T, s *delta.Stats) { s.NewSession() }},
	} {
		t.Run(between.name, func(t *testing.T) {
			var s delta.Stats
			r := rng(3)
			named := map[string]int{}
			fresh := 0
			for page := range 200 {
				s.AddView("rare")
				s.AddView("other")
				if page%10 == 9 { // now and then a page of a block of new items
					for i := range delta.Block {
						s.AddView("new-" + strconv.Itoa(page) + "-" + strconv.Itoa(i))
					}
				}
				s.AddView("third")
				d, ok := s.Take(delta.Header{Site: "demo"}, r)
				if ok != (len(d.Pairs) > 0) || len(d.Items) != 0 {
					t.Fatalf("page %d: delta %+v, %v: want pairs alone, or no delta", page, d, ok)
				}
				ids := map[string]bool{}
				for _, p := range d.Pairs {
					ids[p.From], ids[p.To] = true, true
				}
				for id := range ids {
					named[id]++
					if id[:4] == "new-" {
						fresh++
					}
				}
				between.f(t, &s)
			}
			for id, n := range named {
				if n > 1 {
					t.Errorf("item %s named by %d deltas", id, n)
				}
			}
			if named["rare"] != 1 || named["other"] != 1 {
				t.Errorf("the repeated items not sent once: %v", named)
			}
			if fresh != 20*delta.Block {
				t.Errorf("%d of the %d new items sent, want each once", fresh, 20*delta.Block)
			}
		})
	}
}

// TestSentBounded sends far more distinct items than MaxSent: the set saved
// with the profile stays within MaxSent, and the oldest items are forgotten
// first, so an item sent long ago may leave again while a recent one may not.
func TestSentBounded(t *testing.T) {
	var s delta.Stats
	r := rng(5)
	send := func(id string) bool {
		for i := range delta.Block {
			s.AddView(id + strings.Repeat("'", i))
		}
		d, ok := s.Take(delta.Header{Site: "demo"}, r)
		s.Reset() // a block left short goes
		return ok && len(d.Pairs) == delta.Block*(delta.Block-1)/2 && (d.Pairs[0].From == id || d.Pairs[0].To == id)
	}
	if !send("first") {
		t.Fatal("first pair not sent")
	}
	for i := range 3 * delta.MaxSent {
		if !send("item-" + strconv.Itoa(i)) {
			t.Fatalf("fresh pair %d not sent", i)
		}
	}
	w := msgp.NewWriter(1024)
	s.EncodeTo(w)
	r2 := msgp.NewReader(w.Bytes())
	r2.Tuple(6)
	for range 3 {
		r2.Skip()
	}
	if n := len(r2.BytesView()) / 4; n != delta.MaxSent || r2.Err() != nil {
		t.Errorf("%d items remembered (%v), want %d", n, r2.Err(), delta.MaxSent)
	}
	if send("item-" + strconv.Itoa(3*delta.MaxSent-1)) {
		t.Error("the last pair sent was sent again")
	}
	if !send("first") {
		t.Errorf("the first items are still remembered after %d others", 6*delta.MaxSent)
	}
}

// TestSentDecode checks the stored form, 4-byte hashes and the blocks:
// pending statistics saved before the sent set (3 fields) or before blocks
// (4) load with nothing sent and no block; more than MaxSent keys, a
// partial hash, or a block over Block items is refused.
func TestSentDecode(t *testing.T) {
	stats := func(fields int, sent []byte, blocks ...int) []byte {
		w := msgp.NewWriter(256)
		w.ArrayHeader(fields)
		w.MapHeader(1)
		w.String("rare\x00other")
		w.Float32(1)
		w.MapHeader(0)
		w.ArrayHeader(0)
		if fields >= 4 {
			w.Bin(sent)
		}
		for _, n := range blocks {
			w.ArrayHeader(n)
			for i := range n {
				w.String("b" + strconv.Itoa(i))
			}
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
		{"blocks", stats(6, nil, delta.Block, 2), true},
		{"block too big", stats(6, nil, delta.Block+1, 0), false},
		{"closed too big", stats(6, nil, 0, delta.Block+1), false},
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
			if d, ok := s.Take(delta.Header{Site: "demo", Epsilon: 1}, rng(1)); !ok || len(d.Reports) != 1 {
				t.Errorf("%s: no report of the pending pair", tc.name)
			}
		}
	}
}
