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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// servers runs h behind net/http alone and behind this package (with a
// net/http Fallback), on loopback, and returns their addresses.
func servers(t *testing.T, h http.Handler) (std, fast string) {
	t.Helper()
	return serversWith(t, h, true)
}

// serversWith is servers with keep-alives on or off in both.
func serversWith(t *testing.T, h http.Handler, keepAlives bool) (std, fast string) {
	t.Helper()
	lnStd, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lnFast, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ErrorLog: quietLog(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second}
	fs := &Server{Handler: h, Fallback: &http.Server{Handler: h, ErrorLog: quietLog(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second},
		ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second}
	if !keepAlives {
		hs.SetKeepAlivesEnabled(false)
		fs.Fallback.SetKeepAlivesEnabled(false)
		fs.DisableKeepAlives = true
	}
	go hs.Serve(lnStd)
	go fs.Serve(lnFast)
	t.Cleanup(func() {
		lnStd.Close()
		lnFast.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		fs.Shutdown(ctx)
	})
	return lnStd.Addr().String(), lnFast.Addr().String()
}

// exchange sends raw to addr and returns everything the server sends
// until it closes, with Date values masked. When raw holds a second
// request ("GET /again"), it is sent only once the first response is
// read and only if the connection stays open, as a client would: a
// server that closes with a request unread resets the connection, and
// the reset can destroy the end of the response in the client's buffer.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	first, second := raw, ""
	if i := strings.Index(raw, "GET /again"); i > 0 {
		first, second = raw[:i], raw[i:]
	}
	c := dial(t, addr, 5*time.Second)
	var got bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &got))
	if _, err := io.WriteString(c, first); err != nil {
		t.Fatal(err)
	}
	if second != "" && firstResponseKeepsOpen(br, strings.HasPrefix(first, "HEAD ")) {
		io.WriteString(c, second)
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, br)
	return dateRE.ReplaceAllString(got.String(), "Date: (masked)\r\n")
}

// firstResponseKeepsOpen reads one final response (after any 1xx) and
// reports whether the connection may carry another request.
func firstResponseKeepsOpen(br *bufio.Reader, head bool) bool {
	method := "GET"
	if head {
		method = "HEAD"
	}
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return false
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			continue
		}
		return err == nil && !resp.Close
	}
}

var dateRE = regexp.MustCompile(`Date: [A-Za-z]{3}, \d\d [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT\r\n`)

// behaviours are handlers that exercise each rule of a response.
func behaviours(t *testing.T) map[string]http.HandlerFunc {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, bytes.Repeat([]byte("0123456789abcdef"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	sendFile := func(w http.ResponseWriter, setLength bool) {
		f, err := os.Open(file)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		if setLength {
			w.Header().Set("Content-Length", "65536")
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, f)
	}
	return map[string]http.HandlerFunc{
		"nothing": func(w http.ResponseWriter, r *http.Request) {},
		"sniffed": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html><body>hi</body></html>") },
		"typed": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "hello")
		},
		"status": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "short")
		},
		"odd status": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599); io.WriteString(w, "x") },
		"no content": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			w.WriteHeader(204)
			w.Write([]byte("abc"))
		},
		"not modified": func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/plain")
			h.Set("Etag", `"x"`)
			w.WriteHeader(304)
		},
		"declared": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		},
		"overrun": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			io.WriteString(w, "hello")
		},
		"underrun": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "hello")
		},
		"bad length": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "x")
			io.WriteString(w, "hello")
		},
		"big": func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 7; i++ {
				w.Write(bytes.Repeat([]byte{'a' + byte(i)}, 1000+i*517))
			}
		},
		"flushed": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "one")
			w.(http.Flusher).Flush()
			io.WriteString(w, "two")
		},
		"flush only":    func(w http.ResponseWriter, r *http.Request) { w.(http.Flusher).Flush() },
		"identity":      setThen("stream", "Transfer-Encoding", "identity"),
		"chunked set":   setThen("stream", "Transfer-Encoding", "chunked"),
		"length and te": setThen("zz", "Transfer-Encoding", "gzip", "Content-Length", "2"),
		"close":         setThen("bye", "Connection", "close"),
		"keep-alive":    setThen("ok", "Connection", "keep-alive", "Content-Length", "2"),
		"early hints": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "after")
		},
		"sanitized": func(w http.ResponseWriter, r *http.Request) {
			w.Header()["X-Multi"] = []string{"a\r\nb", " padded "}
			w.Header()["Bad Name"] = []string{"v"}
			io.WriteString(w, "s")
		},
		"late header": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Before", "1")
			w.WriteHeader(200)
			w.Header().Set("X-After", "1")
			io.WriteString(w, "late")
		},
		"header after": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(201)
			w.Header().Set("X-After", "1")
			io.WriteString(w, "late")
		},
		"own date": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", "yesterday")
			io.WriteString(w, "d")
		},
		"no date": func(w http.ResponseWriter, r *http.Request) { w.Header()["Date"] = nil; io.WriteString(w, "d") },
		"encoded": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, "<html>")
		},
		"empty type": func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		},
		"file":        func(w http.ResponseWriter, r *http.Request) { sendFile(w, true) },
		"file chunks": func(w http.ResponseWriter, r *http.Request) { sendFile(w, false) },
		"small copy":  func(w http.ResponseWriter, r *http.Request) { io.Copy(w, strings.NewReader("tiny")) },
		"abort": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Repeat("p", 3000))
			panic(http.ErrAbortHandler)
		},
		"echo": func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(400)
				return
			}
			w.Header().Set("X-Method", r.Method)
			w.Header().Set("X-Host", r.Host)
			w.Header().Set("X-Uri", r.RequestURI)
			w.Header().Set("X-Proto", r.Proto)
			w.Header().Set("X-Length", strings.Repeat("-", int(min(r.ContentLength+1, 20))))
			w.Header()["X-Headers"] = []string{headerSummary(r.Header)}
			w.Write(b)
		},
		"half read": func(w http.ResponseWriter, r *http.Request) {
			io.CopyN(io.Discard, r.Body, 10)
			io.WriteString(w, "half")
		},
		"closes body": func(w http.ResponseWriter, r *http.Request) {
			io.CopyN(io.Discard, r.Body, 10)
			r.Body.Close()
			io.WriteString(w, "closed")
		},
	}
}

// setThen is a handler that sets header pairs kv, then writes body.
func setThen(body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		io.WriteString(w, body)
	}
}

func headerSummary(h http.Header) string {
	var b strings.Builder
	for _, k := range sortedKeys(h) {
		b.WriteString(k + "=" + strings.Join(h[k], "|") + ";")
	}
	return b.String()
}

func sortedKeys(h http.Header) []string {
	var ks []string
	for k := range h {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// requests are what a client sends: two requests on one connection where
// the first may keep it alive, so that the connection's fate shows too.
var requests = map[string]string{
	"get 1.1":       "GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\nGET /again HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"head":          "HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /again HTTP/1.1\r\nHost: h\r\n\r\n",
	"get 1.0":       "GET / HTTP/1.0\r\nHost: h\r\n\r\nGET /again HTTP/1.0\r\nHost: h\r\n\r\n",
	"1.0 keepalive": "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\nGET /again HTTP/1.0\r\nHost: h\r\n\r\n",
	"close":         "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /again HTTP/1.1\r\nHost: h\r\n\r\n",
	"post":          "POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n0123456789abcdefghijGET /again HTTP/1.1\r\nHost: h\r\n\r\n",
	"big post":      "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 300000\r\n\r\n" + strings.Repeat("b", 300000) + "GET /again HTTP/1.1\r\nHost: h\r\n\r\n",
	"short post":    "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\nonly this",
	"headers":       "GET / HTTP/1.1\r\nhost: h:8080\r\nx-lower: a\r\nX-Dup: 1\r\nx-dup:  2 \r\nAccept:\r\ncontent-type: t\r\nX_Under: u\r\n\r\n",
	// What the fast path hands to net/http:
	"chunked":        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /again HTTP/1.1\r\nHost: h\r\n\r\n",
	"expect":         "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
	"expect, unsent": "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
	"expect, next":   "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabcGET /again HTTP/1.1\r\nHost: h\r\n\r\n",
	"expect, 1.0":    "POST / HTTP/1.0\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
	"no host":        "GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n",
	"two host":       "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"folded":         "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n",
	"bare lf":        "GET / HTTP/1.1\nHost: h\n\n",
	"bad ver":        "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
	"http 2.0":       "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
	"huge":           "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("z", 20000) + "\r\n\r\n",
	"two cl":         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
	"bad cl":         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
	"lower":          "get / HTTP/1.1\r\nHost: h\r\n\r\n",
	"star":           "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"absolute":       "GET http://other/x HTTP/1.1\r\nHost: h\r\n\r\n",
	"bad pct":        "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
	"utf8":           "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n",
	"ctl":            "GET / HTTP/1.1\r\nHost: h\r\nX-Name: a\x01b\r\n\r\n",
	"pragma":         "GET / HTTP/1.1\r\nHost: h\r\nPragma: no-cache\r\n\r\n",
	"upgrade":        "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"garbage":        "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
}

// TestDifferential is the package's contract: for every behaviour and
// every request, a client receives the same bytes (Date aside) from this
// package as from net/http.
func TestDifferential(t *testing.T) {
	for name, h := range behaviours(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			std, fast := servers(t, h)
			for rname, raw := range requests {
				if rname != "get 1.1" && !strings.HasPrefix(name, "echo") && len(raw) > 4096 && name != "half read" && name != "closes body" && name != "nothing" {
					continue // the big requests say nothing new about most handlers
				}
				want := exchange(t, std, raw)
				got := exchange(t, fast, raw)
				if got != want {
					i := 0
					for i < len(want) && i < len(got) && want[i] == got[i] {
						i++
					}
					t.Errorf("%s: differ at byte %d of %d/%d:\nnet/http: %q\nhttp1:    %q", rname, i, len(want), len(got), clip(want[max(i-200, 0):]), clip(got[max(i-200, 0):]))
				}
			}
		})
	}
}

// TestDifferentialNoKeepAlive: with keep-alives off (KeepAlive Off),
// every reply closes its connection the way net/http's does.
func TestDifferentialNoKeepAlive(t *testing.T) {
	b := behaviours(t)
	for _, name := range []string{"nothing", "typed", "big", "keep-alive", "no content", "echo"} {
		std, fast := serversWith(t, b[name], false)
		for rname, raw := range requests {
			if want, got := exchange(t, std, raw), exchange(t, fast, raw); got != want {
				t.Errorf("%s, %s:\nnet/http: %q\nhttp1:    %q", name, rname, clip(want), clip(got))
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:300] + "…" + s[len(s)-300:]
	}
	return s
}

// TestClientGoneCancels: a client that hangs up while its request runs
// cancels the request's context, as with net/http.
func TestClientGoneCancels(t *testing.T) {
	cancelled := make(chan error, 1)
	_, fast := servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- r.Context().Err()
		case <-time.After(3 * time.Second):
			cancelled <- errors.New("not cancelled")
		}
	}))
	c, err := net.Dial("tcp", fast)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler saw %v, want context.Canceled", err)
	}
}

// TestPipelinedByteKept: a request that arrives while a long one runs
// (the background read takes its first byte) is served intact.
func TestPipelinedByteKept(t *testing.T) {
	_, fast := servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(60 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path)
	}))
	c := dial(t, fast, 5*time.Second)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(30 * time.Millisecond) // the background read is waiting now
	io.WriteString(c, "GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	got, _ := io.ReadAll(c)
	if !strings.HasSuffix(string(got), "/next") || !strings.Contains(string(got), "/slow") {
		t.Fatalf("got %q", got)
	}
}

// TestShutdown: an idle connection is closed, a request in progress is
// answered with Connection: close, and Shutdown returns once both are
// gone.
func TestShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h}, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	idle := dial(t, ln.Addr().String(), 5*time.Second)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	buf := make([]byte, 4096)
	if n, err := idle.Read(buf); err != nil || !strings.HasSuffix(string(buf[:n]), "ok") {
		t.Fatalf("first answer: %q %v", buf[:n], err)
	}
	busy := dial(t, ln.Addr().String(), 5*time.Second)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-started

	ln.Close()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	if n, err := idle.Read(buf); err != io.EOF {
		t.Fatalf("idle connection: read %q, %v; want EOF", buf[:n], err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in progress", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	got, _ := io.ReadAll(busy)
	if !strings.Contains(string(got), "Connection: close\r\n") || !strings.HasSuffix(string(got), "ok") {
		t.Fatalf("busy connection got %q", got)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// TestTimeouts: a head that never completes and an idle connection are
// both closed when their time is up.
func TestTimeouts(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h}, ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond}
	go s.Serve(ln)
	defer func() { ln.Close(); s.Close() }()
	for name, raw := range map[string]string{
		"partial head": "GET / HTTP/1.1\r\nHost:",
		"idle":         "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"partial next": "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		start := time.Now()
		io.WriteString(c, raw)
		_, err = io.ReadAll(c)
		if err != nil || time.Since(start) > 2*time.Second {
			t.Errorf("%s: closed after %v, err %v", name, time.Since(start), err)
		}
		c.Close()
	}
}

// TestConcurrentConnections: many clients at once, each with several
// requests, all answered in order.
func TestConcurrentConnections(t *testing.T) {
	_, fast := servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			for j := 0; j < 20; j++ {
				path := "/" + strings.Repeat("x", i) + "/" + strings.Repeat("y", j)
				resp, err := c.Get("http://" + fast + path)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != path {
					t.Errorf("got %q for %q", b, path)
				}
			}
		}(i)
	}
	wg.Wait()
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// TestPipelined: requests written together are answered in order on the
// fast path, and a request that must be handed over after them still is.
func TestPipelined(t *testing.T) {
	_, fast := servers(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.URL.Path+string(b))
	}))
	c := dial(t, fast, 5*time.Second)
	io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"+
		"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"+
		"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n"+
		"POST /4 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"+
		"GET /5 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"/1", "/2abc", "/3", "/4de", "/5"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("before %s: %v", want, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
}

// TestWriteTimeout: a client that stops reading makes the handler's
// writes fail after WriteTimeout, on the fast path and on a connection
// handed to net/http (a chunked request), so the handler can give up.
func TestWriteTimeout(t *testing.T) {
	failed := make(chan error, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		for start := time.Now(); time.Since(start) < 10*time.Second; {
			if _, err := w.Write(chunk); err != nil {
				failed <- err
				return
			}
		}
		failed <- errors.New("writes never failed")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, Fallback: &http.Server{Handler: h, ErrorLog: quietLog()}, WriteTimeout: 300 * time.Millisecond}
	go s.Serve(ln)
	defer func() { ln.Close(); s.Close() }()
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetReadBuffer(4096)
		io.WriteString(c, raw)
		start := time.Now()
		select {
		case err := <-failed:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%q: handler's write ended with %v, want a deadline error", raw[:10], err)
			}
		case <-time.After(8 * time.Second):
			t.Fatalf("%q: the handler's writes still block", raw[:10])
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%q: writes failed after %v", raw[:10], el)
		}
		c.Close()
	}
}

// dial connects to addr for one test, with a deadline on every read and
// write so that a hung server fails the test instead of stalling it.
func dial(t *testing.T, addr string, d time.Duration) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(d))
	return c
}
