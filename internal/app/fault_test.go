package app

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultSite serves testdata/fault: one process group per kind of fault.
type faultSite struct {
	*instance
	dir string
}

func startFaultSite(t *testing.T) *faultSite {
	t.Helper()
	requirePython(t)
	dir := copyTree(t, "testdata/fault")
	args := []string{"-f", filepath.Join(dir, "httpd.conf"), "-C", "Define SITE " + dir}
	args = append(args, unprivileged()...)
	return &faultSite{startWsgid(t, args...), dir}
}

// marker returns the path of a file the fault app's close() writes, in a
// new directory the workers (which may run as nobody) can write to.
func (s *faultSite) marker(t *testing.T, dir string) string {
	t.Helper()
	marks := filepath.Join(s.dir, dir)
	if err := os.Mkdir(marks, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(marks, 0o777)
	return filepath.Join(marks, "closed")
}

// waitClosed waits up to limit for the app's close() to write marker.
func (s *faultSite) waitClosed(t *testing.T, marker string, limit time.Duration, failure string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if b, _ := os.ReadFile(marker); string(b) == "closed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:\n%s", failure, s.errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *faultSite) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
	return string(b)
}

// waitLog waits until the error log contains want.
func (s *faultSite) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.errorLog(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("error log never said %q:\n%s", want, s.errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fetch is a request that reports failure instead of ending the test,
// for use from load goroutines.
func (s *faultSite) fetch(method, path string) (int, string, error) {
	req, err := http.NewRequest(method, "http://"+s.addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// load runs n clients sending GET path in a loop until stop is closed
// and returns how many requests were answered 200 and every failure.
func (s *faultSite) load(n int, path string, stop <-chan struct{}) func() (int, []string) {
	var mu sync.Mutex
	ok := 0
	var failures []string
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body, err := s.fetch("GET", path)
				mu.Lock()
				if err != nil || code != 200 {
					failures = append(failures, fmt.Sprintf("%d %q %v", code, body, err))
				} else {
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	return func() (int, []string) { wg.Wait(); return ok, failures }
}

// TestFaults injects the faults a production server meets, each under a
// concurrent load that must not lose a request.
func TestFaults(t *testing.T) {
	s := startFaultSite(t)
	if code, body, err := s.fetch("GET", "/crash/pid"); code != 200 || err != nil {
		t.Fatalf("site not serving: %d %q %v\n%s", code, body, err, s.errorLog())
	}

	t.Run("kill -9 mid-request", func(t *testing.T) {
		stop := make(chan struct{})
		wait := s.load(6, "/crash/slow?200", stop)
		time.Sleep(500 * time.Millisecond)
		_, pid, _ := s.fetch("GET", "/crash/pid")
		n, _ := strconv.Atoi(pid)
		if n <= 1 {
			t.Fatalf("pid %q", pid)
		}
		syscall.Kill(n, syscall.SIGKILL)
		time.Sleep(1500 * time.Millisecond)
		close(stop)
		ok, failures := wait()
		if len(failures) > 0 || ok < 10 {
			t.Errorf("%d answered, %d failed: %v\n%s", ok, len(failures), failures, s.errorLog())
		}
		s.waitLog(t, "(pid "+pid+") died (signal: killed) before answering GET /crash/slow?200; replaying it on another process")
	})

	// An application that kills its own process, under load: only the
	// culprit fails; its neighbours are replayed and answered.
	for _, how := range []string{"exit", "segv"} {
		t.Run("app "+how, func(t *testing.T) {
			stop := make(chan struct{})
			wait := s.load(6, "/crash/slow?150", stop)
			time.Sleep(300 * time.Millisecond)
			code, _, err := s.fetch("GET", "/crash/"+how)
			time.Sleep(800 * time.Millisecond)
			close(stop)
			ok, failures := wait()
			if code != http.StatusBadGateway || err != nil {
				t.Errorf("culprit: %d %v, want 502", code, err)
			}
			if len(failures) > 0 || ok < 10 {
				t.Errorf("neighbours: %d answered, %d failed: %v\n%s", ok, len(failures), failures, s.errorLog())
			}
			s.waitLog(t, "GET /crash/"+how+" was in flight when daemon processes 'crash'")
			// A POST is not replayed: one death, one 502.
			if code, _, _ := s.fetch("POST", "/crash/"+how); code != http.StatusBadGateway {
				t.Errorf("POST culprit: %d", code)
			}
			s.waitLog(t, "while handling POST /crash/"+how)
		})
	}

	t.Run("garbage on the protocol socket", func(t *testing.T) {
		if code, _, _ := s.fetch("POST", "/crash/garbage"); code != http.StatusBadGateway {
			t.Errorf("garbage: %d, want 502", code)
		}
		s.waitLog(t, "broke the protocol, killing it")
		if code, _, err := s.fetch("GET", "/crash/pid"); code != 200 {
			t.Errorf("after garbage: %d %v", code, err)
		}
	})

	t.Run("request-timeout", func(t *testing.T) {
		_, pid0, _ := s.fetch("GET", "/hang/pid")
		start := time.Now()
		code, _, err := s.fetch("GET", "/hang/hang")
		if code != http.StatusGatewayTimeout || err != nil {
			t.Fatalf("hung request: %d %v, want 504", code, err)
		}
		if el := time.Since(start); el > 4*time.Second {
			t.Errorf("504 after %v with request-timeout=1", el)
		}
		s.waitLog(t, "request ran longer than request-timeout (1s) in process 'hang'")
		s.waitLog(t, "Dumping stack trace for active Python threads.")
		s.waitLog(t, `in application`)
		if code, pid, _ := s.fetch("GET", "/hang/pid"); code != 200 || pid == pid0 {
			t.Errorf("after the timeout: %d from %s (stuck process %s)", code, pid, pid0)
		}
	})

	t.Run("memory-limit", func(t *testing.T) {
		_, pid0, _ := s.fetch("GET", "/leak/pid")
		if code, _, _ := s.fetch("GET", "/leak/leak?150"); code != 200 {
			t.Fatalf("leak: %d", code)
		}
		stop := make(chan struct{})
		wait := s.load(3, "/leak/slow?20", stop)
		deadline := time.Now().Add(8 * time.Second)
		for {
			if _, pid, _ := s.fetch("GET", "/leak/pid"); pid != pid0 && pid != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("process over memory-limit not replaced:\n%s", s.errorLog())
			}
			time.Sleep(100 * time.Millisecond)
		}
		close(stop)
		if ok, failures := wait(); len(failures) > 0 || ok == 0 {
			t.Errorf("%d answered, %d failed: %v", ok, len(failures), failures)
		}
		s.waitLog(t, "over its memory-limit of 95 MiB")
	})

	t.Run("import error", func(t *testing.T) {
		if code, body, _ := s.fetch("GET", "/importerr"); code != 500 || strings.Contains(body, "ImportError") {
			t.Errorf("import error: %d %q", code, body)
		}
		s.waitLog(t, "ImportError: fault.py test: this application cannot be imported")
		if code, _, _ := s.fetch("GET", "/crash/pid"); code != 200 {
			t.Errorf("server down after an import error: %d", code)
		}
	})

	t.Run("client disconnects mid-response", func(t *testing.T) {
		marker := s.marker(t, "marks")
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /crash/stream?%s HTTP/1.1\r\nHost: x\r\n\r\n", marker)
		br := bufio.NewReader(c)
		if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("status line %q %v", line, err)
		}
		br.Read(make([]byte, 4096))
		c.Close()
		s.waitClosed(t, marker, 5*time.Second, "the application's close() was not called after the client left")
	})

	t.Run("client hangs up during a quiet request", func(t *testing.T) {
		// Nothing is written that could fail: only the read net/http
		// keeps pending on the client connection can stop this one early.
		marker := s.marker(t, "marks-quiet")
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /crash/quiet?%s HTTP/1.1\r\nHost: x\r\n\r\n", marker)
		time.Sleep(300 * time.Millisecond)
		c.Close()
		s.waitClosed(t, marker, 10*time.Second, "the application was not stopped after its client hung up")
	})

	t.Run("group that cannot start", func(t *testing.T) {
		start := time.Now()
		code, _, _ := s.fetch("GET", "/badhome/pid")
		if code != http.StatusServiceUnavailable || time.Since(start) > 2*time.Second {
			t.Errorf("badhome: %d after %v, want 503 at once", code, time.Since(start))
		}
		s.waitLog(t, "/nonexistent/python/bin/python3")
	})

	t.Run("startup-timeout", func(t *testing.T) {
		if code, _, _ := s.fetch("GET", "/startup"); code != 500 {
			t.Errorf("first request: %d", code)
		}
		time.Sleep(1100 * time.Millisecond)
		if code, _, _ := s.fetch("GET", "/startup"); code != 500 {
			t.Errorf("request after startup-timeout: %d", code)
		}
		s.waitLog(t, "startup-timeout (1s) passed without the application loading; restarting process 'startup'.")
		// ... and a new process takes its place.
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(s.errorLog(), "process 'startup' started") < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("no new process after startup-timeout:\n%s", s.errorLog())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// server-status reports what happened above, per group.
	t.Run("server-status", func(t *testing.T) {
		code, body, _ := s.fetch("GET", "/server-status?auto")
		if code != 200 {
			t.Fatalf("server-status: %d %q", code, body)
		}
		for _, want := range []string{"ServerUptimeSeconds: ", "Total Accesses: ", "WSGIGroup: crash processes=2 ", "WSGIGroup: (default) ",
			"request-timeouts=1 ", "recycled=request-timeout:1", "recycled=memory-limit:1"} {
			if !strings.Contains(body, want) {
				t.Errorf("server-status lacks %q:\n%s", want, body)
			}
		}
		if !strings.Contains(body, "WSGIGroup: crash processes=2 busy=0 idle=2 queued=0 restarts=") || strings.Contains(body, "WSGIGroup: crash processes=2 busy=0 idle=2 queued=0 restarts=0 ") {
			t.Errorf("crash group restarts not counted:\n%s", body)
		}
		if code, body, _ := s.fetch("GET", "/server-status"); code != 200 || !strings.Contains(body, "<h2>Process group hang</h2>") {
			t.Errorf("HTML page: %d %q", code, body)
		}
		if code, _, _ := s.fetch("GET", "/status-denied"); code != 403 {
			t.Errorf("denied status page: %d", code)
		}
	})

	t.Run("slowloris", func(t *testing.T) {
		// 1,000 clients that send a request line and then a header byte
		// now and then; normal requests must keep being answered fast.
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range 1000 {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatalf("after %d slow clients: %v", len(conns), err)
			}
			fmt.Fprintf(c, "GET /crash/pid HTTP/1.1\r\nHost: x\r\nX-Slow: ")
			conns = append(conns, c)
		}
		var lat []time.Duration
		for range 40 {
			for _, c := range conns[:100] {
				c.Write([]byte("a"))
			}
			t0 := time.Now()
			if code, _, err := s.fetch("GET", "/crash/pid"); code != 200 {
				t.Fatalf("normal request under slowloris: %d %v", code, err)
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		if p90 := lat[len(lat)*9/10]; p90 > 250*time.Millisecond {
			t.Errorf("p90 latency %v under 1,000 slow clients (all: %v)", p90, lat)
		}
	})
}

// TestScriptReloadingDaemon: in a named process group a changed script
// restarts the group's processes (modules it imports are reloaded too,
// as mod_wsgi's daemon mode does) and the triggering request is served
// by the new code.
func TestScriptReloadingDaemon(t *testing.T) {
	s := startFaultSite(t)
	code, body, _ := s.fetch("GET", "/reload")
	if code != 200 || !strings.HasPrefix(body, "old ") {
		t.Fatalf("before: %d %q\n%s", code, body, s.errorLog())
	}
	apps := filepath.Join(s.dir, "apps")
	os.WriteFile(filepath.Join(apps, "helper.py"), []byte("VALUE = 'new'\n"), 0o644)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(apps, "reload.py"), future, future)
	code, body, _ = s.fetch("GET", "/reload")
	if code != 200 || !strings.HasPrefix(body, "new ") {
		t.Fatalf("the request after the change: %d %q, want the new code\n%s", code, body, s.errorLog())
	}
	for range 4 {
		if _, b, _ := s.fetch("GET", "/reload"); !strings.HasPrefix(b, "new ") {
			t.Fatalf("later request: %q", b)
		}
	}
	s.waitLog(t, "Force restart of process 'reload': WSGI script '"+filepath.Join(apps, "reload.py")+"' changed.")
}

// TestDescribeLimits: -S shows each group's limits.
func TestDescribeLimits(t *testing.T) {
	dir := copyTree(t, "testdata/fault")
	out, err := runBinary("-f", filepath.Join(dir, "httpd.conf"), "-C", "Define SITE "+dir, "-S")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"hang  processes=1 threads=4 request-timeout=1s (", "leak  processes=1 threads=4 memory-limit=95MiB (", "startup-timeout=1s", "(live counts: SetHandler server-status)"} {
		if !strings.Contains(out, want) {
			t.Errorf("-S lacks %q:\n%s", want, out)
		}
	}
}
