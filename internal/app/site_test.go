package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSiteServerCore drives the real binary over a site that uses the
// core directives: mapping, access control, static files, listings,
// symlink rules, headers, redirects, error documents, virtual hosts.
func TestSiteServerCore(t *testing.T) {
	requirePython(t)
	site := copyTree(t, "testdata/site")
	logs := filepath.Join(site, "logs")
	os.MkdirAll(logs, 0o755)
	os.MkdirAll(filepath.Join(site, "htdocs/nolinks"), 0o755)
	os.WriteFile(filepath.Join(site, "htdocs/nolinks/real.txt"), []byte("real\n"), 0o644)
	os.Symlink("../hello.txt", filepath.Join(site, "htdocs/nolinks/link.txt"))
	args := []string{"-f", filepath.Join(site, "httpd.conf"), "-C", "Define SITE " + site, "-C", "Define LOGS " + logs}
	args = append(args, unprivileged()...)
	in := startWsgid(t, args...)

	tests := []struct {
		path    string
		host    string
		status  int
		body    string // substring
		headers map[string]string
	}{
		{"/", "", 200, "<h1>home</h1>", map[string]string{"X-Site": "main", "Content-Type": "text/html"}},
		{"/hello.txt", "", 200, "hello static", map[string]string{"Content-Type": "text/plain", "Accept-Ranges": "bytes"}},
		{"/hello.txt", "www.other.example", 404, "Not here", nil},
		{"/pic.txt", "www.other.example", 200, "sub file", map[string]string{"X-Vhost": "other", "X-Site": "main"}},
		{"/", "other.example", 200, "sub index", nil},
		{"/sub", "", 301, "", map[string]string{"Location": "http://@ADDR@/sub/"}},
		{"/listing/", "", 200, "a.txt", nil},
		{"/missing", "", 404, "<p>Not here</p>", nil},
		{"/.htpasswd", "", 403, "Custom forbidden text", nil},
		{"/file.bak", "", 403, "", nil},
		{"/private/data.txt", "", 403, "", nil},
		{"/local-only", "", 403, "", nil},
		{"/pics/pic.jpg", "", 200, "sub file", nil},
		{"/old/page", "", 301, "", map[string]string{"Location": "http://main.example/new/page"}},
		{"/gone/x", "", 410, "", nil},
		{"/nolinks/real.txt", "", 200, "real", nil},
		{"/nolinks/link.txt", "", 403, "", nil},
		{"/hello.txt/extra", "", 404, "", nil},
		{"/app/x/y", "", 200, "/app|/x/y|-", nil},
		{"/app", "", 200, "/app||-", nil},
		{"/app/denied", "", 403, "", nil},
		{"/a/b", "root.example", 200, "|/a/b|-", nil},
		{"/", "root.example", 200, "|/|-", nil},
		{"/noexec/app.py", "", 403, "", nil},
	}
	for _, tt := range tests {
		var hdr []string
		if tt.host != "" {
			hdr = append(hdr, "Host", tt.host)
		}
		hdr = append(hdr, "Proxy", "http://evil/")
		resp, body := in.get(tt.path, hdr...)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("GET %s (Host %q) = %d %q, want %d containing %q", tt.path, tt.host, resp.StatusCode, body, tt.status, tt.body)
		}
		for k, v := range tt.headers {
			v = strings.ReplaceAll(v, "@ADDR@", in.addr) // Apache's absolute self-URLs
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", tt.path, k, got, v)
			}
		}
	}
	resp, body := in.get("/listing/")
	if strings.Contains(body, "skip.tmp") || !strings.Contains(body, "dir/") {
		t.Errorf("listing ignores IndexIgnore or misses dirs: %d\n%s", resp.StatusCode, body)
	}
	// Range and conditional requests on static files.
	resp, body = in.get("/hello.txt", "Range", "bytes=0-4")
	if resp.StatusCode != 206 || body != "hello" {
		t.Errorf("Range: %d %q", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = in.get("/hello.txt", "If-None-Match", etag)
	if resp.StatusCode != 304 {
		t.Errorf("If-None-Match %s: %d", etag, resp.StatusCode)
	}
	resp, body = in.do("HEAD", "/hello.txt", nil)
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 13 {
		t.Errorf("HEAD: %d %q %d", resp.StatusCode, body, resp.ContentLength)
	}

	// The access log has one line per request in common format, and the
	// error log says why access was denied.
	deadline := time.Now().Add(3 * time.Second)
	var access, errlog []byte
	for time.Now().Before(deadline) {
		access, _ = os.ReadFile(filepath.Join(logs, "access.log"))
		errlog, _ = os.ReadFile(filepath.Join(logs, "error.log"))
		if strings.Contains(string(access), `"GET /gone/x HTTP/1.1" 410`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(access), `"GET /hello.txt HTTP/1.1" 200 13`) || !strings.Contains(string(access), `"GET /gone/x HTTP/1.1" 410`) {
		t.Errorf("access log:\n%s", access)
	}
	// env=!dontlog skips /quiet.txt; %{SITE_TAG}e is SetEnv's value, "-"
	// where it is not set.
	in.get("/quiet.txt")
	in.get("/nope.txt")
	var tagged []byte
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && !strings.Contains(string(tagged), "/nope.txt"); time.Sleep(50 * time.Millisecond) {
		tagged, _ = os.ReadFile(filepath.Join(logs, "tagged.log"))
	}
	if !strings.Contains(string(tagged), "/hello.txt hello-tag\n") || !strings.Contains(string(tagged), "/nope.txt -\n") || strings.Contains(string(tagged), "/quiet.txt") {
		t.Errorf("tagged.log:\n%s", tagged)
	}
	if !strings.Contains(string(errlog), "Options ExecCGI is off in this directory: "+filepath.Join(site, "noexec/app.py")) {
		t.Errorf("error log lacks the ExecCGI line:\n%s", errlog)
	}
	if !strings.Contains(string(errlog), "client denied by server configuration") {
		t.Errorf("error log lacks the denial reason:\n%s", errlog)
	}
}
