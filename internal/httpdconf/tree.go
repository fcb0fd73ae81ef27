// Package httpdconf reads Apache httpd configuration syntax into a tree of
// directives that remember where they came from.
//
// It knows syntax only: quoting, continuation lines, comments, sections,
// Include/IncludeOptional, Define/UnDefine and ${VAR} expansion, and the
// conditional sections (<IfModule>, <IfDefine>, <IfFile>, <IfDirective>,
// <IfSection>), which Apache also evaluates while reading. What a directive
// means is decided by package config, the only package that knows directive
// names beyond these.
package httpdconf

import "fmt"

// Directive is one line of configuration, or one section with its body.
// Sections are named without angle brackets: "<Directory /x>" is a
// Directive{Name: "Directory", Args: ["/x"], Section: true}.
type Directive struct {
	Name    string       // as written (case preserved); compare case-insensitively
	Args    []string     // unquoted, escapes resolved, ${VAR} expanded
	File    string       // file the directive was read from
	Line    int          // 1-based line where the directive starts
	Section bool         // true for <Name ...> ... </Name>
	Body    []*Directive // directives inside a section, in order
}

// Pos returns "file:line", the prefix of every message about the directive.
func (d *Directive) Pos() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// Errorf returns an error prefixed with the directive's position and name,
// worded like httpd's own messages: "httpd.conf:42: Listen: bad port".
func (d *Directive) Errorf(format string, args ...any) error {
	return &Error{File: d.File, Line: d.Line, Msg: d.Name + ": " + fmt.Sprintf(format, args...)}
}

// Error is a configuration error at a position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Env answers the questions Apache settles while reading the files: which
// modules are loaded, which directives and sections exist. Package config
// implements it from its directive registry.
type Env interface {
	// LoadModule records "LoadModule id path" (id like "wsgi_module").
	// It returns an error only for a malformed line; a module wsgid does
	// not implement is a warning the implementation records itself.
	LoadModule(d *Directive) error
	// ModuleLoaded reports whether <IfModule name> is true. name is a
	// module identifier ("wsgi_module") or source file ("mod_wsgi.c").
	ModuleLoaded(name string) bool
	// DirectiveKnown reports whether <IfDirective name> is true.
	DirectiveKnown(name string) bool
	// SectionKnown reports whether <IfSection name> is true (name without "<").
	SectionKnown(name string) bool
}

// Options control a parse.
type Options struct {
	// ServerRoot resolves relative Include paths and <IfFile> paths.
	// A ServerRoot directive met while parsing replaces it from then on.
	ServerRoot string
	// Defines are the names given with -D, true when defined. Define
	// directives add to it while parsing (Define NAME VALUE sets a value).
	Defines map[string]string
	// Env answers module and directive questions; nil means nothing is
	// loaded and every directive is known.
	Env Env
	// LookupEnv reads environment variables for ${VAR}; nil = os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Root, if set, is prefixed to every absolute path the parser opens
	// (wsgid -R: try a configuration copied from another machine).
	Root string
	// Warnings receives "file:line: message" notes that are not errors,
	// such as an undefined ${VAR} (left as written, as httpd does).
	Warnings []string
}
