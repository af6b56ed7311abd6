//go:build unix

package aggregatetest

import (
	"syscall"
	"time"
)

// CPU is the process's CPU time so far (user and system, the collector's
// included): on a machine shared with other work, a benchmark's wall-clock
// time says more about the others.
func CPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
