package profile_test

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/internal/testclock"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

var t0, at = testclock.T0, testclock.At // the tests' clock (sdk/internal/testclock)

var (
	gown   = &wire.Item{ID: "gown-1", Category: "evening-gowns", Tags: []string{"formal", "red"}, Price: 189}
	heels  = &wire.Item{ID: "heels-3", Category: "metallic-heels", Tags: []string{"formal", "gold"}, Price: 95}
	clutch = &wire.Item{ID: "clutch-2", Category: "evening-clutches", Tags: []string{"formal"}, Price: 60}
	beans  = &wire.Item{ID: "beans-1", Category: "coffee-beans", Price: 12}
)

func ev(kind wire.Kind, it *wire.Item, min float64) *wire.Event {
	return &wire.Event{Kind: kind, Time: at(min), Item: it}
}

// observe feeds events to a new profile.
func observe(events ...*wire.Event) *profile.Profile {
	p := profile.New()
	for _, e := range events {
		p.Observe(e)
	}
	return p
}

func keys(t []profile.Entry) []string {
	var out []string
	for _, e := range t {
		out = append(out, e.Key)
	}
	return out
}

func TestObserveSessionOrder(t *testing.T) {
	p := observe(ev(wire.KindView, gown, 0), ev(wire.KindClick, heels, 1), ev(wire.KindCart, clutch, 2))
	if got, want := keys(p.Session), []string{"gown-1", "heels-3", "clutch-2"}; !slices.Equal(got, want) {
		t.Fatalf("Session = %q, want %q", got, want)
	}
	for i, want := range []float32{0.5, 1, 2} {
		if got := p.Session[i].W; got != want {
			t.Errorf("Session[%d].W = %v, want %v (the event's strength)", i, got, want)
		}
	}
	if p.Visits != 1 || p.LastSeen != at(2) {
		t.Errorf("Visits, LastSeen = %d, %d; want 1, %d", p.Visits, p.LastSeen, at(2))
	}
	if len(p.History) != 0 {
		t.Errorf("History = %v, want empty in the first session", p.History)
	}
}

func TestObserveMergesSameItem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []*wire.Event
		keys   []string
		w      []float32
	}{
		{"view then click", []*wire.Event{ev(wire.KindView, gown, 0), ev(wire.KindClick, gown, 1)},
			[]string{"gown-1"}, []float32{1.5}},
		{"view click cart", []*wire.Event{ev(wire.KindView, gown, 0), ev(wire.KindClick, gown, 1), ev(wire.KindCart, gown, 2)},
			[]string{"gown-1"}, []float32{3.5}},
		{"back to an earlier item is a new step", []*wire.Event{ev(wire.KindView, gown, 0), ev(wire.KindView, heels, 1), ev(wire.KindView, gown, 2)},
			[]string{"gown-1", "heels-3", "gown-1"}, []float32{0.5, 0.5, 0.5}},
	} {
		p := observe(tc.events...)
		if got := keys(p.Session); !slices.Equal(got, tc.keys) {
			t.Errorf("%s: Session = %q, want %q", tc.name, got, tc.keys)
			continue
		}
		for i, w := range tc.w {
			if p.Session[i].W != w {
				t.Errorf("%s: Session[%d].W = %v, want %v", tc.name, i, p.Session[i].W, w)
			}
		}
	}
}

func TestObserveDwellAddsStrengthWithoutStep(t *testing.T) {
	dwell := func(it *wire.Item, ms uint32, min float64) *wire.Event {
		e := ev(wire.KindDwell, it, min)
		e.Dwell = ms
		return e
	}
	p := observe(ev(wire.KindView, gown, 0), ev(wire.KindView, heels, 1), dwell(gown, 10000, 2))
	if got, want := keys(p.Session), []string{"gown-1", "heels-3"}; !slices.Equal(got, want) {
		t.Fatalf("after dwell, Session = %q, want %q", got, want)
	}
	if got := p.Session[0].W; got != 1.5 {
		t.Errorf("gown weight after 10 s dwell = %v, want 0.5 + 1", got)
	}
	if got := p.Session[0].Time; got != at(2) {
		t.Errorf("gown time after dwell = %d, want %d", got, at(2))
	}
	if pairs, items := pending(t, p); len(pairs) != 1 || len(items) != 2 {
		t.Errorf("dwell recorded a transition: pairs %v, items %v", pairs, items)
	}

	// A short dwell is no evidence; a dwell on an item not in the session
	// adds interest in its traits, not a step.
	p = observe(ev(wire.KindView, gown, 0), dwell(gown, 1500, 1), dwell(clutch, 30000, 2))
	if got := keys(p.Session); !slices.Equal(got, []string{"gown-1"}) || p.Session[0].W != 0.5 {
		t.Errorf("Session = %v, want only gown at 0.5", p.Session)
	}
	if got := p.TraitWeight("cat:evening-clutches", at(2)); got != 3 {
		t.Errorf("clutch category affinity after 30 s dwell = %v, want 3", got)
	}
}

func TestObserveRollover(t *testing.T) {
	p := observe(ev(wire.KindView, gown, 0), ev(wire.KindClick, heels, 29))
	if p.Visits != 1 || len(p.Session) != 2 {
		t.Fatalf("29 minutes apart: Visits %d, Session %v; want one session of two", p.Visits, p.Session)
	}
	p.Observe(ev(wire.KindView, clutch, 29+30)) // exactly SessionGap: same session
	if p.Visits != 1 || len(p.Session) != 3 {
		t.Fatalf("30 minutes apart: Visits %d, Session %v; want the same session", p.Visits, p.Session)
	}
	p.Observe(ev(wire.KindView, beans, 59+30.01)) // past SessionGap: a new one
	if p.Visits != 2 {
		t.Errorf("Visits = %d, want 2", p.Visits)
	}
	if got := keys(p.Session); !slices.Equal(got, []string{"beans-1"}) {
		t.Errorf("new Session = %q, want [beans-1]", got)
	}
	now := at(59 + 30.01)
	for _, tc := range []struct {
		id string
		w  float32
	}{{"gown-1", 0.25}, {"heels-3", 0.5}, {"clutch-2", 0.25}} { // the session's items share 1
		if got := p.History.Get(tc.id, now, profile.HalfLife); got != tc.w {
			t.Errorf("History %s = %v, want %v", tc.id, got, tc.w)
		}
	}
	// History fades by HalfLife.
	if got := p.History.Get("heels-3", now+profile.HalfLife, profile.HalfLife); got != 0.25 {
		t.Errorf("History heels-3 a half-life later = %v, want 0.25", got)
	}
	// A later session adds to what history holds.
	p.Observe(ev(wire.KindView, gown, 60*24))
	p.Observe(ev(wire.KindView, heels, 60*48))
	if p.Visits != 4 {
		t.Errorf("Visits = %d, want 4", p.Visits)
	}
	if got := p.History.Get("gown-1", at(60*48), 0); got <= 0.5 {
		t.Errorf("gown history after a second session = %v, want more than 0.5", got)
	}
}

func TestObserveTraitsAndFacts(t *testing.T) {
	p := observe(ev(wire.KindClick, gown, 0))
	now := at(0)
	for _, tc := range []struct {
		key  string
		want float32
	}{
		{"cat:evening-gowns", 1}, {"tag:formal", 1}, {"tag:red", 1}, {"price:4", 1}, {"cat:metallic-heels", 0},
	} {
		if got := p.TraitWeight(tc.key, now); got != tc.want {
			t.Errorf("TraitWeight(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	p.Observe(ev(wire.KindCart, heels, 0))
	p.Observe(ev(wire.KindPurchase, beans, 0))
	if got := p.TraitWeight("tag:formal", at(0)); got != 3 {
		t.Errorf("formal after a click and a cart = %v, want 1 + 2", got)
	}
	if got := p.TraitWeight("tag:formal", at(0)+profile.HalfLife); got != 1.5 {
		t.Errorf("formal a half-life later = %v, want 1.5", got)
	}
	for _, tc := range []struct {
		field, value string
		want         bool
	}{
		{"viewed.category", "evening-gowns", true},
		{"clicked.category", "evening-gowns", true},
		{"viewed.tag", "red", true},
		{"carted.category", "evening-gowns", false},
		{"carted.category", "metallic-heels", true},
		{"viewed.category", "metallic-heels", true},
		{"clicked.category", "metallic-heels", false},
		{"purchased.category", "coffee-beans", true},
		{"viewed.category", "coffee-beans", true},
		{"purchased.category", "evening-gowns", false},
		{"purchased.tag", "formal", false},
		{"viewed.tag", "gold", true},
		{"viewed.category", "evening", false},
		{"viewed", "category=evening-gowns", false},
	} {
		if got := p.HasFact(tc.field, tc.value); got != tc.want {
			t.Errorf("HasFact(%q, %q) = %v, want %v", tc.field, tc.value, got, tc.want)
		}
	}
}

func TestObservePurchases(t *testing.T) {
	p := observe(ev(wire.KindPurchase, beans, 0), ev(wire.KindPurchase, beans, 60*24*21), ev(wire.KindPurchase, gown, 60*24*22))
	key := profile.PurchaseKey("beans-1", "coffee-beans")
	if got := p.Purchases.Get(key, 0, 0); got != 2 {
		t.Errorf("beans bought %v times, want 2", got)
	}
	if id, cat := profile.SplitKey(key); id != "beans-1" || cat != "coffee-beans" {
		t.Errorf("SplitKey(PurchaseKey) = %q, %q", id, cat)
	}
	if len(p.Purchases) != 2 {
		t.Errorf("Purchases = %v, want two entries", p.Purchases)
	}
	if got := p.HasFact("purchased.tag", "formal"); !got {
		t.Errorf("purchased.tag=formal not recorded")
	}
}

func TestSplitKey(t *testing.T) {
	for _, tc := range []struct{ k, a, b string }{
		{"a\x00b", "a", "b"}, {"a", "a", ""}, {"\x00b", "", "b"}, {"a\x00b\x00c", "a", "b\x00c"}, {"", "", ""},
	} {
		if a, b := profile.SplitKey(tc.k); a != tc.a || b != tc.b {
			t.Errorf("SplitKey(%q) = %q, %q, want %q, %q", tc.k, a, b, tc.a, tc.b)
		}
	}
}

func TestObserveSearch(t *testing.T) {
	p := observe(&wire.Event{Kind: wire.KindSearch, Time: at(0), Query: "Red evening GOWN x"})
	for _, term := range []string{"red", "evening", "gown"} {
		if got := p.TraitWeight("q:"+term, at(0)); got != 1 {
			t.Errorf("TraitWeight(q:%s) = %v, want 1", term, got)
		}
		if !p.HasFact("searched", term) {
			t.Errorf("HasFact(searched, %q) = false", term)
		}
	}
	if p.HasFact("searched", "x") || p.TraitWeight("q:x", at(0)) != 0 {
		t.Errorf("one-letter term recorded")
	}
	if len(p.Session) != 0 {
		t.Errorf("a search added to the session: %v", p.Session)
	}
}

// TestLongSearchTermStorable checks that a query of one long word (the
// loader allows wire.MaxTextLen bytes) leaves a profile that loads again.
func TestLongSearchTermStorable(t *testing.T) {
	for _, n := range []int{wire.MaxIDLen, wire.MaxIDLen + 1, 248, 255, wire.MaxTextLen} {
		p := observe(&wire.Event{Kind: wire.KindSearch, Time: at(0), Query: strings.Repeat("w", n)})
		if _, err := profile.Unmarshal(p.Marshal()); err != nil {
			t.Errorf("after a search for a %d-byte word: Unmarshal = %v", n, err)
		}
	}
}

func TestObserveAttrs(t *testing.T) {
	attrs := func(min float64, kv ...string) *wire.Event {
		e := &wire.Event{Kind: wire.KindAttrs, Time: at(min)}
		for i := 0; i < len(kv); i += 2 {
			e.Attrs = append(e.Attrs, wire.Attr{Key: kv[i], Value: kv[i+1]})
		}
		return e
	}
	p := observe(attrs(0, "tier", "gold", "lang", "fr"))
	if p.Attr("tier") != "gold" || p.Attr("lang") != "fr" || p.Attr("x") != "" {
		t.Fatalf("Attrs = %v", p.Attrs)
	}
	p.Observe(attrs(1, "tier", "silver", "lang", "", "new", ""))
	if p.Attr("tier") != "silver" {
		t.Errorf("tier = %q, want silver", p.Attr("tier"))
	}
	if got := p.Attrs; len(got) != 1 {
		t.Errorf("Attrs after deleting lang (and setting new to empty) = %v, want only tier", got)
	}
	if len(p.Session) != 0 || len(p.Traits) != 0 {
		t.Errorf("an attrs event touched the session or traits")
	}
	// Bounded: past wire.MaxAttrs new keys are ignored, existing ones still change.
	e := &wire.Event{Kind: wire.KindAttrs, Time: at(2)}
	for i := 0; i < 2*wire.MaxAttrs; i++ {
		e.Attrs = append(e.Attrs, wire.Attr{Key: "k" + string(rune('A'+i)), Value: "v"})
	}
	p.Observe(e)
	if len(p.Attrs) != wire.MaxAttrs {
		t.Errorf("%d attributes kept, want wire.MaxAttrs = %d", len(p.Attrs), wire.MaxAttrs)
	}
	p.Observe(attrs(3, "tier", "platinum"))
	if p.Attr("tier") != "platinum" {
		t.Errorf("a full set no longer updates: tier = %q", p.Attr("tier"))
	}
}

func TestObserveIgnores(t *testing.T) {
	for _, e := range []*wire.Event{
		{Kind: wire.KindPage, Time: at(0)},
		{Kind: wire.KindScroll, Time: at(0), Scroll: 90},
		{Kind: wire.KindScroll, Time: at(0), Scroll: 10, Item: gown},
		{Kind: wire.KindDwell, Time: at(0), Dwell: 100, Item: gown},
		{Kind: wire.KindView, Time: at(0)},
	} {
		p := observe(e)
		if len(p.Session) != 0 || len(p.Traits) != 0 || len(p.Facts) != 0 || !p.Pending.Empty() {
			t.Errorf("%+v changed the profile: %+v", e, p)
		}
		if p.Visits != 1 || p.LastSeen != at(0) {
			t.Errorf("%+v: Visits %d, LastSeen %d; the visit still counts", e, p.Visits, p.LastSeen)
		}
	}
}

// pending decodes the pending statistics' pairs and items with their
// weights, as the profile stores them.
func pending(t testing.TB, p *profile.Profile) (pairs, items map[string]float32) {
	t.Helper()
	w := msgp.NewWriter(256)
	p.Pending.EncodeTo(w)
	r := msgp.NewReader(w.Bytes())
	r.Tuple(6) // pairs, items, arms, sent, block, closed
	read := func() map[string]float32 {
		m := map[string]float32{}
		for n := r.MapHeader(); n > 0; n-- {
			k := r.String()
			m[k] = r.Float32()
		}
		return m
	}
	pairs, items = read(), read()
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return pairs, items
}

// TestObservePending checks the statistics a session leaves for the next
// sync: one count per step, transitions within the window weighted
// 1/distance (what federated+ldp samples), and each new item viewed in the
// visit's block (what a federated delta sends, once Block are in).
func TestObservePending(t *testing.T) {
	p := observe(ev(wire.KindView, gown, 0), ev(wire.KindClick, gown, 1), ev(wire.KindView, heels, 2), ev(wire.KindView, clutch, 3))
	pairs, items := pending(t, p)
	want := map[string]float32{"gown-1\x00heels-3": 1, "heels-3\x00clutch-2": 1, "gown-1\x00clutch-2": 0.5}
	if !maps.Equal(pairs, want) {
		t.Errorf("pending pairs = %v, want %v", pairs, want)
	}
	if want := map[string]float32{"gown-1": 1, "heels-3": 1, "clutch-2": 1}; !maps.Equal(items, want) {
		t.Errorf("pending items = %v, want %v", items, want)
	}
	d, ok := p.Pending.Take(delta.Header{Site: "demo"}, rand.New(rand.NewPCG(1, 2)))
	if !ok {
		t.Fatal("nothing pending")
	}
	if len(d.Pairs) != 3 {
		t.Errorf("pairs = %v, want the three of the block of the session's three items", d.Pairs)
	}
	for _, q := range d.Pairs {
		if pairs[q.From+"\x00"+q.To]+pairs[q.To+"\x00"+q.From] == 0 || q.W != 1 {
			t.Errorf("pair %v is not a pending one, either way, with weight 1", q)
		}
	}
	if len(d.Items) != 0 {
		t.Errorf("items = %v, want none: a delta names items through its pairs", d.Items)
	}
	if got, want := keys(p.Links), []string{"gown-1\x00heels-3", "heels-3\x00clutch-2"}; !slices.Equal(got, want) {
		t.Errorf("Links = %q, want %q", got, want)
	}
}

func TestOutcomes(t *testing.T) {
	p := observe(ev(wire.KindView, beans, 0))
	p.MarkShown(wire.ArmTreatment, []string{"gown-1", "heels-3", "clutch-2"})
	p.Observe(ev(wire.KindClick, gown, 1))
	p.Observe(ev(wire.KindClick, gown, 2))  // a second click is not a second click-through
	p.Observe(ev(wire.KindClick, beans, 3)) // not shown
	p.Observe(ev(wire.KindPurchase, gown, 4))
	p.Observe(ev(wire.KindPurchase, heels, 5)) // shown, never clicked
	if !slices.Equal(p.Shown, []string{"gown-1", "heels-3", "clutch-2"}) || p.ShownArm != wire.ArmTreatment {
		t.Errorf("Shown = %q arm %v", p.Shown, p.ShownArm)
	}
	if len(p.Clicked) != 0 {
		t.Errorf("Clicked = %q, want empty after the purchase", p.Clicked)
	}
	d, _ := p.Pending.Take(delta.Header{}, rand.New(rand.NewPCG(1, 2)))
	want := []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 3, Clicks: 1, Conversions: 1, Exposed: true}}
	if !slices.Equal(d.Arms, want) {
		t.Errorf("arms = %+v, want %+v", d.Arms, want)
	}

	// Shown is bounded, oldest first out, without repeats.
	for i := 0; i < 3*profile.MaxShown; i++ {
		p.MarkShown(wire.ArmRules, []string{"x" + string(rune('0'+i%10)) + string(rune('a'+i/10))})
	}
	p.MarkShown(wire.ArmRules, []string{p.Shown[0]})
	if len(p.Shown) != profile.MaxShown {
		t.Errorf("len(Shown) = %d, want %d", len(p.Shown), profile.MaxShown)
	}
	if p.ShownArm != wire.ArmRules {
		t.Errorf("ShownArm = %v, want rules", p.ShownArm)
	}
}
