package app

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"wsgid/internal/config"
	"wsgid/internal/errorlog"
)

// quickOptions are the flags of "wsgid serve", modelled on
// mod_wsgi-express start-server.
type quickOptions struct {
	host       string
	port       int
	processes  int
	threads    int
	python     string
	pythonPath []string
	aliases    [][2]string // --url-alias URL DIR
	reload     bool
	accessLog  bool
	logLevel   string
	callable   string
}

func parseQuick(args []string, stderr io.Writer) (*quickOptions, string, error) {
	q := &quickOptions{}
	fs := flag.NewFlagSet("wsgid serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&q.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&q.port, "port", 8000, "port to listen on")
	fs.IntVar(&q.processes, "processes", defaultProcesses(), "worker processes")
	fs.IntVar(&q.threads, "threads", defaultThreads, "threads per worker process")
	fs.StringVar(&q.python, "python", "", "Python interpreter (default python3 on PATH)")
	fs.Func("python-path", "directory to add to sys.path (repeatable)", func(s string) error {
		q.pythonPath = append(q.pythonPath, s)
		return nil
	})
	fs.BoolVar(&q.reload, "reload", false, "restart workers when a loaded module's file changes")
	fs.BoolVar(&q.accessLog, "access-log", true, "write an access log (common format) to standard output")
	fs.StringVar(&q.logLevel, "log-level", "warn", "error log level (LogLevel)")
	fs.StringVar(&q.callable, "callable-object", "application", "name of the WSGI callable in a script file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wsgid serve [options] app.py|module:callable\n       [--url-alias URL DIR]...\n")
		fs.PrintDefaults()
	}
	// --url-alias takes two values, which package flag cannot express.
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--url-alias" || args[i] == "-url-alias" {
			if i+2 >= len(args) {
				return nil, "", fmt.Errorf("--url-alias needs URL and DIR")
			}
			q.aliases = append(q.aliases, [2]string{args[i+1], args[i+2]})
			i += 2
			continue
		}
		rest = append(rest, args[i])
	}
	if err := fs.Parse(rest); err != nil {
		return nil, "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, "", fmt.Errorf("want exactly one application, have %d", fs.NArg())
	}
	return q, fs.Arg(0), nil
}

// serveMain is "wsgid serve": one application, no configuration file.
func serveMain(args []string, stdout, stderr io.Writer) int {
	q, app, err := parseQuick(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "wsgid serve: %v\n", err)
		return 2
	}
	cfg, err := quickConfig(q, app)
	if err != nil {
		fmt.Fprintf(stderr, "wsgid serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wsgid %s serving %s on http://%s/ (%d processes x %d threads)\n",
		Version, app, cfg.Listeners[0].Addr, q.processes, q.threads)
	return run(cfg, stderr, nil)
}

// quickConfig builds the configuration "wsgid serve" runs: the same typed
// configuration an httpd.conf would produce, so quick mode exercises the
// same server.
func quickConfig(q *quickOptions, app string) (*config.Config, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	script, callable := app, q.callable
	var module string
	if !strings.HasSuffix(app, ".py") && !strings.HasSuffix(app, ".wsgi") && strings.Contains(app, ":") || !strings.Contains(app, "/") && !strings.HasSuffix(app, ".py") && !strings.HasSuffix(app, ".wsgi") {
		module, callable, _ = strings.Cut(app, ":")
		if callable == "" {
			callable = "application"
		}
		script = ""
	}
	if script != "" {
		script, err = filepath.Abs(script)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(script); err != nil || fi.IsDir() {
			return nil, fmt.Errorf("%s: not a file", app)
		}
	}
	level := config.LevelWarn
	if l, ok := errorlog.ParseLevel(q.logLevel); ok {
		level = config.LogLevel(l)
	}
	cfg := config.Defaults(cwd)
	cfg.File = "(wsgid serve)"
	cfg.ErrorLog = "" // standard error
	cfg.Listeners = []config.Listener{{Pos: "--host/--port", Addr: net.JoinHostPort(q.host, strconv.Itoa(q.port)), Proto: "http"}}
	cfg.LogLevel = level
	cfg.Modules["mod_wsgi"] = true
	cfg.Python.PythonExecutable = q.python
	cfg.Python.Path = append([]string{cwd}, q.pythonPath...)
	cfg.Python.ReloadOnChanges = q.reload
	granted := &config.Authz{Kind: config.AuthzRequire, Provider: "all", Args: []string{"granted"}, Pos: "wsgid serve"}
	main := &config.Host{Pos: "wsgid serve", ServerName: q.host, DocumentRoot: cwd, Dir: &config.PerDir{}}
	for _, a := range q.aliases {
		dir, err := filepath.Abs(a[1])
		if err != nil {
			return nil, err
		}
		main.Maps = append(main.Maps, &config.Map{Pos: "--url-alias", Kind: config.MapAlias, Prefix: a[0], Target: dir})
		main.Sections = append(main.Sections, &config.Section{Pos: "--url-alias", Kind: config.SectionDirectory, Pattern: dir, Dir: &config.PerDir{Authz: granted}})
	}
	target := script
	if module != "" {
		target = "module:" + module
	}
	cb := callable
	main.Maps = append(main.Maps, &config.Map{Pos: "wsgid serve", Kind: config.MapWSGI, Prefix: "/", Target: target, CallableObject: &cb})
	if script != "" {
		main.Sections = append(main.Sections, &config.Section{Pos: "wsgid serve", Kind: config.SectionFiles, Pattern: filepath.Base(script), Dir: &config.PerDir{Authz: granted}})
	}
	if q.accessLog {
		main.CustomLogs = []config.CustomLog{{Pos: "--access-log", Path: "/dev/stdout", Format: `%h %l %u %t "%r" %>s %b`}}
	}
	cfg.Main = main
	cfg.Daemons = []*config.DaemonProcess{{
		Pos: "wsgid serve", Name: "wsgid-serve", Processes: q.processes, ProcessesGiven: q.processes > 1, Threads: q.threads,
	}}
	pg := "wsgid-serve"
	main.Dir.WSGI.ProcessGroup = &pg
	return cfg, nil
}
