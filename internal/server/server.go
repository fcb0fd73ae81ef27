// Package server is wsgid's HTTP front end: listeners, virtual hosts,
// access control, static files, error documents, response headers and
// access logs. Requests bound for a WSGI application are handed to the
// gateway (package wsgi) with everything already decided and validated.
package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wsgid/internal/access"
	"wsgid/internal/accesslog"
	"wsgid/internal/config"
	"wsgid/internal/errorlog"
	"wsgid/internal/errorpage"
	"wsgid/internal/http1"
	"wsgid/internal/listener"
	"wsgid/internal/mime"
	"wsgid/internal/route"
	"wsgid/internal/static"
	"wsgid/internal/wsgi"
)

// WSGI is what the server needs from the gateway; *wsgi.Gateway has it.
type WSGI interface {
	Serve(w http.ResponseWriter, r *http.Request, t *wsgi.Target)
}

// Server serves one configuration. Build it with New, then Serve.
type Server struct {
	cfg      *config.Config
	log      *errorlog.Logger
	gateway  WSGI
	vhosts   vhostSet
	types    *mime.Table
	software string

	listeners []net.Listener
	servers   []*http1.Server
	logs      []*accesslog.Writer

	mu     sync.Mutex
	closed bool

	started  time.Time     // for server-status
	accesses atomic.Uint64 // requests served, for server-status

	serving sync.WaitGroup // http.Server.Serve loops still accepting
	fresh   listener.Fresh // accepted connections Shutdown waits for
	names   addrNames      // text of local addresses, for the environ
}

// hostRuntime is a configured host with its router and logs.
type hostRuntime struct {
	cfg        *config.Host
	addrs      []vhostAddr
	router     *route.Router
	serverName string
	logs       []customLog
	// translated caches PATH_TRANSLATED for directory PATH_INFOs.
	translated translations
}

type customLog struct {
	format *accesslog.Format
	w      *accesslog.Writer
	env    string
}

// derived is what the server compiles once per merged PerDir.
type derived struct {
	policy *access.Policy
	static *static.Options
	types  *mime.Table
	env    map[string]string
	// envList is env as key, value pairs sorted by key; lookup and value
	// read env. All made once here rather than per request.
	envList []string
	lookup  func(string) (string, bool)
	value   func(string) string
}

// Options tune a Server beyond the configuration.
type Options struct {
	// Software is SERVER_SOFTWARE and the Server header ("wsgid/0.1").
	Software string
}

// New builds a server for cfg. gateway may be nil when no WSGI
// application is configured (requests for one then get 500).
func New(cfg *config.Config, gateway WSGI, log *errorlog.Logger, opt Options) (*Server, error) {
	s := &Server{cfg: cfg, log: log, gateway: gateway, software: opt.Software, started: time.Now()}
	if s.software == "" {
		s.software = "wsgid"
	}
	types := mime.Builtin()
	if cfg.TypesConfig != "" {
		f, err := os.Open(cfg.TypesConfig)
		if err != nil {
			return nil, fmt.Errorf("TypesConfig: %w", err)
		}
		m, err := mime.ParseTypes(f, cfg.TypesConfig)
		f.Close()
		if err != nil {
			return nil, err
		}
		types = mime.NewTable(m)
	}
	s.types = types

	openLogs := map[string]*accesslog.Writer{}
	mk := func(h *config.Host) (*hostRuntime, error) {
		hr := &hostRuntime{cfg: h, addrs: hostAddrs(h), serverName: h.ServerName}
		if hr.serverName == "" {
			hr.serverName = cfg.Main.ServerName
		}
		hr.router = route.New(cfg.Main, h, s.compile)
		logsFrom := h.CustomLogs
		if h != cfg.Main && len(logsFrom) == 0 {
			logsFrom = cfg.Main.CustomLogs
		}
		for _, cl := range logsFrom {
			f, err := accesslog.Compile(cl.Format)
			if err != nil {
				return nil, fmt.Errorf("%s: CustomLog: %w", cl.Pos, err)
			}
			w := openLogs[cl.Path]
			if w == nil {
				w, err = openAccessLog(cl.Path)
				if err != nil {
					return nil, fmt.Errorf("%s: CustomLog: %w", cl.Pos, err)
				}
				openLogs[cl.Path] = w
				s.logs = append(s.logs, w)
			}
			hr.logs = append(hr.logs, customLog{format: f, w: w, env: cl.Env})
		}
		return hr, nil
	}
	var err error
	if s.vhosts.main, err = mk(cfg.Main); err != nil {
		return nil, err
	}
	for _, h := range cfg.VirtualHosts {
		hr, err := mk(h)
		if err != nil {
			return nil, err
		}
		s.vhosts.hosts = append(s.vhosts.hosts, hr)
	}
	return s, nil
}

func openAccessLog(path string) (*accesslog.Writer, error) {
	switch path {
	case "/dev/stdout":
		return accesslog.OpenWriter(os.Stdout), nil
	case "/dev/stderr":
		return accesslog.OpenWriter(os.Stderr), nil
	}
	if strings.HasPrefix(path, "|") {
		return nil, fmt.Errorf("piped logs (%q) are not supported; log to a file and rotate it with logrotate (wsgid reopens logs on graceful restart)", path)
	}
	return accesslog.Open(path)
}

// compile derives the access policy and static-file options of a merged
// per-directory configuration; route caches the result.
func (s *Server) compile(d *config.PerDir) (*route.Effective, error) {
	pol, err := access.Compile(d.Authz, d.Access)
	if err != nil {
		return nil, err
	}
	opts := route.ResolveOptions(d.Options)
	dv := &derived{policy: pol, types: s.types}
	if len(d.AddTypes) > 0 {
		dv.types = s.types.With(d.AddTypes)
	}
	so := &static.Options{
		Indexes:              opts&config.OptIndexes != 0,
		FollowSymLinks:       opts&config.OptFollowSymLinks != 0,
		SymLinksIfOwnerMatch: opts&config.OptSymLinksIfOwnerMatch != 0,
		DirectoryIndex:       d.DirectoryIndex,
		DirectorySlash:       d.DirectorySlash == nil || *d.DirectorySlash,
		IndexIgnore:          d.IndexIgnore,
		Types:                dv.types,
	}
	if so.DirectoryIndex == nil {
		so.DirectoryIndex = []string{"index.html"}
	}
	dv.static = so
	if len(d.SetEnv) > 0 || len(d.PassEnv) > 0 {
		dv.env = map[string]string{}
		for _, k := range d.PassEnv {
			if v, ok := os.LookupEnv(k); ok {
				dv.env[k] = v
			}
		}
		for k, v := range d.SetEnv {
			dv.env[k] = v
		}
		for _, k := range d.UnsetEnv {
			delete(dv.env, k)
		}
		// In a fixed order: the pairs start the environ's template,
		// which a worker connection sends once per distinct block.
		for _, k := range slices.Sorted(maps.Keys(dv.env)) {
			dv.envList = append(dv.envList, k, dv.env[k])
		}
		dv.envList = slices.Clip(dv.envList)
	}
	dv.lookup = func(k string) (string, bool) { v, ok := dv.env[k]; return v, ok }
	dv.value = func(k string) string { return dv.env[k] }
	return &route.Effective{Derived: dv}, nil
}

// ServeHTTP routes and serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.ProtoMajor == 1 {
		listener.HTTP1(r.Context())
	}
	local := localAddr(r.Context())
	h := s.vhosts.pick(local, r.Host)
	s.accesses.Add(1)
	rw := newResponseWriter(w, r)
	defer rw.release()
	w.Header().Set("Server", s.software)
	res := s.serve(rw, r, h, local)
	if len(h.logs) > 0 {
		s.logAccess(h, rw, r, res, start, local)
	}
}

func (s *Server) serve(rw *responseWriter, r *http.Request, h *hostRuntime, local netip.AddrPort) *route.Result {
	for _, op := range h.router.EarlyRequestHeaders() {
		applyHeaderOp(r.Header, nil, &op)
	}
	if r.Method == http.MethodConnect || r.URL.Path == "" && r.RequestURI == "*" {
		s.error(rw, r, h, nil, http.StatusBadRequest, "")
		return nil
	}
	res := h.router.Route(r.URL.EscapedPath())
	switch res.Kind {
	case route.KindError:
		s.error(rw, r, h, res, res.Status, res.Reason)
		return res
	case route.KindRedirect:
		if res.Location == "" {
			s.error(rw, r, h, res, res.Status, "")
			return res
		}
		loc := res.Location
		if r.URL.RawQuery != "" && !strings.Contains(loc, "?") {
			loc += "?" + r.URL.RawQuery
		}
		rw.Header().Set("Location", loc)
		s.error(rw, r, h, res, res.Status, "")
		return res
	}
	if res.Eff.Err != nil {
		s.error(rw, r, h, res, 500, "configuration error: "+res.Eff.Err.Error())
		return res
	}
	dv := res.Eff.Derived.(*derived)
	rw.ops = res.Eff.Dir.Headers
	envFn := dv.lookup
	rw.env = envFn

	remote, _ := netip.ParseAddrPort(r.RemoteAddr)
	dec := dv.policy.Check(&access.Request{
		RemoteIP: remote.Addr().Unmap(),
		LocalIP:  local.Addr().Unmap(),
		Method:   r.Method,
		Env:      envFn,
	})
	if dec != access.Granted {
		s.error(rw, r, h, res, http.StatusForbidden, "AH01630: client denied by server configuration: "+res.Filename)
		return res
	}
	for i := range res.Eff.Dir.RequestHeaders {
		op := &res.Eff.Dir.RequestHeaders[i]
		if !op.Early && conditionHolds(op.Condition, envFn) {
			applyHeaderOp(r.Header, nil, op)
		}
	}

	switch strings.ToLower(res.Handler) {
	case "wsgi-script", "application/x-httpd-wsgi":
		s.serveWSGI(rw, r, h, res, dv)
	case "", "default-handler":
		s.serveStatic(rw, r, h, res, dv)
	case "server-status":
		s.serveStatus(rw, r)
	case "cgi-script":
		s.error(rw, r, h, res, http.StatusForbidden, "AH01215: CGI scripts are not supported by wsgid: "+res.Filename)
	default:
		s.error(rw, r, h, res, http.StatusInternalServerError, fmt.Sprintf("AH00082: handler %q not found for: %s", res.Handler, res.Filename))
	}
	return res
}

// serveStatic is Apache's default handler plus mod_dir.
func (s *Server) serveStatic(rw *responseWriter, r *http.Request, h *hostRuntime, res *route.Result, dv *derived) {
	if !res.Exists {
		s.error(rw, r, h, res, http.StatusNotFound, "AH00128: File does not exist: "+res.Filename+res.PathInfo)
		return
	}
	if res.PathInfo != "" {
		api := res.Eff.Dir.AcceptPathInfo
		if api == nil || !strings.EqualFold(*api, "on") {
			s.error(rw, r, h, res, http.StatusNotFound, "AH00128: File does not exist: "+res.Filename+res.PathInfo)
			return
		}
	}
	if res.IsDir && strings.HasSuffix(res.URLPath, "/") {
		// mod_dir: an index file goes through routing again, so that an
		// index.py under a wsgi-script handler runs as an application.
		if name, ok := static.FindIndex(res.Filename, dv.static); ok {
			sub := h.router.Route(escapeURLPath(res.URLPath + name))
			if sub.Kind != route.KindError && sub.Kind != route.KindRedirect && sub.Exists && !sub.IsDir {
				subDv, _ := sub.Eff.Derived.(*derived)
				if subDv != nil && sub.Eff.Err == nil {
					switch strings.ToLower(sub.Handler) {
					case "wsgi-script", "application/x-httpd-wsgi":
						s.serveWSGI(rw, r, h, sub, subDv)
						return
					case "", "default-handler":
						res, dv = sub, subDv
					default:
						s.error(rw, r, h, sub, http.StatusInternalServerError, fmt.Sprintf("AH00082: handler %q not found for: %s", sub.Handler, sub.Filename))
						return
					}
				}
			}
		}
	}
	so := *dv.static // shared by concurrent requests: set Root on a copy
	so.Root = res.ContextFS
	if res.IsDir {
		so.URLBase = selfURL(r, h, res.Eff.Dir)
	}
	if status, err := static.Serve(rw, r, res.Filename, res.URLPath, &so); err != nil {
		s.error(rw, r, h, res, status, err.Error())
	}
}

// escapeURLPath re-escapes a decoded path for a second routing pass.
func escapeURLPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' || c < 0x21 || c >= 0x7f || c == '?' || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// serveWSGI applies mod_wsgi's handler checks, in its order, then hands
// the request to the gateway.
func (s *Server) serveWSGI(rw *responseWriter, r *http.Request, h *hostRuntime, res *route.Result, dv *derived) {
	d := res.Eff.Dir
	scriptAliased := res.Mapped != nil && res.Mapped.Kind == config.MapWSGI
	if res.IsDir && res.PathInfo == "" && !strings.HasSuffix(res.URLPath, "/") && (d.DirectorySlash == nil || *d.DirectorySlash) {
		// mod_dir's fixup runs before any handler, wsgi-script included.
		rw.serverError = true
		static.RedirectSlash(rw, r, selfURL(r, h, d), res.URLPath)
		return
	}
	if !scriptAliased && res.Eff.Options&config.OptExecCGI == 0 {
		s.error(rw, r, h, res, http.StatusForbidden, "Options ExecCGI is off in this directory: "+res.Filename)
		return
	}
	if !res.Exists && res.Module == "" {
		s.error(rw, r, h, res, http.StatusNotFound, "Target WSGI script not found or unable to stat: "+res.Filename)
		return
	}
	if res.IsDir {
		s.error(rw, r, h, res, http.StatusForbidden, "Attempt to invoke directory as WSGI application: "+res.Filename)
		return
	}
	if res.PathInfo != "" && d.AcceptPathInfo != nil && strings.EqualFold(*d.AcceptPathInfo, "off") {
		s.error(rw, r, h, res, http.StatusNotFound, "AcceptPathInfo off disallows user's path: "+res.Filename)
		return
	}
	if s.gateway == nil {
		s.error(rw, r, h, res, http.StatusInternalServerError, "no WSGI gateway configured")
		return
	}
	t := s.target(r, h, res, dv)
	s.gateway.Serve(rw, r, t)
}

// target fills a wsgi.Target from the routing result.
func (s *Server) target(r *http.Request, h *hostRuntime, res *route.Result, dv *derived) *wsgi.Target {
	d := res.Eff.Dir
	wd := d.WSGI
	m := res.Mapped
	t := &wsgi.Target{
		Script:              res.Filename,
		Module:              res.Module,
		Callable:            "application",
		ScriptName:          res.ScriptName(),
		PathInfo:            res.PathInfo,
		Handler:             res.Handler,
		ScriptReloading:     true,
		ServerAdmin:         h.cfg.ServerAdmin,
		ServerSoftware:      s.software,
		DocumentRoot:        h.router.DocumentRoot,
		ContextPrefix:       res.Context,
		ContextDocumentRoot: res.ContextFS,
	}
	name, port := canonicalHost(r, h, d)
	local := localAddr(r.Context())
	t.LocalHost, t.LocalPort = s.names.get(local)
	t.ServerName, t.ServerPort = name, t.LocalPort
	if int(local.Port()) != port || t.LocalPort == "" {
		t.ServerPort = strconv.Itoa(port)
	}
	if t.ServerAdmin == "" {
		t.ServerAdmin = s.cfg.Main.ServerAdmin
	}
	if t.ServerAdmin == "" {
		t.ServerAdmin = "[no address given]" // Apache's placeholder
	}
	if res.PathInfo != "" {
		// PATH_TRANSLATED, as Apache's ap_add_cgi_vars: PATH_INFO mapped
		// as if it were a URL (a sub-request through the aliases and
		// DocumentRoot), plus whatever of it was left as path info there.
		// Only a directory URL needs the file system: mod_dir maps it on
		// to its index file.
		if !strings.HasSuffix(res.PathInfo, "/") {
			if name, ok := h.router.Translate(escapeURLPath(res.PathInfo)); ok {
				t.PathTranslated = name
			}
		} else if pt, ok := h.translated.get(res.PathInfo); ok {
			t.PathTranslated = pt
		} else if sub := h.router.Route(escapeURLPath(res.PathInfo)); sub.Kind == route.KindStatic || sub.Kind == route.KindWSGI {
			t.PathTranslated = sub.Filename + sub.PathInfo
			if sub.IsDir && sub.PathInfo == "" {
				t.PathTranslated += "/"
				if idx, ok := static.FindIndex(sub.Filename, &static.Options{DirectoryIndex: sub.Eff.Dir.DirectoryIndex}); ok {
					t.PathTranslated += idx
				}
			}
			h.translated.put(res.PathInfo, t.PathTranslated)
		}
	}
	if wd.CallableObject != nil {
		t.Callable = *wd.CallableObject
	}
	if wd.PassAuthorization != nil {
		t.PassAuthorization = *wd.PassAuthorization
	}
	if wd.ScriptReloading != nil {
		t.ScriptReloading = *wd.ScriptReloading
	}
	if wd.ChunkedRequest != nil {
		t.ChunkedRequest = *wd.ChunkedRequest
	}
	if wd.MapHEADToGET != nil && strings.EqualFold(*wd.MapHEADToGET, "on") {
		t.MapHEADToGET = true
	}
	if d.LimitRequestBody != nil {
		t.LimitRequestBody = *d.LimitRequestBody
	} else {
		t.LimitRequestBody = 1 << 30
	}
	t.BodyTimeout = s.cfg.Timeout
	pg := ""
	if wd.ProcessGroup != nil {
		pg = *wd.ProcessGroup
	}
	ag := "%{RESOURCE}"
	if wd.ApplicationGroup != nil {
		ag = *wd.ApplicationGroup
	}
	if m != nil && m.Kind == config.MapWSGI {
		if m.ProcessGroup != nil {
			pg = *m.ProcessGroup
		}
		if m.ApplicationGroup != nil {
			ag = *m.ApplicationGroup
		}
		if m.CallableObject != nil {
			t.Callable = *m.CallableObject
		}
		if m.PassAuthorization != nil {
			t.PassAuthorization = *m.PassAuthorization
		}
	}
	env := dv.value
	pg = expandGroup(pg, r, h, t, env)
	if pg == "%{GLOBAL}" {
		pg = ""
	}
	t.ProcessGroup = pg
	t.Group = pg
	t.ApplicationGroup = expandGroup(ag, r, h, t, env)
	if t.ApplicationGroup == "%{GLOBAL}" {
		t.ApplicationGroup = ""
	}
	t.Env = dv.envList // shared: clipped, so an append copies
	return t
}

// expandGroup resolves mod_wsgi's %{...} group names.
func expandGroup(v string, r *http.Request, h *hostRuntime, t *wsgi.Target, env func(string) string) string {
	switch {
	case v == "%{GLOBAL}" || v == "":
		return v
	case v == "%{SERVER}":
		return withPort(h.serverName, t.ServerPort)
	case v == "%{HOST}":
		host := r.Host
		if hn, _, err := net.SplitHostPort(host); err == nil {
			host = hn
		}
		if host == "" {
			host = h.serverName
		}
		return withPort(strings.ToLower(host), t.ServerPort)
	case v == "%{RESOURCE}":
		return withPort(h.serverName, t.ServerPort) + "|" + strings.ToLower(t.ScriptName)
	case strings.HasPrefix(v, "%{ENV:") && strings.HasSuffix(v, "}"):
		x := env(v[6 : len(v)-1])
		if x == "" {
			x = os.Getenv(v[6 : len(v)-1])
		}
		return x
	}
	return v
}

// selfURL is the scheme, host and port of absolute URLs the server makes
// for itself (Apache's ap_construct_url), per UseCanonicalName.
func selfURL(r *http.Request, h *hostRuntime, d *config.PerDir) string {
	scheme, def := "http://", 80
	if r.TLS != nil {
		scheme, def = "https://", 443
	}
	name, port := canonicalHost(r, h, d)
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if port != def {
		return scheme + name + ":" + strconv.Itoa(port)
	}
	return scheme + name
}

// withPort is mod_wsgi's "name:port" for group names: the port is left
// out when it is 80 or 443.
func withPort(name, port string) string {
	if port == "80" || port == "443" || port == "" {
		return name
	}
	return name + ":" + port
}

// canonicalHost is SERVER_NAME and SERVER_PORT as Apache's
// ap_get_server_name and ap_get_server_port give them (with
// UseCanonicalPhysicalPort Off). With UseCanonicalName Off (the default)
// the name is the Host header's host, lowercased, and the port the Host
// header's when it names one; otherwise, or without a Host header, the
// ServerName and its port, then the scheme's default port: never the
// port the connection arrived on.
func canonicalHost(r *http.Request, h *hostRuntime, d *config.PerDir) (name string, port int) {
	name = h.serverName
	if d.UseCanonicalName == nil || *d.UseCanonicalName != "on" {
		host, p, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		} else if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			port = n
		}
		if host != "" {
			name = strings.ToLower(strings.Trim(host, "[]"))
		}
	}
	switch {
	case port != 0:
	case h.cfg.ServerPort != 0:
		port = h.cfg.ServerPort
	case r.TLS != nil:
		port = 443
	default:
		port = 80
	}
	return name, port
}

// error answers status with the configured ErrorDocument or Apache's
// default page, and logs reason (if any) to the error log.
func (s *Server) error(rw *responseWriter, r *http.Request, h *hostRuntime, res *route.Result, status int, reason string) {
	if reason != "" {
		level := errorlog.Error
		if status == http.StatusNotFound {
			level = errorlog.Info
		}
		s.log.Log(level, "core", r.RemoteAddr, "%s", reason)
	}
	rw.serverError = status >= 400
	hdr := rw.Header()
	if status >= 400 {
		if doc := s.errorDocument(h, res, status); doc != "" {
			switch {
			case strings.HasPrefix(doc, "\""):
				hdr.Set("Content-Type", "text/html; charset=iso-8859-1")
				rw.WriteHeader(status)
				if r.Method != http.MethodHead {
					rw.Write([]byte(strings.TrimPrefix(doc, "\"")))
				}
				return
			case strings.Contains(doc, "://"):
				hdr.Set("Location", doc)
				status = http.StatusFound
			case strings.HasPrefix(doc, "/") && r.Header.Get("X-Wsgid-Error-Redirect") == "":
				// A local path: serve it in place of the error, as an
				// internal redirect, keeping the error status.
				sub := h.router.Route(escapeURLPath(doc))
				if sub.Kind == route.KindStatic && sub.Exists && !sub.IsDir && sub.Eff.Err == nil {
					if f, err := os.Open(sub.Filename); err == nil {
						defer f.Close()
						dv := sub.Eff.Derived.(*derived)
						if ct := dv.types.Lookup(sub.Filename); ct != "" {
							hdr.Set("Content-Type", ct)
						}
						hdr.Del("Content-Length")
						rw.WriteHeader(status)
						if r.Method != http.MethodHead {
							rw.ReadFrom(f)
						}
						return
					}
				}
			}
		}
	}
	hdr.Del("Last-Modified")
	hdr.Del("ETag")
	errorpage.Write(rw, r, status, hdr.Get("Location"))
}

func (s *Server) errorDocument(h *hostRuntime, res *route.Result, status int) string {
	var d *config.PerDir
	if res != nil && res.Eff != nil {
		d = res.Eff.Dir
	} else {
		d = h.router.Base()
	}
	if d == nil {
		return ""
	}
	return d.ErrorDocuments[status]
}

// logAccess writes the request to the host's CustomLogs.
func (s *Server) logAccess(h *hostRuntime, rw *responseWriter, r *http.Request, res *route.Result, start time.Time, local netip.AddrPort) {
	e := accesslog.Entry{
		Request:    r,
		Status:     rw.status,
		BytesSent:  rw.written,
		Start:      start,
		Duration:   time.Since(start),
		ServerName: h.serverName,
		LocalAddr:  local,
		Header:     rw.Header(),
		Env:        rw.env, // SetEnv/UnsetEnv of the request's scope, for %{VAR}e
	}
	if res != nil {
		e.Filename = res.Filename
	}
	if e.Status == 0 {
		e.Status = http.StatusOK
	}
	buf := logBufPool.Get().(*[]byte)
	for _, l := range h.logs {
		if l.env != "" && !logCondition(l.env, rw.env) {
			continue
		}
		b := l.format.Append((*buf)[:0], &e)
		b = append(b, '\n')
		l.w.Write(b)
		*buf = b
	}
	logBufPool.Put(buf)
}

// logCondition is CustomLog's env=VAR (log when VAR is set) or env=!VAR
// (log when it is not).
func logCondition(cond string, env func(string) (string, bool)) bool {
	name, negate := strings.CutPrefix(cond, "!")
	set := false
	if env != nil {
		_, set = env(name)
	}
	return set != negate
}

var logBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Listen opens every Listen address. It is separate from Serve so that
// start-up errors (address in use, permission) surface before workers
// start and before the process detaches.
func (s *Server) Listen() error {
	seen := map[string]bool{}
	for _, l := range s.cfg.Listeners {
		if seen[l.Addr] {
			continue
		}
		seen[l.Addr] = true
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("%s: could not bind to address %s: %w", l.Pos, l.Addr, err)
		}
		s.listeners = append(s.listeners, ln)
	}
	if len(s.listeners) == 0 {
		return errors.New("no listening sockets available, shutting down")
	}
	return nil
}

// UseListeners makes the server serve on ls instead of opening the
// configuration's Listen addresses: the caller owns the sockets, for
// example to keep them open across a reload (package listener). Call it
// instead of Listen, before Serve; Shutdown closes ls.
func (s *Server) UseListeners(ls []net.Listener) {
	s.listeners = ls
}

// Addrs returns the bound listener addresses (useful with port 0).
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.Addr()
	}
	return out
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.listeners = nil
}

// Serve serves on the opened listeners until Shutdown.
func (s *Server) Serve() error {
	cfg := s.cfg
	errc := make(chan error, len(s.listeners))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	for _, ln := range s.listeners {
		hs := &http.Server{
			Handler:           s,
			ConnState:         s.fresh.ConnState,
			ConnContext:       listener.ConnContext,
			ReadHeaderTimeout: min(cfg.Timeout, 20*time.Second),
			IdleTimeout:       cfg.KeepAliveTimeout,
			MaxHeaderBytes:    max(cfg.LimitRequestFieldSize, 1024) * max(cfg.LimitRequestFields, 1),
			ErrorLog:          nil,
		}
		if hs.ReadHeaderTimeout <= 0 {
			hs.ReadHeaderTimeout = 20 * time.Second
		}
		if !cfg.KeepAlive {
			hs.SetKeepAlivesEnabled(false)
		}
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		hs.Protocols = p
		h1 := &http1.Server{
			Handler:           s,
			Fallback:          hs,
			ReadHeaderTimeout: hs.ReadHeaderTimeout,
			IdleTimeout:       hs.IdleTimeout,
			MaxHeaderBytes:    hs.MaxHeaderBytes,
			WriteTimeout:      cfg.Timeout,
			DisableKeepAlives: !cfg.KeepAlive,
		}
		s.servers = append(s.servers, h1)
		s.serving.Add(1)
		go func(ln net.Listener) {
			defer s.serving.Done()
			errc <- h1.Serve(ln)
		}(ln)
	}
	n := len(s.servers)
	s.mu.Unlock()
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && !s.closedErr(err) && first == nil {
			first = err
		}
	}
	return first
}

// closedErr reports whether err is what Serve and Shutdown see once
// Shutdown has closed the listeners.
func (s *Server) closedErr(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Is(err, http.ErrServerClosed) || s.closed && errors.Is(err, net.ErrClosed)
}

// Shutdown stops accepting, waits for in-flight requests until ctx ends,
// then closes the connections still open and the access logs.
//
// A connection accepted before Shutdown is served: Shutdown first closes
// the listeners and waits until every accepted connection has sent its
// first request (or ctx ends), because http.Server.Shutdown closes,
// unanswered, a connection whose request it reads after it began. Idle
// keep-alive connections are then closed, as Apache's graceful stop does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := s.servers
	s.closed = true
	s.closeListeners()
	s.mu.Unlock()
	// Once the accept loops have returned, every accepted connection is
	// known to fresh.
	s.serving.Wait()
	s.fresh.Wait(ctx)
	var first error
	for _, hs := range servers {
		err := hs.Shutdown(ctx)
		if err != nil && ctx.Err() != nil {
			hs.Close()
		}
		if err != nil && !s.closedErr(err) && first == nil {
			first = err
		}
	}
	for _, l := range s.logs {
		l.Close()
	}
	return first
}

// ReopenLogs reopens access log files (after logrotate moved them).
func (s *Server) ReopenLogs() error {
	var first error
	for _, l := range s.logs {
		if err := l.Reopen(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Describe writes the -S summary: listeners, virtual hosts, mounts.
func (s *Server) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Listeners:\n")
	for _, l := range s.cfg.Listeners {
		fmt.Fprintf(&b, "  %s (%s)\n", l.Addr, l.Pos)
	}
	fmt.Fprintf(&b, "VirtualHost configuration:\n")
	if len(s.vhosts.hosts) == 0 {
		fmt.Fprintf(&b, "  (none: every request goes to the main server)\n")
	}
	for i, h := range s.vhosts.hosts {
		dflt := ""
		if i == 0 {
			dflt = " (default)"
		}
		fmt.Fprintf(&b, "  %s  %s%s (%s)\n", strings.Join(h.cfg.Addrs, " "), h.serverName, dflt, h.cfg.Pos)
		for _, a := range h.cfg.ServerAliases {
			fmt.Fprintf(&b, "      alias %s\n", a)
		}
	}
	fmt.Fprintf(&b, "ServerRoot: %q\n", s.cfg.ServerRoot)
	fmt.Fprintf(&b, "Main DocumentRoot: %q\n", s.cfg.Main.DocumentRoot)
	fmt.Fprintf(&b, "Main ErrorLog: %q\n", s.cfg.ErrorLog)
	fmt.Fprintf(&b, "Mounts:\n")
	for _, h := range append([]*hostRuntime{s.vhosts.main}, s.vhosts.hosts...) {
		for _, m := range h.cfg.Maps {
			from := m.Prefix
			if m.Regex != nil {
				from = "~ " + m.Regex.String()
			}
			kind := map[config.MapKind]string{config.MapAlias: "Alias", config.MapRedirect: "Redirect", config.MapScript: "ScriptAlias", config.MapWSGI: "WSGIScriptAlias"}[m.Kind]
			fmt.Fprintf(&b, "  %-16s %s -> %s (%s)\n", kind, from, m.Target, m.Pos)
		}
		for _, sec := range h.cfg.Sections {
			if sec.Dir != nil && sec.Dir.Handler != nil {
				fmt.Fprintf(&b, "  %-16s %s (%s)\n", "SetHandler "+*sec.Dir.Handler, filepath.Clean(sec.Pattern), sec.Pos)
			}
		}
	}
	return b.String()
}
