package listener

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Fresh tracks the connections an http.Server has accepted but not yet
// read a first request from. http.Server.Shutdown closes such a
// connection unanswered when its request arrives after Shutdown began,
// so a graceful stop first closes the listeners, then waits for Fresh to
// empty, then calls Shutdown: every accepted connection gets an answer.
// Install ConnState as the http.Server's ConnState hook.
// The zero value is ready to use.
type Fresh struct {
	mu sync.Mutex
	m  map[net.Conn]struct{}
	n  atomic.Int32 // len(m), read without the lock
}

// ConnState records c's state change.
func (f *Fresh) ConnState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		f.mu.Lock()
		if f.m == nil {
			f.m = map[net.Conn]struct{}{}
		}
		f.m[c] = struct{}{}
		f.n.Add(1)
		f.mu.Unlock()
	case http.StateIdle:
		// Only a connection that was Active before becomes Idle.
	default:
		if f.n.Load() == 0 {
			return
		}
		f.mu.Lock()
		if _, ok := f.m[c]; ok {
			delete(f.m, c)
			f.n.Add(-1)
		}
		f.mu.Unlock()
	}
}

// Len returns how many connections have not sent a request yet.
func (f *Fresh) Len() int { return int(f.n.Load()) }

// Wait returns when every tracked connection has delivered its first
// request (or closed), or when ctx ends. A client that connects and sends
// nothing holds it until the server's ReadHeaderTimeout closes it.
func (f *Fresh) Wait(ctx context.Context) {
	if f.n.Load() == 0 {
		return
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for f.n.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
