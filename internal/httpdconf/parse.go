package httpdconf

// ParseFile reads the configuration file at path (relative paths are taken
// against opts.ServerRoot) with everything it includes, evaluates the
// conditional sections and Define/UnDefine, and returns the resulting tree.
//
// Include, IncludeOptional, Define, UnDefine and the <If...> sections are
// consumed: they do not appear in the tree (the bodies of true conditionals
// are spliced in place). ServerRoot and LoadModule stay in the tree, after
// being applied to opts and opts.Env.
//
// Every error found is returned, each one "file:line: message", so that
// wsgid -t can list them all like apachectl -t; parsing continues after an
// error where the rest of the file can still be read.
func ParseFile(path string, opts *Options) ([]*Directive, []error) {
	p := newParser(opts)
	return p.parseTop(path)
}
