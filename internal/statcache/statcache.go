// Package statcache remembers, for a moment, that a path exists and what
// it is. Routing a request maps its URL onto the file system the way
// Apache's directory walk does, one stat(2) or more per request; under
// load the same few scripts and directories are asked about thousands of
// times a second, and those calls were about 5% of wsgid's CPU per
// request. Only successful results are kept, for TTL: a file that
// appears is seen at once, one that disappears or changes type is seen
// up to TTL late (then its request fails as a missing file would, with
// the script or static file handler's own error).
package statcache

import (
	"io/fs"
	"os"
	"sync"
	"time"
)

// TTL is how long a successful stat is trusted.
const TTL = time.Second

// maxEntries bounds the cache; when full it starts over.
const maxEntries = 4096

type entry struct {
	fi    fs.FileInfo
	until int64 // UnixNano
}

var (
	mu      sync.RWMutex
	entries = make(map[string]entry)
)

// Stat is os.Stat, answered from the cache when name was found within
// the last TTL.
func Stat(name string) (fs.FileInfo, error) {
	now := time.Now().UnixNano()
	mu.RLock()
	e, ok := entries[name]
	mu.RUnlock()
	if ok && now < e.until {
		return e.fi, nil
	}
	fi, err := os.Stat(name)
	if err != nil {
		if ok {
			mu.Lock()
			delete(entries, name)
			mu.Unlock()
		}
		return nil, err
	}
	mu.Lock()
	if len(entries) >= maxEntries {
		clear(entries)
	}
	entries[name] = entry{fi: fi, until: now + int64(TTL)}
	mu.Unlock()
	return fi, nil
}
