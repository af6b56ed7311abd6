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

// SRM tests whether the treatment and holdout arms' exposure counts fit
// the configured holdout share: Pearson's chi-square with one degree of
// freedom, and its p-value. ok is false when there is nothing to test.
//
// The unit of the split is the device; the server counts an arm's
// exposures once per visitor session (aggregate.ArmTotals.Deltas: the
// session's first delta to show the arm is marked), not once per delta as
// before, when a device's several deltas all in its arm made the deltas'
// chi-square E[d²]/E[d] (about 7) times a binomial one and it was divided
// by a design effect of 10. A returning visitor's sessions still all fall
// in its arm, which this test does not allow for.
func SRM(treatment, holdout uint64, share float64) (chi2, p float64, ok bool) {
	n := float64(treatment + holdout)
	if n == 0 || share <= 0 || share >= 1 {
		return 0, 1, false
	}
	et, eh := n*(1-share), n*share
	dt, dh := float64(treatment)-et, float64(holdout)-eh
	chi2 = dt*dt/et + dh*dh/eh
	return chi2, math.Erfc(math.Sqrt(chi2 / 2)), true
}
