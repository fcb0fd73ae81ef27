package http1

import (
	"bufio"
	"context"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// parse runs the fast path's whole acceptance on raw (a head ending in
// "\r\n\r\n"): the head parser, then building the request.
func parse(raw string) (*http.Request, head, bool) {
	if !strings.HasSuffix(raw, "\r\n\r\n") || bareLF([]byte(raw)) {
		return nil, head{}, false
	}
	h, ok := parseHead([]byte(raw))
	if !ok {
		return nil, h, false
	}
	r, ok := h.request(context.Background(), "")
	return r, h, ok
}

func TestParseHead(t *testing.T) {
	tests := []struct {
		name, raw string
		ok        bool
		check     func(*http.Request, head) string
	}{
		{"minimal", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", true, func(r *http.Request, h head) string {
			if r.Host != "h" || r.URL.Path != "/" || r.ProtoMinor != 1 || len(r.Header) != 0 || r.Close {
				return "fields"
			}
			return ""
		}},
		{"query and headers", "POST /a/b?x=1&y=%20 HTTP/1.1\r\nhost: ex.com:80\r\ncontent-length: 12\r\nX-A:  1 \r\nx-a: 2\r\n\r\n", true, func(r *http.Request, h head) string {
			if r.URL.RawQuery != "x=1&y=%20" || r.ContentLength != 12 || strings.Join(r.Header["X-A"], ",") != "1,2" || r.Header.Get("Content-Length") != "12" {
				return "fields"
			}
			return ""
		}},
		{"1.0 closes", "GET / HTTP/1.0\r\nHost: h\r\n\r\n", true, func(r *http.Request, h head) string {
			if !r.Close || h.keepAlive10 || r.Proto != "HTTP/1.0" {
				return "1.0 should close"
			}
			return ""
		}},
		{"1.0 keep-alive", "GET / HTTP/1.0\r\nHost: h\r\nConnection: Keep-Alive\r\n\r\n", true, func(r *http.Request, h head) string {
			if r.Close || !h.keepAlive10 {
				return "1.0 keep-alive should stay open"
			}
			return ""
		}},
		{"1.1 close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", true, func(r *http.Request, h head) string {
			if !r.Close {
				return "close"
			}
			return ""
		}},
		{"no host", "GET / HTTP/1.1\r\n\r\n", false, nil},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", false, nil},
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", false, nil},
		{"expect", "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", true, func(r *http.Request, h head) string {
			if !h.expect {
				return "expect not noted"
			}
			return ""
		}},
		{"expect, HTTP/1.0", "POST / HTTP/1.0\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", false, nil},
		{"expect, no body", "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", false, nil},
		{"expect, other", "POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n", false, nil},
		{"expect, list", "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\nContent-Length: 1\r\n\r\n", false, nil},
		{"connection list", "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n", false, nil},
		{"fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", false, nil},
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", false, nil},
		{"tab in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\r\n\r\n", true, nil},
		{"obs-text", "GET / HTTP/1.1\r\nHost: h\r\nX: \xff\r\n\r\n", false, nil},
		{"two lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", false, nil},
		{"signed length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", false, nil},
		{"huge length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999999999999999\r\n\r\n", false, nil},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", false, nil},
		{"absolute", "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", false, nil},
		{"preface", "PRI * HTTP/2.0\r\n\r\n", false, nil},
		{"version", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", false, nil},
		{"trailing junk", "GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", false, nil},
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", false, nil},
		{"bare lf", "GET / HTTP/1.1\nHost: h\r\n\r\n", false, nil},
		{"host with user", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", false, nil},
		{"pragma", "GET / HTTP/1.1\r\nHost: h\r\nPragma: no-cache\r\n\r\n", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, h, ok := parse(tt.raw)
			if ok != tt.ok {
				t.Fatalf("accepted = %v, want %v", ok, tt.ok)
			}
			if ok {
				if msg := sameAsNetHTTP(tt.raw, r); msg != "" {
					t.Fatal(msg)
				}
				if tt.check != nil {
					if msg := tt.check(r, h); msg != "" {
						t.Fatal(msg)
					}
				}
			}
		})
	}
}

// sameAsNetHTTP compares an accepted request with what net/http reads
// from the same bytes, including the checks its server adds to
// http.ReadRequest (one valid Host, valid names and values).
func sameAsNetHTTP(raw string, r *http.Request) string {
	want, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return "accepted what net/http rejects: " + err.Error()
	}
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader(raw)))
	tp.ReadLine()
	mh, err := tp.ReadMIMEHeader()
	if err != nil || (want.ProtoMinor == 1 && len(mh["Host"]) != 1) {
		return "accepted a request net/http's server rejects for its Host"
	}
	switch {
	case r.Method != want.Method:
		return "method " + r.Method + " != " + want.Method
	case r.URL.String() != want.URL.String():
		return "URL " + r.URL.String() + " != " + want.URL.String()
	case r.RequestURI != want.RequestURI:
		return "RequestURI differs"
	case r.Proto != want.Proto || r.ProtoMajor != want.ProtoMajor || r.ProtoMinor != want.ProtoMinor:
		return "proto differs"
	case r.Host != want.Host:
		return "host " + r.Host + " != " + want.Host
	case r.ContentLength != want.ContentLength:
		return "content length differs"
	case r.Close != want.Close:
		return "close differs"
	case !reflect.DeepEqual(r.Header, want.Header):
		return "header differs"
	}
	return ""
}

// FuzzParseHead: whatever the fast path accepts, net/http reads the same.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /x?y HTTP/1.0\r\nHost: h:1\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
		"GET /a%20b HTTP/1.1\r\nHost: [::1]:80\r\nx-y: z\r\nX-Y: w\r\nAccept:\r\n\r\n",
		"HEAD //a/../b HTTP/1.1\r\nHost: h\r\nconnection: CLOSE\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, _, ok := parse(raw)
		if !ok {
			return
		}
		if msg := sameAsNetHTTP(raw, r); msg != "" {
			t.Fatalf("%q: %s", raw, msg)
		}
	})
}

// FuzzRequestParts builds well-shaped heads from fuzzed parts, so that
// the fuzzer spends its time on targets, names and values the fast path
// accepts rather than on heads it declines at the first byte.
func FuzzRequestParts(f *testing.F) {
	f.Add("GET", "/", "X-A", "1", "h", true)
	f.Add("POST", "/a?b=c%20d", "connection", "keep-alive", "h:80", false)
	f.Add("PUT", "/%2F..//x", "content-length", "007", "[::1]", true)
	f.Fuzz(func(t *testing.T, method, target, name, value, host string, minor bool) {
		v := "1.0"
		if minor {
			v = "1.1"
		}
		raw := method + " " + target + " HTTP/" + v + "\r\nHost: " + host + "\r\n" + name + ": " + value + "\r\n\r\n"
		r, _, ok := parse(raw)
		if !ok {
			return
		}
		if msg := sameAsNetHTTP(raw, r); msg != "" {
			t.Fatalf("%q: %s", raw, msg)
		}
	})
}
