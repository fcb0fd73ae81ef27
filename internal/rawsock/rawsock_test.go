package rawsock

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns the accepted end of a loopback TCP connection and the
// client end.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if server = <-accepted; server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// unixPair returns both ends of a connected Unix stream socket pair.
func unixPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ends [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ends[i] = c.(*net.UnixConn)
	}
	t.Cleanup(func() { ends[0].Close(); ends[1].Close() })
	return ends[0], ends[1]
}

// Data of every size arrives whole and in order, including writes far
// larger than the socket buffer, which wait in the poller (EAGAIN).
func TestRoundTrip(t *testing.T) {
	for _, size := range []int{1, 100, 64 << 10, 8 << 20} {
		server, client := tcpPair(t)
		rs := New(server)
		want := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		errc := make(chan error, 1)
		go func() {
			n, err := rs.Write(want)
			if err == nil && n != size {
				err = io.ErrShortWrite
			}
			errc <- err
		}()
		got := make([]byte, size)
		if _, err := io.ReadFull(client, got); err != nil {
			t.Fatalf("%d bytes: client read: %v", size, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("%d bytes: write: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: data differs", size)
		}
		// And back, through Read.
		go client.Write(want)
		back := make([]byte, 0, size)
		buf := make([]byte, 32<<10)
		for len(back) < size {
			n, err := rs.Read(buf)
			if err != nil {
				t.Fatalf("%d bytes: read after %d: %v", size, len(back), err)
			}
			back = append(back, buf[:n]...)
		}
		if !bytes.Equal(back, want) {
			t.Fatalf("%d bytes: data read differs", size)
		}
	}
}

// afterReset has the client reset the connection, then writes until the
// write fails.
func afterReset(write func(rs *Conn) error) func(server, client net.Conn, rs *Conn) error {
	return func(server, client net.Conn, rs *Conn) error {
		client.(*net.TCPConn).SetLinger(0)
		client.Close()
		time.Sleep(20 * time.Millisecond)
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			err = write(rs)
		}
		return err
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// The errors are those net.Conn gives, which net/http inspects: io.EOF
// at the end, and *net.OpError with Op "read" or "write" for deadlines,
// Close and a peer that reset the connection.
func TestErrors(t *testing.T) {
	var buf [16]byte
	for _, tc := range []struct {
		name  string
		op    string
		run   func(server, client net.Conn, rs *Conn) error
		check func(error) bool
	}{
		{"eof", "", func(server, client net.Conn, rs *Conn) error {
			client.Close()
			_, err := rs.Read(buf[:])
			return err
		}, func(err error) bool { return err == io.EOF }},
		{"deadline", "read", func(server, client net.Conn, rs *Conn) error {
			server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := rs.Read(buf[:])
			return err
		}, func(err error) bool {
			var ne net.Error
			return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
		}},
		{"closed while waiting", "read", func(server, client net.Conn, rs *Conn) error {
			time.AfterFunc(20*time.Millisecond, func() { server.Close() })
			_, err := rs.Read(buf[:])
			return err
		}, func(err error) bool { return errors.Is(err, net.ErrClosed) }},
		{"reset", "write", afterReset(func(rs *Conn) error {
			_, err := rs.Write(buf[:])
			return err
		}), isReset},
		{"writev reset", "write", afterReset(func(rs *Conn) error {
			_, err := rs.Writev([][]byte{buf[:4], buf[4:]})
			return err
		}), isReset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := tcpPair(t)
			err := tc.run(server, client, New(server))
			if !tc.check(err) {
				t.Fatalf("error = %#v (%v)", err, err)
			}
			if tc.op != "" {
				var oe *net.OpError
				if !errors.As(err, &oe) || oe.Op != tc.op || oe.Net != "tcp" {
					t.Fatalf("error = %#v; want a *net.OpError for %q on tcp", err, tc.op)
				}
			}
		})
	}
}

// Writev delivers its buffers whole and in order, empty ones and ones
// far larger than the socket buffer (which wait in the poller) among
// them, and consumes them as net.Buffers does.
func TestWritev(t *testing.T) {
	a, b := unixPair(t)
	rs := New(a)
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 13 / 7)
	}
	bufs := [][]byte{[]byte("head"), nil, big, []byte{}, big[:100<<10], []byte("tail")}
	var want []byte
	for _, p := range bufs {
		want = append(want, p...)
	}
	got := make(chan []byte, 1)
	go func() {
		p, _ := io.ReadAll(io.LimitReader(b, int64(len(want))))
		got <- p
	}()
	n, err := rs.Writev(bufs)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("Writev = %d, %v; want %d bytes", n, err, len(want))
	}
	if !bytes.Equal(<-got, want) {
		t.Fatal("the reader got other bytes")
	}
	for i, p := range bufs {
		if len(p) != 0 {
			t.Fatalf("buffer %d has %d bytes left after a complete write", i, len(p))
		}
	}
}

// ReadMsg receives descriptors passed with SCM_RIGHTS, marked
// and says io.EOF when the peer closes.
func TestReadMsg(t *testing.T) {
	a, b := unixPair(t)
	f, err := os.CreateTemp(t.TempDir(), "passed")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("passed")
	defer f.Close()
	if _, _, err := a.WriteMsgUnix([]byte("hi"), syscall.UnixRights(int(f.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	rs := New(b)
	p, oob := make([]byte, 16), make([]byte, syscall.CmsgSpace(4))
	n, oobn, flags, err := rs.ReadMsg(p, oob)
	if err != nil || string(p[:n]) != "hi" || flags&syscall.MSG_CTRUNC != 0 {
		t.Fatalf("ReadMsg = %q, %d, %#x, %v", p[:n], oobn, flags, err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages: %v, %v", msgs, err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v, %v", fds, err)
	}
	got := os.NewFile(uintptr(fds[0]), "received")
	defer got.Close()
	data := make([]byte, 6)
	if _, err := got.ReadAt(data, 0); err != nil || string(data) != "passed" {
		t.Fatalf("the received descriptor reads %q, %v", data, err)
	}
	a.Close()
	if _, _, _, err := rs.ReadMsg(p, oob); err != io.EOF {
		t.Fatalf("ReadMsg after close = %v; want io.EOF", err)
	}
}

func TestNewWithoutSocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if New(a) != nil {
		t.Fatal("New(net.Pipe()) is not nil")
	}
}

// SendFile sends a file's bytes from its offset, up to a LimitedReader's
// N, and moves both on; what sendfile cannot send is left to the caller.
func TestSendFile(t *testing.T) {
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	path := t.TempDir() + "/f"
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	const off, n = 1000, 2 << 20
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Seek(off, io.SeekStart)
	server, client := tcpPair(t)
	rs := New(server)
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, n)
		io.ReadFull(client, b)
		got <- b
	}()
	lr := &io.LimitedReader{R: f, N: n}
	written, handled, err := rs.SendFile(lr)
	if !handled || err != nil || written != n {
		t.Fatalf("SendFile = %d, %v, %v; want %d bytes", written, handled, err, n)
	}
	if !bytes.Equal(<-got, data[off:off+n]) {
		t.Fatal("the client got other bytes")
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); lr.N != 0 || pos != off+n {
		t.Fatalf("after: N = %d, offset %d; want 0 and %d", lr.N, pos, off+n)
	}

	// Not for it: another reader, and a pipe (sendfile needs a file).
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	pw.Write([]byte("piped"))
	for name, r := range map[string]io.Reader{"reader": bytes.NewReader(data), "pipe": pr} {
		if written, handled, err := rs.SendFile(r); handled || written != 0 || err != nil {
			t.Fatalf("%s: SendFile = %d, %v, %v; want it left to the caller", name, written, handled, err)
		}
	}
}

// A read and a write that need no waiting allocate nothing: they run on
// every request, twice.
func TestNoAllocs(t *testing.T) {
	server, client := tcpPair(t)
	rs := New(server)
	a, b := unixPair(t)
	ra := New(a)
	msg := []byte("GET / HTTP/1.1\r\n\r\n")
	buf := make([]byte, 4096)
	oob := make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := client.Write(msg); err != nil {
			t.Fatal(err)
		}
		if n, err := rs.Read(buf); err != nil || n != len(msg) {
			t.Fatalf("Read = %d, %v", n, err)
		}
		if _, err := rs.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Write(msg); err != nil {
			t.Fatal(err)
		}
		if n, _, _, err := ra.ReadMsg(buf, oob); err != nil || n != len(msg) {
			t.Fatalf("ReadMsg = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per read, write and recvmsg; want 0", allocs)
	}
}

// TryWrite takes what the socket has room for and returns at once when it
// is full, where Write would wait; the bytes it reports written are the
// ones the peer reads, in order. A closed peer is an error, not a stall.
func TestTryWrite(t *testing.T) {
	a, b := unixPair(t)
	rs := New(a)
	big := make([]byte, 8<<20) // far beyond a socket buffer
	for i := range big {
		big[i] = byte(i * 31 / 7)
	}
	done := make(chan struct{})
	var n int
	var err error
	go func() {
		n, err = rs.TryWrite(big)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("TryWrite waited for a peer that does not read")
	}
	if err != nil || n <= 0 || n >= len(big) {
		t.Fatalf("TryWrite = %d, %v; want some but not all of %d bytes", n, err, len(big))
	}
	if m, err := rs.TryWrite(big[n:]); err != nil || m != 0 {
		t.Fatalf("TryWrite on a full socket = %d, %v; want 0, nil", m, err)
	}
	got := make([]byte, n)
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, big[:n]) {
		t.Fatalf("the peer read other bytes than were reported written (%v)", err)
	}
	// Room again: a small write goes whole.
	if m, err := rs.TryWrite([]byte("tail")); err != nil || m != 4 {
		t.Fatalf("TryWrite after the peer read = %d, %v; want 4, nil", m, err)
	}
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := rs.TryWrite([]byte("x")); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("TryWrite to a closed peer never failed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
