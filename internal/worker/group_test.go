package worker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/protocol"
	"wsgid/internal/rawsock"
	"wsgid/internal/worker/fakeworker"
	"wsgid/internal/worker/state"
)

func TestMain(m *testing.M) {
	fakeworker.Main()
	os.Exit(m.Run())
}

// syncBuffer is a goroutine-safe log sink.
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

// fakeGroup starts a group whose "python" is this test binary acting as
// a fake worker.
func fakeGroup(t *testing.T, mod func(*GroupConfig)) (*Group, *syncBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := GroupConfig{
		Name:       "fake",
		Processes:  1,
		Python:     exe,
		Env:        append(os.Environ(), "WSGID_FAKE_WORKER=1"),
		RuntimeDir: t.TempDir(),
	}
	if mod != nil {
		mod(&cfg)
	}
	logs := &syncBuffer{}
	g, err := NewGroup(cfg, errorlog.New(logs, errorlog.Debug))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.Close(ctx)
	})
	return g, logs
}

// openStream opens a stream on g for the test, with a 10-second context
// for it; both end with the test.
func openStream(t *testing.T, g *Group, client string) (context.Context, *Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	s, err := g.Open(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return ctx, s
}

// send sends a request for path?query: PATH_INFO in the fixed part of
// the environ (so requests for different paths use different templates),
// QUERY_STRING in the request's own.
func send(s *Stream, path, query string, body []byte, end bool) error {
	return s.Send(protocol.AppendPair(nil, "PATH_INFO", path), protocol.AppendPair(nil, "QUERY_STRING", query), body, end)
}

// do runs one request to its end and returns the body and the last error.
func do(t *testing.T, g *Group, path, query string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := g.Open(ctx, "test")
	if err != nil {
		return "", err
	}
	defer s.Close()
	if err := send(s, path, query, nil, true); err != nil {
		return "", err
	}
	var body []byte
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			return string(body), err
		}
		body = append(body, ev.Data...)
		ev.Release()
		if ev.Type == protocol.TypeError {
			return string(body), errors.New("error frame " + strconv.Itoa(ev.Status))
		}
		if ev.End {
			return string(body), nil
		}
		if n := len(ev.Data); n > 0 {
			s.Window(n)
		}
	}
}

func TestHello(t *testing.T) {
	g, logs := fakeGroup(t, nil)
	for range 3 {
		body, err := do(t, g, "/hello", "")
		if err != nil || body != "hello" {
			t.Fatalf("body %q, err %v", body, err)
		}
	}
	st := g.Stats()
	if len(st.Processes) != 1 || st.Processes[0].State != "ready" || st.Processes[0].Requests != 3 || st.Processes[0].Python != "0.0.0-fake" {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(logs.String(), "process 'fake' started") {
		t.Errorf("no start line in log:\n%s", logs)
	}
}

// TestTemplates sends more distinct fixed environ parts than a
// connection remembers, several times over: every request must see its
// own fixed keys (the table starts over when full, and a definition
// always precedes its first use).
func TestTemplates(t *testing.T) {
	g, _ := fakeGroup(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := maxTemplates + 7
	for i := 0; i < 3*n; i++ {
		s, err := g.Open(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		fixed := protocol.AppendPair(protocol.AppendPair(nil, "PATH_INFO", "/env"), "X_FIXED", strconv.Itoa(i%n))
		if err := s.Send(fixed, protocol.AppendPair(nil, "QUERY_STRING", strconv.Itoa(i)), nil, true); err != nil {
			t.Fatal(err)
		}
		var body []byte
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			body = append(body, ev.Data...)
			ev.Release()
			if ev.End {
				break
			}
		}
		s.Close()
		if want := strconv.Itoa(i%n) + "|" + strconv.Itoa(i); string(body) != want {
			t.Fatalf("request %d: body %q, want %q", i, body, want)
		}
	}
}

func TestDispatchPrefersIdle(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.Processes = 2 })
	waitReady(t, g, 2)
	ctx := context.Background()
	s1, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	send(s1, "/sleep", "300", nil, true)
	s2, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s1.Pid() == s2.Pid() {
		t.Fatalf("second request went to the busy process %d while another was idle", s1.Pid())
	}
}

func waitReady(t *testing.T, g *Group, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ready := 0
		for _, p := range g.Stats().Processes {
			if p.State == "ready" {
				ready++
			}
		}
		if ready >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("processes not ready: %+v", g.Stats())
}

func TestQueueTimeout(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.MaxDepth = 1; c.QueueTimeout = 100 * time.Millisecond })
	ctx := context.Background()
	s1, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	send(s1, "/sleep", "2000", nil, true)
	_, err = g.Open(ctx, "192.0.2.9:1")
	var we *Error
	if !errors.As(err, &we) || we.Status != 503 || !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("err = %v, want 503 queue timeout", err)
	}
	if !strings.Contains(logs.String(), "Queue timeout expired") {
		t.Errorf("queue timeout not logged:\n%s", logs)
	}
	s1.Close() // cancels; the slot is handed on once the worker ends it
	body, err := do(t, g, "/hello", "")
	if err != nil || body != "hello" {
		t.Fatalf("after cancel: %q %v", body, err)
	}
}

// TestStalledProcess: a process with a request in flight for each of its
// threads takes more at first, none once it has finished none for
// stallAfter (they wait in the queue, under queue-timeout), and more again
// as soon as it finishes one. Having been idle longer than stallAfter
// before does not count as stalling.
func TestStalledProcess(t *testing.T) {
	defer func(d time.Duration) { stallAfter = d }(stallAfter)
	stallAfter = 500 * time.Millisecond // generous: CI machines pause
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.Threads = 1; c.QueueTimeout = 100 * time.Millisecond })
	ctx := context.Background()
	open := func(what string) *Stream {
		t.Helper()
		s, err := g.Open(ctx, "")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return s
	}
	time.Sleep(stallAfter + 50*time.Millisecond) // idle, having finished nothing
	s1 := open("idle process")
	s2 := open("process that has just filled its threads")
	time.Sleep(stallAfter + 150*time.Millisecond)
	if s, err := g.Open(ctx, ""); !errors.Is(err, ErrQueueTimeout) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("stalled process: got a stream (%v), want queue timeout", err)
	}
	s1.Close()
	s3 := open("after a request finished")
	s2.Close()
	s3.Close()
}

// TestDepthDefault: every thread of a process can have a request, with
// room beyond them, whatever the thread count.
func TestDepthDefault(t *testing.T) {
	for _, tc := range []struct{ threads, depth, want int }{
		{0, 0, 64}, {4, 0, 64}, {48, 0, 64}, {100, 0, 116}, {4, 8, 8},
	} {
		c := GroupConfig{Name: "g", Threads: tc.threads, MaxDepth: tc.depth}
		c.setDefaults()
		if c.MaxDepth != tc.want {
			t.Errorf("threads %d, depth %d: MaxDepth = %d, want %d", tc.threads, tc.depth, c.MaxDepth, tc.want)
		}
	}
	// 100 threads: 100 requests in flight at once, none queued.
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.Threads = 100; c.QueueTimeout = 100 * time.Millisecond })
	var held []*Stream
	for i := range 100 {
		s, err := g.Open(context.Background(), "")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		held = append(held, s)
	}
	for _, s := range held {
		s.Close()
	}
}

func TestQueueHandoff(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.MaxDepth = 1 })
	ctx := context.Background()
	s1, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	send(s1, "/sleep", "200", nil, true)
	done := make(chan string)
	go func() {
		body, err := do(t, g, "/hello", "")
		if err != nil {
			body = err.Error()
		}
		done <- body
	}()
	time.Sleep(50 * time.Millisecond)
	if q := g.Stats().Queued; q != 1 {
		t.Errorf("queued = %d, want 1", q)
	}
	ev, err := s1.Next(ctx)
	if err != nil || !ev.End {
		t.Fatal(ev, err)
	}
	s1.Close()
	if body := <-done; body != "hello" {
		t.Fatalf("queued request got %q", body)
	}
}

// A request that gives up while queued (its client hung up) leaves the
// queue at once; the pooled waiter it used serves the next one.
func TestQueueCancel(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.MaxDepth = 1 })
	s1, err := g.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	send(s1, "/sleep", "300", nil, true)
	for round := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan error, 1)
		go func() {
			s, err := g.Open(ctx, "")
			if s != nil {
				s.Close()
			}
			got <- err
		}()
		waitFor(t, "the request to queue", func() bool { return g.Stats().Queued == 1 })
		cancel()
		select {
		case err := <-got:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("round %d: Open = %v, want context.Canceled", round, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: a cancelled queued request stayed queued", round)
		}
		if q := g.Stats().Queued; q != 0 {
			t.Fatalf("round %d: queued = %d after the cancel", round, q)
		}
	}
	// The next one waits its turn and is served.
	done := make(chan string, 1)
	go func() {
		body, err := do(t, g, "/hello", "")
		if err != nil {
			body = err.Error()
		}
		done <- body
	}()
	waitFor(t, "the request to queue", func() bool { return g.Stats().Queued == 1 })
	ev, err := s1.Next(context.Background())
	if err != nil || !ev.End {
		t.Fatal(ev, err)
	}
	s1.Close()
	if body := <-done; body != "hello" {
		t.Fatalf("queued request got %q", body)
	}
}

func TestCrashRestart(t *testing.T) {
	g, logs := fakeGroup(t, nil)
	pid0 := g.Stats().Processes[0].Pid
	_, err := do(t, g, "/crash", "")
	var we *Error
	if !errors.As(err, &we) || we.Status != 502 || !errors.Is(err, ErrWorkerDied) || we.Pid != pid0 || !strings.Contains(we.Cause, "killed") {
		t.Fatalf("err = %#v, want 502 worker died (killed) of pid %d", err, pid0)
	}
	// The next request waits in the queue for the restarted process.
	body, err := do(t, g, "/pid", "")
	if err != nil || body == strconv.Itoa(pid0) || body == "" {
		t.Fatalf("after crash: %q %v", body, err)
	}
	if !strings.Contains(logs.String(), "died (signal: killed) with 1 requests in flight") {
		t.Errorf("crash not logged:\n%s", logs)
	}
	if st := g.Stats(); st.Restarts != 1 {
		t.Errorf("restarts = %d", st.Restarts)
	}
}

func TestGarbageKillsWorker(t *testing.T) {
	expectProtocolError(t, "/garbage", "", "broke the protocol")
}

// expectProtocolError runs path?query on a new group's fake worker and
// expects it to break the protocol: 502 for the request, logged (with
// logged in the line), and a new process serving the next one.
func expectProtocolError(t *testing.T, path, query, logged string) {
	t.Helper()
	g, logs := fakeGroup(t, nil)
	_, err := do(t, g, path, query)
	if !errors.Is(err, ErrProtocol) || StatusOf(err) != 502 {
		t.Fatalf("err = %v, want protocol error 502", err)
	}
	if body, err := do(t, g, "/hello", ""); err != nil || body != "hello" {
		t.Fatalf("after the protocol error: %q %v", body, err)
	}
	if !strings.Contains(logs.String(), logged) {
		t.Errorf("%q not logged:\n%s", logged, logs)
	}
}

func TestErrorAndLogFrames(t *testing.T) {
	g, logs := fakeGroup(t, nil)
	if _, err := do(t, g, "/error", ""); err == nil || err.Error() != "error frame 500" {
		t.Fatalf("err = %v", err)
	}
	if body, err := do(t, g, "/log", ""); err != nil || body != "logged" {
		t.Fatal(body, err)
	}
	if !strings.Contains(logs.String(), "[wsgi:error]") || !strings.Contains(logs.String(), "[client test] app says hi") {
		t.Errorf("app log line missing:\n%s", logs)
	}
}

func TestFlowControl(t *testing.T) {
	g, _ := fakeGroup(t, nil)
	ctx, s := openStream(t, g, "")
	const total = 1 << 20
	send(s, "/big", strconv.Itoa(total), nil, true)
	got := 0
	// Without granting, the worker stops at the initial window.
	for got < protocol.DefaultWindow {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got += len(ev.Data)
		ev.Release()
	}
	if got != protocol.DefaultWindow {
		t.Fatalf("got %d before any grant, want %d", got, protocol.DefaultWindow)
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := s.Next(short)
	cancelShort()
	if err == nil {
		t.Fatal("worker sent beyond its window")
	}
	for got < total {
		s.Window(protocol.DefaultWindow)
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got += len(ev.Data)
			ev.Release()
			if ev.End || !s.Pending() && got%protocol.DefaultWindow == 0 {
				break
			}
		}
	}
	if got != total {
		t.Fatalf("got %d bytes, want %d", got, total)
	}
}

func TestRequestBodyStreaming(t *testing.T) {
	g, _ := fakeGroup(t, nil)
	ctx := context.Background()
	s, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send(s, "/echo", "", []byte("abc"), false)
	parts := []string{"def", "ghi", ""}
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == protocol.TypeRead {
			if ev.N != 65536 {
				t.Errorf("read of %d", ev.N)
			}
			p := parts[0]
			parts = parts[1:]
			s.SendData([]byte(p), len(parts) == 0)
			continue
		}
		if string(ev.Data) != "9:ABCDEFGHI" || !ev.End {
			t.Fatalf("echo = %q end=%v", ev.Data, ev.End)
		}
		return
	}
}

func TestFilePassing(t *testing.T) {
	g, _ := fakeGroup(t, nil)
	path := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(path, []byte("0123456789"), 0o644)
	ctx := context.Background()
	s, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send(s, "/file", path, nil, true)
	ev, err := s.Next(ctx)
	if err != nil || ev.Type != protocol.TypeHeaders || ev.End {
		t.Fatal(ev, err)
	}
	ev, err = s.Next(ctx)
	if err != nil || ev.Type != protocol.TypeFile || ev.File == nil || !ev.End {
		t.Fatal(ev, err)
	}
	defer ev.File.Close()
	if ev.Offset != 2 || ev.Length != -1 {
		t.Errorf("offset %d length %d", ev.Offset, ev.Length)
	}
	buf := make([]byte, 8)
	if n, _ := ev.File.ReadAt(buf, ev.Offset); string(buf[:n]) != "23456789" {
		t.Errorf("file content %q", buf[:n])
	}
}

func TestCancelFreesSlot(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.MaxDepth = 2 })
	ctx := context.Background()
	s, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	send(s, "/sleep", "5000", nil, true)
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for g.Stats().Processes[0].InFlight != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("slot not freed after cancel: %+v", g.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := g.Stats().Processes[0].State; st != "ready" {
		t.Errorf("state %s after cancel, want ready", st)
	}
}

func TestConcurrent(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.Processes = 2; c.MaxDepth = 4 })
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/hello"
			if i%10 == 0 {
				path = "/sleep"
			}
			body, err := do(t, g, path, "5")
			if err != nil || body == "" {
				errs <- errors.New(path + ": " + body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseGraceful(t *testing.T) {
	exe, _ := os.Executable()
	logs := &syncBuffer{}
	g, err := NewGroup(GroupConfig{Name: "c", Processes: 2, Python: exe, Env: append(os.Environ(), "WSGID_FAKE_WORKER=1")}, errorlog.New(logs, errorlog.Debug))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := g.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	send(s, "/sleep", "200", nil, true)
	closed := make(chan error)
	go func() { closed <- g.Close(context.Background()) }()
	ev, err := s.Next(ctx) // the in-flight request still completes
	if err != nil || !ev.End {
		t.Fatalf("in-flight request during Close: %v %v", ev, err)
	}
	s.Close()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Stats().Processes {
		if p.State != state.Exited.String() {
			t.Errorf("process %d in state %s after Close", p.Pid, p.State)
		}
	}
	if _, err := g.Open(ctx, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close: %v", err)
	}
	if _, err := os.Stat(g.script); !os.IsNotExist(err) {
		t.Errorf("own runtime dir not removed: %v", err)
	}
	if strings.Contains(logs.String(), "died") {
		t.Errorf("graceful stop logged as crash:\n%s", logs)
	}
}

func TestStartMissingPython(t *testing.T) {
	g, err := NewGroup(GroupConfig{Name: "x", Python: "/nonexistent/python3", RuntimeDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Fatalf("Start = %v, want an error naming the interpreter", err)
	}
	g.Close(context.Background())
}

func TestSpawnSpec(t *testing.T) {
	c := GroupConfig{Name: "g", Lang: "C.UTF-8", Locale: "de_DE.UTF-8", PythonHome: "/venv",
		Env: []string{"LANG=fr", "LC_ALL=x", "PATH=/bin", "WSGID_WORKER_CONFIG=stale"}}
	c.setDefaults()
	sp, err := c.spawnSpec()
	if err != nil {
		t.Fatal(err)
	}
	if sp.python != "/venv/bin/python3" {
		t.Errorf("python = %q", sp.python)
	}
	joined := strings.Join(sp.env, "\n")
	for _, want := range []string{"LANG=C.UTF-8", "LC_ALL=de_DE.UTF-8", "PATH=/bin", "PYTHONUNBUFFERED=1", `"group":"g"`, `"threads":15`, `"python_path":[]`, `"error_log_level":4`} {
		if !strings.Contains(joined, want) {
			t.Errorf("env lacks %q:\n%s", want, joined)
		}
	}
	for _, bad := range []string{"LANG=fr", "LC_ALL=x", "stale", "PYTHONHOME"} {
		if strings.Contains(joined, bad) {
			t.Errorf("env has %q", bad)
		}
	}
}

func TestMallocTunables(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("glibc tunables are set on Linux only")
	}
	ours := "glibc.malloc.mmap_threshold=2097152:glibc.malloc.trim_threshold=4194304"
	for _, tc := range []struct{ env, want string }{
		{"", ours},
		{"glibc.pthread.rseq=0", "glibc.pthread.rseq=0:" + ours},
		{"glibc.malloc.trim_threshold=1", "glibc.malloc.trim_threshold=1:glibc.malloc.mmap_threshold=2097152"},
		{"glibc.malloc.mmap_threshold=9:glibc.malloc.trim_threshold=9", "glibc.malloc.mmap_threshold=9:glibc.malloc.trim_threshold=9"},
	} {
		if got := mallocTunables(tc.env); got != tc.want {
			t.Errorf("mallocTunables(%q) = %q, want %q", tc.env, got, tc.want)
		}
	}
	// The worker's environment carries them once, with the user's own.
	c := GroupConfig{Name: "g", Env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0", "PATH=/bin"}}
	c.setDefaults()
	sp, err := c.spawnSpec()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, kv := range sp.env {
		if strings.HasPrefix(kv, "GLIBC_TUNABLES=") {
			n++
			if kv != "GLIBC_TUNABLES=glibc.pthread.rseq=0:"+ours {
				t.Errorf("worker env %q", kv)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d GLIBC_TUNABLES entries in the worker env", n)
	}
}

func TestFdQueue(t *testing.T) {
	var q fdQueue
	if _, ok := q.pop(); ok {
		t.Fatal("pop from empty queue")
	}
	q.push(10, 11)
	q.push(12)
	for _, want := range []int{10, 11, 12} {
		if fd, ok := q.pop(); !ok || fd != want {
			t.Fatalf("pop = %d %v, want %d", fd, ok, want)
		}
	}
	if q.len() != 0 {
		t.Fatal("queue not empty")
	}
	q.push(13) // reuses the drained slice
	if fd, _ := q.pop(); fd != 13 || len(q.fds) != 1 {
		t.Fatalf("fd %d, backing %v", fd, q.fds)
	}
}

// TestSocketpairBuffers checks the send buffers of a worker socket's two
// ends: a window's worth by default, the configured sizes otherwise (the
// kernel doubles what it is given, up to twice net.core.wmem_max).
func TestSocketpairBuffers(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/wmem_max")
	if err != nil {
		t.Skip("no /proc/sys/net/core/wmem_max")
	}
	wmemMax, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	want := func(n int) int { return 2 * min(n, wmemMax) }
	for _, tc := range []struct {
		name                 string
		toWorker, fromWorker int
		wantTo, wantFrom     int
	}{
		{"defaults", 0, 0, want(protocol.DefaultWindow), want(protocol.DefaultWindow)},
		{"configured", 65536, 131072, want(65536), want(131072)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, child, err := socketpair(tc.toWorker, tc.fromWorker)
			if err != nil {
				t.Fatal(err)
			}
			defer parent.Close()
			defer child.Close()
			for _, end := range []struct {
				f    *os.File
				want int
			}{{parent, tc.wantTo}, {child, tc.wantFrom}} {
				got, err := syscall.GetsockoptInt(int(end.f.Fd()), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
				if err != nil {
					t.Fatal(err)
				}
				if got != end.want {
					t.Errorf("%s: SO_SNDBUF %d, want %d", end.f.Name(), got, end.want)
				}
			}
		})
	}
}

// TestMsgReader passes descriptors with data over a real socketpair and
// checks they come out in order, and that unclaimed ones are closed.
func TestMsgReader(t *testing.T) {
	a, b, err := socketpair(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := net.FileConn(a)
	cb, _ := net.FileConn(b)
	a.Close()
	b.Close()
	defer ca.Close()
	defer cb.Close()
	ua, ub := ca.(*net.UnixConn), cb.(*net.UnixConn)
	r1, w1, _ := os.Pipe()
	r2, w2, _ := os.Pipe()
	defer w1.Close()
	defer w2.Close()
	ua.WriteMsgUnix([]byte("one"), syscall.UnixRights(int(r1.Fd())), nil)
	ua.WriteMsgUnix([]byte("two"), syscall.UnixRights(int(r2.Fd())), nil)
	r1.Close()
	r2.Close()
	ua.Close()
	mr := newMsgReader(ub, rawsock.New(ub))
	var all []byte
	buf := make([]byte, 64)
	for {
		n, err := mr.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			break
		}
	}
	if string(all) != "onetwo" || mr.fds.len() != 2 {
		t.Fatalf("read %q with %d fds", all, mr.fds.len())
	}
	fd1, _ := mr.fds.pop()
	f1 := os.NewFile(uintptr(fd1), "r1")
	w1.Write([]byte("x"))
	if n, _ := f1.Read(buf); n != 1 || buf[0] != 'x' {
		t.Errorf("first fd is not the first pipe")
	}
	f1.Close()
	fd2, _ := mr.fds.pop()
	mr.fds.push(fd2)
	mr.fds.closeAll()
	if _, err := syscall.Write(int(w2.Fd()), []byte("y")); err != syscall.EPIPE {
		t.Errorf("write to pipe after closeAll: %v, want EPIPE (reader closed)", err)
	}
	_ = runtime.GOOS
}

// BenchmarkDispatch is one request's round trip through the group with
// the Go stand-in worker: Open, Send, the reply, Close. Run with
// -cpu 1,2 to compare GOMAXPROCS.
func BenchmarkDispatch(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	g, err := NewGroup(GroupConfig{Name: "bench", Processes: 2, Python: exe,
		Env: append(os.Environ(), "WSGID_FAKE_WORKER=1"), RuntimeDir: b.TempDir()}, errorlog.New(io.Discard, errorlog.Warn))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer g.Close(ctx)
	fixed, own := protocol.AppendPair(nil, "PATH_INFO", "/hello"), protocol.AppendPair(nil, "QUERY_STRING", "")
	b.ReportAllocs()
	b.SetParallelism(8) // several requests in flight per process, as under load
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := g.Open(ctx, "bench")
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Send(fixed, own, nil, true); err != nil {
				b.Error(err)
				return
			}
			for {
				ev, err := s.Next(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				end := ev.End
				ev.Release()
				if end {
					break
				}
			}
			s.Close()
		}
	})
}
