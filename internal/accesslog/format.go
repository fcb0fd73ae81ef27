// Package accesslog writes access logs in mod_log_config's formats. A
// format is compiled once into segments; logging a request appends into
// a reused buffer without fmt or reflection.
package accesslog

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Entry is what a log line can report about one request.
type Entry struct {
	Request    *http.Request
	Status     int
	BytesSent  int64 // response body bytes
	Start      time.Time
	Duration   time.Duration
	ServerName string
	LocalAddr  netip.AddrPort
	Filename   string
	Header     http.Header // response headers
	Env        func(string) (string, bool)
}

// Format is a compiled LogFormat.
type Format struct {
	segs []segment
}

type segment struct {
	lit    string
	code   byte
	arg    string
	status []int // %400,501{...}i
	negate bool  // %!200{...}i
	orig   bool  // '<' modifier
}

// Compile parses a mod_log_config format string.
func Compile(format string) (*Format, error) {
	f := &Format{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.segs = append(f.segs, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '\\' && i+1 < len(format) {
			i++
			switch format[i] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte(format[i])
			}
			continue
		}
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return nil, fmt.Errorf("format %q ends with a lone %%", format)
		}
		if format[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		seg := segment{}
		// modifiers: !, status list, < >
		for i < len(format) {
			ch := format[i]
			switch {
			case ch == '!':
				seg.negate = true
				i++
				continue
			case ch >= '0' && ch <= '9':
				j := i
				for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == ',') {
					j++
				}
				for _, s := range strings.Split(format[i:j], ",") {
					if n, err := strconv.Atoi(s); err == nil {
						seg.status = append(seg.status, n)
					}
				}
				i = j
				continue
			case ch == '<':
				seg.orig = true
				i++
				continue
			case ch == '>':
				i++
				continue
			}
			break
		}
		if i < len(format) && format[i] == '{' {
			j := strings.IndexByte(format[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("format %q: unterminated %%{", format)
			}
			seg.arg = format[i+1 : i+j]
			i += j + 1
		}
		if i >= len(format) {
			return nil, fmt.Errorf("format %q: missing code after %%", format)
		}
		seg.code = format[i]
		if !strings.ContainsRune("aAbBCDefhHiIklLmnoOpPqrRsStTuUvVXS", rune(seg.code)) {
			return nil, fmt.Errorf("Unrecognized LogFormat directive %%%c", seg.code)
		}
		flush()
		f.segs = append(f.segs, seg)
	}
	flush()
	return f, nil
}

// Append appends the log line for e (without newline) to dst.
func (f *Format) Append(dst []byte, e *Entry) []byte {
	for i := range f.segs {
		s := &f.segs[i]
		if s.code == 0 {
			dst = append(dst, s.lit...)
			continue
		}
		if len(s.status) > 0 {
			in := false
			for _, st := range s.status {
				if st == e.Status {
					in = true
				}
			}
			if in == s.negate {
				dst = append(dst, '-')
				continue
			}
		}
		dst = appendCode(dst, s, e)
	}
	return dst
}

func appendCode(dst []byte, s *segment, e *Entry) []byte {
	r := e.Request
	switch s.code {
	case 'h', 'a':
		// No reverse lookups (HostnameLookups Off): %h is the address.
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return append(dst, host...)
	case 'A':
		return append(dst, e.LocalAddr.Addr().String()...)
	case 'p':
		switch s.arg {
		case "remote":
			_, port, _ := net.SplitHostPort(r.RemoteAddr)
			return append(dst, port...)
		}
		return strconv.AppendUint(dst, uint64(e.LocalAddr.Port()), 10)
	case 'l':
		return append(dst, '-')
	case 'u':
		if u, _, ok := r.BasicAuth(); ok && u != "" {
			return appendEscaped(dst, u)
		}
		return append(dst, '-')
	case 't':
		return appendTime(dst, s.arg, e)
	case 'r':
		dst = appendEscaped(dst, r.Method)
		dst = append(dst, ' ')
		dst = appendEscaped(dst, r.RequestURI)
		dst = append(dst, ' ')
		return append(dst, r.Proto...)
	case 's':
		return strconv.AppendInt(dst, int64(e.Status), 10)
	case 'b':
		if e.BytesSent == 0 {
			return append(dst, '-')
		}
		return strconv.AppendInt(dst, e.BytesSent, 10)
	case 'B', 'O':
		return strconv.AppendInt(dst, e.BytesSent, 10)
	case 'I':
		if r.ContentLength > 0 {
			return strconv.AppendInt(dst, r.ContentLength, 10)
		}
		return append(dst, '0')
	case 'S':
		return strconv.AppendInt(dst, e.BytesSent+r.ContentLength, 10)
	case 'D':
		return strconv.AppendInt(dst, e.Duration.Microseconds(), 10)
	case 'T':
		switch s.arg {
		case "ms":
			return strconv.AppendInt(dst, e.Duration.Milliseconds(), 10)
		case "us":
			return strconv.AppendInt(dst, e.Duration.Microseconds(), 10)
		}
		return strconv.AppendInt(dst, int64(e.Duration/time.Second), 10)
	case 'f':
		if e.Filename == "" {
			return append(dst, '-')
		}
		return appendEscaped(dst, e.Filename)
	case 'U':
		return appendEscaped(dst, r.URL.Path)
	case 'q':
		if r.URL.RawQuery == "" {
			return dst
		}
		dst = append(dst, '?')
		return appendEscaped(dst, r.URL.RawQuery)
	case 'm':
		return appendEscaped(dst, r.Method)
	case 'H':
		return append(dst, r.Proto...)
	case 'v', 'V':
		if s.code == 'V' && r.Host != "" {
			h := r.Host
			if hh, _, err := net.SplitHostPort(h); err == nil {
				h = hh
			}
			return appendEscaped(dst, h)
		}
		return appendEscaped(dst, e.ServerName)
	case 'P':
		return strconv.AppendInt(dst, int64(os.Getpid()), 10)
	case 'i':
		return appendHeader(dst, r.Header, s.arg)
	case 'o':
		return appendHeader(dst, e.Header, s.arg)
	case 'C':
		if c, err := r.Cookie(s.arg); err == nil {
			return appendEscaped(dst, c.Value)
		}
		return append(dst, '-')
	case 'e':
		if e.Env != nil {
			if v, ok := e.Env(s.arg); ok {
				return appendEscaped(dst, v)
			}
		}
		return append(dst, '-')
	case 'k':
		return append(dst, '0')
	case 'X':
		return append(dst, '+')
	case 'R':
		return append(dst, '-')
	case 'L', 'n':
		return append(dst, '-')
	}
	return append(dst, '-')
}

func appendHeader(dst []byte, h http.Header, name string) []byte {
	if h == nil {
		return append(dst, '-')
	}
	v := h.Values(name)
	if len(v) == 0 {
		return append(dst, '-')
	}
	return appendEscaped(dst, strings.Join(v, ", "))
}

const clfTime = "[02/Jan/2006:15:04:05 -0700]"

func appendTime(dst []byte, arg string, e *Entry) []byte {
	t := e.Start
	if strings.HasPrefix(arg, "end:") {
		t = t.Add(e.Duration)
		arg = arg[4:]
	}
	arg = strings.TrimPrefix(arg, "begin:")
	switch arg {
	case "":
		return t.AppendFormat(dst, clfTime)
	case "sec":
		return strconv.AppendInt(dst, t.Unix(), 10)
	case "msec":
		return strconv.AppendInt(dst, t.UnixMilli(), 10)
	case "usec":
		return strconv.AppendInt(dst, t.UnixMicro(), 10)
	case "msec_frac":
		return append(dst, fmt.Sprintf("%03d", t.Nanosecond()/1e6)...)
	case "usec_frac":
		return append(dst, fmt.Sprintf("%06d", t.Nanosecond()/1e3)...)
	}
	return strftime(dst, arg, t)
}

// strftime supports the common conversions of C's strftime.
func strftime(dst []byte, f string, t time.Time) []byte {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			dst = append(dst, f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			dst = t.AppendFormat(dst, "2006")
		case 'm':
			dst = t.AppendFormat(dst, "01")
		case 'd':
			dst = t.AppendFormat(dst, "02")
		case 'H':
			dst = t.AppendFormat(dst, "15")
		case 'M':
			dst = t.AppendFormat(dst, "04")
		case 'S':
			dst = t.AppendFormat(dst, "05")
		case 'b':
			dst = t.AppendFormat(dst, "Jan")
		case 'a':
			dst = t.AppendFormat(dst, "Mon")
		case 'z':
			dst = t.AppendFormat(dst, "-0700")
		case 'Z':
			dst = t.AppendFormat(dst, "MST")
		case 'y':
			dst = t.AppendFormat(dst, "06")
		case 'T':
			dst = t.AppendFormat(dst, "15:04:05")
		case 'F':
			dst = t.AppendFormat(dst, "2006-01-02")
		case 's':
			dst = strconv.AppendInt(dst, t.Unix(), 10)
		case '%':
			dst = append(dst, '%')
		default:
			dst = append(dst, '%', f[i])
		}
	}
	return dst
}

// appendEscaped escapes as mod_log_config does: '"' and '\' are
// backslash-escaped, non-printable bytes become \xhh.
func appendEscaped(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20 || c >= 0x7f:
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
