// Package route maps a request URL to what serves it, as Apache's request
// processing does: mod_alias redirects and aliases, WSGIScriptAlias, the
// DocumentRoot, the directory walk that splits the file name from
// PATH_INFO, then the merge of <Directory>, <Files> and <Location> sections
// into the settings that apply, and the handler that runs.
//
// Route is pure with respect to HTTP: it reads the file system (stat) but
// writes no response. Package server acts on the Result.
package route

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"wsgid/internal/config"
	"wsgid/internal/statcache"
)

// Kind says what serves a request.
type Kind int

const (
	KindStatic   Kind = iota // the default handler: a file or a directory
	KindWSGI                 // a WSGI application
	KindRedirect             // mod_alias Redirect*
	KindError                // refused during mapping (Status and Reason say why)
)

// Result is the outcome of routing one request.
type Result struct {
	Kind     Kind
	Status   int    // KindError / KindRedirect: the status to answer
	Location string // KindRedirect: the target ("" for 410 Gone)
	Reason   string // KindError: the error-log line (Apache's wording), "" = none

	URLPath   string // cleaned, decoded URL path
	Filename  string // file system path the URL maps to (r->filename)
	PathInfo  string // the part of the URL path after Filename (r->path_info)
	IsDir     bool   // Filename is a directory
	Exists    bool   // Filename exists
	Mapped    *config.Map
	Context   string // CONTEXT_PREFIX: the Alias URL prefix, "" for DocumentRoot
	ContextFS string // CONTEXT_DOCUMENT_ROOT

	Module  string     // a WSGIScriptAlias to "module:pkg.mod" (quick mode): the module to import
	Handler string     // effective handler name ("" = default)
	Eff     *Effective // merged per-directory settings
}

// ScriptName is the URL path without PATH_INFO: SCRIPT_NAME.
func (r *Result) ScriptName() string {
	return strings.TrimSuffix(r.URLPath, r.PathInfo)
}

// Router routes requests for one host (the main server or a virtual
// host). It is safe for concurrent use.
type Router struct {
	DocumentRoot string
	redirects    []*config.Map
	aliases      []*config.Map // mod_alias aliases, then WSGI aliases
	base         *config.PerDir
	dirs         []dirSection      // non-regex <Directory>, sorted by component count
	dirRegex     []*config.Section // <Directory ~> and <DirectoryMatch>, config order
	files        []*config.Section // <Files>, <FilesMatch>, config order
	locs         []*config.Section // <Location>, <LocationMatch>, config order

	// Compile builds the derived settings of a merged PerDir (access
	// policy, static options). Package server provides it; results are
	// cached per combination of sections, so it runs rarely.
	Compile func(*config.PerDir) (*Effective, error)

	early []config.HeaderOp

	mu    sync.RWMutex
	cache map[string]*Effective
}

// Effective is the merged per-directory configuration for a request, plus
// whatever the server derived from it once (compiled access policy …).
type Effective struct {
	Dir     *config.PerDir
	Options config.Opt
	Err     error // compiling failed: requests get 500
	Derived any   // owned by the compiler (package server)
}

// New builds the router for host h; main is the main server (h may be
// main itself). Main's aliases and sections apply to virtual hosts too, as
// in Apache, after the host's own aliases.
func New(main, h *config.Host, compile func(*config.PerDir) (*Effective, error)) *Router {
	rt := &Router{DocumentRoot: h.DocumentRoot, Compile: compile, cache: map[string]*Effective{}}
	if rt.DocumentRoot == "" {
		rt.DocumentRoot = main.DocumentRoot
	}
	var maps []*config.Map
	maps = append(maps, h.Maps...)
	sections := append([]*config.Section(nil), main.Sections...)
	rt.base = main.Dir
	if h != main {
		maps = append(maps, main.Maps...)
		sections = append(sections, h.Sections...)
		rt.base = config.MergeDir(main.Dir, h.Dir)
	}
	if rt.base == nil {
		rt.base = &config.PerDir{}
	}
	for _, op := range rt.base.RequestHeaders {
		if op.Early {
			rt.early = append(rt.early, op)
		}
	}
	var wsgi []*config.Map
	for _, m := range maps {
		switch m.Kind {
		case config.MapRedirect:
			rt.redirects = append(rt.redirects, m)
		case config.MapWSGI:
			wsgi = append(wsgi, m)
		default:
			rt.aliases = append(rt.aliases, m)
		}
	}
	rt.aliases = append(rt.aliases, wsgi...)
	for _, s := range sections {
		switch s.Kind {
		case config.SectionDirectory:
			if s.IsRegex() {
				rt.dirRegex = append(rt.dirRegex, s)
			} else {
				rt.dirs = append(rt.dirs, newDirSection(s))
			}
		case config.SectionDirectoryMatch:
			rt.dirRegex = append(rt.dirRegex, s)
		case config.SectionFiles, config.SectionFilesMatch:
			rt.files = append(rt.files, s)
		case config.SectionLocation, config.SectionLocationMatch:
			rt.locs = append(rt.locs, s)
		}
	}
	sort.SliceStable(rt.dirs, func(i, j int) bool { return len(rt.dirs[i].comps) < len(rt.dirs[j].comps) })
	return rt
}

// Route maps an escaped URL path (r.URL.EscapedPath()).
func (rt *Router) Route(escapedPath string) *Result {
	p, err := CleanURLPath(escapedPath)
	if err != nil {
		switch {
		case errors.Is(err, ErrBadPath):
			return &Result{Kind: KindError, Status: 400, Reason: "invalid URI path (" + escapedPath + ")"}
		case errors.Is(err, ErrEncodedSlash):
			return &Result{Kind: KindError, Status: 404, Reason: "found %2f (encoded '/') in URI path (" + escapedPath + "), returning 404"}
		default:
			return &Result{Kind: KindError, Status: 404, Reason: "URI path contains NUL (" + escapedPath + ")"}
		}
	}
	res := &Result{URLPath: p}
	if rt.redirect(res) {
		return res
	}
	rt.translate(res)
	if res.Module != "" {
		res.Exists = true
	} else {
		rt.walk(res)
	}
	res.Eff = rt.effective(res)
	res.Handler = handlerFor(res.Eff.Dir, res.Filename, res.Mapped)
	return res
}

// Translate maps a URL path to a file system name as Route does, but
// without the directory walk. It serves PATH_TRANSLATED: Apache's
// sub-request ends with the existing file plus the path info below it,
// which is this same name whether or not the file exists, so the stat
// calls can be saved (except for a directory URL, which mod_dir maps to
// its index: use Route for those). ok is false when the URL maps to no
// file: a redirect, an invalid path, a module target.
func (rt *Router) Translate(escapedPath string) (name string, ok bool) {
	p, err := CleanURLPath(escapedPath)
	if err != nil {
		return "", false
	}
	res := Result{URLPath: p}
	if rt.redirect(&res) {
		return "", false
	}
	rt.translate(&res)
	if res.Module != "" {
		return "", false
	}
	return res.Filename, true
}

// redirect applies mod_alias Redirect / RedirectMatch.
func (rt *Router) redirect(res *Result) bool {
	for _, m := range rt.redirects {
		var target string
		if m.Regex != nil {
			sub := m.Regex.FindStringSubmatchIndex(res.URLPath)
			if sub == nil {
				continue
			}
			target = string(m.Regex.ExpandString(nil, dollarToGo(m.Target), res.URLPath, sub))
		} else {
			n := aliasMatches(res.URLPath, m.Prefix)
			if n < 0 {
				continue
			}
			target = m.Target
			if target != "" {
				target += res.URLPath[n:]
			}
		}
		res.Kind = KindRedirect
		res.Status = m.Status
		res.Location = target
		return true
	}
	return false
}

// dollarToGo turns Apache's $1 references into Go's ${1}, so that "$1x"
// is group 1 followed by "x" as in Apache rather than a group named "1x".
func dollarToGo(t string) string {
	if !strings.Contains(t, "$") {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] == '$' && i+1 < len(t) && t[i+1] >= '0' && t[i+1] <= '9' {
			b.WriteString("${")
			b.WriteByte(t[i+1])
			b.WriteString("}")
			i++
			continue
		}
		if t[i] == '$' {
			b.WriteString("$$")
			continue
		}
		b.WriteByte(t[i])
	}
	return b.String()
}

// translate maps the URL to a file name: aliases in order, else the
// DocumentRoot.
func (rt *Router) translate(res *Result) {
	for _, m := range rt.aliases {
		if m.Regex != nil {
			sub := m.Regex.FindStringSubmatchIndex(res.URLPath)
			if sub == nil {
				continue
			}
			res.Filename = string(m.Regex.ExpandString(nil, dollarToGo(m.Target), res.URLPath, sub))
			if m.Kind == config.MapWSGI {
				// mod_wsgi: the matched part is the script's URL; the rest is appended.
				res.Filename += res.URLPath[sub[1]:]
			}
			res.Context = res.URLPath[:sub[1]]
			res.ContextFS = res.Filename
			if m.Kind == config.MapWSGI {
				res.Context, res.ContextFS = "", rt.DocumentRoot
			}
			res.Mapped = m
			return
		}
		n := aliasMatches(res.URLPath, m.Prefix)
		if n < 0 {
			continue
		}
		rest := res.URLPath[n:]
		if m.Kind == config.MapWSGI && n > 0 && res.URLPath[n-1] == '/' {
			// mod_wsgi keeps the slash: WSGIScriptAlias / app.wsgi maps
			// "/a" to "app.wsgi/a", giving SCRIPT_NAME "" and PATH_INFO "/a".
			rest = res.URLPath[n-1:]
		}
		if mod, ok := strings.CutPrefix(m.Target, "module:"); ok && m.Kind == config.MapWSGI {
			res.Module, res.Filename, res.PathInfo = mod, "", rest
			if rest == "/" && !strings.HasSuffix(m.Prefix, "/") {
				res.PathInfo = "/"
			}
			res.Context = strings.TrimRight(m.Prefix, "/")
			res.Mapped = m
			return
		}
		res.Filename = m.Target + rest
		res.Context = strings.TrimRight(m.Prefix, "/")
		res.ContextFS = m.Target
		if m.Kind == config.MapWSGI {
			// mod_wsgi's translate hook sets no context: CONTEXT_PREFIX
			// stays "" and CONTEXT_DOCUMENT_ROOT the DocumentRoot.
			res.Context, res.ContextFS = "", rt.DocumentRoot
		}
		res.Mapped = m
		return
	}
	res.Filename = rt.DocumentRoot + res.URLPath
	res.ContextFS = rt.DocumentRoot
}

// walk splits Filename into the longest existing file prefix and
// PATH_INFO, as Apache's directory walk does.
func (rt *Router) walk(res *Result) {
	name := cleanFS(res.Filename)
	fi, err := statcache.Stat(name)
	if err == nil {
		if !fi.IsDir() && strings.HasSuffix(res.Filename, "/") {
			// "file/" is the file with PATH_INFO "/", as in Apache.
			res.PathInfo = "/"
		}
		res.Filename, res.Exists, res.IsDir = name, true, fi.IsDir()
		return
	}
	// Climb until an existing component; if it is a regular file the
	// remainder is PATH_INFO, if it is a directory the first missing
	// component is the (missing) file and the rest is PATH_INFO.
	cur := name
	for {
		parent := filepath.Dir(cur)
		if parent == cur {
			res.Filename = name
			return
		}
		pfi, perr := statcache.Stat(parent)
		if perr != nil {
			if errors.Is(perr, fs.ErrNotExist) || errors.Is(perr, syscallENOTDIR) {
				cur = parent
				continue
			}
			res.Filename = name
			return
		}
		if pfi.IsDir() {
			res.Filename = cur
		} else {
			res.Filename, res.Exists = parent, true
		}
		break
	}
	rest := strings.TrimPrefix(name, res.Filename)
	// PATH_INFO keeps the URL's own trailing slash.
	if strings.HasSuffix(res.URLPath, "/") && !strings.HasSuffix(rest, "/") && rest != "" {
		rest += "/"
	}
	if rest != "" && strings.HasSuffix(res.URLPath, rest) {
		res.PathInfo = rest
	} else if rest != "" {
		res.PathInfo = rest
	}
}

var syscallENOTDIR = syscall.ENOTDIR

// cleanFS cleans a file system path but keeps a trailing slash off.
func cleanFS(p string) string {
	c := filepath.Clean(p)
	return c
}

// splitInto appends the sep-separated parts of s to dst, as
// strings.Split does, without allocating while dst has room.
func splitInto(dst []string, s string, sep byte) []string {
	for {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// effective merges the sections that apply, in Apache's order:
// <Directory> by depth, then regex directories, then <Files> (top-level,
// then nested in matched directories), then <Location>.
func (rt *Router) effective(res *Result) *Effective {
	// Stack space for the usual handful of sections: this runs for
	// every request, and the merged result is almost always cached.
	var keyBuf [64]byte
	var appliedBuf [8]*config.Section
	var compBuf [16]string
	key, applied := keyBuf[:0], appliedBuf[:0]

	dir := res.Filename
	if !res.IsDir {
		dir = filepath.Dir(dir)
	}
	dir = strings.TrimRight(dir, "/")
	var comps []string
	if dir != "" {
		comps = splitInto(compBuf[:0], strings.TrimPrefix(dir, "/"), '/')
	}
	var nested []*config.Section
	for i, d := range rt.dirs {
		if d.matches(comps) {
			key = strconv.AppendInt(append(key, 'd'), int64(i), 10)
			applied = append(applied, d.sec)
			nested = append(nested, d.sec.Nested...)
		}
	}
	for i, s := range rt.dirRegex {
		if s.Regex.MatchString(dir + "/") {
			key = strconv.AppendInt(append(key, 'r'), int64(i), 10)
			applied = append(applied, s)
			nested = append(nested, s.Nested...)
		}
	}
	base := filepath.Base(res.Filename)
	for i, s := range rt.files {
		if filesMatch(s, base) {
			key = strconv.AppendInt(append(key, 'f'), int64(i), 10)
			applied = append(applied, s)
		}
	}
	for _, s := range nested {
		if filesMatch(s, base) {
			key = append(key, 'n')
			key = append(key, s.Pos...)
			applied = append(applied, s)
		}
	}
	for i, s := range rt.locs {
		var ok bool
		if s.Regex != nil {
			ok = s.Regex.MatchString(res.URLPath)
		} else {
			ok = locationMatches(s.Pattern, res.URLPath)
		}
		if ok {
			key = strconv.AppendInt(append(key, 'l'), int64(i), 10)
			applied = append(applied, s)
		}
	}

	rt.mu.RLock()
	e, ok := rt.cache[string(key)]
	rt.mu.RUnlock()
	if ok {
		return e
	}
	merged := rt.base
	for _, s := range applied {
		merged = config.MergeDir(merged, s.Dir)
	}
	e = &Effective{Dir: merged, Options: ResolveOptions(merged.Options)}
	if rt.Compile != nil {
		if ce, err := rt.Compile(merged); err != nil {
			e.Err = err
		} else if ce != nil {
			e.Derived = ce.Derived
		}
	}
	rt.mu.Lock()
	if len(rt.cache) < 4096 {
		rt.cache[string(key)] = e
	}
	rt.mu.Unlock()
	return e
}

func filesMatch(s *config.Section, base string) bool {
	if s.Regex != nil {
		return s.Regex.MatchString(base)
	}
	if hasWildcard(s.Pattern) {
		return fnmatch(s.Pattern, base)
	}
	return s.Pattern == base
}

// ResolveOptions turns a merged Options setting into the flag set that
// applies. Unset means Apache 2.4's default, FollowSymLinks.
func ResolveOptions(o *config.Options) config.Opt {
	if o == nil {
		return config.OptFollowSymLinks
	}
	if o.Replace {
		return (o.Set | o.Add) &^ o.Remove
	}
	return (config.OptFollowSymLinks | o.Add) &^ o.Remove
}

// handlerFor picks the handler: SetHandler, else AddHandler by file
// extension (every extension counts, the last match wins, as mod_mime),
// with WSGIScriptAlias forcing wsgi-script.
func handlerFor(d *config.PerDir, filename string, m *config.Map) string {
	if m != nil && m.Kind == config.MapWSGI {
		return "wsgi-script"
	}
	if m != nil && m.Kind == config.MapScript {
		return "cgi-script"
	}
	if d.Handler != nil {
		h := *d.Handler
		if strings.EqualFold(h, "none") {
			return ""
		}
		return h
	}
	if len(d.AddHandlers) == 0 {
		return ""
	}
	base := filepath.Base(filename)
	parts := strings.Split(base, ".")
	h := ""
	removed := map[string]bool{}
	for _, r := range d.RemoveHandlers {
		removed[strings.ToLower(strings.TrimPrefix(r, "."))] = true
	}
	for _, ext := range parts[1:] {
		ext = strings.ToLower(ext)
		if removed[ext] {
			continue
		}
		if v, ok := d.AddHandlers[ext]; ok {
			h = v
		} else if v, ok := d.AddHandlers["."+ext]; ok {
			h = v
		}
	}
	return h
}

// Base returns the host-level per-directory settings (before sections).
func (rt *Router) Base() *config.PerDir { return rt.base }

// EarlyRequestHeaders returns the "RequestHeader ... early" actions set at
// server or virtual-host level; they run before the request is mapped.
func (rt *Router) EarlyRequestHeaders() []config.HeaderOp {
	return rt.early
}
