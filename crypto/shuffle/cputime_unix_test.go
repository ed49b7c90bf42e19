//go:build unix

package shuffle

import (
	"syscall"
	"time"
)

// cpuTime returns the user and system CPU time of the process so far, so
// that benchmarks can report CPU time per ciphertext, which other load on
// a shared machine affects less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
