package http1

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgid/internal/rawsock"
)

// tryListener hands out connections that can write without waiting, as
// the server's listener.Conn can; FinishElsewhere needs one.
type tryListener struct{ net.Listener }

type tryConn struct {
	*net.TCPConn
	raw *rawsock.Conn
}

func (c tryConn) TryWrite(p []byte) (int, error) { return c.raw.TryWrite(p) }

func (l tryListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	return tryConn{TCPConn: tc, raw: rawsock.New(tc)}, nil
}

// fastTry runs h behind this package on a tryListener.
func fastTry(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &Server{Handler: h, Fallback: &http.Server{Handler: h, ErrorLog: quietLog(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second},
		ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second}
	go fs.Serve(tryListener{ln})
	t.Cleanup(func() {
		ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		fs.Shutdown(ctx)
	})
	return ln.Addr().String()
}

type elsewhereFinisher interface {
	FinishElsewhere(w interface{ WriteElsewhere() bool }) bool
}

// writeFunc is a func as FinishElsewhere's writer.
type writeFunc func() bool

func (f writeFunc) WriteElsewhere() bool { return f() }

// elsewhere runs h inside FinishElsewhere on another goroutine while the
// handler's goroutine waits, as the WSGI gateway does with a reply it
// reads from a worker; ran counts the responses ended that way. Where
// FinishElsewhere declines (a request with a body; net/http's own
// responses on the Fallback), h runs as usual.
func elsewhere(h http.HandlerFunc, ran *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(elsewhereFinisher)
		if !ok {
			h(w, r)
			return
		}
		done := make(chan bool)
		go func() { done <- f.FinishElsewhere(writeFunc(func() bool { h(w, r); return true })) }()
		if <-done {
			ran.Add(1)
			return
		}
		h(w, r)
	}
}

// A response ended under FinishElsewhere is the response net/http sends
// when the handler writes it itself, byte for byte, for every behaviour
// of the differential test (but the one that panics: a panic on another
// goroutine is no handler's) and every kind of request, including the
// request after it on the connection.
func TestFinishElsewhereDifferential(t *testing.T) {
	var ran atomic.Int64
	for name, h := range behaviours(t) {
		if name == "abort" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			std, _ := servers(t, h)
			fast := fastTry(t, elsewhere(h, &ran))
			for rname, raw := range requests {
				if len(raw) > 4096 && rname != "get 1.1" {
					continue
				}
				if want, got := exchange(t, std, raw), exchange(t, fast, raw); got != want {
					t.Errorf("%s:\nnet/http:  %q\nelsewhere: %q", rname, clip(want), clip(got))
				}
			}
		})
	}
	if ran.Load() == 0 {
		t.Fatal("FinishElsewhere never ran: the test compared nothing new")
	}
}

// Under FinishElsewhere nothing waits for the client: a reply far larger
// than the socket takes is ended at once, the rest kept; the handler's
// goroutine writes it once the handler returns, and the client gets
// every byte in order, then the next response on the connection.
func TestFinishElsewhereFullSocket(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstu\n"), 8<<20/32)
	ended := make(chan bool, 1)
	fast := fastTry(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			io.WriteString(w, "next")
			return
		}
		done := make(chan bool)
		go func() {
			done <- w.(elsewhereFinisher).FinishElsewhere(writeFunc(func() bool {
				w.Header().Set("Content-Type", "text/plain")
				w.Write(big)
				return true
			}))
		}()
		ran := <-done
		ended <- ran
	}))
	c := dial(t, fast, 10*time.Second)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case ran := <-ended:
		if !ran {
			t.Fatal("FinishElsewhere declined a request without a body")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FinishElsewhere waited for a client that does not read")
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("body: %d of %d bytes, equal %v, %v", len(got), len(big), bytes.Equal(got, big), err)
	}
	io.WriteString(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "next" {
		t.Fatalf("next response %q", b)
	}
}

// When write returns false the response stays the handler's: what was
// written under FinishElsewhere (some of it possibly kept unsent) comes
// first, then what the handler writes, as if one goroutine had written
// it all. A request with a body is declined: the body is the handler's.
func TestFinishElsewhereLeftToHandler(t *testing.T) {
	head := strings.Repeat("h", 5000) // past the hold-back: goes out under FinishElsewhere
	sequential := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-A", "1")
		io.WriteString(w, head)
		io.WriteString(w, "tail")
	}
	var declined atomic.Int64
	split := func(w http.ResponseWriter, r *http.Request) {
		done := make(chan bool)
		go func() {
			done <- w.(elsewhereFinisher).FinishElsewhere(writeFunc(func() bool {
				w.Header().Set("X-A", "1")
				io.WriteString(w, head)
				return false
			}))
		}()
		if !<-done {
			declined.Add(1)
			w.Header().Set("X-A", "1")
			io.WriteString(w, head)
		}
		io.WriteString(w, "tail")
	}
	std, _ := servers(t, http.HandlerFunc(sequential))
	fast := fastTry(t, http.HandlerFunc(split))
	for _, rname := range []string{"get 1.1", "head", "get 1.0", "1.0 keepalive", "close", "post"} {
		if want, got := exchange(t, std, requests[rname]), exchange(t, fast, requests[rname]); got != want {
			t.Errorf("%s:\nnet/http:  %q\nelsewhere: %q", rname, clip(want), clip(got))
		}
	}
	if declined.Load() != 1 {
		t.Errorf("FinishElsewhere declined %d requests; want 1 (the post)", declined.Load())
	}
}
