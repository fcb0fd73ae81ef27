package wsgi

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"wsgid/internal/protocol"
)

func parseEnv(t testing.TB, b []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := protocol.ParsePairs(b, func(k, v []byte) {
		if _, dup := m[string(k)]; dup && !strings.HasPrefix(string(k), "X_") {
			t.Errorf("duplicate key %q", k)
		}
		m[string(k)] = string(v)
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEnviron(t *testing.T) {
	start := time.Unix(1700000000, 123456000)
	tests := []struct {
		name   string
		req    func() *http.Request
		target Target
		want   map[string]string // "" value with key prefixed "!" = must be absent
	}{
		{
			name: "basic GET",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "http://example.com:8080/app/x%20y?a=1&b=%41", nil)
				r.RemoteAddr = "192.0.2.1:5555"
				r.RequestURI = "/app/x%20y?a=1&b=%41"
				r.Header.Set("Accept", "text/html")
				r.Header.Add("X-Multi", "a")
				r.Header.Add("X-Multi", "b")
				r.Header["X_Under"] = []string{"dropped"}
				r.Header.Set("Authorization", "Basic Zm9v")
				r.Header.Set("Proxy", "http://evil")
				r.Header.Set("Proxy-Authorization", "secret")
				la := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
				return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, la))
			},
			target: Target{Script: "/srv/app.wsgi", ScriptName: "/app", PathInfo: "/x y", ServerSoftware: "wsgid", Handler: "wsgi-script", ProcessGroup: "site", ApplicationGroup: "example.com|/app", ScriptReloading: true},
			want: map[string]string{
				"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/app", "PATH_INFO": "/x y",
				"QUERY_STRING": "a=1&b=%41", "REQUEST_URI": "/app/x%20y?a=1&b=%41",
				"SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "example.com", "SERVER_PORT": "8080",
				"SERVER_ADDR": "127.0.0.1", "REMOTE_ADDR": "192.0.2.1", "REMOTE_PORT": "5555",
				"REQUEST_SCHEME": "http", "wsgi.url_scheme": "http",
				"HTTP_HOST": "example.com:8080", "HTTP_ACCEPT": "text/html", "HTTP_X_MULTI": "a, b",
				"!HTTP_X_UNDER": "", "!HTTP_AUTHORIZATION": "", "!HTTP_PROXY": "", "!HTTP_PROXY_AUTHORIZATION": "",
				"!CONTENT_LENGTH": "", "!CONTENT_TYPE": "", "!HTTPS": "", "!PATH_TRANSLATED": "", "!wsgid.module": "",
				"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "wsgid", "SCRIPT_FILENAME": "/srv/app.wsgi",
				"mod_wsgi.process_group": "site", "mod_wsgi.application_group": "example.com|/app",
				"mod_wsgi.callable_object": "application", "mod_wsgi.request_handler": "wsgi-script",
				"mod_wsgi.handler_script": "", "mod_wsgi.script_reloading": "1",
				"mod_wsgi.listener_host": "127.0.0.1", "mod_wsgi.listener_port": "8080",
				"mod_wsgi.script_name": "/app", "mod_wsgi.path_info": "/x y",
				"mod_wsgi.request_start": "1700000000123456", "mod_wsgi.connection_id": "192.0.2.1:5555",
			},
		},
		{
			name: "HEAD mapped, POST headers, TLS, auth passed, env",
			req: func() *http.Request {
				r := httptest.NewRequest("HEAD", "https://h/", strings.NewReader("abc"))
				r.TLS = &tls.ConnectionState{}
				r.Header.Set("Content-Type", "text/plain")
				r.Header.Set("Content-Length", "3")
				r.Header.Set("Authorization", "Bearer t")
				r.Header.Add("Cookie", "a=1")
				r.Header.Add("Cookie", "b=2")
				r.RemoteAddr = "[2001:db8::1]:4444"
				return r
			},
			target: Target{MapHEADToGET: true, PassAuthorization: true, Callable: "app", Module: "pkg.mod", ServerName: "configured", ServerPort: "443", PathTranslated: "/srv/x",
				Env: []string{"REMOTE_USER", "bob", "REQUEST_METHOD", "EVIL", "HTTPS", "on", "X_SET", "1", "X_SET", "2"}},
			want: map[string]string{
				"REQUEST_METHOD": "GET", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "3",
				"HTTP_AUTHORIZATION": "Bearer t", "HTTP_COOKIE": "a=1; b=2",
				"REQUEST_SCHEME": "https", "wsgi.url_scheme": "https", "!HTTPS": "",
				"REMOTE_ADDR": "2001:db8::1", "REMOTE_PORT": "4444", "SERVER_NAME": "configured", "SERVER_PORT": "443",
				"mod_wsgi.callable_object": "app", "wsgid.module": "pkg.mod", "REMOTE_USER": "bob",
				"X_SET": "2", "PATH_TRANSLATED": "/srv/x", "mod_wsgi.script_reloading": "0",
				"!HTTP_CONTENT_TYPE": "", "!HTTP_CONTENT_LENGTH": "",
			},
		},
		{
			name: "chunked body has no CONTENT_LENGTH",
			req: func() *http.Request {
				r := httptest.NewRequest("POST", "/", strings.NewReader("abc"))
				r.TransferEncoding = []string{"chunked"}
				r.ContentLength = -1
				r.Header.Set("Content-Length", "3")
				return r
			},
			want: map[string]string{"!CONTENT_LENGTH": "", "REQUEST_METHOD": "POST"},
		},
		{
			name:   "SetEnv HTTPS=1 selects https",
			req:    func() *http.Request { return httptest.NewRequest("GET", "/", nil) },
			target: Target{Env: []string{"HTTPS", "1"}},
			want:   map[string]string{"wsgi.url_scheme": "https", "!HTTPS": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, err := appendEnviron(nil, tt.req(), &tt.target, start)
			if err != nil {
				t.Fatal(err)
			}
			// Later duplicates win in the worker's dict; emulate that.
			m := map[string]string{}
			protocol.ParsePairs(b, func(k, v []byte) { m[string(k)] = string(v) })
			for k, v := range tt.want {
				if name, ok := strings.CutPrefix(k, "!"); ok {
					if got, present := m[name]; present {
						t.Errorf("%s = %q, want absent", name, got)
					}
					continue
				}
				if got, ok := m[k]; !ok || got != v {
					t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

// TestEnvironCGIOverridesEnv checks that CGI variables come after Env, so
// that SetEnv cannot forge REQUEST_METHOD (the worker keeps the last).
func TestEnvironCGIOverridesEnv(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	b, _, _ := appendEnviron(nil, r, &Target{Env: []string{"REQUEST_METHOD", "EVIL"}}, time.Now())
	if i, j := bytes.Index(b, []byte("EVIL")), bytes.Index(b, []byte("GET")); i < 0 || j < i {
		t.Fatalf("Env must precede CGI vars: %q", b)
	}
}

// TestEnvironFixedPart checks the split the worker's templates rely on:
// requests that differ in everything but their route share the fixed
// part byte for byte, and every per-request key is in the request's own.
func TestEnvironFixedPart(t *testing.T) {
	tg := Target{Script: "/srv/app.wsgi", ScriptName: "/app", ServerSoftware: "wsgid", ProcessGroup: "g",
		Env: []string{"K", "v"}}
	reqs := []*http.Request{
		httptest.NewRequest("GET", "http://example.com/app/a?x=1", nil),
		httptest.NewRequest("POST", "http://example.com/app/b", strings.NewReader("body")),
	}
	reqs[0].Header.Set("Accept", "text/html")
	reqs[1].Header.Set("Content-Type", "text/plain")
	reqs[1].RemoteAddr = "10.0.0.9:4444"
	own := map[string]bool{"REQUEST_METHOD": true, "PATH_INFO": true, "QUERY_STRING": true, "REQUEST_URI": true,
		"REMOTE_ADDR": true, "REMOTE_PORT": true, "HTTP_HOST": true, "mod_wsgi.request_id": true,
		"mod_wsgi.connection_id": true, "mod_wsgi.request_start": true, "mod_wsgi.queue_start": true,
		"mod_wsgi.path_info": true, "CONTENT_TYPE": true, "CONTENT_LENGTH": true}
	var first []byte
	for i, r := range reqs {
		tg.PathInfo = r.URL.Path[len("/app"):]
		b, fixed, err := appendEnviron(nil, r, &tg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b[:fixed]
		} else if !bytes.Equal(first, b[:fixed]) {
			t.Errorf("fixed parts differ:\n%q\n%q", first, b[:fixed])
		}
		protocol.ParsePairs(b[:fixed], func(k, v []byte) {
			if own[string(k)] || bytes.HasPrefix(k, []byte("HTTP_")) {
				t.Errorf("per-request key %s in the fixed part", k)
			}
		})
		protocol.ParsePairs(b[fixed:], func(k, v []byte) {
			if !own[string(k)] && !bytes.HasPrefix(k, []byte("HTTP_")) {
				t.Errorf("constant key %s in the request's own part", k)
			}
		})
	}
}

func TestEnvironRejectsNUL(t *testing.T) {
	for _, mod := range []func(*http.Request, *Target){
		func(r *http.Request, _ *Target) { r.Header.Set("X-A", "a\x00b") },
		func(r *http.Request, _ *Target) { r.URL.RawQuery = "a=\x00" },
		func(_ *http.Request, t *Target) { t.PathInfo = "/a\x00" },
		func(_ *http.Request, t *Target) { t.Env = []string{"K\x00", "v"} },
	} {
		r := httptest.NewRequest("GET", "/", nil)
		var tg Target
		mod(r, &tg)
		if _, _, err := appendEnviron(nil, r, &tg, time.Now()); err != errNUL {
			t.Errorf("err = %v, want errNUL", err)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"a:1", "a", "1"}, {"a", "a", ""}, {"[::1]:80", "::1", "80"}, {"[::1]", "::1", ""},
		{"::1", "::1", ""}, {"", "", ""}, {"1.2.3.4:", "1.2.3.4", ""}, {"[bad", "[bad", ""},
	}
	for _, tt := range tests {
		h, p := splitHostPort(tt.in)
		if h != tt.host || p != tt.port {
			t.Errorf("splitHostPort(%q) = %q, %q; want %q, %q", tt.in, h, p, tt.host, tt.port)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		code int
		ok   bool
	}{
		{"200 OK", 200, true}, {"404", 404, true}, {"500 ", 500, true}, {"999 X", 999, true},
		{"200OK", 0, false}, {"20 OK", 0, false}, {"abc", 0, false}, {"", 0, false},
		{"099 x", 0, false}, {"2x0 OK", 0, false}, {"-20 x", 0, false},
	}
	for _, tt := range tests {
		code, ok := ParseStatus([]byte(tt.in))
		if ok != tt.ok || (ok && code != tt.code) {
			t.Errorf("ParseStatus(%q) = %d, %v; want %d, %v", tt.in, code, ok, tt.code, tt.ok)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"200 OK", "404", "abc", "", "1000 x", "099"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		code, ok := ParseStatus(b)
		if ok && (code < 100 || code > 999) {
			t.Fatalf("ParseStatus(%q) accepted %d", b, code)
		}
		if ok && len(b) > 3 && b[3] != ' ' {
			t.Fatalf("ParseStatus(%q) accepted without space", b)
		}
	})
}

func FuzzHeaderValidation(f *testing.F) {
	f.Add([]byte("X-Ok"), []byte("v"))
	f.Add([]byte("Bad:Name"), []byte("a\r\nb"))
	f.Fuzz(func(t *testing.T, name, value []byte) {
		if validHeaderName(name) && bytes.ContainsAny(name, ":\r\n \t\x00") {
			t.Fatalf("name %q accepted", name)
		}
		if validHeaderValue(value) && bytes.ContainsAny(value, "\r\n\x00") {
			t.Fatalf("value %q accepted", value)
		}
	})
}

func BenchmarkEnviron(b *testing.B) {
	r := httptest.NewRequest("GET", "http://example.com/app/path?x=1", nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	r.Header.Set("Accept-Encoding", "gzip, deflate")
	r.Header.Set("Cookie", "session=abcdef0123456789")
	t := &Target{Script: "/srv/app.wsgi", ScriptName: "/app", PathInfo: "/path", ServerSoftware: "wsgid"}
	buf := make([]byte, 0, 4096)
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = appendEnviron(buf[:0], r, t, start); err != nil {
			b.Fatal(err)
		}
	}
}
