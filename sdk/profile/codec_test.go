package profile_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// sampleProfile is a profile with every part filled: two sessions, a
// search, a purchase, attributes, a ranking shown and clicked.
func sampleProfile() *profile.Profile {
	p := profile.New()
	p.Holdout, p.Drawn = false, true
	p.Observe(&wire.Event{Kind: wire.KindAttrs, Time: at(0), Attrs: []wire.Attr{{Key: "tier", Value: "gold"}, {Key: "lang", Value: "fr"}}})
	p.Observe(ev(wire.KindView, beans, 1))
	p.Observe(ev(wire.KindPurchase, beans, 2))
	p.Observe(&wire.Event{Kind: wire.KindSearch, Time: at(60 * 24), Query: "red gown"})
	p.Observe(ev(wire.KindView, gown, 60*24+1))
	p.MarkShown(wire.ArmTreatment, []string{"heels-3", "clutch-2"})
	p.Observe(ev(wire.KindClick, heels, 60*24+2))
	dwell := ev(wire.KindDwell, heels, 60*24+3)
	dwell.Dwell = 8000
	p.Observe(dwell)
	p.Observe(ev(wire.KindCart, clutch, 60*24+4))
	p.EpsDay, p.EpsSpent = at(0)/profile.Day, 1.5
	return p
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *profile.Profile
	}{
		{"new", profile.New()},
		{"sample", sampleProfile()},
		{"holdout", func() *profile.Profile { p := sampleProfile(); p.Holdout = true; p.ShownArm = wire.ArmRules; return p }()},
		{"long", simulate(t, 2000, 3, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.p.Marshal()
			got, err := profile.Unmarshal(b)
			if err != nil {
				t.Fatalf("Unmarshal = %v", err)
			}
			if !wiretest.SameData(got, tc.p) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, tc.p)
			}
			if b2 := got.Marshal(); !bytes.Equal(b2, b) {
				t.Fatalf("re-marshalled bytes differ")
			}
			// What is pending survives a reload unchanged: a page load
			// neither invents nor loses statistics to sync.
			if got.Pending.Empty() != tc.p.Pending.Empty() {
				t.Fatalf("Pending.Empty() = %v after a reload, %v before", got.Pending.Empty(), tc.p.Pending.Empty())
			}
			d1, ok1 := tc.p.Pending.Take(delta.Header{Site: "s"}, rand.New(rand.NewPCG(1, 2)))
			d2, ok2 := got.Pending.Take(delta.Header{Site: "s"}, rand.New(rand.NewPCG(1, 2)))
			if ok1 != ok2 || !wiretest.SameData(d1, d2) {
				t.Fatalf("delta after reload\n%+v, %v\nwant\n%+v, %v", d2, ok2, d1, ok1)
			}
		})
	}
}

// TestMarshalIsMsgpack checks that a stored profile is standard MessagePack
// (the loader may inspect it in JavaScript), and the layout of its map.
// There is no random state in it ("rand" was the splitmix64 state that
// made every delta id of a device predictable from one).
func TestMarshalIsMsgpack(t *testing.T) {
	m := decodeV5(t, sampleProfile().Marshal())
	want := []string{"arm", "attrs", "clicked", "drawn", "eps", "facts", "history", "holdout", "intent", "last", "links",
		"pending", "purchases", "schema", "session", "shown", "traits", "visits"}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	if len(got) != len(want) {
		t.Fatalf("keys %q, want %q", got, want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	if s := m["session"].([]any); len(s) != 3 || s[0].([]any)[0] != "gown-1" {
		t.Errorf("session = %v", s)
	}
	if a := m["attrs"].(map[string]any); a["tier"] != "gold" {
		t.Errorf("attrs = %v", a)
	}
}

func decodeV5(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatalf("msgpack/v5: %v", err)
	}
	return m
}

func encodeV5(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("msgpack/v5: %v", err)
	}
	return buf.Bytes()
}

type badProfile struct {
	name string
	doc  []byte
	want error
}

// badProfiles lists stored profiles Unmarshal must refuse: the sample's
// msgpack/v5 tree with one part spoiled, and raw bytes.
func badProfiles(t testing.TB) []badProfile {
	base := sampleProfile().Marshal()
	edit := func(f func(m map[string]any)) []byte {
		m := decodeV5(t, base)
		f(m)
		return encodeV5(t, m)
	}
	entries := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = []any{"k" + strconv.Itoa(i), float32(1), int64(1)}
		}
		return out
	}
	ids := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = "i" + strconv.Itoa(i)
		}
		return out
	}
	pending := func(m map[string]any) []any { return m["pending"].([]any) }
	return []badProfile{
		{"empty input", nil, msgp.ErrShort},
		{"not a map", []byte{0x93, 0x01, 0x02, 0x03}, msgp.ErrType},
		{"map32 prefix", []byte{0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa6}, msgp.ErrShort},
		{"truncated", base[:len(base)/2], msgp.ErrShort},
		{"trailing bytes", append(append([]byte(nil), base...), 0xc0), msgp.ErrTrailing},
		{"unknown schema", edit(func(m map[string]any) { m["schema"] = wire.ProfileSchema + 1 }), wire.ErrSchema},
		{"missing schema", edit(func(m map[string]any) { delete(m, "schema") }), wire.ErrSchema},
		{"holdout not a bool", edit(func(m map[string]any) { m["holdout"] = 1 }), msgp.ErrType},
		{"visits over uint32", edit(func(m map[string]any) { m["visits"] = int64(1) << 32 }), msgp.ErrRange},
		{"last not an int", edit(func(m map[string]any) { m["last"] = "yesterday" }), msgp.ErrType},
		{"session too long", edit(func(m map[string]any) { m["session"] = entries(profile.MaxSession + 1) }), msgp.ErrTooLong},
		{"history too long", edit(func(m map[string]any) { m["history"] = entries(profile.MaxHistory + 1) }), msgp.ErrTooLong},
		{"traits too long", edit(func(m map[string]any) { m["traits"] = entries(profile.MaxTraits + 1) }), msgp.ErrTooLong},
		{"intent too long", edit(func(m map[string]any) { m["intent"] = entries(profile.MaxIntent + 1) }), msgp.ErrTooLong},
		{"schema 1 with intent too long", edit(func(m map[string]any) { m["schema"], m["intent"] = 1, entries(profile.MaxIntent+1) }), msgp.ErrTooLong},
		{"facts too long", edit(func(m map[string]any) { m["facts"] = entries(profile.MaxFacts + 1) }), msgp.ErrTooLong},
		{"links too long", edit(func(m map[string]any) { m["links"] = entries(profile.MaxLinks + 1) }), msgp.ErrTooLong},
		{"purchases too long", edit(func(m map[string]any) { m["purchases"] = entries(profile.MaxPurchases + 1) }), msgp.ErrTooLong},
		{"entry of 2", edit(func(m map[string]any) { m["traits"] = []any{[]any{"cat:x", 1.0}} }), msgp.ErrType},
		{"entry of 4", edit(func(m map[string]any) { m["traits"] = []any{[]any{"cat:x", 1.0, 1, 1}} }), msgp.ErrType},
		{"entry without key", edit(func(m map[string]any) { m["history"] = []any{[]any{"", 1.0, 1}} }), msgp.ErrRange},
		{"entry key too long", edit(func(m map[string]any) { m["facts"] = []any{[]any{strings.Repeat("k", wire.MaxTextLen+1), 1.0, 1}} }), msgp.ErrTooLong},
		{"entry weight NaN", edit(func(m map[string]any) { m["session"] = []any{[]any{"a", math.NaN(), 1}} }), msgp.ErrNotFinite},
		{"entry weight Inf", edit(func(m map[string]any) { m["links"] = []any{[]any{"a\x00b", math.Inf(1), 1}} }), msgp.ErrNotFinite},
		{"entry time float", edit(func(m map[string]any) { m["session"] = []any{[]any{"a", 1.0, 1.5}} }), msgp.ErrType},
		{"too many attrs", edit(func(m map[string]any) {
			a := map[string]any{}
			for i := 0; i <= wire.MaxAttrs; i++ {
				a["k"+strconv.Itoa(i)] = "v"
			}
			m["attrs"] = a
		}), msgp.ErrTooLong},
		{"attr value too long", edit(func(m map[string]any) { m["attrs"] = map[string]any{"tier": strings.Repeat("v", wire.MaxTextLen+1)} }), msgp.ErrTooLong},
		{"shown too long", edit(func(m map[string]any) { m["shown"] = ids(profile.MaxShown + 1) }), msgp.ErrTooLong},
		{"clicked too long", edit(func(m map[string]any) { m["clicked"] = ids(profile.MaxShown + 1) }), msgp.ErrTooLong},
		{"shown empty id", edit(func(m map[string]any) { m["shown"] = []any{""} }), msgp.ErrRange},
		{"shown id too long", edit(func(m map[string]any) { m["shown"] = []any{strings.Repeat("i", wire.MaxIDLen+1)} }), msgp.ErrTooLong},
		{"unknown arm", edit(func(m map[string]any) { m["arm"] = 3 }), msgp.ErrRange},
		{"pending of 2", edit(func(m map[string]any) { m["pending"] = pending(m)[:2] }), msgp.ErrType},
		{"pending not an array", edit(func(m map[string]any) { m["pending"] = map[string]any{} }), msgp.ErrType},
		{"pending weight 0", edit(func(m map[string]any) { pending(m)[1] = map[string]any{"gown-1": 0.0} }), wire.ErrInvalid},
		{"pending weight negative", edit(func(m map[string]any) { pending(m)[1] = map[string]any{"gown-1": -1.0} }), wire.ErrInvalid},
		{"pending weight over max", edit(func(m map[string]any) { pending(m)[0] = map[string]any{"a\x00b": wire.MaxDeltaWeight + 1} }), wire.ErrInvalid},
		{"pending weight NaN", edit(func(m map[string]any) { pending(m)[0] = map[string]any{"a\x00b": math.NaN()} }), msgp.ErrNotFinite},
		{"pending key too long", edit(func(m map[string]any) {
			pending(m)[0] = map[string]any{strings.Repeat("k", 2*wire.MaxIDLen+2): 1.0}
		}), msgp.ErrTooLong},
		{"pending too many", edit(func(m map[string]any) {
			c := map[string]any{}
			for i := 0; i <= delta.MaxPending; i++ {
				c["i"+strconv.Itoa(i)] = 1.0
			}
			pending(m)[1] = c
		}), msgp.ErrTooLong},
		{"pending four arms", edit(func(m map[string]any) {
			pending(m)[2] = []any{[]any{0, 0, 0}, []any{0, 0, 0}, []any{0, 0, 0}, []any{0, 0, 0}}
		}), msgp.ErrTooLong},
		{"pending arm of 2", edit(func(m map[string]any) { pending(m)[2] = []any{[]any{1, 0}} }), msgp.ErrType},
		{"pending impressions over 2^20", edit(func(m map[string]any) { pending(m)[2] = []any{[]any{1<<20 + 1, 0, 0}} }), msgp.ErrRange},
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, tc := range badProfiles(t) {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profile.Unmarshal(tc.doc)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Unmarshal = %v, want %v\n% x", err, tc.want, tc.doc)
			}
			if p != nil {
				t.Errorf("Unmarshal returned a profile with its error")
			}
			if !strings.HasPrefix(err.Error(), "decode profile: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestUnmarshalSkipsUnknown checks that a profile stored by a newer guest,
// with parts this one does not know, still loads.
func TestUnmarshalSkipsUnknown(t *testing.T) {
	p := sampleProfile()
	b := p.Marshal()
	r := msgp.NewReader(b)
	n := r.MapHeader()
	w := msgp.NewWriter(len(b) + 32)
	w.MapHeader(n + 1)
	w.String("future")
	w.ArrayHeader(2)
	w.MapHeader(1)
	w.String("x")
	w.Uint(1)
	w.String("y")
	w.Raw(b[r.Offset():])
	got, err := profile.Unmarshal(w.Bytes())
	if err != nil {
		t.Fatalf("Unmarshal = %v", err)
	}
	if !wiretest.SameData(got, p) {
		t.Fatalf("decoded %+v\nwant %+v", got, p)
	}
}

// TestUnmarshalDropsRandState loads a profile saved before the device's
// randomness left the profile: its generator state is skipped, and saving
// again leaves it out.
func TestUnmarshalDropsRandState(t *testing.T) {
	w := msgp.NewWriter(64)
	w.MapHeader(3)
	w.String("schema")
	w.Uint(wire.ProfileSchema)
	w.String("rand")
	w.Uint(0x9e3779b97f4a7c15)
	w.String("visits")
	w.Uint(3)
	p, err := profile.Unmarshal(w.Bytes())
	if err != nil {
		t.Fatalf("Unmarshal = %v", err)
	}
	if p.Visits != 3 {
		t.Errorf("Visits = %d, want 3", p.Visits)
	}
	if m := decodeV5(t, p.Marshal()); m["rand"] != nil {
		t.Errorf("saved again with rand = %v", m["rand"])
	}
}

// TestUnmarshalSchema1 loads a profile stored before the session's intent
// was kept apart (schema 1): its affinities, every session's mixed, become
// the lasting ones worth one session (the strongest 1, faded to the last
// visit), and saving again writes the current schema.
func TestUnmarshalSchema1(t *testing.T) {
	w := msgp.NewWriter(256)
	w.MapHeader(4)
	w.String("schema")
	w.Uint(1)
	w.String("last")
	w.Int(at(0))
	w.String("traits")
	w.ArrayHeader(3)
	for _, e := range []profile.Entry{
		{Key: "cat:running-shoes", W: 6, Time: at(0)},
		{Key: "cat:office-dresses", W: 3, Time: at(0)},
		{Key: "tag:trail", W: 12, Time: at(0) - profile.HalfLife},
	} {
		w.ArrayHeader(3)
		w.String(e.Key)
		w.Float32(e.W)
		w.Int(e.Time)
	}
	w.String("visits")
	w.Uint(4)
	p, err := profile.Unmarshal(w.Bytes())
	if err != nil {
		t.Fatalf("Unmarshal = %v", err)
	}
	for _, tc := range []struct {
		key  string
		want float32
	}{
		{"cat:running-shoes", 1}, {"cat:office-dresses", 0.5}, {"tag:trail", 1}, {"cat:none", 0},
	} {
		if got := p.Traits.Get(tc.key, at(0), profile.HalfLife); math.Abs(float64(got-tc.want)) > 1e-6 {
			t.Errorf("lasting %s = %v, want %v", tc.key, got, tc.want)
		}
	}
	if len(p.Intent) != 0 || p.Visits != 4 {
		t.Errorf("intent %v, visits %d: want none, 4", p.Intent, p.Visits)
	}
	if m := decodeV5(t, p.Marshal()); m["schema"] != int8(wire.ProfileSchema) {
		t.Errorf("saved again with schema %v (%T), want %d", m["schema"], m["schema"], wire.ProfileSchema)
	}
}
