package data

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// digineticaCols are the positions of the columns DIGINETICA needs.
type digineticaCols struct{ session, item, timeframe, date, n int }

func digineticaColumns(header string) (digineticaCols, bool) {
	fields := strings.Split(header, ";")
	idx, ok := columns(fields, "session_id", "item_id", "timeframe", "eventdate")
	if !ok {
		return digineticaCols{}, false
	}
	return digineticaCols{idx[0], idx[1], idx[2], idx[3], len(fields)}, true
}

// digiClick keeps the sort keys of a DIGINETICA click until its session
// is complete.
type digiClick struct {
	day       int64 // Unix ms of eventdate's midnight, UTC
	timeframe int64 // ms since the session's first event
}

// parseDiginetica reads CIKM Cup 2016 item views. The file has no clock
// time: clicks are ordered by eventdate, then timeframe, and At is
// eventdate (midnight UTC) + timeframe, raised where needed so it never
// decreases within a session (a session crossing midnight keeps its
// timeframe from the first event, so date + timeframe can step back).
func parseDiginetica(lr *lineReader, c digineticaCols) (*Dataset, error) {
	b := newBuilder()
	var keys [][]digiClick // per session, parallel to its clicks
	err := lr.rows(";", c.n, c.session, c.item, "session_id or item_id", func(f []string, session, item string) error {
		tf, err := strconv.ParseInt(strings.TrimSpace(f[c.timeframe]), 10, 64)
		if err != nil || tf < 0 || tf > 1e12 {
			return lr.errorf(ErrRow, "timeframe %q is not a count of milliseconds", clip(f[c.timeframe]))
		}
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(f[c.date]))
		if err != nil {
			return lr.errorf(ErrRow, "eventdate %q is not YYYY-MM-DD", clip(f[c.date]))
		}
		k := digiClick{day: day.UnixMilli(), timeframe: tf}
		i := b.add(session, item, k.day+tf)
		if i == len(keys) {
			keys = append(keys, nil)
		}
		keys[i] = append(keys[i], k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range b.sessions {
		sortDigi(b.sessions[i].Clicks, keys[i])
	}
	return b.finish(FormatDiginetica), nil
}

// sortDigi orders one session's clicks by (eventdate, timeframe), stable,
// and makes At monotone.
func sortDigi(clicks []Click, keys []digiClick) {
	order := make([]int, len(clicks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		if c := cmpInt64(keys[x].day, keys[y].day); c != 0 {
			return c
		}
		return cmpInt64(keys[x].timeframe, keys[y].timeframe)
	})
	sorted := make([]Click, len(clicks))
	for i, j := range order {
		sorted[i] = clicks[j]
		if i > 0 && sorted[i].At < sorted[i-1].At {
			sorted[i].At = sorted[i-1].At
		}
	}
	copy(clicks, sorted)
}
