package app

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPEP3333 runs PEP 3333 behaviours through the real server and real
// workers, the application wrapped in wsgiref.validate.validator.
func TestPEP3333(t *testing.T) {
	requirePython(t)
	dir := copyTree(t, "testdata/quick")
	in := startServe(t, dir, "--processes", "1", "--threads", "2", filepath.Join(dir, "pep3333.py"))
	addr := in.addr

	body := "line one\nline two\nthree\n"
	for _, tt := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/read-n", "abcdefgh", 200, "abc|def|gh"},
		{"POST", "/readline", body, 200, "line one\n|li|ne two\n"},
		{"POST", "/readlines", body, 200, "3"},
		{"POST", "/iterate", body, 200, "3"},
		{"POST", "/read-all", strings.Repeat("x", 200000), 200, "200000 xxxxxxxx"},
		{"GET", "/write", "", 200, "written then returned"},
		{"GET", "/close", "", 200, "ab"},
		{"GET", "/exc-info", "", 500, "error page from app"},
		{"GET", "/env", "", 200, "wsgi.version=(1, 0) wsgi.multithread=True wsgi.multiprocess=False wsgi.run_once=False wsgi.url_scheme='http' wsgi.input_terminated=True"},
	} {
		var rd *strings.Reader
		if tt.body != "" {
			rd = strings.NewReader(tt.body)
		}
		var respStatus int
		var got string
		if rd != nil {
			resp, b := in.do(tt.method, tt.path, rd, "Content-Type", "text/plain")
			respStatus, got = resp.StatusCode, b
		} else {
			resp, b := in.do(tt.method, tt.path, nil)
			respStatus, got = resp.StatusCode, b
		}
		if respStatus != tt.status || got != tt.want {
			t.Errorf("%s %s = %d %q, want %d %q\n%s", tt.method, tt.path, respStatus, got, tt.status, tt.want, in.stderr.String())
		}
	}
	if _, b := in.get("/closed"); b != "1" {
		t.Errorf("close() calls = %q, want 1", b)
	}
	resp, b := in.get("/file")
	if resp.StatusCode != 200 || len(b) != 10000 || !strings.HasPrefix(b, "0123456789") {
		t.Errorf("file_wrapper: %d, %d bytes", resp.StatusCode, len(b))
	}
	resp, b = in.get("/big")
	if resp.StatusCode != 200 || len(b) != 3<<20 {
		t.Errorf("3 MiB body: %d, %d bytes", resp.StatusCode, len(b))
	}
	resp, b = in.do("HEAD", "/", nil)
	if resp.StatusCode != 200 || b != "" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, b)
	}
	// A body shorter than its Content-Length: the connection is closed
	// rather than left waiting for bytes that never come.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("GET /short HTTP/1.1\r\nHost: x\r\n\r\n"))
	all, err := readAll(c)
	if err != nil {
		t.Errorf("short body: connection not closed: %v (got %q)", err, all)
	}
	if !strings.Contains(all, "Content-Length: 100") || !strings.HasSuffix(all, "only ten b") {
		t.Errorf("short body response: %q", all)
	}
	// Expect: 100-continue gets its interim response before the body.
	c2, _ := net.Dial("tcp", addr)
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	c2.Write([]byte("POST /read-all HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"))
	br := bufio.NewReader(c2)
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Errorf("Expect: 100-continue answered %q", line)
	}
}

func readAll(c net.Conn) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			if err.Error() == "EOF" {
				return sb.String(), nil
			}
			return sb.String(), err
		}
	}
}
