package config

import (
	"net/http"
	"strconv"
	"strings"

	"wsgid/internal/httpdconf"
)

func registerModules() {
	// mod_alias
	reg("mod_alias", "Alias", CtxSrv, Supported, "", aliasFn(MapAlias, false))
	reg("mod_alias", "AliasMatch", CtxSrv, Supported, "", aliasFn(MapAlias, true))
	reg("mod_alias", "ScriptAlias", CtxSrv, Partial, "mapped, but CGI is not run: requests get 403", aliasFn(MapScript, false))
	reg("mod_alias", "ScriptAliasMatch", CtxSrv, Partial, "mapped, but CGI is not run: requests get 403", aliasFn(MapScript, true))
	reg("mod_alias", "Redirect", CtxAny, Supported, "", redirectFn(0, false))
	reg("mod_alias", "RedirectMatch", CtxSrv, Supported, "", redirectFn(0, true))
	reg("mod_alias", "RedirectPermanent", CtxAny, Supported, "", redirectFn(301, false))
	reg("mod_alias", "RedirectTemp", CtxAny, Supported, "", redirectFn(302, false))
	ignore("mod_alias", CtxAny, "no effect in wsgid", "RedirectRelative")

	// mod_mime
	reg("mod_mime", "TypesConfig", CtxServer, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.TypesConfig = st.path(d.Args[0])
		return nil
	})
	reg("mod_mime", "AddType", CtxAny, Supported, "", extMapFn(func(pd *PerDir) *map[string]string { return &pd.AddTypes }))
	reg("mod_mime", "AddHandler", CtxAny, Supported, "", extMapFn(func(pd *PerDir) *map[string]string { return &pd.AddHandlers }))
	reg("mod_mime", "AddCharset", CtxAny, Ignored, "charset is not added to Content-Type", nil)
	reg("mod_mime", "RemoveHandler", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		for _, e := range d.Args {
			st.dir.RemoveHandlers = append(st.dir.RemoveHandlers, normExt(e))
		}
		return nil
	})
	ignore("mod_mime", CtxAny, "no content negotiation or encodings", "AddLanguage", "AddEncoding", "RemoveType",
		"RemoveEncoding", "RemoveLanguage", "RemoveCharset", "DefaultLanguage", "ModMimeUsePathInfo", "MultiviewsMatch",
		"AddInputFilter", "RemoveInputFilter")
	// mod_dir
	reg("mod_dir", "DirectoryIndex", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		st.dir.DirectoryIndex = append([]string(nil), d.Args...)
		return nil
	})
	reg("mod_dir", "DirectorySlash", CtxAny, Supported, "", flagFn(func(st *state, v bool) { st.dir.DirectorySlash = boolp(v) }))
	ignore("mod_dir", CtxAny, "not implemented", "FallbackResource", "DirectoryCheckHandler", "DirectoryIndexRedirect")
	// mod_autoindex
	reg("mod_autoindex", "IndexIgnore", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		st.dir.IndexIgnore = append(st.dir.IndexIgnore, d.Args...)
		return nil
	})
	ignore("mod_autoindex", CtxAny, "listings use one fixed style", "IndexOptions", "AddIcon", "AddIconByType",
		"AddIconByEncoding", "AddAlt", "AddAltByType", "AddAltByEncoding", "AddDescription", "DefaultIcon",
		"HeaderName", "ReadmeName", "IndexOrderDefault", "IndexStyleSheet", "IndexHeadInsert", "IndexIgnoreReset")
	// mod_authz_core / host / access_compat
	reg("mod_authz_core", "Require", CtxDir, Partial, "all, ip, local, env, method, host (by name only when known); user, valid-user and group are refused (no authentication yet)", requireFn)
	for _, n := range []string{"<RequireAll>", "<RequireAny>", "<RequireNone>"} {
		reg("mod_authz_core", n, CtxDir, Supported, "", requireSectionFn)
	}
	reg("mod_authz_core", "AuthMerging", CtxDir, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		switch strings.ToLower(d.Args[0]) {
		case "off", "and", "or":
			st.dir.AuthMerging = strings.ToLower(d.Args[0])
			return nil
		}
		return d.Errorf("AuthMerging must be one of: off | and | or")
	})
	refuse("mod_authz_core", CtxAny, "authorization providers are not implemented", "<AuthzProviderAlias>", "AuthzSendForbiddenOnFailure")
	reg("mod_access_compat", "Order", CtxDir, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		o := strings.ToLower(strings.ReplaceAll(d.Args[0], " ", ""))
		if o != "deny,allow" && o != "allow,deny" && o != "mutual-failure" {
			return d.Errorf("unknown order")
		}
		st.compat(d).Order = o
		return nil
	})
	reg("mod_access_compat", "Allow", CtxDir, Supported, "", allowDenyFn(true))
	reg("mod_access_compat", "Deny", CtxDir, Supported, "", allowDenyFn(false))
	reg("mod_access_compat", "Satisfy", CtxDir, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		s := strings.ToLower(d.Args[0])
		if s != "all" && s != "any" {
			return d.Errorf("Satisfy either 'any' or 'all'.")
		}
		st.compat(d).Satisfy = s
		return nil
	})
	// Authentication: refused, it restricts access.
	refuse("mod_authn_core", CtxAny, "authentication is not implemented yet", "AuthType", "AuthName", "<AuthnProviderAlias>")
	refuse("mod_auth_basic", CtxAny, "authentication is not implemented yet", "AuthBasicProvider", "AuthBasicAuthoritative", "AuthBasicFake", "AuthBasicUseDigestAlgorithm")
	refuse("mod_authn_file", CtxAny, "authentication is not implemented yet", "AuthUserFile")
	refuse("mod_authz_groupfile", CtxAny, "authentication is not implemented yet", "AuthGroupFile")
	refuse("mod_auth_digest", CtxAny, "authentication is not implemented yet", "AuthDigestProvider", "AuthDigestDomain", "AuthDigestAlgorithm", "AuthDigestQop", "AuthDigestNonceLifetime", "AuthDigestShmemSize")
	// mod_headers
	reg("mod_headers", "Header", CtxAny, Partial, "set, unset, append, add, merge, setifempty, echo, edit; env= conditions; expr= refused", headerFn(false))
	reg("mod_headers", "RequestHeader", CtxAny, Partial, "set, unset, append, add, merge, setifempty, edit; early; env= conditions; expr= refused", headerFn(true))
	// mod_env
	reg("mod_env", "SetEnv", CtxAny, Supported, "values reach the WSGI environ, as in mod_wsgi", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 2); err != nil {
			return err
		}
		if st.dir.SetEnv == nil {
			st.dir.SetEnv = map[string]string{}
		}
		v := ""
		if len(d.Args) == 2 {
			v = d.Args[1]
		}
		st.dir.SetEnv[d.Args[0]] = v
		return nil
	})
	reg("mod_env", "UnsetEnv", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		st.dir.UnsetEnv = append(st.dir.UnsetEnv, d.Args...)
		return nil
	})
	reg("mod_env", "PassEnv", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, -1); err != nil {
			return err
		}
		st.dir.PassEnv = append(st.dir.PassEnv, d.Args...)
		return nil
	})
	// mod_log_config
	reg("mod_log_config", "LogFormat", CtxSrv, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 2); err != nil {
			return err
		}
		if len(d.Args) == 1 {
			st.cfg.LogFormats[""] = d.Args[0]
			return nil
		}
		st.cfg.LogFormats[d.Args[1]] = d.Args[0]
		return nil
	})
	reg("mod_log_config", "CustomLog", CtxSrv, Partial, "files; piped logs are refused at start-up; env= conditions; expr= refused", customLogFn)
	reg("mod_log_config", "TransferLog", CtxSrv, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		f := st.cfg.LogFormats[""]
		if f == "" {
			f = st.cfg.LogFormats["common"]
		}
		st.host.CustomLogs = append(st.host.CustomLogs, CustomLog{Pos: d.Pos(), Path: logPath(st, d.Args[0]), Format: f})
		return nil
	})
	ignore("mod_log_config", CtxSrv, "logs are buffered by wsgid itself", "BufferedLogs", "GlobalLog")
	ignore("mod_logio", CtxSrv, "no effect", "LogIOTrackTTFB")
	// Modules whose directives are harmless to ignore.
	ignore("mod_reqtimeout", CtxSrv, "wsgid bounds header reads itself (Timeout, max 20 s)", "RequestReadTimeout")
	ignore("mod_setenvif", CtxAny, "environment variables from request attributes are not set; an Allow/Deny from env= relying on them matches nothing", "SetEnvIf", "SetEnvIfNoCase", "BrowserMatch", "BrowserMatchNoCase", "SetEnvIfExpr")
	ignore("mod_negotiation", CtxAny, "no content negotiation", "LanguagePriority", "ForceLanguagePriority", "CacheNegotiatedDocs")
	ignore("mod_filter", CtxAny, "no output filters", "AddOutputFilterByType", "FilterDeclare", "FilterProvider", "FilterChain", "FilterProtocol", "FilterTrace")
	ignore("mod_deflate", CtxAny, "responses are not compressed", "DeflateCompressionLevel", "DeflateBufferSize", "DeflateMemLevel", "DeflateWindowSize", "DeflateFilterNote", "DeflateInflateLimitRequestBody", "DeflateAlterETag")
	ignore("mod_status", CtxAny, "server-status always shows what wsgid knows", "ExtendedStatus", "SeeRequestTail")
	ignore("mod_mime_magic", CtxAny, "no content sniffing", "MimeMagicFile")
	ignore("mod_expires", CtxAny, "no Expires headers are added", "ExpiresActive", "ExpiresByType", "ExpiresDefault")
	ignore("mod_http2", CtxAny, "HTTP/2 is always available over h2c and TLS", "H2Direct", "H2Push", "H2MaxSessionStreams", "H2WindowSize", "H2StreamMaxMemSize", "H2ModernTLSOnly", "H2Upgrade")
	ignore("mod_socache_shmcb", CtxAny, "no effect", "SSLSessionCache")
	ignore("core", CtxAny, "PHP is not served by wsgid", "php_value", "php_flag", "php_admin_value", "php_admin_flag")
	ignore("mod_status", CtxAny, "no effect", "ProxyStatus")
	refuse("mod_remoteip", CtxAny, "client addresses from proxy headers are not implemented; use WSGITrustedProxyHeaders", "RemoteIPHeader", "RemoteIPTrustedProxy", "RemoteIPInternalProxy", "RemoteIPProxiesHeader")
	// Not implemented and not safe to ignore.
	refuse("mod_rewrite", CtxAny, "URL rewriting is not implemented; rules may deny or redirect requests", "RewriteEngine", "RewriteRule", "RewriteCond", "RewriteBase", "RewriteMap", "RewriteOptions")
	refuse("mod_ssl", CtxAny, "TLS is not implemented yet", "SSLEngine", "SSLCertificateFile", "SSLCertificateKeyFile", "SSLCertificateChainFile", "SSLCACertificateFile", "SSLVerifyClient", "SSLVerifyDepth", "SSLRequire", "SSLRequireSSL", "SSLOptions", "SSLProtocol", "SSLCipherSuite", "SSLHonorCipherOrder", "SSLProxyEngine")
	ignore("mod_ssl", CtxAny, "no effect without mod_ssl", "SSLRandomSeed", "SSLPassPhraseDialog", "SSLSessionCacheTimeout", "SSLStaplingCache", "SSLUseStapling", "SSLCompression", "SSLSessionTickets")
	refuse("mod_proxy", CtxAny, "proxying is not implemented", "ProxyPass", "ProxyPassReverse", "ProxyPassMatch", "ProxyRequests", "ProxyPreserveHost", "<Proxy>", "<ProxyMatch>", "ProxyVia", "ProxyTimeout", "ProxyAddHeaders", "ProxyErrorOverride")
	refuse("mod_cgi", CtxAny, "CGI is not run by wsgid", "ScriptLog", "ScriptLogLength", "ScriptLogBuffer")
	ignore("mod_cgid", CtxAny, "CGI is not run by wsgid", "ScriptSock", "CGIDScriptTimeout")
	refuse("mod_userdir", CtxAny, "per-user directories are not implemented", "UserDir")
	refuse("mod_actions", CtxAny, "CGI actions are not implemented", "Action", "Script")
	refuse("mod_include", CtxAny, "server-side includes are not implemented", "XBitHack", "SSIErrorMsg", "SSITimeFormat")
	refuse("mod_dav", CtxAny, "WebDAV is not implemented", "Dav", "DavDepthInfinity", "DavMinTimeout", "DavLockDB")
	refuse("mod_lua", CtxAny, "Lua hooks are not implemented", "LuaHookAccessChecker", "LuaHookAuthChecker", "LuaAuthzProvider")
	refuse("mod_ldap", CtxAny, "LDAP authentication is not implemented", "AuthLDAPURL", "AuthLDAPBindDN", "AuthLDAPBindPassword", "LDAPTrustedGlobalCert")
	ignore("mod_unique_id", CtxAny, "no effect", "UniqueIdDummy")
	ignore("mod_vhost_alias", CtxAny, "mass virtual hosting is not implemented", "VirtualDocumentRoot")
	ignore("mod_info", CtxAny, "no server-info page", "AddModuleInfo")
	ignore("mod_speling", CtxAny, "no spelling correction", "CheckSpelling", "CheckCaseOnly")
	ignore("mod_usertrack", CtxAny, "no tracking cookies", "CookieTracking", "CookieName", "CookieExpires", "CookieDomain", "CookieStyle")
	ignore("mod_cache", CtxAny, "no caching", "CacheEnable", "CacheDisable", "CacheRoot", "CacheDefaultExpire", "CacheIgnoreHeaders")
	ignore("mod_watchdog", CtxServer, "no effect", "WatchdogInterval")
}

func normExt(e string) string {
	return strings.ToLower(strings.TrimPrefix(e, "."))
}

// extMapFn fills an extension map (AddType, AddHandler): first argument
// the value, then extensions.
func extMapFn(field func(*PerDir) *map[string]string) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 2, -1); err != nil {
			return err
		}
		m := field(st.dir)
		if *m == nil {
			*m = map[string]string{}
		}
		for _, e := range d.Args[1:] {
			(*m)[normExt(e)] = d.Args[0]
		}
		return nil
	}
}

func aliasFn(kind MapKind, match bool) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 2, 2); err != nil {
			return err
		}
		m := &Map{Pos: d.Pos(), Kind: kind, Target: d.Args[1]}
		if match {
			re, err := compileRegex(d, d.Args[0])
			if err != nil {
				return err
			}
			m.Regex, m.Match = re, d.Args[0]
		} else {
			m.Prefix = d.Args[0]
		}
		if !strings.Contains(m.Target, "$") || !match {
			m.Target = st.path(m.Target)
			if strings.HasSuffix(d.Args[1], "/") && !strings.HasSuffix(m.Target, "/") {
				m.Target += "/"
			}
		} else if st.opts.Root != "" && strings.HasPrefix(m.Target, "/") {
			m.Target = st.opts.Root + m.Target
		}
		st.host.Maps = append(st.host.Maps, m)
		return nil
	}
}

func redirectFn(fixed int, match bool) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 3); err != nil {
			return err
		}
		args := d.Args
		status := 302
		if fixed != 0 {
			status = fixed
		} else if len(args) >= 2 {
			switch strings.ToLower(args[0]) {
			case "permanent":
				status, args = 301, args[1:]
			case "temp":
				status, args = 302, args[1:]
			case "seeother":
				status, args = 303, args[1:]
			case "gone":
				status, args = 410, args[1:]
			default:
				if n, err := strconv.Atoi(args[0]); err == nil {
					if n < 300 || n > 599 {
						return d.Errorf("Redirect: invalid status %d", n)
					}
					status, args = n, args[1:]
				}
			}
		}
		if st.ctx == CtxDir {
			return d.Errorf("Redirect inside a directory section is not supported by wsgid; write it at server or virtual-host level")
		}
		if len(args) < 1 {
			return d.Errorf("Redirect needs a URL path")
		}
		m := &Map{Pos: d.Pos(), Kind: MapRedirect, Status: status}
		if match {
			re, err := compileRegex(d, args[0])
			if err != nil {
				return err
			}
			m.Regex, m.Match = re, args[0]
		} else {
			m.Prefix = args[0]
		}
		if len(args) >= 2 {
			m.Target = args[1]
		}
		if (status >= 300 && status < 400) && m.Target == "" {
			return d.Errorf("URL to redirect to is missing")
		}
		if status == 410 && m.Target != "" {
			return d.Errorf("Redirect to non-URL")
		}
		if http.StatusText(status) == "" {
			return d.Errorf("invalid status %d", status)
		}
		st.host.Maps = append(st.host.Maps, m)
		return nil
	}
}

func headerFn(request bool) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 2, 6); err != nil {
			return err
		}
		args := d.Args
		op := HeaderOp{Pos: d.Pos()}
		if !request {
			switch strings.ToLower(args[0]) {
			case "always":
				op.Always, args = true, args[1:]
			case "onsuccess":
				args = args[1:]
			}
		}
		if len(args) < 2 {
			return d.Errorf("missing header name")
		}
		op.Action, op.Name, args = strings.ToLower(args[0]), args[1], args[2:]
		need := 1
		switch op.Action {
		case "unset", "echo":
			need = 0
		case "edit", "edit*":
			need = 2
		case "set", "append", "add", "merge", "setifempty":
		case "note":
			return d.Errorf("Header note is not supported by wsgid")
		default:
			return d.Errorf("first argument must be 'add', 'set', 'append', 'merge', 'unset', 'echo', 'edit', 'edit*', 'setifempty' or 'note'.")
		}
		if len(args) < need {
			return d.Errorf("header %s requires a value", op.Action)
		}
		switch need {
		case 1:
			op.Value, args = args[0], args[1:]
		case 2:
			if _, err := compileRegex(d, args[0]); err != nil {
				return err
			}
			op.Value, args = args[0]+"\x00"+args[1], args[2:]
		}
		if strings.Contains(op.Value, "%{") {
			st.warn(d, "format specifiers in header values are sent literally by wsgid")
		}
		for _, a := range args {
			switch {
			case strings.EqualFold(a, "early"):
				op.Early = true
			case strings.HasPrefix(a, "env="):
				op.Condition = a
			case strings.HasPrefix(a, "expr="):
				return d.Errorf("expr= conditions are not supported by wsgid")
			default:
				return d.Errorf("unexpected argument %q", a)
			}
		}
		if request {
			st.dir.RequestHeaders = append(st.dir.RequestHeaders, op)
		} else {
			st.dir.Headers = append(st.dir.Headers, op)
		}
		return nil
	}
}

func logPath(st *state, p string) string {
	if strings.HasPrefix(p, "|") || p == "/dev/stdout" || p == "/dev/stderr" {
		return p
	}
	return st.path(p)
}

func customLogFn(st *state, d *httpdconf.Directive) error {
	if err := nargs(d, 2, 3); err != nil {
		return err
	}
	f, ok := st.cfg.LogFormats[d.Args[1]]
	if !ok {
		f = d.Args[1]
	}
	cl := CustomLog{Pos: d.Pos(), Path: logPath(st, d.Args[0]), Format: f}
	if len(d.Args) == 3 {
		c := d.Args[2]
		if !strings.HasPrefix(c, "env=") {
			return d.Errorf("CustomLog condition %q is not supported by wsgid (only env=)", c)
		}
		cl.Env = strings.TrimPrefix(c, "env=")
	}
	if strings.HasPrefix(cl.Path, "|") {
		return d.Errorf("piped logs (%s) are not supported by wsgid; log to a file and rotate it (wsgid reopens logs on SIGUSR1/SIGHUP)", cl.Path)
	}
	st.host.CustomLogs = append(st.host.CustomLogs, cl)
	return nil
}
