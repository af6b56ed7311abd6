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
	s := ldp.NewSketch()
	for i := 0; i < 20000; i++ {
		item := "socks"
		if i%4 == 0 {
			item = "shoes"
		}
		s.Add(ldp.Encode(wire.ReportItem, item, eps, rnd), eps, 1)
	}
	o := s.Oracle()
	for _, item := range []string{"socks", "shoes", "hats"} {
		fmt.Printf("%s: within 3 sd of %d: %v\n", item, map[string]int{"socks": 15000, "shoes": 5000}[item],
			abs(o.Estimate(item)-float64(map[string]int{"socks": 15000, "shoes": 5000}[item])) < 3*o.StdDev())
	}
	// Output:
	// socks: within 3 sd of 15000: true
	// shoes: within 3 sd of 5000: true
	// hats: within 3 sd of 0: true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
