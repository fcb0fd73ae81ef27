package listener

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// tcpPair returns an accepted *Conn and the client end connected to it.
func tcpPair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	lc := newConn(c).(*Conn)
	t.Cleanup(func() { lc.Close(); client.Close() })
	return lc, client
}

type readResult struct {
	n   int
	b   byte
	err error
}

// readOne starts a one-byte read and returns once it is deferred.
func readOne(t *testing.T, c *Conn) chan readResult {
	t.Helper()
	done := make(chan readResult, 1)
	go func() {
		var b [1]byte
		n, err := c.Read(b[:])
		done <- readResult{n, b[0], err}
	}()
	for i := 0; !c.waiting.Load(); i++ {
		if i > 5000 {
			t.Fatal("the one-byte read was not deferred")
		}
		time.Sleep(time.Millisecond)
	}
	return done
}

func wait(t *testing.T, done chan readResult) readResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the read did not return")
		return readResult{}
	}
}

// What net/http does when a quick handler returns: the deferred read
// ends with a timeout without having read anything, so a byte that
// arrived meanwhile (a pipelined request) is still there for the next
// request.
func TestDeferredReadAbortedByDeadline(t *testing.T) {
	c, client := tcpPair(t)
	c.delay = time.Hour
	c.defers.Store(true)
	done := readOne(t, c)
	if _, err := client.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the byte is in the kernel
	c.SetReadDeadline(time.Unix(1, 0))
	r := wait(t, done)
	if r.n != 0 || !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("deferred read = %d, %v; want 0 and a timeout", r.n, r.err)
	}
	c.SetReadDeadline(time.Time{})
	var b [4]byte
	if n, err := c.Read(b[:]); n != 1 || b[0] != 'G' || err != nil {
		t.Fatalf("next read = %q, %v; want the byte sent meanwhile", b[:n], err)
	}
}

// A handler that runs longer than the delay gets the real read, so a
// byte (or a hang-up) is seen.
func TestDeferredReadStartsAfterDelay(t *testing.T) {
	c, client := tcpPair(t)
	c.delay = 5 * time.Millisecond
	c.defers.Store(true)
	done := readOne(t, c)
	time.Sleep(50 * time.Millisecond)
	client.Write([]byte("X"))
	if r := wait(t, done); r.n != 1 || r.b != 'X' || r.err != nil {
		t.Fatalf("read = %d %q %v; want the byte", r.n, r.b, r.err)
	}
}

func TestDeferredReadEndsOnClose(t *testing.T) {
	c, _ := tcpPair(t)
	c.delay = time.Hour
	c.defers.Store(true)
	done := readOne(t, c)
	c.Close()
	if r := wait(t, done); r.err == nil {
		t.Fatal("read on a closed connection succeeded")
	}
}

// Reads are deferred only on a connection marked as serving HTTP/1, and
// never after it was hijacked; reads of more than a byte never are.
func TestReadsNotDeferred(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(c *Conn)
		size int
	}{
		{"unmarked", func(c *Conn) {}, 1},
		{"hijacked", func(c *Conn) { c.defers.Store(true); Hijacked(c) }, 1},
		{"larger", func(c *Conn) { c.defers.Store(true) }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, client := tcpPair(t)
			c.delay = time.Hour
			tc.mark(c)
			client.Write([]byte("ab"))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, tc.size)
			if n, err := c.Read(b); n == 0 || err != nil {
				t.Fatalf("read = %d, %v", n, err)
			}
		})
	}
}

// Through net/http: pipelined requests are all answered, and a client
// that hangs up during a slow request still cancels its context.
func TestHTTP1BackgroundRead(t *testing.T) {
	s := NewSet()
	defer s.Close()
	g := open(t, s, "127.0.0.1:0")
	cancelled := make(chan struct{}, 1)
	hs := &http.Server{
		ConnContext: ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			HTTP1(r.Context())
			if r.URL.Path == "/slow" {
				select {
				case <-r.Context().Done():
					cancelled <- struct{}{}
				case <-time.After(5 * time.Second):
				}
				return
			}
			io.WriteString(w, r.URL.Path)
		}),
	}
	go hs.Serve(g)
	defer hs.Close()

	c, err := net.Dial("tcp", g.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var reqs strings.Builder
	for _, p := range []string{"/a", "/b", "/c"} {
		reqs.WriteString("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	if _, err := io.WriteString(c, reqs.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for _, p := range []string{"/a", "/b", "/c"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != p {
			t.Fatalf("pipelined answer %q, want %q", body, p)
		}
	}
	// The connection is marked now: hang up during a slow request.
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(3 * time.Second):
		t.Fatal("the request's context was not cancelled when the client hung up")
	}
}
