package server

import (
	"sync"
	"time"

	"wsgid/internal/statcache"
)

// translations remembers PATH_TRANSLATED for a PATH_INFO that ends in a
// slash. Finding it is a second trip through routing and a directory
// index lookup, and an application mounted at / gets PATH_INFO "/" on
// every request to its root: 1.6% of the front end's CPU per request.
// Entries live as long as statcache trusts the stat calls they rest on,
// so the answer is never staler than computing it afresh would be.
type translations struct {
	mu sync.RWMutex
	m  map[string]translation
}

type translation struct {
	path  string
	until int64 // UnixNano
}

// maxTranslations bounds the cache; when full it starts over.
const maxTranslations = 1024

func (ts *translations) get(pathInfo string) (string, bool) {
	ts.mu.RLock()
	e, ok := ts.m[pathInfo]
	ts.mu.RUnlock()
	if !ok || time.Now().UnixNano() >= e.until {
		return "", false
	}
	return e.path, true
}

func (ts *translations) put(pathInfo, path string) {
	e := translation{path: path, until: time.Now().Add(statcache.TTL).UnixNano()}
	ts.mu.Lock()
	if ts.m == nil || len(ts.m) >= maxTranslations {
		ts.m = make(map[string]translation)
	}
	ts.m[pathInfo] = e
	ts.mu.Unlock()
}
