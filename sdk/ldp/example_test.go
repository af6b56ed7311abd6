package ldp_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Devices encode what they saw; the server folds the reports and estimates
// how many devices saw each candidate, without learning which ones did.
func Example() {
	rnd := rand.New(rand.NewPCG(1, 1)) // a device uses crypto randomness
	const eps = 4
	t := ldp.NewTable(eps)
	want := map[string]int{"socks": 15000, "shoes": 5000}
	for i := 0; i < 20000; i++ {
		item := "socks"
		if i%4 == 0 {
			item = "shoes"
		}
		t.Add(ldp.Encode(wire.ReportItem, item, eps, rnd), 1)
	}
	for _, item := range []string{"socks", "shoes"} {
		fmt.Printf("%s: within 3%% of %d: %v\n", item, want[item], abs(t.Estimate(item)/float64(want[item])-1) < 0.03)
	}
	fmt.Println("hats: below 3 sd of noise:", t.Estimate("hats") < 3*t.StdDev())
	// Output:
	// socks: within 3% of 15000: true
	// shoes: within 3% of 5000: true
	// hats: below 3 sd of noise: true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
