package report

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
)

// Plot colours: HR and MRR everywhere.
const (
	colorHR  = "#1f6feb"
	colorMRR = "#e36209"
)

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #1f2328; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid #d0d7de; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 2em 0; }
figcaption { color: #59636e; }
ul.notes { color: #59636e; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Lines}}<ul>{{range .Lines}}<li>{{.}}</li>{{end}}</ul>{{end}}
<div class="scroll"><table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if ge $i 2}} class="n"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
<figure>{{.Bars}}<figcaption>HR@{{.K}} and MRR@{{.K}} per method and mode.</figcaption></figure>
<figure>{{.Epsilon}}<figcaption>{{.EpsilonCaption}}</figcaption></figure>
</body>
</html>
`))

// WriteHTML writes a self-contained page: the table, a bar chart of HR@20
// and MRR@20 per result, and the quality-vs-epsilon curve of the results
// whose mode is "ldp" and whose Epsilon is set.
func WriteHTML(w io.Writer, meta Meta, results []Result) error {
	rows := table(results)
	k := headlineK(cutoffs(results))
	title := meta.Title
	if title == "" {
		title = "Replay results"
	}
	eps, caption := epsilonPlot(results, k)
	return page.Execute(w, map[string]any{
		"Title":          title,
		"Lines":          meta.Lines,
		"Head":           rows[0],
		"Rows":           rows[1:],
		"Notes":          footnotes(results),
		"K":              k,
		"Bars":           template.HTML(barChart(results, k)), // built from escaped parts
		"Epsilon":        template.HTML(eps),
		"EpsilonCaption": caption,
	})
}

// barChart is a horizontal grouped bar chart: one row per result, a bar
// for HR@k and one for MRR@k.
func barChart(results []Result, k int) string {
	const (
		labelW, plotW, rowH, top, bottom = 220, 560, 34, 30, 30
	)
	h := top + bottom + rowH*len(results)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="HR@%d and MRR@%d per method">`,
		labelW+plotW+60, h, labelW+plotW+60, h, k, k)
	maxV := 0.0
	for _, r := range results {
		hr, mrr, _ := r.At(k)
		maxV = max(maxV, hr, mrr)
	}
	scale := niceCeil(maxV)
	x := func(v float64) float64 { return labelW + plotW*v/scale }
	// Grid and axis labels.
	for i := 0; i <= 4; i++ {
		v := scale * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d0d7de"/>`, x(v), top-6, x(v), h-bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#59636e">%s</text>`, x(v), h-bottom+16, trimFloat(v))
	}
	legend(&b, labelW, 14, []string{fmt.Sprintf("HR@%d", k), fmt.Sprintf("MRR@%d", k)}, []string{colorHR, colorMRR})
	for i, r := range results {
		y := top + i*rowH
		hr, mrr, ok := r.At(k)
		label := r.Method + " (" + r.ModeLabel() + ")"
		if r.Default {
			label = r.Method + " (" + r.ModeLabel() + ", default)"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>`, labelW-8, y+rowH/2+4, html.EscapeString(label))
		if !ok {
			continue
		}
		for j, v := range []float64{hr, mrr} {
			col := []string{colorHR, colorMRR}[j]
			by := y + 4 + j*13
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="12" fill="%s"/>`, labelW, by, x(v)-labelW, col)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#1f2328">%.3f</text>`, x(v)+4, by+10, v)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// epsilonPlot draws HR@k and MRR@k against epsilon for the LDP results,
// with the federated results as dashed reference lines.
func epsilonPlot(results []Result, k int) (svg, caption string) {
	type pt struct{ eps, hr, mrr float64 }
	var pts []pt
	var refs []Result
	for _, r := range results {
		hr, mrr, ok := r.At(k)
		if !ok {
			continue
		}
		switch {
		case r.Mode == ModeLDP && r.Epsilon != nil:
			pts = append(pts, pt{*r.Epsilon, hr, mrr})
		case r.Mode == ModeFederated:
			refs = append(refs, r)
		}
	}
	if len(pts) == 0 {
		return "", "Quality vs epsilon: no LDP results (mode \"ldp\" with an epsilon) in this run."
	}
	slices.SortFunc(pts, func(a, b pt) int {
		switch {
		case a.eps < b.eps:
			return -1
		case a.eps > b.eps:
			return 1
		}
		return 0
	})
	const (
		left, plotW, plotH, top, bottom = 60, 560, 300, 30, 40
	)
	W, H := left+plotW+170, top+plotH+bottom
	lo, hi := pts[0].eps, pts[len(pts)-1].eps
	logX := lo > 0 && hi/lo >= 4
	fx := func(e float64) float64 {
		if hi == lo {
			return left + plotW/2
		}
		if logX {
			return left + plotW*(math.Log(e)-math.Log(lo))/(math.Log(hi)-math.Log(lo))
		}
		return left + plotW*(e-lo)/(hi-lo)
	}
	maxV := 0.0
	for _, p := range pts {
		maxV = max(maxV, p.hr, p.mrr)
	}
	for _, r := range refs {
		hr, mrr, _ := r.At(k)
		maxV = max(maxV, hr, mrr)
	}
	scale := niceCeil(maxV)
	fy := func(v float64) float64 { return top + plotH - plotH*v/scale }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="quality vs epsilon">`, W, H, W, H)
	for i := 0; i <= 4; i++ {
		v := scale * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d0d7de"/>`, left, fy(v), left+plotW, fy(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#59636e">%s</text>`, left-6, fy(v)+4, trimFloat(v))
	}
	for _, p := range pts {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#59636e">%s</text>`, fx(p.eps), top+plotH+16, trimFloat(p.eps))
	}
	axis := "ε"
	if logX {
		axis = "ε (log scale)"
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="middle">%s</text>`, left+plotW/2, top+plotH+34, axis)
	for j, col := range []string{colorHR, colorMRR} {
		var path strings.Builder
		for i, p := range pts {
			v := []float64{p.hr, p.mrr}[j]
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, fx(p.eps), fy(v))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, fx(p.eps), fy(v), col)
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), col)
	}
	for _, r := range refs {
		hr, mrr, _ := r.At(k)
		for j, v := range []float64{hr, mrr} {
			col := []string{colorHR, colorMRR}[j]
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="5 4"/>`, left, fy(v), left+plotW, fy(v), col)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" fill="%s">%s</text>`, left+plotW+6, fy(v)+4, col,
				html.EscapeString(fmt.Sprintf("%s %s", r.Method, r.ModeLabel())))
		}
	}
	legend(&b, left, 14, []string{fmt.Sprintf("HR@%d", k), fmt.Sprintf("MRR@%d", k)}, []string{colorHR, colorMRR})
	b.WriteString(`</svg>`)
	return b.String(), fmt.Sprintf("HR@%d and MRR@%d of the LDP runs against epsilon; dashed: federated without noise.", k, k)
}

func legend(b *strings.Builder, x, y int, names, colors []string) {
	for i, n := range names {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, x+i*110, y-10, colors[i])
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="12">%s</text>`, x+i*110+16, y, html.EscapeString(n))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 0.01),
// the top of an axis.
func niceCeil(v float64) float64 {
	if v <= 0.01 {
		return 0.01
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p*1.0000001 {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
