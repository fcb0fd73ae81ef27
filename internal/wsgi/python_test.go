package wsgi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgid/internal/worker"
)

// startPython runs the real Python worker with the fixture app
// testdata/apps/<app>.py, or skips when python3 is missing (fails instead
// under WSGID_REQUIRE_ALL=1).
func startPython(t *testing.T, app string, mod func(*worker.GroupConfig)) *harness {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("WSGID_REQUIRE_ALL") == "1" {
			t.Fatalf("python3 not found: %v", err)
		}
		t.Skip("python3 not found")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "apps", app+".py"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := worker.GroupConfig{Python: py, Processes: 1, Threads: 4, Multithread: true}
	if mod != nil {
		mod(&cfg)
	}
	h := startHarness(t, cfg)
	h.target = func(tg *Target) {
		tg.Script = script
		tg.ProcessGroup = "test"
		tg.Handler = "wsgi-script"
	}
	return h
}

func TestPythonHello(t *testing.T) {
	h := startPython(t, "hello", nil)
	for range 3 {
		resp, body := h.get(t, "GET", "/", nil)
		if resp.StatusCode != 200 || body != "Hello, world!" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("%d %q %v\nlog:\n%s", resp.StatusCode, body, resp.Header, h.logs)
		}
	}
	resp, body := h.get(t, "HEAD", "/", nil)
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 13 {
		t.Errorf("HEAD: %d %q length %d", resp.StatusCode, body, resp.ContentLength)
	}
}

func TestPythonEnviron(t *testing.T) {
	h := startPython(t, "environ", nil)
	prev := h.target
	h.target = func(tg *Target) {
		prev(tg)
		tg.ScriptName = "/app"
		tg.Env = []string{"SETENV_VAR", "set"}
	}
	req, _ := http.NewRequest("GET", h.srv.URL+"/app/p?q=1", nil)
	req.Header.Set("X-Custom", "v")
	req.Header.Set("Authorization", "secret")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%v: %s\nlog:\n%s", err, b, h.logs)
	}
	want := map[string]string{
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/app", "PATH_INFO": "/app/p", "QUERY_STRING": "q=1",
		"HTTP_X_CUSTOM": "v", "wsgi.url_scheme": "http", "SETENV_VAR": "set", "SERVER_PROTOCOL": "HTTP/1.1",
		"mod_wsgi.process_group": "test", "wsgi.version": "(1, 0)", "wsgi.multithread": "True",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["HTTP_AUTHORIZATION"]; ok {
		t.Error("HTTP_AUTHORIZATION passed without PassAuthorization")
	}
}

func TestPythonBody(t *testing.T) {
	h := startPython(t, "echo", nil)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	for _, n := range []int{0, 10, 64 << 10, (1 << 20) + 7} {
		body := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
		resp, got := h.get(t, "POST", "/", bytes.NewReader(body))
		if want := fmt.Sprintf("%d %s", n, sum(body)); resp.StatusCode != 200 || got != want {
			t.Errorf("POST %d bytes: %d %q, want %q\nlog:\n%s", n, resp.StatusCode, got, want, h.logs)
		}
	}
	resp, _ := h.get(t, "POST", "/", io.MultiReader(strings.NewReader("chunked")))
	if resp.StatusCode != http.StatusLengthRequired {
		t.Errorf("chunked without ChunkedRequest: %d", resp.StatusCode)
	}
	prev := h.target
	h.target = func(tg *Target) { prev(tg); tg.ChunkedRequest = true }
	big := bytes.Repeat([]byte("chunk"), 300000)
	resp, got := h.get(t, "POST", "/", io.MultiReader(bytes.NewReader(big)))
	if want := fmt.Sprintf("%d %s", len(big), sum(big)); resp.StatusCode != 200 || got != want {
		t.Errorf("chunked: %d %q, want %q", resp.StatusCode, got, want)
	}
}

// TestPythonUploadPieces streams bodies of several READ rounds (the
// worker asks for 1 MiB at a time, and wsgid answers each READ with as
// many DATA frames as that takes) to applications that read in 64 KiB
// pieces and line by line: nothing lost, duplicated or reordered.
func TestPythonUploadPieces(t *testing.T) {
	h := startPython(t, "pieces", nil)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	var lines bytes.Buffer
	for i := 0; lines.Len() < 3<<20; i++ {
		fmt.Fprintf(&lines, "line %d %s\n", i, strings.Repeat("x", i%300))
	}
	for _, tt := range []struct {
		query string
		body  []byte
	}{
		{"read", bytes.Repeat([]byte("0123456789abcdef"), (5<<20)/16+3)},
		{"read", make([]byte, 1<<20)},
		{"lines", lines.Bytes()},
		// Longer than the worker lets a request run on its reader thread:
		// the reader role moves to a new thread mid-body, while the
		// request is reading the socket itself or while it sleeps, and
		// the body must keep flowing (it once stalled there for good).
		{"read", bytes.Repeat([]byte("y"), 60<<20)},
		{"slow", bytes.Repeat([]byte("z"), 16<<20)},
	} {
		resp, got := h.get(t, "POST", "/?"+tt.query, bytes.NewReader(tt.body))
		if want := fmt.Sprintf("%d %s", len(tt.body), sum(tt.body)); resp.StatusCode != 200 || got != want {
			t.Errorf("%s %d bytes: %d %q, want %q\nlog:\n%s", tt.query, len(tt.body), resp.StatusCode, got, want, h.logs)
		}
	}
}

func TestPythonBigSlowReader(t *testing.T) {
	h := startPython(t, "big", nil)
	const size = 20 << 20
	resp, err := h.srv.Client().Get(h.srv.URL + "/?" + strconv.Itoa(size))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, 1<<20)
	n, _ := io.ReadFull(resp.Body, head)
	// While the big reply is stalled on its window, the same worker
	// still answers others.
	for i := range 10 {
		r, body := h.get(t, "GET", "/?100", nil)
		if r.StatusCode != 200 || len(body) != 100 {
			t.Fatalf("request %d beside the stalled one: %d %d bytes", i, r.StatusCode, len(body))
		}
	}
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil || int64(n)+rest != size {
		t.Fatalf("got %d bytes, %v", int64(n)+rest, err)
	}
}

func TestPythonFileWrapper(t *testing.T) {
	h := startPython(t, "filewrapper", nil)
	path := filepath.Join(t.TempDir(), "data.bin")
	data := bytes.Repeat([]byte("wrapper!"), 100000)
	os.WriteFile(path, data, 0o644)
	resp, body := h.get(t, "GET", "/?"+path, nil)
	if resp.StatusCode != 200 || body != string(data) {
		t.Errorf("file_wrapper: %d, %d bytes (want %d)\nlog:\n%s", resp.StatusCode, len(body), len(data), h.logs)
	}
}

func TestPythonAppError(t *testing.T) {
	h := startPython(t, "error", nil)
	resp, body := h.get(t, "GET", "/", nil)
	if resp.StatusCode != 500 || strings.Contains(body, "secret-traceback-marker") || strings.Contains(body, "Traceback") {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(h.logs.String(), "secret-traceback-marker") {
		if time.Now().After(deadline) {
			t.Fatalf("traceback not in the log:\n%s", h.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPythonKillMidRequest kills the process running a request: a GET
// is replayed on the other process and answered; a POST, which may not
// be sent twice, gets 502.
func TestPythonKillMidRequest(t *testing.T) {
	h := startPython(t, "slow", func(c *worker.GroupConfig) { c.Processes = 2 })
	for _, tt := range []struct {
		method string
		status int
		log    string
	}{
		{"GET", http.StatusOK, ") died (signal: killed) before answering GET /?1500; replaying it on another process"},
		{"POST", http.StatusBadGateway, ") died (signal: killed) while handling POST /?1500"},
	} {
		done := make(chan *http.Response)
		go func() {
			req, _ := http.NewRequest(tt.method, h.srv.URL+"/?1500", nil)
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
			}
			done <- resp
		}()
		var pid int
		deadline := time.Now().Add(5 * time.Second)
		for pid == 0 && time.Now().Before(deadline) {
			for _, p := range h.group.Stats().Processes {
				if p.InFlight > 0 {
					pid = p.Pid
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		if pid == 0 {
			t.Fatal("request never reached a worker")
		}
		time.Sleep(50 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGKILL)
		resp := <-done
		if resp == nil || resp.StatusCode != tt.status {
			t.Fatalf("%s on a killed worker: %v, want %d", tt.method, resp, tt.status)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tt.status == 200 && string(body) == strconv.Itoa(pid) {
			t.Errorf("answered by the killed process %d", pid)
		}
		if !strings.Contains(h.logs.String(), "pid "+strconv.Itoa(pid)+tt.log) {
			t.Errorf("%s: kill not logged as %q:\n%s", tt.method, tt.log, h.logs)
		}
	}
	if r, body := h.get(t, "GET", "/?0", nil); r.StatusCode != 200 || body == "" {
		t.Errorf("after kills: %d %q", r.StatusCode, body)
	}
}

func TestPythonConcurrent(t *testing.T) {
	h := startPython(t, "slow", func(c *worker.GroupConfig) { c.Processes = 2 })
	tr := &http.Transport{MaxConnsPerHost: 16, MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	var mu sync.Mutex
	pids := map[string]int{}
	errs := make(chan string, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(h.srv.URL + "/?1")
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Sprintf("status %d", resp.StatusCode)
				return
			}
			mu.Lock()
			pids[string(b)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if len(pids) != 2 {
		t.Errorf("requests served by %d processes, want 2: %v", len(pids), pids)
	}
}

// TestPythonStreamPrompt: each yielded block reaches the client while the
// application is still working on the next one (PEP 3333; mod_wsgi
// flushes every block), also once the request has run long enough to be
// moved off the worker's reader thread.
func TestPythonStreamPrompt(t *testing.T) {
	h := startPython(t, "stream", nil)
	dir := t.TempDir()
	type result struct {
		resp *http.Response
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := h.srv.Client().Get(h.srv.URL + "/?" + dir)
		got <- result{resp, err}
	}()
	var r result
	select {
	case r = <-got:
		if r.err != nil {
			t.Fatal(r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no response while the application waited\nlog:\n%s", h.logs)
	}
	defer r.resp.Body.Close()
	for i, want := range []string{"first\n", "second\n", "third\n"} {
		block := make(chan string, 1)
		go func() {
			b := make([]byte, len(want))
			n, _ := io.ReadFull(r.resp.Body, b)
			block <- string(b[:n])
		}()
		select {
		case b := <-block:
			if b != want {
				t.Fatalf("block %d = %q, want %q", i+1, b, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("block %d did not arrive while the application waited\nlog:\n%s", i+1, h.logs)
		}
		if i < 2 {
			if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i+1)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
