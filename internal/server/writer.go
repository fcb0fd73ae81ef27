package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"wsgid/internal/config"
	"wsgid/internal/listener"
)

// responseWriter records what the access log needs (status, body bytes)
// and applies mod_headers' response actions just before the header is
// written. It keeps the underlying writer's fast paths: ReadFrom (so
// static files and wsgi.file_wrapper go out with sendfile), Flush and
// Hijack, and Unwrap for http.ResponseController.
type responseWriter struct {
	w       http.ResponseWriter
	req     *http.Request
	status  int
	written int64
	ops     []config.HeaderOp
	env     func(string) (string, bool)
	// serverError marks a response the server generated for an error,
	// to which only "Header always" actions apply, as in Apache.
	serverError bool
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

func newResponseWriter(w http.ResponseWriter, r *http.Request) *responseWriter {
	rw := writerPool.Get().(*responseWriter)
	*rw = responseWriter{w: w, req: r}
	return rw
}

func (rw *responseWriter) release() {
	*rw = responseWriter{}
	writerPool.Put(rw)
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	if rw.status != 0 {
		return
	}
	if code >= 100 && code < 200 && code != 101 {
		rw.w.WriteHeader(code)
		return
	}
	rw.status = code
	if len(rw.ops) > 0 {
		applyHeaderOps(rw.w.Header(), rw.req.Header, rw.ops, rw.env, !rw.serverError)
	}
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.w.Write(p)
	rw.written += int64(n)
	return n, err
}

func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{rw.w}, r)
	}
	rw.written += n
	return n, err
}

func (rw *responseWriter) Flush() {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if f, ok := rw.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		listener.Hijacked(c) // its reads are its new owner's now
	}
	return c, brw, err
}

func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// applyHeaderOps runs mod_headers actions on h. reqH serves "echo".
// onSuccess says whether the plain (not "always") actions apply.
func applyHeaderOps(h, reqH http.Header, ops []config.HeaderOp, env func(string) (string, bool), onSuccess bool) {
	for i := range ops {
		op := &ops[i]
		if op.Early || (!op.Always && !onSuccess) || !conditionHolds(op.Condition, env) {
			continue
		}
		applyHeaderOp(h, reqH, op)
	}
}

// applyHeaderOp runs one mod_headers action on h.
func applyHeaderOp(h, reqH http.Header, op *config.HeaderOp) {
	name := http.CanonicalHeaderKey(op.Name)
	switch strings.ToLower(op.Action) {
	case "set":
		h.Set(name, op.Value)
	case "unset":
		h.Del(name)
	case "add":
		h.Add(name, op.Value)
	case "append":
		if v := h.Values(name); len(v) > 0 {
			h.Set(name, strings.Join(v, ", ")+", "+op.Value)
		} else {
			h.Set(name, op.Value)
		}
	case "merge":
		v := h.Values(name)
		for _, x := range v {
			for _, part := range strings.Split(x, ",") {
				if strings.TrimSpace(part) == op.Value {
					return
				}
			}
		}
		if len(v) > 0 {
			h.Set(name, strings.Join(v, ", ")+", "+op.Value)
		} else {
			h.Set(name, op.Value)
		}
	case "setifempty":
		if h.Get(name) == "" {
			h.Set(name, op.Value)
		}
	case "echo":
		if reqH == nil {
			return
		}
		re, err := regexp.Compile(op.Name)
		if err != nil {
			return
		}
		for k, v := range reqH {
			if re.MatchString(k) {
				h[k] = append([]string(nil), v...)
			}
		}
	case "edit", "edit*":
		// The configuration keeps "regex\x00replacement" in Value.
		parts := strings.SplitN(op.Value, "\x00", 2)
		if len(parts) != 2 {
			return
		}
		re, err := regexp.Compile(parts[0])
		if err != nil {
			return
		}
		vals := h.Values(name)
		for i, v := range vals {
			if op.Action == "edit" {
				loc := re.FindStringSubmatchIndex(v)
				if loc != nil {
					vals[i] = v[:loc[0]] + string(re.ExpandString(nil, parts[1], v, loc)) + v[loc[1]:]
				}
			} else {
				vals[i] = re.ReplaceAllString(v, parts[1])
			}
		}
	}
}

// conditionHolds evaluates an "env=[!]VAR" condition; other conditions
// (expr=) are refused at configuration time.
func conditionHolds(cond string, env func(string) (string, bool)) bool {
	if cond == "" {
		return true
	}
	if v, ok := strings.CutPrefix(cond, "env="); ok {
		neg := strings.HasPrefix(v, "!")
		v = strings.TrimPrefix(v, "!")
		set := false
		if env != nil {
			_, set = env(v)
		}
		return set != neg
	}
	return false
}
