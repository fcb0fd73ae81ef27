package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitBody polls path until its body is want or the deadline passes.
func (in *instance) waitBody(path, want string, d time.Duration) string {
	in.t.Helper()
	deadline := time.Now().Add(d)
	var body string
	for time.Now().Before(deadline) {
		_, body = in.get(path)
		if body == want {
			return body
		}
		time.Sleep(100 * time.Millisecond)
	}
	return body
}

// TestQuickReload: "wsgid serve --reload" restarts workers when any
// module they loaded changes, not only the script.
func TestQuickReload(t *testing.T) {
	requirePython(t)
	dir := copyTree(t, "testdata/reload")
	in := startServe(t, dir, "--processes", "1", "--reload", filepath.Join(dir, "app.py"))
	if _, body := in.get("/"); body != "before" {
		t.Fatalf("first response %q\n%s", body, in.stderr.String())
	}
	time.Sleep(1100 * time.Millisecond) // let the watcher record the first mtime
	os.WriteFile(filepath.Join(dir, "greeting.py"), []byte("TEXT = 'after'\n"), 0o644)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(dir, "greeting.py"), future, future)
	if body := in.waitBody("/", "after", 10*time.Second); body != "after" {
		t.Errorf("after changing greeting.py: %q\n%s", body, in.stderr.String())
	}
}

// TestScriptReloading: with WSGIScriptReloading On (the default), a
// changed script takes effect on the next request.
func TestScriptReloading(t *testing.T) {
	requirePython(t)
	root, args := seedArgs(t)
	script := filepath.Join(root, "usr/local/www/apache24/wsgi/sample.py")
	in := startWsgid(t, args...)
	if resp, _ := in.get("/wsgi/sample.py"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	src := "def application(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'changed']\n"
	os.WriteFile(script, []byte(src), 0o644)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(script, future, future)
	// The mtime is checked on every request, by every process.
	for i := 0; i < 4; i++ {
		if _, body := in.get("/wsgi/sample.py"); body != "changed" {
			t.Fatalf("request %d after the change: %q", i, body)
		}
	}
}
