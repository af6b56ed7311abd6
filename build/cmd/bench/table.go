package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
)

// row is one line of the table: a figure, the anchor it is judged
// against, their ratio, and the target of that ratio.
type row struct {
	figure string
	value  string
	anchor string // what it is compared with, then its value once set
	ratio  string // value / anchor
	target string // what the product promises of the ratio
	note   string // how it was measured, or why it was not
}

// set fills in a measured row.
func (r row) set(value, anchor string, ratio float64) row {
	r.value, r.anchor, r.ratio = value, r.anchor+" "+anchor, fmt.Sprintf("%.2f×", ratio)
	return r
}

// fail fills in a row that could not be measured, saying why (its first
// line).
func (r row) fail(why string) row {
	why, _, _ = strings.Cut(strings.TrimSpace(why), "\n")
	r.value, r.ratio, r.note = "not measured", "—", why
	return r
}

// failAll marks every row not measured, for the same reason.
func failAll(rows []row, why string) []row {
	out := make([]row, len(rows))
	for i, r := range rows {
		out[i] = r.fail(why)
	}
	return out
}

// writeTable writes the rows as an aligned table.
func writeTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tTailor\tanchor\tratio\ttarget\tnotes")
	fmt.Fprintln(tw, "------\t------\t------\t-----\t------\t-----")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.figure, r.value, r.anchor, r.ratio, r.target, r.note)
	}
	tw.Flush()
}

// bytesOf formats a byte count with thousands separators.
func bytesOf(n int) string { return thousands(int64(n)) + " B" }

// rate formats a rate per second, rounded to a whole number.
func rate(v float64) string { return thousands(int64(v + 0.5)) }

// ms formats milliseconds with three significant digits or so.
func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

// thousands formats n with a comma every three digits.
func thousands(n int64) string {
	switch {
	case n < 0:
		return "-" + thousands(-n)
	case n < 1000:
		return fmt.Sprint(n)
	}
	return thousands(n/1000) + fmt.Sprintf(",%03d", n%1000)
}

func numCPU() int { return runtime.NumCPU() }
