package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wsgid/internal/httpdconf"
)

// LoadOptions are the command-line inputs to Load, as httpd's flags.
type LoadOptions struct {
	ServerRoot string            // -d; default "/usr/local/apache2" as httpd
	Defines    map[string]string // -D NAME
	Root       string            // -R: read absolute paths under this directory
	Before     []string          // -C: directives processed before the file
	After      []string          // -c: directives processed after the file
	LookupEnv  func(string) (string, bool)
}

// state carries a Load in progress.
type state struct {
	cfg     *Config
	opts    *httpdconf.Options
	host    *Host    // current host (Main outside <VirtualHost>)
	dir     *PerDir  // where per-directory directives go
	section *Section // current section, nil at host level
	ctx     Context
	errs    []error
	warned  map[string]bool
	loaded  map[string]bool // module names
	// unimplemented are modules LoadModule'd that wsgid does not
	// implement: their directives get the reason, not "Invalid command".
	unimplemented map[string]bool
	formats       map[string]string
	// authz is the current Require container (nil = the scope's implicit one).
	authz *Authz
	// cmdline is set while applying -C/-c directives: their paths are
	// this machine's, so -R does not apply to them.
	cmdline bool
}

// loader implements httpdconf.Env.
type loader struct{ st *state }

func (l loader) LoadModule(d *httpdconf.Directive) error {
	if len(d.Args) != 2 {
		return d.Errorf("LoadModule takes two arguments, a module name and the name of a shared object file to load it from")
	}
	m := moduleByRef(d.Args[0])
	if m == nil {
		l.st.warn(d, "module %s is not known to wsgid; its directives will be rejected", d.Args[0])
		return nil
	}
	if !m.Implemented {
		l.st.unimplemented[m.Name] = true
		l.st.warn(d, "module %s (%s) is not implemented by wsgid; directives it would provide are rejected", d.Args[0], m.Name)
		return nil
	}
	l.st.loaded[m.Name] = true
	return nil
}

func (l loader) ModuleLoaded(name string) bool {
	m := moduleByRef(name)
	return m != nil && (m.BuiltIn || l.st.loaded[m.Name])
}

func (l loader) DirectiveKnown(name string) bool {
	d, ok := Lookup(name)
	return ok && l.st.moduleOn(d.Module)
}

func (l loader) SectionKnown(name string) bool {
	d, ok := Lookup(name)
	return ok && d.Section && l.st.moduleOn(d.Module)
}

func (st *state) moduleOn(name string) bool {
	m := modules[name]
	return m == nil || m.BuiltIn || st.loaded[name]
}

func (st *state) warn(d *httpdconf.Directive, format string, args ...any) {
	msg := fmt.Sprintf("%s: %s", d.Pos(), fmt.Sprintf(format, args...))
	if !st.warned[msg] {
		st.warned[msg] = true
		st.cfg.Warnings = append(st.cfg.Warnings, msg)
	}
}

// Defaults returns a Config holding httpd's defaults, before any
// directive: what quick mode starts from too.
func Defaults(serverRoot string) *Config {
	hostname, _ := os.Hostname()
	main := &Host{Pos: "main server", ServerName: hostname, DocumentRoot: filepath.Join(serverRoot, "htdocs"), Dir: &PerDir{}}
	return &Config{
		ServerRoot:            serverRoot,
		LogLevel:              LevelWarn,
		LogFormats:            map[string]string{"common": `%h %l %u %t "%r" %>s %b`, "combined": `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`},
		Timeout:               60 * time.Second,
		KeepAlive:             true,
		KeepAliveTimeout:      5 * time.Second,
		MaxKeepAliveRequests:  100,
		LimitRequestFields:    100,
		LimitRequestFieldSize: 8190,
		LimitRequestLine:      8190,
		ServerTokens:          "Full",
		ServerSignature:       "Off",
		ErrorLog:              filepath.Join(serverRoot, "logs/error_log"),
		Main:                  main,
		Modules:               map[string]bool{},
		Python:                Python{RestrictSignal: true},
	}
}

// Load reads the configuration file at path with everything it
// includes and returns the typed, validated configuration, or every
// error found, each naming its file:line.
func Load(path string, lo LoadOptions) (*Config, []error) {
	root := lo.ServerRoot
	if root == "" {
		root = "/usr/local/apache2"
	}
	cfg := Defaults(root)
	st := &state{cfg: cfg, warned: map[string]bool{}, loaded: map[string]bool{}, unimplemented: map[string]bool{}}
	st.host, st.dir, st.ctx = cfg.Main, cfg.Main.Dir, CtxServer
	defs := map[string]string{}
	for k, v := range lo.Defines {
		defs[k] = v
	}
	st.opts = &httpdconf.Options{ServerRoot: root, Defines: defs, Env: loader{st}, LookupEnv: lo.LookupEnv, Root: lo.Root}

	var tree []*httpdconf.Directive
	if len(lo.Before) > 0 {
		tree = append(tree, st.inline("-C", lo.Before)...)
	}
	main, perrs := httpdconf.ParseFile(path, st.opts)
	st.errs = append(st.errs, perrs...)
	tree = append(tree, main...)
	if len(lo.After) > 0 {
		tree = append(tree, st.inline("-c", lo.After)...)
	}
	if abs := st.opts.Resolve(path); abs != "" {
		cfg.File = abs
		cfg.Main.Pos = path
	}
	for _, w := range st.opts.Warnings {
		cfg.Warnings = append(cfg.Warnings, w)
	}
	cfg.ServerRoot = st.opts.Resolve(st.opts.ServerRoot)
	if cfg.Main.DocumentRoot == filepath.Join(root, "htdocs") {
		cfg.Main.DocumentRoot = st.opts.Resolve(filepath.Join(st.opts.ServerRoot, "htdocs"))
	}
	if cfg.ErrorLog == filepath.Join(root, "logs/error_log") {
		cfg.ErrorLog = st.opts.Resolve(filepath.Join(st.opts.ServerRoot, "logs/error_log"))
	}
	st.walk(tree)
	for name := range st.loaded {
		cfg.Modules[name] = true
	}
	for name, m := range modules {
		if m.BuiltIn {
			cfg.Modules[name] = true
		}
	}
	st.errs = append(st.errs, cfg.Validate()...)
	if len(st.errs) > 0 {
		return nil, st.errs
	}
	return cfg, nil
}

// inline parses -C / -c directives given on the command line.
func (st *state) inline(flag string, lines []string) []*httpdconf.Directive {
	f, err := os.CreateTemp("", "wsgid-cmdline-*.conf")
	if err != nil {
		st.errs = append(st.errs, err)
		return nil
	}
	defer os.Remove(f.Name())
	f.WriteString(strings.Join(lines, "\n") + "\n")
	f.Close()
	o := *st.opts
	o.Root = ""
	tree, errs := httpdconf.ParseFile(f.Name(), &o)
	st.opts.Defines = o.Defines
	for _, d := range tree {
		relabel(d, flag)
	}
	for _, e := range errs {
		st.errs = append(st.errs, fmt.Errorf("%s: %v", flag, e))
	}
	return tree
}

func relabel(d *httpdconf.Directive, file string) {
	d.File = file
	for _, c := range d.Body {
		relabel(c, file)
	}
}

// walk applies directives in order.
func (st *state) walk(tree []*httpdconf.Directive) {
	for _, d := range tree {
		st.apply(d)
	}
}

func (st *state) apply(d *httpdconf.Directive) {
	e, ok := Lookup(d.Name)
	if ok && e.Status == Refused && st.unimplemented[e.Module] {
		st.errs = append(st.errs, fmt.Errorf("%s: %s is not supported by wsgid: %s; refusing to start rather than ignore it", d.Pos(), e.Name, e.Note))
		return
	}
	if !ok || !st.moduleOn(e.Module) {
		name := d.Name
		if d.Section {
			name = "<" + name
		}
		st.errs = append(st.errs, fmt.Errorf("%s: Invalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", d.Pos(), name))
		return
	}
	if e.Section != d.Section {
		st.errs = append(st.errs, fmt.Errorf("%s: %s must be written as a section", d.Pos(), d.Name))
		return
	}
	if e.Context&st.ctx == 0 {
		where := map[Context]string{CtxServer: "at server level", CtxVhost: "in <VirtualHost>", CtxDir: "in a directory section"}[st.ctx]
		st.errs = append(st.errs, fmt.Errorf("%s: %s not allowed here (%s)", d.Pos(), d.Name, where))
		return
	}
	switch e.Status {
	case Ignored:
		st.warn(d, "%s is ignored by wsgid (%s)", e.Name, e.Note)
		if d.Section {
			return
		}
		if e.fn == nil {
			return
		}
	case Refused:
		st.errs = append(st.errs, fmt.Errorf("%s: %s is not supported by wsgid: %s; refusing to start rather than ignore it", d.Pos(), e.Name, e.Note))
		return
	}
	if e.fn == nil {
		return
	}
	st.cmdline = d.File == "-c" || d.File == "-C"
	defer func() { st.cmdline = false }()
	if err := e.fn(st, d); err != nil {
		st.errs = append(st.errs, err)
	}
}

// path resolves a configuration path to the on-disk path.
func (st *state) path(p string) string {
	if st.cmdline {
		o := *st.opts
		o.Root = ""
		return filepath.Clean(o.Resolve(p))
	}
	return filepath.Clean(st.opts.Resolve(p))
}

// Validate checks what no single directive can: listeners exist, daemon
// group names are unique, groups named by WSGIProcessGroup exist.
func (c *Config) Validate() []error {
	var errs []error
	if len(c.Listeners) == 0 {
		errs = append(errs, fmt.Errorf("%s: no listening sockets available, shutting down (add a Listen directive)", c.File))
	}
	seen := map[string]*DaemonProcess{}
	for _, d := range c.Daemons {
		if prev, ok := seen[d.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: WSGIDaemonProcess: Name duplicates previous WSGI daemon definition (%s).", d.Pos, prev.Pos))
		}
		seen[d.Name] = d
	}
	check := func(pos, g string) {
		if g == "" || g == "%{GLOBAL}" || strings.HasPrefix(g, "%{") {
			return
		}
		if _, ok := seen[g]; !ok {
			errs = append(errs, fmt.Errorf("%s: No WSGI daemon process called '%s' has been configured", pos, g))
		}
	}
	for _, h := range append([]*Host{c.Main}, c.VirtualHosts...) {
		if h.Dir != nil && h.Dir.WSGI.ProcessGroup != nil {
			check(h.Pos, *h.Dir.WSGI.ProcessGroup)
		}
		for _, s := range h.Sections {
			if s.Dir != nil && s.Dir.WSGI.ProcessGroup != nil {
				check(s.Pos, *s.Dir.WSGI.ProcessGroup)
			}
		}
		for _, m := range h.Maps {
			if m.ProcessGroup != nil {
				check(m.Pos, *m.ProcessGroup)
			}
		}
	}
	for _, is := range c.ImportScripts {
		check(is.Pos, is.ProcessGroup)
	}
	return errs
}
