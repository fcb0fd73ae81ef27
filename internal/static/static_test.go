package static

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgid/internal/mime"
)

// servers runs fn against the handler over HTTP/1.1 and HTTP/2.
func servers(t *testing.T, h http.Handler, fn func(t *testing.T, c *http.Client, base string)) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		t.Run(proto, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(h)
			if proto == "HTTP/2" {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			c := srv.Client()
			if tr, ok := c.Transport.(*http.Transport); ok && proto == "HTTP/2" {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}
				tr.ForceAttemptHTTP2 = true
			}
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			fn(t, c, srv.URL)
		})
	}
}

func TestServe(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("0123456789"), 0o644)
	os.MkdirAll(filepath.Join(root, "dir"), 0o755)
	os.WriteFile(filepath.Join(root, "dir/x.html"), []byte("<b>x</b>"), 0o644)
	os.WriteFile(filepath.Join(root, "dir/.hidden"), []byte("h"), 0o644)
	os.MkdirAll(filepath.Join(root, "idx"), 0o755)
	os.WriteFile(filepath.Join(root, "idx/index.html"), []byte("index"), 0o644)
	os.Symlink(filepath.Join(root, "a.txt"), filepath.Join(root, "link.txt"))
	os.WriteFile(filepath.Join(root, "noext"), []byte("raw"), 0o644)

	opt := func(follow, indexes bool) *Options {
		return &Options{Root: root, FollowSymLinks: follow, Indexes: indexes, DirectorySlash: true,
			Types: mime.Builtin(), IndexIgnore: []string{".??*"}}
	}
	handler := func(o *Options) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			status, err := Serve(w, r, filepath.Join(root, r.URL.Path), r.URL.Path, o)
			if err != nil {
				w.Header().Set("X-Reason", strings.SplitN(err.Error(), ":", 2)[0])
				w.WriteHeader(status)
			}
		})
	}
	tests := []struct {
		name    string
		opt     *Options
		path    string
		hdr     [2]string
		status  int
		body    string
		headers map[string]string
	}{
		{"file", opt(true, false), "/a.txt", [2]string{}, 200, "0123456789", map[string]string{"Content-Type": "text/plain", "Accept-Ranges": "bytes"}},
		{"range", opt(true, false), "/a.txt", [2]string{"Range", "bytes=2-4"}, 206, "234", map[string]string{"Content-Range": "bytes 2-4/10"}},
		{"suffix range", opt(true, false), "/a.txt", [2]string{"Range", "bytes=-3"}, 206, "789", nil},
		{"bad range", opt(true, false), "/a.txt", [2]string{"Range", "bytes=50-60"}, 416, "", nil},
		{"not modified", opt(true, false), "/a.txt", [2]string{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}, 304, "", nil},
		{"unknown type", opt(true, false), "/noext", [2]string{}, 200, "raw", map[string]string{"Content-Type": ""}},
		{"missing", opt(true, false), "/nope", [2]string{}, 404, "", nil},
		{"dir slash", opt(true, false), "/dir", [2]string{}, 301, "", map[string]string{"Location": "/dir/"}},
		{"no index, no Indexes", opt(true, false), "/dir/", [2]string{}, 403, "", nil},
		{"listing", opt(true, true), "/dir/", [2]string{}, 200, "x.html", nil},
		{"index file", opt(true, false), "/idx/", [2]string{}, 200, "index", nil},
		{"symlink followed", opt(true, false), "/link.txt", [2]string{}, 200, "0123456789", nil},
		{"symlink refused", opt(false, false), "/link.txt", [2]string{}, 403, "", map[string]string{"X-Reason": "Symbolic link not allowed or link target not accessible"}},
	}
	for _, tt := range tests {
		servers(t, handler(tt.opt), func(t *testing.T, c *http.Client, base string) {
			req, _ := http.NewRequest("GET", base+tt.path, nil)
			if tt.hdr[0] != "" {
				req.Header.Set(tt.hdr[0], tt.hdr[1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
				t.Errorf("%s: %d %q, want %d %q", tt.name, resp.StatusCode, b, tt.status, tt.body)
			}
			for k, v := range tt.headers {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %s = %q, want %q", tt.name, k, got, v)
				}
			}
			if tt.name == "listing" && strings.Contains(string(b), ".hidden") {
				t.Errorf("listing shows an IndexIgnore'd file")
			}
		})
	}
}

func TestServeRefusesTraversal(t *testing.T) {
	rec := httptest.NewRecorder()
	for _, p := range []string{"/srv/../etc/passwd", "/srv/a\x00b"} {
		status, err := Serve(rec, httptest.NewRequest("GET", "/", nil), p, "/", &Options{FollowSymLinks: true})
		if status < 400 || err == nil {
			t.Errorf("Serve(%q) = %d, %v", p, status, err)
		}
	}
	if rec.Body.Len() != 0 {
		t.Errorf("refused requests wrote %q", rec.Body.String())
	}
}
