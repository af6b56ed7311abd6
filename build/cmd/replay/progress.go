package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tailorhq/tailor/build/replay"
)

// isTerminal tells whether f is a character device (a terminal), without
// a dependency: good enough to decide whether to draw a bar.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws one stderr line, rewritten with a carriage return, at
// most every 100 ms, and a final line per method.
type progressBar struct {
	w       io.Writer
	last    time.Time
	method  string
	started time.Time
	width   int // of the previous line, to blank its tail
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

// update implements replay.Options.Progress; calls never overlap.
func (b *progressBar) update(p replay.Progress) {
	now := time.Now()
	if p.Method != b.method {
		b.endLine()
		b.method, b.started = p.Method, now
	}
	if now.Sub(b.last) < 100*time.Millisecond && p.Done < p.Total {
		return
	}
	b.last = now
	b.draw(p, now)
}

func (b *progressBar) draw(p replay.Progress, now time.Time) {
	const cells = 30
	frac := 0.0
	if p.Total > 0 {
		frac = min(float64(p.Done)/float64(p.Total), 1)
	}
	full := int(frac * cells)
	line := fmt.Sprintf("[%d/%d] %-13s %-4s [%s%s] %3.0f%% %d/%d %5.1fs",
		p.Index, p.Of, p.Method, p.Phase,
		strings.Repeat("#", full), strings.Repeat(".", cells-full),
		100*frac, p.Done, p.Total, now.Sub(b.started).Seconds())
	pad := ""
	if b.width > len(line) {
		pad = strings.Repeat(" ", b.width-len(line))
	}
	fmt.Fprint(b.w, "\r"+line+pad)
	b.width = len(line)
}

func (b *progressBar) endLine() {
	if b.width > 0 {
		fmt.Fprintln(b.w)
		b.width = 0
	}
}

// finish ends the bar's line.
func (b *progressBar) finish() { b.endLine() }
