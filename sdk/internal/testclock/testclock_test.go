package testclock

import (
	"testing"
	"time"
)

// TestAt: the tests' clock is a Monday evening, and At counts minutes
// from it in Unix milliseconds.
func TestAt(t *testing.T) {
	if now := time.UnixMilli(T0).UTC(); now.Weekday() != time.Monday || now.Hour() != 19 {
		t.Errorf("T0 = %v, want a Monday at 19h", now)
	}
	if got, want := At(90)-At(-0.5), int64(90.5*60*1000); got != want {
		t.Errorf("At(90) - At(-0.5) = %d ms, want %d", got, want)
	}
}
