package wire_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/wire"
)

// The trees below are the wire schema as a server sees it: what
// msgpack/v5 decodes each type's bytes into (compared after norm), and
// what a server would encode with msgpack/v5: integers as int64, floats as
// float64. They are written out by hand, independently of the encoders, so
// that the tests check field names and layout.

func itemTree(it *wire.Item) map[string]any {
	return map[string]any{"i": it.ID, "c": it.Category, "t": strs(it.Tags), "p": f32(it.Price)}
}

func contextTree(c *wire.Context) map[string]any {
	return map[string]any{"h": num(c.Hour), "d": num(c.Weekday), "m": num(c.Month),
		"dv": c.Device, "rf": c.Referrer, "pg": c.Page, "rg": c.Region}
}

func eventTree(e *wire.Event) map[string]any {
	var it any
	if e.Item != nil {
		it = itemTree(e.Item)
	}
	attrs := map[string]any{}
	for _, a := range e.Attrs {
		attrs[a.Key] = a.Value
	}
	return map[string]any{"k": e.Kind.String(), "ts": num(e.Time), "it": it, "dw": num(e.Dwell),
		"sc": num(e.Scroll), "q": e.Query, "cx": contextTree(&e.Ctx), "a": attrs}
}

func rankRequestTree(q *wire.RankRequest) map[string]any {
	cands := []any{}
	for i := range q.Candidates {
		cands = append(cands, itemTree(&q.Candidates[i]))
	}
	mode := "ai"
	if q.Mode == wire.ModeRules {
		mode = "rules"
	}
	return map[string]any{"s": q.Slot, "c": cands, "l": num(q.Limit), "ts": num(q.Time),
		"cx": contextTree(&q.Ctx), "m": mode, "rr": q.Rerank}
}

func rankResultTree(res *wire.RankResult) map[string]any {
	items := []any{}
	for _, it := range res.Items {
		items = append(items, []any{it.ID, f32(it.Score), it.Source.String(), it.Reason.String(), it.Ref})
	}
	return map[string]any{"items": items, "arm": res.Arm.String(), "v": num(res.Version)}
}

func configTree(c *wire.Config) map[string]any {
	repl := map[string]any{}
	for k, v := range c.Replenish {
		repl[k] = num(v)
	}
	rules := []any{}
	for _, r := range c.Rules {
		conds := []any{}
		for _, c := range r.If {
			conds = append(conds, map[string]any{"f": c.Field, "op": c.Op, "v": strs(c.Values),
				"min": f32(c.Min), "max": f32(c.Max)})
		}
		a := r.Then
		rules = append(rules, map[string]any{"id": r.ID, "segment": r.Segment, "if": conds,
			"then": map[string]any{"do": a.Do, "ids": strs(a.IDs), "cat": strs(a.Categories), "tag": strs(a.Tags), "w": f32(a.Weight)}})
	}
	return map[string]any{"schema": num(wire.ConfigSchema), "site": c.Site, "privacy": c.Privacy.String(),
		"eps": f32(c.Epsilon), "explore": f32(c.Explore), "holdout": f32(c.Holdout), "diversity": f32(c.Diversity),
		"replenish": repl, "rules": rules}
}

func weightsTree(m *wire.Weights) map[string]any {
	items := []any{}
	for _, it := range m.Items {
		next := []any{}
		for _, nb := range it.Next {
			next = append(next, nb.ID, f32(nb.W))
		}
		items = append(items, []any{it.ID, f32(it.Pop), next})
	}
	return map[string]any{"schema": num(wire.WeightsSchema), "v": num(m.Version), "shard": num(m.Shard),
		"shards": num(m.Shards), "items": items}
}

func deltaTree(d *wire.Delta) map[string]any {
	pairs, items, arms := []any{}, []any{}, []any{}
	for _, p := range d.Pairs {
		pairs = append(pairs, []any{p.From, p.To, f32(p.W)})
	}
	for _, c := range d.Items {
		items = append(items, []any{c.ID, f32(c.N)})
	}
	for _, a := range d.Arms {
		arms = append(arms, []any{a.Arm.String(), num(a.Impressions), num(a.Clicks), num(a.Conversions), a.Exposed})
	}
	return map[string]any{"schema": num(wire.DeltaSchema), "site": d.Site, "model": num(d.Model),
		"id": d.ID[:], "pairs": pairs, "items": items, "arms": arms, "eps": f32(d.Epsilon)}
}

// tree returns the server's view of any wire value.
func tree(v codec) map[string]any {
	switch v := v.(type) {
	case *wire.Item:
		return itemTree(v)
	case *wire.Context:
		return contextTree(v)
	case *wire.Event:
		return eventTree(v)
	case *wire.RankRequest:
		return rankRequestTree(v)
	case *wire.RankResult:
		return rankResultTree(v)
	case *wire.Config:
		return configTree(v)
	case *wire.Weights:
		return weightsTree(v)
	case *wire.Delta:
		return deltaTree(v)
	}
	panic(fmt.Sprintf("tree: %T", v))
}

func strs(s []string) []any {
	out := []any{}
	for _, v := range s {
		out = append(out, v)
	}
	return out
}

func f32(f float32) float64 { return float64(f) }

func num[T ~uint8 | ~uint16 | ~uint32 | ~int | ~int64](v T) int64 { return int64(v) }

// norm makes trees comparable: every number float64 (msgpack/v5 decodes
// int8, uint16, float32 ... by wire width).
func norm(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = norm(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = norm(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return float64(rv.Int())
	case rv.CanUint():
		return float64(rv.Uint())
	case rv.CanFloat():
		return rv.Float()
	}
	return v
}

// TestMsgpackV5Decodes checks that every type's bytes are standard
// MessagePack: github.com/vmihailenco/msgpack/v5, as a server would use
// it, decodes them into map[string]any with the field values the Go
// value holds.
func TestMsgpackV5Decodes(t *testing.T) {
	for _, tc := range roundTrips() {
		t.Run(tc.name, func(t *testing.T) {
			b := wire.Marshal(tc.v)
			var m map[string]any
			if err := msgpack.Unmarshal(b, &m); err != nil {
				t.Fatalf("msgpack/v5: %v\n% x", err, b)
			}
			got, want := norm(m), norm(tree(tc.v))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("msgpack/v5 decodes\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// TestMsgpackV5Encodes goes the other way: what a server writes with
// msgpack/v5 from the same trees (its own widths: float64, int64,
// unsorted maps) decodes to the value. Configurations and weights travel
// this way.
func TestMsgpackV5Encodes(t *testing.T) {
	for _, tc := range roundTrips() {
		t.Run(tc.name, func(t *testing.T) {
			b := mp(t, tree(tc.v))
			got := fresh(tc.v)
			if err := wire.Unmarshal(b, got, tc.name); err != nil {
				t.Fatalf("Unmarshal of msgpack/v5 bytes: %v\n% x", err, b)
			}
			if !wiretest.SameData(got, tc.v) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, tc.v)
			}
		})
	}
}

// mp encodes v with msgpack/v5, map keys sorted so failures repeat.
func mp(t testing.TB, v any) []byte {
	t.Helper()
	b, err := marshalSorted(v)
	if err != nil {
		t.Fatalf("msgpack/v5: %v", err)
	}
	return b
}

func marshalSorted(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	err := enc.Encode(v)
	return buf.Bytes(), err
}
