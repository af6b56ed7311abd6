// Command replay measures next-click recommendation quality on public
// session clickstreams (issue 5): it trains every registered method on one
// file, replays another click by click (session-rec's protocol: after
// each click, rank and check the true next click) and writes
// OUT/results.md, OUT/results.json and OUT/report.html.
//
//	go run ./build/cmd/replay \
//		-train ../shared/datasets/yoochoose-100k/train_tr.txt \
//		-eval ../shared/datasets/yoochoose-100k/train_valid.txt
//
//	go run ./build/cmd/replay -split-days 7 \
//		-train ../shared/datasets/diginetica-sample/train-item-views.csv \
//		-categories ../shared/datasets/diginetica-sample/product-categories.csv
//
// Files are YOOCHOOSE (tab-separated `SessionId ItemId Time`) or
// DIGINETICA (`session_id;user_id;item_id;timeframe;eventdate`), told
// apart by their header; any file of either format can be trained on or
// evaluated. Without -eval, -split-days N evaluates the sessions that end
// in the last N days of -train and trains on the rest.
//
// Evaluation clicks on items absent from the training data are dropped,
// then evaluation sessions shorter than two clicks, as session-rec does.
//
// Methods come from the registry of package replay: the central
// baselines of package baselines, and whatever else is linked in. To add
// one, register it in an init function of a package under build/replay
// and add a blank import of that package below.
//
// Exit status: 0 on success, 2 for bad flags, 1 for any other error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"

	// Methods register themselves with package replay.
	_ "github.com/tailorhq/tailor/build/replay/baselines"
	"github.com/tailorhq/tailor/build/replay/tailor"
)

func main() {
	// The replay's heap is mostly the training devices' deltas and the
	// server's aggregate, live to the end: collecting at 4x the live heap
	// instead of 2x halves the collector's share of a run's CPU.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr))
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(*usageError)):
		fmt.Fprintln(os.Stderr, "replay:", err)
		fmt.Fprintln(os.Stderr, "run 'replay -help' for usage")
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

// usageError is a problem with the flags, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// flags are the parsed command line.
type flags struct {
	train, eval, categories, out string
	cpuprofile, deltas           string
	notes                        []string
	methods                      []string
	ks                           []int
	workers                      int
	seed                         int64
	limit, sample                int
	splitDays, minSupport        int
	progress                     bool
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.train, "train", "", "training clickstream `file` (YOOCHOOSE or DIGINETICA format, detected from the header); required")
	fs.StringVar(&f.eval, "eval", "", "evaluation clickstream `file`; when omitted, -split-days splits -train by time")
	fs.StringVar(&f.categories, "categories", "", "optional `file` of itemId;categoryId (DIGINETICA's product-categories.csv); enables the\ncategory segment rule and category diversity")
	fs.StringVar(&f.out, "out", "replay-out", "output `dir` for results.md, results.json and report.html")
	methods := fs.String("methods", "", "comma-separated registered `names` to run, in that order (default: all registered: "+strings.Join(replay.Names(), ",")+")")
	ks := fs.String("k", "5,10,20", "comma-separated cut-offs `k` for HR@k and MRR@k (coverage and diversity always use the top 20)")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "replay `N` evaluation sessions at once (also passed to methods, for fitting)")
	fs.Int64Var(&f.seed, "seed", 1, "`seed` for every random choice of the methods; equal seeds give equal figures")
	fs.IntVar(&f.limit, "limit", 0, "evaluate only the first `N` evaluation sessions (after filtering), for quick runs; 0 = all")
	fs.IntVar(&f.sample, "sample", 0, "evaluate `N` evaluation sessions (after filtering) spread evenly over the evaluation file, the same for\nevery method, for large splits; 0 = all")
	fs.IntVar(&f.splitDays, "split-days", 0, "without -eval: evaluate on the sessions whose last click is in the last `N` days of -train\n(whole dates for files without a clock, such as DIGINETICA) and train on the others")
	fs.IntVar(&f.minSupport, "min-item-support", 0, "before splitting, apply SR-GNN's filter to -train: drop single-click sessions, clicks on items\nclicked fewer than `N` times, then sessions left shorter than 2 (SR-GNN uses 5); 0 = off")
	fs.Func("note", "a line of `text` for the report's header, e.g. published figures to read the rows against (repeatable)", func(s string) error {
		f.notes = append(f.notes, s)
		return nil
	})
	fs.StringVar(&f.deltas, "deltas", "", "keep the federated training devices' deltas in `file`: read them from it when it holds those devices'\n(same sessions and seed), else run the devices and write it when absent; a sweep of -server variants then\nskips the devices")
	var variants []string
	fs.Func("server", "run also the federated mode with the server's parameters changed by `spec`, field=value[,...] with fields\n"+strings.Join(tailor.VariantFields(), ", ")+" (repeatable; each adds a method tailor-federated[spec])", func(s string) error {
		name, err := tailor.RegisterVariant(s)
		variants = append(variants, name)
		return err
	})
	fs.Func("ranking", "run also the shipped federated mode ranked by the Go device (package device, the code tailor.wasm compiles) at\nsdk/model's DefaultParams changed by `spec`, field=value[,...] with fields "+strings.Join(tailor.RankingFields(), ", ")+"\n(\"\" is the defaults; repeatable; each adds a method tailor-federated{spec}): tunes the device's ranking without\nrebuilding tailor.wasm, on the training devices' deltas of the shipped mode (its memo, or -deltas)", func(s string) error {
		name, err := tailor.RegisterRanking(s)
		variants = append(variants, name)
		return err
	})
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to `file` (go tool pprof reads it)")
	fs.BoolVar(&f.progress, "progress", false, "draw the progress bar on stderr even when stderr is not a terminal")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: replay -train FILE (-eval FILE | -split-days N) [flags]

Trains every registered recommender on -train, replays -eval click by click
(after each click, the top-k list is checked against the true next click, as in
session-rec's evaluate_sessions) and writes results.md, results.json and
report.html to -out. Evaluation clicks on items absent from the training data
are dropped, then evaluation sessions shorter than two clicks.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if f.train == "" {
		return nil, usagef("-train is required")
	}
	if f.eval == "" && f.splitDays <= 0 {
		return nil, usagef("give -eval FILE, or -split-days N to split -train by time")
	}
	if f.eval != "" && f.splitDays != 0 {
		return nil, usagef("-split-days applies only without -eval")
	}
	if f.workers < 1 {
		return nil, usagef("-workers %d: want at least 1", f.workers)
	}
	if f.limit < 0 || f.sample < 0 || f.splitDays < 0 || f.minSupport < 0 {
		return nil, usagef("-limit, -sample, -split-days and -min-item-support must not be negative")
	}
	if f.limit > 0 && f.sample > 0 {
		return nil, usagef("give -limit or -sample, not both")
	}
	for _, s := range splitList(*ks) {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			return nil, usagef("-k %q: want positive integers such as 5,10,20", *ks)
		}
		f.ks = append(f.ks, k)
	}
	if len(f.ks) == 0 {
		return nil, usagef("-k is empty")
	}
	f.methods = splitList(*methods)
	if len(f.methods) > 0 {
		for _, v := range variants {
			if !slices.Contains(f.methods, v) {
				f.methods = append(f.methods, v)
			}
		}
	}
	if _, err := replay.Resolve(f.methods); err != nil {
		return nil, &usageError{err.Error()}
	}
	return f, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	tailor.SetDeltaFile(f.deltas)
	started := time.Now()
	split, meta, ds, err := load(f)
	if err != nil {
		return err
	}
	var bar *progressBar
	if terminal || f.progress {
		bar = newProgressBar(stderr)
	}
	opt := replay.Options{
		Methods: f.methods,
		Config: replay.Config{
			Seed:        f.seed,
			Categories:  ds.Categories,
			HasClock:    ds.HasClock,
			ClockOffset: ds.ClockOffset,
			Workers:     f.workers,
		},
		Eval: eval.Options{Ks: f.ks, Workers: f.workers, Categories: ds.Categories},
	}
	if bar != nil {
		opt.Progress = bar.update
	}
	// Each method's row is written as soon as it is measured: a long run
	// stopped halfway keeps the rows it finished.
	methods := len(f.methods)
	if methods == 0 {
		methods = len(replay.Names())
	}
	opt.Done = func(rs []report.Result) error {
		if len(rs) == methods {
			return nil // the final report follows
		}
		partial := meta
		partial.Lines = append(slices.Clip(meta.Lines), fmt.Sprintf("Partial: %d of %d methods, after %.1f s.", len(rs), methods, time.Since(started).Seconds()))
		return report.Write(f.out, partial, rs)
	}
	results, err := replay.Run(ctx, split, opt)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	meta.Lines = append(meta.Lines, f.notes...)
	meta.Lines = append(meta.Lines, fmt.Sprintf("Total time %.1f s with %d workers, seed %d.", time.Since(started).Seconds(), f.workers, f.seed))
	if err := report.Write(f.out, meta, results); err != nil {
		return err
	}
	if err := report.WriteMarkdown(stdout, meta, results); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s, %s, %s\n", filepath.Join(f.out, report.MarkdownFile),
		filepath.Join(f.out, report.JSONFile), filepath.Join(f.out, report.HTMLFile))
	return nil
}

// load reads the files, splits when asked, filters the evaluation set and
// describes the protocol for the report.
func load(f *flags) (*eval.Split, report.Meta, *data.Dataset, error) {
	ds, err := data.Load(f.train, f.categories)
	if err != nil {
		return nil, report.Meta{}, nil, err
	}
	var meta report.Meta
	trainSessions := ds.Sessions
	if f.minSupport > 0 {
		trainSessions = data.FilterItemSupport(trainSessions, f.minSupport)
		c, i := data.Stats(trainSessions)
		meta.Lines = append(meta.Lines, fmt.Sprintf("SR-GNN filter on %s: items clicked at least %d times, sessions of at least 2 clicks: %d sessions, %d clicks, %d items left.",
			f.train, f.minSupport, len(trainSessions), c, i))
	}
	var testSessions []data.Session
	if f.eval != "" {
		ev, err := data.Read(f.eval)
		if err != nil {
			return nil, report.Meta{}, nil, err
		}
		if ev.Format != ds.Format {
			return nil, report.Meta{}, nil, fmt.Errorf("-train is %s but -eval is %s", ds.Format, ev.Format)
		}
		testSessions = ev.Sessions
		meta.Title = fmt.Sprintf("Replay: %s → %s", filepath.Base(f.train), filepath.Base(f.eval))
		meta.Lines = append(meta.Lines, fmt.Sprintf("Train: %s (%s).", f.train, describe(trainSessions)),
			fmt.Sprintf("Eval: %s (%s).", f.eval, describe(testSessions)))
	} else {
		var cutoff int64
		trainSessions, testSessions, cutoff = data.SplitLastDays(trainSessions, f.splitDays, !ds.HasClock)
		when := time.UnixMilli(cutoff).UTC().Format(time.DateTime)
		if !ds.HasClock {
			when = time.UnixMilli(cutoff).UTC().Format(time.DateOnly)
		}
		meta.Title = fmt.Sprintf("Replay: %s, last %d days evaluated", filepath.Base(f.train), f.splitDays)
		meta.Lines = append(meta.Lines,
			fmt.Sprintf("Split of %s by time: sessions whose last click is at or after %s (the last %d days) are evaluated, the others trained on.", f.train, when, f.splitDays),
			fmt.Sprintf("Train: %s. Eval before filtering: %s.", describe(trainSessions), describe(testSessions)))
	}
	if len(trainSessions) == 0 {
		return nil, report.Meta{}, nil, fmt.Errorf("no training sessions in %s", f.train)
	}
	split := eval.NewSplit(trainSessions, testSessions)
	all := len(split.Test)
	split.Limit(f.limit)
	split.Sample(f.sample)
	if len(split.Test) == 0 {
		return nil, report.Meta{}, nil, fmt.Errorf("no evaluation session left: %d sessions dropped because fewer than 2 of their clicks are on training items", split.DroppedSessions)
	}
	limited := ""
	switch {
	case len(split.Test) == all:
	case f.limit > 0:
		limited = fmt.Sprintf(", limited to the first %d of %d", f.limit, all)
	case f.sample > 0:
		limited = fmt.Sprintf(", a sample of %d of %d spread evenly over the file", f.sample, all)
	}
	meta.Lines = append(meta.Lines, fmt.Sprintf("Evaluated: %d sessions, %d predictions%s (dropped as in session-rec: %d clicks on items not in training, %d sessions left shorter than 2).",
		len(split.Test), split.Predictions(), limited, split.DroppedClicks, split.DroppedSessions))
	if ds.Categories != nil {
		meta.Lines = append(meta.Lines, fmt.Sprintf("Categories: %s (%d items).", f.categories, len(ds.Categories)))
	}
	if ds.Format == data.FormatYoochoose && !ds.HasClock {
		meta.Lines = append(meta.Lines, "Times are made up (SR-GNN's split keeps only the order of sessions and clicks): no time-of-day context.")
	}
	return split, meta, ds, nil
}

func describe(sessions []data.Session) string {
	c, i := data.Stats(sessions)
	return fmt.Sprintf("%d sessions, %d clicks, %d items", len(sessions), c, i)
}
