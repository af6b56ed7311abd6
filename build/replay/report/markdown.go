package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailorhq/tailor/build/replay/eval"
)

// Meta describes the run a report covers.
type Meta struct {
	Title string   // e.g. "yoochoose-100k: train_tr → train_valid"
	Lines []string // protocol, data sizes, anything a reader must know
}

// cutoffs is the union of the results' cut-offs, ascending.
func cutoffs(results []Result) []int {
	var ks []int
	for _, r := range results {
		ks = append(ks, r.Ks...)
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// headlineK is the cut-off plotted and given a confidence interval: 20
// when measured, else the largest.
func headlineK(ks []int) int {
	if len(ks) == 0 || slices.Contains(ks, 20) {
		return 20
	}
	return ks[len(ks)-1]
}

// ModeLabel is the mode as a table shows it: "ldp ε=4" for LDP runs.
func (r *Result) ModeLabel() string {
	if r.Epsilon != nil {
		return fmt.Sprintf("%s ε=%s", r.Mode, strconv.FormatFloat(*r.Epsilon, 'g', -1, 64))
	}
	return r.Mode
}

// table is the results table as rows of cells, header first.
func table(results []Result) [][]string {
	ks := cutoffs(results)
	hk := headlineK(ks)
	head := []string{"method", "mode"}
	for _, k := range ks {
		head = append(head, fmt.Sprintf("HR@%d", k))
	}
	for _, k := range ks {
		head = append(head, fmt.Sprintf("MRR@%d", k))
	}
	head = append(head, "coverage@20", "diversity", "bytes synced / device", "model bytes / device", "run time")
	rows := [][]string{head}
	for _, r := range results {
		mode := r.ModeLabel()
		if r.Default {
			mode += " (default)"
		}
		row := []string{r.Method, mode}
		for _, which := range []struct{ v, ci []float64 }{{r.HR, r.HRCI}, {r.MRR, r.MRRCI}} {
			for _, k := range ks {
				i := slices.Index(r.Ks, k)
				if i < 0 || i >= len(which.v) {
					row = append(row, "")
					continue
				}
				cell := fmt.Sprintf("%.4f", which.v[i])
				if k == hk && i < len(which.ci) && which.ci[i] > 0 {
					cell += fmt.Sprintf(" ±%.4f", which.ci[i])
				}
				row = append(row, cell)
			}
		}
		row = append(row,
			fmt.Sprintf("%.4f", r.Coverage),
			fmt.Sprintf("%.4f", r.Diversity),
			bytesCell(r.BytesSynced),
			modelCell(r),
			seconds(r.RunTime()))
		rows = append(rows, row)
	}
	return rows
}

// seconds prints a duration in seconds, with more digits when short.
func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// modelCell prints the model bytes per device, then by page view when
// counted: "12,000 (first 9,000, later 1,500)".
func modelCell(r Result) string {
	s := bytesCell(r.ModelBytes)
	if r.ModelFirstPage != nil && r.ModelLaterPage != nil {
		s += fmt.Sprintf(" (first %s, later %s)", bytesCell(r.ModelFirstPage), bytesCell(r.ModelLaterPage))
	}
	return s
}

// bytesCell prints a byte count with thousands separators, or nothing.
func bytesCell(v *float64) string {
	if v == nil {
		return ""
	}
	s := strconv.FormatFloat(*v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// footnotes explain the columns.
func footnotes(results []Result) []string {
	hk := headlineK(cutoffs(results))
	notes := []string{
		fmt.Sprintf("HR@k: share of predictions whose true next click is in the top k; MRR@k: mean of 1/rank (0 beyond k). ± is the 95%% confidence half-width at k = %d, sessions as clusters.", hk),
		"coverage@20: share of training items that appear in at least one top-20 list.",
	}
	if slices.ContainsFunc(results, func(r Result) bool { return r.Default }) {
		notes = append(notes, "(default): what a site gets without changing anything, its shipped privacy mode and server defaults; the headline row.")
	}
	kinds := map[string]bool{}
	for _, r := range results {
		kinds[r.DiversityKind] = true
	}
	if kinds[eval.DiversityCategoryILD] {
		notes = append(notes, "diversity ("+eval.DiversityCategoryILD+"): mean share of item pairs of a top-20 list whose categories differ.")
	}
	if kinds[eval.DiversityDistinct] {
		notes = append(notes, "diversity ("+eval.DiversityDistinct+"): distinct items among all recommended slots of all top-20 lists (no categories).")
	}
	notes = append(notes, "run time: fit plus evaluation, wall clock.")
	for _, r := range results {
		if r.Notes != "" {
			notes = append(notes, fmt.Sprintf("%s (%s): %s", r.Method, r.ModeLabel(), r.Notes))
		}
	}
	return notes
}

// WriteMarkdown writes the title, the run's description, the results
// table and its footnotes.
func WriteMarkdown(w io.Writer, meta Meta, results []Result) error {
	var b strings.Builder
	if meta.Title != "" {
		fmt.Fprintf(&b, "# %s\n\n", meta.Title)
	}
	for _, l := range meta.Lines {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	if len(meta.Lines) > 0 {
		b.WriteString("\n")
	}
	rows := table(results)
	for i, row := range rows {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
		if i == 0 {
			b.WriteString("|")
			for j := range row {
				if j < 2 {
					b.WriteString(" --- |")
				} else {
					b.WriteString(" ---: |")
				}
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	for _, n := range footnotes(results) {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
