// Package report turns replay results into the files issue 5 asks for:
// OUT/results.md (a Markdown table), OUT/results.json (one object per
// method and mode) and OUT/report.html (the table and inline SVG plots,
// no external assets).
//
//	err := report.Write("replay-out", report.Meta{Title: "yoochoose-100k"}, results)
//
// Result is filled by package replay for every method, the Tailor modes
// included: they add Mode, Epsilon, BytesSynced and ModelBytes.
//
// # Notes
//
// The functions are pure apart from Write, which replaces each file
// atomically (temporary file, fsync, rename).
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Modes of a Result. Baselines are central; Tailor's modes are the others.
const (
	ModeCentral   = "central"   // the method sees all raw training data
	ModeFederated = "federated" // devices sync deltas to a server
	ModeLocal     = "local"     // devices never sync (weights version 0)
	ModeLDP       = "ldp"       // federated with noise added on the device
	// ModeCentralDP is federated with central differential privacy: the
	// server adds noise to the model it publishes (Epsilon is its budget).
	ModeCentralDP = "federated+central-dp"
)

// Result holds the figures of one method in one mode.
type Result struct {
	Method string // e.g. "V-SKNN", "tailor"
	Mode   string // one of the Mode constants

	// Default marks the row of the mode Tailor ships by default (the
	// privacy mode and server parameters a site gets without changing
	// anything): the report's headline. At most one row carries it.
	Default bool

	// Epsilon is the differential privacy budget: per report of an LDP
	// run, per window of published versions of a central DP run.
	Epsilon *float64

	Ks       []int     // cut-offs, ascending
	HR, MRR  []float64 // parallel to Ks
	HRCI     []float64 // 95% half-widths, parallel to Ks (sessions as clusters)
	MRRCI    []float64
	Coverage float64 // share of training items in any top-20 list
	// Diversity is measured as DiversityKind says (eval.DiversityCategoryILD
	// or eval.DiversityDistinct).
	Diversity     float64
	DiversityKind string

	// BytesSynced is the mean number of bytes a device sent and received
	// when syncing; ModelBytes the mean size of the model shipped to a
	// device. Nil for methods that have none (the central baselines).
	BytesSynced *float64
	ModelBytes  *float64
	// ModelFirstPage and ModelLaterPage split ModelBytes by page view: what
	// a device downloads on its first page view, and on each later one on
	// average (a device fetches only the shards of the items it meets).
	// Nil when the method does not count them.
	ModelFirstPage, ModelLaterPage *float64

	Sessions    int // evaluation sessions
	Predictions int // clicks predicted
	FitTime     time.Duration
	EvalTime    time.Duration

	// Notes says anything a reader of the table needs (a parameter preset,
	// a fallback taken).
	Notes string
}

// RunTime is the whole time of the method: fitting plus evaluation.
func (r *Result) RunTime() time.Duration { return r.FitTime + r.EvalTime }

// At returns HR@k and MRR@k; ok is false when k was not measured.
func (r *Result) At(k int) (hr, mrr float64, ok bool) {
	i := slices.Index(r.Ks, k)
	if i < 0 || i >= len(r.HR) || i >= len(r.MRR) {
		return 0, 0, false
	}
	return r.HR[i], r.MRR[i], true
}

// Float returns a pointer to v, for the optional fields.
func Float(v float64) *float64 { return &v }

// JSON keys besides "HR@k", "MRR@k", "HR@k_ci95" and "MRR@k_ci95".
const (
	keyMethod      = "method"
	keyMode        = "mode"
	keyDefault     = "default"
	keyEpsilon     = "epsilon"
	keyCoverage    = "coverage@20"
	keyDiversity   = "diversity"
	keyDivKind     = "diversity_kind"
	keyBytesSynced = "bytes_synced_per_device"
	keyModelBytes  = "model_bytes_per_device"
	keyModelFirst  = "model_bytes_first_page"
	keyModelLater  = "model_bytes_later_page"
	keySessions    = "sessions"
	keyPredictions = "predictions"
	keyFit         = "fit_s"
	keyEval        = "eval_s"
	keyRun         = "run_time_s"
	keyNotes       = "notes"
)

// MarshalJSON writes one flat object in a fixed key order:
// {"method":..., "mode":..., "default": true, "epsilon":..., "HR@5":...,
// ..., "MRR@20":..., "HR@20_ci95":..., "coverage@20":..., ...}. Optional
// fields are left out when nil, empty or false.
func (r Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	n := 0
	put := func(key string, v any) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		switch x := v.(type) {
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		default:
			j, _ := json.Marshal(x)
			b.Write(j)
		}
	}
	b.WriteByte('{')
	put(keyMethod, r.Method)
	put(keyMode, r.Mode)
	if r.Default {
		put(keyDefault, true)
	}
	if r.Epsilon != nil {
		put(keyEpsilon, *r.Epsilon)
	}
	for i, k := range r.Ks {
		put(fmt.Sprintf("HR@%d", k), at(r.HR, i))
	}
	for i, k := range r.Ks {
		put(fmt.Sprintf("MRR@%d", k), at(r.MRR, i))
	}
	for i, k := range r.Ks {
		put(fmt.Sprintf("HR@%d_ci95", k), at(r.HRCI, i))
	}
	for i, k := range r.Ks {
		put(fmt.Sprintf("MRR@%d_ci95", k), at(r.MRRCI, i))
	}
	put(keyCoverage, r.Coverage)
	put(keyDiversity, r.Diversity)
	put(keyDivKind, r.DiversityKind)
	if r.BytesSynced != nil {
		put(keyBytesSynced, *r.BytesSynced)
	}
	if r.ModelBytes != nil {
		put(keyModelBytes, *r.ModelBytes)
	}
	if r.ModelFirstPage != nil {
		put(keyModelFirst, *r.ModelFirstPage)
	}
	if r.ModelLaterPage != nil {
		put(keyModelLater, *r.ModelLaterPage)
	}
	put(keySessions, r.Sessions)
	put(keyPredictions, r.Predictions)
	put(keyFit, r.FitTime.Seconds())
	put(keyEval, r.EvalTime.Seconds())
	put(keyRun, r.RunTime().Seconds())
	if r.Notes != "" {
		put(keyNotes, r.Notes)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// UnmarshalJSON reads what MarshalJSON writes, so a results.json can be
// merged with another run's or rendered again. Unknown keys are ignored.
func (r *Result) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = Result{}
	str := func(key string, dst *string) error {
		if v, ok := raw[key]; ok {
			return json.Unmarshal(v, dst)
		}
		return nil
	}
	num := func(key string) (float64, bool, error) {
		v, ok := raw[key]
		if !ok {
			return 0, false, nil
		}
		var f float64
		err := json.Unmarshal(v, &f)
		return f, true, err
	}
	for _, s := range []struct {
		key string
		dst *string
	}{{keyMethod, &r.Method}, {keyMode, &r.Mode}, {keyDivKind, &r.DiversityKind}, {keyNotes, &r.Notes}} {
		if err := str(s.key, s.dst); err != nil {
			return fmt.Errorf("report: %s: %w", s.key, err)
		}
	}
	// Cut-offs are the k of every "HR@k" key.
	for key := range raw {
		if rest, ok := strings.CutPrefix(key, "HR@"); ok && !strings.Contains(rest, "_") {
			k, err := strconv.Atoi(rest)
			if err != nil || k < 1 {
				return fmt.Errorf("report: bad key %q", key)
			}
			r.Ks = append(r.Ks, k)
		}
	}
	slices.Sort(r.Ks)
	for _, k := range r.Ks {
		for _, f := range []struct {
			key string
			dst *[]float64
		}{
			{fmt.Sprintf("HR@%d", k), &r.HR},
			{fmt.Sprintf("MRR@%d", k), &r.MRR},
			{fmt.Sprintf("HR@%d_ci95", k), &r.HRCI},
			{fmt.Sprintf("MRR@%d_ci95", k), &r.MRRCI},
		} {
			v, _, err := num(f.key)
			if err != nil {
				return fmt.Errorf("report: %s: %w", f.key, err)
			}
			*f.dst = append(*f.dst, v)
		}
	}
	var err error
	get := func(key string) float64 {
		v, _, e := num(key)
		if e != nil && err == nil {
			err = fmt.Errorf("report: %s: %w", key, e)
		}
		return v
	}
	opt := func(key string) *float64 {
		v, ok, e := num(key)
		if e != nil && err == nil {
			err = fmt.Errorf("report: %s: %w", key, e)
		}
		if !ok {
			return nil
		}
		return &v
	}
	if v, ok := raw[keyDefault]; ok {
		if e := json.Unmarshal(v, &r.Default); e != nil {
			return fmt.Errorf("report: %s: %w", keyDefault, e)
		}
	}
	r.Epsilon = opt(keyEpsilon)
	r.BytesSynced = opt(keyBytesSynced)
	r.ModelBytes = opt(keyModelBytes)
	r.ModelFirstPage = opt(keyModelFirst)
	r.ModelLaterPage = opt(keyModelLater)
	r.Coverage = get(keyCoverage)
	r.Diversity = get(keyDiversity)
	r.Sessions = int(get(keySessions))
	r.Predictions = int(get(keyPredictions))
	r.FitTime = fromSeconds(get(keyFit))
	r.EvalTime = fromSeconds(get(keyEval))
	return err
}

func fromSeconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }
