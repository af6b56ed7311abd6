package baselines

import (
	"context"
	"time"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
)

// Band is a time-of-day segment: clicks whose local hour h has
// From <= h < To.
type Band struct {
	Name     string
	From, To int
}

// Bands are the time-of-day segments of the Segment rule when no
// categories are known: four six-hour bands of the shopper's local clock,
// as a merchandiser would set "night", "morning", "afternoon" and
// "evening" campaigns.
var Bands = []Band{
	{"night", 0, 6},
	{"morning", 6, 12},
	{"afternoon", 12, 18},
	{"evening", 18, 24},
}

// Segment is the traditional rule-based personalisation Tailor replaces:
// each visitor is put in a segment of context and shown the segment's
// most popular items (training clicks within the segment), then the
// globally popular ones to fill the list. The segment is
//
//   - with categories (DIGINETICA): the category of the item just viewed
//     ("popular in this category"); an item without a category gets the
//     global list;
//   - without categories but with a clock (YOOCHOOSE): the time-of-day
//     band of the click, local time (Bands; At + the dataset's clock
//     offset);
//   - with neither: one segment for everyone, which is POP.
//
// The rule is not from session-rec; it is the "segments" arm of issue 5.
type Segment struct {
	cats   map[string]string
	clock  bool
	offset time.Duration

	cat     *catalog
	global  []string
	bySeg   map[string][]string // segment key -> popular items in it, best first
	segment func(item string, at int64) string
}

// NewSegment returns an unfitted segment rule. categories may be nil;
// clock tells whether click times are clock times, offset what to add to
// them to read the local hour (data.Dataset's HasClock and ClockOffset).
func NewSegment(categories map[string]string, clock bool, offset time.Duration) *Segment {
	return &Segment{cats: categories, clock: clock, offset: offset}
}

// Name implements eval.Method.
func (m *Segment) Name() string { return "segment" }

// Kind says which segmentation Fit chose: "category", "time-of-day" or
// "none".
func (m *Segment) Kind() string {
	switch {
	case len(m.cats) > 0:
		return "category"
	case m.clock:
		return "time-of-day"
	}
	return "none"
}

// Fit counts training clicks per segment and item.
func (m *Segment) Fit(_ context.Context, train []data.Session) error {
	m.cat = newCatalog(train)
	m.global = m.cat.namesOf(m.cat.popular())
	switch m.Kind() {
	case "category":
		m.segment = func(item string, _ int64) string { return m.cats[item] }
	case "time-of-day":
		m.segment = func(_ string, at int64) string { return bandOf(data.HourOfDay(at, m.offset)) }
	default:
		m.segment = func(string, int64) string { return "" }
	}
	counts := make(map[string]map[int32]int)
	for _, s := range train {
		for _, c := range s.Clicks {
			key := m.segment(c.Item, c.At)
			if key == "" {
				continue
			}
			if counts[key] == nil {
				counts[key] = make(map[int32]int)
			}
			counts[key][m.cat.ids[c.Item]]++
		}
	}
	m.bySeg = make(map[string][]string, len(counts))
	for key, items := range counts {
		cands := make([]scored, 0, len(items))
		for id, n := range items {
			cands = append(cands, scored{id, float64(n)})
		}
		m.bySeg[key] = m.cat.top(cands, len(cands))
	}
	return nil
}

func bandOf(hour int) string {
	for _, b := range Bands {
		if b.From <= hour && hour < b.To {
			return b.Name
		}
	}
	return ""
}

// Start implements eval.Method.
func (m *Segment) Start() eval.Session { return segmentSession{m} }

type segmentSession struct{ m *Segment }

func (s segmentSession) Next(item string, at int64, k int) ([]string, error) {
	var seg []string
	if key := s.m.segment(item, at); key != "" {
		seg = s.m.bySeg[key]
	}
	if len(seg) >= k {
		return seg[:k], nil
	}
	out := make([]string, 0, k)
	out = append(out, seg...)
	for _, it := range s.m.global {
		if len(out) == k {
			break
		}
		if !contains(seg, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
