package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// maxHead is the largest request head the fast path reads, and the size
// of each connection's read buffer; a longer head (big cookies) goes to
// net/http, which applies MaxHeaderBytes.
const maxHead = 8 << 10

// Connection states, for Shutdown.
const (
	stateNew    int32 = iota // accepted, no request yet
	stateActive              // reading or serving a request
	stateIdle                // between requests
	stateClosed              // closed by Shutdown
)

// conn is one client connection on the fast path.
type conn struct {
	srv  *Server
	rwc  net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer // over errWriter: records werr
	werr error
	// noWait is set while a response is written under FinishElsewhere:
	// errWriter then writes only what the socket takes at once and keeps
	// the rest in unsent, for the handler's goroutine to write.
	noWait bool
	unsent []byte
	base   context.Context
	remote string
	state  atomic.Int32
	clen   [20]byte
	wd     writeDeadline
	// snap and snapVals hold the response header's snapshot (see
	// response.snapshot), reused from request to request.
	snap     http.Header
	snapVals []string
	dateAt   int64 // the second dateB was formatted for
	dateB    []byte

	// The background read notices a client that hangs up during a long
	// request (it cancels the request's context), as net/http's does.
	// It starts only after Server.BackgroundReadDelay: a quick request never
	// pays for it.
	bgMu      sync.Mutex
	bgTimer   *time.Timer
	bgReq     *reqState // the request the timer is for; nil when none
	bgDone    chan struct{}
	bgByte    [1]byte
	bgHave    bool  // bgByte holds the first byte of the next request
	bgErr     error // the read failed: the client is gone
	bgAborted bool
}

// reqState is what the background read needs of the current request.
type reqState struct {
	cancel context.CancelFunc
	body   *body
}

// errWriter notes the first write error, as net/http's
// checkConnErrorWriter does.
type errWriter struct{ c *conn }

func (w errWriter) Write(p []byte) (int, error) {
	c := w.c
	if c.noWait {
		return c.writeNoWait(p)
	}
	if err := c.writeUnsent(); err != nil {
		return 0, err
	}
	return c.writeNow(p)
}

func (c *conn) writeNow(p []byte) (int, error) {
	n, err := c.wd.write(c.rwc, c.srv.WriteTimeout, p)
	if err != nil && c.werr == nil {
		c.werr = err
	}
	return n, err
}

// writeNoWait writes under FinishElsewhere: what the socket takes now,
// the rest (and everything after it, to keep the order) into unsent.
func (c *conn) writeNoWait(p []byte) (int, error) {
	n := 0
	if len(c.unsent) == 0 {
		var err error
		n, err = c.rwc.(tryWriter).TryWrite(p)
		if err != nil {
			if c.werr == nil {
				c.werr = err
			}
			return n, err
		}
	}
	c.unsent = append(c.unsent, p[n:]...)
	return len(p), nil
}

// writeUnsent writes, on the handler's goroutine, what was left unsent
// under FinishElsewhere; every other write of the connection calls it
// first, so the bytes keep their order.
func (c *conn) writeUnsent() error {
	if len(c.unsent) == 0 {
		return nil
	}
	_, err := c.writeNow(c.unsent)
	if cap(c.unsent) > 64<<10 {
		c.unsent = nil // do not keep a big reply's buffer for the connection's life
	} else {
		c.unsent = c.unsent[:0]
	}
	return err
}

// writePiece is the most written to a client under one write deadline,
// so that a client that takes bytes slowly but steadily is not cut off.
const writePiece = 1 << 20

// writeDeadline bounds writes to a client as Apache's Timeout bounds a
// send: each piece may wait that long for the client to take it. The
// deadline is set at most once a second (the runtime's timer is not
// free), so a write may wait up to a second less than the timeout.
type writeDeadline struct {
	at time.Time // the deadline last set on the connection; zero: none
}

func (wd *writeDeadline) write(c net.Conn, d time.Duration, p []byte) (int, error) {
	if d <= 0 {
		return c.Write(p)
	}
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), writePiece)]
		if now := time.Now(); wd.at.IsZero() || now.Add(d-time.Second).After(wd.at) {
			wd.at = now.Add(d)
			c.SetWriteDeadline(wd.at)
		}
		m, err := c.Write(piece)
		n += m
		p = p[m:]
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// lift removes the deadline before a send that has none (sendfile of a
// file, whose pieces the kernel sizes).
func (wd *writeDeadline) lift(c net.Conn) {
	if !wd.at.IsZero() {
		wd.at = time.Time{}
		c.SetWriteDeadline(time.Time{})
	}
}

// connReader is what the connection's bufio.Reader reads: the byte a
// background read took, then the socket.
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	if c.bgHave && len(p) > 0 {
		c.bgHave = false
		p[0] = c.bgByte[0]
		return 1, nil
	}
	return c.rwc.Read(p)
}

func (c *conn) serve() {
	defer c.srv.untrack(c)
	defer func() {
		// A bug of this package's own ends this connection, never the
		// server (the handler's panics are runHandler's).
		if err := recover(); err != nil {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			log.Printf("http1: panic serving %v: %v\n%s", c.remote, err, buf)
			c.rwc.Close()
		}
	}()
	c.remote = c.rwc.RemoteAddr().String()
	c.base = context.WithValue(c.srv.baseCtx, http.LocalAddrContextKey, c.rwc.LocalAddr())
	c.br = bufio.NewReaderSize(connReader{c}, maxHead)
	c.bw = bufio.NewWriterSize(errWriter{c}, 4<<10)
	first := true
	for {
		if !first {
			c.state.Store(stateIdle)
			if c.srv.shuttingDown() {
				c.close()
				return
			}
		}
		head, ok := c.readHead(first)
		if !ok {
			if head == nil {
				c.close()
				return
			}
			c.handoff()
			return
		}
		first = false
		if !c.serveOne(head) {
			return
		}
	}
}

// readHead waits for a complete request head in the buffer. It returns
// (head, true) when the head is there and the fast path takes it;
// (non-nil, false) to hand the connection to net/http; (nil, false)
// when the connection is done (closed, timed out, broken).
func (c *conn) readHead(first bool) ([]byte, bool) {
	srv := c.srv
	var d time.Duration
	if first {
		d = srv.ReadHeaderTimeout
	} else {
		d = srv.IdleTimeout
	}
	if d > 0 {
		c.rwc.SetReadDeadline(time.Now().Add(d))
	} else {
		c.rwc.SetReadDeadline(time.Time{})
	}
	waited := false
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if len(buf) > 0 && !first && c.state.Load() != stateActive {
			if !c.state.CompareAndSwap(stateIdle, stateActive) {
				return nil, false // Shutdown closed it
			}
		}
		if i := bytes.Index(buf, headEnd); i >= 0 && i+4 <= srv.maxHead() && !bareLF(buf[:i]) {
			return buf[:i+4], true
		}
		if len(buf) > 0 && (buf[0] < 'A' || buf[0] > 'Z') || len(buf) >= srv.maxHead() || bareLF(buf) {
			return buf, false // not a request the fast path knows: net/http answers it
		}
		if len(buf) > 0 && !waited {
			// The head arrives in pieces: from here net/http's
			// header deadline applies.
			waited = true
			if srv.ReadHeaderTimeout > 0 && !first {
				c.rwc.SetReadDeadline(time.Now().Add(srv.ReadHeaderTimeout))
			}
		}
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return nil, false
		}
	}
}

// holdBuffers are the responses' bufferBeforeChunking buffers, taken for
// a request and given back after it, so an idle connection holds none.
var holdBuffers sync.Pool

var headEnd = []byte("\r\n\r\n")

// bareLF reports whether b has a line feed without its carriage return,
// which net/http reads as a line end and the fast path does not.
func bareLF(b []byte) bool {
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// serveOne parses and serves the request whose head readHead found at
// the start of the buffer. It returns false once the connection is
// closed or handed off.
func (c *conn) serveOne(raw []byte) bool {
	c.state.Store(stateActive)
	h, ok := parseHead(raw)
	if !ok {
		c.handoff()
		return false
	}
	ctx, cancel := context.WithCancel(c.base)
	req, ok := h.request(ctx, c.remote)
	if !ok {
		cancel()
		c.handoff()
		return false
	}
	c.br.Discard(len(raw))
	if h.length > 0 {
		// net/http lifts the header deadline once the head is read.
		c.rwc.SetReadDeadline(time.Time{})
	}
	rs := &response{
		c:                c,
		req:              req,
		handlerHeader:    make(http.Header),
		contentLength:    -1,
		wants10KeepAlive: h.keepAlive10,
		wantsClose:       h.minor == 1 && h.close,
	}
	if h.length > 0 {
		rs.body = &body{r: c.br, remaining: h.length}
		req.Body = rs.body
		if h.expect {
			rs.expect = true
			rs.body.continue100 = rs.writeContinue
		}
	}
	if w, _ := holdBuffers.Get().(*bufio.Writer); w != nil {
		w.Reset(chunkWriter{rs})
		rs.w = w
	} else {
		rs.w = bufio.NewWriterSize(chunkWriter{rs}, bufferBeforeChunking)
	}

	st := &reqState{cancel: cancel, body: rs.body}
	c.armBackgroundRead(st)
	if !c.runHandler(rs, req) {
		c.endBackgroundRead()
		cancel()
		c.writeUnsent()
		c.bw.Flush() // what the handler flushed before it gave up
		c.close()
		return false
	}
	if !rs.elsewhere {
		rs.finish()
	}
	c.writeUnsent()
	gone := c.endBackgroundRead()
	cancel()
	if gone || !rs.reusable() || !c.srv.keepAlives() {
		if rs.bodyLimitHit || (rs.body != nil && rs.body.earlyClose) {
			c.closeWriteAndWait()
		}
		c.close()
		return false
	}
	return true
}

// runHandler calls the handler; a panic ends the connection, and one
// other than http.ErrAbortHandler is logged, as net/http does.
func (c *conn) runHandler(rs *response, req *http.Request) (ok bool) {
	defer func() {
		if err := recover(); err != nil {
			if err != http.ErrAbortHandler {
				const size = 64 << 10
				buf := make([]byte, size)
				buf = buf[:runtime.Stack(buf, false)]
				log.Printf("http: panic serving %v: %v\n%s", c.remote, err, buf)
			}
			ok = false
		}
	}()
	c.srv.Handler.ServeHTTP(rs, req)
	return true
}

// armBackgroundRead starts the timer of the background read for a
// request.
func (c *conn) armBackgroundRead(st *reqState) {
	c.bgMu.Lock()
	c.bgReq = st
	c.bgAborted = false
	c.bgMu.Unlock()
	if c.bgTimer == nil {
		c.bgTimer = time.AfterFunc(c.srv.backgroundDelay(), c.startBackgroundRead)
	} else {
		c.bgTimer.Reset(c.srv.backgroundDelay())
	}
}

func (c *conn) startBackgroundRead() {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	st := c.bgReq
	if st == nil || c.bgDone != nil || c.bgHave {
		return
	}
	if st.body != nil {
		if !st.body.mu.TryLock() {
			return // a body read is in progress: it notices a hang-up
		}
		pending := !st.body.sawEOF && !st.body.closed
		st.body.mu.Unlock()
		if pending {
			return // the handler reads the body: its reads notice a hang-up
		}
	}
	if c.br.Buffered() > 0 {
		return // the next request is here already
	}
	done := make(chan struct{})
	c.bgDone = done
	c.rwc.SetReadDeadline(time.Time{})
	go func() {
		n, err := c.rwc.Read(c.bgByte[:])
		c.bgMu.Lock()
		if n == 1 {
			c.bgHave = true
		}
		var ne net.Error
		if err != nil && !(c.bgAborted && errors.As(err, &ne) && ne.Timeout()) {
			c.bgErr = err
			st.cancel()
		}
		c.bgMu.Unlock()
		close(done)
	}()
}

// endBackgroundRead stops the timer and any read it started, and reports
// whether that read found the client gone.
func (c *conn) endBackgroundRead() bool {
	c.bgTimer.Stop()
	c.bgMu.Lock()
	c.bgReq = nil
	done := c.bgDone
	c.bgAborted = true
	c.bgMu.Unlock()
	if done == nil {
		return false
	}
	c.rwc.SetReadDeadline(aLongTimeAgo)
	<-done
	c.bgMu.Lock()
	c.bgDone = nil
	gone := c.bgErr != nil
	c.bgMu.Unlock()
	return gone
}

var aLongTimeAgo = time.Unix(1, 0)

// handoff gives the connection, with the bytes read so far, to the
// net/http server, which serves it from then on.
func (c *conn) handoff() {
	buf, _ := c.br.Peek(c.br.Buffered())
	pre := make([]byte, len(buf), len(buf)+1)
	copy(pre, buf)
	if c.bgHave {
		pre = append(pre, c.bgByte[0])
	}
	c.rwc.SetReadDeadline(time.Time{})
	if !c.srv.handoff(&handedConn{Conn: c.rwc, pre: pre, timeout: c.srv.WriteTimeout, wd: c.wd}) {
		c.rwc.Close()
	}
}

func (c *conn) close() {
	c.bw.Flush()
	c.rwc.Close()
}

// closeWriteAndWait half-closes the connection and waits a moment before
// the full close, so that a client still sending a body it was not asked
// for reads the response before a reset (net/http's rstAvoidanceDelay).
func (c *conn) closeWriteAndWait() {
	c.bw.Flush()
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	time.Sleep(500 * time.Millisecond)
}

// date returns the Date header's value, formatted once a second.
func (c *conn) date() []byte {
	now := time.Now()
	if s := now.Unix(); s != c.dateAt || c.dateB == nil {
		c.dateAt = s
		c.dateB = now.UTC().AppendFormat(c.dateB[:0], http.TimeFormat)
	}
	return c.dateB
}

// handedConn is a connection handed to net/http: its first reads return
// the bytes the fast path had already read.
type handedConn struct {
	net.Conn
	pre     []byte
	timeout time.Duration // Server.WriteTimeout
	wd      writeDeadline
}

// Write bounds net/http's writes as the fast path's are.
func (h *handedConn) Write(p []byte) (int, error) {
	return h.wd.write(h.Conn, h.timeout, p)
}

func (h *handedConn) Read(p []byte) (int, error) {
	if len(h.pre) > 0 {
		n := copy(p, h.pre)
		h.pre = h.pre[n:]
		return n, nil
	}
	return h.Conn.Read(p)
}

// ReadFrom keeps sendfile for net/http's responses.
func (h *handedConn) ReadFrom(r io.Reader) (int64, error) {
	h.wd.lift(h.Conn)
	if rf, ok := h.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{h.Conn}, r)
}

// CloseWrite serves net/http's gentle close.
func (h *handedConn) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn returns the connection under h, for whoever needs the real one
// (listener.ConnContext).
func (h *handedConn) NetConn() net.Conn { return h.Conn }
