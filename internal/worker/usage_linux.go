package worker

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// usage is what the monitor reads of a process.
type usage struct {
	rss int64         // resident memory, bytes
	cpu time.Duration // user + system CPU time
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat times; it is
// 100 on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// usageOf reads /proc/PID/statm and /proc/PID/stat.
func usageOf(pid int) (usage, bool) {
	var u usage
	dir := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(dir + "/statm")
	if err != nil {
		return u, false
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return u, false
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return u, false
	}
	u.rss = pages * int64(os.Getpagesize())
	b, err = os.ReadFile(dir + "/stat")
	if err != nil {
		return u, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 {
		f = bytes.Fields(b[i+1:])
		// f[0] is field 3 (state); utime and stime are fields 14, 15.
		if len(f) > 12 {
			ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
			st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
			if err1 == nil && err2 == nil {
				u.cpu = time.Duration(ut+st) * clockTick
			}
		}
	}
	return u, true
}
