package device_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/device"
	"github.com/tailorhq/tailor/sdk/internal/testclock"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

var (
	gown   = wire.Item{ID: "gown-1", Category: "evening-gowns", Tags: []string{"formal"}, Price: 189}
	heels  = wire.Item{ID: "heels-3", Category: "metallic-heels", Tags: []string{"formal"}, Price: 95}
	clutch = wire.Item{ID: "clutch-2", Category: "evening-clutches", Tags: []string{"formal"}, Price: 60}
	socks  = wire.Item{ID: "socks-9", Category: "running-socks", Price: 12}
	mug    = wire.Item{ID: "mug-4", Category: "kitchen", Price: 15}
)

var cands = []wire.Item{socks, mug, clutch, heels}

func weights() *wire.Weights {
	return &wire.Weights{Version: 3, Items: []wire.ItemWeights{
		{ID: "gown-1", Pop: 0.2, Next: []wire.Neighbor{{ID: "heels-3", W: 1}, {ID: "clutch-2", W: 0.6}}},
		{ID: "heels-3", Pop: 0.2, Next: []wire.Neighbor{{ID: "clutch-2", W: 1}}},
		{ID: "socks-9", Pop: 1},
		{ID: "mug-4", Pop: 0.9},
	}}
}

// seeded is a deterministic source for tests; the guest gives the device
// the platform's CSPRNG.
func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x7a11)) }

// newDevice returns a device with the weights applied, its randomness
// seeded.
func newDevice(cfg wire.Config, seed uint64) *device.Device {
	d := device.New(cfg, seeded(seed))
	d.ApplyWeights(weights())
	return d
}

func click(d *device.Device, it wire.Item, min float64) {
	d.Track(&wire.Event{Kind: wire.KindClick, Time: testclock.At(min), Item: &it})
}

func ids(res wire.RankResult) []string {
	var out []string
	for _, it := range res.Items {
		out = append(out, it.ID)
	}
	return out
}

func federated() wire.Config { return wire.Config{Site: "demo", Privacy: wire.PrivacyFederated} }

func TestTrackRankTakeDelta(t *testing.T) {
	d := newDevice(federated(), 1)
	if d.Version() != 3 {
		t.Fatalf("Version = %d, want 3", d.Version())
	}
	if _, ok := d.TakeDelta(); ok {
		t.Fatal("a new device has a delta to send")
	}
	click(d, gown, 0)
	res := d.Rank(&wire.RankRequest{Slot: "home", Candidates: cands, Time: testclock.At(1)})
	if got := ids(res); got[0] != "heels-3" || res.Arm != wire.ArmTreatment || res.Version != 3 {
		t.Fatalf("after a gown: %v arm %v v%d, want heels first, treatment, v3", got, res.Arm, res.Version)
	}
	click(d, heels, 2) // shown, then clicked
	d.Track(&wire.Event{Kind: wire.KindPurchase, Time: testclock.At(3), Item: &heels})
	res = d.Rank(&wire.RankRequest{Slot: "home", Candidates: []wire.Item{socks, mug, clutch}, Time: testclock.At(4)})
	if got := ids(res); got[0] != "clutch-2" {
		t.Fatalf("after heels: %v, want clutch first", got)
	}

	dl, ok := d.TakeDelta()
	if !ok {
		t.Fatal("no delta after tracking and ranking")
	}
	if dl.Site != "demo" || dl.Model != 0 || dl.Epsilon != 0 || dl.ID == [16]byte{} { // version 3 is in epoch 0
		t.Errorf("delta header %q v%d eps %v id %x", dl.Site, dl.Model, dl.Epsilon, dl.ID)
	}
	if len(dl.Pairs) != 0 {
		t.Errorf("pairs = %v, want none: the block of gown and heels waits for a third item", dl.Pairs)
	}
	if len(dl.Items) != 0 {
		t.Errorf("items = %v, want none: a delta names items through its pairs", dl.Items)
	}
	want := []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 7, Clicks: 1, Conversions: 1, Exposed: true}}
	if !slices.Equal(dl.Arms, want) {
		t.Errorf("arms = %+v, want %+v", dl.Arms, want)
	}
	b := wire.Marshal(&dl)
	if err := wire.Unmarshal(b, new(wire.Delta), "delta"); err != nil || len(b) > wire.MaxDeltaBytes {
		t.Errorf("delta of %d bytes: %v", len(b), err)
	}
	if _, ok := d.TakeDelta(); ok {
		t.Error("a second TakeDelta sent again")
	}
	// A third item fills the block: its pairs go, and each delta has its
	// own id.
	click(d, clutch, 5)
	dl2, _ := d.TakeDelta()
	if len(dl2.Pairs) != 3 {
		t.Errorf("pairs = %v, want the 3 of gown, heels and clutch", dl2.Pairs)
	}
	if dl2.ID == dl.ID {
		t.Errorf("two deltas share the id %x", dl.ID)
	}
}

// TestPrivacyLocal checks that in local mode personalization works and
// nothing is kept for a sync.
// TestDeltaNamesEpoch: a delta names the model version its device held
// only to its epoch (wire.ModelEpoch), so that the version does not set a
// device's deltas apart (server/e2e TestLinkageByMetadata).
func TestDeltaNamesEpoch(t *testing.T) {
	for _, tc := range []struct{ held, sent uint32 }{{63, 0}, {64, 64}, {130, 128}, {1<<32 - 1, 1<<32 - 64}} {
		d := newDevice(federated(), 1)
		d.ApplyWeights(&wire.Weights{Version: tc.held})
		click(d, gown, 0)
		click(d, heels, 1)
		click(d, clutch, 2) // a block: the delta has pairs
		dl, ok := d.TakeDelta()
		if !ok || d.Version() != tc.held || dl.Model != tc.sent {
			t.Errorf("holding version %d (Version %d): delta of model %d (%v), want %d", tc.held, d.Version(), dl.Model, ok, tc.sent)
		}
	}
}

func TestPrivacyLocal(t *testing.T) {
	d := newDevice(wire.Config{Site: "demo", Privacy: wire.PrivacyLocal}, 1)
	click(d, gown, 0)
	res := d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(1)})
	if got := ids(res); got[0] != "heels-3" {
		t.Errorf("local mode ranking %v, want heels first: personalization still works", got)
	}
	click(d, heels, 2)
	if dl, ok := d.TakeDelta(); ok {
		t.Fatalf("local mode sent %+v", dl)
	}
	p := d.Profile()
	if !p.Pending.Empty() {
		t.Error("local mode keeps pending statistics")
	}
	if len(p.Shown) != 0 || len(p.Clicked) != 0 {
		t.Errorf("local mode records impressions: %v %v", p.Shown, p.Clicked)
	}
	// Switching to federated later sends only what follows.
	d.Configure(federated())
	click(d, clutch, 3)
	click(d, socks, 4)
	click(d, mug, 5)
	dl, ok := d.TakeDelta()
	if !ok || len(dl.Pairs) != 3 || slices.ContainsFunc(dl.Pairs, func(p wire.Pair) bool {
		return p.From == gown.ID || p.To == gown.ID || p.From == heels.ID || p.To == heels.ID
	}) {
		t.Errorf("after switching to federated: %+v, %v; want the pairs of clutch, socks and mug only", dl, ok)
	}
}

// TestPrivacyLDP checks a federated+ldp delta: only ε-LDP reports, the
// site's ε recorded, nothing in the clear.
func TestPrivacyLDP(t *testing.T) {
	cfg := wire.Config{Site: "demo", Privacy: wire.PrivacyLDP, Epsilon: 1}
	d := newDevice(cfg, 1)
	click(d, gown, 0)
	d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(1)})
	click(d, heels, 2)
	dl, ok := d.TakeDelta()
	if !ok {
		t.Fatal("no delta")
	}
	if dl.Epsilon != 1 || len(dl.Reports) != delta.Reports {
		t.Fatalf("delta eps %v with %d reports, want the site's 1 and %d", dl.Epsilon, len(dl.Reports), delta.Reports)
	}
	if len(dl.Pairs)+len(dl.Items)+len(dl.Arms) != 0 {
		t.Fatalf("in the clear: %+v", dl)
	}
	if err := wire.Unmarshal(wire.Marshal(&dl), new(wire.Delta), "delta"); err != nil {
		t.Fatalf("LDP delta does not decode: %v", err)
	}
	// Federated without LDP: no epsilon, no reports.
	d = newDevice(federated(), 1)
	click(d, gown, 0)
	click(d, heels, 1)
	click(d, clutch, 2)
	if dl, _ := d.TakeDelta(); dl.Epsilon != 0 || len(dl.Reports) != 0 || dl.Pairs[0].W != 1 {
		t.Errorf("federated delta eps %v reports %v pair %v", dl.Epsilon, dl.Reports, dl.Pairs[0])
	}
}

// TestDayBudget checks the device's per-day LDP budget: deltas until the
// day's budget is spent, none after (the pending statistics dropped), and
// a fresh budget the next UTC day; Forget does not refill it.
func TestDayBudget(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget float32 // the site's DayBudget
		eps    float32
		want   int // deltas per day
	}{
		{"default: four deltas' worth", 0, 2, wire.DefaultDayDeltas},
		{"site budget", 3, 1, 3},
		{"budget under one delta", 0.5, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := wire.Config{Site: "demo", Privacy: wire.PrivacyLDP, Epsilon: tc.eps, DayBudget: tc.budget}
			d := newDevice(cfg, 1)
			day0 := float64(testclock.T0 - testclock.T0%profile.Day) // midnight UTC, in minutes from testclock.T0 below
			start := (day0 - float64(testclock.T0)) / profile.Minute
			for day := 0; day < 2; day++ {
				sent := 0
				for i := 0; i < 10; i++ {
					click(d, []wire.Item{gown, heels}[i%2], start+float64(day*24*60+i))
					if i == 5 {
						d.Forget() // forgetting does not refill the budget
					}
					if _, ok := d.TakeDelta(); ok {
						sent++
					}
					if !d.Profile().Pending.Empty() {
						t.Fatalf("day %d: pending statistics kept past the budget", day)
					}
					if got, max := d.Spent(), d.DayBudget(); got > max {
						t.Fatalf("day %d: spent %v of %v", day, got, max)
					}
				}
				if sent != tc.want {
					t.Errorf("day %d: %d deltas, want %d", day, sent, tc.want)
				}
				if want := float32(tc.want) * tc.eps; d.Spent() != want {
					t.Errorf("day %d: Spent() = %v, want %v", day, d.Spent(), want)
				}
			}
		})
	}
	if b := newDevice(federated(), 1).DayBudget(); b != 0 {
		t.Errorf("federated DayBudget() = %v, want 0", b)
	}
}

func TestHoldout(t *testing.T) {
	cfg := federated()
	cfg.Holdout = 1
	d := newDevice(cfg, 1)
	click(d, gown, 0)
	res := d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(1)})
	if res.Arm != wire.ArmHoldout {
		t.Fatalf("holdout share 1: arm %v", res.Arm)
	}
	if got, want := ids(res), []string{"socks-9", "mug-4", "clutch-2", "heels-3"}; !slices.Equal(got, want) {
		t.Errorf("holdout ranking %v, want the default order %v", got, want)
	}
	if !d.Profile().Holdout || !d.Profile().Drawn {
		t.Error("the draw is not recorded in the profile")
	}
	dl, _ := d.TakeDelta()
	if len(dl.Arms) != 1 || dl.Arms[0].Arm != wire.ArmHoldout || dl.Arms[0].Impressions != 4 {
		t.Errorf("holdout delta arms %+v", dl.Arms)
	}
	// The draw is made once: a later configuration does not move a device.
	d.Configure(federated())
	if res := d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(2)}); res.Arm != wire.ArmHoldout {
		t.Errorf("after the share changed: arm %v, want holdout still", res.Arm)
	}
	// A share of one half holds out about half the devices.
	cfg.Holdout = 0.5
	held := 0
	for seed := uint64(0); seed < 400; seed++ {
		if newDevice(cfg, seed).Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(0)}).Arm == wire.ArmHoldout {
			held++
		}
	}
	if held < 150 || held > 250 {
		t.Errorf("share 0.5 held out %d of 400 devices", held)
	}
	if newDevice(federated(), 1).Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(0)}).Arm != wire.ArmTreatment {
		t.Error("share 0 held a device out")
	}
}

func TestRulesMode(t *testing.T) {
	cfg := federated()
	cfg.Rules = []wire.Rule{{ID: "coffee", Segment: "Coffee", Then: wire.Action{Do: wire.DoBoost, Categories: []string{"kitchen"}, Weight: 1}}}
	d := newDevice(cfg, 1)
	click(d, gown, 0)
	res := d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(1), Mode: wire.ModeRules})
	if got, want := ids(res), []string{"mug-4", "socks-9", "clutch-2", "heels-3"}; !slices.Equal(got, want) || res.Arm != wire.ArmRules {
		t.Errorf("rules only: %v arm %v, want %v, rules", got, res.Arm, want)
	}
	dl, _ := d.TakeDelta()
	if len(dl.Arms) != 1 || dl.Arms[0].Arm != wire.ArmRules {
		t.Errorf("delta arms %+v, want the rules arm", dl.Arms)
	}
}

func TestSaveLoadProfile(t *testing.T) {
	d := newDevice(federated(), 1)
	click(d, gown, 0)
	d.Track(&wire.Event{Kind: wire.KindAttrs, Time: testclock.At(1), Attrs: []wire.Attr{{Key: "tier", Value: "gold"}}})
	d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(2)})
	saved := d.SaveProfile()

	// Another page: a new device, the stored profile.
	e := newDevice(federated(), 99)
	if err := e.LoadProfile(saved); err != nil {
		t.Fatalf("LoadProfile = %v", err)
	}
	req := wire.RankRequest{Candidates: cands, Time: testclock.At(3)}
	if a, b := ids(d.Rank(&req)), ids(e.Rank(&req)); !slices.Equal(a, b) {
		t.Errorf("after reload: %v, before: %v", b, a)
	}
	da, okA := d.TakeDelta()
	db, okB := e.TakeDelta()
	if okA != okB || !slices.Equal(da.Pairs, db.Pairs) || !slices.Equal(da.Items, db.Items) || !slices.Equal(da.Arms, db.Arms) {
		t.Errorf("delta after reload %+v, before %+v", db, da)
	}

	// A fresh profile reloaded has nothing to send.
	f := newDevice(federated(), 1)
	if err := f.LoadProfile(newDevice(federated(), 2).SaveProfile()); err != nil {
		t.Fatal(err)
	}
	if dl, ok := f.TakeDelta(); ok {
		t.Errorf("a reloaded fresh profile sends %+v", dl)
	}

	// A damaged profile is refused and the current one kept.
	before := e.SaveProfile()
	for _, bad := range [][]byte{nil, {0xc0}, saved[:len(saved)-1], append(append([]byte(nil), saved...), 0)} {
		if err := e.LoadProfile(bad); err == nil {
			t.Errorf("LoadProfile(% x...) accepted", bad[:min(len(bad), 8)])
		}
	}
	if after := e.SaveProfile(); string(after) != string(before) {
		t.Error("a refused LoadProfile changed the profile")
	}
	if err := e.LoadProfile(saved[:len(saved)-1]); !errors.Is(err, msgp.ErrShort) {
		t.Errorf("truncated profile: %v, want msgp.ErrShort", err)
	}
}

func TestForget(t *testing.T) {
	d := newDevice(federated(), 1)
	click(d, gown, 0)
	d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(1)})
	d.Forget()
	p := d.Profile()
	if len(p.Session) != 0 || len(p.History) != 0 || len(p.Traits) != 0 || len(p.Intent) != 0 || len(p.Facts) != 0 || len(p.Shown) != 0 || p.Visits != 0 {
		t.Errorf("after Forget the profile holds %+v", p)
	}
	if dl, ok := d.TakeDelta(); ok {
		t.Errorf("after Forget a delta remains: %+v", dl)
	}
	if d.Version() != 3 || d.Config().Site != "demo" {
		t.Errorf("Forget dropped the site's weights or configuration: v%d %q", d.Version(), d.Config().Site)
	}
	res := d.Rank(&wire.RankRequest{Candidates: cands, Time: testclock.At(2)})
	if got := ids(res); got[0] != "socks-9" {
		t.Errorf("after Forget: %v, want the popular socks first", got)
	}
}

func TestResetConfigure(t *testing.T) {
	d := newDevice(federated(), 1)
	click(d, gown, 0)
	cfg := wire.Config{Site: "other", Privacy: wire.PrivacyLocal}
	d.Reset(cfg)
	if d.Config().Site != "other" || len(d.Profile().Session) != 0 {
		t.Errorf("after Reset: site %q, session %v", d.Config().Site, d.Profile().Session)
	}
	if d.Version() != 3 {
		t.Errorf("Reset dropped the weights")
	}
	d.Configure(federated())
	if d.Config().Privacy != wire.PrivacyFederated {
		t.Errorf("Configure did not apply")
	}
}

// TestSentOnceAcrossReloads: a visitor who goes from gown to heels on page
// after page, each page a new device loading the stored profile, keeps the
// two in the visit's block across the reloads, and sends them once, when
// the clutch on the last page fills it: its 3 pairs, in one delta; forget
// clears what was sent, so the forgotten visitor's device is a new one,
// and sends the block again.
func TestSentOnceAcrossReloads(t *testing.T) {
	var saved []byte
	pairs, items := map[string]int{}, map[string]int{}
	count := func(dl wire.Delta) {
		for _, p := range dl.Pairs {
			pairs[p.From+">"+p.To]++
		}
		for _, c := range dl.Items {
			items[c.ID]++
		}
	}
	for page := range 30 {
		d := newDevice(federated(), uint64(page))
		if saved != nil {
			if err := d.LoadProfile(saved); err != nil {
				t.Fatal(err)
			}
		}
		click(d, gown, float64(2*page))
		click(d, heels, float64(2*page+1))
		if page == 29 {
			click(d, clutch, float64(2*page+1))
		}
		if dl, ok := d.TakeDelta(); ok {
			count(dl)
		}
		saved = d.SaveProfile()
	}
	for k, n := range pairs {
		if n > 1 {
			t.Errorf("pair %s sent %d times", k, n)
		}
	}
	if pairs["gown-1>heels-3"]+pairs["heels-3>gown-1"] != 1 || len(pairs) != 3 || len(items) != 0 {
		t.Errorf("over 30 pages: pairs %v, items %v; want the block of gown, heels and clutch once", pairs, items)
	}

	d := newDevice(federated(), 1)
	if err := d.LoadProfile(saved); err != nil {
		t.Fatal(err)
	}
	d.Forget()
	click(d, gown, 100)
	click(d, heels, 101)
	click(d, clutch, 102)
	dl, ok := d.TakeDelta()
	if !ok || len(dl.Pairs) != 3 {
		t.Errorf("after Forget: %+v (%v), want the block again", dl, ok)
	}
}
