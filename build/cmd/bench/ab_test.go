//go:build !wasip1

package main

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// TestFirstSlotAB compares the first personalized slot of two builds of
// Tailor, A and B, on the demo's home page, in one run: two demo servers
// (tailor-demo --dist of each build) at $TAILOR_AB_A and $TAILOR_AB_B,
// fresh Chromiums alternating between them (A B, then B A, ...), each
// loading the page cold, keeping it open for dwell, then reloading it
// 3 times (warm), as BenchmarkChromium does. It logs each load, then the
// medians of each side's stages, cold and warm, and the machine's load;
// it asserts nothing. $TAILOR_AB_ROUNDS (default 4) is the number of
// Chromiums per side.
//
//	TAILOR_AB_A=http://127.0.0.1:18081 TAILOR_AB_B=http://127.0.0.1:18082 \
//	  go test -v -run TestFirstSlotAB ./build/cmd/bench
func TestFirstSlotAB(t *testing.T) {
	urls := []string{os.Getenv("TAILOR_AB_A"), os.Getenv("TAILOR_AB_B")}
	if urls[0] == "" || urls[1] == "" {
		t.Skip("compares the demo's servers at $TAILOR_AB_A and $TAILOR_AB_B")
	}
	rounds := 4
	if n, err := strconv.Atoi(os.Getenv("TAILOR_AB_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	sides := []string{"A", "B"}
	cold := make([][]browsertest.Start, 2)
	warm := make([][]browsertest.Start, 2)
	for r := range 2 * rounds {
		s := r % 2
		if r/2%2 == 1 {
			s = 1 - s // B A in odd rounds: neither side always goes first
		}
		tb := browsertest.New(t, browsertest.WithScripts(browsertest.StartRecorder))
		tb.StopNetworkLog()
		c := loadHome(tb, urls[s])
		t.Logf("%s cold: %s", sides[s], c)
		cold[s] = append(cold[s], c)
		time.Sleep(dwell)
		for range 3 {
			w := loadHome(tb, urls[s])
			t.Logf("%s warm: %s", sides[s], w)
			warm[s] = append(warm[s], w)
		}
		tb.NoErrors()
		tb.Close()
	}
	t.Logf("medians, %d Chromiums a side (cold) and %d reloads a side (warm), %s:", rounds, 3*rounds, machine())
	for _, l := range browsertest.StageTable([]string{"A cold", "B cold", "A warm", "B warm"}, cold[0], cold[1], warm[0], warm[1]) {
		t.Log(l)
	}
	for _, g := range []struct {
		name string
		l    [][]browsertest.Start
	}{{"cold", cold}, {"warm", warm}} {
		a, _ := browsertest.MedianStage(g.l[0], "ranked")
		b, _ := browsertest.MedianStage(g.l[1], "ranked")
		t.Logf("%s: first personalized slot A %.1f ms, B %.1f ms (B/A %.2f); after the engine started (ranked - initialized) A %.1f ms, B %.1f ms; after the last prerequisite (ranked - LastWait) A %.1f ms, B %.1f ms",
			g.name, a, b, b/a, afterEngine(g.l[0]), afterEngine(g.l[1]), afterLast(g.l[0]), afterLast(g.l[1]))
	}
}

// afterEngine is the median time from the engine started (its
// _initialize done) to the slot's first ranking: Tailor's own work once
// tailor.wasm is ready, and what it still waited for.
func afterEngine(loads []browsertest.Start) float64 {
	var xs []float64
	for _, l := range loads {
		xs = append(xs, l.Stages["ranked"]-l.Stages["initialized"])
	}
	return median(xs)
}

// afterLast is the median time from the last of the first ranking's
// prerequisites (browsertest.Start.LastWait) to the slot's first
// ranking: the part of the start that is Tailor's own work alone.
func afterLast(loads []browsertest.Start) float64 {
	var xs []float64
	for _, l := range loads {
		if _, at, ok := l.LastWait(); ok {
			xs = append(xs, l.Stages["ranked"]-at)
		}
	}
	return median(xs)
}
