package data

import "time"

const day = int64(24 * time.Hour / time.Millisecond)

// SplitLastDays splits sessions by time into a training part and an
// evaluation part: the sessions whose last click falls in the last days
// days of the data are evaluated, the others trained on. It is
// session-rec's and SR-GNN's protocol (preprocess: session_max_times >=
// tmax - 86400*days). With calendar set (files without a clock, such as
// DIGINETICA), the last days are whole dates: the date of the latest click
// and the days-1 dates before it. Order is kept in both parts; cutoff is
// the first Unix millisecond of the evaluation period.
func SplitLastDays(sessions []Session, days int, calendar bool) (train, test []Session, cutoff int64) {
	if len(sessions) == 0 || days <= 0 {
		return sessions, nil, 0
	}
	tmax := last(sessions[0])
	for _, s := range sessions[1:] {
		tmax = max(tmax, last(s))
	}
	if calendar {
		cutoff = floorDay(tmax) - int64(days-1)*day
	} else {
		cutoff = tmax - int64(days)*day
	}
	for _, s := range sessions {
		if last(s) >= cutoff {
			test = append(test, s)
		} else {
			train = append(train, s)
		}
	}
	return train, test, cutoff
}

// FilterItemSupport applies SR-GNN's and session-rec's preprocessing
// filters: drop sessions with a single click, then the clicks on items
// clicked fewer than min times, then sessions left with fewer than two
// clicks. min <= 1 only drops single-click sessions. The input is not
// modified.
func FilterItemSupport(sessions []Session, min int) []Session {
	support := make(map[string]int)
	for _, s := range sessions {
		if len(s.Clicks) < 2 {
			continue
		}
		for _, c := range s.Clicks {
			support[c.Item]++
		}
	}
	var out []Session
	for _, s := range sessions {
		if len(s.Clicks) < 2 {
			continue
		}
		kept := make([]Click, 0, len(s.Clicks))
		for _, c := range s.Clicks {
			if support[c.Item] >= min {
				kept = append(kept, c)
			}
		}
		if len(kept) >= 2 {
			out = append(out, Session{ID: s.ID, Clicks: kept})
		}
	}
	return out
}

// Stats counts clicks and distinct items of sessions.
func Stats(sessions []Session) (clicks, items int) {
	seen := make(map[string]struct{})
	for _, s := range sessions {
		clicks += len(s.Clicks)
		for _, c := range s.Clicks {
			seen[c.Item] = struct{}{}
		}
	}
	return clicks, len(seen)
}

func last(s Session) int64 { return s.Clicks[len(s.Clicks)-1].At }

// floorDay is the first millisecond of at's UTC date.
func floorDay(at int64) int64 {
	d := at / day * day
	if d > at {
		d -= day
	}
	return d
}
