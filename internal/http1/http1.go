// Package http1 serves HTTP/1.x connections on a path shorter than
// net/http's, and hands every connection it does not fully understand to
// a net/http server.
//
// Why: for a small WSGI reply the front end's own work is most of the
// cost of a request, and net/http's per-request machinery (its response
// buffers and header clone, a goroutine and a select for its background
// read, five read deadlines, a context per connection state) was about a
// fifth of it. This package reads the request head from one buffer,
// builds the same *http.Request, and writes the response with the same
// rules, byte for byte: the differential tests run one handler behind
// both servers and compare what the client receives.
//
// It takes only the common, unambiguous requests: HTTP/1.0 or 1.1, an
// origin-form target, one Host, token header names, printable values, no
// body or a Content-Length body (with "Expect: 100-continue" or not).
// Anything else (chunked bodies, other expectations, Upgrade, HTTP/2's
// preface, malformed or oversized heads) is handed,
// with the bytes already read, to Fallback, which serves the connection
// from then on and gives the answers net/http gives, 400s included.
//
// One thing net/http cannot do: a response may be ended by a goroutine
// other than its handler's (response.FinishElsewhere), without waiting for
// the client, so that the WSGI gateway can answer a worker's reply from the
// goroutine that read it.
package http1

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.x on the fast path, with Fallback for the rest.
type Server struct {
	// Handler serves every request, on either path.
	Handler http.Handler
	// Fallback serves the connections handed to it. Its Handler should
	// be Handler; its timeouts and limits should match the fields below.
	// Serve runs it; Shutdown shuts it down.
	Fallback *http.Server
	// ReadHeaderTimeout bounds the wait for a request head (the first
	// one from when the connection is accepted); 0: none.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection; 0: none.
	IdleTimeout time.Duration
	// WriteTimeout is how long a write may wait for the client to take
	// its bytes (Apache's Timeout for a send), written in pieces of at
	// most 1 MiB so that a slow but steady client is not cut off; a
	// file sent with sendfile is not bounded. It applies to the
	// connections handed to Fallback too. 0: no limit.
	WriteTimeout time.Duration
	// MaxHeaderBytes is Fallback's limit on a request head; a longer
	// head is handed to Fallback, which answers 431. 0: no limit of
	// its own (the fast path reads at most 8 KiB).
	MaxHeaderBytes int
	// DisableKeepAlives closes each connection after one response.
	DisableKeepAlives bool
	// BackgroundReadDelay is how long a request runs before its
	// connection is watched for a client that hangs up (which cancels
	// the request's context). Default 10 ms.
	BackgroundReadDelay time.Duration

	startOnce sync.Once
	baseCtx   context.Context
	handed    *handoffListener
	inShut    atomic.Bool

	mu    sync.Mutex
	conns map[*conn]struct{}
}

func (s *Server) start() {
	s.startOnce.Do(func() {
		s.handed = &handoffListener{conns: make(chan net.Conn), done: make(chan struct{})}
		s.baseCtx = context.WithValue(context.Background(), http.ServerContextKey, s.Fallback)
		s.conns = map[*conn]struct{}{}
	})
}

// Serve accepts connections on ln until Shutdown, serving each on the
// fast path; it also runs Fallback on the connections handed to it.
// Like http.Server.Serve it returns http.ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.start()
	fallback := make(chan error, 1)
	go func() { fallback <- s.Fallback.Serve(s.handed) }()
	defer func() { <-fallback }()
	for {
		rwc, err := ln.Accept()
		if err != nil {
			s.handed.Close()
			if s.inShut.Load() {
				return http.ErrServerClosed
			}
			return err
		}
		c := &conn{srv: s, rwc: rwc}
		if !s.track(c) {
			rwc.Close()
			continue
		}
		go c.serve()
	}
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShut.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) shuttingDown() bool { return s.inShut.Load() }

func (s *Server) keepAlives() bool { return !s.DisableKeepAlives && !s.inShut.Load() }

func (s *Server) maxHead() int {
	if s.MaxHeaderBytes > 0 && s.MaxHeaderBytes < maxHead {
		return s.MaxHeaderBytes
	}
	return maxHead
}

func (s *Server) backgroundDelay() time.Duration {
	if s.BackgroundReadDelay > 0 {
		return s.BackgroundReadDelay
	}
	return 10 * time.Millisecond
}

// handoff passes c to Fallback; false if Fallback no longer takes any.
func (s *Server) handoff(c net.Conn) bool {
	select {
	case s.handed.conns <- c:
		return true
	case <-s.handed.done:
		return false
	}
}

// Shutdown stops the fast path as http.Server.Shutdown stops net/http:
// idle connections close at once, a request in progress is answered
// (with "Connection: close") and its connection closed, and a connection
// that has not sent its first request yet is waited for. Then Fallback
// is shut down. The caller closes the listeners first. When ctx ends
// first, every connection is closed and ctx's error returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.start()
	s.inShut.Store(true)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		for c := range s.conns {
			if c.state.CompareAndSwap(stateIdle, stateClosed) {
				c.rwc.Close()
			}
		}
		s.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
	s.handed.Close()
	return s.Fallback.Shutdown(ctx)
}

// Close closes every connection at once, and Fallback's.
func (s *Server) Close() error {
	s.start()
	s.inShut.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		c.rwc.Close()
	}
	s.mu.Unlock()
	s.handed.Close()
	return s.Fallback.Close()
}

// handoffListener is Fallback's listener: it yields the connections the
// fast path hands over.
type handoffListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return handoffAddr{} }

type handoffAddr struct{}

func (handoffAddr) Network() string { return "http1" }
func (handoffAddr) String() string  { return "handoff" }
