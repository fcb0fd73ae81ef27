package app

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// controlSite is a private copy of testdata/control: a WSGI app that
// answers its GREETING, a PidFile, an error log, and vary.conf, which
// the tests rewrite between reloads.
type controlSite struct {
	t    *testing.T
	dir  string
	args []string // the command line that runs it, without --listen
}

func newControlSite(t *testing.T) *controlSite {
	t.Helper()
	requirePython(t)
	dir := copyTree(t, "testdata/control")
	args := []string{"-f", filepath.Join(dir, "httpd.conf"), "-C", "Define DIR " + dir}
	args = append(args, unprivileged()...)
	return &controlSite{t: t, dir: dir, args: args}
}

// vary rewrites vary.conf. It holds the Listen directive, which
// --listen replaces.
func (c *controlSite) vary(lines ...string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, "vary.conf"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *controlSite) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "error.log"))
	return string(b)
}

// waitLog waits until the error log contains s.
func (c *controlSite) waitLog(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(c.errorLog(), s) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// control runs wsgid -k action on the site's configuration.
func (c *controlSite) control(action string) (string, error) {
	return runBinary(append(c.args, "-k", action)...)
}

// freshGet asks addr for path on a new connection.
func freshGet(addr, path string) (int, string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitGreeting waits until a new connection to addr is answered want.
func waitGreeting(t *testing.T, addr, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var body string
	var err error
	for time.Now().Before(deadline) {
		if _, body, err = freshGet(addr, "/"); err == nil && body == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s still answers %q (%v), want %q", addr, body, err, want)
}

// waitPidFile reads a PidFile, waiting for it to appear: wsgid writes
// it just after it starts listening.
func waitPidFile(path string, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	for {
		pid, err := readPidFile(path)
		if err == nil || time.Now().After(deadline) {
			return pid, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exited waits for the process to exit and returns its status.
func (in *instance) exited(d time.Duration) (int, bool) {
	done := make(chan struct{})
	go func() { in.cmd.Wait(); close(done) }()
	select {
	case <-done:
		return in.cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		return 0, false
	}
}

// TestControl drives a running server with wsgid -k, as apachectl would:
// a request in flight when the signal arrives is answered in every case;
// the stops end the process and remove the PidFile; the restarts serve
// the new configuration from the same process.
func TestControl(t *testing.T) {
	tests := []struct {
		action string
		stops  bool
	}{
		{"stop", true},
		{"graceful-stop", true},
		{"graceful", false},
		{"restart", false},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			site := newControlSite(t)
			in := startWsgid(t, site.args...)
			pidFile := filepath.Join(site.dir, "wsgid.pid")
			if pid, err := waitPidFile(pidFile, time.Second); err != nil || pid != in.cmd.Process.Pid {
				t.Fatalf("PidFile: %d, %v; want %d", pid, err, in.cmd.Process.Pid)
			}
			// Serving, not only listening: a connection still in the
			// backlog when wsgid stops is reset, as with any server.
			waitGreeting(t, in.addr, "gen-0", 5*time.Second)
			type result struct {
				status int
				body   string
				err    error
			}
			slow := make(chan result, 1)
			go func() {
				st, body, err := freshGet(in.addr, "/slow/1")
				slow <- result{st, body, err}
			}()
			time.Sleep(300 * time.Millisecond) // the slow request reaches the worker
			site.vary("Listen 127.0.0.1:1", "SetEnv GREETING gen-1")
			if out, err := site.control(tt.action); err != nil {
				t.Fatalf("wsgid -k %s: %v\n%s", tt.action, err, out)
			}
			if r := <-slow; r.err != nil || r.status != 200 || r.body != "gen-0" {
				t.Errorf("request in flight during -k %s: %d %q %v, want 200 gen-0\n%s", tt.action, r.status, r.body, r.err, site.errorLog())
			}
			if !tt.stops {
				waitGreeting(t, in.addr, "gen-1", 5*time.Second)
				if pid, err := readPidFile(pidFile); err != nil || pid != in.cmd.Process.Pid {
					t.Errorf("PidFile after -k %s: %d, %v; want %d", tt.action, pid, err, in.cmd.Process.Pid)
				}
				return
			}
			code, ok := in.exited(5 * time.Second)
			if !ok {
				t.Fatalf("wsgid still running 5s after -k %s\n%s", tt.action, site.errorLog())
			}
			if code != 0 {
				t.Errorf("exit status %d after -k %s", code, tt.action)
			}
			if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
				t.Errorf("PidFile left behind after -k %s: %v", tt.action, err)
			}
			if c, err := net.DialTimeout("tcp", in.addr, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts after -k %s", in.addr, tt.action)
			}
		})
	}
}

// TestControlNotRunning: -k with no server to signal says so and fails.
func TestControlNotRunning(t *testing.T) {
	site := newControlSite(t)
	pidFile := filepath.Join(site.dir, "wsgid.pid")
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string // "" = no PidFile
		action  string
		want    string
	}{
		{"no pid file", "", "stop", "wsgid (no pid file " + pidFile + ") not running"},
		{"stale pid", fmt.Sprintf("%d\n", gone.Process.Pid), "graceful", fmt.Sprintf("wsgid (pid %d?) not running", gone.Process.Pid)},
		{"garbage", "httpd\n", "restart", "no pid in \"httpd\""},
		{"unknown action", "", "reload", "want start, stop, restart, graceful or graceful-stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(pidFile)
			if tt.content != "" {
				os.WriteFile(pidFile, []byte(tt.content), 0o644)
			}
			out, err := site.control(tt.action)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("wsgid -k %s: %v, want exit status 1", tt.action, err)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("wsgid -k %s said %q, want %q", tt.action, out, tt.want)
			}
		})
	}
}

// TestReloadUnderLoad restarts the server six times (five graceful, one
// plain) while clients with and without keep-alive, and slow requests,
// keep it busy: not one request may fail or get a wrong answer, each new
// configuration must take effect, and every old generation must finish.
func TestReloadUnderLoad(t *testing.T) {
	site := newControlSite(t)
	in := startWsgid(t, site.args...)
	valid := regexp.MustCompile(`^gen-[0-6]$`)

	var ok, slowOK, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(s string) {
		failed.Add(1)
		mu.Lock()
		if len(failures) < 10 {
			failures = append(failures, s)
		}
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := func(keepAlive bool, path string, n *atomic.Int64) {
		defer wg.Done()
		tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 8}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 15 * time.Second}
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := c.Get("http://" + in.addr + path)
			if err != nil {
				fail(err.Error())
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || !valid.Match(b) {
				fail(fmt.Sprintf("GET %s: %d %q %v", path, resp.StatusCode, b, err))
				continue
			}
			n.Add(1)
		}
	}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go client(i < 6, "/", &ok)
	}
	wg.Add(1)
	go client(true, "/slow/0.3", &slowOK)

	start := time.Now()
	for gen := 1; gen <= 6; gen++ {
		time.Sleep(150 * time.Millisecond)
		want := "gen-" + strconv.Itoa(gen)
		site.vary("Listen 127.0.0.1:1", "SetEnv GREETING "+want)
		sig := syscall.SIGUSR1
		if gen == 6 {
			sig = syscall.SIGHUP
		}
		in.cmd.Process.Signal(sig)
		waitGreeting(t, in.addr, want, 5*time.Second)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed across 6 restarts; first ones:\n%s", failed.Load(), ok.Load()+slowOK.Load()+failed.Load(), strings.Join(failures, "\n"))
	}
	if ok.Load() < 100 || slowOK.Load() < 3 {
		t.Errorf("too little load to mean anything: %d quick, %d slow requests", ok.Load(), slowOK.Load())
	}
	t.Logf("%d quick and %d slow requests in %v across 6 restarts, %d failed", ok.Load(), slowOK.Load(), elapsed.Round(time.Millisecond), failed.Load())
	for gen := 1; gen <= 6; gen++ {
		if !site.waitLog(fmt.Sprintf("generation %d finished", gen), 5*time.Second) {
			t.Errorf("generation %d never finished\n%s", gen, site.errorLog())
		}
	}
	if _, body := in.get("/"); body != "gen-6" {
		t.Errorf("after the last restart: %q, want gen-6", body)
	}
}

// TestReloadRefusesBrokenConfig: a configuration that does not load is
// reported at file:line and the server keeps serving the previous one;
// fixed, it loads.
func TestReloadRefusesBrokenConfig(t *testing.T) {
	site := newControlSite(t)
	in := startWsgid(t, site.args...)
	site.vary("Listen 127.0.0.1:1", "SetEnv GREETING gen-1", "NoSuchDirective on")
	in.cmd.Process.Signal(syscall.SIGUSR1)
	if !site.waitLog("configuration not reloaded", 5*time.Second) {
		t.Fatalf("no refusal in the error log:\n%s", site.errorLog())
	}
	if log := site.errorLog(); !strings.Contains(log, "vary.conf:3") {
		t.Errorf("error log does not name vary.conf:3:\n%s", log)
	}
	if resp, body := in.get("/"); resp.StatusCode != 200 || body != "gen-0" {
		t.Errorf("after the refused reload: %d %q, want 200 gen-0", resp.StatusCode, body)
	}
	site.vary("Listen 127.0.0.1:1", "SetEnv GREETING gen-2")
	in.cmd.Process.Signal(syscall.SIGUSR1)
	waitGreeting(t, in.addr, "gen-2", 5*time.Second)
}

// TestReloadMovesListeners: a reload opens the addresses it adds while
// those it keeps go on answering, and closes those it drops.
func TestReloadMovesListeners(t *testing.T) {
	site := newControlSite(t)
	a, b := freePort(t), freePort(t)
	site.vary("Listen "+a, "SetEnv GREETING gen-0")
	in := startCmd(t, exec.Command(binary, site.args...), a)
	waitGreeting(t, a, "gen-0", 5*time.Second)

	site.vary("Listen "+a, "Listen "+b, "SetEnv GREETING gen-1")
	in.cmd.Process.Signal(syscall.SIGUSR1)
	waitGreeting(t, b, "gen-1", 5*time.Second)
	waitGreeting(t, a, "gen-1", time.Second)

	site.vary("Listen "+b, "SetEnv GREETING gen-2")
	in.cmd.Process.Signal(syscall.SIGUSR1)
	waitGreeting(t, b, "gen-2", 5*time.Second)
	if !site.waitLog("generation 2 finished", 5*time.Second) {
		t.Fatalf("generation 2 never finished\n%s", site.errorLog())
	}
	if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
		c.Close()
		t.Errorf("%s, dropped from the configuration, still accepts", a)
	}
}

// TestRestartReopensLogs: after logrotate moves the logs, a restart
// writes to new files, even a refused one; and once the old generation
// is done, no file of it stays open.
func TestRestartReopensLogs(t *testing.T) {
	site := newControlSite(t)
	in := startWsgid(t, site.args...)
	in.get("/before")
	for _, name := range []string{"error.log", "access.log"} {
		p := filepath.Join(site.dir, name)
		if err := os.Rename(p, p+".1"); err != nil {
			t.Fatal(err)
		}
	}
	site.vary("Listen 127.0.0.1:1", "NoSuchDirective on")
	in.cmd.Process.Signal(syscall.SIGHUP)
	if !site.waitLog("configuration not reloaded", 5*time.Second) {
		t.Fatalf("the refused restart did not log to a new error.log:\n%s", site.errorLog())
	}
	in.get("/after-refused")
	site.vary("Listen 127.0.0.1:1", "SetEnv GREETING gen-1")
	in.cmd.Process.Signal(syscall.SIGUSR1)
	waitGreeting(t, in.addr, "gen-1", 5*time.Second)
	if !site.waitLog("generation 1 finished", 5*time.Second) {
		t.Fatalf("generation 1 never finished\n%s", site.errorLog())
	}
	in.get("/after-reload")
	want := map[string][]string{
		"access.log.1": {"GET /before "},
		"access.log":   {"GET /after-refused ", "GET /after-reload "},
	}
	for name, lines := range want {
		var b []byte
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if b, _ = os.ReadFile(filepath.Join(site.dir, name)); strings.Contains(string(b), lines[len(lines)-1]) {
				break
			}
		}
		for _, l := range lines {
			if !strings.Contains(string(b), l) {
				t.Errorf("%s lacks %q:\n%s", name, l, b)
			}
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", in.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc to list open files: %v", err)
	}
	openFiles := map[string]int{}
	for _, fd := range fds {
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", in.cmd.Process.Pid, fd.Name()))
		if strings.HasPrefix(target, site.dir) {
			openFiles[filepath.Base(target)]++
		}
	}
	if openFiles["error.log"] != 1 || openFiles["access.log"] != 1 || len(openFiles) != 2 {
		t.Errorf("log files open after the old generation finished: %v, want error.log and access.log once each", openFiles)
	}
}
