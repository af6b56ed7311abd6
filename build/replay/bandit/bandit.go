// Package bandit estimates, from logged bandit feedback, the click rate
// Tailor's contextual choice would have had: the inverse-propensity (IPS)
// replay estimator on the Open Bandit Dataset (Saito et al., arXiv
// 2008.07146), whose "men" sample was logged by a uniform random policy.
//
// A policy picks an item for each logged impression (its context and
// position); a row counts when the pick equals the logged item, weighted
// by 1/propensity:
//
//	V = (1/n) Σ 1[π(x_i) = a_i] · click_i / p_i
//
// with a 95% confidence interval from Wilson's score interval on the click
// rate among matched rows, scaled as V is: it stays sensible with the few
// clicks a small log has (even none). The logged policy's own click rate
// is the plain mean of clicks, with Wilson's interval.
package bandit

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Row is one logged impression.
type Row struct {
	Time       string
	Item       int
	Position   int // 1-3
	Click      bool
	Propensity float64
	User       []string  // hashed user features
	Affinity   []float64 // the user's affinity to each item, by item id
}

// ErrFormat reports a file that is not Open Bandit Dataset data.
var ErrFormat = errors.New("bandit: not an Open Bandit Dataset file")

// Read reads a logged-feedback file (men.csv, all.csv ...).
func Read(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range []string{"timestamp", "item_id", "position", "click", "propensity_score"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: %w: no %s column", path, ErrFormat, need)
		}
	}
	var users, affs []int
	for i, h := range head {
		switch {
		case strings.HasPrefix(h, "user_feature_"):
			users = append(users, i)
		case strings.HasPrefix(h, "user-item_affinity_"):
			affs = append(affs, i)
		}
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		row := Row{Time: rec[col["timestamp"]], Click: rec[col["click"]] == "1"}
		var errs []error
		row.Item, err = strconv.Atoi(rec[col["item_id"]])
		errs = append(errs, err)
		row.Position, err = strconv.Atoi(rec[col["position"]])
		errs = append(errs, err)
		row.Propensity, err = strconv.ParseFloat(rec[col["propensity_score"]], 64)
		errs = append(errs, err)
		for _, i := range users {
			row.User = append(row.User, rec[i])
		}
		for _, i := range affs {
			v, err := strconv.ParseFloat(rec[i], 64)
			errs = append(errs, err)
			row.Affinity = append(row.Affinity, v)
		}
		if err := errors.Join(errs...); err != nil || row.Propensity <= 0 || row.Position < 1 {
			return nil, fmt.Errorf("%s:%d: %w: %v", path, line, ErrFormat, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Policy picks an item for a logged impression.
type Policy func(r *Row) (int, error)

// Estimate is an IPS estimate of a policy's click rate.
type Estimate struct {
	Rows      int     // impressions replayed
	Matched   int     // where the policy picked the logged item
	Clicks    int     // clicks among those
	CTR       float64 // the IPS estimate
	Low, High float64 // its 95% confidence interval
}

// Add pools another estimate of the same policy (e.g. a cross-fitting
// fold) into e, for equal propensities.
func (e *Estimate) Add(o Estimate, propensity float64) {
	e.Rows += o.Rows
	e.Matched += o.Matched
	e.Clicks += o.Clicks
	e.finish(propensity)
}

// finish sets CTR and its interval from the counts: V = clicks/(n·p) when
// every propensity is p.
func (e *Estimate) finish(p float64) {
	if e.Rows == 0 || e.Matched == 0 {
		return
	}
	scale := float64(e.Matched) / (float64(e.Rows) * p)
	lo, hi := wilson(e.Clicks, e.Matched)
	e.CTR = float64(e.Clicks) / float64(e.Matched) * scale
	e.Low, e.High = lo*scale, hi*scale
}

// wilson returns Wilson's 95% score interval for k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	const z = 1.96
	p, fn := float64(k)/float64(n), float64(n)
	d := 1 + z*z/fn
	c := (p + z*z/(2*fn)) / d
	h := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / d
	return max(0, c-h), min(1, c+h)
}

// IPS replays rows against a policy. The log must come from a policy with
// one propensity for every row (a uniform random one, as in the Open
// Bandit Dataset's random logs); others are refused.
func IPS(rows []Row, pick Policy) (Estimate, error) {
	var e Estimate
	for i := range rows {
		r := &rows[i]
		if r.Propensity != rows[0].Propensity {
			return e, fmt.Errorf("%w: propensities differ (row %d): not a uniform random log", ErrFormat, i)
		}
		a, err := pick(r)
		if err != nil {
			return e, err
		}
		e.Rows++
		if a == r.Item {
			e.Matched++
			if r.Click {
				e.Clicks++
			}
		}
	}
	if len(rows) > 0 {
		e.finish(rows[0].Propensity)
	}
	return e, nil
}

// Logged is the logging policy's own click rate, with its interval.
func Logged(rows []Row) Estimate {
	e := Estimate{Rows: len(rows), Matched: len(rows)}
	for _, r := range rows {
		if r.Click {
			e.Clicks++
		}
	}
	e.finish(1)
	return e
}
