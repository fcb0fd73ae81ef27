package http1

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects the log lines of the servers under test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FuzzServeConn sends arbitrary bytes to a connection, reads what comes
// back for a moment, and hangs up: whatever the bytes are, nothing of
// this package panics (its recover logs "http1: panic"). (An incomplete
// body would keep the handler waiting; the client's hang-up ends it.)
func FuzzServeConn(f *testing.F) {
	for _, raw := range requests {
		if len(raw) < 4096 {
			f.Add([]byte(raw))
		}
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n"))
	f.Add([]byte("\r\n\r\n\r\n"))

	logs := &lockedBuffer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.Write(b)
	})
	// The listener the fast path hands connections to serves here to
	// hand in the server ends of in-memory connections.
	ln := &handoffListener{conns: make(chan net.Conn), done: make(chan struct{})}
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h, ErrorLog: log.New(logs, "", 0), ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond},
		ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond}
	prev := log.Writer()
	log.SetOutput(logs)
	f.Cleanup(func() { log.SetOutput(prev); ln.Close(); s.Close() })
	go s.Serve(ln)

	f.Fuzz(func(t *testing.T, data []byte) {
		cli, srv := net.Pipe()
		defer cli.Close()
		ln.conns <- srv
		cli.SetDeadline(time.Now().Add(300 * time.Millisecond))
		go func() { cli.Write(data) }()
		io.Copy(io.Discard, cli)
		cli.Close()
		if out := logs.String(); strings.Contains(out, "http1: panic") {
			t.Fatalf("%q: %s", data, out)
		}
	})
}
