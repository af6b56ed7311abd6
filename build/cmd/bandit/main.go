// Command bandit estimates Tailor's click rate on logged bandit feedback
// (the Open Bandit Dataset) with the inverse-propensity replay estimator,
// against the random policy that logged it, and writes the table to
// OUT/bandit.md and OUT/bandit.json.
//
//	go run ./build/cmd/bandit -log ../shared/datasets/open-bandit-men/men.csv \
//		-items ../shared/datasets/open-bandit-men/item_context.csv -out replay-out
//
// Tailor learns from one half of the log through a real server (each click
// a device) and is replayed on the other, then the halves swap; see package
// build/replay/tailor. With ~46 clicks in the "men" sample this is a smoke
// test: read the confidence intervals.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/tailorhq/tailor/build/replay/bandit"
	"github.com/tailorhq/tailor/build/replay/tailor"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bandit:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bandit", flag.ContinueOnError)
	logPath := fs.String("log", "", "logged bandit feedback `file` (Open Bandit Dataset CSV, e.g. men.csv); required")
	items := fs.String("items", "", "the item features `file` (item_context.csv); required")
	out := fs.String("out", "replay-out", "output `dir` for bandit.md and bandit.json")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "devices run at once while learning")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *logPath == "" || *items == "" {
		return fmt.Errorf("-log and -items are required")
	}
	res, err := tailor.Bandit(ctx, *logPath, *items, *workers)
	if err != nil {
		return err
	}
	row := func(name string, e bandit.Estimate) string {
		return fmt.Sprintf("| %s | %.4f | [%.4f, %.4f] | %d | %d | %d |\n", name, e.CTR, e.Low, e.High, e.Rows, e.Matched, e.Clicks)
	}
	md := fmt.Sprintf("Open Bandit Dataset (%s), %d impressions, two-fold cross-fitting (learn on one half, replay the other, swap).\n\n",
		filepath.Base(*logPath), res.Logged.Rows) +
		"| policy | click rate (IPS) | 95% interval | impressions | matched | clicks |\n| --- | ---: | ---: | ---: | ---: | ---: |\n" +
		row("Tailor (federated, contextual)", res.Tailor) + row("logged (uniform random)", res.Logged)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "bandit.md"), []byte(md), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(map[string]any{"tailor": res.Tailor, "logged": res.Logged}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "bandit.json"), js, 0o644); err != nil {
		return err
	}
	_, err = io.WriteString(stdout, md)
	return err
}
