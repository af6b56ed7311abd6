// Package replaytest holds what the replay's regression tests share (those
// of build/replay's baselines and of build/replay/tailor's modes): reading
// a public dataset's tuning split, and replaying a split into results by
// name, logged.
package replaytest

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/data/datatest"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
)

// Split reads the tuning split of dataset (a directory under
// datatest.Dir: train_tr.txt to train on, train_valid.txt to replay). It
// skips the test when the files are absent, as they are on a clean clone,
// and fails it when they do not read.
func Split(tb testing.TB, dataset string) (train, valid *data.Dataset) {
	tb.Helper()
	dir := datatest.Dir(tb)
	read := func(name string) *data.Dataset {
		tb.Helper()
		ds, err := data.Read(filepath.Join(dir, dataset, name))
		if errors.Is(err, fs.ErrNotExist) {
			tb.Skipf("skipping: %v (set TAILOR_DATASETS)", err)
		}
		if err != nil {
			tb.Fatal(err)
		}
		return ds
	}
	return read("train_tr.txt"), read("train_valid.txt")
}

// Results replays split with opts and returns the results by name: the
// method, followed by the mode for one that is not central ("Tailor
// federated"). It logs each one's figures.
func Results(tb testing.TB, split *eval.Split, opts replay.Options) map[string]report.Result {
	tb.Helper()
	results, err := replay.Run(context.Background(), split, opts)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]report.Result)
	for _, r := range results {
		name := r.Method
		if r.Mode != report.ModeCentral {
			name += " " + r.Mode
		}
		hr, mrr, _ := r.At(20)
		tb.Logf("%-28s HR@20 %.4f MRR@20 %.4f coverage %.4f diversity %.4f (%d predictions)",
			name, hr, mrr, r.Coverage, r.Diversity, r.Predictions)
		out[name] = r
	}
	return out
}

// At20 returns HR@20 and MRR@20 of the result named name, failing the
// test if there is none.
func At20(tb testing.TB, rs map[string]report.Result, name string) (hr, mrr float64) {
	tb.Helper()
	r, ok := rs[name]
	if !ok {
		tb.Fatalf("no result for %s", name)
	}
	hr, mrr, ok = r.At(20)
	if !ok {
		tb.Fatalf("%s: no HR@20", name)
	}
	return hr, mrr
}
