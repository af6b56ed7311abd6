package device_test

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/tailorhq/tailor/sdk/device"
	"github.com/tailorhq/tailor/sdk/wire"
)

// platform is the host's cryptographic generator, where a device's random
// choices must come from (the guest reads WASI random_get).
type platform struct{}

func (platform) Uint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// A device learns from each event at once: after a click on a gown, the
// next ranking leads with what visitors go on to from it, and says why.
func ExampleNew() {
	d := device.New(wire.Config{Site: "demo", Privacy: wire.PrivacyFederated}, platform{})
	d.ApplyWeights(&wire.Weights{Version: 1, Items: []wire.ItemWeights{
		{ID: "gown-1", Next: []wire.Neighbor{{ID: "heels-3", W: 1}, {ID: "clutch-2", W: 0.5}}},
		{ID: "socks-9", Pop: 1},
	}})
	const now = 1795548600000 // Unix ms
	d.Track(&wire.Event{Kind: wire.KindClick, Time: now, Item: &wire.Item{ID: "gown-1", Category: "evening-gowns"}})
	res := d.Rank(&wire.RankRequest{
		Slot:       "home",
		Time:       now + 60000,
		Candidates: []wire.Item{{ID: "socks-9"}, {ID: "clutch-2"}, {ID: "heels-3"}},
	})
	for _, it := range res.Items {
		fmt.Printf("%s %s %s %q\n", it.ID, it.Source, it.Reason, it.Ref)
	}
	delta, ok := d.TakeDelta()
	fmt.Println(ok, delta.Site, len(delta.Pairs), "pairs,", delta.Arms[0].Impressions, "impressions")
	// Output:
	// heels-3 model session "gown-1"
	// clutch-2 model session "gown-1"
	// socks-9 model popular ""
	// true demo 0 pairs, 3 impressions
}

// The profile is stored between pages and loaded on the next.
func ExampleDevice_SaveProfile() {
	d := device.New(wire.Config{Site: "demo"}, platform{})
	d.Track(&wire.Event{Kind: wire.KindView, Time: 1795548600000, Item: &wire.Item{ID: "gown-1"}})
	stored := d.SaveProfile()

	next := device.New(wire.Config{Site: "demo"}, platform{})
	if err := next.LoadProfile(stored); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(next.Profile().Session[0].Key)
	// Output:
	// gown-1
}
