package app

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireDebianPython skips (or fails under WSGID_REQUIRE_ALL) unless
// Debian's python3 with Flask and Django is installed.
func requireDebianPython(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import flask, django").Run(); err != nil {
		if os.Getenv("WSGID_REQUIRE_ALL") != "" {
			t.Fatal("python3-flask and python3-django are not installed")
		}
		t.Skip("python3-flask and python3-django are not installed")
	}
}

// TestFrameworks serves real Flask and Django projects through an
// Apache configuration with mod_wsgi daemon groups.
func TestFrameworks(t *testing.T) {
	requireDebianPython(t)
	site := copyTree(t, "testdata/frameworks")
	args := []string{"-f", filepath.Join(site, "httpd.conf"), "-C", "Define SITE " + site}
	if os.Getuid() == 0 {
		args = append(args, "-c", "User nobody", "-c", "Group nogroup")
	}
	in := startWsgid(t, args...)
	errlog := func() string { b, _ := os.ReadFile(filepath.Join(site, "error.log")); return string(b) }

	resp, body := in.get("/flask/")
	var got map[string]string
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil || got["message"] != "hello from flask" || got["script_root"] != "/flask" || got["path"] != "/" {
		t.Fatalf("flask: %d %s\n%s", resp.StatusCode, body, errlog())
	}
	resp, body = in.do("POST", "/flask/echo", strings.NewReader("a=1&b=two"), "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != 200 || !strings.Contains(body, `"a":"1"`) || !strings.Contains(body, `"length":9`) {
		t.Errorf("flask POST: %d %s", resp.StatusCode, body)
	}
	resp, body = in.get("/django/")
	got = nil
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil || got["message"] != "hello from django" || got["script_name"] != "/django" || got["path"] != "/django/" {
		t.Fatalf("django: %d %s\n%s", resp.StatusCode, body, errlog())
	}
	big := strings.Repeat("x", 300<<10) // above the inline threshold: streamed
	resp, body = in.do("POST", "/django/upload", strings.NewReader(big), "Content-Type", "application/octet-stream")
	if resp.StatusCode != 200 || body != "got 307200 bytes" {
		t.Errorf("django upload: %d %q", resp.StatusCode, body)
	}
	resp, _ = in.get("/django/missing")
	if resp.StatusCode != 404 {
		t.Errorf("django 404 page: %d", resp.StatusCode)
	}
	// display-name=%{GROUP} shows in ps, as mod_wsgi's does.
	if comms, _ := filepath.Glob("/proc/[0-9]*/comm"); len(comms) > 0 {
		found := false
		for _, c := range comms {
			if b, err := os.ReadFile(c); err == nil && strings.TrimSpace(string(b)) == "(wsgi:flask)" {
				found = true
			}
		}
		if !found {
			t.Errorf("no process titled (wsgi:flask)")
		}
	}
}

// TestQuickMode runs "wsgid serve app.py" and "wsgid serve module:callable".
func TestQuickMode(t *testing.T) {
	requirePython(t)
	dir := copyTree(t, "testdata/quick")
	for _, app := range []string{filepath.Join(dir, "hello.py"), "hello:application"} {
		in := startServe(t, dir, "--processes", "1", "--threads", "2",
			"--url-alias", "/static", filepath.Join(dir, "static"), app)
		resp, body := in.get("/some/path?q=1")
		if resp.StatusCode != 200 || body != "hello |/some/path" {
			t.Errorf("%s: %d %q\n%s", app, resp.StatusCode, body, in.stderr.String())
		}
		resp, body = in.get("/static/style.css")
		if resp.StatusCode != 200 || body != "body{}\n" || resp.Header.Get("Content-Type") != "text/css" {
			t.Errorf("%s: static %d %q %q", app, resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
		in.stop()
		if out := in.stderr.String(); !strings.Contains(out, `"GET /some/path?q=1 HTTP/1.1" 200 17`) {
			t.Errorf("%s: access log on stdout missing:\n%s", app, out)
		}
	}
}
