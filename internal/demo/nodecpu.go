package demo

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/PID/stat's CPU times on Linux (USER_HZ).
const clockTick = 10 * time.Millisecond

// processCPU returns the CPU time (user + system) process pid has used, from
// /proc/PID/stat; false where there is no /proc.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: the fields after it start
	// after its closing parenthesis; utime and stime are fields 14 and 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+k) * clockTick, true
}

// nodesCPU returns the CPU time all the cluster's node processes have used.
func (d *Demo) nodesCPU() (time.Duration, bool) {
	var sum time.Duration
	for _, ch := range d.Cluster.Children {
		if ch == nil {
			return 0, false
		}
		c, ok := processCPU(ch.Pid())
		if !ok {
			return 0, false
		}
		sum += c
	}
	return sum, true
}

// profileWindow asks every node process to start (SIGUSR1) or stop
// (SIGUSR2) the CPU profile of a window of its run, when the nodes run
// with $EVOTE_CPUPROFILE_DIR and $EVOTE_CPUPROFILE_WINDOW set (cmd/evote),
// so that the profile covers the casting phase only.
func (d *Demo) profileWindow(start bool) {
	if os.Getenv("EVOTE_CPUPROFILE_DIR") == "" || os.Getenv("EVOTE_CPUPROFILE_WINDOW") == "" {
		return
	}
	sig := syscall.SIGUSR2
	if start {
		sig = syscall.SIGUSR1
	}
	for _, ch := range d.Cluster.Children {
		if ch != nil {
			_ = syscall.Kill(ch.Pid(), sig)
		}
	}
}
