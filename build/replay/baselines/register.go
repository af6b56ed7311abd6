package baselines

import (
	"fmt"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
)

// The names the baselines are registered under with package replay, in
// the order reports list them.
const (
	NamePOP         = "pop"
	NameSPOP        = "spop"
	NameSegment     = "segment"
	NameAR          = "ar"
	NameSR          = "sr"
	NameVSKNN       = "vsknn"
	NameVSKNNWindow = "vsknn-window"
)

func init() {
	replay.Register(NamePOP, func(replay.Config) (eval.Method, error) { return NewPOP(), nil })
	replay.Register(NameSPOP, func(replay.Config) (eval.Method, error) { return NewSPOP(), nil })
	replay.Register(NameSegment, func(c replay.Config) (eval.Method, error) {
		return NewSegment(c.Categories, c.HasClock, c.ClockOffset), nil
	})
	replay.Register(NameAR, func(replay.Config) (eval.Method, error) { return NewAR(), nil })
	replay.Register(NameSR, func(replay.Config) (eval.Method, error) { return NewSR(), nil })
	// V-SKNN with the YOOCHOOSE 1/64 configuration, the setting of the
	// published figures the datasets' README quotes; and, for comparison,
	// with the configuration of session-rec's sliding-window runs.
	replay.Register(NameVSKNN, func(replay.Config) (eval.Method, error) { return NewVSKNN(VSKNN64), nil })
	replay.Register(NameVSKNNWindow, func(replay.Config) (eval.Method, error) {
		m := NewVSKNN(VSKNNWindow)
		m.Label = "V-SKNN-window"
		return m, nil
	})
}

// Annotate records the segmentation used.
func (m *Segment) Annotate(r *report.Result) {
	switch m.Kind() {
	case "category":
		r.Notes = "segment = category of the item just viewed; then global popularity"
	case "time-of-day":
		r.Notes = "segment = time-of-day band of the click (night 0-6, morning 6-12, afternoon 12-18, evening 18-24, local); then global popularity"
	default:
		r.Notes = "no categories and no clock: one segment (= POP)"
	}
}

// Annotate records the rule parameters.
func (m *SR) Annotate(r *report.Result) {
	r.Notes = fmt.Sprintf("steps %d, weighting %s, pruning %g", m.Steps, m.Weighting, m.Pruning)
}

// Annotate records the parameters.
func (m *VSKNN) Annotate(r *report.Result) {
	p := m.p
	r.Notes = fmt.Sprintf("k %d, sample_size %d, similarity %s, weighting %s, weighting_score %s, idf_weighting %g",
		p.K, p.SampleSize, p.Similarity, p.Weighting, p.WeightingScore, p.IDFWeighting)
}
