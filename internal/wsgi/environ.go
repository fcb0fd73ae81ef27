package wsgi

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"wsgid/internal/protocol"
)

// errNUL rejects a request whose environ would carry a NUL byte: the
// environ block is NUL-separated, and no CGI value may contain one.
var errNUL = errors.New("wsgi: NUL byte in request data")

// envBuilder appends "key\0value\0" pairs, remembering whether any value
// held a NUL.
type envBuilder struct {
	b   []byte
	bad bool
}

// add appends a pair whose key is a constant of this package: only the
// value is checked.
func (e *envBuilder) add(k, v string) {
	if strings.IndexByte(v, 0) >= 0 {
		e.bad = true
		return
	}
	e.b = protocol.AppendPair(e.b, k, v)
}

// addAny appends a pair whose key comes from the configuration.
func (e *envBuilder) addAny(k, v string) {
	if strings.IndexByte(k, 0) >= 0 {
		e.bad = true
		return
	}
	e.add(k, v)
}

var requestSeq atomic.Uint64

// appendEnviron appends the environ of r routed to t (the constant
// wsgi.* keys live in the worker); start is the request's arrival. The
// result is two blocks: buf[:fixed] holds the keys that repeat request
// after request on a route (SetEnv, the server's and the route's
// constants), sent to a worker once per connection as a template, and
// buf[fixed:] the request's own. The worker applies the template first,
// so a request key overrides a SetEnv key of the same name, as the CGI
// variables override SetEnv in Apache; the fixed CGI keys come after
// SetEnv in the template and override it there.
func appendEnviron(dst []byte, r *http.Request, t *Target, start time.Time) (buf []byte, fixed int, err error) {
	e := envBuilder{b: dst}

	// SetEnv and friends first: the CGI variables below override them,
	// as ap_add_cgi_vars overrides subprocess_env in Apache.
	https := r.TLS != nil
	for i := 0; i+1 < len(t.Env); i += 2 {
		k, v := t.Env[i], t.Env[i+1]
		if k == "HTTPS" {
			https = https || strings.EqualFold(v, "on") || v == "1"
			continue // mod_wsgi removes HTTPS after deciding the scheme
		}
		e.addAny(k, v)
	}

	localHost, localPort := t.LocalHost, t.LocalPort
	if localHost == "" {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			localHost, localPort = splitHostPort(la.String())
		}
	}
	serverName := t.ServerName
	if serverName == "" {
		serverName, _ = splitHostPort(r.Host)
		if serverName == "" {
			serverName = localHost
		}
	}
	serverPort := t.ServerPort
	if serverPort == "" {
		serverPort = localPort
	}
	e.add("SERVER_PROTOCOL", r.Proto)
	e.add("SCRIPT_NAME", t.ScriptName)
	e.add("SERVER_NAME", serverName)
	e.add("SERVER_PORT", serverPort)
	e.add("SERVER_ADDR", localHost)
	scheme := "http"
	if https {
		scheme = "https"
	}
	e.add("REQUEST_SCHEME", scheme)
	e.add("wsgi.url_scheme", scheme)
	e.add("GATEWAY_INTERFACE", "CGI/1.1")
	e.add("SERVER_SOFTWARE", t.ServerSoftware)
	e.add("SERVER_ADMIN", t.ServerAdmin)
	e.add("SERVER_SIGNATURE", t.ServerSignature)
	e.add("DOCUMENT_ROOT", t.DocumentRoot)
	e.add("CONTEXT_PREFIX", t.ContextPrefix)
	e.add("CONTEXT_DOCUMENT_ROOT", t.ContextDocumentRoot)
	e.add("SCRIPT_FILENAME", t.Script)
	callable := t.Callable
	if callable == "" {
		callable = "application"
	}
	e.add("mod_wsgi.process_group", t.ProcessGroup)
	e.add("mod_wsgi.application_group", t.ApplicationGroup)
	e.add("mod_wsgi.callable_object", callable)
	e.add("mod_wsgi.request_handler", t.Handler)
	e.add("mod_wsgi.handler_script", "")
	if t.ScriptReloading {
		e.add("mod_wsgi.script_reloading", "1")
	} else {
		e.add("mod_wsgi.script_reloading", "0")
	}
	e.add("mod_wsgi.listener_host", localHost)
	e.add("mod_wsgi.listener_port", localPort)
	e.add("mod_wsgi.script_name", t.ScriptName)
	if t.ProcessGroup != "" {
		// mod_wsgi's daemon-mode keys: one connection to the daemon per
		// request, no restarts of that connection.
		e.b = append(e.b, "mod_wsgi.daemon_connects\x001\x00mod_wsgi.daemon_restarts\x000\x00"...)
	}
	if t.Module != "" {
		e.add("wsgid.module", t.Module)
	}
	fixed = len(e.b) - len(dst)

	// The request's own keys.
	method := r.Method
	if t.MapHEADToGET && method == http.MethodHead {
		method = http.MethodGet
	}
	e.add("REQUEST_METHOD", method)
	e.add("PATH_INFO", t.PathInfo)
	e.add("QUERY_STRING", r.URL.RawQuery)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	e.add("REQUEST_URI", uri)
	remoteHost, remotePort := splitHostPort(r.RemoteAddr)
	e.add("REMOTE_ADDR", remoteHost)
	e.add("REMOTE_PORT", remotePort)
	if ct, ok := r.Header["Content-Type"]; ok && len(ct) > 0 {
		e.add("CONTENT_TYPE", ct[0])
	}
	if _, ok := r.Header["Content-Length"]; ok && r.ContentLength >= 0 && len(r.TransferEncoding) == 0 {
		e.b = append(e.b, "CONTENT_LENGTH\x00"...)
		e.b = strconv.AppendInt(e.b, r.ContentLength, 10)
		e.b = append(e.b, 0)
	}
	if r.Host != "" {
		e.add("HTTP_HOST", r.Host)
	}
	for name, values := range r.Header {
		e.appendHeader(name, values, t.PassAuthorization)
	}
	if t.PathTranslated != "" {
		e.add("PATH_TRANSLATED", t.PathTranslated)
	}
	e.add("mod_wsgi.path_info", t.PathInfo)
	reqID := t.RequestID
	if reqID == "" {
		e.b = append(e.b, "mod_wsgi.request_id\x00"...)
		e.b = strconv.AppendUint(e.b, requestSeq.Add(1), 36)
		e.b = append(e.b, 0)
	} else {
		e.add("mod_wsgi.request_id", reqID)
	}
	connID := t.ConnectionID
	if connID == "" {
		connID = r.RemoteAddr
	}
	e.add("mod_wsgi.connection_id", connID)
	e.b = append(e.b, "mod_wsgi.request_start\x00"...)
	e.b = strconv.AppendInt(e.b, start.UnixMicro(), 10)
	e.b = append(e.b, 0)
	if t.ProcessGroup != "" {
		// When the request was queued for a daemon (wsgid queues as it
		// accepts).
		e.b = append(e.b, "mod_wsgi.queue_start\x00"...)
		e.b = strconv.AppendInt(e.b, start.UnixMicro(), 10)
		e.b = append(e.b, 0)
	}
	if e.bad {
		return dst, 0, errNUL
	}
	return e.b, fixed, nil
}

// appendHeader adds HTTP_<NAME> for one request header, following
// Apache: names with characters outside [A-Za-z0-9-] are dropped
// (wsgi_drop_invalid_headers), Authorization only when passed, and never
// Proxy (httpoxy), Proxy-Authorization, Content-Type or Content-Length
// (they have their own keys).
func (e *envBuilder) appendHeader(name string, values []string, passAuth bool) {
	switch name {
	case "Content-Type", "Content-Length", "Proxy", "Proxy-Authorization", "Host":
		return
	case "Authorization":
		if !passAuth {
			return
		}
	}
	if len(values) == 0 || name == "" {
		return
	}
	mark := len(e.b)
	e.b = append(e.b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-':
			c = '_'
		default:
			e.b = e.b[:mark]
			return
		}
		e.b = append(e.b, c)
	}
	e.b = append(e.b, 0)
	sep := ", "
	if name == "Cookie" {
		sep = "; " // HTTP/2 splits cookies; RFC 9113 8.2.3 joins them so
	}
	for i, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			e.bad = true
		}
		if i > 0 {
			e.b = append(e.b, sep...)
		}
		e.b = append(e.b, v...)
	}
	e.b = append(e.b, 0)
}

// splitHostPort splits "host:port" without allocating, tolerating a
// missing port and IPv6 brackets.
func splitHostPort(hp string) (host, port string) {
	if hp == "" {
		return "", ""
	}
	if hp[0] == '[' {
		if i := strings.IndexByte(hp, ']'); i > 0 {
			host = hp[1:i]
			if rest := hp[i+1:]; len(rest) > 1 && rest[0] == ':' {
				port = rest[1:]
			}
			return host, port
		}
		return hp, ""
	}
	i := strings.LastIndexByte(hp, ':')
	if i < 0 || strings.IndexByte(hp[:i], ':') >= 0 {
		return hp, "" // no port, or a bare IPv6 address
	}
	return hp[:i], hp[i+1:]
}
