package api

import (
	"math"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

// Z95 is the standard normal quantile of a two-sided 95% interval.
const Z95 = 1.959963984540054

// Rate returns successes/trials, 0 without trials, at most 1.
func Rate(successes, trials uint64) float64 {
	if trials == 0 {
		return 0
	}
	return min(1, float64(successes)/float64(trials))
}

// Uplift compares a rate of the treatment arm with the holdout's.
type Uplift struct {
	Treatment float64    `json:"treatment"` // the treatment arm's rate
	Holdout   float64    `json:"holdout"`   // the holdout arm's rate
	Absolute  float64    `json:"absolute"`  // treatment - holdout
	Relative  *float64   `json:"relative"`  // absolute / holdout; null when the holdout rate is 0
	CI95      [2]float64 `json:"ci95"`      // 95% confidence interval of Absolute
	// Significant reports whether the interval excludes 0 (and Guard
	// found nothing suspect).
	Significant bool `json:"significant"`
	// Suspect reports that the arms' exposure counts do not fit the site's
	// holdout share (see Guard): deltas may have been forged into one arm.
	Suspect bool `json:"suspect,omitempty"`
}

// MaxSplitZ is how far (in standard deviations) the holdout arm's share of
// the exposures may stray from the site's holdout share before Guard calls
// the comparison suspect. Exposures are counted once per visitor session
// (aggregate.ArmTotals.Deltas), not once per delta, so within a visit the
// split is binomial; a returning visitor's sessions all fall in the
// device's arm, which still spreads it somewhat: hence 4, not 3.
const MaxSplitZ = 4

// SplitZ is the z-score of the holdout arm's share of the exposures of
// treatment or holdout, against the share h devices are drawn with.
func SplitZ(treatmentDeltas, holdoutDeltas uint64, h float64) float64 {
	n := float64(treatmentDeltas + holdoutDeltas)
	if n == 0 || !(h > 0 && h < 1) {
		return 0
	}
	return (float64(holdoutDeltas) - n*h) / math.Sqrt(n*h*(1-h))
}

// Guard marks the uplift suspect, and not significant, when the arms'
// exposure counts do not fit the holdout share h (|SplitZ| > MaxSplitZ). The
// holdout arm is small, so an attacker forging deltas into it moves its
// rates far with few deltas; to stay unnoticed he must forge about 1/h
// treatment deltas for each holdout one, which dilutes his effect.
func (u *Uplift) Guard(a *aggregate.Arms, h float64) {
	if z := SplitZ(a[wire.ArmTreatment].Deltas, a[wire.ArmHoldout].Deltas, h); math.Abs(z) > MaxSplitZ {
		u.Suspect, u.Significant = true, false
	}
}

// Compare returns the uplift of one rate (successes per trial) of the
// treatment arm over the holdout, with a 95% Wald interval for the
// difference of two proportions. ok is false when an arm has no trials.
//
// # Notes
//
// The interval treats every trial (an impression) as independent; a
// visitor's impressions are correlated, so it is somewhat too narrow.
// Devices send counts, never visitor identities, so a cluster-robust
// interval is not available to the server.
func Compare(tSucc, tTrials, hSucc, hTrials uint64) (u Uplift, ok bool) {
	if tTrials == 0 || hTrials == 0 {
		return u, false
	}
	pt, ph := Rate(tSucc, tTrials), Rate(hSucc, hTrials)
	u = Uplift{Treatment: pt, Holdout: ph, Absolute: pt - ph}
	if ph > 0 {
		r := u.Absolute / ph
		u.Relative = &r
	}
	se := math.Sqrt(pt*(1-pt)/float64(tTrials) + ph*(1-ph)/float64(hTrials))
	u.CI95 = [2]float64{u.Absolute - Z95*se, u.Absolute + Z95*se}
	u.Significant = u.CI95[0] > 0 || u.CI95[1] < 0
	return u, true
}
