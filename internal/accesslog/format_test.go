package accesslog

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry() *Entry {
	r := httptest.NewRequest("GET", "/wsgi/sample.py?x=1", nil)
	r.RemoteAddr = "192.0.2.7:51234"
	r.Header.Set("Referer", "http://example.com/")
	r.Header.Set("User-Agent", `curl/8 "quoted"`)
	return &Entry{Request: r, Status: 200, BytesSent: 77,
		Start:      time.Date(2026, 11, 24, 14, 18, 44, 0, time.UTC),
		Duration:   1500 * time.Microsecond,
		ServerName: "www.example.com", LocalAddr: netip.MustParseAddrPort("127.0.0.1:8080"),
		Header: http.Header{"Content-Type": {"text/plain"}}}
}

func TestFormats(t *testing.T) {
	tests := []struct{ format, want string }{
		{`%h %l %u %t "%r" %>s %b`, `192.0.2.7 - - [24/Nov/2026:14:18:44 +0000] "GET /wsgi/sample.py?x=1 HTTP/1.1" 200 77`},
		{`%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`, `192.0.2.7 - - [24/Nov/2026:14:18:44 +0000] "GET /wsgi/sample.py?x=1 HTTP/1.1" 200 77 "http://example.com/" "curl/8 \"quoted\""`},
		{`%D %{ms}T %T`, `1500 1 0`},
		{`%U%q %m %H %v %p %A`, `/wsgi/sample.py?x=1 GET HTTP/1.1 www.example.com 8080 127.0.0.1`},
		{`%{Content-Type}o %{X-None}i %%`, `text/plain - %`},
		{`%400,500{Referer}i %!400{Referer}i`, `- http://example.com/`},
		{`%{%Y-%m-%d}t %{sec}t`, `2026-11-24 1795529924`},
	}
	for _, tt := range tests {
		f, err := Compile(tt.format)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.format, err)
		}
		if got := string(f.Append(nil, entry())); got != tt.want {
			t.Errorf("format %q\n got %q\nwant %q", tt.format, got, tt.want)
		}
	}
	e := entry()
	e.BytesSent = 0
	f, _ := Compile("%b %B")
	if got := string(f.Append(nil, e)); got != "- 0" {
		t.Errorf("%%b %%B with no body = %q", got)
	}
	for _, bad := range []string{"%", "%{x", "%Z"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded", bad)
		}
	}
}

func TestWriterReopen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "access.log")
	w, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("one\n"))
	os.Rename(p, p+".1")
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("two\n"))
	w.Close()
	a, _ := os.ReadFile(p + ".1")
	b, _ := os.ReadFile(p)
	if string(a) != "one\n" || string(b) != "two\n" {
		t.Errorf("rotated %q, new %q", a, b)
	}
}

func FuzzCompile(f *testing.F) {
	f.Add(`%h %l %u %t "%r" %>s %b`)
	f.Add(`%{Referer}i %400,501{X}o %!200e`)
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := Compile(s)
		if err != nil {
			return
		}
		out := fm.Append(nil, entry())
		if strings.Contains(string(out), "\n") && !strings.Contains(s, `\n`) && !strings.Contains(s, "\n") {
			t.Fatalf("format %q produced a newline", s)
		}
	})
}
