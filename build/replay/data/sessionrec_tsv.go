package data

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
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
	err := lr.rows("\t", c.n, c.session, c.item, "SessionId or ItemId", func(f []string, session, item string) error {
		sec, err := strconv.ParseFloat(strings.TrimSpace(f[c.time]), 64)
		if err != nil || math.IsNaN(sec) || sec < 0 || sec > 1e11 {
			return lr.errorf(ErrRow, "Time %q is not Unix seconds", clip(f[c.time]))
		}
		b.add(session, item, int64(math.Round(sec*1000)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range b.sessions {
		slices.SortStableFunc(b.sessions[i].Clicks, func(x, y Click) int { return cmpInt64(x.At, y.At) })
	}
	ds := b.finish(FormatYoochoose)
	ds.HasClock = !syntheticClock(ds.Sessions)
	if ds.HasClock {
		ds.ClockOffset = YoochooseClockOffset
	}
	return ds, nil
}

// syntheticClock tells whether times only order the clicks: the SR-GNN
// splits (yoochoose1-64, diginetica-srgnn) carry no timestamps, so their
// Time is made up, each session starting a whole number of hours after
// the first and each click one second after the previous one
// (../shared/datasets/README.md). Real clicks are never all exactly one
// second apart; reading a time of day from made-up times would feed the
// models noise. One session is too little evidence: it keeps its clock.
func syntheticClock(sessions []Session) bool {
	if len(sessions) < 2 {
		return false
	}
	const second, hour = int64(time.Second / time.Millisecond), int64(time.Hour / time.Millisecond)
	gaps := 0
	for _, s := range sessions {
		if (s.Clicks[0].At-sessions[0].Clicks[0].At)%hour != 0 {
			return false
		}
		for i := 1; i < len(s.Clicks); i++ {
			if s.Clicks[i].At-s.Clicks[i-1].At != second {
				return false
			}
			gaps++
		}
	}
	return gaps > 0
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
