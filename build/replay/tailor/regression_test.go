package tailor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/baselines"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/replaytest"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/build/replay/synth"
	"github.com/tailorhq/tailor/build/replay/tailor"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// useWasm has the replay's devices run the current tailor.wasm: it builds
// dist/tailor.wasm if stale and names it in TAILOR_WASM for the test,
// unless TAILOR_WASM names a prebuilt one already.
func useWasm(t *testing.T) {
	t.Helper()
	harnesstest.Wasm(t)
	if os.Getenv("TAILOR_WASM") == "" {
		t.Setenv("TAILOR_WASM", filepath.Join(harnesstest.Root(t), "dist", "tailor.wasm"))
	}
}

// smallSplit is a synthetic split of the given numbers of training and
// test sessions, drawn from seed, and its items' categories: small
// enough for tests that replay it several times.
func smallSplit(trainSessions, testSessions int, seed uint64) (*eval.Split, map[string]string) {
	p := synth.Default()
	p.TrainSessions, p.TestSes = trainSessions, testSessions
	train, test, cats := synth.Generate(p, seed)
	return eval.NewSplit(train, test), cats
}

// options replay the named methods with the items' categories, every
// random choice drawn from seed, on as many workers for the training
// devices as for the evaluation.
func options(cats map[string]string, seed int64, workers int, methods ...string) replay.Options {
	return replay.Options{
		Methods: methods,
		Config:  replay.Config{Seed: seed, Categories: cats, Workers: workers},
		Eval:    eval.Options{Workers: workers, Categories: cats},
	}
}

// replaySplit replays a split with options(cats, seed, workers,
// methods...), failing the test on an error.
func replaySplit(t *testing.T, split *eval.Split, cats map[string]string, seed int64, workers int, methods ...string) []report.Result {
	t.Helper()
	rs, err := replay.Run(context.Background(), split, options(cats, seed, workers, methods...))
	if err != nil {
		t.Fatalf("replay on %d workers: %v", workers, err)
	}
	return rs
}

// run replays a split with the named methods through the real
// tailor.wasm (built by harnesstest) and returns HR@20 and MRR@20 by
// method and mode.
func run(t *testing.T, split *eval.Split, cats map[string]string, methods ...string) map[string][2]float64 {
	t.Helper()
	useWasm(t)
	rs := replaytest.Results(t, split, options(cats, 1, 2, methods...))
	out := map[string][2]float64{}
	for name := range rs {
		hr, mrr := replaytest.At20(t, rs, name)
		out[name] = [2]float64{hr, mrr}
	}
	return out
}

// TestTailorSynthetic replays generated sessions through the real
// tailor.wasm and a real in-process server. With nothing withheld by the
// server (k = 1, the reference no site is shipped with) the devices and
// the server must learn about what central V-SKNN learns from the raw
// sessions, less what a device keeps back so that its deltas share no
// item (about every other pair of a path: sdk/delta MaxSent); the shipped
// default (k from aggregate.DefaultParams, 4 sampled pairs per delta) must
// stay within its measured range and clearly above popularity. (The
// generated sessions never repeat an item, so local-only Tailor, which
// knows only the session, has nothing to go on here; the yoochoose slice
// checks it.) The data is generated, so the test always runs.
func TestTailorSynthetic(t *testing.T) {
	train, test, cats := synth.Generate(synth.Default(), 1)
	rs := run(t, eval.NewSplit(train, test), cats, baselines.NamePOP, baselines.NameVSKNN,
		tailor.NameFederated, tailor.NameFederatedK1)
	def, k1, knn, pop := rs["Tailor federated"], rs["Tailor (k=1, not shipped) federated"], rs["V-SKNN"], rs["POP"]
	if k1[0] < knn[0]-0.10 || k1[1] < knn[1]-0.03 {
		t.Errorf("Tailor at k=1 %v falls behind central V-SKNN %v", k1, knn)
	}
	// Observed with seed 1 (HR@20, MRR@20): default .517 .194, k=1 .663
	// .240, V-SKNN .689 .239, POP .233 .073 (with pairs, not blocks, of
	// items no other delta names, sdk/delta Block: default .487 .201, k=1
	// .623 .276; before deltas of a device shared no item: default .607
	// .271, k=1 .690 .315).
	if def[0] < 0.47 || def[1] < 0.18 || def[0] < 1.5*pop[0] {
		t.Errorf("default Tailor %v: want HR@20 >= 0.47, MRR@20 >= 0.18 and 1.5x POP %v", def, pop)
	}
}

// TestTailorYoochooseSlice trains on all of yoochoose-100k's train_tr as
// devices at the shipped defaults and replays the first 300 sessions of
// train_valid, against local-only Tailor, V-SKNN and POP on the same
// slice; it skips when the data is absent.
func TestTailorYoochooseSlice(t *testing.T) {
	tr, ev := replaytest.Split(t, "yoochoose-100k")
	split := eval.NewSplit(tr.Sessions, ev.Sessions)
	split.Limit(300)
	rs := run(t, split, nil, baselines.NamePOP, baselines.NameVSKNN, tailor.NameFederated, tailor.NameLocal)
	def, local, knn, pop := rs["Tailor federated"], rs["Tailor local"], rs["V-SKNN"], rs["POP"]
	// Observed (HR@20, MRR@20) on this slice: default .451 .297 (.435
	// .293 with pairs, not blocks, sdk/delta Block; .492 .308 before
	// deltas of a device shared no item), local .317 .270, V-SKNN .604
	// .337, POP .088 .017. (The default's gap to
	// V-SKNN is issue 9's open target; k = 1 is checked on the synthetic
	// data, where it costs less time.)
	if def[0] < 0.42 || def[1] < 0.28 || def[0] < local[0]+0.05 {
		t.Errorf("default Tailor %v: want HR@20 >= 0.42, MRR@20 >= 0.28 and 0.05 above local-only %v (V-SKNN %v)", def, local, knn)
	}
	if local[0] < 2*pop[0] {
		t.Errorf("local-only Tailor HR@20 %.3f does not clearly beat POP %.3f", local[0], pop[0])
	}
}
