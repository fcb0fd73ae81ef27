package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seedArgs runs the seed example (the FreeBSD layout of
// ../shared/seed, unchanged) from a private copy.
func seedArgs(t *testing.T) (root string, args []string) {
	t.Helper()
	root = copyTree(t, "../../examples/seed")
	args = []string{"-R", root, "-f", "/usr/local/etc/apache24/httpd.conf"}
	// The stock config says User www, which Debian does not have.
	args = append(args, unprivileged()...)
	return root, args
}

// TestSeedRelativeRoot runs the README's command form, "-R examples/seed"
// relative to the working directory: the script path must still resolve
// in workers that start elsewhere (a dropped user's home, or "/").
func TestSeedRelativeRoot(t *testing.T) {
	requirePython(t)
	root, args := seedArgs(t)
	args[1] = filepath.Base(root)
	addr := freePort(t)
	cmd := exec.Command(binary, append(args, "--listen", addr)...)
	cmd.Dir = filepath.Dir(root)
	in := startCmd(t, cmd, addr)
	if resp, body := in.get("/wsgi/sample.py"); resp.StatusCode != 200 || !strings.HasPrefix(body, "Selamat!") {
		t.Errorf("GET /wsgi/sample.py = %d %q", resp.StatusCode, body)
	}
}

// TestSeed is the brief's promise: the seed configuration, unchanged,
// serves sample.py with the seed's exact bytes.
func TestSeed(t *testing.T) {
	requirePython(t)
	root, args := seedArgs(t)
	envApp := `import json
def application(environ, start_response):
    keys = {k: v for k, v in environ.items() if isinstance(v, str)}
    body = json.dumps(keys).encode()
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
`
	if err := os.WriteFile(filepath.Join(root, "usr/local/www/apache24/wsgi/env.py"), []byte(envApp), 0o644); err != nil {
		t.Fatal(err)
	}
	in := startWsgid(t, args...)

	resp, body := in.get("/wsgi/sample.py")
	want := "Selamat! Anda Telah Berhasil Menjalankan Modul wsgi Pada Web Server Apache24."
	if resp.StatusCode != 200 || body != want {
		log, _ := os.ReadFile(filepath.Join(root, "var/log/httpd-error.log"))
		t.Fatalf("GET /wsgi/sample.py = %d %q, want 200 %q\n%s\nerror log:\n%s", resp.StatusCode, body, want, in.stderr.String(), log)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	if cl := resp.Header.Get("Content-Length"); cl != "77" {
		t.Errorf("Content-Length = %q, want 77", cl)
	}

	resp, body = in.get("/wsgi/env.py/extra/path?x=1")
	if resp.StatusCode != 200 {
		t.Fatalf("env.py: %d %s", resp.StatusCode, body)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"SCRIPT_NAME":              "/wsgi/env.py",
		"PATH_INFO":                "/extra/path",
		"QUERY_STRING":             "x=1",
		"REQUEST_URI":              "/wsgi/env.py/extra/path?x=1",
		"REQUEST_METHOD":           "GET",
		"SCRIPT_FILENAME":          filepath.Join(root, "usr/local/www/apache24/wsgi/env.py"),
		"mod_wsgi.process_group":   "",
		"mod_wsgi.callable_object": "application",
		"wsgi.url_scheme":          "http",
		"CONTEXT_PREFIX":           "/wsgi",
	} {
		if env[k] != v {
			t.Errorf("environ[%q] = %q, want %q", k, env[k], v)
		}
	}
	if ag := env["mod_wsgi.application_group"]; !strings.HasSuffix(ag, "|/wsgi/env.py") {
		t.Errorf("mod_wsgi.application_group = %q, want host:port|/wsgi/env.py", ag)
	}

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/", 200}, // DocumentRoot index.html through DirectoryIndex
		{"/index.html", 200},
		{"/wsgi/missing.py", 404}, // mod_wsgi: Target WSGI script not found
		{"/wsgi/", 403},           // directory under SetHandler wsgi-script
		{"/.htaccess", 403},       // <Files ".ht*"> Require all denied
		{"/nonexistent", 404},
	} {
		resp, body := in.get(tt.path)
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s = %d, want %d (%s)", tt.path, resp.StatusCode, tt.status, body)
		}
		if strings.Contains(body, "def application") {
			t.Errorf("GET %s leaked script source", tt.path)
		}
	}
	// Traversal attempts never reach a file.
	for _, p := range []string{"/wsgi/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/wsgi/..%2fsample.py", "/wsgi/sample.py%00"} {
		got := in.raw("GET " + p + " HTTP/1.0\r\n\r\n")
		if strings.Contains(got, "root:") || strings.Contains(got, "def application") {
			t.Errorf("GET %s leaked a file:\n%s", p, got)
		}
		if !strings.HasPrefix(got, "HTTP/1.0 4") && !strings.HasPrefix(got, "HTTP/1.1 4") {
			t.Errorf("GET %s: want a 4xx, got %.40q", p, got)
		}
	}
}

func TestSyntaxCheck(t *testing.T) {
	_, args := seedArgs(t)
	out, err := runBinary(append(args, "-t")...)
	if err != nil || !strings.Contains(out, "Syntax OK") {
		t.Fatalf("wsgid -t on the seed: %v\n%s", err, out)
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("Listen 127.0.0.1:0\n<Directory /tmp>\nRequire all granted\n"), 0o644)
	out, err = runBinary("-t", "-f", bad)
	if err == nil {
		t.Fatalf("wsgid -t on a broken config succeeded:\n%s", out)
	}
	if !strings.Contains(out, "bad.conf:2") {
		t.Errorf("error does not name bad.conf:2:\n%s", out)
	}
}

// TestDescribe checks -S: listeners, mounts and worker groups.
func TestDescribe(t *testing.T) {
	_, args := seedArgs(t)
	out, err := runBinary(append(args, "-S")...)
	if err != nil {
		t.Fatalf("wsgid -S: %v\n%s", err, out)
	}
	for _, want := range []string{":80 (", "Alias", "/wsgi ->", "SetHandler wsgi-script", "WSGI process groups:", "(default)"} {
		if !strings.Contains(out, want) {
			t.Errorf("-S output lacks %q:\n%s", want, out)
		}
	}
	out, _ = runBinary("-v")
	if !strings.HasPrefix(out, "Server version: wsgid/") {
		t.Errorf("-v = %q", out)
	}
}

// TestDebianStock serves Debian's stock /etc/apache2 configuration,
// unchanged: DocumentRoot /var/www/html through the default virtual host.
func TestDebianStock(t *testing.T) {
	if _, err := os.Stat("/etc/apache2/apache2.conf"); err != nil {
		if os.Getenv("WSGID_REQUIRE_ALL") != "" {
			t.Fatal("Debian's apache2 is not installed")
		}
		t.Skip("Debian's apache2 is not installed")
	}
	logs := t.TempDir()
	args := []string{"-d", "/etc/apache2", "-f", "apache2.conf", "-C", "Define APACHE_LOG_DIR " + logs,
		"-C", "Define APACHE_RUN_USER nobody", "-C", "Define APACHE_RUN_GROUP nogroup", "-C", "Define APACHE_PID_FILE " + filepath.Join(logs, "pid"),
		"-C", "Define APACHE_RUN_DIR " + logs, "-C", "Define APACHE_LOCK_DIR " + logs}
	out, err := runBinary(append(args, "-t")...)
	if err != nil || !strings.Contains(out, "Syntax OK") {
		t.Fatalf("wsgid -t on Debian's apache2.conf: %v\n%s", err, out)
	}
	if os.Getuid() == 0 {
		args = append(args, "-c", "WSGIPythonHome /usr")
	}
	in := startWsgid(t, args...)
	want, err := os.ReadFile("/var/www/html/index.html")
	if err != nil {
		t.Skip("no /var/www/html/index.html")
	}
	resp, body := in.get("/index.html")
	if resp.StatusCode != 200 || body != string(want) || resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("GET /index.html = %d %q (%d bytes)", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	resp, _ = in.get("/")
	if resp.StatusCode != 200 {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
	resp, _ = in.get("/.htaccess")
	if resp.StatusCode != 403 {
		t.Errorf("GET /.htaccess = %d, want 403", resp.StatusCode)
	}
	// Debian's status.conf: server-status for "Require local", as Apache.
	resp, body = in.get("/server-status?auto")
	if resp.StatusCode != 200 || !strings.Contains(body, "Total Accesses: ") {
		t.Errorf("GET /server-status?auto = %d %q", resp.StatusCode, body)
	}
}

// TestSeedProtocols: the HTTP/1 fast path and the net/http server behind
// it serve the same site. HTTP/2 (prior knowledge) and a chunked request
// are handed over, the latter in the middle of a kept-alive connection
// that the fast path began.
func TestSeedProtocols(t *testing.T) {
	requirePython(t)
	root, args := seedArgs(t)
	envApp := "def application(environ, start_response):\n" +
		"    start_response('200 OK', [('Content-Type', 'text/plain')])\n" +
		"    return [environ['SERVER_PROTOCOL'].encode()]\n"
	if err := os.WriteFile(filepath.Join(root, "usr/local/www/apache24/wsgi/proto.py"), []byte(envApp), 0o644); err != nil {
		t.Fatal(err)
	}
	in := startWsgid(t, args...)

	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Protocols: p}}
	resp, err := h2.Get("http://" + in.addr + "/wsgi/proto.py")
	if err != nil {
		t.Fatalf("HTTP/2 GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(body) != "HTTP/2.0" {
		t.Errorf("HTTP/2 GET = %d %s %q", resp.StatusCode, resp.Proto, body)
	}

	got := in.raw("GET /wsgi/proto.py HTTP/1.1\r\nHost: h\r\n\r\n" +
		"POST /wsgi/proto.py HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"GET /wsgi/proto.py HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	i := strings.Index(got, "HTTP/1.1 200 OK\r\n")
	j := strings.Index(got, "HTTP/1.1 411 Length Required\r\n")
	k := strings.LastIndex(got, "HTTP/1.1 200 OK\r\n")
	if i != 0 || j < i || k < j || !strings.HasSuffix(got, "\r\n\r\nHTTP/1.1") {
		t.Errorf("three requests on one connection got:\n%s", got)
	}
}

// TestBodyTimeout: a client that stops sending its body gets 408 after
// Timeout, whether wsgid reads the body before dispatch (a small one) or
// the application reads it from wsgi.input (a large one, whose process
// thread is then freed), as mod_wsgi's daemon mode answers.
func TestBodyTimeout(t *testing.T) {
	requirePython(t)
	root, args := seedArgs(t)
	reader := "def application(environ, start_response):\n" +
		"    n = len(environ['wsgi.input'].read())\n" +
		"    start_response('200 OK', [('Content-Type', 'text/plain')])\n" +
		"    return [str(n).encode()]\n"
	if err := os.WriteFile(filepath.Join(root, "usr/local/www/apache24/wsgi/reader.py"), []byte(reader), 0o644); err != nil {
		t.Fatal(err)
	}
	in := startWsgid(t, append(args, "-c", "Timeout 1")...)
	for _, tt := range []struct {
		name, path string
		length     int
		sent       int
	}{
		{"small body, read before dispatch", "/wsgi/sample.py", 100, 10},
		{"large body, read by the application", "/wsgi/reader.py", 4 << 20, 300 << 10},
		{"body the application leaves unread", "/wsgi/sample.py", 200 << 10, 100 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", in.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			start := time.Now()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", tt.path, tt.length, strings.Repeat("x", tt.sent))
			got, _ := io.ReadAll(c)
			want := "HTTP/1.1 408 "
			if tt.path == "/wsgi/sample.py" && tt.length > 64<<10 {
				// Answered; the server's read of the unread rest
				// (to keep the connection) gives up after Timeout.
				want = "HTTP/1.1 200 "
			}
			if !strings.HasPrefix(string(got), want) {
				t.Fatalf("got %.200q, want %q", got, want)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("408 after %v with Timeout 1", el)
			}
		})
	}
	// The process threads are free: the site still answers at once.
	if resp, body := in.get("/wsgi/reader.py"); resp.StatusCode != 200 || body != "0" {
		t.Errorf("after the stalls: %d %q", resp.StatusCode, body)
	}
}

// TestSendTimeout: a client that stops reading is given up after Timeout,
// and the application's response is closed, freeing its thread, as
// Apache's Timeout on a send ends the request.
func TestSendTimeout(t *testing.T) {
	requirePython(t)
	root, args := seedArgs(t)
	marks := filepath.Join(root, "marks")
	if err := os.Mkdir(marks, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(marks, 0o777)
	marker := filepath.Join(marks, "closed")
	endless := "class Endless:\n" +
		"    def __iter__(self):\n" +
		"        block = b'y' * 65536\n" +
		"        while True:\n" +
		"            yield block\n" +
		"    def close(self):\n" +
		"        with open(" + strconv.Quote(marker) + ", 'w') as f:\n" +
		"            f.write('closed')\n" +
		"def application(environ, start_response):\n" +
		"    start_response('200 OK', [('Content-Type', 'application/octet-stream')])\n" +
		"    return Endless()\n"
	if err := os.WriteFile(filepath.Join(root, "usr/local/www/apache24/wsgi/endless.py"), []byte(endless), 0o644); err != nil {
		t.Fatal(err)
	}
	in := startWsgid(t, append(args, "-c", "Timeout 1")...)
	c, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(c, "GET /wsgi/endless.py HTTP/1.1\r\nHost: h\r\n\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(marker); string(b) == "closed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the response to a client that stopped reading was never closed\n%s", in.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
