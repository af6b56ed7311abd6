package data

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// yoochooseCols are the positions of SessionId, ItemId and Time.
type yoochooseCols struct{ session, item, time, n int }

func yoochooseColumns(header string) (yoochooseCols, bool) {
	fields := strings.Split(header, "\t")
	idx, ok := columns(fields, "SessionId", "ItemId", "Time")
	if !ok {
		return yoochooseCols{}, false
	}
	return yoochooseCols{idx[0], idx[1], idx[2], len(fields)}, true
}

// parseYoochoose reads session-rec's prepared YOOCHOOSE rows. Time is Unix
// seconds with a fraction; it becomes milliseconds, rounded.
func parseYoochoose(lr *lineReader, c yoochooseCols) (*Dataset, error) {
	b := newBuilder()
	for {
		f, line, ok, err := lr.row("\t", c.n)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		session, item := strings.TrimSpace(f[c.session]), strings.TrimSpace(f[c.item])
		if session == "" || item == "" {
			return nil, lr.errorf(ErrRow, "empty SessionId or ItemId: %q", clip(line))
		}
		sec, err := strconv.ParseFloat(strings.TrimSpace(f[c.time]), 64)
		if err != nil || math.IsNaN(sec) || sec < 0 || sec > 1e11 {
			return nil, lr.errorf(ErrRow, "Time %q is not Unix seconds", clip(f[c.time]))
		}
		b.add(session, item, int64(math.Round(sec*1000)))
	}
	if b.clicks == 0 {
		return nil, lr.errorf(ErrEmpty, "header only")
	}
	for i := range b.sessions {
		slices.SortStableFunc(b.sessions[i].Clicks, func(x, y Click) int { return cmpInt64(x.At, y.At) })
	}
	ds := b.finish(FormatYoochoose)
	ds.HasClock = true
	ds.ClockOffset = YoochooseClockOffset
	return ds, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
