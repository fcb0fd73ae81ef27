//go:build !linux

package worker

import "time"

type usage struct {
	rss int64
	cpu time.Duration
}

// usageOf is not implemented outside Linux: memory-limit and
// cpu-time-limit then have no effect (docs/configuration.md says so).
func usageOf(pid int) (usage, bool) { return usage{}, false }
