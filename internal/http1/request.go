package http1

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
)

// head is a request head the fast path accepted: everything an
// http.Request needs, with its strings cut from one allocation.
type head struct {
	method, target string
	minor          int // 0 or 1: HTTP/1.0 or HTTP/1.1
	header         http.Header
	host           string
	length         int64 // Content-Length; 0 when absent
	close          bool  // Connection: close, or HTTP/1.0 without keep-alive
	keepAlive10    bool  // HTTP/1.0 with Connection: keep-alive
	expect         bool  // Expect: 100-continue (HTTP/1.1, with a body)
}

// parseHead parses b, a request head ending in "\r\n\r\n", and reports
// whether the fast path may serve it. It accepts only the common,
// unambiguous shape of a request and declines everything else (folded
// lines, bare LFs, odd bytes, a body that is not a plain
// Content-Length, Expect, Upgrade, an HTTP/2 preface...) so that
// net/http, which knows every corner of HTTP/1.x and what to answer to
// it, serves the connection instead. Declining is never wrong; only
// accepting must agree with net/http.
func parseHead(b []byte) (head, bool) {
	var h head
	// One string for the whole head: every name and value below is a
	// substring of it, so the head costs one allocation, not one per
	// header.
	s := string(b[:len(b)-4])
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ' ' {
		return h, false
	}
	h.method = s[:i]
	if h.method == "CONNECT" || h.method == "PRI" {
		return h, false
	}
	i++
	start := i
	for i < len(s) && s[i] > ' ' && s[i] < 0x7f {
		i++
	}
	if i == start || s[start] != '/' || i >= len(s) || s[i] != ' ' {
		return h, false
	}
	h.target = s[start:i]
	i++
	switch {
	case len(s)-i >= 8 && s[i:i+8] == "HTTP/1.1":
		h.minor = 1
	case len(s)-i >= 8 && s[i:i+8] == "HTTP/1.0":
	default:
		return h, false
	}
	i += 8
	if i < len(s) && (len(s)-i < 2 || s[i] != '\r' || s[i+1] != '\n') {
		return h, false
	}
	i += 2

	// Count the lines to size the map and the values' one backing array.
	n := bytes.Count(b[i:], crlf) // ≥ the header count; b ends in two
	h.header = make(http.Header, n)
	vals := make([]string, 0, n)
	hosts, lengths := 0, 0
	var conn string
	for i < len(s) {
		end := indexCRLF(s, i)
		if end < 0 {
			end = len(s)
		}
		line := s[i:end]
		i = end + 2
		c := 0
		for c < len(line) && isTokenChar(line[c]) {
			c++
		}
		if c == 0 || c >= len(line) || line[c] != ':' {
			return h, false // a fold, a space before the colon, a bad name
		}
		v := line[c+1:]
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
			v = v[:len(v)-1]
		}
		for j := 0; j < len(v); j++ {
			if ch := v[j]; (ch < ' ' && ch != '\t') || ch >= 0x7f {
				return h, false
			}
		}
		key := canonicalKey(line[:c])
		switch key {
		case "Host":
			hosts++
			if !validHost(v) {
				return h, false
			}
			h.host = v
			continue // net/http keeps Host out of Request.Header
		case "Content-Length":
			lengths++
			n, ok := parseLength(v)
			if !ok {
				return h, false
			}
			h.length = n
		case "Connection":
			conn = v
		case "Expect":
			if h.expect || !asciiEqualFold(v, "100-continue") {
				return h, false // net/http answers 417, or reads a list
			}
			h.expect = true
		case "Transfer-Encoding", "Upgrade", "Pragma", "Http2-Settings", "Trailer":
			return h, false
		}
		if old := h.header[key]; old != nil {
			h.header[key] = append(old, v)
			continue
		}
		vals = append(vals, v)
		h.header[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if hosts != 1 || lengths > 1 || h.expect && (h.minor == 0 || h.length == 0) {
		return h, false // (net/http answers 417 to an Expect it will not honour)
	}
	switch {
	case conn == "":
	case asciiEqualFold(conn, "close"):
		h.close = true
	case asciiEqualFold(conn, "keep-alive"):
		h.keepAlive10 = h.minor == 0
	default:
		return h, false
	}
	if h.minor == 0 && !h.keepAlive10 {
		h.close = true
	}
	return h, true
}

// request builds the http.Request of h, with ctx and the client's
// address. The URL is parsed as net/http parses it; a target it rejects
// is declined.
func (h *head) request(ctx context.Context, remote string) (*http.Request, bool) {
	u, err := url.ParseRequestURI(h.target)
	if err != nil {
		return nil, false
	}
	// Built here and copied by WithContext: one allocation, not two.
	r := http.Request{
		Method:        h.method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    h.minor,
		Header:        h.header,
		Host:          h.host,
		ContentLength: h.length,
		Close:         h.close,
		RequestURI:    h.target,
		Body:          http.NoBody,
		RemoteAddr:    remote,
	}
	if h.minor == 0 {
		r.Proto = "HTTP/1.0"
	}
	return r.WithContext(ctx), true
}

var crlf = []byte("\r\n")

// indexCRLF finds the end of the line that starts at from. A stray CR
// or LF in the line is left in it, for the byte checks to decline.
func indexCRLF(s string, from int) int {
	if j := strings.Index(s[from:], "\r\n"); j >= 0 {
		return from + j
	}
	return -1
}

// parseLength reads a Content-Length: digits only, at most 18 of them
// (no overflow), as net/http accepts.
func parseLength(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validHost accepts a plain host[:port] or [v6]:port: letters, digits
// and ".-_:[]" (a strict subset of what net/http allows).
func validHost(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

// tokenTable marks the tchar bytes of RFC 9110 §5.6.2.
var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// canonicalKey is textproto.CanonicalMIMEHeaderKey for a token, without
// an allocation for the common names.
func canonicalKey(name string) string {
	var buf [64]byte
	if len(name) > len(buf) {
		return http.CanonicalHeaderKey(name)
	}
	b := buf[:len(name)]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	if k, ok := commonKeys[string(b)]; ok {
		return k
	}
	if string(b) == name {
		return name
	}
	return string(b)
}

// commonKeys interns the header names most requests carry.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie", "Dnt",
		"Host", "If-Modified-Since", "If-None-Match", "Origin", "Range", "Referer",
		"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User",
		"Upgrade-Insecure-Requests", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto",
		"X-Real-Ip", "X-Requested-With", "Te", "Priority",
	} {
		m[k] = k
	}
	return m
}()
