package listener

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"

	"wsgid/internal/rawsock"
)

// BackgroundReadDelay is how long an accepted connection puts off
// net/http's background read while a handler runs.
//
// While a handler runs, net/http keeps a one-byte read pending on the
// connection to notice a client that hangs up (which cancels the
// request's context) or pipelines its next request. For a request that
// is over in a millisecond that read costs a syscall that finds nothing
// (EAGAIN), a poller registration and two deadline changes, every time:
// a few percent of the front end's CPU per small request. So the read
// starts only once the handler has run this long; a request that ends
// sooner never makes it. A client that hangs up is noticed this much
// later, which matters to nobody (mod_wsgi notices only when a write
// fails); a pipelined request waits in the kernel, as it would anyway.
const BackgroundReadDelay = 10 * time.Millisecond

// Conn is an accepted TCP connection. It is a *net.TCPConn to net/http
// (sendfile, splice and CloseWrite work as before) except that its reads
// and writes go through package rawsock (the scheduler's syscall
// bookkeeping costs more than they do), and that, once HTTP1 has marked
// it, it defers one-byte reads: see BackgroundReadDelay.
type Conn struct {
	*net.TCPConn
	raw *rawsock.Conn

	// defers is set by HTTP1 and cleared by Hijacked: only net/http's
	// HTTP/1 background read may be deferred, never a read by HTTP/2 or
	// by whoever took the connection over.
	defers atomic.Bool
	// waiting is set while a deferred read waits; deadline is the read
	// deadline last set (UnixNano, 0 = none). A deferred read stores
	// waiting, then loads deadline; SetReadDeadline stores deadline,
	// then loads waiting: whichever comes second sees the other, so a
	// deadline in the past (net/http aborting the read) is never missed.
	waiting  atomic.Bool
	deadline atomic.Int64
	wake     chan struct{} // capacity 1: a deadline changed, or Close
	timer    *time.Timer   // reused by the deferred reads (one at a time)
	delay    time.Duration // BackgroundReadDelay (tests change it)
}

func newConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	lc := &Conn{TCPConn: tc, wake: make(chan struct{}, 1), delay: BackgroundReadDelay}
	lc.raw = rawsock.New(tc)
	return lc
}

// Read reads from the connection; a one-byte read on a marked connection
// first waits up to BackgroundReadDelay for a new read deadline, which is
// how net/http ends its background read when the handler returns.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 1 && c.defers.Load() {
		c.waitDeadline()
	}
	if c.raw == nil {
		return c.TCPConn.Read(p)
	}
	return c.raw.Read(p)
}

// ReadFrom sends a file with sendfile(2) through package rawsock, and
// anything else as *net.TCPConn does. net/http uses it for bodies sent
// with io.Copy (static files, wsgi.file_wrapper).
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if c.raw != nil {
		if n, handled, err := c.raw.SendFile(r); handled {
			return n, err
		}
	}
	return c.TCPConn.ReadFrom(r)
}

// Write writes p to the connection.
func (c *Conn) Write(p []byte) (int, error) {
	if c.raw == nil {
		return c.TCPConn.Write(p)
	}
	return c.raw.Write(p)
}

// TryWrite writes what of p the socket takes now, never waiting (see
// rawsock.Conn.TryWrite); n < len(p) with a nil error means it is full.
func (c *Conn) TryWrite(p []byte) (n int, err error) {
	if c.raw == nil {
		return 0, nil
	}
	return c.raw.TryWrite(p)
}

func (c *Conn) waitDeadline() {
	c.waiting.Store(true)
	defer c.waiting.Store(false)
	if d := c.deadline.Load(); d != 0 && d <= time.Now().UnixNano() {
		return // already expired: the read fails at once without a syscall
	}
	if c.timer == nil {
		c.timer = time.NewTimer(c.delay)
	} else {
		c.timer.Reset(c.delay)
	}
	select {
	case <-c.wake:
	case <-c.timer.C:
	}
	c.timer.Stop()
}

func (c *Conn) signal() {
	if c.waiting.Load() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// SetReadDeadline sets the deadline of the reads, including one being
// deferred, which then proceeds (and fails at once if t is past).
func (c *Conn) SetReadDeadline(t time.Time) error {
	err := c.TCPConn.SetReadDeadline(t)
	c.noteDeadline(t)
	return err
}

// SetDeadline is SetReadDeadline and SetWriteDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	err := c.TCPConn.SetDeadline(t)
	c.noteDeadline(t)
	return err
}

func (c *Conn) noteDeadline(t time.Time) {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	c.deadline.Store(d)
	c.signal()
}

// Close closes the connection; a deferred read proceeds and fails.
func (c *Conn) Close() error {
	err := c.TCPConn.Close()
	c.defers.Store(false)
	c.signal()
	return err
}

type connKey struct{}

// ConnContext is for http.Server.ConnContext: it lets HTTP1 find the
// connection of a request.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := unwrap(c).(*Conn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// HTTP1 marks the connection of ctx (a request's context, with
// ConnContext installed) as serving HTTP/1, whose background read may be
// deferred. The handler calls it for HTTP/1 requests; a request on the
// connection may come before it without harm (its read is not deferred).
func HTTP1(ctx context.Context) {
	if lc, ok := ctx.Value(connKey{}).(*Conn); ok && !lc.defers.Load() {
		lc.defers.Store(true)
	}
}

// Hijacked unmarks c, which its new owner reads as it likes. It is
// harmless on a connection that is not a *Conn.
func Hijacked(c net.Conn) {
	if lc, ok := unwrap(c).(*Conn); ok {
		lc.defers.Store(false)
		lc.signal()
	}
}

// unwrap returns the connection under one that package http1 handed to
// net/http (it has NetConn, as *tls.Conn does), else c.
func unwrap(c net.Conn) net.Conn {
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok {
		return nc.NetConn()
	}
	return c
}
