package worker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"wsgid/internal/rawsock"
)

// fdQueue is the FIFO of file descriptors received with SCM_RIGHTS and not
// yet claimed by a TypeFile frame. The worker sends each descriptor with
// the frame that uses it, so frames and descriptors pair up in order.
// Only the connection's reader goroutine touches it.
type fdQueue struct {
	fds  []int
	head int
}

func (q *fdQueue) push(fds ...int) {
	if q.head > 0 && q.head == len(q.fds) {
		q.fds, q.head = q.fds[:0], 0
	}
	q.fds = append(q.fds, fds...)
}

// pop returns the oldest descriptor, or false if none is waiting.
func (q *fdQueue) pop() (int, bool) {
	if q.head == len(q.fds) {
		return -1, false
	}
	fd := q.fds[q.head]
	q.head++
	return fd, true
}

func (q *fdQueue) len() int { return len(q.fds) - q.head }

// closeAll closes descriptors nobody claimed (the connection died).
func (q *fdQueue) closeAll() {
	for fd, ok := q.pop(); ok; fd, ok = q.pop() {
		syscall.Close(fd)
	}
	q.fds, q.head = nil, 0
}

// errTruncatedRights means the kernel dropped descriptors because the
// control buffer was too small: frames and descriptors no longer pair up.
var errTruncatedRights = errors.New("worker: SCM_RIGHTS control message truncated")

// msgReader adapts a Unix socket to io.Reader for protocol.NewReader,
// collecting passed descriptors into fds as a side effect.
type msgReader struct {
	c   *net.UnixConn
	raw *rawsock.Conn // c's socket, read without syscall bookkeeping
	oob []byte
	fds fdQueue
}

// newMsgReader reads c, through raw (rawsock.New(c), shared with the
// connection's writer) when it is not nil.
func newMsgReader(c *net.UnixConn, raw *rawsock.Conn) *msgReader {
	return &msgReader{c: c, raw: raw, oob: make([]byte, syscall.CmsgSpace(64*4))}
}

func (m *msgReader) Read(p []byte) (int, error) {
	var n, oobn, flags int
	var err error
	if m.raw != nil {
		n, oobn, flags, err = m.raw.ReadMsg(p, m.oob)
		if err == io.EOF {
			err = nil // below: io.EOF when nothing came
		}
	} else {
		n, oobn, flags, _, err = m.c.ReadMsgUnix(p, m.oob)
	}
	if oobn > 0 {
		if perr := m.parse(m.oob[:oobn]); perr != nil && err == nil {
			err = perr
		}
	}
	if err == nil && flags&syscall.MSG_CTRUNC != 0 {
		err = errTruncatedRights
	}
	if n == 0 && err == nil && len(p) > 0 {
		err = io.EOF
	}
	return n, err
}

func (m *msgReader) parse(oob []byte) error {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("worker: parsing control message: %w", err)
	}
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue // not SCM_RIGHTS (credentials): nothing to keep
		}
		m.fds.push(fds...)
	}
	return nil
}
