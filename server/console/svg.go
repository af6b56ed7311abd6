package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/store"
)

// The charts are SVG drawn here, inline in the page: no script, nothing
// fetched, readable by a screen reader through their title and desc.

// timelineSVG draws a site's versions: when each was published (x) and
// how many deltas it held (y), one point per version.
func timelineSVG(vs []store.Version) template.HTML {
	const w, h, left, right, top, bottom = 640, 200, 56, 16, 16, 36
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="tl-t tl-d">`, w, h)
	b.WriteString(`<title id="tl-t">Model versions over time</title>`)
	if len(vs) == 0 {
		b.WriteString(`<desc id="tl-d">No version published yet.</desc></svg>`)
		return template.HTML(b.String())
	}
	first, last := vs[0], vs[len(vs)-1]
	fmt.Fprintf(&b, `<desc id="tl-d">%d versions, v%d published %s to v%d published %s, holding up to %d deltas.</desc>`,
		len(vs), first.Number, first.Created.UTC().Format(time.RFC3339), last.Number, last.Created.UTC().Format(time.RFC3339), last.Deltas)
	t0, t1 := first.Created, last.Created
	span := t1.Sub(t0)
	var maxD uint64 = 1
	for _, v := range vs {
		maxD = max(maxD, v.Deltas)
	}
	x := func(t time.Time) float64 {
		if span <= 0 {
			return left + float64(w-left-right)/2
		}
		return left + float64(w-left-right)*float64(t.Sub(t0))/float64(span)
	}
	y := func(d uint64) float64 { return top + float64(h-top-bottom)*(1-float64(d)/float64(maxD)) }
	// axes
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, left, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%d</text>`, left-6, top+4, maxD)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">0</text>`, left-6, h-bottom+4)
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left, h-12, esc(t0.UTC().Format("Jan 2 15:04")))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, w-right, h-12, esc(t1.UTC().Format("Jan 2 15:04 UTC")))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">deltas</text>`, left/2, h/2)
	var pts []string
	for _, v := range vs {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(v.Created), y(v.Deltas)))
	}
	fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
	for _, v := range vs {
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3.5"><title>v%d, %s, %d deltas</title></circle>`,
			x(v.Created), y(v.Deltas), v.Number, esc(v.Created.UTC().Format(time.RFC3339)), v.Deltas)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// hoursSVG draws a site's syncs in each hour, accepted and refused
// stacked, the current hour last.
func hoursSVG(hours []api.HourSyncs) template.HTML {
	if len(hours) == 0 {
		return ""
	}
	const w, h, left, right, top, bottom = 640, 150, 56, 16, 12, 34
	var most, accepted, refused uint64 = 1, 0, 0
	for _, x := range hours {
		most = max(most, x.Accepted+x.Refused)
		accepted, refused = accepted+x.Accepted, refused+x.Refused
	}
	slot := float64(w-left-right) / float64(len(hours))
	y := func(n uint64) float64 { return float64(h-top-bottom) * float64(n) / float64(most) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="hr-t hr-d">`, w, h)
	fmt.Fprintf(&b, `<title id="hr-t">Syncs per hour</title><desc id="hr-d">In the last %d hours: %d accepted, %d refused; at most %d in one hour.</desc>`,
		len(hours), accepted, refused, most)
	for i, x := range hours {
		x0 := left + slot*float64(i) + 1
		ya, yr := y(x.Accepted), y(x.Refused)
		base := float64(h - bottom)
		label := fmt.Sprintf("%s: %d accepted, %d refused", x.Hour.UTC().Format("Jan 2 15:00"), x.Accepted, x.Refused)
		fmt.Fprintf(&b, `<g><title>%s</title>`, esc(label))
		fmt.Fprintf(&b, `<rect class="ok" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, base-ya, slot-2, ya)
		fmt.Fprintf(&b, `<rect class="bad" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></g>`, x0, base-ya-yr, slot-2, yr)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%d</text>`, left-6, top+4, most)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">0</text>`, left-6, h-bottom+4)
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left, h-12, esc(hours[0].Hour.UTC().Format("Jan 2 15:00")))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, w-right, h-12, esc(hours[len(hours)-1].Hour.UTC().Format("Jan 2 15:00 UTC")))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// armBar is one arm's rate and interval in armsSVG.
type armBar struct {
	Label string
	Interval
}

// armsSVG draws each arm's rate as a bar with its 95% interval as a
// whisker, on one scale.
func armsSVG(id, title string, bars []armBar) template.HTML {
	const w, left, right, row, top = 640, 150, 70, 34, 10
	if len(bars) == 0 {
		return "" // no arm has impressions: nothing to draw
	}
	h := top + row*len(bars) + 24
	scale := 0.0
	for _, a := range bars {
		scale = max(scale, a.High)
	}
	if scale == 0 {
		scale = 1
	}
	x := func(v float64) float64 { return left + float64(w-left-right)*v/scale }
	var b, desc strings.Builder
	for _, a := range bars {
		fmt.Fprintf(&desc, "%s %.2f%% (95%% interval %.2f%% to %.2f%%). ", a.Label, 100*a.Rate, 100*a.Low, 100*a.High)
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d">`, w, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(desc.String()))
	for i, a := range bars {
		yy := top + row*i
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-8, yy+row/2+4, esc(a.Label))
		fmt.Fprintf(&b, `<rect class="bar bar%d" x="%d" y="%d" width="%.1f" height="%d"/>`, i, left, yy+6, x(a.Rate)-left, row-12)
		mid := yy + row/2
		fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x(a.Low), mid, x(a.High), mid)
		for _, v := range []float64{a.Low, a.High} {
			fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x(v), mid-7, x(v), mid+7)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.2f%%</text>`, x(a.High)+6, mid+4, 100*a.Rate)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, left, h-24)
	fmt.Fprintf(&b, `<text x="%d" y="%d">0%%</text>`, left, h-6)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%.2f%%</text>`, w-right, h-6, 100*scale)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func esc(s string) string { return html.EscapeString(s) }
