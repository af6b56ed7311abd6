package profile_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// catalogue is a store of 3000 items in 40 categories; one id and one
// category in twenty is as long as the wire allows.
type catalogue []wire.Item

func newCatalogue(rng *rand.Rand) catalogue {
	pad := func(s string) string { return s + strings.Repeat("-", wire.MaxIDLen-len(s)) }
	c := make(catalogue, 3000)
	for i := range c {
		it := &c[i]
		it.ID = "sku-" + strconv.Itoa(i)
		if i%20 == 0 {
			it.ID = pad(it.ID)
		}
		cat := rng.IntN(40)
		it.Category = "category-" + strconv.Itoa(cat)
		if cat%20 == 0 {
			it.Category = pad(it.Category)
		}
		for n := 1 + rng.IntN(4); n > 0; n-- {
			it.Tags = append(it.Tags, "tag-"+strconv.Itoa(rng.IntN(60)))
		}
		it.Price = float32(5 + rng.IntN(800))
	}
	return c
}

var words = strings.Fields("red blue black gown dress heels clutch watch gps running marathon coffee beans filter " +
	"espresso grinder winter coat beach swim summer linen wool cashmere silk leather gold silver formal party " +
	"trail road shoe sock jacket vest gel bar bottle")

// simulate feeds n varied events, over simulated months, to a new
// profile: sessions of a few seconds to two minutes between events, a
// new session one time in thirty after half an hour to two hours (and one
// in two hundred of those after up to three weeks away);
// views, clicks, dwells, carts, purchases, searches (some with words too
// long to keep), scrolls, page views, declared attributes (some removed),
// and a ranking shown every 25 events. With sync, the pending
// statistics go at the end of each session, as the loader syncs them.
// It checks every bound on the way.
func simulate(t testing.TB, n int, seed uint64, sync bool) *profile.Profile {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	cat := newCatalogue(rng)
	p := profile.New()
	now := t0
	for i := 0; i < n; i++ {
		if rng.IntN(30) == 0 {
			now += 31*profile.Minute + rng.Int64N(90*profile.Minute)
			if rng.IntN(200) == 0 {
				now += rng.Int64N(21 * profile.Day) // away for up to three weeks
			}
			if sync {
				p.Pending.Take(delta.Header{}, rand.New(rand.NewPCG(1, 2)))
			}
		} else {
			now += 3000 + rng.Int64N(117000)
		}
		e := &wire.Event{Time: now, Item: &cat[rng.IntN(len(cat))]}
		switch k := rng.IntN(100); {
		case k < 40:
			e.Kind = wire.KindView
		case k < 60:
			e.Kind = wire.KindClick
		case k < 72:
			e.Kind, e.Dwell = wire.KindDwell, uint32(rng.IntN(60000))
		case k < 77:
			e.Kind = wire.KindCart
		case k < 79:
			e.Kind = wire.KindPurchase
		case k < 87:
			e.Kind, e.Item = wire.KindSearch, nil
			var q []string
			for m := 1 + rng.IntN(5); m > 0; m-- {
				q = append(q, words[rng.IntN(len(words))])
			}
			if rng.IntN(10) == 0 {
				q = append(q, strings.Repeat("z", 1+rng.IntN(200)))
			}
			e.Query = strings.Join(q, " ")
			if len(e.Query) > wire.MaxTextLen {
				e.Query = e.Query[:wire.MaxTextLen]
			}
		case k < 92:
			e.Kind, e.Scroll = wire.KindScroll, uint8(rng.IntN(101))
		case k < 95:
			e.Kind, e.Item = wire.KindPage, nil
		default:
			e.Kind, e.Item = wire.KindAttrs, nil
			for m := 1 + rng.IntN(3); m > 0; m-- {
				v := ""
				switch rng.IntN(10) {
				case 0, 1, 2: // removes the attribute
				case 3:
					v = strings.Repeat("v", 1+rng.IntN(wire.MaxTextLen))
				default:
					v = words[rng.IntN(len(words))]
				}
				e.Attrs = append(e.Attrs, wire.Attr{Key: "attr-" + strconv.Itoa(rng.IntN(48)), Value: v})
			}
		}
		p.Observe(e)
		if i%25 == 24 {
			ids := make([]string, 1+rng.IntN(10))
			for j := range ids {
				ids[j] = cat[rng.IntN(len(cat))].ID
			}
			p.MarkShown(wire.Arm(rng.IntN(3)), ids)
		}
		if i%1000 == 999 || i == n-1 {
			checkBounds(t, p)
		}
	}
	return p
}

// checkBounds checks every part of p against its bound, and that p's
// stored form loads again.
func checkBounds(t testing.TB, p *profile.Profile) {
	t.Helper()
	for _, part := range []struct {
		name   string
		n, max int
	}{
		{"Session", len(p.Session), profile.MaxSession},
		{"History", len(p.History), profile.MaxHistory},
		{"Traits", len(p.Traits), profile.MaxTraits},
		{"Intent", len(p.Intent), profile.MaxIntent},
		{"Facts", len(p.Facts), profile.MaxFacts},
		{"Links", len(p.Links), profile.MaxLinks},
		{"Purchases", len(p.Purchases), profile.MaxPurchases},
		{"Attrs", len(p.Attrs), wire.MaxAttrs},
		{"Shown", len(p.Shown), profile.MaxShown},
		{"Clicked", len(p.Clicked), profile.MaxShown},
	} {
		if part.n > part.max {
			t.Fatalf("%s holds %d, over its bound %d", part.name, part.n, part.max)
		}
	}
	pairs, items := pending(t, p)
	if len(pairs) > delta.MaxPending || len(items) > delta.MaxPending {
		t.Fatalf("Pending holds %d pairs and %d items, over delta.MaxPending = %d", len(pairs), len(items), delta.MaxPending)
	}
	if _, err := profile.Unmarshal(p.Marshal()); err != nil {
		t.Fatalf("the profile no longer loads: %v", err)
	}
}

// TestBoundedOverMonths feeds 100,000 events over months of simulated
// time. Every part stays within its bound; the stored profile stays small:
// a few kilobytes besides the statistics waiting for a sync, which a
// device that syncs each session keeps small too. One that never syncs
// holds up to delta.MaxPending pairs and items.
func TestBoundedOverMonths(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 events")
	}
	for _, tc := range []struct {
		name    string
		sync    bool
		maxSize int
	}{
		{"syncing", true, 24 << 10},
		{"never syncing", false, 96 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := simulate(t, 100000, 7, tc.sync)
			days := float64(p.LastSeen-t0) / profile.Day
			size := len(p.Marshal())
			var rest profile.Profile = *p
			rest.Pending = delta.Stats{}
			core := len(rest.Marshal())
			pairs, items := pending(t, p)
			t.Logf("after 100,000 events over %.0f days and %d visits: %d bytes stored, %d without %d pending pairs and %d items (%s)",
				days, p.Visits, size, core, len(pairs), len(items), partSizes(p))
			if days < 60 {
				t.Errorf("simulated %.0f days, want months", days)
			}
			if size > tc.maxSize {
				t.Errorf("profile is %d bytes, over %d", size, tc.maxSize)
			}
			if core > 16<<10 {
				t.Errorf("profile without pending statistics is %d bytes, over 16 KiB", core)
			}
		})
	}
}

// partSizes returns how many bytes each part of p adds to its stored form.
func partSizes(p *profile.Profile) string {
	base := len((&profile.Profile{}).Marshal())
	var s []string
	for _, part := range []struct {
		name string
		set  func(q *profile.Profile)
	}{
		{"session", func(q *profile.Profile) { q.Session = p.Session }},
		{"history", func(q *profile.Profile) { q.History = p.History }},
		{"traits", func(q *profile.Profile) { q.Traits = p.Traits }},
		{"intent", func(q *profile.Profile) { q.Intent = p.Intent }},
		{"facts", func(q *profile.Profile) { q.Facts = p.Facts }},
		{"links", func(q *profile.Profile) { q.Links = p.Links }},
		{"purchases", func(q *profile.Profile) { q.Purchases = p.Purchases }},
		{"attrs", func(q *profile.Profile) { q.Attrs = p.Attrs }},
		{"shown+clicked", func(q *profile.Profile) { q.Shown, q.Clicked = p.Shown, p.Clicked }},
		{"pending", func(q *profile.Profile) { q.Pending = p.Pending }},
	} {
		var q profile.Profile
		part.set(&q)
		s = append(s, part.name+" "+strconv.Itoa(len(q.Marshal())-base))
	}
	return strings.Join(s, ", ")
}

// TestWorstCaseSize fills every part to its bound with the longest keys
// the wire allows: the largest profile a device can store. It must still
// load, so the bounds Observe keeps and those Unmarshal checks agree.
func TestWorstCaseSize(t *testing.T) {
	id := func(prefix string, i, n int) string {
		s := prefix + strconv.Itoa(i)
		return s + strings.Repeat("x", n-len(s))
	}
	table := func(max, keyLen int) profile.Table {
		t := make(profile.Table, max)
		for i := range t {
			t[i] = profile.Entry{Key: id("k", i, keyLen), W: 1.5, Time: t0}
		}
		return t
	}
	p := profile.New()
	p.Visits, p.LastSeen = 1<<31, t0
	p.Session = table(profile.MaxSession, wire.MaxIDLen)
	p.History = table(profile.MaxHistory, wire.MaxIDLen)
	p.Traits = table(profile.MaxTraits, 2+wire.MaxIDLen) // "q:"+term
	p.Intent = table(profile.MaxIntent, 2+wire.MaxIDLen)
	p.Facts = table(profile.MaxFacts, len("searched=")+wire.MaxIDLen) // the longest fact
	p.Links = table(profile.MaxLinks, 2*wire.MaxIDLen+1)
	p.Purchases = table(profile.MaxPurchases, 2*wire.MaxIDLen+1)
	for i := 0; i < wire.MaxAttrs; i++ {
		p.Attrs = append(p.Attrs, wire.Attr{Key: id("a", i, wire.MaxIDLen), Value: strings.Repeat("v", wire.MaxTextLen)})
	}
	for i := 0; i < profile.MaxShown; i++ {
		p.Shown = append(p.Shown, id("s", i, wire.MaxIDLen))
		p.Clicked = append(p.Clicked, id("c", i, wire.MaxIDLen))
	}
	for i := 0; i < delta.MaxPending; i++ {
		p.Pending.AddPair(id("f", i, wire.MaxIDLen), id("t", i, wire.MaxIDLen), 1)
		p.Pending.AddItem(id("i", i, wire.MaxIDLen), 1)
	}
	p.Pending.AddArm(wire.ArmTreatment, 1<<20, 1<<20, 1<<20)
	b := p.Marshal()
	if _, err := profile.Unmarshal(b); err != nil {
		t.Fatalf("a profile at every bound does not load: %v", err)
	}
	t.Logf("worst case: %d bytes (%s)", len(b), partSizes(p))
	if len(b) > 256<<10 {
		t.Errorf("worst case %d bytes, over 256 KiB", len(b))
	}
}
