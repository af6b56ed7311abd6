//go:build !unix

package aggregatetest

import "time"

// CPU is 0 where the process's CPU time is not read (see cpu.go).
func CPU() time.Duration { return 0 }
