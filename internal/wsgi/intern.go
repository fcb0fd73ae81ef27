package wsgi

import (
	"net/http"
	"sync"
)

// internTable holds the response header names and values applications
// send again and again (Content-Type: text/html, a canonical name per
// header), so relaying a reply's headers allocates nothing for them. It
// is bounded and starts over when full, so varying values (cookies,
// ETags) only cost the allocation they would have cost anyway.
type internTable struct {
	mu sync.RWMutex
	m  map[string]string
}

const (
	internMax      = 1024
	internMaxValue = 64 // longer values are unlikely to repeat
)

var (
	headerNames  = internTable{m: make(map[string]string)}
	headerValues = internTable{m: make(map[string]string)}
)

// get returns the string for b, made by mk on a miss.
func (t *internTable) get(b []byte, mk func(string) string) string {
	t.mu.RLock()
	s, ok := t.m[string(b)]
	t.mu.RUnlock()
	if ok {
		return s
	}
	key := string(b)
	s = mk(key)
	t.mu.Lock()
	if len(t.m) >= internMax {
		clear(t.m)
	}
	t.m[key] = s
	t.mu.Unlock()
	return s
}

func same(s string) string { return s }

// canonicalName is http.CanonicalHeaderKey for a header name from a
// worker.
func canonicalName(b []byte) string { return headerNames.get(b, http.CanonicalHeaderKey) }

// headerValue is string(b), shared for short values.
func headerValue(b []byte) string {
	if len(b) > internMaxValue {
		return string(b)
	}
	return headerValues.get(b, same)
}
