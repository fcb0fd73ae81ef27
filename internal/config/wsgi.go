package config

import (
	"strconv"
	"strings"
	"time"

	"wsgid/internal/httpdconf"
)

func registerWSGI() {
	const m = "mod_wsgi"
	reg(m, "WSGIScriptAlias", CtxSrv, Supported, "", wsgiAliasFn(false))
	reg(m, "WSGIScriptAliasMatch", CtxSrv, Supported, "", wsgiAliasFn(true))
	reg(m, "WSGIProcessGroup", CtxAny, Supported, "%{GLOBAL} runs in the default group", dirStr(func(w *WSGIDir) **string { return &w.ProcessGroup }))
	reg(m, "WSGIApplicationGroup", CtxAny, Partial, "reported in mod_wsgi.application_group; every application of a process runs in its main interpreter", dirStr(func(w *WSGIDir) **string { return &w.ApplicationGroup }))
	reg(m, "WSGICallableObject", CtxAny, Supported, "", dirStr(func(w *WSGIDir) **string { return &w.CallableObject }))
	reg(m, "WSGIPassAuthorization", CtxAny, Supported, "", dirBool(func(w *WSGIDir) **bool { return &w.PassAuthorization }))
	reg(m, "WSGIScriptReloading", CtxAny, Supported, "", dirBool(func(w *WSGIDir) **bool { return &w.ScriptReloading }))
	reg(m, "WSGIChunkedRequest", CtxAny, Supported, "", dirBool(func(w *WSGIDir) **bool { return &w.ChunkedRequest }))
	reg(m, "WSGIErrorOverride", CtxAny, Partial, "accepted; the application's error body is sent", dirBool(func(w *WSGIDir) **bool { return &w.ErrorOverride }))
	reg(m, "WSGIEnableSendfile", CtxAny, Supported, "wsgi.file_wrapper always goes out zero-copy when it wraps a real file", dirBool(func(w *WSGIDir) **bool { return &w.EnableSendfile }))
	reg(m, "WSGIIgnoreActivity", CtxAny, Supported, "accepted (inactivity-timeout)", dirBool(func(w *WSGIDir) **bool { return &w.IgnoreActivity }))
	reg(m, "WSGIMapHEADToGET", CtxAny, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		switch strings.ToLower(d.Args[0]) {
		case "on", "off", "auto":
			st.dir.WSGI.MapHEADToGET = strp(strings.ToLower(d.Args[0]))
			return nil
		}
		return d.Errorf("WSGIMapHEADToGET must be On, Off or Auto")
	})
	reg(m, "WSGIRestrictProcess", CtxAny, Partial, "parsed", func(st *state, d *httpdconf.Directive) error {
		st.dir.WSGI.RestrictProcess = append(st.dir.WSGI.RestrictProcess, d.Args...)
		return nil
	})
	ignore(m, CtxAny, "proxy headers are not trusted yet: the application sees the proxy's address and scheme, and the headers as HTTP_X_FORWARDED_*", "WSGITrustedProxyHeaders", "WSGITrustedProxies")
	refuse(m, CtxAny, "Python access and authentication hooks are not implemented yet", "WSGIAccessScript", "WSGIAuthUserScript", "WSGIAuthGroupScript", "WSGIDispatchScript")
	reg(m, "WSGIHandlerScript", CtxAny, Refused, "handler scripts are not implemented yet", nil)
	reg(m, "WSGIDaemonProcess", CtxSrv, Partial, "every option parsed; see the option table", daemonFn)
	reg(m, "WSGIImportScript", CtxSrv, Supported, "", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 3); err != nil {
			return err
		}
		is := ImportScript{Pos: d.Pos(), Path: st.path(d.Args[0])}
		var pg, ag bool
		for _, o := range d.Args[1:] {
			k, v, _ := strings.Cut(o, "=")
			switch strings.ToLower(k) {
			case "process-group":
				is.ProcessGroup, pg = v, true
			case "application-group":
				is.ApplicationGroup, ag = v, true
			default:
				return d.Errorf("Invalid option to WSGI import script definition.")
			}
		}
		if !pg || !ag {
			return d.Errorf("Both process and application group must be specified.")
		}
		st.cfg.ImportScripts = append(st.cfg.ImportScripts, is)
		return nil
	})
	reg(m, "WSGIPythonHome", CtxServer, Supported, "workers run <home>/bin/python3", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		st.cfg.Python.Home = st.path(strings.Split(d.Args[0], ":")[0])
		return nil
	})
	reg(m, "WSGIPythonPath", CtxServer, Supported, "applies to the default group and to daemon groups without python-path", func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		for _, p := range strings.Split(d.Args[0], ":") {
			if p != "" {
				st.cfg.Python.Path = append(st.cfg.Python.Path, st.path(p))
			}
		}
		return nil
	})
	reg(m, "WSGIPythonEggs", CtxServer, Ignored, "eggs are obsolete", nil)
	reg(m, "WSGIPythonOptimize", CtxServer, Ignored, "not passed to workers yet", nil)
	reg(m, "WSGIPythonWarnings", CtxServer, Ignored, "not passed to workers yet", nil)
	reg(m, "WSGIPythonHashSeed", CtxServer, Ignored, "workers use Python's default (random)", nil)
	reg(m, "WSGIDontWriteBytecode", CtxServer, Ignored, "not passed to workers yet", nil)
	reg(m, "WSGIRestrictStdin", CtxServer, Supported, "", flagFn(func(st *state, v bool) { st.cfg.Python.RestrictStdin = v }))
	reg(m, "WSGIRestrictStdout", CtxServer, Supported, "", flagFn(func(st *state, v bool) { st.cfg.Python.RestrictStdout = v }))
	reg(m, "WSGIRestrictSignal", CtxServer, Ignored, "workers own their signals; applications may register handlers", nil)
	reg(m, "WSGIRestrictEmbedded", CtxServer, Supported, "accepted: wsgid always runs applications in worker processes", flagFn(func(st *state, v bool) { st.cfg.Python.RestrictEmbedded = v }))
	for _, n := range []string{"WSGISocketPrefix", "WSGISocketRotation", "WSGIAcceptMutex", "WSGILazyInitialization",
		"WSGIDestroyInterpreter", "WSGICaseSensitivity", "WSGIVerboseDebugging", "WSGIServerMetrics",
		"WSGINewRelicConfigFile", "WSGINewRelicEnvironment", "WSGIPy3kWarningFlag", "WSGIUserAuthoritative",
		"WSGIGroupAuthoritative", "WSGIPassApacheRequest", "WSGIFreeThreading", "WSGIPerInterpreterGIL",
		"WSGISwitchInterval", "WSGISlowRequests", "WSGITelemetryService", "WSGITelemetryOptions"} {
		reg(m, n, CtxAny, Ignored, wsgiIgnoredWhy[n], nil)
	}
	reg(m, "<WSGIInterpreterOptions>", CtxServer, Ignored, "sub-interpreters are not used", nil)
}

// wsgiIgnoredWhy says why each accepted-but-ignored mod_wsgi directive has
// no meaning in wsgid (docs/configuration.md repeats it).
var wsgiIgnoredWhy = map[string]string{
	"WSGISocketPrefix":        "workers talk over private socket pairs, not named sockets",
	"WSGISocketRotation":      "workers talk over private socket pairs, not named sockets",
	"WSGIAcceptMutex":         "wsgid dispatches to workers itself; there is no accept lock",
	"WSGILazyInitialization":  "Python is never initialised in the server process",
	"WSGIDestroyInterpreter":  "each worker's interpreter exits with its process",
	"WSGICaseSensitivity":     "module names come from the exact script path",
	"WSGIVerboseDebugging":    "use LogLevel debug",
	"WSGIServerMetrics":       "mod_wsgi.server_metrics() is not provided",
	"WSGINewRelicConfigFile":  "New Relic integration is not built in",
	"WSGINewRelicEnvironment": "New Relic integration is not built in",
	"WSGIPy3kWarningFlag":     "Python 2 only",
	"WSGIUserAuthoritative":   "Apache 2.2 only",
	"WSGIGroupAuthoritative":  "Apache 2.2 only",
	"WSGIPassApacheRequest":   "there is no Apache request object",
	"WSGIFreeThreading":       "mod_wsgi 6 only",
	"WSGIPerInterpreterGIL":   "sub-interpreters are not used",
	"WSGISwitchInterval":      "mod_wsgi 6 only",
	"WSGISlowRequests":        "mod_wsgi 6 only",
	"WSGITelemetryService":    "mod_wsgi 6 only",
	"WSGITelemetryOptions":    "mod_wsgi 6 only",
}

func dirStr(field func(*WSGIDir) **string) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 1, 1); err != nil {
			return err
		}
		*field(&st.dir.WSGI) = strp(d.Args[0])
		return nil
	}
}

func dirBool(field func(*WSGIDir) **bool) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		v, err := onOff(d)
		if err != nil {
			return err
		}
		*field(&st.dir.WSGI) = boolp(v)
		return nil
	}
}

func wsgiAliasFn(match bool) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if err := nargs(d, 2, -1); err != nil {
			return err
		}
		m := &Map{Pos: d.Pos(), Kind: MapWSGI}
		if match {
			re, err := compileRegex(d, d.Args[0])
			if err != nil {
				return err
			}
			m.Regex, m.Match = re, d.Args[0]
			m.Target = d.Args[1]
			if st.opts.Root != "" && strings.HasPrefix(m.Target, "/") {
				m.Target = st.opts.Root + m.Target
			}
		} else {
			m.Prefix = d.Args[0]
			m.Target = st.path(d.Args[1])
			if strings.HasSuffix(d.Args[1], "/") {
				m.Target += "/"
			}
		}
		for _, o := range d.Args[2:] {
			k, v, ok := strings.Cut(o, "=")
			if !ok {
				return d.Errorf("Invalid option to WSGI script alias definition.")
			}
			switch strings.ToLower(k) {
			case "process-group":
				m.ProcessGroup = strp(v)
			case "application-group":
				m.ApplicationGroup = strp(v)
			case "callable-object":
				m.CallableObject = strp(v)
			case "pass-authorization":
				b := strings.EqualFold(v, "on")
				if !b && !strings.EqualFold(v, "off") {
					return d.Errorf("Invalid value for authorization flag.")
				}
				m.PassAuthorization = &b
			default:
				return d.Errorf("Invalid option to WSGI script alias definition.")
			}
		}
		st.host.Maps = append(st.host.Maps, m)
		return nil
	}
}

// daemonFn parses WSGIDaemonProcess with mod_wsgi's rules: integers are
// read as atoi does, negatives are errors, unknown options are errors.
func daemonFn(st *state, d *httpdconf.Directive) error {
	if err := nargs(d, 1, -1); err != nil {
		return err
	}
	dp := &DaemonProcess{Pos: d.Pos(), Name: d.Args[0], Processes: 1, Threads: 15,
		DeadlockTimeout: 300 * time.Second, GracefulTimeout: 15 * time.Second, ShutdownTimeout: 5 * time.Second,
		ConnectTimeout: 15 * time.Second, ListenBacklog: 100}
	if st.host != st.cfg.Main {
		dp.Host = st.host
	}
	for _, o := range d.Args[1:] {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			return d.Errorf("Invalid option to WSGI daemon process definition: %q", o)
		}
		k = strings.ToLower(k)
		num := func(what string) (int, error) {
			n := atoi(v)
			if n < 0 {
				return 0, d.Errorf("Invalid %s for WSGI daemon process.", what)
			}
			return n, nil
		}
		secs := func(what string) (time.Duration, error) {
			n, err := num(what)
			return time.Duration(n) * time.Second, err
		}
		var err error
		switch k {
		case "processes":
			dp.Processes, err = num("process count")
			if err == nil && dp.Processes < 1 {
				err = d.Errorf("Invalid process count for WSGI daemon process.")
			}
			dp.ProcessesGiven = true
		case "threads":
			dp.Threads, err = num("thread count")
			if err == nil && dp.Threads == 0 {
				err = d.Errorf("threads=0 (service script mode) is not supported by wsgid")
			}
		case "display-name":
			dp.DisplayName = v
		case "home":
			dp.Home = st.path(v)
		case "user":
			dp.User = v
		case "group":
			dp.Group = v
		case "supplementary-groups":
			dp.SupplementaryGroups = strings.Split(v, ",")
		case "umask":
			n, perr := strconv.ParseInt(v, 8, 32)
			if perr != nil || n < 0 {
				err = d.Errorf("Invalid umask for WSGI daemon process.")
			} else {
				u := int(n)
				dp.Umask = &u
			}
		case "lang":
			dp.Lang = v
		case "locale":
			dp.Locale = v
		case "python-home":
			dp.PythonHome = st.path(v)
		case "python-path":
			for _, p := range strings.Split(v, ":") {
				if p != "" {
					dp.PythonPath = append(dp.PythonPath, st.path(p))
				}
			}
		case "python-eggs":
			dp.PythonEggs = v
		case "maximum-requests":
			dp.MaximumRequests, err = num("request count")
		case "restart-interval":
			dp.RestartInterval, err = secs("restart interval")
		case "inactivity-timeout":
			dp.InactivityTimeout, err = secs("inactivity timeout")
		case "request-timeout":
			dp.RequestTimeout, err = secs("request timeout")
		case "deadlock-timeout":
			dp.DeadlockTimeout, err = secs("deadlock timeout")
		case "startup-timeout":
			dp.StartupTimeout, err = secs("startup timeout")
		case "graceful-timeout":
			dp.GracefulTimeout, err = secs("graceful timeout")
		case "eviction-timeout":
			dp.EvictionTimeout, err = secs("eviction timeout")
		case "shutdown-timeout":
			dp.ShutdownTimeout, err = secs("shutdown timeout")
		case "connect-timeout":
			dp.ConnectTimeout, err = secs("connect timeout")
		case "socket-timeout":
			dp.SocketTimeout, err = secs("socket timeout")
		case "queue-timeout":
			dp.QueueTimeout, err = secs("queue timeout")
		case "response-socket-timeout":
			dp.ResponseSocketTimeout, err = secs("response socket timeout")
		case "listen-backlog":
			dp.ListenBacklog, err = num("listen backlog")
		case "memory-limit":
			var n int
			n, err = num("memory limit")
			dp.MemoryLimit = int64(n)
		case "virtual-memory-limit":
			var n int
			n, err = num("virtual memory limit")
			dp.VirtualMemoryLimit = int64(n)
		case "cpu-time-limit":
			dp.CPUTimeLimit, err = secs("CPU time limit")
		case "cpu-priority":
			dp.CPUPriority = atoi(v)
		case "stack-size":
			var n int
			n, err = num("stack size")
			dp.StackSize = int64(n)
		case "header-buffer-size":
			dp.HeaderBufferSize, err = num("header buffer size")
		case "response-buffer-size":
			dp.ResponseBufferSize, err = num("response buffer size")
		case "send-buffer-size":
			dp.SendBufferSize, err = num("send buffer size")
		case "receive-buffer-size":
			dp.ReceiveBufferSize, err = num("receive buffer size")
		case "script-user":
			dp.ScriptUser = v
		case "script-group":
			dp.ScriptGroup = v
		case "server-metrics":
			dp.ServerMetrics = strings.EqualFold(v, "on")
		case "chroot":
			// Ignoring it would give the application the whole file
			// system the configuration meant to hide.
			return d.Errorf("WSGIDaemonProcess option chroot= is not supported by wsgid; run wsgid itself in a chroot or container instead")
		case "socket-user", "newrelic-config-file", "newrelic-environment", "interrupt-timeout",
			"response-flush-delay", "switch-interval", "mutex-path":
			dp.Ignored = append(dp.Ignored, k)
			st.warn(d, "WSGIDaemonProcess option %s is accepted and ignored by wsgid", k)
		default:
			return d.Errorf("Invalid option to WSGI daemon process definition: unknown option %q", k)
		}
		if err != nil {
			return err
		}
	}
	st.cfg.Daemons = append(st.cfg.Daemons, dp)
	return nil
}

// atoi reads a leading integer as C's atoi does: "10s" is 10, junk is 0.
func atoi(s string) int {
	s = strings.TrimSpace(s)
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var n int64 // int64 so that the bound below compiles where int has 32 bits
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
		if n > 1<<31 {
			break
		}
	}
	if neg {
		n = -n
	}
	return int(n)
}
