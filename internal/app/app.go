// Package app runs wsgid: it reads the command line, loads the
// configuration, builds the servers and worker groups, and handles signals.
package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"wsgid/internal/config"
	"wsgid/internal/errorlog"
	"wsgid/internal/server"
)

// Version is wsgid's version, printed by -v and sent in SERVER_SOFTWARE.
const Version = "0.1.0"

// flags are the httpd-style command-line options.
type flags struct {
	file       string   // -f
	serverRoot string   // -d
	defines    []string // -D
	before     []string // -C
	after      []string // -c
	root       string   // -R (wsgid): read absolute config paths under this directory
	listen     []string // --listen (wsgid): replace every Listen
	test       bool     // -t
	dump       bool     // -S
	version    bool     // -v
	errorLevel string   // -e
	signal     string   // -k
}

const usage = `Usage: wsgid [-D name] [-d directory] [-f file] [-C "directive"] [-c "directive"]
             [-R root] [--listen addr] [-e level] [-k start|stop|restart|graceful|graceful-stop]
             [-v] [-t] [-S] [-X]
       wsgid serve [options] app.py|module:callable   (quick mode; wsgid serve -h)
Options:
  -D name            define a name for use in <IfDefine name> directives
  -d directory       specify an alternate initial ServerRoot
  -f file            specify an alternate ServerConfigFile
  -C "directive"     process directive before reading config files
  -c "directive"     process directive after reading config files
  -R root            read the configuration's absolute paths under root (try a config from another machine)
  --listen addr      listen on addr instead of the configuration's Listen directives (repeatable);
                     <VirtualHost> ports then match any port
  -e level           show startup errors of level (see LogLevel)
  -k start           run the server (the default; always in the foreground)
  -k action          signal the server named by the configuration's PidFile:
                     stop, restart, graceful (reload), graceful-stop
  -v                 show version number
  -t                 run syntax check for config files
  -S                 show parsed vhost settings, listeners and mounts
  -X, -DFOREGROUND   accepted: wsgid always runs in the foreground
`

func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if len(a) > 2 && !strings.HasPrefix(a, "--") {
				return a[2:], nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s requires an argument", a)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch {
		case a == "--listen":
			if v, err = val(); err == nil {
				f.listen = append(f.listen, v)
			}
		case strings.HasPrefix(a, "--listen="):
			f.listen = append(f.listen, strings.TrimPrefix(a, "--listen="))
		case strings.HasPrefix(a, "-f"):
			f.file, err = val()
		case strings.HasPrefix(a, "-d"):
			f.serverRoot, err = val()
		case strings.HasPrefix(a, "-D"):
			if v, err = val(); err == nil {
				f.defines = append(f.defines, v)
			}
		case strings.HasPrefix(a, "-C"):
			if v, err = val(); err == nil {
				f.before = append(f.before, v)
			}
		case strings.HasPrefix(a, "-c"):
			if v, err = val(); err == nil {
				f.after = append(f.after, v)
			}
		case strings.HasPrefix(a, "-R"):
			if f.root, err = val(); err == nil {
				// Absolute: workers may start in another directory
				// (a dropped user's home, or "/").
				f.root, err = filepath.Abs(f.root)
			}
		case strings.HasPrefix(a, "-e"):
			f.errorLevel, err = val()
		case strings.HasPrefix(a, "-k"):
			f.signal, err = val()
		case a == "-t":
			f.test = true
		case a == "-S" || a == "-tS" || a == "-St":
			f.dump = true
		case a == "-v" || a == "-V" || a == "--version":
			f.version = true
		case a == "-X":
		case a == "-h" || a == "--help":
			return nil, errHelp
		default:
			err = fmt.Errorf("unknown option %q", a)
		}
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

var errHelp = errors.New("help requested")

// Main runs wsgid with the given arguments and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "serve" {
		return serveMain(args[1:], stdout, stderr)
	}
	f, err := parseFlags(args)
	if err == errHelp {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgid: %v\n%s", err, usage)
		return 1
	}
	if f.version {
		fmt.Fprintf(stdout, "Server version: wsgid/%s (%s/%s, %s)\n", Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return 0
	}
	if _, ok := controlSignals[f.signal]; !ok && f.signal != "" && f.signal != "start" {
		fmt.Fprintf(stderr, "wsgid: -k %s: want start, stop, restart, graceful or graceful-stop\n", f.signal)
		return 1
	}
	cfg, errs := loadConfig(f)
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(stderr, "wsgid: %v\n", e)
		}
		if f.test {
			fmt.Fprintln(stderr, "Syntax error")
		}
		return 1
	}
	if _, ok := controlSignals[f.signal]; ok {
		return signalServer(cfg.PidFile, f.signal, stderr)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "wsgid: warning: %s\n", w)
	}
	if f.test && !f.dump {
		fmt.Fprintln(stdout, "Syntax OK")
		return 0
	}
	if f.dump {
		s, err := server.New(cfg, nil, errorlog.New(io.Discard, errorlog.Emerg), server.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "wsgid: %v\n", err)
			return 1
		}
		fmt.Fprint(stdout, s.Describe())
		fmt.Fprint(stdout, describeGroups(cfg))
		return 0
	}
	return runReloadable(cfg, func() (*config.Config, []error) { return loadConfig(f) }, stderr, nil)
}

// loadConfig applies the command line to config.Load.
func loadConfig(f *flags) (*config.Config, []error) {
	file := f.file
	if file == "" {
		file = "conf/httpd.conf"
	}
	opts := config.LoadOptions{
		ServerRoot: f.serverRoot,
		Root:       f.root,
		Before:     f.before,
		After:      f.after,
		Defines:    map[string]string{},
	}
	for _, d := range f.defines {
		opts.Defines[d] = ""
	}
	cfg, errs := config.Load(file, opts)
	if len(errs) > 0 {
		return nil, errs
	}
	if f.root != "" && os.Getuid() == 0 && (cfg.User != "" || cfg.Group != "") && !userGiven(f.after) {
		// -R tries a configuration from another machine, whose accounts
		// may not exist here: the default group then runs as the
		// invoking user, and says so.
		cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("-R: ignoring User %q / Group %q of the configuration; workers run as root (add -c \"User name\" to drop privileges)", cfg.User, cfg.Group))
		cfg.User, cfg.Group = "", ""
	}
	if len(f.listen) > 0 {
		// The virtual hosts were written for the replaced Listen ports:
		// let them match on any port.
		for _, h := range cfg.VirtualHosts {
			for i, a := range h.Addrs {
				if j := strings.LastIndex(a, ":"); j >= 0 && !strings.HasSuffix(a, "]") {
					h.Addrs[i] = a[:j] + ":*"
				}
			}
		}
		cfg.Listeners = cfg.Listeners[:0]
		for _, l := range f.listen {
			addr := l
			if !strings.Contains(addr, ":") {
				addr = ":" + addr
			}
			cfg.Listeners = append(cfg.Listeners, config.Listener{Pos: "--listen", Addr: addr, Proto: "http"})
		}
	}
	return cfg, nil
}

// userGiven reports whether -c directives set User.
func userGiven(after []string) bool {
	for _, d := range after {
		if f := strings.Fields(d); len(f) > 0 && strings.EqualFold(f[0], "User") {
			return true
		}
	}
	return false
}

func serverSoftware(cfg *config.Config) string {
	switch strings.ToLower(cfg.ServerTokens) {
	case "prod", "productonly":
		return "wsgid"
	case "major":
		return "wsgid/" + strings.SplitN(Version, ".", 2)[0]
	case "minor", "min", "minimal":
		return "wsgid/" + Version
	}
	return fmt.Sprintf("wsgid/%s (%s)", Version, runtime.GOOS)
}

// fileLog is an error-log file that can be reopened after rotation.
type fileLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func (l *fileLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

func (l *fileLog) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	old.Close()
	return nil
}

func (l *fileLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// openErrorLog opens ErrorLog, falling back to standard error (with a
// warning there) when the file cannot be opened, so that a config copied
// from a server still starts for a try-out.
func openErrorLog(cfg *config.Config, stderr io.Writer) (io.Writer, func()) {
	p := cfg.ErrorLog
	if p == "" || p == "/dev/stderr" {
		return stderr, func() {}
	}
	if strings.HasPrefix(p, "|") || strings.HasPrefix(p, "syslog") {
		fmt.Fprintf(stderr, "wsgid: warning: ErrorLog %q is not supported; logging to standard error\n", p)
		return stderr, func() {}
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "wsgid: warning: cannot open ErrorLog %s (%v); logging to standard error\n", filepath.Clean(p), err)
		return stderr, func() {}
	}
	fl := &fileLog{path: p, f: f}
	return fl, func() { fl.Close() }
}
