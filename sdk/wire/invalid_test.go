package wire_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// badCase is a document a decoder must refuse, and the error it must
// refuse it with (matched by errors.Is).
type badCase struct {
	name string
	doc  []byte
	into codec // a value of the type to decode into
	want error
}

// edit returns the msgpack/v5 encoding of v's tree after f changed it:
// the document a careless or hostile server or page might send.
func edit(t testing.TB, v codec, f func(m map[string]any)) []byte {
	t.Helper()
	m := tree(v)
	f(m)
	return mp(t, m)
}

// sub returns the map or array m holds at the path of keys and indexes.
func sub(m any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m = m.(map[string]any)[p]
		case int:
			m = m.([]any)[p]
		}
	}
	return m
}

func at(m any, path ...any) map[string]any { return sub(m, path...).(map[string]any) }

func list(n int, f func(i int) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func long(n int) string { return strings.Repeat("x", n) }

func appendBytes(b []byte, extra ...byte) []byte { return append(append([]byte(nil), b...), extra...) }

var (
	nan  = math.NaN()
	inf  = math.Inf(1)
	ninf = math.Inf(-1)
)

// badInputs lists, per decoder, documents that must not decode. Most are a
// golden value's tree with one field spoiled; the rest are raw bytes.
func badInputs(t testing.TB) []badCase {
	ev, rq, rs, cf, wt, dl := sampleEvent(), sampleRankRequest(), sampleRankResult(), sampleConfig(), sampleWeights(), sampleDelta()
	e := func(f func(m map[string]any)) []byte { return edit(t, ev, f) }
	q := func(f func(m map[string]any)) []byte { return edit(t, rq, f) }
	r := func(f func(m map[string]any)) []byte { return edit(t, rs, f) }
	c := func(f func(m map[string]any)) []byte { return edit(t, cf, f) }
	w := func(f func(m map[string]any)) []byte { return edit(t, wt, f) }
	d := func(f func(m map[string]any)) []byte { return edit(t, dl, f) }
	item := func(m map[string]any) map[string]any { return at(m, "it") }
	rule := func(m map[string]any, i int) map[string]any { return at(m, "rules", i) }
	cond := func(m map[string]any) map[string]any { return at(m, "rules", 0, "if", 0) }
	action := func(m map[string]any) map[string]any { return at(m, "rules", 0, "then") }
	witem := func(m map[string]any) []any { return sub(m, "items", 0).([]any) }
	pair := func(m map[string]any) []any { return sub(m, "pairs", 0).([]any) }
	arm := func(m map[string]any) []any { return sub(m, "arms", 0).([]any) }

	return []badCase{
		// Event, its item and its context.
		{"event empty input", nil, ev, msgp.ErrShort},
		{"event not a map", []byte{0x90}, ev, msgp.ErrType},
		{"event truncated", wire.Marshal(ev)[:40], ev, msgp.ErrShort},
		{"event trailing bytes", appendBytes(wire.Marshal(ev), 0xc0), ev, msgp.ErrTrailing},
		{"event map32 prefix 2^32-1", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x6b}, ev, msgp.ErrShort},
		{"event map16 over MapMax", append([]byte{0xde, 0x00, 0x11}, make([]byte, 34)...), ev, msgp.ErrTooLong},
		{"event unknown kind", e(func(m map[string]any) { m["k"] = "hover" }), ev, wire.ErrInvalid},
		{"event missing kind", e(func(m map[string]any) { delete(m, "k") }), ev, wire.ErrInvalid},
		{"event kind too long", e(func(m map[string]any) { m["k"] = long(65) }), ev, msgp.ErrTooLong},
		{"event kind not a string", e(func(m map[string]any) { m["k"] = 6 }), ev, msgp.ErrType},
		{"event time zero", e(func(m map[string]any) { m["ts"] = 0 }), ev, wire.ErrInvalid},
		{"event time negative", e(func(m map[string]any) { m["ts"] = -1 }), ev, wire.ErrInvalid},
		{"event time missing", e(func(m map[string]any) { delete(m, "ts") }), ev, wire.ErrInvalid},
		{"event time 2^64-1", e(func(m map[string]any) { m["ts"] = uint64(math.MaxUint64) }), ev, msgp.ErrRange},
		{"event time float", e(func(m map[string]any) { m["ts"] = 1.5 }), ev, msgp.ErrType},
		{"event click without item", e(func(m map[string]any) { m["it"] = nil }), ev, wire.ErrInvalid},
		{"event purchase without item", e(func(m map[string]any) { m["k"] = "purchase"; delete(m, "it") }), ev, wire.ErrInvalid},
		{"event item missing id", e(func(m map[string]any) { delete(item(m), "i") }), ev, wire.ErrInvalid},
		{"event item empty id", e(func(m map[string]any) { item(m)["i"] = "" }), ev, wire.ErrInvalid},
		{"event item id too long", e(func(m map[string]any) { item(m)["i"] = long(65) }), ev, msgp.ErrTooLong},
		{"event item category too long", e(func(m map[string]any) { item(m)["c"] = long(65) }), ev, msgp.ErrTooLong},
		{"event item negative price", e(func(m map[string]any) { item(m)["p"] = -0.01 }), ev, wire.ErrInvalid},
		{"event item NaN price", e(func(m map[string]any) { item(m)["p"] = nan }), ev, msgp.ErrNotFinite},
		{"event item Inf price", e(func(m map[string]any) { item(m)["p"] = inf }), ev, msgp.ErrNotFinite},
		{"event item float32 NaN price", e(func(m map[string]any) { item(m)["p"] = float32(nan) }), ev, msgp.ErrNotFinite},
		{"event item price beyond float32", e(func(m map[string]any) { item(m)["p"] = 1e39 }), ev, msgp.ErrRange},
		{"event item too many tags", e(func(m map[string]any) { item(m)["t"] = list(wire.MaxTags+1, func(int) any { return "t" }) }), ev, msgp.ErrTooLong},
		{"event item tag too long", e(func(m map[string]any) { item(m)["t"] = []any{long(65)} }), ev, msgp.ErrTooLong},
		{"event item not a map", e(func(m map[string]any) { m["it"] = []any{"gown-1"} }), ev, msgp.ErrType},
		{"event hour 24", e(func(m map[string]any) { at(m, "cx")["h"] = 24 }), ev, msgp.ErrRange},
		{"event hour negative", e(func(m map[string]any) { at(m, "cx")["h"] = -1 }), ev, msgp.ErrRange},
		{"event weekday 7", e(func(m map[string]any) { at(m, "cx")["d"] = 7 }), ev, msgp.ErrRange},
		{"event month 13", e(func(m map[string]any) { at(m, "cx")["m"] = 13 }), ev, msgp.ErrRange},
		{"event month 256", e(func(m map[string]any) { at(m, "cx")["m"] = 256 }), ev, msgp.ErrRange},
		{"event unknown device", e(func(m map[string]any) { at(m, "cx")["dv"] = "watch" }), ev, wire.ErrInvalid},
		{"event unknown referrer", e(func(m map[string]any) { at(m, "cx")["rf"] = "tv" }), ev, wire.ErrInvalid},
		{"event unknown page", e(func(m map[string]any) { at(m, "cx")["pg"] = "checkout" }), ev, wire.ErrInvalid},
		{"event device upper case", e(func(m map[string]any) { at(m, "cx")["dv"] = "Mobile" }), ev, wire.ErrInvalid},
		{"event region too long", e(func(m map[string]any) { at(m, "cx")["rg"] = long(65) }), ev, msgp.ErrTooLong},
		{"event dwell over a day", e(func(m map[string]any) { m["dw"] = 24*3600*1000 + 1 }), ev, msgp.ErrRange},
		{"event scroll 101", e(func(m map[string]any) { m["sc"] = 101 }), ev, msgp.ErrRange},
		{"event query too long", e(func(m map[string]any) { m["q"] = long(wire.MaxTextLen + 1) }), ev, msgp.ErrTooLong},
		{"event too many attrs", e(func(m map[string]any) {
			a := map[string]any{}
			for i := 0; i <= wire.MaxAttrs; i++ {
				a["k"+strconv.Itoa(i)] = "v"
			}
			m["a"] = a
		}), ev, msgp.ErrTooLong},
		{"event attr key too long", e(func(m map[string]any) { m["a"] = map[string]any{long(65): "v"} }), ev, msgp.ErrTooLong},
		{"event attr value too long", e(func(m map[string]any) { m["a"] = map[string]any{"tier": long(wire.MaxTextLen + 1)} }), ev, msgp.ErrTooLong},
		{"event attr empty key", e(func(m map[string]any) { m["a"] = map[string]any{"": "v"} }), ev, msgp.ErrRange},
		{"event attr value not a string", e(func(m map[string]any) { m["a"] = map[string]any{"tier": 3} }), ev, msgp.ErrType},

		// Rank request.
		{"rank request missing time", q(func(m map[string]any) { delete(m, "ts") }), rq, wire.ErrInvalid},
		{"rank request too many candidates", q(func(m map[string]any) {
			m["c"] = list(wire.MaxCandidates+1, func(i int) any { return map[string]any{"i": "c"} })
		}), rq, msgp.ErrTooLong},
		{"rank request candidate missing id", q(func(m map[string]any) { delete(at(m, "c", 1), "i") }), rq, wire.ErrInvalid},
		{"rank request candidate negative price", q(func(m map[string]any) { at(m, "c", 2)["p"] = -5 }), rq, wire.ErrInvalid},
		{"rank request limit over MaxCandidates", q(func(m map[string]any) { m["l"] = wire.MaxCandidates + 1 }), rq, msgp.ErrRange},
		{"rank request negative limit", q(func(m map[string]any) { m["l"] = -1 }), rq, msgp.ErrRange},
		{"rank request unknown mode", q(func(m map[string]any) { m["m"] = "ml" }), rq, wire.ErrInvalid},
		{"rank request slot too long", q(func(m map[string]any) { m["s"] = long(65) }), rq, msgp.ErrTooLong},
		{"rank request hour 25", q(func(m map[string]any) { at(m, "cx")["h"] = 25 }), rq, msgp.ErrRange},
		{"rank request candidates not an array", q(func(m map[string]any) { m["c"] = map[string]any{} }), rq, msgp.ErrType},
		{"rank request candidates array32 prefix", []byte{0x82, 0xa2, 't', 's', 0x01, 0xa1, 'c', 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x80}, rq, msgp.ErrShort},
		{"rank request trailing bytes", appendBytes(wire.Marshal(rq), 0x00), rq, msgp.ErrTrailing},

		// Rank result.
		{"rank result item of 4", r(func(m map[string]any) { sub(m, "items").([]any)[0] = []any{"a", 1.0, "model", "session"} }), rs, wire.ErrInvalid},
		{"rank result unknown source", r(func(m map[string]any) { sub(m, "items", 0).([]any)[2] = "magic" }), rs, wire.ErrInvalid},
		{"rank result unknown reason", r(func(m map[string]any) { sub(m, "items", 0).([]any)[3] = "because" }), rs, wire.ErrInvalid},
		{"rank result NaN score", r(func(m map[string]any) { sub(m, "items", 0).([]any)[1] = nan }), rs, msgp.ErrNotFinite},
		{"rank result unknown arm", r(func(m map[string]any) { m["arm"] = "control" }), rs, wire.ErrInvalid},
		{"rank result version 2^32", r(func(m map[string]any) { m["v"] = int64(1) << 32 }), rs, msgp.ErrRange},

		// Config and its rules.
		{"config unknown schema", c(func(m map[string]any) { m["schema"] = 2 }), cf, wire.ErrSchema},
		{"config missing schema", c(func(m map[string]any) { delete(m, "schema") }), cf, wire.ErrSchema},
		{"config unknown privacy", c(func(m map[string]any) { m["privacy"] = "public" }), cf, wire.ErrInvalid},
		{"config negative eps", c(func(m map[string]any) { m["eps"] = -1 }), cf, wire.ErrInvalid},
		{"config Inf eps", c(func(m map[string]any) { m["eps"] = inf }), cf, msgp.ErrNotFinite},
		{"config negative budget", c(func(m map[string]any) { m["budget"] = -1 }), cf, wire.ErrInvalid},
		{"config NaN budget", c(func(m map[string]any) { m["budget"] = math.NaN() }), cf, msgp.ErrNotFinite},
		{"config explore over 1", c(func(m map[string]any) { m["explore"] = 1.5 }), cf, wire.ErrInvalid},
		{"config negative holdout", c(func(m map[string]any) { m["holdout"] = -0.1 }), cf, wire.ErrInvalid},
		{"config NaN diversity", c(func(m map[string]any) { m["diversity"] = nan }), cf, msgp.ErrNotFinite},
		{"config site too long", c(func(m map[string]any) { m["site"] = long(65) }), cf, msgp.ErrTooLong},
		{"config replenish over ten years", c(func(m map[string]any) { at(m, "replenish")["coffee-beans"] = 3651 }), cf, msgp.ErrRange},
		{"config replenish negative", c(func(m map[string]any) { at(m, "replenish")["coffee-beans"] = -1 }), cf, msgp.ErrRange},
		{"config too many rules", c(func(m map[string]any) {
			m["rules"] = list(wire.MaxRules+1, func(i int) any { return map[string]any{"id": "r", "then": map[string]any{"do": "pin"}} })
		}), cf, msgp.ErrTooLong},
		{"config rule missing id", c(func(m map[string]any) { delete(rule(m, 1), "id") }), cf, wire.ErrInvalid},
		{"config rule id too long", c(func(m map[string]any) { rule(m, 1)["id"] = long(65) }), cf, msgp.ErrTooLong},
		{"config rule segment too long", c(func(m map[string]any) { rule(m, 0)["segment"] = long(wire.MaxTextLen + 1) }), cf, msgp.ErrTooLong},
		{"config rule unknown field", c(func(m map[string]any) { cond(m)["f"] = "viewed.color" }), cf, wire.ErrInvalid},
		{"config rule missing field", c(func(m map[string]any) { delete(cond(m), "f") }), cf, wire.ErrInvalid},
		{"config rule unknown op", c(func(m map[string]any) { cond(m)["op"] = "gt" }), cf, wire.ErrInvalid},
		{"config rule missing op", c(func(m map[string]any) { delete(cond(m), "op") }), cf, wire.ErrInvalid},
		{"config rule NaN min", c(func(m map[string]any) { cond(m)["min"] = nan }), cf, msgp.ErrNotFinite},
		{"config rule -Inf max", c(func(m map[string]any) { cond(m)["max"] = ninf }), cf, msgp.ErrNotFinite},
		{"config rule too many conditions", c(func(m map[string]any) {
			rule(m, 0)["if"] = list(wire.MaxConds+1, func(int) any { return cond(m) })
		}), cf, msgp.ErrTooLong},
		{"config rule too many values", c(func(m map[string]any) {
			cond(m)["v"] = list(wire.MaxValues+1, func(int) any { return "v" })
		}), cf, msgp.ErrTooLong},
		{"config rule value too long", c(func(m map[string]any) { cond(m)["v"] = []any{long(wire.MaxTextLen + 1)} }), cf, msgp.ErrTooLong},
		{"config rule missing then", c(func(m map[string]any) { delete(rule(m, 1), "then") }), cf, wire.ErrInvalid},
		{"config rule unknown action", c(func(m map[string]any) { action(m)["do"] = "hide" }), cf, wire.ErrInvalid},
		{"config rule missing action", c(func(m map[string]any) { delete(action(m), "do") }), cf, wire.ErrInvalid},
		{"config rule too many ids", c(func(m map[string]any) {
			action(m)["ids"] = list(wire.MaxValues+1, func(int) any { return "i" })
		}), cf, msgp.ErrTooLong},
		{"config rule selector category too long", c(func(m map[string]any) { action(m)["cat"] = []any{long(65)} }), cf, msgp.ErrTooLong},
		{"config rule NaN weight", c(func(m map[string]any) { action(m)["w"] = nan }), cf, msgp.ErrNotFinite},
		{"config rule map over MapMax", c(func(m map[string]any) {
			for i := 0; i < 8; i++ {
				rule(m, 0)["x"+strconv.Itoa(i)] = nil
			}
		}), cf, msgp.ErrTooLong},
		{"config trailing bytes", appendBytes(wire.Marshal(cf), 0x90), cf, msgp.ErrTrailing},

		// Weights.
		{"weights unknown schema", w(func(m map[string]any) { m["schema"] = 2 }), wt, wire.ErrSchema},
		{"weights missing schema", w(func(m map[string]any) { delete(m, "schema") }), wt, wire.ErrSchema},
		{"weights shard beyond shards", w(func(m map[string]any) { m["shard"] = 4 }), wt, wire.ErrInvalid},
		{"weights shard over uint16", w(func(m map[string]any) { m["shards"] = 1 << 16 }), wt, msgp.ErrRange},
		{"weights version over uint32", w(func(m map[string]any) { m["v"] = int64(1) << 32 }), wt, msgp.ErrRange},
		{"weights item of 2", w(func(m map[string]any) { sub(m, "items").([]any)[0] = []any{"gown-1", 0.5} }), wt, wire.ErrInvalid},
		{"weights item missing id", w(func(m map[string]any) { witem(m)[0] = "" }), wt, wire.ErrInvalid},
		{"weights item id too long", w(func(m map[string]any) { witem(m)[0] = long(65) }), wt, msgp.ErrTooLong},
		{"weights pop over 1", w(func(m map[string]any) { witem(m)[1] = 1.5 }), wt, wire.ErrInvalid},
		{"weights negative pop", w(func(m map[string]any) { witem(m)[1] = -0.5 }), wt, wire.ErrInvalid},
		{"weights NaN pop", w(func(m map[string]any) { witem(m)[1] = nan }), wt, msgp.ErrNotFinite},
		{"weights odd neighbour list", w(func(m map[string]any) { witem(m)[2] = []any{"heels-3", 1.0, "clutch-2"} }), wt, wire.ErrInvalid},
		{"weights neighbour weight over 1", w(func(m map[string]any) { witem(m)[2] = []any{"heels-3", 2.0} }), wt, wire.ErrInvalid},
		{"weights neighbour weight Inf", w(func(m map[string]any) { witem(m)[2] = []any{"heels-3", inf} }), wt, msgp.ErrNotFinite},
		{"weights neighbour missing id", w(func(m map[string]any) { witem(m)[2] = []any{"", 0.5} }), wt, msgp.ErrRange},
		{"weights too many neighbours", w(func(m map[string]any) {
			witem(m)[2] = list(2*wire.MaxNeighbors+2, func(i int) any {
				if i%2 == 0 {
					return "n" + strconv.Itoa(i)
				}
				return 0.5
			})
		}), wt, msgp.ErrTooLong},
		{"weights items array32 prefix", []byte{0x82, 0xa6, 's', 'c', 'h', 'e', 'm', 'a', 0x01, 0xa5, 'i', 't', 'e', 'm', 's', 0xdd, 0x00, 0x03, 0x0d, 0x41, 0x93}, wt, msgp.ErrShort},
		{"weights trailing bytes", appendBytes(wire.Marshal(wt), 0x01, 0x02), wt, msgp.ErrTrailing},

		// Delta.
		{"delta unknown schema", d(func(m map[string]any) { m["schema"] = 3 }), dl, wire.ErrSchema},
		{"delta missing schema", d(func(m map[string]any) { delete(m, "schema") }), dl, wire.ErrSchema},
		{"delta over MaxDeltaBytes", d(func(m map[string]any) { m["pad"] = long(wire.MaxDeltaBytes) }), dl, wire.ErrTooBig},
		{"delta too many pairs", d(func(m map[string]any) {
			m["pairs"] = list(wire.MaxDeltaPairs+1, func(i int) any { return []any{"a", "b", 1.0} })
		}), dl, msgp.ErrTooLong},
		{"delta too many items", d(func(m map[string]any) {
			m["items"] = list(wire.MaxDeltaItems+1, func(i int) any { return []any{"a", 1.0} })
		}), dl, msgp.ErrTooLong},
		{"delta too many arms", d(func(m map[string]any) {
			m["arms"] = list(wire.MaxArms+1, func(i int) any { return []any{"treatment", 1, 0, 0, true} })
		}), dl, msgp.ErrTooLong},
		{"delta pair of 2", d(func(m map[string]any) { sub(m, "pairs").([]any)[0] = []any{"a", "b"} }), dl, msgp.ErrType},
		{"delta pair of 4", d(func(m map[string]any) { sub(m, "pairs").([]any)[0] = []any{"a", "b", 1.0, 1.0} }), dl, msgp.ErrType},
		{"delta item of 3", d(func(m map[string]any) { sub(m, "items").([]any)[0] = []any{"a", 1.0, 1.0} }), dl, msgp.ErrType},
		{"delta arm of 3", d(func(m map[string]any) { sub(m, "arms").([]any)[0] = []any{"treatment", 1, 1} }), dl, msgp.ErrType},
		{"delta arm of 6", d(func(m map[string]any) { sub(m, "arms").([]any)[0] = []any{"treatment", 1, 1, 0, true, 1} }), dl, msgp.ErrType},
		{"delta exposed not a bool", d(func(m map[string]any) { arm(m)[4] = 1 }), dl, msgp.ErrType},
		{"delta pair missing from", d(func(m map[string]any) { pair(m)[0] = "" }), dl, msgp.ErrRange},
		{"delta pair to too long", d(func(m map[string]any) { pair(m)[1] = long(65) }), dl, msgp.ErrTooLong},
		{"delta pair weight over max", d(func(m map[string]any) { pair(m)[2] = wire.MaxDeltaWeight + 1 }), dl, wire.ErrInvalid},
		{"delta pair weight under -max", d(func(m map[string]any) { pair(m)[2] = -wire.MaxDeltaWeight - 1 }), dl, wire.ErrInvalid},
		{"delta pair weight NaN", d(func(m map[string]any) { pair(m)[2] = nan }), dl, msgp.ErrNotFinite},
		{"delta item count Inf", d(func(m map[string]any) { sub(m, "items", 0).([]any)[1] = ninf }), dl, msgp.ErrNotFinite},
		{"delta item missing id", d(func(m map[string]any) { sub(m, "items", 0).([]any)[0] = "" }), dl, msgp.ErrRange},
		{"delta id of 15 bytes", d(func(m map[string]any) { m["id"] = make([]byte, 15) }), dl, wire.ErrInvalid},
		{"delta id not bytes", d(func(m map[string]any) { m["id"] = 7 }), dl, msgp.ErrType},
		{"delta unknown arm", d(func(m map[string]any) { arm(m)[0] = "control" }), dl, wire.ErrInvalid},
		{"delta impressions over 2^20", d(func(m map[string]any) { arm(m)[1] = 1<<20 + 1 }), dl, msgp.ErrRange},
		{"delta negative clicks", d(func(m map[string]any) { arm(m)[2] = -1 }), dl, msgp.ErrRange},
		{"delta negative eps", d(func(m map[string]any) { m["eps"] = -0.5 }), dl, wire.ErrInvalid},
		{"delta model over uint32", d(func(m map[string]any) { m["model"] = int64(1) << 32 }), dl, msgp.ErrRange},
		{"delta site too long", d(func(m map[string]any) { m["site"] = long(65) }), dl, msgp.ErrTooLong},
		{"delta pairs array32 prefix", []byte{0x82, 0xa6, 's', 'c', 'h', 'e', 'm', 'a', wire.DeltaSchema, 0xa5, 'p', 'a', 'i', 'r', 's', 0xdd, 0xff, 0xff, 0xff, 0xff, 0x93}, dl, msgp.ErrShort},
		{"delta trailing bytes", appendBytes(wire.Marshal(dl), 0xc0), dl, msgp.ErrTrailing},
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range badInputs(t) {
		t.Run(tc.name, func(t *testing.T) {
			err := wire.Unmarshal(tc.doc, fresh(tc.into), "doc")
			if !errors.Is(err, tc.want) {
				t.Fatalf("Unmarshal = %v, want %v\n% x", err, tc.want, tc.doc)
			}
			if !strings.HasPrefix(err.Error(), "decode doc: ") {
				t.Errorf("error %q does not name the document", err)
			}
		})
	}
}

// TestDecodeAcceptsLimits checks the other side of each bound: a document
// exactly at a limit decodes.
func TestDecodeAcceptsLimits(t *testing.T) {
	ids := func(n int, prefix string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = prefix + strconv.Itoa(i)
		}
		return s
	}
	it := wire.Item{ID: long(wire.MaxIDLen), Category: long(wire.MaxIDLen), Tags: ids(wire.MaxTags, "t"), Price: math.MaxFloat32}
	var attrs []wire.Attr
	for _, k := range ids(wire.MaxAttrs, "a") {
		attrs = append(attrs, wire.Attr{Key: k, Value: long(wire.MaxTextLen)})
	}
	cands := make([]wire.Item, wire.MaxCandidates)
	for i := range cands {
		cands[i].ID = "c" + strconv.Itoa(i)
	}
	conds := make([]wire.Cond, wire.MaxConds)
	for i := range conds {
		conds[i] = wire.Cond{Field: "attr." + long(wire.MaxIDLen-5), Op: wire.OpIn, Values: ids(wire.MaxValues, long(200))}
	}
	rules := make([]wire.Rule, wire.MaxRules)
	for i := range rules {
		rules[i] = wire.Rule{ID: "r" + strconv.Itoa(i), Then: wire.Action{Do: wire.DoFilter}}
	}
	rules[0] = wire.Rule{ID: long(wire.MaxIDLen), Segment: long(wire.MaxTextLen), If: conds,
		Then: wire.Action{Do: wire.DoBoost, IDs: ids(wire.MaxValues, "i"), Weight: -math.MaxFloat32}}
	next := make([]wire.Neighbor, wire.MaxNeighbors)
	for i := range next {
		next[i] = wire.Neighbor{ID: "n" + strconv.Itoa(i), W: 1}
	}
	pairs := make([]wire.Pair, wire.MaxDeltaPairs)
	for i := range pairs {
		pairs[i] = wire.Pair{From: "f" + strconv.Itoa(i), To: "t", W: -wire.MaxDeltaWeight}
	}
	counts := make([]wire.Count, wire.MaxDeltaItems)
	for i := range counts {
		counts[i] = wire.Count{ID: "i" + strconv.Itoa(i), N: wire.MaxDeltaWeight}
	}
	for _, tc := range []struct {
		name string
		v    codec
	}{
		{"event", &wire.Event{Kind: wire.KindDwell, Time: math.MaxInt64, Item: &it, Dwell: 24 * 3600 * 1000, Scroll: 100,
			Query: long(wire.MaxTextLen), Attrs: attrs, Ctx: wire.Context{Hour: 23, Weekday: 6, Month: 12, Region: long(wire.MaxIDLen)}}},
		{"rank request", &wire.RankRequest{Slot: long(wire.MaxIDLen), Candidates: cands, Limit: wire.MaxCandidates, Time: 1}},
		{"config", &wire.Config{Site: long(wire.MaxIDLen), Epsilon: math.MaxFloat32, DayBudget: math.MaxFloat32, Explore: 1, Holdout: 1, Diversity: 1,
			Replenish: map[string]uint16{long(wire.MaxIDLen): 3650}, Rules: rules}},
		{"weights", &wire.Weights{Version: math.MaxUint32, Shard: math.MaxUint16 - 1, Shards: math.MaxUint16,
			Items: []wire.ItemWeights{{ID: long(wire.MaxIDLen), Pop: 1, Next: next}}}},
		{"delta", &wire.Delta{Site: long(wire.MaxIDLen), Model: math.MaxUint32, Pairs: pairs, Items: counts, Epsilon: math.MaxFloat32,
			Arms: []wire.ArmCount{{Impressions: 1 << 20, Clicks: 1 << 20, Conversions: 1 << 20}, {}, {}, {}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := wire.Marshal(tc.v)
			got := fresh(tc.v)
			if err := wire.Unmarshal(b, got, tc.name); err != nil {
				t.Fatalf("Unmarshal (%d bytes) = %v", len(b), err)
			}
			if !wiretest.SameData(got, tc.v) {
				t.Fatalf("round trip at the limits differs")
			}
		})
	}
}

// TestDeltaSchema1 reads a delta of schema 1, whose arms have no exposure
// mark: a store holds such deltas until its retention ends.
func TestDeltaSchema1(t *testing.T) {
	want := sampleDelta()
	b := edit(t, want, func(m map[string]any) {
		m["schema"] = 1
		arms := sub(m, "arms").([]any)
		for i, a := range arms {
			arms[i] = a.([]any)[:4]
		}
	})
	var got wire.Delta
	if err := wire.Unmarshal(b, &got, "delta"); err != nil {
		t.Fatalf("schema 1: %v", err)
	}
	for i := range want.Arms {
		want.Arms[i].Exposed = false
	}
	if !wiretest.SameData(&got, want) {
		t.Errorf("schema 1\n got %+v\nwant %+v", got, *want)
	}
}
