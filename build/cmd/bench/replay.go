package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tailorhq/tailor/build/replay/report"
)

// replayMethods are the replay row's: Tailor's shipped default, and the
// central baseline the README compares it with.
const (
	replayTailor = "tailor-federated"
	replayAnchor = "vsknn"
)

// replayRows: the replay's run time (training on the whole training
// split, evaluating a sample of sessions) of Tailor's default mode against
// V-SKNN's on the same sessions.
func replayRows(ctx context.Context, c *config) []row {
	r := row{figure: fmt.Sprintf("replay, yoochoose-100k, %d sessions", c.sample), anchor: "V-SKNN", target: "—"}
	dir := filepath.Join(c.datasets, "yoochoose-100k")
	train, eval := filepath.Join(dir, "train_tr.txt"), filepath.Join(dir, "train_valid.txt")
	for _, f := range []string{train, eval} {
		if _, err := os.Stat(f); err != nil {
			return []row{r.fail(fmt.Sprintf("%s not found (-datasets)", f))}
		}
	}
	tmp, err := os.MkdirTemp("", "tailor-bench-replay-")
	if err != nil {
		return []row{r.fail(err.Error())}
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "replay")
	build := exec.CommandContext(ctx, c.goCmd, "build", "-o", bin, "./build/cmd/replay")
	build.Dir = c.root
	if out, err := build.CombinedOutput(); err != nil {
		return []row{r.fail(fmt.Sprintf("build replay: %v %s", err, out))}
	}
	out := filepath.Join(tmp, "out")
	cmd := exec.CommandContext(ctx, bin, "-train", train, "-eval", eval, "-out", out,
		"-methods", replayTailor+","+replayAnchor, "-sample", strconv.Itoa(c.sample))
	cmd.Dir = c.root
	if b, err := cmd.CombinedOutput(); err != nil {
		return []row{r.fail(fmt.Sprintf("replay: %v %s", err, tail(b, 500)))}
	}
	f, err := os.Open(filepath.Join(out, report.JSONFile))
	if err != nil {
		return []row{r.fail(err.Error())}
	}
	defer f.Close()
	results, err := report.ReadJSON(f)
	if err != nil {
		return []row{r.fail(err.Error())}
	}
	var tailor, anchor *report.Result
	for i := range results { // two rows: V-SKNN's and Tailor's
		if strings.EqualFold(results[i].Method, "V-SKNN") {
			anchor = &results[i]
		} else {
			tailor = &results[i]
		}
	}
	if tailor == nil || anchor == nil {
		return []row{r.fail("results.json lacks " + replayTailor + " or " + replayAnchor)}
	}
	t, a := tailor.RunTime().Seconds(), anchor.RunTime().Seconds()
	r = r.set(fmt.Sprintf("%.1f s", t), fmt.Sprintf("%.1f s", a), t/a)
	r.note = fmt.Sprintf("fit + evaluation, one run; HR@20 %.3f vs %.3f", hr20(tailor), hr20(anchor))
	return []row{r}
}

func hr20(r *report.Result) float64 {
	hr, _, _ := r.At(20)
	return hr
}
