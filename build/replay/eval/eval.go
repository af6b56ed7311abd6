// Package eval measures next-click recommenders the way session-rec does
// (Ludewig et al. 2019, evaluation/evaluation.py, evaluate_sessions):
// every evaluation session is replayed click by click, and after each
// click the method's top-k list is checked against the click that really
// came next. It reports HR@k and MRR@k, catalogue coverage and a
// diversity measure (see Metrics).
//
//	split := eval.NewSplit(train, test)
//	if err := m.Fit(ctx, split.Train); err != nil { ... }
//	met, err := eval.Evaluate(ctx, m, split, eval.Options{Workers: 2})
//
// Evaluation clicks on items absent from the training data are removed
// before replay, then sessions left with fewer than two clicks, as
// session-rec's preprocessing does (test = test[np.in1d(test.ItemId,
// train.ItemId)], then sessions of length < 2 dropped); Split counts what
// was removed. No method can recommend an item it never saw, so keeping
// them would only add misses common to all methods.
//
// # Notes
//
// Evaluate replays sessions on up to Options.Workers goroutines, calling
// Method.Start once per session, possibly from several goroutines at
// once; each Session it gets is used by one goroutine only. Results do
// not depend on the number of workers or on scheduling: every session's
// figures are kept apart and summed in session order.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/tailorhq/tailor/build/replay/data"
)

// Method is a next-click recommender under evaluation: one of the
// baselines, or Tailor running as federated, local-only or LDP devices.
//
//	m.Fit(ctx, train)          // once, before any Start
//	s := m.Start()             // one per evaluation session (one visitor)
//	top, err := s.Next(item, at, 20)
//
// # Notes
//
// After Fit returns, Start must be safe to call from several goroutines at
// once; the Sessions it returns need not be goroutine-safe. A Session
// that also implements io.Closer is closed when its replay ends, so a
// method can return pooled resources (such as a wasm instance).
type Method interface {
	// Name labels the method in reports, e.g. "V-SKNN" or "tailor".
	Name() string
	// Fit learns from the training sessions, in time order. Central
	// baselines see all of them; Tailor modes replay them as devices.
	Fit(ctx context.Context, train []data.Session) error
	// Start begins one visitor's session with no clicks yet.
	Start() Session
}

// Session is one visitor's session during evaluation.
type Session interface {
	// Next tells the session that the visitor clicked item at Unix
	// millisecond at, and returns at most k items ranked for the next
	// click, best first, without duplicates. Returning fewer than k items
	// (or none) is allowed: those slots count as misses.
	//
	// Unlike session-rec, which passes the timestamp of the click being
	// predicted, at is the time of the click just made: nothing about the
	// future leaks into the prediction.
	Next(item string, at int64, k int) ([]string, error)
}

// Errors of the evaluator.
var (
	ErrDuplicate = errors.New("eval: recommendation list repeats an item")
	ErrNoTest    = errors.New("eval: no evaluation session left after filtering")
)

// Split is a training set and the evaluation sessions replayed against it.
type Split struct {
	Train []data.Session
	Test  []data.Session // filtered: only training items, at least 2 clicks

	// TrainItems is the set of item ids in Train: the catalogue coverage
	// is measured against.
	TrainItems map[string]struct{}

	// What NewSplit removed from the evaluation sessions.
	DroppedClicks, DroppedSessions int
}

// NewSplit filters the evaluation sessions as session-rec does: clicks on
// items absent from train are removed, then sessions shorter than two
// clicks. Neither input is modified.
func NewSplit(train, test []data.Session) *Split {
	s := &Split{Train: train, TrainItems: make(map[string]struct{})}
	for _, ses := range train {
		for _, c := range ses.Clicks {
			s.TrainItems[c.Item] = struct{}{}
		}
	}
	for _, ses := range test {
		kept := make([]data.Click, 0, len(ses.Clicks))
		for _, c := range ses.Clicks {
			if _, ok := s.TrainItems[c.Item]; ok {
				kept = append(kept, c)
			}
		}
		s.DroppedClicks += len(ses.Clicks) - len(kept)
		if len(kept) < 2 {
			s.DroppedSessions++
			s.DroppedClicks += len(kept)
			continue
		}
		s.Test = append(s.Test, data.Session{ID: ses.ID, Clicks: kept})
	}
	return s
}

// Limit keeps only the first n evaluation sessions (all when n <= 0).
func (s *Split) Limit(n int) {
	if n > 0 && n < len(s.Test) {
		s.Test = s.Test[:n]
	}
}

// Sample keeps n evaluation sessions spread evenly over s.Test (the
// sessions at i*len/n for i < n), in order; all when n <= 0 or n covers
// them. Unlike Limit it spans the whole evaluation period, so a quick run
// on a large split measures the same mix of days as the full one.
func (s *Split) Sample(n int) {
	if n <= 0 || n >= len(s.Test) {
		return
	}
	kept := make([]data.Session, n)
	for i := range kept {
		kept[i] = s.Test[i*len(s.Test)/n]
	}
	s.Test = kept
}

// Predictions is the number of predictions replaying s.Test makes: one
// per click that has a next click.
func (s *Split) Predictions() int {
	n := 0
	for _, ses := range s.Test {
		n += len(ses.Clicks) - 1
	}
	return n
}

// DefaultKs are the cut-offs reported unless Options.Ks says otherwise.
var DefaultKs = []int{5, 10, 20}

// ListLen is the length of the lists coverage and diversity are measured
// on (coverage@20, as in session-rec's configurations).
const ListLen = 20

// Options tunes Evaluate.
type Options struct {
	// Ks are the cut-offs of HR@k and MRR@k; DefaultKs when empty.
	Ks []int
	// Workers bounds the sessions replayed at once; at least 1.
	Workers int
	// Categories maps item id to category; when not nil, diversity is the
	// intra-list category diversity (see Metrics).
	Categories map[string]string
	// Progress, when set, is called after each session with the number of
	// predictions done and the total. Calls never overlap and done never
	// decreases, but they come from the replaying goroutines.
	Progress func(done, total int)
}

// Diversity kinds, naming what Metrics.Diversity measured.
const (
	// DiversityCategoryILD is the mean intra-list diversity of the top-20
	// lists by category: for each list of at least two items, the share
	// of its item pairs whose categories differ (an item without a
	// category differs from every other), averaged over lists.
	DiversityCategoryILD = "category-ild@20"
	// DiversityDistinct is, without categories, the share of distinct
	// items among all recommended slots of all top-20 lists: 1 when no
	// item is ever recommended twice, 20/slots when every list is the
	// same.
	DiversityDistinct = "distinct-share@20"
)

// Metrics are the figures of one evaluation.
type Metrics struct {
	Ks       []int
	HR, MRR  []float64 // parallel to Ks
	HRCI     []float64 // 95% confidence half-width of HR, parallel to Ks
	MRRCI    []float64 // 95% confidence half-width of MRR, parallel to Ks
	Coverage float64   // share of training items in at least one top-20 list
	// Diversity is measured as DiversityKind says.
	Diversity     float64
	DiversityKind string

	Sessions, Predictions int
	Duration              time.Duration
}

// At returns HR@k and MRR@k; ok is false when k was not measured.
func (m *Metrics) At(k int) (hr, mrr float64, ok bool) {
	i := slices.Index(m.Ks, k)
	if i < 0 {
		return 0, 0, false
	}
	return m.HR[i], m.MRR[i], true
}

// sessionFigures are one session's contributions, summed in session order.
type sessionFigures struct {
	n     int       // predictions
	hits  []int     // per cut-off
	rr    []float64 // per cut-off: sum of 1/rank
	ild   float64   // sum over lists of intra-list diversity
	ildN  int       // lists with at least two items
	slots int       // items recommended in top-ListLen lists
}

// Evaluate replays s.Test against m, which must already be fitted on
// s.Train. Session.Next is asked for max(largest cut-off, ListLen) items.
// It stops at the first error a Session returns, or when ctx is done.
func Evaluate(ctx context.Context, m Method, s *Split, opt Options) (*Metrics, error) {
	start := time.Now()
	ks := opt.Ks
	if len(ks) == 0 {
		ks = DefaultKs
	}
	ks = slices.Clone(ks)
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if ks[0] < 1 {
		return nil, fmt.Errorf("eval: cut-off %d < 1", ks[0])
	}
	if len(s.Test) == 0 {
		return nil, ErrNoTest
	}
	listLen := max(ks[len(ks)-1], ListLen)
	workers := min(max(opt.Workers, 1), len(s.Test))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	figs := make([]sessionFigures, len(s.Test))
	seen := make([]map[string]struct{}, workers) // per worker: items in top-ListLen lists
	total := s.Predictions()
	var (
		mu       sync.Mutex // guards done, firstErr and Progress calls
		done     int
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	for w := range workers {
		seen[w] = make(map[string]struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := replayer{m: m, ks: ks, listLen: listLen, cats: opt.Categories, seen: seen[w]}
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(s.Test) || ctx.Err() != nil {
					return
				}
				f, err := r.replay(ctx, s.Test[i])
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("eval: %s, session %s: %w", m.Name(), s.Test[i].ID, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				figs[i] = f
				done += f.n
				if opt.Progress != nil {
					opt.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	met := &Metrics{Ks: ks, Sessions: len(s.Test)}
	union := make(map[string]struct{})
	for _, m := range seen {
		for it := range m {
			union[it] = struct{}{}
		}
	}
	covered := 0
	for it := range union {
		if _, ok := s.TrainItems[it]; ok {
			covered++
		}
	}
	if len(s.TrainItems) > 0 {
		met.Coverage = float64(covered) / float64(len(s.TrainItems))
	}
	var ild float64
	var ildN, slots int
	for _, f := range figs {
		met.Predictions += f.n
		ild += f.ild
		ildN += f.ildN
		slots += f.slots
	}
	if opt.Categories != nil {
		met.DiversityKind = DiversityCategoryILD
		if ildN > 0 {
			met.Diversity = ild / float64(ildN)
		}
	} else {
		met.DiversityKind = DiversityDistinct
		if slots > 0 {
			met.Diversity = float64(len(union)) / float64(slots)
		}
	}
	for j := range ks {
		hits := make([]float64, len(figs))
		rr := make([]float64, len(figs))
		ns := make([]float64, len(figs))
		for i, f := range figs {
			hits[i], rr[i], ns[i] = float64(f.hits[j]), f.rr[j], float64(f.n)
		}
		hr, hrCI := ratioCI(hits, ns)
		mrr, mrrCI := ratioCI(rr, ns)
		met.HR = append(met.HR, hr)
		met.MRR = append(met.MRR, mrr)
		met.HRCI = append(met.HRCI, hrCI)
		met.MRRCI = append(met.MRRCI, mrrCI)
	}
	met.Duration = time.Since(start)
	return met, nil
}

// ratioCI is the ratio Σy/Σn and the half-width of its 95% confidence
// interval, with sessions as clusters (predictions within one session are
// not independent): the linearised variance of a ratio estimator,
// S/(S-1) Σ (y_s - r n_s)² / (Σn)².
func ratioCI(y, n []float64) (r, half float64) {
	var sy, sn float64
	for i := range y {
		sy += y[i]
		sn += n[i]
	}
	if sn == 0 {
		return 0, 0
	}
	r = sy / sn
	if len(y) < 2 {
		return r, 0
	}
	var ss float64
	for i := range y {
		d := y[i] - r*n[i]
		ss += d * d
	}
	s := float64(len(y))
	return r, 1.96 * math.Sqrt(s/(s-1)*ss) / sn
}

// replayer replays sessions for one worker.
type replayer struct {
	m       Method
	ks      []int
	listLen int
	cats    map[string]string
	seen    map[string]struct{}
}

func (r *replayer) replay(ctx context.Context, ses data.Session) (f sessionFigures, err error) {
	f.hits = make([]int, len(r.ks))
	f.rr = make([]float64, len(r.ks))
	s := r.m.Start()
	if c, ok := s.(io.Closer); ok {
		defer func() {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close: %w", cerr)
			}
		}()
	}
	for i := 0; i+1 < len(ses.Clicks); i++ {
		if err := ctx.Err(); err != nil {
			return f, err
		}
		click := ses.Clicks[i]
		top, err := s.Next(click.Item, click.At, r.listLen)
		if err != nil {
			return f, err
		}
		if len(top) > r.listLen {
			top = top[:r.listLen]
		}
		if j := duplicate(top); j >= 0 {
			return f, fmt.Errorf("%w: %q at rank %d", ErrDuplicate, top[j], j+1)
		}
		f.n++
		target := ses.Clicks[i+1].Item
		if rank := slices.Index(top, target) + 1; rank > 0 {
			for j, k := range r.ks {
				if rank <= k {
					f.hits[j]++
					f.rr[j] += 1 / float64(rank)
				}
			}
		}
		cov := top[:min(len(top), ListLen)]
		for _, it := range cov {
			r.seen[it] = struct{}{}
		}
		f.slots += len(cov)
		if r.cats != nil && len(cov) >= 2 {
			f.ild += intraListDiversity(cov, r.cats)
			f.ildN++
		}
	}
	return f, nil
}

// duplicate returns the index of the first repeated item, or -1.
func duplicate(top []string) int {
	for i := 1; i < len(top); i++ {
		if slices.Contains(top[:i], top[i]) {
			return i
		}
	}
	return -1
}

// intraListDiversity is the share of item pairs of list whose categories
// differ; an item without a category differs from all others.
func intraListDiversity(list []string, cats map[string]string) float64 {
	pairs, differ := 0, 0
	for i := range list {
		ci, oki := cats[list[i]]
		for j := i + 1; j < len(list); j++ {
			pairs++
			cj, okj := cats[list[j]]
			if !oki || !okj || ci != cj {
				differ++
			}
		}
	}
	return float64(differ) / float64(pairs)
}
