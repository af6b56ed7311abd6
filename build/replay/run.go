package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
)

// Phase names the step a Progress report is about.
type Phase string

// The phases of one method's run.
const (
	PhaseFit  Phase = "fit"
	PhaseEval Phase = "eval"
)

// Progress is one progress report of Run.
type Progress struct {
	Method      string // registered name
	Index, Of   int    // method number, from 1, and how many
	Phase       Phase
	Done, Total int // fit: what the method reports; eval: predictions
}

// Options tunes Run.
type Options struct {
	// Methods are registered names, run in this order; all registered
	// methods when empty.
	Methods []string
	// Config is passed to every factory (FitProgress is set by Run).
	Config Config
	// Eval tunes the evaluation (cut-offs, workers, categories). Its
	// Progress is set by Run.
	Eval eval.Options
	// Progress, when not nil, receives fit and evaluation progress.
	// Calls never overlap.
	Progress func(Progress)
	// Done, when not nil, receives the results so far after each method,
	// so that a long run can write them as it goes. An error from it stops
	// the run.
	Done func([]report.Result) error
}

// Run fits every method on split.Train and evaluates it on split.Test, one
// method after the other, and returns their results in order. A method
// failing stops the run: a benchmark with a silently missing row would
// mislead.
func Run(ctx context.Context, split *eval.Split, opt Options) ([]report.Result, error) {
	names, err := Resolve(opt.Methods)
	if err != nil {
		return nil, err
	}
	var results []report.Result
	for i, name := range names {
		r, err := runOne(ctx, split, opt, name, i+1, len(names))
		if err != nil {
			return results, err
		}
		results = append(results, r)
		if opt.Done != nil {
			if err := opt.Done(results); err != nil {
				return results, err
			}
		}
	}
	return results, nil
}

func runOne(ctx context.Context, split *eval.Split, opt Options, name string, index, of int) (report.Result, error) {
	factory, _ := Lookup(name)
	progress := func(ph Phase) func(done, total int) {
		if opt.Progress == nil {
			return nil
		}
		return func(done, total int) {
			opt.Progress(Progress{Method: name, Index: index, Of: of, Phase: ph, Done: done, Total: total})
		}
	}
	cfg := opt.Config
	cfg.FitProgress = progress(PhaseFit)
	m, err := factory(cfg)
	if err != nil {
		return report.Result{}, fmt.Errorf("replay: %s: %w", name, err)
	}

	start := time.Now()
	if err := m.Fit(ctx, split.Train); err != nil {
		return report.Result{}, fmt.Errorf("replay: %s: fit: %w", name, err)
	}
	fitTime := time.Since(start)

	eo := opt.Eval
	eo.Progress = progress(PhaseEval)
	met, err := eval.Evaluate(ctx, m, split, eo)
	if err != nil {
		return report.Result{}, fmt.Errorf("replay: %s: %w", name, err)
	}
	r := report.Result{
		Method:        m.Name(),
		Mode:          report.ModeCentral,
		Ks:            met.Ks,
		HR:            met.HR,
		MRR:           met.MRR,
		HRCI:          met.HRCI,
		MRRCI:         met.MRRCI,
		Coverage:      met.Coverage,
		Diversity:     met.Diversity,
		DiversityKind: met.DiversityKind,
		Sessions:      met.Sessions,
		Predictions:   met.Predictions,
		FitTime:       fitTime,
		EvalTime:      met.Duration,
	}
	if a, ok := m.(Annotator); ok {
		a.Annotate(&r)
	}
	return r, nil
}
