package console

import (
	"math"

	"github.com/tailorhq/tailor/server/api"
)

// Interval is a rate with its 95% confidence interval.
type Interval struct {
	Rate, Low, High float64
}

// Wilson returns the rate successes/trials with its 95% Wilson score
// interval, which, unlike the Wald interval, stays within [0, 1] and keeps
// its coverage for small counts and rates near 0 (a conversion rate of a
// few per thousand). Successes beyond the trials count as the trials:
// devices report clicks in a later delta than their impressions.
func Wilson(successes, trials uint64) Interval {
	if trials == 0 {
		return Interval{}
	}
	n := float64(trials)
	p := api.Rate(successes, trials)
	z := api.Z95
	z2 := z * z
	d := 1 + z2/n
	c := (p + z2/(2*n)) / d
	h := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n)) / d
	return Interval{Rate: p, Low: max(0, c-h), High: min(1, c+h)}
}

// SRMThreshold is the p-value under which the split of the arms is
// reported as a sample-ratio mismatch, as GrowthBook and Statsig do.
const SRMThreshold = 0.001

// SRMDesignEffect is what the chi-square of the arms' delta counts is
// divided by. The unit of the split is the device, but devices send counts,
// never an identity, so the server counts deltas, and a device sends
// several, all in its arm: with d deltas per device, the deltas' chi-square
// is E[d²]/E[d] times a binomial one. The demo's simulated shoppers send
// 4-9 deltas a visit (6.95); on the raw chi-square, 22% of fair splits of
// 1,000 of them warned at p < 0.001 (a simulation of the split, 20,000
// runs). Divided by 10, 0.02% do, and visitors syncing 10-20 deltas each
// warn in 1%; a holdout losing half its visitors' deltas warns in 16% of
// 1,000-shopper runs and 98% of 3,000-shopper ones. Devices reporting
// their arm once would make the check exact (a wire change, not made).
const SRMDesignEffect = 10

// SRM tests whether the treatment and holdout arms' delta counts fit the
// configured holdout share: Pearson's chi-square with one degree of
// freedom, divided by SRMDesignEffect, and its p-value. ok is false when
// there is nothing to test.
func SRM(treatment, holdout uint64, share float64) (chi2, p float64, ok bool) {
	n := float64(treatment + holdout)
	if n == 0 || share <= 0 || share >= 1 {
		return 0, 1, false
	}
	et, eh := n*(1-share), n*share
	dt, dh := float64(treatment)-et, float64(holdout)-eh
	chi2 = (dt*dt/et + dh*dh/eh) / SRMDesignEffect
	return chi2, math.Erfc(math.Sqrt(chi2 / 2)), true
}
