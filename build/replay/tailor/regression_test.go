package tailor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/baselines"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/build/replay/synth"
	_ "github.com/tailorhq/tailor/build/replay/tailor"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// run replays a split with the named methods through the real
// tailor.wasm (built by harnesstest) and returns HR@20 and MRR@20 by
// method and mode.
func run(t *testing.T, split *eval.Split, cats map[string]string, methods ...string) map[string][2]float64 {
	t.Helper()
	harnesstest.Wasm(t) // builds dist/tailor.wasm if stale
	t.Setenv("TAILOR_WASM", filepath.Join(harnesstest.Root(t), "dist", "tailor.wasm"))
	results, err := replay.Run(context.Background(), split, replay.Options{
		Methods: methods,
		Config:  replay.Config{Seed: 1, Categories: cats, Workers: 2},
		Eval:    eval.Options{Workers: 2, Categories: cats},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, r := range results {
		hr, mrr, _ := r.At(20)
		key := r.Method
		if r.Mode != report.ModeCentral {
			key += " " + r.Mode
		}
		out[key] = [2]float64{hr, mrr}
		t.Logf("%-28s HR@20 %.4f MRR@20 %.4f", key, hr, mrr)
	}
	return out
}

// TestTailorSynthetic replays generated sessions through the real
// tailor.wasm and a real in-process server: federated Tailor must match
// central V-SKNN and beat the segment rules. (The generated sessions never
// repeat an item, so local-only Tailor, which knows only the session, has
// nothing to go on here; the yoochoose slice checks it.) The data is
// generated, so the test always runs.
func TestTailorSynthetic(t *testing.T) {
	train, test, cats := synth.Generate(synth.Default(), 1)
	rs := run(t, eval.NewSplit(train, test), cats, baselines.NameSegment, baselines.NameVSKNN, "tailor-federated")
	fed, knn, seg := rs["Tailor federated"], rs["V-SKNN"], rs["segment"]
	// Observed with seed 1 (HR@20, MRR@20): federated .690 .264, V-SKNN
	// .689 .239, segment .621 .157.
	if fed[0] < knn[0]-0.01 || fed[1] < knn[1]-0.01 {
		t.Errorf("federated Tailor %v falls behind central V-SKNN %v", fed, knn)
	}
	if fed[0] <= seg[0] || fed[1] <= seg[1] {
		t.Errorf("federated Tailor %v does not beat the segment rules %v", fed, seg)
	}
}

// TestTailorYoochooseSlice trains on all of yoochoose-100k's train_tr as
// federated devices and replays the first 300 sessions of train_valid,
// against V-SKNN on the same slice; it skips when the data is absent.
func TestTailorYoochooseSlice(t *testing.T) {
	dir := os.Getenv("TAILOR_DATASETS")
	if dir == "" {
		dir = filepath.Join(harnesstest.Root(t), "..", "shared", "datasets")
	}
	tr, err1 := data.Read(filepath.Join(dir, "yoochoose-100k", "train_tr.txt"))
	ev, err2 := data.Read(filepath.Join(dir, "yoochoose-100k", "train_valid.txt"))
	if err1 != nil || err2 != nil {
		t.Skipf("skipping: yoochoose-100k not found under %s (set TAILOR_DATASETS)", dir)
	}
	split := eval.NewSplit(tr.Sessions, ev.Sessions)
	split.Limit(300)
	rs := run(t, split, nil, baselines.NamePOP, baselines.NameVSKNN, "tailor-federated", "tailor-local")
	fed, local, knn, pop := rs["Tailor federated"], rs["Tailor local"], rs["V-SKNN"], rs["POP"]
	// Observed (HR@20, MRR@20): federated .618 .329, V-SKNN .604 .336 on
	// this slice (on the whole split: .660 .369 against .646 .365).
	if fed[0] < knn[0]-0.02 || fed[1] < knn[1]-0.02 {
		t.Errorf("federated Tailor %v falls behind central V-SKNN %v on the slice", fed, knn)
	}
	if local[0] < 2*pop[0] {
		t.Errorf("local-only Tailor HR@20 %.3f does not clearly beat POP %.3f", local[0], pop[0])
	}
}
