package httpdconf

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxIncludeDepth bounds nested Include, as httpd's AP_MAX_INCLUDE_DEPTH.
const maxIncludeDepth = 128

type parser struct {
	opts       *Options
	errs       []error
	stack      []string // files being read, for loop detection
	serverRoot string
}

func newParser(opts *Options) *parser {
	if opts == nil {
		opts = &Options{}
	}
	if opts.Defines == nil {
		opts.Defines = map[string]string{}
	}
	return &parser{opts: opts, serverRoot: opts.ServerRoot}
}

// Resolve returns the on-disk path for a configuration path: relative
// paths are taken against ServerRoot, and absolute ones are looked up
// under Root when it is set (wsgid -R).
func (o *Options) Resolve(path string) string {
	if path == "" {
		return path
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(o.ServerRoot, path)
	}
	if o.Root != "" && !strings.HasPrefix(path, o.Root+string(filepath.Separator)) {
		path = filepath.Join(o.Root, path)
	}
	return path
}

func (p *parser) configPath(path string) string {
	if !filepath.IsAbs(path) {
		return filepath.Join(p.serverRoot, path)
	}
	return path
}

func (p *parser) disk(path string) string {
	path = p.configPath(path)
	if p.opts.Root != "" {
		return filepath.Join(p.opts.Root, path)
	}
	return path
}

func (p *parser) errorf(file string, line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(file string, line int, format string, args ...any) {
	p.opts.Warnings = append(p.opts.Warnings, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
}

func (p *parser) parseTop(path string) ([]*Directive, []error) {
	cp := p.configPath(path)
	out := p.parseFile(cp, 0, nil, true)
	return out, p.errs
}

// parseFile reads one file (config path cp) and returns its directives.
func (p *parser) parseFile(cp string, depth int, from *Directive, required bool) []*Directive {
	for _, s := range p.stack {
		if s == cp {
			if from != nil {
				p.errorf(from.File, from.Line, "Include loop: %s includes itself (through %s)", cp, strings.Join(p.stack, " -> "))
			}
			return nil
		}
	}
	if depth > maxIncludeDepth {
		p.errorf(from.File, from.Line, "Exceeded the maximum include directory nesting level of %d", maxIncludeDepth)
		return nil
	}
	data, err := os.ReadFile(p.disk(cp))
	if err != nil {
		if from != nil {
			p.errorf(from.File, from.Line, "%s: could not open configuration file %s: %v", from.Name, cp, unwrapPathErr(err))
		} else {
			p.errs = append(p.errs, fmt.Errorf("could not open configuration file %s: %v", cp, unwrapPathErr(err)))
		}
		return nil
	}
	p.stack = append(p.stack, cp)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	lines := splitLines(string(data))
	i := 0
	out, _ := p.block(cp, lines, &i, nil, depth, false)
	return out
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

type line struct {
	n    int
	text string
}

// splitLines joins backslash continuations and drops comments and blanks.
func splitLines(s string) []line {
	raw := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []line
	for i := 0; i < len(raw); i++ {
		start := i + 1
		t := raw[i]
		for strings.HasSuffix(t, "\\") && i+1 < len(raw) {
			t = t[:len(t)-1] + raw[i+1]
			i++
		}
		tt := strings.TrimSpace(t)
		if tt == "" || tt[0] == '#' {
			continue
		}
		out = append(out, line{n: start, text: tt})
	}
	return out
}

// block reads directives until the closing tag of open (or EOF).
// It returns the directives and whether the close tag was found.
//
// In a false conditional (skip), directives are only checked for section
// nesting: Include, Define and LoadModule there have no effect, as in httpd.
func (p *parser) block(file string, lines []line, i *int, open *Directive, depth int, skip bool) ([]*Directive, bool) {
	var out []*Directive
	for *i < len(lines) {
		ln := lines[*i]
		*i++
		t := ln.text
		if strings.HasPrefix(t, "</") {
			name := strings.TrimSpace(strings.TrimSuffix(t[2:], ">"))
			if !strings.HasSuffix(t, ">") {
				p.errorf(file, ln.n, "Syntax error: closing tag %s lacks '>'", t)
			}
			if open == nil {
				p.errorf(file, ln.n, "</%s> without matching <%s> section", name, name)
				continue
			}
			if !strings.EqualFold(name, open.Name) {
				p.errorf(file, ln.n, "Expected </%s> but saw </%s>", open.Name, name)
			}
			return out, true
		}
		if strings.HasPrefix(t, "<") {
			if !strings.HasSuffix(t, ">") {
				p.errorf(file, ln.n, "%s directive missing closing '>'", strings.Fields(t)[0])
				t += ">"
			}
			inner := strings.TrimSpace(t[1 : len(t)-1])
			name, rest, _ := strings.Cut(inner, " ")
			if j := strings.IndexAny(inner, " \t"); j >= 0 {
				name, rest = inner[:j], inner[j+1:]
			} else {
				name, rest = inner, ""
			}
			args, err := p.splitArgs(rest, file, ln.n)
			if err != nil {
				p.errorf(file, ln.n, "<%s>: %v", name, err)
			}
			d := &Directive{Name: name, Args: args, File: file, Line: ln.n, Section: true}
			cond, isCond := false, false
			if !skip {
				cond, isCond = p.conditional(d)
			} else {
				isCond = isConditional(name)
			}
			body, closed := p.block(file, lines, i, d, depth, skip || (isCond && !cond))
			if !closed {
				p.errorf(file, ln.n, "<%s> was not closed.", name)
			}
			if isCond {
				if cond && !skip {
					out = append(out, body...)
				}
				continue
			}
			d.Body = body
			out = append(out, d)
			continue
		}
		j := strings.IndexAny(t, " \t")
		name, rest := t, ""
		if j >= 0 {
			name, rest = t[:j], t[j+1:]
		}
		args, err := p.splitArgs(rest, file, ln.n)
		if err != nil {
			p.errorf(file, ln.n, "%s: %v", name, err)
			continue
		}
		d := &Directive{Name: name, Args: args, File: file, Line: ln.n}
		if skip {
			continue
		}
		switch strings.ToLower(name) {
		case "include", "includeoptional":
			if len(args) != 1 {
				p.errorf(file, ln.n, "%s takes one argument, Name of the config file to be included", name)
				continue
			}
			out = append(out, p.include(d, strings.EqualFold(name, "includeoptional"), depth)...)
			continue
		case "define":
			if len(args) < 1 || len(args) > 2 {
				p.errorf(file, ln.n, "Define takes one or two arguments")
				continue
			}
			v := ""
			if len(args) == 2 {
				v = args[1]
			}
			if strings.Contains(args[0], ":") {
				p.errorf(file, ln.n, "Variable name must not contain ':'")
				continue
			}
			p.opts.Defines[args[0]] = v
			continue
		case "undefine":
			if len(args) != 1 {
				p.errorf(file, ln.n, "UnDefine takes one argument")
				continue
			}
			delete(p.opts.Defines, args[0])
			continue
		case "serverroot":
			if len(args) == 1 {
				p.serverRoot = args[0]
				p.opts.ServerRoot = args[0]
			}
		case "loadmodule":
			if p.opts.Env != nil {
				if err := p.opts.Env.LoadModule(d); err != nil {
					p.errs = append(p.errs, err)
				}
			}
		}
		out = append(out, d)
	}
	return out, false
}

func isConditional(name string) bool {
	switch strings.ToLower(name) {
	case "ifmodule", "ifdefine", "iffile", "ifdirective", "ifsection":
		return true
	}
	return false
}

// conditional evaluates the parse-time sections; ok is false for any
// other section.
func (p *parser) conditional(d *Directive) (cond, ok bool) {
	kind := strings.ToLower(d.Name)
	switch kind {
	case "ifmodule", "ifdefine", "iffile", "ifdirective", "ifsection":
	default:
		return false, false
	}
	if len(d.Args) != 1 {
		p.errorf(d.File, d.Line, "<%s> takes one argument", d.Name)
		return false, true
	}
	arg := d.Args[0]
	neg := strings.HasPrefix(arg, "!")
	arg = strings.TrimPrefix(arg, "!")
	var v bool
	switch kind {
	case "ifmodule":
		v = p.opts.Env != nil && p.opts.Env.ModuleLoaded(arg)
	case "ifdefine":
		_, v = p.opts.Defines[arg]
	case "iffile":
		_, err := os.Stat(p.disk(arg))
		v = err == nil
	case "ifdirective":
		v = p.opts.Env == nil || p.opts.Env.DirectiveKnown(arg)
	case "ifsection":
		v = p.opts.Env == nil || p.opts.Env.SectionKnown(strings.TrimPrefix(arg, "<"))
	}
	return v != neg, true
}

// include expands Include / IncludeOptional.
func (p *parser) include(d *Directive, optional bool, depth int) []*Directive {
	pattern := p.configPath(d.Args[0])
	files, err := p.expand(pattern, optional)
	if err != nil {
		if !optional {
			p.errorf(d.File, d.Line, "%s: %v", d.Name, err)
		}
		return nil
	}
	var out []*Directive
	for _, f := range files {
		out = append(out, p.parseFile(f, depth+1, d, !optional)...)
	}
	return out
}

// expand resolves wildcards (also in directory components) and
// directories into a sorted file list of config paths.
func (p *parser) expand(pattern string, optional bool) ([]string, error) {
	if !strings.ContainsAny(pattern, "*?[") {
		fi, err := os.Stat(p.disk(pattern))
		if err != nil {
			if optional {
				return nil, nil
			}
			return nil, fmt.Errorf("could not open configuration file %s: %v", pattern, unwrapPathErr(err))
		}
		if fi.IsDir() {
			return p.dirFiles(pattern)
		}
		return []string{pattern}, nil
	}
	// Walk component by component so wildcards may sit in directories.
	comps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	cur := []string{"/"}
	for ci, c := range comps {
		last := ci == len(comps)-1
		var next []string
		for _, base := range cur {
			if !strings.ContainsAny(c, "*?[") {
				next = append(next, filepath.Join(base, c))
				continue
			}
			entries, err := os.ReadDir(p.disk(base))
			if err != nil {
				continue
			}
			var names []string
			for _, e := range entries {
				if ok, _ := filepath.Match(c, e.Name()); ok {
					if !last && !e.IsDir() {
						continue
					}
					if last && e.IsDir() {
						// Apache: wildcards in the file part match only files.
						continue
					}
					names = append(names, e.Name())
				}
			}
			sort.Strings(names)
			for _, n := range names {
				next = append(next, filepath.Join(base, n))
			}
		}
		cur = next
	}
	var out []string
	for _, f := range cur {
		if fi, err := os.Stat(p.disk(f)); err == nil && !fi.IsDir() {
			out = append(out, f)
		}
	}
	if len(out) == 0 && !optional {
		// httpd 2.4 fails only when a wildcard directory part matches
		// nothing; an empty match in the file part is accepted.
		dir := filepath.Dir(pattern)
		if strings.ContainsAny(dir, "*?[") {
			return nil, fmt.Errorf("No matches for the wildcard '%s' in '%s', failing", filepath.Base(dir), filepath.Dir(dir))
		}
		if _, err := os.Stat(p.disk(dir)); err != nil {
			return nil, fmt.Errorf("could not open configuration directory %s: %v", dir, unwrapPathErr(err))
		}
	}
	return out, nil
}

func (p *parser) dirFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(p.disk(dir))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		if e.IsDir() {
			sub, err := p.dirFiles(full)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, full)
	}
	sort.Strings(out)
	return out, nil
}

// splitArgs splits a directive's argument text like ap_getword_conf:
// quotes group words, backslash escapes the quote character inside
// quotes, and ${VAR} is expanded.
func (p *parser) splitArgs(s, file string, ln int) ([]string, error) {
	s = p.expandVars(s, file, ln)
	var args []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return args, nil
		}
		q := s[0]
		if q == '"' || q == '\'' {
			var b strings.Builder
			j := 1
			closed := false
			for ; j < len(s); j++ {
				c := s[j]
				if c == '\\' && j+1 < len(s) && (s[j+1] == q || s[j+1] == '\\') {
					b.WriteByte(s[j+1])
					j++
					continue
				}
				if c == q {
					closed = true
					j++
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return args, fmt.Errorf("unterminated %c quote", q)
			}
			args = append(args, b.String())
			s = s[j:]
			continue
		}
		j := strings.IndexAny(s, " \t")
		if j < 0 {
			j = len(s)
		}
		w := s[:j]
		if strings.Contains(w, "\\") {
			w = strings.ReplaceAll(w, "\\\\", "\\")
		}
		args = append(args, w)
		s = s[j:]
	}
}

func (p *parser) expandVars(s, file string, ln int) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		if v, ok := p.opts.Defines[name]; ok {
			b.WriteString(v)
		} else if v, ok := p.lookupEnv(name); ok {
			b.WriteString(v)
		} else {
			p.warnf(file, ln, "Config variable ${%s} is not defined", name)
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

func (p *parser) lookupEnv(name string) (string, bool) {
	if p.opts.LookupEnv != nil {
		return p.opts.LookupEnv(name)
	}
	return os.LookupEnv(name)
}
