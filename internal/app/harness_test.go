package app

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the wsgid binary built once for the integration tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsgid-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wsgid")
	build := []string{"build", "-o", binary}
	if os.Getenv("WSGID_TEST_RACE") != "" {
		build = append(build, "-race") // the integration tests against a race-checked server
	}
	cmd := exec.Command("go", append(build, "wsgid/cmd/wsgid")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wsgid:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requirePython skips (or, under WSGID_REQUIRE_ALL, fails) a test that
// needs python3.
func requirePython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("WSGID_REQUIRE_ALL") != "" {
			t.Fatal("python3 not found")
		}
		t.Skip("python3 not found")
	}
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// instance is a running wsgid process.
type instance struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	stderr *syncWriter
	client *http.Client
}

// unprivileged returns the -c directives that make workers run as
// nobody when the tests run as root (the configurations' own users need
// not exist here). nobody cannot run the python3 under /root (pyenv), so
// the workers then use Debian's /usr/bin/python3.
func unprivileged() []string {
	if os.Getuid() != 0 {
		return nil
	}
	return []string{"-c", "User nobody", "-c", "Group nogroup", "-c", "WSGIPythonHome /usr"}
}

// startWsgid runs the binary with args plus --listen on a free port and
// waits until it answers. freePort's port may be taken by another test
// process before wsgid binds it: then it tries another.
func startWsgid(t *testing.T, args ...string) *instance {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := freePort(t)
		in, err := tryStart(t, exec.Command(binary, append(args, "--listen", addr)...), addr)
		if err == nil {
			return in
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
	}
}

// startCmd starts cmd and waits until addr answers.
// startServe runs "wsgid serve" (quick mode) in dir on a free port with
// the given arguments, and returns once it answers.
func startServe(t *testing.T, dir string, args ...string) *instance {
	t.Helper()
	addr := freePort(t)
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(binary, append([]string{"serve", "--host", host, "--port", port}, args...)...)
	cmd.Dir = dir
	return startCmd(t, cmd, addr)
}

func startCmd(t *testing.T, cmd *exec.Cmd, addr string) *instance {
	t.Helper()
	in, err := tryStart(t, cmd, addr)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func tryStart(t *testing.T, cmd *exec.Cmd, addr string) (*instance, error) {
	stderr := &syncWriter{}
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	in := &instance{t: t, cmd: cmd, addr: addr, stderr: stderr,
		client: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(stderr.String(), "address already in use") {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			t.Cleanup(in.stop)
			return in, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.stop()
	return nil, fmt.Errorf("wsgid did not start listening on %s; output:\n%s", addr, stderr.String())
}

func (in *instance) stop() {
	if in.cmd.Process == nil || in.cmd.ProcessState != nil {
		return
	}
	in.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		in.cmd.Process.Kill()
		<-done
	}
	if out := in.stderr.String(); strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic:") {
		in.t.Errorf("wsgid reported a race or panic:\n%s", out)
	}
}

// get performs a request and returns status, headers and body.
func (in *instance) do(method, path string, body io.Reader, hdr ...string) (*http.Response, string) {
	in.t.Helper()
	req, err := http.NewRequest(method, "http://"+in.addr+path, body)
	if err != nil {
		in.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := in.client.Do(req)
	if err != nil {
		in.t.Fatalf("%s %s: %v\nserver output:\n%s", method, path, err, in.stderr.String())
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		in.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(b)
}

func (in *instance) get(path string, hdr ...string) (*http.Response, string) {
	in.t.Helper()
	return in.do("GET", path, nil, hdr...)
}

// rawRequest sends bytes as they are and returns the raw response, for
// paths an http.Client would clean up.
func (in *instance) raw(request string) string {
	in.t.Helper()
	c, err := net.DialTimeout("tcp", in.addr, 5*time.Second)
	if err != nil {
		in.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, request)
	b, _ := io.ReadAll(c)
	return string(b)
}

type syncWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

// copyTree copies a fixture directory into a fresh temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	// Not t.TempDir(): workers that drop to nobody must be able to read
	// the scripts, and t.TempDir is private to root.
	dst, err := os.MkdirTemp("", "wsgid-tree-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dst) })
	os.Chmod(dst, 0o755)
	err = filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// runBinary runs wsgid to completion and returns its combined output.
func runBinary(args ...string) (string, error) {
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}
