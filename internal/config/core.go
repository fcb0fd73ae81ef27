package config

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/httpdconf"
)

// Helpers shared by directive functions.

func nargs(d *httpdconf.Directive, min, max int) error {
	if len(d.Args) < min || (max >= 0 && len(d.Args) > max) {
		switch {
		case min == max && min == 1:
			return d.Errorf("takes one argument")
		case min == max:
			return d.Errorf("takes %d arguments", min)
		case max < 0:
			return d.Errorf("requires at least %d argument(s)", min)
		default:
			return d.Errorf("takes %d to %d arguments", min, max)
		}
	}
	return nil
}

func onOff(d *httpdconf.Directive) (bool, error) {
	if err := nargs(d, 1, 1); err != nil {
		return false, err
	}
	switch strings.ToLower(d.Args[0]) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, d.Errorf("must be On or Off")
}

func flagFn(set func(st *state, v bool)) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		v, err := onOff(d)
		if err != nil {
			return err
		}
		set(st, v)
		return nil
	}
}

func seconds(d *httpdconf.Directive) (time.Duration, error) {
	if err := nargs(d, 1, 1); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 {
		return 0, d.Errorf("argument must be a non-negative number of seconds, not %q", d.Args[0])
	}
	return time.Duration(n) * time.Second, nil
}

func intArg(d *httpdconf.Directive) (int, error) {
	if err := nargs(d, 1, 1); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 {
		return 0, d.Errorf("argument must be a non-negative integer, not %q", d.Args[0])
	}
	return n, nil
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// compileRegex compiles an Apache (PCRE) regular expression with Go's
// engine, naming the directive when the syntax is not supported.
func compileRegex(d *httpdconf.Directive, expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, d.Errorf("Regular expression could not be compiled (wsgid uses Go's RE2 syntax; PCRE-only features such as look-around and backreferences are not available): %v", err)
	}
	return re, nil
}

func registerCore() {
	reg("core", "ServerRoot", CtxServer, Supported, "", func(st *state, d *httpdconf.Directive) error {
		return nargs(d, 1, 1) // applied by the parser
	})
	reg("core", "Listen", CtxServer, Supported, "protocol argument accepted; TLS listeners are not implemented yet", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 2); err != nil {
			return err
		}
		addr := d.Args[0]
		if !strings.Contains(addr, ":") || (strings.HasPrefix(addr, "[") && !strings.Contains(addr, "]:")) {
			addr = ":" + addr
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return d.Errorf("Invalid address or port")
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return d.Errorf("Port must be specified")
		}
		proto := "http"
		if port == "443" {
			proto = "https"
		}
		if len(d.Args) == 2 {
			proto = strings.ToLower(d.Args[1])
		}
		if proto == "https" {
			st.warn(d, "Listen %s is an https listener; wsgid does not terminate TLS yet and serves plain HTTP there only if SSLEngine is configured (it refuses that)", d.Args[0])
		}
		st.cfg.Listeners = append(st.cfg.Listeners, Listener{Pos: d.Pos(), Addr: net.JoinHostPort(host, port), Proto: proto})
		return nil
	})
	reg("core", "ServerName", CtxSrv, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		n := d.Args[0]
		if i := strings.Index(n, "://"); i >= 0 {
			n = n[i+3:]
		}
		if h, p, err := net.SplitHostPort(n); err == nil {
			port, err := strconv.Atoi(p)
			if err != nil {
				return d.Errorf("invalid port in %q", d.Args[0])
			}
			st.host.ServerPort = port
			n = h
		}
		st.host.ServerName = n
		return nil
	})
	reg("core", "ServerAlias", CtxVhost, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		st.host.ServerAliases = append(st.host.ServerAliases, d.Args...)
		return nil
	})
	reg("core", "UseCanonicalName", CtxAny, Partial, "DNS is read as Off: wsgid makes no DNS lookups", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		v := strings.ToLower(d.Args[0])
		switch v {
		case "dns":
			st.warn(d, "UseCanonicalName DNS: wsgid makes no DNS lookups; treated as Off")
			v = "off"
		case "on", "off":
		default:
			return d.Errorf("UseCanonicalName must be On, Off or DNS")
		}
		st.dir.UseCanonicalName = &v
		return nil
	})
	reg("core", "ServerAdmin", CtxSrv, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.host.ServerAdmin = d.Args[0]
		return nil
	})
	reg("core", "DocumentRoot", CtxSrv, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.host.DocumentRoot = st.path(d.Args[0])
		return nil
	})
	reg("core", "ErrorLog", CtxSrv, Partial, "files only; piped and syslog error logs fall back to standard error with a warning; per-vhost error logs go to the main log", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		p := d.Args[0]
		if !strings.HasPrefix(p, "|") && !strings.HasPrefix(p, "syslog") {
			p = st.path(p)
		}
		if st.host == st.cfg.Main {
			st.cfg.ErrorLog = p
		} else {
			st.host.ErrorLog = p
		}
		return nil
	})
	reg("core", "LogLevel", CtxSrv|CtxDir, Partial, "per-module levels are accepted; the lowest applies to everything", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		if st.ctx != CtxServer {
			return nil
		}
		for _, a := range d.Args {
			lv := a
			if i := strings.Index(a, ":"); i >= 0 {
				lv = a[i+1:]
				if l, ok := parseLevel(lv); ok && l > st.cfg.LogLevel {
					st.cfg.LogLevel = l
				}
				continue
			}
			l, ok := parseLevel(lv)
			if !ok {
				return d.Errorf("LogLevel requires level keyword: one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8")
			}
			st.cfg.LogLevel = l
		}
		return nil
	})
	reg("core", "Timeout", CtxServer|CtxVhost, Supported, "bounds the wait for a request head (at most 20 s), each read of a request body (a client that stalls gets 408, as from mod_wsgi's daemon mode) and each write to the client, in pieces of at most 1 MiB (a client that stops reading is dropped and the application's response closed); a file sent with sendfile is not bounded", func(st *state, d *httpdconf.Directive) error {
		v, err := seconds(d)
		st.cfg.Timeout = v
		return err
	})
	reg("core", "KeepAlive", CtxServer|CtxVhost, Supported, "", flagFn(func(st *state, v bool) { st.cfg.KeepAlive = v }))
	reg("core", "KeepAliveTimeout", CtxServer|CtxVhost, Supported, "", func(st *state, d *httpdconf.Directive) error {
		v, err := seconds(d)
		st.cfg.KeepAliveTimeout = v
		return err
	})
	reg("core", "GracefulShutdownTimeout", CtxServer, Supported, "0 (Apache: wait without end) is read as 60 seconds", func(st *state, d *httpdconf.Directive) error {
		v, err := seconds(d)
		st.cfg.GracefulShutdownTimeout = v
		return err
	})
	reg("core", "MaxKeepAliveRequests", CtxServer|CtxVhost, Partial, "accepted; connections are not closed after a count", func(st *state, d *httpdconf.Directive) error {
		v, err := intArg(d)
		st.cfg.MaxKeepAliveRequests = v
		return err
	})
	for _, n := range []string{"LimitRequestFields", "LimitRequestFieldSize", "LimitRequestLine"} {
		n := n
		reg("core", n, CtxServer|CtxVhost, Partial, "together they bound the request header size", func(st *state, d *httpdconf.Directive) error {
			v, err := intArg(d)
			switch n {
			case "LimitRequestFields":
				st.cfg.LimitRequestFields = v
			case "LimitRequestFieldSize":
				st.cfg.LimitRequestFieldSize = v
			default:
				st.cfg.LimitRequestLine = v
			}
			return err
		})
	}
	reg("core", "LimitRequestBody", CtxAny, Supported, "default 1 GiB as Apache 2.4.54+", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		n, err := strconv.ParseInt(d.Args[0], 10, 64)
		if err != nil || n < 0 {
			return d.Errorf("LimitRequestBody argument is not parsable.")
		}
		st.dir.LimitRequestBody = &n
		return nil
	})
	reg("core", "ServerTokens", CtxServer, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.ServerTokens = d.Args[0]
		return nil
	})
	reg("core", "ServerSignature", CtxAny, Partial, "accepted; error pages carry no signature line", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.ServerSignature = d.Args[0]
		return nil
	})
	reg("core", "Options", CtxAny, Supported, "Includes and MultiViews are accepted and ignored with a warning", optionsFn)
	reg("core", "AllowOverride", CtxDir, Partial, ".htaccess files are not read yet", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		st.dir.AllowOverride = append([]string(nil), d.Args...)
		return nil
	})
	reg("core", "AllowOverrideList", CtxDir, Partial, ".htaccess files are not read yet", nil)
	reg("core", "SetHandler", CtxAny, Supported, "wsgi-script, application/x-httpd-wsgi and default-handler run; other handlers answer 500 as in Apache", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.dir.Handler = strp(d.Args[0])
		return nil
	})
	reg("core", "ForceType", CtxDir, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.dir.ForceType = strp(d.Args[0])
		return nil
	})
	reg("core", "DefaultType", CtxAny, Ignored, "Apache 2.4 ignores it too, except \"none\"", nil)
	reg("core", "AddDefaultCharset", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		v := d.Args[0]
		switch strings.ToLower(v) {
		case "off":
			v = ""
		case "on":
			v = "iso-8859-1"
		}
		st.dir.AddDefaultCharset = &v
		return nil
	})
	reg("core", "AcceptPathInfo", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		switch strings.ToLower(d.Args[0]) {
		case "on", "off", "default":
			st.dir.AcceptPathInfo = strp(strings.ToLower(d.Args[0]))
			return nil
		}
		return d.Errorf("AcceptPathInfo must be set to on, off or default")
	})
	reg("core", "ErrorDocument", CtxAny, Supported, "local paths, URLs and text", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 2, 2); err != nil {
			return err
		}
		code, err := strconv.Atoi(d.Args[0])
		if err != nil || code < 400 || code > 599 {
			return d.Errorf("Unsupported HTTP response code %s", d.Args[0])
		}
		if st.dir.ErrorDocuments == nil {
			st.dir.ErrorDocuments = map[int]string{}
		}
		v := d.Args[1]
		if !strings.HasPrefix(v, "/") && !strings.Contains(v, "://") && !strings.EqualFold(v, "default") {
			v = "\"" + v
		}
		st.dir.ErrorDocuments[code] = v
		return nil
	})
	reg("core", "<VirtualHost>", CtxServer, Supported, "name- and address-based", virtualHostFn)
	for _, n := range []string{"<Directory>", "<DirectoryMatch>", "<Files>", "<FilesMatch>", "<Location>", "<LocationMatch>"} {
		reg("core", n, CtxSrv, Supported, "", sectionFn)
	}
	registry["files"].Context = CtxAny
	registry["filesmatch"].Context = CtxAny
	refuse("core", CtxAny, "expression sections are not implemented, and ignoring them could drop access rules", "<If>", "<ElseIf>", "<Else>")
	reg("core", "<Limit>", CtxAny, Partial, "only Require, Order, Allow and Deny inside, applied to every method (stricter than Apache)", limitFn)
	reg("core", "<LimitExcept>", CtxAny, Partial, "only Require, Order, Allow and Deny inside, applied to every method (stricter than Apache)", limitFn)
	ignore("core", CtxAny, "no effect in wsgid", "AccessFileName", "HostnameLookups", "EnableSendfile", "EnableMMAP",
		"UseCanonicalPhysicalPort", "FileETag", "ContentDigest", "Mutex", "DefaultRuntimeDir",
		"LimitXMLRequestBody", "LimitInternalRecursion", "TraceEnable", "ServerLimit", "ThreadLimit",
		"StartServers", "MinSpareServers", "MaxSpareServers", "MaxRequestWorkers", "MaxClients",
		"MaxConnectionsPerChild", "MaxRequestsPerChild", "ThreadsPerChild", "MinSpareThreads", "MaxSpareThreads",
		"ThreadStackSize", "AsyncRequestWorkerFactor", "ListenBacklog", "SendBufferSize", "ReceiveBufferSize",
		"MaxMemFree", "CoreDumpDirectory", "EnableExceptionHook", "ScoreBoardFile",
		"ExtendedStatus", "SeeRequestTail", "CGIMapExtension", "CGIPassAuth", "CGIVar", "AcceptFilter",
		"HttpProtocolOptions", "MergeTrailers", "ServerPath", "NameVirtualHost", "RLimitCPU", "RLimitMEM",
		"RLimitNPROC", "SetInputFilter", "SetOutputFilter", "AddOutputFilter", "AddInputFilter", "RemoveOutputFilter",
		"RemoveInputFilter", "QualifyRedirectURL", "RegexDefaultOptions", "Protocols", "ProtocolsHonorOrder",
		"LogMessage", "Error", "MergeSlashes", "FlushMaxThreshold", "FlushMaxPipelined", "ReadBufferSize",
		"StrictHostCheck", "KeepAliveTimeoutMax")
	reg("core", "Define", CtxAny, Supported, "handled while reading", nil)
	reg("core", "UnDefine", CtxAny, Supported, "handled while reading", nil)
	reg("core", "Include", CtxAny, Supported, "handled while reading", nil)
	reg("core", "IncludeOptional", CtxAny, Supported, "handled while reading", nil)
	for _, n := range []string{"<IfModule>", "<IfDefine>", "<IfFile>", "<IfDirective>", "<IfSection>"} {
		reg("core", n, CtxAny, Supported, "evaluated while reading", nil)
	}
	reg("core", "PidFile", CtxServer, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.PidFile = st.path(d.Args[0])
		return nil
	})
	reg("mod_so", "LoadModule", CtxServer, Supported, "enables modules wsgid implements; the .so need not exist", nil)
	reg("mod_so", "LoadFile", CtxServer, Ignored, "no shared objects are loaded", nil)
	reg("mod_unixd", "User", CtxServer, Supported, "workers run as this user when wsgid starts as root", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.User = d.Args[0]
		return nil
	})
	reg("mod_unixd", "Group", CtxServer, Supported, "workers run as this group when wsgid starts as root", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.Group = d.Args[0]
		return nil
	})
	refuse("mod_unixd", CtxServer, "chroot is not implemented", "ChrootDir")
	reg("mod_version", "<IfVersion>", CtxAny, Supported, "compared against 2.4.62", ifVersionFn)
}

// parseLevel reads a LogLevel word; the levels are errorlog's.
func parseLevel(s string) (LogLevel, bool) {
	l, ok := errorlog.ParseLevel(s)
	return LogLevel(l), ok
}

var optionNames = map[string]Opt{
	"indexes": OptIndexes, "followsymlinks": OptFollowSymLinks, "symlinksifownermatch": OptSymLinksIfOwnerMatch,
	"execcgi": OptExecCGI, "includes": OptIncludes, "includesnoexec": OptIncludesNoExec, "multiviews": OptMultiViews,
	"all": OptAll, "none": 0,
}

// optionsFn implements Options with Apache 2.4's rules: a list without
// +/- replaces the set; +x/-x adjust the inherited one (or, within one
// scope, the set an earlier Options line there gave); mixing is an error.
func optionsFn(st *state, d *httpdconf.Directive) error {
	if err := nargs(d, 1, -1); err != nil {
		return err
	}
	var rel, abs bool
	o := Options{}
	if prev := st.dir.Options; prev != nil {
		o = *prev
	}
	var set Opt
	for _, a := range d.Args {
		sign := byte(0)
		if a[0] == '+' || a[0] == '-' {
			sign, a = a[0], a[1:]
			rel = true
		} else {
			abs = true
		}
		bit, ok := optionNames[strings.ToLower(a)]
		if !ok {
			return d.Errorf("Illegal option %s", a)
		}
		if bit&(OptIncludes|OptIncludesNoExec|OptMultiViews) != 0 && bit != OptAll {
			st.warn(d, "Options %s is ignored by wsgid (no server-side includes or content negotiation)", a)
		}
		if (strings.EqualFold(a, "none") || strings.EqualFold(a, "all")) && sign != 0 {
			return d.Errorf("Either all Options must start with + or -, or no Option may.")
		}
		switch sign {
		case '+':
			o.Add |= bit
			o.Remove &^= bit
			if o.Replace {
				o.Set |= bit
			}
		case '-':
			o.Remove |= bit
			o.Add &^= bit
			if o.Replace {
				o.Set &^= bit
			}
		default:
			set |= bit
		}
	}
	if rel && abs {
		return d.Errorf("Either all Options must start with + or -, or no Option may.")
	}
	if abs {
		o = Options{Replace: true, Set: set}
	}
	st.dir.Options = &o
	return nil
}

func virtualHostFn(st *state, d *httpdconf.Directive) error {
	if err := nargs(d, 1, -1); err != nil {
		return d.Errorf("<VirtualHost> directive requires an address")
	}
	h := &Host{Pos: d.Pos(), Addrs: append([]string(nil), d.Args...), Dir: &PerDir{}}
	st.cfg.VirtualHosts = append(st.cfg.VirtualHosts, h)
	saved := *st
	st.host, st.dir, st.ctx, st.section, st.authz = h, h.Dir, CtxVhost, nil, nil
	st.walk(d.Body)
	st.host, st.dir, st.ctx, st.section, st.authz = saved.host, saved.dir, saved.ctx, saved.section, saved.authz
	return nil
}

func sectionFn(st *state, d *httpdconf.Directive) error {
	kindName := strings.ToLower(d.Name)
	var kind SectionKind
	switch kindName {
	case "directory":
		kind = SectionDirectory
	case "directorymatch":
		kind = SectionDirectoryMatch
	case "files":
		kind = SectionFiles
	case "filesmatch":
		kind = SectionFilesMatch
	case "location":
		kind = SectionLocation
	case "locationmatch":
		kind = SectionLocationMatch
	}
	if len(d.Args) < 1 || len(d.Args) > 2 {
		return d.Errorf("<%s> directive requires exactly one argument", d.Name)
	}
	sec := &Section{Pos: d.Pos(), Kind: kind, Dir: &PerDir{}}
	pattern := d.Args[0]
	isRegex := kind == SectionDirectoryMatch || kind == SectionFilesMatch || kind == SectionLocationMatch
	if pattern == "~" {
		if len(d.Args) != 2 {
			return d.Errorf("<%s ~> requires a regular expression", d.Name)
		}
		pattern = d.Args[1]
		isRegex = true
	} else if len(d.Args) != 1 {
		return d.Errorf("<%s> directive requires exactly one argument", d.Name)
	}
	sec.Pattern = pattern
	if isRegex {
		re, err := compileRegex(d, pattern)
		if err != nil {
			return err
		}
		sec.Regex = re
	} else if kind == SectionDirectory {
		if pattern != "/" && !filepath.IsAbs(pattern) {
			pattern = filepath.Join(st.opts.ServerRoot, pattern)
		}
		sec.Pattern = st.path(pattern)
	}
	if st.section != nil {
		if st.section.Kind != SectionDirectory && st.section.Kind != SectionDirectoryMatch || (kind != SectionFiles && kind != SectionFilesMatch) {
			return d.Errorf("<%s> cannot occur within <%s> section", d.Name, sectionName(st.section.Kind))
		}
		st.section.Nested = append(st.section.Nested, sec)
	} else {
		st.host.Sections = append(st.host.Sections, sec)
	}
	saved := *st
	st.section, st.dir, st.ctx, st.authz = sec, sec.Dir, CtxDir, nil
	st.walk(d.Body)
	st.section, st.dir, st.ctx, st.authz = saved.section, saved.dir, saved.ctx, saved.authz
	return nil
}

func sectionName(k SectionKind) string {
	return [...]string{"Directory", "DirectoryMatch", "Files", "FilesMatch", "Location", "LocationMatch"}[k]
}

// limitFn applies the access directives inside <Limit>/<LimitExcept> to
// every method: stricter than Apache, never more open.
func limitFn(st *state, d *httpdconf.Directive) error {
	for _, c := range d.Body {
		switch strings.ToLower(c.Name) {
		case "require", "order", "allow", "deny", "satisfy", "<requireall>", "requireall", "requireany", "requirenone":
		default:
			return c.Errorf("not supported inside <%s> by wsgid", d.Name)
		}
	}
	st.warn(d, "<%s %s>: its access rules apply to every method in wsgid", d.Name, strings.Join(d.Args, " "))
	st.walk(d.Body)
	return nil
}

// ifVersionFn evaluates <IfVersion> against the Apache version wsgid
// stands in for.
func ifVersionFn(st *state, d *httpdconf.Directive) error {
	const have = "2.4.62"
	if len(d.Args) < 1 || len(d.Args) > 2 {
		return d.Errorf("<IfVersion> takes one or two arguments")
	}
	op, want := "=", d.Args[0]
	if len(d.Args) == 2 {
		op, want = d.Args[0], d.Args[1]
	}
	neg := strings.HasPrefix(op, "!")
	op = strings.TrimPrefix(op, "!")
	var ok bool
	if op == "~" || strings.HasPrefix(want, "/") {
		re, err := compileRegex(d, strings.Trim(want, "/"))
		if err != nil {
			return err
		}
		ok = re.MatchString(have)
	} else {
		c := compareVersions(have, want)
		switch op {
		case "=", "==":
			ok = c == 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		default:
			return d.Errorf("unknown comparison %q", op)
		}
	}
	if ok != neg {
		st.walk(d.Body)
	}
	return nil
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		} else {
			return 0
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

var _ = fmt.Sprintf
