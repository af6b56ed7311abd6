// Package testclock is the clock the device-side tests share (sdk/profile,
// sdk/model, sdk/device): one Monday evening, so that their fixtures of
// sessions, hours and decay are written against the same moment. Tests
// import it; the guest never does.
package testclock

import "time"

// T0 is the tests' now, in Unix milliseconds as events carry it:
// Monday 23 November 2026, 19:30 UTC.
var T0 = time.Date(2026, 11, 23, 19, 30, 0, 0, time.UTC).UnixMilli()

// At returns the time min minutes after T0 (before it if negative), in
// Unix milliseconds.
func At(min float64) int64 { return T0 + int64(min*float64(time.Minute.Milliseconds())) }
