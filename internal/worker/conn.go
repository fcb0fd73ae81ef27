package worker

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/protocol"
	"wsgid/internal/rawsock"
	"wsgid/internal/shm"
	"wsgid/internal/worker/state"
)

// conn is the connection to one worker process.
type conn struct {
	g   *Group
	p   *proc
	uc  *net.UnixConn
	raw *rawsock.Conn // uc's socket, written without syscall bookkeeping
	mr  *msgReader
	pid int

	// Guarded by g.mu.
	st        state.State
	inflight  int
	accepting bool
	free      []uint16 // free slot indices
	gens      []uint16 // generation per slot, bumped on reuse
	python    string   // interpreter version the process reported
	since     time.Time
	served    uint64    // streams dispatched to this process
	limit     uint64    // maximum-requests for this process (jittered); 0 = none
	restartAt time.Time // restart-interval deadline (jittered); zero = none
	retiring  bool      // being replaced: finishing its requests
	isolated  int       // replayed streams in flight (see OpenIsolated)
	idleSince time.Time // when inflight last became 0 (inactivity-timeout)
	// done counts the streams released; doneSeen is the count dispatch
	// last saw, and progressAt when it saw it change or when the process
	// last filled its threads (see Group.stalledLocked).
	done       uint64
	doneSeen   uint64
	progressAt time.Time

	// slots[i] is the stream using slot i; read by the reader goroutine
	// without g.mu.
	slots []atomic.Pointer[Stream]

	// Coalesced writes: frames are appended to out; whoever finds no
	// writer active becomes it and writes until out is empty.
	wmu     sync.Mutex
	wdone   *sync.Cond // on wmu: broadcast when a writer finishes
	out     []byte
	spare   []byte
	writing bool
	werr    error
	// templates maps the environ blocks already sent as TypeTemplate on
	// this connection to their ids (guarded by wmu, so a definition is
	// always queued before the first request that names it).
	templates    map[string]uint32
	nextTemplate uint32

	readDone chan struct{}
	readErr  error
	up       chan struct{} // closed when the process reports ready
	// draining is set once the process is retired with streams it may
	// still be running after they were failed (request-timeout).
	draining atomic.Bool
	// broken is set as soon as the connection fails either way (a write
	// error, or the reader stopped), before supervision has reaped the
	// process and taken it out of Group.live: dispatch skips it, so
	// requests do not keep landing on a process known to be gone.
	broken atomic.Bool
	// pingSent is when the unanswered deadlock-timeout probe was sent
	// (UnixNano), 0 when none is outstanding.
	pingSent atomic.Int64
	// shm is the region shared with the process for large bodies (nil
	// without one); the reader goroutine closes it when it stops.
	shm *shm.Region
}

func newConn(g *Group, p *proc, uc *net.UnixConn, pid int) *conn {
	n := g.cfg.MaxDepth
	raw := rawsock.New(uc)
	c := &conn{
		g: g, p: p, uc: uc, pid: pid,
		raw:      raw,
		mr:       newMsgReader(uc, raw),
		free:     make([]uint16, n),
		gens:     make([]uint16, n),
		slots:    make([]atomic.Pointer[Stream], n),
		readDone: make(chan struct{}),
		up:       make(chan struct{}),
		wdone:    sync.NewCond(nil),
		st:       state.Starting,
		since:    time.Now(),
	}
	c.wdone.L = &c.wmu
	c.idleSince = c.since
	c.limit, c.restartAt = g.cfg.lifetime(c.since)
	for i := range c.free {
		c.free[i] = uint16(n - 1 - i) // pop from the end: slot 0 first
	}
	return c
}

// kill ends the process group of the worker (the worker and anything
// the application forked).
func (c *conn) kill() {
	syscall.Kill(-c.pid, syscall.SIGKILL)
	syscall.Kill(c.pid, syscall.SIGKILL)
}

// reserveLocked takes a free slot for a new stream. g.mu is held and the
// caller checked inflight < MaxDepth.
func (c *conn) reserveLocked(client string, isolated bool) *Stream {
	slot := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	c.gens[slot]++
	s := &Stream{
		c:        c,
		id:       uint32(slot) + 1 | uint32(c.gens[slot])<<16,
		slot:     slot,
		client:   client,
		wake:     make(chan struct{}, 1),
		isolated: isolated,
	}
	if c.g.cfg.RequestTimeout > 0 {
		s.start = time.Now()
	}
	s.credit.Store(protocol.DefaultWindow)
	s.q = s.qa[:0]
	c.slots[slot].Store(s)
	c.inflight++
	if c.inflight == c.g.cfg.Threads {
		// Its threads are all taken from now: the stall clock starts
		// here, not at a completion seen long before.
		c.doneSeen, c.progressAt = c.done, time.Now()
	}
	if isolated {
		c.isolated++
	}
	c.p.requests++
	c.served++
	c.g.setStateLocked(c, state.Acquire)
	if c.limit > 0 && c.served >= c.limit {
		c.g.recycleLocked(c, "maximum-requests", true)
	}
	return s
}

// release returns s's slot once both the worker and the gateway are done.
func (c *conn) release(s *Stream) {
	g := c.g
	g.mu.Lock()
	c.slots[s.slot].Store(nil)
	c.free = append(c.free, s.slot)
	c.inflight--
	c.done++
	if s.isolated {
		c.isolated--
	}
	if c.inflight == 0 && c.st == state.Busy {
		g.setStateLocked(c, state.Idle)
		if g.cfg.InactivityTimeout > 0 {
			c.idleSince = time.Now() // only the monitor reads it
		}
	}
	if len(g.waiters) > 0 {
		g.serveWaitersLocked(c)
	}
	g.mu.Unlock()
}

// Writing.

// writeLocked runs the coalescing writer. c.wmu is held on entry and
// released on return.
func (c *conn) writeLocked() error {
	if c.werr != nil {
		err := c.werr
		c.wmu.Unlock()
		return err
	}
	if c.writing {
		c.wmu.Unlock()
		return nil
	}
	c.writing = true
	// Let the goroutines that are ready run first: under load they are
	// other requests bound for this process, which then append their
	// frames and leave with this write. One write for several requests
	// means fewer syscalls here and larger batches for the worker
	// (measured: 4-6% more requests per second at 64 connections, 18%
	// at 16, with less CPU per request on both sides). With nothing
	// else ready it returns at once.
	c.wmu.Unlock()
	runtime.Gosched()
	c.wmu.Lock()
	c.flushLoop()
	err := c.werr
	c.wmu.Unlock()
	return err
}

// flushLoop writes out until it is empty; c.wmu held, c.writing set.
func (c *conn) flushLoop() {
	for len(c.out) > 0 && c.werr == nil {
		buf := c.takeOutLocked()
		c.wmu.Unlock()
		_, err := c.write(buf)
		c.wmu.Lock()
		c.wroteLocked(buf, err)
	}
	c.writing = false
	c.wdone.Broadcast()
}

// write writes buf to the worker's socket.
func (c *conn) write(buf []byte) (int, error) {
	if c.raw == nil {
		return c.uc.Write(buf)
	}
	return c.raw.Write(buf)
}

// takeOutLocked hands the writer the queued frames, leaving the spare
// buffer to queue into meanwhile. c.wmu held.
func (c *conn) takeOutLocked() []byte {
	buf := c.out
	c.out = c.spare[:0]
	c.spare = nil
	return buf
}

// wroteLocked records the end of a write of buf: buf becomes the spare
// (unless oversized), and a failure marks the connection broken. c.wmu
// held.
func (c *conn) wroteLocked(buf []byte, err error) {
	if cap(buf) <= 1<<20 && c.spare == nil {
		c.spare = buf[:0]
	}
	if err != nil {
		c.broken.Store(true)
		c.werr = fmt.Errorf("writing to worker pid %d: %w", c.pid, err)
		c.out = nil
		c.uc.Close() // the reader notices and supervision takes over
	}
}

// largeData is the payload size from which SendData writes a frame
// straight from the caller's buffer (writev) instead of copying it into
// the coalesced output.
const largeData = 32 << 10

// writeLargeLocked writes the frames queued so far, then a frame of
// header hdr and payload p, without copying p, and returns once p is
// written (the caller reuses it). c.wmu held on entry, released on return.
func (c *conn) writeLargeLocked(hdr, p []byte) error {
	for c.writing && c.werr == nil {
		c.wdone.Wait()
	}
	if c.werr != nil {
		err := c.werr
		c.wmu.Unlock()
		return err
	}
	c.writing = true
	queued := c.takeOutLocked()
	c.wmu.Unlock()
	var err error
	if c.raw != nil {
		_, err = c.raw.Writev([][]byte{queued, hdr, p})
	} else {
		bufs := net.Buffers{queued, hdr, p}
		_, err = bufs.WriteTo(c.uc)
	}
	c.wmu.Lock()
	c.wroteLocked(queued, err)
	c.flushLoop() // what was queued meanwhile; clears writing
	err = c.werr
	c.wmu.Unlock()
	return err
}

// writeAsync queues frames from the reader goroutine, which must never
// block on the socket: a goroutine writes if nobody is.
func (c *conn) writeAsyncLocked() {
	if c.writing || c.werr != nil {
		c.wmu.Unlock()
		return
	}
	c.writing = true
	c.wmu.Unlock()
	go func() {
		c.wmu.Lock()
		c.flushLoop()
		c.wmu.Unlock()
	}()
}

func (c *conn) sendShutdown() {
	c.wmu.Lock()
	c.out = protocol.AppendHeader(c.out, protocol.TypeShutdown, 0, 0, 0)
	c.writeAsyncLocked()
}

func (c *conn) sendPing(now time.Time) {
	c.pingSent.Store(now.UnixNano())
	c.wmu.Lock()
	c.out = protocol.AppendHeader(c.out, protocol.TypePing, 0, 0, 0)
	c.writeAsyncLocked()
}

func (c *conn) sendDump() {
	c.wmu.Lock()
	c.out = protocol.AppendHeader(c.out, protocol.TypeDump, 0, 0, 0)
	c.writeAsyncLocked()
}

// Reading.

// protocolError is a well-formed frame that makes no sense here.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", protocol.ErrFrame, fmt.Sprintf(format, args...))
}

func (c *conn) readLoop() {
	defer close(c.readDone)
	if c.shm != nil {
		defer c.shm.Close() // unmapped once no relay still writes from it
	}
	defer c.broken.Store(true)
	r := protocol.NewReader(c.mr, 64<<10)
	r.Alloc = getBuf
	for {
		f, err := r.Next()
		if err != nil {
			c.readErr = err
			return
		}
		if err := c.handle(f); err != nil {
			c.readErr = err
			return
		}
	}
}

func (c *conn) handle(f protocol.Frame) error {
	if f.Stream == 0 {
		switch f.Type {
		case protocol.TypeReady:
			return c.ready(f.Payload)
		case protocol.TypeLog:
			c.g.log.LogPid(logLevel(f.Flags), "wsgi", "", c.pid, string(f.Payload))
			return nil
		case protocol.TypePong:
			c.pingSent.Store(0)
			return nil
		case protocol.TypeShmFree:
			off, err := protocol.Uint32(f.Payload)
			if err != nil {
				return err
			}
			if c.shm == nil || !c.shm.Give(off) {
				return protocolError("shared-memory slot %d given back but not lent", off)
			}
			return nil
		}
		return protocolError("frame type %#x on stream 0", f.Type)
	}
	slot := int(f.Stream&0xffff) - 1
	var s *Stream
	if slot >= 0 && slot < len(c.slots) {
		s = c.slots[slot].Load()
	}
	if s == nil || s.id != f.Stream {
		if c.draining.Load() {
			// A stream failed by request-timeout may still be running
			// in this retiring process: its late frames are dropped.
			if f.Type == protocol.TypeFile {
				if fd, ok := c.mr.fds.pop(); ok {
					syscall.Close(fd)
				}
			}
			return nil
		}
		switch f.Type {
		case protocol.TypeLog:
			c.g.log.LogPid(logLevel(f.Flags), "wsgi", "", c.pid, string(f.Payload))
			return nil
		case protocol.TypeFile:
			if fd, ok := c.mr.fds.pop(); ok {
				syscall.Close(fd)
			}
		}
		return protocolError("frame type %#x for unknown stream %#x", f.Type, f.Stream)
	}
	ev := Event{Type: f.Type}
	switch f.Type {
	case protocol.TypeLog:
		c.g.log.LogPid(logLevel(f.Flags), "wsgi", s.client, c.pid, string(f.Payload))
		return nil
	case protocol.TypeHeaders:
		block, body, err := protocol.SplitBlock(f.Payload)
		if err != nil {
			return err
		}
		if s.credit.Add(-int64(len(body))) < -protocol.DefaultWindow {
			return protocolError("stream %#x overran its window", f.Stream)
		}
		if f.Buf != nil {
			ev.buf = f.Buf // read straight into a buffer of ours
			ev.Block, ev.Data = block[:len(block):len(block)], body
		} else {
			ev.buf = getBuf(len(f.Payload))
			b := append((*ev.buf)[:0], block...)
			b = append(b, body...)
			*ev.buf = b
			ev.Block, ev.Data = b[:len(block):len(block)], b[len(block):]
		}
		ev.End = f.Flags&protocol.FlagEnd != 0
	case protocol.TypeData:
		if s.credit.Add(-int64(len(f.Payload))) < -protocol.DefaultWindow {
			return protocolError("stream %#x overran its window", f.Stream)
		}
		if f.Buf != nil {
			ev.buf, ev.Data = f.Buf, f.Payload
		} else {
			ev.buf = getBuf(len(f.Payload))
			*ev.buf = append((*ev.buf)[:0], f.Payload...)
			ev.Data = *ev.buf
		}
		ev.End = f.Flags&protocol.FlagEnd != 0
	case protocol.TypeShmData:
		off, n, err := protocol.ParseShmData(f.Payload)
		if err != nil {
			return err
		}
		if c.shm == nil {
			return protocolError("shared-memory frame on stream %#x without a region", f.Stream)
		}
		p, ok := c.shm.Slice(off, n)
		if !ok {
			return protocolError("shared-memory frame on stream %#x names %d bytes at %d, outside the region's slots", f.Stream, n, off)
		}
		ev.Type, ev.Data, ev.shm, ev.shmOff = protocol.TypeData, p, c, off
		if s.credit.Add(-int64(n)) < -protocol.DefaultWindow {
			ev.Release()
			return protocolError("stream %#x overran its window", f.Stream)
		}
		ev.End = f.Flags&protocol.FlagEnd != 0
	case protocol.TypeFile:
		fd, ok := c.mr.fds.pop()
		if !ok {
			return protocolError("file frame on stream %#x without a descriptor", f.Stream)
		}
		off, n, err := protocol.ParseFile(f.Payload)
		if err != nil {
			syscall.Close(fd)
			return err
		}
		ev.File = os.NewFile(uintptr(fd), "wsgi.file_wrapper")
		ev.Offset, ev.Length = off, n
		ev.End = f.Flags&protocol.FlagEnd != 0
	case protocol.TypeRead:
		n, err := protocol.Uint32(f.Payload)
		if err != nil {
			return err
		}
		ev.N = n
	case protocol.TypeRestart:
		c.failStream(s, &Error{Status: 503, Group: c.g.cfg.Name, Pid: c.pid, Err: ErrScriptChanged})
		c.g.recycleAll("script-reloading")
		return nil
	case protocol.TypeError:
		st, reason, err := protocol.ParseError(f.Payload)
		if err != nil {
			return err
		}
		ev.Status, ev.Reason, ev.End = st, reason, true
	default:
		return protocolError("unexpected frame type %#x on stream %#x", f.Type, f.Stream)
	}
	s.push(ev)
	return nil
}

func (c *conn) ready(payload []byte) error {
	var pid int
	var py string
	err := protocol.ParsePairs(payload, func(k, v []byte) {
		switch string(k) {
		case "pid":
			pid, _ = strconv.Atoi(string(v))
		case "python":
			py = string(v)
		}
	})
	if err != nil {
		return err
	}
	g := c.g
	g.mu.Lock()
	if c.st != state.Starting {
		st := c.st
		g.mu.Unlock()
		if st == state.Draining {
			return nil
		}
		return protocolError("ready in state %v", st)
	}
	g.setStateLocked(c, state.ReadyEv)
	g.failure = nil
	c.python = py
	c.accepting = true
	c.idleSince = time.Now()
	close(c.up)
	g.live = append(g.live, c)
	if c.p.first {
		c.p.first = false
		close(c.p.readyCh)
	}
	g.serveWaitersLocked(c)
	g.mu.Unlock()
	if pid != 0 && pid != c.pid {
		g.log.Log(errorlog.Warn, "wsgi", "", "wsgid (pid=%d): process reports pid %d", c.pid, pid)
	}
	g.log.Log(errorlog.Info, "wsgi", "", "wsgid (pid=%d): process '%s' started (Python %s)", c.pid, g.cfg.Name, py)
	return nil
}

// fail ends every stream still in flight with err; it returns how many
// there were.
func (c *conn) fail(err error) int {
	n := 0
	for i := range c.slots {
		if s := c.slots[i].Load(); s != nil && c.failStream(s, err) {
			n++
		}
	}
	return n
}

// failStream ends s with err unless it has ended already; g.mu must not
// be held. It reports whether s was still in flight.
func (c *conn) failStream(s *Stream, err error) bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended = true
	s.err = err
	rel := s.released
	s.mu.Unlock()
	s.signal()
	if rel {
		c.release(s)
	}
	return true
}

func logLevel(f protocol.Flags) errorlog.Level {
	l := errorlog.Level(f)
	if l < errorlog.Emerg || l > errorlog.Debug {
		return errorlog.Error
	}
	return l
}

// Buffers for event payloads, reused across requests: small ones for
// typical replies, window-sized ones for large bodies (allocating and
// clearing a fresh megabyte per frame was a fifth of the CPU of a 1 MiB
// reply).
var (
	bufPool      = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
	largeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, largeBuf); return &b }}
)

// largeBuf holds a window's worth of body plus a header block.
const largeBuf = protocol.DefaultWindow + 64<<10

func getBuf(n int) *[]byte {
	switch {
	case n <= 4096:
		return bufPool.Get().(*[]byte)
	case n <= largeBuf:
		return largeBufPool.Get().(*[]byte)
	}
	b := make([]byte, 0, n)
	return &b
}

func putBuf(b *[]byte) {
	*b = (*b)[:0]
	switch cap(*b) {
	case 4096:
		bufPool.Put(b)
	case largeBuf:
		largeBufPool.Put(b)
	}
}

// Event is one frame from the worker for a stream, with its payload
// copied out of the reader's buffer.
type Event struct {
	// Type is TypeHeaders, TypeData, TypeFile, TypeRead or TypeError.
	Type protocol.Type
	// End marks the last event of the stream.
	End bool
	// Block is the TypeHeaders block ("status\0name\0value\0...").
	Block []byte
	// Data is response body bytes (TypeHeaders, TypeData).
	Data []byte
	// File, Offset and Length are a TypeFile region; the receiver owns
	// File and closes it.
	File           *os.File
	Offset, Length int64
	// N is the byte count a TypeRead asks for.
	N uint32
	// Status and Reason are a TypeError's. Reason is for the log only.
	Status int
	Reason string
	// Direct marks the event that stands for a reply already handled on
	// the reader goroutine by the stream's ReplyTaker (SetDirect).
	Direct bool

	buf *[]byte
	// shm is set when Data is a slot of the connection's shared region,
	// at shmOff: Release hands the slot back to the process.
	shm    *conn
	shmOff uint32
}

// Release returns the event's buffer for reuse (or its shared-memory
// slot to the worker); Block and Data are invalid afterwards. It never
// blocks, so the reader goroutine may call it.
//
// A slot's SHM_FREE is queued, not written: it leaves with the next
// frame for the process (a window grant, the next request), so handing
// slots back costs the worker no wake-up of its own. A worker short of
// slots meanwhile sends over the socket; it never waits for one.
func (e *Event) Release() {
	if c := e.shm; c != nil {
		e.shm = nil
		c.wmu.Lock()
		if c.werr == nil {
			c.out = protocol.AppendUint32Frame(c.out, protocol.TypeShmFree, 0, e.shmOff)
		}
		c.wmu.Unlock()
		c.shm.Release()
	}
	if e.buf != nil {
		putBuf(e.buf)
		e.buf = nil
	}
	e.Block, e.Data = nil, nil
}

// Stream is one request in flight on a worker connection. Its methods
// other than Close are for one goroutine (the request's).
type Stream struct {
	c      *conn
	id     uint32
	slot   uint16
	client string
	sent   bool // the request frame went out

	isolated bool      // opened by OpenIsolated
	start    time.Time // when it was reserved, if request-timeout is on
	timedOut bool      // failed by request-timeout (guarded by g.mu)

	credit atomic.Int64 // response bytes the worker may still send

	mu       sync.Mutex
	q        []Event
	qa       [2]Event // q's first array: most replies are one or two events
	head     int
	err      error // terminal failure (*Error)
	ended    bool  // the worker ended the stream (or died)
	released bool  // the gateway is done with it
	wake     chan struct{}

	// direct is SetDirect's taker, until the first event; directRun
	// is set while it runs on the reader goroutine.
	direct    ReplyTaker
	directRun bool
}

// ReplyTaker takes a whole reply on the goroutine that reads the worker's
// socket (Stream.SetDirect). TakeReply returns true if it has dealt with
// ev (and released it), false if it changed nothing. ev comes by value:
// a pointer handed to an unknown method would move every event the reader
// queues to the heap.
type ReplyTaker interface {
	TakeReply(ev Event) bool
}

// SetDirect has the stream's first event, if it is the whole reply (a
// TypeHeaders event that ends the stream, or one followed by an empty
// end before Next took it, as a generator's reply comes), handed to t
// on the goroutine that reads the worker's socket, before Next could
// return it. If t takes it, Next returns an event with Direct set in its
// place; if not, Next returns the event.
//
// Why: a small reply then reaches the client as soon as it is read,
// without waiting for the request's goroutine to get its turn on the
// Go thread (see wsgi's relay.TakeReply). t must never wait: it runs on
// the goroutine that serves every stream of the connection. While it
// runs, Next does not return, whatever the context or the stream's
// failure, so the request's goroutine never works on the response at the
// same time. Call SetDirect before Send.
func (s *Stream) SetDirect(t ReplyTaker) {
	s.mu.Lock()
	s.direct = t
	s.mu.Unlock()
}

// Pid returns the worker process serving the stream.
func (s *Stream) Pid() int { return s.c.pid }

// Group returns the name of the group serving the stream.
func (s *Stream) Group() string { return s.c.g.cfg.Name }

func (s *Stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push queues an event from the reader goroutine, which never blocks.
func (s *Stream) push(ev Event) {
	s.mu.Lock()
	if s.released {
		// The gateway gave up (client gone): drop, but keep the
		// stream alive until the worker ends it.
		end := ev.End
		s.ended = s.ended || end
		s.mu.Unlock()
		ev.Release()
		if ev.File != nil {
			ev.File.Close()
		}
		if ev.Type == protocol.TypeRead {
			s.c.wmu.Lock()
			s.c.out = protocol.AppendHeader(s.c.out, protocol.TypeData, protocol.FlagEnd, s.id, 0)
			s.c.writeAsyncLocked()
		}
		if end {
			s.c.release(s)
		}
		return
	}
	if ev.End {
		s.ended = true
	}
	if t := s.direct; t != nil && s.err == nil {
		s.direct = nil
		switch {
		case ev.Type == protocol.TypeHeaders && !ev.End && s.head == len(s.q):
			// Headers and a first block, the end maybe right behind
			// (a generator's reply: Flask's). Keep the taker.
			s.direct = t
		case ev.Type == protocol.TypeData && ev.End && len(ev.Data) == 0 && s.head == len(s.q)-1 &&
			s.q[s.head].Type == protocol.TypeHeaders:
			// That end, before the request's goroutine took the
			// headers: together they are a whole reply.
			whole := s.q[s.head]
			s.q[s.head] = Event{}
			s.q = s.q[:s.head]
			ev.Release()
			whole.End = true
			ev = whole
		}
		if ev.End && ev.Type == protocol.TypeHeaders && s.head == len(s.q) {
			s.directRun = true
			s.mu.Unlock()
			handled := t.TakeReply(ev)
			s.mu.Lock()
			s.directRun = false
			if handled {
				ev = Event{Direct: true, End: true}
			}
		}
	}
	if s.head > 0 && s.head == len(s.q) {
		clear(s.q)
		s.q, s.head = s.q[:0], 0
	}
	s.q = append(s.q, ev)
	s.mu.Unlock()
	s.signal()
}

// maxTemplates bounds the environ templates a connection remembers (and
// so the worker's copies of them). A server whose routes and virtual
// hosts need more starts the table over when it is full: correct, just
// slower, as every template is sent again once.
const maxTemplates = 64

// Send writes the TypeRequest frame: the environ as its fixed part (keys
// that repeat request after request, such as a route's constants) and
// its own part, and as much of the body as is inline; end says the body
// is complete. The fixed part crosses the socket once per connection, as
// a TypeTemplate the worker keeps as a ready dict: building the environ
// is most of the worker's own cost per request.
func (s *Stream) Send(fixed, environ, body []byte, end bool) error {
	var fl protocol.Flags
	if end {
		fl = protocol.FlagEnd
	}
	s.sent = true
	c := s.c
	c.wmu.Lock()
	var tmpl uint32
	if len(fixed) > 0 {
		tmpl = c.templateLocked(fixed)
	}
	c.out = protocol.AppendRequestFrame(c.out, fl, s.id, tmpl, environ, body)
	return c.writeLocked()
}

// templateLocked returns the id of the template holding fixed, queueing
// its definition first if this connection has not sent it. c.wmu held.
func (c *conn) templateLocked(fixed []byte) uint32 {
	if id, ok := c.templates[string(fixed)]; ok {
		return id
	}
	if c.templates == nil || len(c.templates) >= maxTemplates {
		c.templates = make(map[string]uint32)
		c.nextTemplate = 0
	}
	c.nextTemplate++
	id := c.nextTemplate
	c.templates[string(fixed)] = id
	c.out = protocol.AppendFrame(c.out, protocol.TypeTemplate, 0, id, fixed)
	return id
}

// SendData writes request body bytes in answer to a TypeRead; end marks
// the end of the body (p may be empty then).
func (s *Stream) SendData(p []byte, end bool) error {
	var fl protocol.Flags
	if end {
		fl = protocol.FlagEnd
	}
	c := s.c
	c.wmu.Lock()
	if len(p) >= largeData {
		var hdr [protocol.HeaderSize]byte
		return c.writeLargeLocked(protocol.AppendHeader(hdr[:0], protocol.TypeData, fl, s.id, len(p)), p)
	}
	c.out = protocol.AppendFrame(c.out, protocol.TypeData, fl, s.id, p)
	return c.writeLocked()
}

// BodySlot lends the caller a slot of the process's shared region to
// read a piece of request body into (docs/protocol.md, "Shared memory");
// ok is false when there is no region or no free slot. The slot then
// goes to SendSlot or back with ReturnSlot.
func (s *Stream) BodySlot() (off uint32, p []byte, ok bool) {
	if s.c.shm == nil {
		return 0, nil, false
	}
	return s.c.shm.Take()
}

// ReturnSlot puts back a slot from BodySlot that was not sent.
func (s *Stream) ReturnSlot(off uint32) { s.c.shm.Return(off) }

// SendSlot sends the first n bytes of the slot at off (from BodySlot) as
// request body, as SendData does; the worker copies them out and gives
// the slot back.
func (s *Stream) SendSlot(off uint32, n int, end bool) error {
	var fl protocol.Flags
	if end {
		fl = protocol.FlagEnd
	}
	c := s.c
	c.wmu.Lock()
	c.shm.Lend(off) // before the frame can reach the worker
	c.out = protocol.AppendShmData(c.out, fl, s.id, off, uint32(n))
	return c.writeLocked()
}

// Window grants the worker n more bytes of response body, after the
// gateway wrote that many to the client.
func (s *Stream) Window(n int) error {
	if n <= 0 {
		return nil
	}
	s.credit.Add(int64(n))
	c := s.c
	c.wmu.Lock()
	c.out = protocol.AppendUint32Frame(c.out, protocol.TypeWindow, s.id, uint32(n))
	return c.writeLocked()
}

// Ended reports whether the worker has ended the stream: no more
// response bytes are coming, so granting window would only wake it.
func (s *Stream) Ended() bool {
	s.mu.Lock()
	e := s.ended
	s.mu.Unlock()
	return e
}

// Pending reports whether an event is already queued, so the gateway
// can put off flushing the client connection until the queue is empty.
func (s *Stream) Pending() bool {
	s.mu.Lock()
	p := s.head < len(s.q)
	s.mu.Unlock()
	return p
}

// Next returns the next event, waiting for it. It fails with an *Error
// (502) if the worker died, or ctx's error.
func (s *Stream) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if s.head < len(s.q) {
			ev := s.q[s.head]
			s.q[s.head] = Event{}
			s.head++
			s.mu.Unlock()
			return ev, nil
		}
		if s.directRun {
			// The reply is being handled on the reader goroutine:
			// wait for it, whatever else happens (push signals when it
			// is done).
			s.mu.Unlock()
			<-s.wake
			continue
		}
		err := s.err
		if err != nil {
			s.direct = nil // the response is this goroutine's now
			s.mu.Unlock()
			return Event{}, err
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			s.mu.Lock()
			if s.directRun || s.head < len(s.q) {
				s.mu.Unlock()
				continue
			}
			s.direct = nil
			s.mu.Unlock()
			return Event{}, ctx.Err()
		}
	}
}

// Close ends the gateway's use of s. If the worker has not finished the
// stream, it is told to stop (TypeCancel) and the slot is freed when it
// ends the stream. s must not be used after Close.
func (s *Stream) Close() {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return
	}
	s.released = true
	s.direct = nil
	ended := s.ended
	for i := s.head; i < len(s.q); i++ {
		s.q[i].Release()
		if s.q[i].File != nil {
			s.q[i].File.Close()
		}
	}
	s.q, s.head = nil, 0
	s.mu.Unlock()
	if ended || !s.sent {
		s.c.release(s)
		return
	}
	c := s.c
	c.wmu.Lock()
	c.out = protocol.AppendHeader(c.out, protocol.TypeCancel, 0, s.id, 0)
	c.writeLocked()
}
