// Package rawsock reads and writes non-blocking sockets without the Go
// runtime's bookkeeping for system calls that may block.
//
// A read or write through net.Conn enters the kernel with
// syscall.Syscall, which tells the scheduler the goroutine may block
// there. That has two costs here, where wsgid runs on one Go thread
// beside its Python workers:
//
//   - When the process has been idle (waiting for its workers, as under
//     any application slower than the seed), the runtime's monitor thread
//     sleeps, and the first such call wakes it; it then checks the
//     threads every 20 µs for a while. On the Flask benchmark this was
//     16% of the front end's CPU.
//   - A call that lasts more than 20 µs (a write to a loopback client
//     runs the receiver's TCP input; a 1 MiB write much longer) has its
//     thread's P taken away and handed to another thread, which is two
//     context switches for a call that never blocks.
//
// wsgid's sockets are non-blocking, so their reads and writes return at
// once, with EAGAIN at worst: syscall.RawSyscall suits them. The
// functions here make the call inside the socket's RawConn, which waits
// in the poller on EAGAIN and keeps deadlines and Close working as for
// net.Conn; SendFile does the same for sendfile(2). Measured with
// bench/ab: 1 MiB replies +17% requests per second (Go CPU per reply
// −25%), Flask +4.5% (−17% Go CPU per request), a 64 MiB
// wsgi.file_wrapper reply −22% Go CPU at the same throughput, the seed
// app level (docs/performance.md, step 5); Writev, for upload bodies on
// their way to a worker, 1 MiB uploads +10% (−18% Go CPU, step 6).
package rawsock

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// Conn is the socket of a net.Conn, for the functions of this package.
type Conn struct {
	rc   syscall.RawConn
	nc   net.Conn
	name string // "tcp", "unix": for errors, as net.Conn names them

	// The state of the read and the write in progress, with the
	// callbacks RawConn runs, made once per connection: a closure per
	// call would escape to the heap with the variables it captures,
	// two or three allocations per call (a fifth of the allocations of
	// a seed request). rmu and wmu keep concurrent calls apart.
	rmu sync.Mutex
	rd  readOp
	wmu sync.Mutex
	wr  writeOp
}

// readOp is a read or recvmsg in progress.
type readOp struct {
	p, oob         []byte
	msg            bool // recvmsg, not read
	n, oobn, flags int
	errno          syscall.Errno
	fn             func(fd uintptr) bool
}

func (op *readOp) do(fd uintptr) bool {
	if op.msg {
		op.n, op.oobn, op.flags, op.errno = recvmsg(fd, op.p, op.oob)
	} else {
		op.n, op.errno = read(fd, op.p)
	}
	return op.errno != syscall.EAGAIN
}

// writeOp is a write in progress: p[done:] is what is left. try: return
// on EAGAIN instead of waiting in the poller.
type writeOp struct {
	p     []byte
	done  int
	try   bool
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

func (op *writeOp) do(fd uintptr) bool {
	for op.done < len(op.p) {
		n, e := write(fd, op.p[op.done:])
		if e == syscall.EAGAIN {
			return op.try
		}
		if e == 0 && n == 0 {
			e = syscall.EIO // no progress and no reason: do not spin
		}
		if e != 0 {
			op.errno = e
			return true
		}
		op.done += n
	}
	return true
}

// New returns c's socket, or nil when c has none (a net.Pipe, a TLS
// connection), for which the callers use c's own methods.
func New(c net.Conn) *Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	rs := &Conn{rc: rc, nc: c, name: c.LocalAddr().Network()}
	rs.rd.fn = rs.rd.do
	rs.wr.fn = rs.wr.do
	return rs
}

// Read reads into p as net.Conn.Read does: it waits for data, returns
// io.EOF at the end, and fails as net.Conn does when the deadline passes
// or the connection is closed.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	op := &c.rd
	op.p, op.msg, op.n, op.errno = p, false, 0, 0
	err := c.rc.Read(op.fn)
	n, errno := op.n, op.errno
	op.p = nil
	c.rmu.Unlock()
	if err = c.fail("read", err, errno); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p as net.Conn.Write does, waiting while the socket
// is full.
func (c *Conn) Write(p []byte) (int, error) {
	return c.write(p, false)
}

// TryWrite writes what of p the socket takes now and never waits: n <
// len(p) with a nil error means the socket is full. It serves a
// goroutine that must not block on one client, such as the one that
// reads a worker's replies for many (see http1's response.FinishElsewhere).
func (c *Conn) TryWrite(p []byte) (n int, err error) {
	return c.write(p, true)
}

func (c *Conn) write(p []byte, try bool) (int, error) {
	c.wmu.Lock()
	op := &c.wr
	op.p, op.done, op.try, op.errno = p, 0, try, 0
	err := c.rc.Write(op.fn)
	done, errno := op.done, op.errno
	op.p = nil
	c.wmu.Unlock()
	return done, c.fail("write", err, errno)
}

// Writev writes the buffers in order with writev(2), as net.Buffers'
// WriteTo does, waiting while the socket is full. Like WriteTo it
// consumes bufs: on return the buffers left hold what was not written.
func (c *Conn) Writev(bufs [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var total int64
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for {
			for len(bufs) > 0 && len(bufs[0]) == 0 {
				bufs = bufs[1:]
			}
			if len(bufs) == 0 {
				return true
			}
			n, e := writev(fd, bufs)
			if e == syscall.EAGAIN {
				return false
			}
			if e == 0 && n == 0 {
				e = syscall.EIO // no progress and no reason: do not spin
			}
			if e != 0 {
				errno = e
				return true
			}
			total += int64(n)
			for n > 0 {
				k := min(n, len(bufs[0]))
				bufs[0] = bufs[0][k:]
				n -= k
				if len(bufs[0]) == 0 {
					bufs = bufs[1:]
				}
			}
		}
	})
	return total, c.fail("write", err, errno)
}

// ReadMsg reads into p and oob as net.UnixConn.ReadMsgUnix does (with
// MSG_CMSG_CLOEXEC), but returns io.EOF at the end.
func (c *Conn) ReadMsg(p, oob []byte) (n, oobn, flags int, err error) {
	c.rmu.Lock()
	op := &c.rd
	op.p, op.oob, op.msg = p, oob, true
	op.n, op.oobn, op.flags, op.errno = 0, 0, 0, 0
	err = c.rc.Read(op.fn)
	n, oobn, flags = op.n, op.oobn, op.flags
	errno := op.errno
	op.p, op.oob = nil, nil
	c.rmu.Unlock()
	if err = c.fail("read", err, errno); err != nil {
		return 0, 0, 0, err
	}
	if n == 0 && oobn == 0 && len(p) > 0 {
		return 0, 0, flags, io.EOF
	}
	return n, oobn, flags, nil
}

// fail returns the error net.Conn would: an *net.OpError whose Op is
// "read" or "write" (net/http looks at it to tell a client that went
// away from a broken request), around the system call's error or the
// poller's (a deadline, a closed connection).
func (c *Conn) fail(op string, err error, errno syscall.Errno) error {
	switch {
	case err != nil:
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err // RawConn says "raw-read"
		}
	case errno != 0:
		err = os.NewSyscallError(op, errno)
	default:
		return nil
	}
	return &net.OpError{Op: op, Net: c.name, Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: err}
}

// maxSendfile bounds one sendfile call, as the net package does.
const maxSendfile = 4 << 20

// SendFile sends a file to the socket with sendfile(2), as
// net.TCPConn.ReadFrom does for r an *os.File or an *io.LimitedReader
// around one (the file's offset advances, and the LimitedReader's N
// shrinks, by what was sent). handled is false, with nothing sent, for
// any other reader or a file sendfile cannot send; the caller then
// copies.
func (c *Conn) SendFile(r io.Reader) (written int64, handled bool, err error) {
	remain := int64(1<<63 - 1)
	lr, ok := r.(*io.LimitedReader)
	if ok {
		remain, r = lr.N, lr.R
		if remain <= 0 {
			return 0, true, nil
		}
	}
	f, ok := r.(*os.File)
	if !ok {
		return 0, false, nil
	}
	fc, ferr := f.SyscallConn()
	if ferr != nil {
		return 0, false, nil
	}
	var errno syscall.Errno
	ferr = fc.Read(func(src uintptr) bool {
		err = c.rc.Write(func(dst uintptr) bool {
			for remain > 0 {
				n, e := sendfile(dst, src, min(remain, maxSendfile))
				switch {
				case e == syscall.EAGAIN:
					return false
				case e != 0:
					errno = e
					return true
				case n == 0:
					return true // the file ended early
				}
				written += int64(n)
				remain -= int64(n)
			}
			return true
		})
		return true
	})
	if lr != nil {
		lr.N -= written
	}
	if written == 0 && (errno == syscall.EINVAL || errno == syscall.ENOSYS || errno == syscall.EOPNOTSUPP) {
		return 0, false, nil // not a file sendfile can send
	}
	if ferr != nil && err == nil {
		err = ferr
	}
	return written, true, c.fail("readfrom", err, errno)
}
