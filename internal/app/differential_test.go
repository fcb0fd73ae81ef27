package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// knownDifferences lists the requests where wsgid answers differently
// from Apache + mod_wsgi on purpose; docs/compatibility.md says why.
var knownDifferences = map[string]string{
	"GET /wsgi/nocallable.py": "missing callable: mod_wsgi embedded mode answers 404, daemon mode 500; wsgid always runs daemon-style and answers 500",
}

type diffCase struct {
	method, path string
	body         string
	hdr          []string
	headers      []string // response headers to compare
}

// TestDifferentialApache serves one configuration with Debian's apache2
// + mod_wsgi and with wsgid and compares status, selected headers and
// bodies of application responses.
func TestDifferentialApache(t *testing.T) {
	const modWSGI = "/usr/lib/apache2/modules/mod_wsgi.so"
	for _, p := range []string{"/usr/sbin/apache2", modWSGI} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("WSGID_REQUIRE_ALL") != "" {
				t.Fatalf("%s is not installed", p)
			}
			t.Skipf("%s is not installed", p)
		}
	}
	requireDebianPython(t)
	root := copyTree(t, "testdata/diff")
	os.MkdirAll(filepath.Join(root, "htdocs"), 0o755)
	os.MkdirAll(filepath.Join(root, "noexec"), 0o755)
	os.WriteFile(filepath.Join(root, "noexec/hello.py"), []byte("def application(e, s):\n    s('200 OK', [])\n    return [b'x']\n"), 0o644)
	tmpl, err := os.ReadFile(filepath.Join(root, "httpd.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Getuid() == 0 {
		user = "User nobody\nGroup nogroup"
		os.Chmod(root, 0o777) // Apache's daemon sockets and logs, as nobody
	}
	apacheAddr := freePort(t)
	_, apachePort, _ := net.SplitHostPort(apacheAddr)
	conf := strings.NewReplacer("@ROOT@", root, "@PORT@", apachePort, "@USER@", user).Replace(string(tmpl))
	confPath := filepath.Join(root, "httpd.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)

	apache := exec.Command("/usr/sbin/apache2", "-f", confPath, "-DFOREGROUND")
	apache.Env = append(os.Environ(), "APACHE_RUN_DIR="+root, "APACHE_LOCK_DIR="+root, "APACHE_LOG_DIR="+root)
	apache.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &syncWriter{}
	apache.Stdout, apache.Stderr = out, out
	if err := apache.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-apache.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { apache.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-apache.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	waitListening(t, apacheAddr, func() string {
		b, _ := os.ReadFile(filepath.Join(root, "error.log"))
		return out.String() + string(b)
	})

	args := []string{"-f", confPath}
	if os.Getuid() == 0 {
		args = append(args, "-c", "WSGIPythonHome /usr")
	}
	wsgid := startWsgid(t, args...)

	cases := []diffCase{
		{method: "GET", path: "/wsgi/hello.py", headers: []string{"Content-Type", "Content-Length"}},
		{method: "HEAD", path: "/wsgi/hello.py", headers: []string{"Content-Type", "Content-Length"}},
		{method: "GET", path: "/wsgi/env.py/extra/path?x=1&y=%20z", hdr: []string{"X-Test", "yes", "X_Foo", "dropped", "Authorization", "Basic eDp5"}},
		{method: "GET", path: "/wsgi/env.py/", hdr: nil},
		{method: "GET", path: "/wsgi/env.py//a//b/"},
		{method: "POST", path: "/wsgi/env.py", body: "a=1", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{method: "GET", path: "/daemon/a/b?q", hdr: nil},
		{method: "GET", path: "/daemon"},
		{method: "POST", path: "/wsgi/echo.py", body: strings.Repeat("0123456789", 20000), headers: []string{"X-Len"}},
		{method: "GET", path: "/wsgi/gen.py", headers: []string{"Content-Type", "X-Multi"}},
		{method: "GET", path: "/wsgi/twice.py", headers: []string{"Content-Type", "X-First"}},
		{method: "GET", path: "/wsgi/status.py?s=404+Not+Here"},
		{method: "GET", path: "/wsgi/status.py?s=201+Made"},
		{method: "GET", path: "/wsgi/raise.py"},
		{method: "GET", path: "/wsgi/syntax.py"},
		{method: "GET", path: "/wsgi/nocallable.py"},
		{method: "GET", path: "/wsgi/nonbytes.py"},
		{method: "GET", path: "/wsgi/missing.py"},
		{method: "GET", path: "/wsgi/"},
		{method: "GET", path: "/noexec/hello.py"},
		{method: "GET", path: "/noexec/missing.py"},
		{method: "POST", path: "/wsgi/echo.py", body: "chunked body", hdr: []string{"Transfer-Encoding", "chunked"}},
		{method: "GET", path: "/wsgi/env.py/%7Euser/caf%C3%A9"},
	}
	for _, c := range cases {
		key := c.method + " " + c.path
		a := fetch(t, apacheAddr, c)
		w := fetch(t, wsgid.addr, c)
		var diffs []string
		if a.status != w.status {
			diffs = append(diffs, fmt.Sprintf("status apache %d, wsgid %d", a.status, w.status))
		}
		// Bodies the application produced must match; server error pages
		// only by status.
		if a.status < 400 || strings.HasPrefix(c.path, "/wsgi/status.py") {
			ab := strings.ReplaceAll(a.body, apachePort, "PORT")
			wb := strings.ReplaceAll(w.body, wsgid.addr[strings.LastIndex(wsgid.addr, ":")+1:], "PORT")
			if ab != wb {
				diffs = append(diffs, fmt.Sprintf("body\napache %q\nwsgid  %q", ab, wb))
			}
		}
		for _, h := range c.headers {
			if av, wv := strings.Join(a.header.Values(h), ","), strings.Join(w.header.Values(h), ","); av != wv && !(h == "X-Multi" && av == "a, b" && wv == "a,b") {
				diffs = append(diffs, fmt.Sprintf("header %s apache %q, wsgid %q", h, av, wv))
			}
		}
		if len(diffs) == 0 {
			if why, ok := knownDifferences[key]; ok {
				t.Errorf("%s: listed as a known difference (%s) but both agree: update the list and docs/compatibility.md", key, why)
			}
			continue
		}
		if _, ok := knownDifferences[key]; ok {
			continue
		}
		t.Errorf("%s differs:\n  %s", key, strings.Join(diffs, "\n  "))
	}
}

type fetched struct {
	status int
	header http.Header
	body   string
}

func fetch(t *testing.T, addr string, c diffCase) fetched {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, _ := http.NewRequest(c.method, "http://"+addr+c.path, body)
	for i := 0; i+1 < len(c.hdr); i += 2 {
		if c.hdr[i] == "Transfer-Encoding" {
			req.ContentLength = -1 // net/http then sends the body chunked
			req.Body = io.NopCloser(body)
			continue
		}
		req.Header[c.hdr[i]] = []string{c.hdr[i+1]} // keep X_Foo as written
	}
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", c.method, c.path, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, resp.Header, string(b)}
}

func waitListening(t *testing.T, addr string, output func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not start listening:\n%s", addr, output())
}
