package wsgi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/http1"
	"wsgid/internal/listener"
	"wsgid/internal/shm"
	"wsgid/internal/worker"
	"wsgid/internal/worker/fakeworker"
)

// directTaken counts the replies relay.TakeReply took (onDirect).
var directTaken atomic.Int64

func TestMain(m *testing.M) {
	fakeworker.Main()
	onDirect = func() { directTaken.Add(1) }
	os.Exit(m.Run())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a gateway in front of one worker group behind an
// httptest.Server; target adjusts the Target per test.
type harness struct {
	srv *httptest.Server
	// url and client are what get uses: srv's, or those of the server
	// useHTTP1 starts.
	url    string
	client *http.Client
	logs   *syncBuffer
	group  *worker.Group
	gw     *Gateway
	target func(*Target)
}

func startHarness(t *testing.T, cfg worker.GroupConfig) *harness {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.RuntimeDir == "" {
		cfg.RuntimeDir = t.TempDir()
	}
	h := &harness{logs: &syncBuffer{}}
	log := errorlog.New(h.logs, errorlog.Debug)
	g, err := worker.NewGroup(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.group = g
	h.gw = New(map[string]*worker.Group{cfg.Name: g}, cfg.Name, log)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg := &Target{PathInfo: r.URL.Path, ServerSoftware: "wsgid-test", LimitRequestBody: 64 << 20}
		if h.target != nil {
			h.target(tg)
		}
		h.gw.Serve(w, r, tg)
	}))
	h.url, h.client = h.srv.URL, h.srv.Client()
	t.Cleanup(func() {
		h.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.Close(ctx)
	})
	return h
}

// useHTTP1 has get go through the server's own front end instead of
// httptest's net/http: package http1 on the server's listeners, as wsgid
// serves. Only there does the gateway answer a whole reply on the
// worker connection's reader goroutine (relay.TakeReply).
func (h *harness) useHTTP1(t *testing.T) {
	t.Helper()
	set := listener.NewSet()
	ln, err := set.Open("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := h.srv.Config.Handler
	fs := &http1.Server{Handler: handler, Fallback: &http.Server{Handler: handler}}
	go fs.Serve(ln)
	tr := &http.Transport{}
	h.url, h.client = "http://"+ln.Addr().String(), &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fs.Shutdown(ctx)
		set.Close()
	})
}

func startFake(t *testing.T, mod func(*worker.GroupConfig)) *harness {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := worker.GroupConfig{Python: exe, Env: append(os.Environ(), fakeworker.EnvVar+"=1")}
	if mod != nil {
		mod(&cfg)
	}
	return startHarness(t, cfg)
}

func (h *harness) get(t *testing.T, method, path string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, string(b) + "<<" + err.Error()
	}
	return resp, string(b)
}

// TestFakeGateway runs each kind of reply behind net/http and behind
// wsgid's own front end, where whole replies are answered on the worker
// connection's reader goroutine (relay.TakeReply) and the rest as usual.
func TestFakeGateway(t *testing.T) {
	for _, front := range []string{"net/http", "http1"} {
		t.Run(front, func(t *testing.T) {
			h := startFake(t, nil)
			if front == "http1" {
				h.useHTTP1(t)
			}
			before := directTaken.Load()
			testFakeGateway(t, h)
			// Behind http1 the whole replies go the direct way; behind
			// net/http (no FinishElsewhere) none does.
			if taken := directTaken.Load() - before; (taken > 0) != (front == "http1") {
				t.Errorf("%d replies answered on the reader goroutine behind %s", taken, front)
			}
		})
	}
}

func testFakeGateway(t *testing.T, h *harness) {
	tests := []struct {
		method, path string
		body         io.Reader
		status       int
		want         string // body, or "~substring"
		header       map[string]string
	}{
		{"GET", "/hello", nil, 200, "hello", map[string]string{"Content-Type": "text/plain"}},
		{"GET", "/nope", nil, 404, "", map[string]string{"Content-Type": ""}},
		{"GET", "/headers", nil, 201, "body", map[string]string{"X-Env": "GET", "X-Bad Name": ""}},
		{"HEAD", "/headers", nil, 201, "", map[string]string{"X-Env": "HEAD"}},
		{"GET", "/error", nil, 500, "~Internal Server Error", nil},
		{"POST", "/echo", strings.NewReader("small body"), 200, "10:SMALL BODY", nil},
		{"GET", "/short", nil, 200, "~unexpected EOF", nil},
		{"GET", "/badstatus", nil, 500, "~Internal Server Error", nil},
		{"GET", "/gen", nil, 200, "hello", map[string]string{"Content-Type": "text/plain"}},
		{"HEAD", "/hello", nil, 200, "", map[string]string{"Content-Type": "text/plain"}},
	}
	for _, tt := range tests {
		resp, body := h.get(t, tt.method, tt.path, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if w, ok := strings.CutPrefix(tt.want, "~"); ok {
			if !strings.Contains(body, w) {
				t.Errorf("%s %s: body %q lacks %q", tt.method, tt.path, body, w)
			}
		} else if body != tt.want {
			t.Errorf("%s %s: body %q, want %q", tt.method, tt.path, body, tt.want)
		}
		for k, v := range tt.header {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s %s: header %s = %q, want %q", tt.method, tt.path, k, got, v)
			}
		}
		if strings.Contains(body, "secret") {
			t.Errorf("%s %s: internal reason leaked: %q", tt.method, tt.path, body)
		}
	}
	resp, _ := h.get(t, "GET", "/headers", nil)
	if c := resp.Header.Values("Set-Cookie"); len(c) != 2 {
		t.Errorf("Set-Cookie = %q, want both", c)
	}
	logs := h.logs.String()
	for _, want := range []string{"Invalid response header \"X-Bad Name\"", "secret reason", "shorter than its Content-Length",
		"Invalid status line \"2x0 Bad\" from application"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// An error answer to a whole reply (here an invalid status line) is
// written on the request's goroutine, never on the worker connection's
// reader: ErrorDocument may dispatch another request, whose reply that
// reader must then be free to read. On the reader goroutine this
// deadlocks (one process, so the nested request shares the connection).
func TestFakeErrorPageNotOnReader(t *testing.T) {
	h := startFake(t, nil)
	h.gw.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/hello"
		h.gw.Serve(w, r2, &Target{PathInfo: "/hello", ServerSoftware: "wsgid-test"})
	}
	h.useHTTP1(t) // after setting ErrorPage: its goroutines start after
	h.client.Timeout = 5 * time.Second
	before := directTaken.Load()
	defer func() {
		if directTaken.Load() == before {
			t.Error("no reply went the direct way: the test proves nothing")
		}
	}()
	for range 3 {
		resp, body := h.get(t, "GET", "/badstatus", nil)
		if resp.StatusCode != 200 || body != "hello" {
			t.Fatalf("ErrorDocument answer: %d %q", resp.StatusCode, body)
		}
	}
}

func TestFakeMapHEADToGET(t *testing.T) {
	h := startFake(t, nil)
	h.target = func(tg *Target) { tg.MapHEADToGET = true }
	resp, body := h.get(t, "HEAD", "/headers", nil)
	if resp.Header.Get("X-Env") != "GET" || body != "" {
		t.Errorf("X-Env %q body %q", resp.Header.Get("X-Env"), body)
	}
}

func TestFakeBodyPolicy(t *testing.T) {
	h := startFake(t, func(c *worker.GroupConfig) { c.BodyThreshold = 1024 })
	big := bytes.Repeat([]byte("z"), 3<<20)
	// Streamed (above the threshold) with a length.
	resp, body := h.get(t, "POST", "/echo", bytes.NewReader(big))
	if resp.StatusCode != 200 || body != strconv.Itoa(len(big))+":ZZZZZZZZZZZZZZZZ" {
		t.Errorf("streamed: %d %q", resp.StatusCode, body)
	}
	// Chunked without WSGIChunkedRequest: 411.
	resp, _ = h.get(t, "POST", "/echo", io.MultiReader(strings.NewReader("abc")))
	if resp.StatusCode != http.StatusLengthRequired {
		t.Errorf("chunked without ChunkedRequest: %d", resp.StatusCode)
	}
	h.target = func(tg *Target) { tg.ChunkedRequest = true; tg.LimitRequestBody = 1 << 20 }
	resp, body = h.get(t, "POST", "/echo", io.MultiReader(strings.NewReader("abc"), strings.NewReader("def")))
	if resp.StatusCode != 200 || body != "6:ABCDEF" {
		t.Errorf("chunked: %d %q", resp.StatusCode, body)
	}
	// Over LimitRequestBody: 413, by Content-Length and while streaming.
	resp, _ = h.get(t, "POST", "/echo", bytes.NewReader(big))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("over limit: %d", resp.StatusCode)
	}
	resp, _ = h.get(t, "POST", "/echo", io.MultiReader(bytes.NewReader(big)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked over limit: %d", resp.StatusCode)
	}
	// The worker is still usable.
	if _, body := h.get(t, "GET", "/hello", nil); body != "hello" {
		t.Errorf("after 413: %q", body)
	}
}

func TestFakeCrash502(t *testing.T) {
	h := startFake(t, nil)
	resp, body := h.get(t, "GET", "/crash", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Bad Gateway") {
		t.Errorf("crash: %d %q", resp.StatusCode, body)
	}
	if _, body := h.get(t, "GET", "/hello", nil); body != "hello" {
		t.Errorf("after crash: %q", body)
	}
	// A GET is replayed once, isolated; killing a second process marks
	// it as the cause.
	if !strings.Contains(h.logs.String(), "before answering GET /crash; replaying it on another process") ||
		!strings.Contains(h.logs.String(), "GET /crash was in flight when daemon processes 'test' (pid ") {
		t.Errorf("crashed request not named in log:\n%s", h.logs)
	}
	// A POST is never replayed.
	resp, _ = h.get(t, "POST", "/crash", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(h.logs.String(), "while handling POST /crash") {
		t.Errorf("POST crash: %d\n%s", resp.StatusCode, h.logs)
	}
}

func TestFakeNoGroup(t *testing.T) {
	h := startFake(t, nil)
	h.target = func(tg *Target) { tg.Group = "missing" }
	resp, _ := h.get(t, "GET", "/hello", nil)
	if resp.StatusCode != 500 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestFakeFile(t *testing.T) {
	h := startFake(t, nil)
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("0123456789"), 0o644)
	resp, body := h.get(t, "GET", "/file?"+path, nil)
	if body != "23456789" || resp.ContentLength != 8 {
		t.Errorf("file: %q length %d", body, resp.ContentLength)
	}
}

// TestFakeSlowReader reads a 20 MiB reply slowly while other requests on
// the same single worker complete: flow control keeps the connection's
// reader free.
func TestFakeSlowReader(t *testing.T) {
	h := startFake(t, nil)
	const size = 20 << 20
	resp, err := h.srv.Client().Get(h.srv.URL + "/big?" + strconv.Itoa(size))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64<<10)
	n, _ := io.ReadFull(resp.Body, buf)
	for i := range 20 {
		_, body := h.get(t, "GET", "/hello", nil)
		if body != "hello" {
			t.Fatalf("request %d during slow read: %q", i, body)
		}
	}
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil || int64(n)+rest != size {
		t.Fatalf("big body: %d bytes, %v", int64(n)+rest, err)
	}
}

func TestFakeClientGone(t *testing.T) {
	h := startFake(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/sleep?5000", nil)
	if _, err := h.srv.Client().Do(req); err == nil {
		t.Fatal("expected timeout")
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.group.Stats().Processes[0].InFlight != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stream not cancelled: %+v", h.group.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFakeConcurrent(t *testing.T) {
	h := startFake(t, func(c *worker.GroupConfig) { c.Processes = 2 })
	tr := &http.Transport{MaxConnsPerHost: 16, MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := strings.Repeat(strconv.Itoa(i%10), 1+i*37%3000)
			resp, err := client.Post(h.srv.URL+"/echo", "text/plain", strings.NewReader(payload))
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := strconv.Itoa(len(payload)) + ":" + payload[:min(16, len(payload))]
			if string(b) != want {
				errs <- string(b) + " != " + want
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	_ = sha256.New
}

// TestFakeHTTP2 runs the main paths over HTTP/2 (TLS), where bodies have
// no chunked encoding and the protocol name differs.
func TestFakeHTTP2(t *testing.T) {
	h := startFake(t, func(c *worker.GroupConfig) { c.BodyThreshold = 1024 })
	h.srv.Close()
	h.srv = httptest.NewUnstartedServer(h.srv.Config.Handler)
	h.srv.EnableHTTP2 = true
	h.srv.StartTLS()
	h.url, h.client = h.srv.URL, h.srv.Client()
	h.target = func(tg *Target) { tg.LimitRequestBody = 64 << 20 }
	resp, body := h.get(t, "GET", "/hello", nil)
	if resp.ProtoMajor != 2 || body != "hello" {
		t.Fatalf("proto %s body %q", resp.Proto, body)
	}
	// A body of unknown length is streamed, not refused with 411.
	resp, body = h.get(t, "POST", "/echo", io.MultiReader(strings.NewReader("abc"), strings.NewReader("def")))
	if resp.StatusCode != 200 || body != "6:ABCDEF" {
		t.Errorf("h2 streamed body: %d %q", resp.StatusCode, body)
	}
	resp, body = h.get(t, "GET", "/big?3000000", nil)
	if len(body) != 3000000 {
		t.Errorf("h2 big: %d bytes", len(body))
	}
	resp, _ = h.get(t, "GET", "/crash", nil)
	if resp.StatusCode != 502 {
		t.Errorf("h2 crash: %d", resp.StatusCode)
	}
}

// TestFakeQueueTimeout: a request that found no room for QueueTimeout is
// answered 503 with Retry-After, and logged as mod_wsgi logs it.
func TestFakeQueueTimeout(t *testing.T) {
	h := startFake(t, func(c *worker.GroupConfig) { c.MaxDepth = 1; c.QueueTimeout = 100 * time.Millisecond })
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, body := h.get(t, "GET", "/sleep?600", nil); body == "" {
			t.Error("the slow request was not answered")
		}
	}()
	time.Sleep(100 * time.Millisecond)
	resp, body := h.get(t, "GET", "/hello", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" || !strings.Contains(body, "Service Unavailable") {
		t.Errorf("queued past queue-timeout: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	<-done
	if !strings.Contains(h.logs.String(), "Queue timeout expired for WSGI daemon process") {
		t.Errorf("not logged:\n%s", h.logs)
	}
}

// TestFakeSharedMemorySlowWrites: bodies sent through shared-memory
// slots on more streams than the slots can carry at once, so the worker
// waits for each slot handed back and fills it at once, to clients whose
// connections take a slot's bytes in several writes (a small socket send
// buffer). A slot given back before its bytes were written shows as
// wrong bytes.
func TestFakeSharedMemorySlowWrites(t *testing.T) {
	h := startFake(t, nil)
	srv := httptest.NewUnstartedServer(h.srv.Config.Handler)
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			c.(*net.TCPConn).SetWriteBuffer(32 << 10)
		}
	}
	srv.Start()
	defer srv.Close()
	const size = 2 << 20
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := srv.Client().Get(srv.URL + "/shm?" + strconv.Itoa(size))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			id, _ := strconv.Atoi(resp.Header.Get("X-Stream"))
			b, err := io.ReadAll(resp.Body)
			if err != nil || len(b) != size {
				t.Errorf("%d bytes, %v", len(b), err)
				return
			}
			for i, c := range b {
				if c != fakeworker.ShmPattern(uint32(id), i) {
					t.Errorf("stream %#x: byte %d is %d, want %d", id, i, c, fakeworker.ShmPattern(uint32(id), i))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// panicBody is a request body whose Read panics: a faulty reader stands
// in for any panic between taking a shared-memory slot and sending it.
type panicBody struct{}

func (panicBody) Read([]byte) (int, error) { panic("body read failed") }
func (panicBody) Close() error             { return nil }

// TestFakeSharedMemoryBodyPanic: a panic while a request body is read
// into one of wsgid's slots gives the slot and the stream back, so later
// uploads still cross in slots (with the slots kept, 16 such panics would
// take all of them and every upload after would go over the socket) and
// the process keeps its room (with the streams kept, the 17th request
// would wait in the queue and get a 503).
func TestFakeSharedMemoryBodyPanic(t *testing.T) {
	h := startFake(t, func(c *worker.GroupConfig) {
		c.Processes, c.MaxDepth, c.QueueTimeout = 1, shm.DefaultSlots, time.Second
	})
	handler := h.srv.Config.Handler
	for i := range 2 * shm.DefaultSlots {
		r := httptest.NewRequest("POST", "/sum", panicBody{})
		r.ContentLength = 1 << 20
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("request %d: the body's panic did not reach the handler's caller", i)
				}
			}()
			handler.ServeHTTP(httptest.NewRecorder(), r)
		}()
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	resp, got := h.get(t, "POST", "/sum?pieces", bytes.NewReader(body))
	sum := sha256.Sum256(body)
	prefix := strconv.Itoa(len(body)) + ":" + hex.EncodeToString(sum[:]) + ":"
	if resp.StatusCode != 200 || !strings.HasPrefix(got, prefix) {
		t.Fatalf("%d %q, want %q…", resp.StatusCode, got, prefix)
	}
	if n, _ := strconv.Atoi(strings.TrimPrefix(got, prefix)); n == 0 {
		t.Errorf("no piece of a 1 MiB upload came in a slot: the panics kept them (%q)", got)
	}
}
