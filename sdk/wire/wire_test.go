package wire_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// t0 is the fixtures' clock: a Monday evening in November.
var t0 = time.Date(2026, 11, 23, 19, 30, 0, 0, time.UTC).UnixMilli()

// codec is every wire type: it writes and reads itself.
type codec interface {
	wire.Encoder
	wire.Decoder
}

// fresh returns a new zero value of v's type, to decode into.
func fresh(v codec) codec { return reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec) }

func sampleItem() wire.Item {
	return wire.Item{ID: "gown-1", Category: "evening-gowns", Tags: []string{"formal", "red"}, Price: 189.5}
}

func sampleContext() wire.Context {
	return wire.Context{Hour: 19, Weekday: 1, Month: 11, Device: "mobile", Referrer: "social", Page: "product", Region: "eu-west"}
}

// sampleEvent is the golden event: a click on a gown, with its context.
func sampleEvent() *wire.Event {
	it := sampleItem()
	return &wire.Event{Kind: wire.KindClick, Time: t0, Item: &it, Ctx: sampleContext()}
}

// sampleRankRequest is the golden request: three candidates of the home
// page's hero slot, the first two wanted.
func sampleRankRequest() *wire.RankRequest {
	return &wire.RankRequest{
		Slot: "home-hero",
		Candidates: []wire.Item{
			sampleItem(),
			{ID: "heels-3", Category: "metallic-heels", Tags: []string{"formal", "gold"}, Price: 95},
			{ID: "post-7", Category: "style-guide"},
		},
		Limit: 2,
		Time:  t0,
		Ctx:   sampleContext(),
	}
}

func sampleRankResult() *wire.RankResult {
	return &wire.RankResult{
		Items: []wire.Ranked{
			{ID: "clutch-2", Score: 1.25, Source: wire.SourceModel, Reason: wire.ReasonSession, Ref: "gown-1"},
			{ID: "sale-banner", Score: 3, Source: wire.SourceRule, Reason: wire.ReasonRule, Ref: "winter-sale"},
			{ID: "socks-9", Score: 0, Source: wire.SourceExplore, Reason: wire.ReasonExplore},
			{ID: "post-7", Source: wire.SourceDefault},
		},
		Arm:     wire.ArmTreatment,
		Version: 7,
	}
}

// sampleConfig is the golden configuration: LDP, a segment rule, a context
// rule and a filter.
func sampleConfig() *wire.Config {
	return &wire.Config{
		Site:      "demo",
		Privacy:   wire.PrivacyLDP,
		Epsilon:   2,
		Explore:   0.125,
		Holdout:   0.0625,
		Diversity: 0.25,
		Replenish: map[string]uint16{"coffee-beans": 21, "coffee-filters": 30},
		Rules: []wire.Rule{
			{
				ID:      "shoe-buyers-socks",
				Segment: "Shoe buyers",
				If:      []wire.Cond{{Field: "purchased.category", Op: wire.OpIn, Values: []string{"shoes"}}},
				Then:    wire.Action{Do: wire.DoBoost, Categories: []string{"socks"}, Tags: []string{"wool"}, Weight: 0.5},
			},
			{
				ID: "summer-banner",
				If: []wire.Cond{
					{Field: "ctx.month", Op: wire.OpBetween, Min: 6, Max: 8},
					{Field: "ctx.device", Op: wire.OpNotIn, Values: []string{"tablet"}},
				},
				Then: wire.Action{Do: wire.DoPin, IDs: []string{"summer-banner"}},
			},
			{ID: "no-sold-out", Then: wire.Action{Do: wire.DoFilter, Tags: []string{"sold-out"}}},
		},
	}
}

// sampleWeights is the golden weights: shard 1 of 4 of version 7.
func sampleWeights() *wire.Weights {
	return &wire.Weights{
		Version: 7,
		Shard:   1,
		Shards:  4,
		Items: []wire.ItemWeights{
			{ID: "gown-1", Pop: 0.5, Next: []wire.Neighbor{{ID: "heels-3", W: 1}, {ID: "clutch-2", W: 0.75}}},
			{ID: "heels-3", Pop: 0.25, Next: []wire.Neighbor{{ID: "clutch-2", W: 0.5}}},
		},
	}
}

// sampleDelta is the golden delta: two transitions, two counts, two arms,
// LDP noise (a weight may be negative).
func sampleDelta() *wire.Delta {
	return &wire.Delta{
		Site:  "demo",
		Model: 7,
		ID:    [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		Pairs: []wire.Pair{{From: "gown-1", To: "heels-3", W: 1}, {From: "heels-3", To: "clutch-2", W: -0.5}},
		Items: []wire.Count{{ID: "gown-1", N: 2.5}, {ID: "heels-3", N: 0.75}},
		Arms: []wire.ArmCount{
			{Arm: wire.ArmTreatment, Impressions: 40, Clicks: 3, Conversions: 1, Exposed: true},
			{Arm: wire.ArmRules, Impressions: 8},
		},
		Epsilon: 1,
	}
}

// roundTrips lists a value of every wire type, in every shape that matters
// (optional parts present and absent).
func roundTrips() []struct {
	name string
	v    codec
} {
	it := sampleItem()
	dwell := &wire.Event{Kind: wire.KindDwell, Time: t0, Item: &it, Dwell: 12000}
	return []struct {
		name string
		v    codec
	}{
		{"item", &it},
		{"item bare", &wire.Item{ID: "x"}},
		{"context", ptr(sampleContext())},
		{"context zero", &wire.Context{}},
		{"event click", sampleEvent()},
		{"event dwell", dwell},
		{"event page", &wire.Event{Kind: wire.KindPage, Time: 1, Ctx: wire.Context{Page: "home", Referrer: "direct"}}},
		{"event scroll", &wire.Event{Kind: wire.KindScroll, Time: t0, Scroll: 100}},
		{"event search", &wire.Event{Kind: wire.KindSearch, Time: t0, Query: "Red evening gown"}},
		{"event attrs", &wire.Event{Kind: wire.KindAttrs, Time: t0, Attrs: []wire.Attr{{Key: "lang", Value: "fr"}, {Key: "old"}, {Key: "tier", Value: "gold"}}}},
		{"event purchase", &wire.Event{Kind: wire.KindPurchase, Time: 1 << 50, Item: &wire.Item{ID: "machine-1", Category: "coffee-machines", Price: 499}}},
		{"rank request", sampleRankRequest()},
		{"rank request rules", &wire.RankRequest{Slot: "s", Time: t0, Mode: wire.ModeRules, Limit: wire.MaxCandidates}},
		{"rank request generated", &wire.RankRequest{Slot: "recs", Time: t0}},
		{"rank result", sampleRankResult()},
		{"rank result holdout", &wire.RankResult{Arm: wire.ArmHoldout, Version: 1<<32 - 1}},
		{"config", sampleConfig()},
		{"config empty", &wire.Config{}},
		{"weights", sampleWeights()},
		{"weights unsharded", &wire.Weights{Version: 1, Items: []wire.ItemWeights{{ID: "a", Pop: 1}}}},
		{"weights empty", &wire.Weights{}},
		{"delta", sampleDelta()},
		{"delta arms only", &wire.Delta{Site: "demo", Arms: []wire.ArmCount{{Arm: wire.ArmHoldout, Impressions: 1 << 20}}}},
	}
}

func ptr[T any](v T) *T { return &v }

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrips() {
		t.Run(tc.name, func(t *testing.T) {
			b := wire.Marshal(tc.v)
			got := fresh(tc.v)
			if err := wire.Unmarshal(b, got, tc.name); err != nil {
				t.Fatalf("Unmarshal(% x) = %v", b, err)
			}
			if !wiretest.SameData(got, tc.v) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, tc.v)
			}
			if b2 := wire.Marshal(got); !bytes.Equal(b2, b) {
				t.Fatalf("re-encoded\n% x\nwant\n% x", b2, b)
			}
		})
	}
}

// TestMarshalDeterministic checks that equal values give equal bytes
// whatever the maps' iteration order: the server deduplicates and the
// golden files compare bytes.
func TestMarshalDeterministic(t *testing.T) {
	for _, tc := range roundTrips() {
		want := wire.Marshal(tc.v)
		for i := 0; i < 20; i++ {
			if got := wire.Marshal(tc.v); !bytes.Equal(got, want) {
				t.Fatalf("%s: Marshal differs between calls:\n% x\n% x", tc.name, got, want)
			}
		}
	}
}

// TestUnknownKeysSkipped checks forward compatibility: a newer peer's
// extra fields, of any type, are skipped.
func TestUnknownKeysSkipped(t *testing.T) {
	for _, tc := range roundTrips() {
		t.Run(tc.name, func(t *testing.T) {
			b := wire.Marshal(tc.v)
			// Rewrite the top-level map header to count one more pair,
			// then append {"zz-future": [1, {"x": nil}]}.
			r := msgp.NewReader(b)
			n := r.MapHeader()
			if r.Err() != nil {
				t.Fatalf("not a map: % x", b)
			}
			w := msgp.NewWriter(len(b) + 32)
			w.MapHeader(n + 1)
			w.String("zz-future")
			w.ArrayHeader(2)
			w.Uint(1)
			w.MapHeader(1)
			w.String("x")
			w.Nil()
			w.Raw(b[r.Offset():])
			got := fresh(tc.v)
			if err := wire.Unmarshal(w.Bytes(), got, tc.name); err != nil {
				t.Fatalf("with an unknown key: %v", err)
			}
			if !wiretest.SameData(got, tc.v) {
				t.Fatalf("with an unknown key\n got %+v\nwant %+v", got, tc.v)
			}
		})
	}
}

func TestEnumNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{wire.KindPage.String(), "page"},
		{wire.KindView.String(), "view"},
		{wire.KindDwell.String(), "dwell"},
		{wire.KindScroll.String(), "scroll"},
		{wire.KindSearch.String(), "search"},
		{wire.KindClick.String(), "click"},
		{wire.KindCart.String(), "cart"},
		{wire.KindPurchase.String(), "purchase"},
		{wire.KindAttrs.String(), "attrs"},
		{wire.Kind(0).String(), ""},
		{wire.Kind(200).String(), ""},
		{wire.PrivacyLocal.String(), "local"},
		{wire.PrivacyFederated.String(), "federated"},
		{wire.PrivacyLDP.String(), "federated+ldp"},
		{wire.SourceDefault.String(), "default"},
		{wire.SourceExplore.String(), "explore"},
		{wire.ReasonNone.String(), ""},
		{wire.ReasonSearch.String(), "search"},
		{wire.ArmTreatment.String(), "treatment"},
		{wire.ArmHoldout.String(), "holdout"},
		{wire.ArmRules.String(), "rules"},
	} {
		if tc.got != tc.want {
			t.Errorf("name = %q, want %q", tc.got, tc.want)
		}
	}
	for k := wire.KindPage; k <= wire.KindAttrs; k++ {
		if got := wire.ParseKind(k.String()); got != k {
			t.Errorf("ParseKind(%q) = %d, want %d", k.String(), got, k)
		}
	}
	for _, s := range []string{"", "hover", "Click", "click "} {
		if got := wire.ParseKind(s); got != 0 {
			t.Errorf("ParseKind(%q) = %d, want 0", s, got)
		}
	}
}

func TestNeedsItem(t *testing.T) {
	need := map[wire.Kind]bool{wire.KindView: true, wire.KindDwell: true, wire.KindClick: true, wire.KindCart: true, wire.KindPurchase: true}
	for k := wire.Kind(0); k <= wire.KindAttrs+1; k++ {
		if got := k.NeedsItem(); got != need[k] {
			t.Errorf("%q.NeedsItem() = %v, want %v", k, got, need[k])
		}
	}
}

func TestKnownField(t *testing.T) {
	for _, tc := range []struct {
		field string
		want  bool
	}{
		{"viewed.category", true},
		{"clicked.category", true},
		{"carted.category", true},
		{"purchased.category", true},
		{"viewed.tag", true},
		{"purchased.tag", true},
		{"searched", true},
		{"ctx.hour", true},
		{"ctx.month", true},
		{"ctx.weekday", true},
		{"ctx.device", true},
		{"ctx.referrer", true},
		{"ctx.page", true},
		{"ctx.region", true},
		{"visits", true},
		{"attr.tier", true},
		{"attr.", false},
		{"attr", false},
		{"", false},
		{"ctx.", false},
		{"ctx.year", false},
		{"viewed.color", false},
		{"Visits", false},
	} {
		if got := wire.KnownField(tc.field); got != tc.want {
			t.Errorf("KnownField(%q) = %v, want %v", tc.field, got, tc.want)
		}
	}
}

func TestErrorNamesDocument(t *testing.T) {
	var e wire.Event
	err := wire.Unmarshal([]byte{0x80}, &e, "event")
	if !errors.Is(err, wire.ErrInvalid) {
		t.Fatalf("empty event: %v, want ErrInvalid", err)
	}
	if want := "decode event: event kind: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}
