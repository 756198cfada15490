//go:build unix

package odata_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used (user and system), so
// that a benchmark can report the work a request costs as well as its wall
// time, which on a shared machine moves with the other jobs' load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
