package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The differential test serves one configuration
// (testdata/diff/httpd.conf.tmpl) with Debian's apache2 +
// libapache2-mod-wsgi-py3 and with wsgid, sends both the same requests
// and compares what a client sees. Every difference must be listed in
// knownDifferences (or, for
// values that vary by nature, envVaries) with its reason; docs/compatibility.md
// mirrors both tables.

const (
	apacheBinary = "/usr/sbin/apache2"
	modWSGI      = "/usr/lib/apache2/modules/mod_wsgi.so"
)

// knownDifferences are the answers where wsgid differs from Apache +
// mod_wsgi on purpose, keyed "METHOD path aspect" (aspect: status, body,
// framing, header:Name, env:KEY, log). A key of "* env:KEY" covers every
// request. An entry that no longer differs fails the test, so the list
// stays true.
//
// Reasons starting "deliberate:" are differences wsgid keeps; those
// starting "not yet:" are gaps to close (then delete the entry).
var knownDifferences = map[string]string{
	"GET /wsgi/nocallable.py status": "deliberate: a script without the callable is 404 in mod_wsgi's embedded mode and 500 in daemon mode; wsgid always runs applications in worker processes and answers 500",
	"* framing:chunked->length":      "deliberate: when the whole body is known before the headers go out, wsgid sends a Content-Length where Apache streams the body chunked",
	"* env:HTTP_COOKIE":              "deliberate: repeated Cookie headers are joined with \"; \" (RFC 9113 8.2.3), not with Apache's \", \", which cookie parsers read as one value",
	"* env:mod_wsgi.connection_id":   "deliberate: a mod_wsgi 5 key; Debian's mod_wsgi 4.9 lacks it",
	"* env:mod_wsgi.version":         "deliberate: wsgid reports the mod_wsgi version whose behaviour it follows",

	"GET /app/gen.py header:X-Multi":                                   "deliberate: mod_wsgi's daemon mode comma-joins repeated response headers; wsgid keeps them separate, as embedded mode does",
	"HEAD /app/gen.py header:X-Multi":                                  "deliberate: as GET /app/gen.py",
	"GET /app/status.py?s=201+Made&h=X-A:1&h=X-A:2&h=X-B:b header:X-A": "deliberate: as GET /app/gen.py",
	"GET /wsgi/status.py?h=Connection:close status":                    "deliberate: PEP 3333 forbids hop-by-hop response headers; mod_wsgi 4.9 passes Connection through, wsgid answers 500 and logs why",
	"GET /app/status.py?h=Connection:close status":                     "deliberate: as GET /wsgi/status.py?h=Connection:close",
}

// envVaries are environ keys whose values differ from request to
// request or server to server; only their presence is compared. (Each
// server's port is replaced by PORT in every value before comparing.)
var envVaries = map[string]string{
	"REMOTE_PORT":              "the client's ephemeral port",
	"SERVER_SOFTWARE":          "the server's name and version",
	"mod_wsgi.request_id":      "a per-request identifier",
	"mod_wsgi.request_start":   "a time stamp",
	"mod_wsgi.queue_start":     "a time stamp",
	"mod_wsgi.script_start":    "a time stamp",
	"mod_wsgi.daemon_start":    "a time stamp",
	"mod_wsgi.thread_id":       "which worker thread ran the request",
	"mod_wsgi.thread_requests": "a per-thread counter",
	"mod_wsgi.total_requests":  "a per-process counter",
	"mod_wsgi.daemon_connects": "a per-request counter",
	"mod_wsgi.daemon_restarts": "a per-process counter",
}

type diffCase struct {
	method string
	path   string   // sent as written in the request line
	hdr    []string // name, value pairs sent as written (repeats kept)
	body   string
	// proto is the request's protocol; "" is HTTP/1.1.
	proto string
	// chunked sends body with Transfer-Encoding: chunked.
	chunked bool
	// want is the status Apache must answer (0: not pinned). It pins the
	// reference: if Debian's Apache changes, the test says so rather than
	// silently comparing against something else.
	want int
	// cmp says how bodies are compared: "" exact when Apache's status is
	// below 400 (an error page is compared by status only), "env" as a
	// JSON environ dump, "exact" always.
	cmp string
	// log is a text both error logs must contain (@ROOT@ replaced).
	log string
}

// diffCases returns the requests of the comparison. Most application
// requests are sent twice: under /wsgi (Alias + SetHandler, mod_wsgi
// embedded mode) and under /app (WSGIScriptAlias into a daemon group).
func diffCases() []diffCase {
	var cases []diffCase
	for _, p := range []string{"/wsgi", "/app"} {
		cases = append(cases,
			diffCase{method: "GET", path: p + "/hello.py", want: 200},
			diffCase{method: "HEAD", path: p + "/hello.py", want: 200},
			diffCase{method: "GET", path: p + "/hello.py?a=b", want: 200},
			diffCase{method: "GET", path: p + "/env.py/extra/path?x=1&y=%20z", cmp: "env", want: 200,
				hdr: []string{"X-Test", "yes", "X_Foo", "dropped", "X-Dup", "one", "X-Dup", "two",
					"Cookie", "a=1", "Cookie", "b=2", "Authorization", "Basic eDp5", "Content-Type", "text/odd"}},
			diffCase{method: "GET", path: p + "/env.py", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/env.py/", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/env.py//a//b/", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/env.py/%7Euser/caf%C3%A9/a%20b?q=%2F", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/env.py/a/../b/./c", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/x/../env.py/y", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/env.py/a%2Fb", want: 404},
			diffCase{method: "GET", path: p + "/env.py?" + strings.Repeat("q", 3000), cmp: "env", want: 200},
			diffCase{method: "POST", path: p + "/env.py", body: "a=1&b=2", cmp: "env", want: 200,
				hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}},
			diffCase{method: "PUT", path: p + "/env.py/put", body: "", cmp: "env", want: 200},
			diffCase{method: "OPTIONS", path: p + "/env.py", cmp: "env", want: 200},
			diffCase{method: "GET", path: p + "/env.py?host", cmp: "env", want: 200, hdr: []string{"Host", "other.example:8080"}},
			diffCase{method: "GET", path: p + "/env.py?nohostport", cmp: "env", want: 200, hdr: []string{"Host", "localhost"}},
			diffCase{method: "GET", path: p + "/env.py?http10", cmp: "env", want: 200, proto: "HTTP/1.0", hdr: []string{"Host", ""}},
			diffCase{method: "POST", path: p + "/echo.py", body: strings.Repeat("0123456789", 20000), want: 201},
			diffCase{method: "POST", path: p + "/echo.py", body: "chunked body", chunked: true, want: 411},
			diffCase{method: "GET", path: p + "/gen.py", want: 200},
			diffCase{method: "HEAD", path: p + "/gen.py", want: 200},
			diffCase{method: "GET", path: p + "/noclen.py", want: 200},
			diffCase{method: "GET", path: p + "/write.py", want: 200},
			diffCase{method: "GET", path: p + "/filewrapper.py", want: 200},
			diffCase{method: "GET", path: p + "/overrun.py", want: 200},
			diffCase{method: "GET", path: p + "/twice.py", want: 202},
			diffCase{method: "GET", path: p + "/excinfo.py", want: 503, cmp: "exact"},
			diffCase{method: "GET", path: p + "/status.py?s=404+Not+Here", want: 404, cmp: "exact"},
			diffCase{method: "GET", path: p + "/status.py?s=201+Made&h=X-A:1&h=X-A:2&h=X-B:b", want: 201},
			diffCase{method: "GET", path: p + "/status.py?s=299+Odd", want: 299},
			diffCase{method: "GET", path: p + "/status.py?s=200", want: 500},
			diffCase{method: "GET", path: p + "/status.py?s=abc", want: 500},
			diffCase{method: "GET", path: p + "/status.py?h=Connection:close", want: 200},
			diffCase{method: "GET", path: p + "/status.py?s=204+No+Content", want: 204},
			diffCase{method: "GET", path: p + "/status.py?s=304+Not+Modified", want: 304},
			diffCase{method: "GET", path: p + "/redirect.py?to=/elsewhere", want: 302},
			diffCase{method: "GET", path: p + "/redirect.py?to=http://example.com/x&s=301+Moved", want: 301},
			diffCase{method: "GET", path: p + "/badheader.py", want: 500},
			diffCase{method: "GET", path: p + "/raise.py", want: 500},
			diffCase{method: "GET", path: p + "/genraise.py", want: 500},
			diffCase{method: "GET", path: p + "/syntax.py", want: 500},
			diffCase{method: "GET", path: p + "/nonbytes.py", want: 500},
			diffCase{method: "GET", path: p + "/missing.py", want: 404,
				log: "Target WSGI script not found or unable to stat: @ROOT@/apps/missing.py"},
		)
	}
	cases = append(cases,
		// The mod_wsgi behaviours of §2 of the reference, pinned on Apache.
		diffCase{method: "GET", path: "/wsgi/nocallable.py", want: 404,
			log: "Target WSGI script '@ROOT@/apps/nocallable.py' does not contain WSGI application 'application'."},
		diffCase{method: "GET", path: "/app/nocallable.py", want: 500},
		diffCase{method: "GET", path: "/wsgi/syntax.py", want: 500, log: "Could not read/compile source file '@ROOT@/apps/syntax.py'."},
		diffCase{method: "GET", path: "/wsgi/raise.py", want: 500, log: "RuntimeError: deliberate failure"},
		diffCase{method: "GET", path: "/noexec/hello.py", want: 403, log: "Options ExecCGI is off in this directory: @ROOT@/noexec/hello.py"},
		diffCase{method: "GET", path: "/noexec/missing.py", want: 403},
		diffCase{method: "GET", path: "/noexec/", want: 403},
		diffCase{method: "GET", path: "/noexec-alias", want: 200},
		diffCase{method: "GET", path: "/noexec-alias/more?x", want: 200},
		diffCase{method: "GET", path: "/denied/hello.py", want: 403},
		diffCase{method: "GET", path: "/wsgi/", want: 403, log: "Attempt to invoke directory as WSGI application: @ROOT@/apps"},
		diffCase{method: "GET", path: "/wsgi"},
		diffCase{method: "GET", path: "/app/", want: 403},
		diffCase{method: "GET", path: "/app"},
		diffCase{method: "GET", path: "/daemon", cmp: "env", want: 200},
		diffCase{method: "GET", path: "/daemon/", cmp: "env", want: 200},
		diffCase{method: "GET", path: "/daemon/a/b?q", cmp: "env", want: 200},
		diffCase{method: "GET", path: "/daemonx"},
		diffCase{method: "GET", path: "/", want: 200},
		diffCase{method: "GET", path: "/index.html", want: 200},
		diffCase{method: "HEAD", path: "/style.css", want: 200},
		diffCase{method: "GET", path: "/nonexistent", want: 404},
		diffCase{method: "GET", path: "/wsgi/../../../../etc/passwd", want: 400},
		diffCase{method: "GET", path: "/%2e%2e/%2e%2e/etc/passwd", want: 400},
		diffCase{method: "GET", path: "/wsgi/..%2fhello.py", want: 404},
		diffCase{method: "GET", path: "/wsgi/hello.py%00", want: 404},
		diffCase{method: "GET", path: "/wsgi/%68ello.py", want: 200},
		diffCase{method: "GET", path: "/wsgi/HELLO.py", want: 404},
	)
	return cases
}

// requireApache skips (or fails under WSGID_REQUIRE_ALL) unless Debian's
// apache2 and mod_wsgi are installed.
func requireApache(t *testing.T) {
	t.Helper()
	for _, p := range []string{apacheBinary, modWSGI, "/usr/bin/python3"} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("WSGID_REQUIRE_ALL") != "" {
				t.Fatalf("%s is not installed", p)
			}
			t.Skipf("%s is not installed", p)
		}
	}
}

// diffTree copies testdata/diff into a directory Apache's and wsgid's
// unprivileged children can read and writes httpd.conf from the
// template. It returns the root and the port Apache is to listen on.
func diffTree(t *testing.T) (root, apacheAddr string) {
	t.Helper()
	root = copyTree(t, "testdata/diff")
	tmpl, err := os.ReadFile(filepath.Join(root, "httpd.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Getuid() == 0 {
		user = "User nobody\nGroup nogroup"
		// mod_wsgi's daemon sockets and both servers' logs, as nobody.
		if err := os.Chmod(root, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	apacheAddr = freePort(t)
	_, port, _ := net.SplitHostPort(apacheAddr)
	conf := strings.NewReplacer("@ROOT@", root, "@PORT@", port, "@USER@", user).Replace(string(tmpl))
	if err := os.WriteFile(filepath.Join(root, "httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, apacheAddr
}

// startApache runs apache2 in the foreground on root/httpd.conf, waits
// until addr answers and stops it (the whole process group: mod_wsgi's
// daemons too) when the test ends.
func startApache(t *testing.T, root, addr string) {
	t.Helper()
	cmd := exec.Command(apacheBinary, "-f", filepath.Join(root, "httpd.conf"), "-C", "Define SIDE apache", "-DFOREGROUND")
	cmd.Env = append(os.Environ(), "APACHE_RUN_DIR="+root, "APACHE_LOCK_DIR="+root, "APACHE_LOG_DIR="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		t0 := time.Now()
		defer func() { t.Logf("apache stopped in %v", time.Since(t0)) }()
		// apache2 -k stop: the parent stops its children and mod_wsgi's
		// daemons; the group is killed only if that hangs.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			deadline = time.Now()
		case <-time.After(50 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(filepath.Join(root, "apache-error.log"))
	t.Fatalf("apache2 did not start listening on %s:\n%s%s", addr, out.String(), log)
}

// TestDifferentialApache compares wsgid with Apache + mod_wsgi. The
// "apache" subtest checks the reference alone (runnable without wsgid:
// -run Differential/apache). A failure shows three requests per
// differing aspect; WSGID_DIFF_ALL=1 shows them all.
func TestDifferentialApache(t *testing.T) {
	requireApache(t)
	root, apacheAddr := diffTree(t)
	t0 := time.Now()
	startApache(t, root, apacheAddr)
	t.Logf("apache started in %v", time.Since(t0))
	cases := diffCases()
	start := time.Now()
	apache := make([]fetched, len(cases))
	for i, c := range cases {
		apache[i] = fetch(t, apacheAddr, c)
	}

	t.Logf("apache answered %d requests in %v", len(cases), time.Since(start))
	t.Run("apache", func(t *testing.T) {
		for i, c := range cases {
			if c.want != 0 && apache[i].status != c.want {
				t.Errorf("apache: %s %s = %d, want %d (the reference changed?)\n%s", c.method, c.path, apache[i].status, c.want, apache[i].body)
			}
		}
		checkLogs(t, cases, root, "apache-error.log")
	})

	t.Run("compare", func(t *testing.T) {
		args := []string{"-f", filepath.Join(root, "httpd.conf"), "-C", "Define SIDE wsgid"}
		if os.Getuid() == 0 {
			// nobody cannot run the python3 under /root (pyenv).
			args = append(args, "-c", "WSGIPythonHome /usr")
		}
		w := startWsgid(t, args...)
		_, apachePort, _ := net.SplitHostPort(apacheAddr)
		_, wsgidPort, _ := net.SplitHostPort(w.addr)
		seen := map[string]bool{}
		unexpected := map[string][]string{} // aspect -> requests, to keep a failure readable
		for i, c := range cases {
			got := fetch(t, w.addr, c)
			for _, d := range compareFetched(c, apache[i], got, apachePort, wsgidPort) {
				key := c.method + " " + c.path + " " + d.aspect
				wild := "* " + d.aspect
				switch {
				case knownDifferences[key] != "":
					seen[key] = true
				case knownDifferences[wild] != "":
					seen[wild] = true
				default:
					unexpected[d.aspect] = append(unexpected[d.aspect], fmt.Sprintf("%s %s\n      apache: %s\n      wsgid:  %s", c.method, c.path, d.apache, d.wsgid))
				}
			}
		}
		aspects := make([]string, 0, len(unexpected))
		for a := range unexpected {
			aspects = append(aspects, a)
		}
		sort.Strings(aspects)
		for _, a := range aspects {
			reqs := unexpected[a]
			more := ""
			if len(reqs) > 3 && os.Getenv("WSGID_DIFF_ALL") == "" {
				more = fmt.Sprintf("\n    … and %d more requests", len(reqs)-3)
				reqs = reqs[:3]
			}
			t.Errorf("%s differs (not in knownDifferences):\n    %s%s", a, strings.Join(reqs, "\n    "), more)
		}
		for key, why := range knownDifferences {
			if !seen[key] {
				t.Errorf("knownDifferences[%q] (%s) no longer differs: update the list and docs/compatibility.md", key, why)
			}
		}
		checkLogs(t, cases, root, "wsgid-error.log")
	})
}

// checkLogs asserts that the error log under root has every case's log
// line, waiting a moment for servers that write asynchronously.
func checkLogs(t *testing.T, cases []diffCase, root, name string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(root, name))
		var missing []string
		for _, c := range cases {
			want := strings.ReplaceAll(c.log, "@ROOT@", root)
			if want == "" || strings.Contains(string(b), want) {
				continue
			}
			var near []string // what the log says about that script instead
			script := filepath.Base(strings.SplitN(c.path, "?", 2)[0])
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, script) && len(near) < 4 {
					near = append(near, "        "+line)
				}
			}
			missing = append(missing, fmt.Sprintf("%s %s: %q\n%s", c.method, c.path, want, strings.Join(near, "\n")))
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s lacks:\n  %s", name, strings.Join(missing, "\n  "))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type fetched struct {
	status  int
	header  http.Header
	framing string // how the body was delimited: "length N", "chunked" or "close"
	body    string
}

// fetch sends c over a fresh connection exactly as written (request
// line, header names and repeats) and reads the answer.
func fetch(t *testing.T, addr string, c diffCase) fetched {
	t.Helper()
	var b strings.Builder
	proto := c.proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	fmt.Fprintf(&b, "%s %s %s\r\n", c.method, c.path, proto)
	host := false
	for i := 0; i+1 < len(c.hdr); i += 2 {
		if strings.EqualFold(c.hdr[i], "Host") {
			host = true
			if c.hdr[i+1] == "" {
				continue // no Host header at all
			}
		}
		fmt.Fprintf(&b, "%s: %s\r\n", c.hdr[i], c.hdr[i+1])
	}
	if !host {
		_, port, _ := net.SplitHostPort(addr)
		b.WriteString("Host: localhost:" + port + "\r\n")
	}
	b.WriteString("Connection: close\r\n")
	switch {
	case c.chunked:
		fmt.Fprintf(&b, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(c.body), c.body)
	case c.body != "" || c.method == "POST" || c.method == "PUT":
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(c.body), c.body)
	default:
		b.WriteString("\r\n")
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("%s %s on %s: %v", c.method, c.path, addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: c.method})
	if err != nil {
		t.Fatalf("%s %s on %s: %v", c.method, c.path, addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		body = append(body, fmt.Sprintf("[read error: %v]", err)...)
	}
	f := fetched{status: resp.StatusCode, header: resp.Header, body: string(body)}
	switch {
	case len(resp.TransferEncoding) > 0:
		f.framing = strings.Join(resp.TransferEncoding, ",")
	case resp.Header.Get("Content-Length") != "":
		f.framing = "length " + resp.Header.Get("Content-Length")
	default:
		f.framing = "close"
	}
	return f
}

// difference is one aspect of one answer where the servers disagree.
type difference struct {
	aspect, apache, wsgid string
}

// compareFetched lists the differences between Apache's answer a and
// wsgid's w to c, after replacing each server's port by PORT.
func compareFetched(c diffCase, a, w fetched, apachePort, wsgidPort string) []difference {
	var diffs []difference
	add := func(aspect, av, wv string) {
		if av != wv {
			diffs = append(diffs, difference{aspect, fmt.Sprintf("%q", av), fmt.Sprintf("%q", wv)})
		}
	}
	add("status", fmt.Sprint(a.status), fmt.Sprint(w.status))
	if a.status >= 400 && c.cmp != "exact" || a.status != w.status {
		return diffs // server error pages differ in wording by design
	}
	if c.cmp == "env" {
		// An environ dump's length depends on the values compared below.
		add("framing", strings.Fields(a.framing)[0], strings.Fields(w.framing)[0])
	} else if a.framing == "chunked" && w.framing == fmt.Sprintf("length %d", len(w.body)) {
		diffs = append(diffs, difference{"framing:chunked->length", a.framing, w.framing})
	} else {
		add("framing", a.framing, w.framing)
	}
	names := map[string]bool{"Content-Type": true, "Location": true}
	for _, h := range []http.Header{a.header, w.header} {
		for name := range h {
			if strings.HasPrefix(name, "X-") || name == "Retry-After" {
				names[name] = true
			}
		}
	}
	for name := range names {
		add("header:"+name, strings.ReplaceAll(strings.Join(a.header.Values(name), "\n"), apachePort, "PORT"),
			strings.ReplaceAll(strings.Join(w.header.Values(name), "\n"), wsgidPort, "PORT"))
	}
	ab := strings.ReplaceAll(a.body, apachePort, "PORT")
	wb := strings.ReplaceAll(w.body, wsgidPort, "PORT")
	if c.cmp != "env" {
		add("body", ab, wb)
		return diffs
	}
	var ae, we map[string]string
	if err := json.Unmarshal([]byte(ab), &ae); err != nil {
		return append(diffs, difference{"body", ab, "(apache's environ is not JSON)"})
	}
	if err := json.Unmarshal([]byte(wb), &we); err != nil {
		return append(diffs, difference{"body", ab, wb})
	}
	keys := map[string]bool{}
	for k := range ae {
		keys[k] = true
	}
	for k := range we {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		av, aok := ae[k]
		wv, wok := we[k]
		if envVaries[k] != "" {
			av, wv = "(set)", "(set)"
		}
		if !aok {
			av = "(absent)"
		}
		if !wok {
			wv = "(absent)"
		}
		add("env:"+k, av, wv)
	}
	return diffs
}
