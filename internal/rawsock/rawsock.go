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
// net.Conn. Measured with bench/ab: 1 MiB replies +17% requests per
// second (Go CPU per reply −25%), the seed app +3%, Flask −19% Go CPU per
// request at the same throughput. See docs/performance.md.
package rawsock

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Conn is the socket of a net.Conn, for the functions of this package.
type Conn struct {
	rc   syscall.RawConn
	nc   net.Conn
	name string // "tcp", "unix": for errors, as net.Conn names them
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
	return &Conn{rc: rc, nc: c, name: c.LocalAddr().Network()}
}

// Read reads into p as net.Conn.Read does: it waits for data, returns
// io.EOF at the end, and fails as net.Conn does when the deadline passes
// or the connection is closed.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		n, errno = read(fd, p)
		return errno != syscall.EAGAIN
	})
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
	done := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			n, e := write(fd, p[done:])
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
			done += n
		}
		return true
	})
	return done, c.fail("write", err, errno)
}

// ReadMsg reads into p and oob as net.UnixConn.ReadMsgUnix does (with
// MSG_CMSG_CLOEXEC), but returns io.EOF at the end.
func (c *Conn) ReadMsg(p, oob []byte) (n, oobn, flags int, err error) {
	var errno syscall.Errno
	err = c.rc.Read(func(fd uintptr) bool {
		n, oobn, flags, errno = recvmsg(fd, p, oob)
		return errno != syscall.EAGAIN
	})
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
