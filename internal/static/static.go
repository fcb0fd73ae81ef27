// Package static serves files and directories as Apache's default
// handler, mod_dir and mod_autoindex do: conditional requests, ranges,
// Apache-style ETags, trailing-slash redirects, index files and listings,
// and the FollowSymLinks rules. Files go out with sendfile where the
// connection allows it.
package static

import (
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"wsgid/internal/errorpage"
	"wsgid/internal/mime"
	"wsgid/internal/statcache"
)

// Options are the per-directory settings that shape static serving.
type Options struct {
	Indexes              bool     // Options Indexes: list directories without an index
	FollowSymLinks       bool     // Options FollowSymLinks
	SymLinksIfOwnerMatch bool     // Options SymLinksIfOwnerMatch
	DirectoryIndex       []string // DirectoryIndex; nil = index.html; ["disabled"] = none
	DirectorySlash       bool     // DirectorySlash (default On)
	URLBase              string   // "scheme://host:port" of the DirectorySlash redirect; "" = relative
	IndexIgnore          []string // IndexIgnore patterns
	Types                *mime.Table
	ForceType            string // ForceType
	// Root is the directory the URL was mapped into (DocumentRoot or an
	// Alias target); symbolic links are checked below it.
	Root string
}

// Errors carry the reason for the error log; the status goes to the client.
var (
	ErrSymlink  = errors.New("Symbolic link not allowed or link target not accessible")
	ErrNotFound = errors.New("File does not exist")
	ErrNoAccess = errors.New("Permission denied")
	ErrNoIndex  = errors.New("Cannot serve directory: No matching DirectoryIndex found, and server-generated directory index forbidden by Options directive")
)

// FindIndex returns the first DirectoryIndex entry that exists in dir.
func FindIndex(dir string, opt *Options) (string, bool) {
	idx := opt.DirectoryIndex
	if idx == nil {
		idx = []string{"index.html"}
	}
	if len(idx) == 1 && strings.EqualFold(idx[0], "disabled") {
		return "", false
	}
	for _, name := range idx {
		if strings.Contains(name, "/") {
			continue
		}
		if fi, err := statcache.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			return name, true
		}
	}
	return "", false
}

// Serve answers a request for the file system path name, which the URL
// path urlPath mapped to. When err is not nil nothing was written: the
// caller renders status (≥ 400) with its ErrorDocument and logs err.
// When err is nil the response (possibly a 304 or 416) was written and
// status is what was sent.
func Serve(w http.ResponseWriter, r *http.Request, name, urlPath string, opt *Options) (int, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return http.StatusNotFound, ErrNotFound
	}
	for _, seg := range strings.Split(name, string(filepath.Separator)) {
		if seg == ".." {
			return http.StatusForbidden, ErrNoAccess
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET,POST,OPTIONS,HEAD")
			w.WriteHeader(http.StatusOK)
			return http.StatusOK, nil
		}
		return http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed for a static file", r.Method)
	}
	if err := checkSymlinks(name, opt); err != nil {
		return http.StatusForbidden, fmt.Errorf("%w: %s", err, name)
	}
	fi, err := os.Stat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return http.StatusNotFound, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return http.StatusForbidden, fmt.Errorf("%w: %s", ErrNoAccess, name)
	}
	if fi.IsDir() {
		return serveDir(w, r, name, urlPath, opt)
	}
	if !fi.Mode().IsRegular() {
		return http.StatusForbidden, fmt.Errorf("%w: %s is not a regular file", ErrNoAccess, name)
	}
	f, err := os.Open(name)
	if err != nil {
		return http.StatusForbidden, fmt.Errorf("%w: %s", ErrNoAccess, name)
	}
	defer f.Close()
	h := w.Header()
	ct := opt.ForceType
	if ct == "" && opt.Types != nil {
		ct = opt.Types.Lookup(name)
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	} else {
		// Apache sends no Content-Type for unknown types; keep net/http
		// from sniffing one.
		h["Content-Type"] = nil
	}
	h.Set("ETag", ETag(fi))
	h.Set("Accept-Ranges", "bytes")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(rec, r, "", fi.ModTime(), f)
	return rec.status, nil
}

// ETag is Apache 2.4's default (FileETag MTime Size): size and mtime in
// microseconds, in hex.
func ETag(fi os.FileInfo) string {
	return "\"" + strconv.FormatInt(fi.Size(), 16) + "-" + strconv.FormatInt(fi.ModTime().UnixMicro(), 16) + "\""
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ReadFrom keeps sendfile available through the recorder.
func (s *statusRecorder) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{s.ResponseWriter}, src)
}

// checkSymlinks refuses a path with a symbolic link below opt.Root unless
// FollowSymLinks, or SymLinksIfOwnerMatch with matching owners, allows it.
func checkSymlinks(name string, opt *Options) error {
	if opt.FollowSymLinks {
		return nil
	}
	root := filepath.Clean(opt.Root)
	if opt.Root == "" {
		root = "/"
	}
	rel, err := filepath.Rel(root, name)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil
	}
	cur := root
	for _, seg := range strings.Split(rel, string(filepath.Separator)) {
		if seg == "." || seg == "" {
			continue
		}
		cur = filepath.Join(cur, seg)
		li, err := os.Lstat(cur)
		if err != nil {
			return nil // missing: reported as 404 later
		}
		if li.Mode()&os.ModeSymlink == 0 {
			continue
		}
		if !opt.SymLinksIfOwnerMatch {
			return ErrSymlink
		}
		ti, err := os.Stat(cur)
		if err != nil || owner(li) != owner(ti) {
			return ErrSymlink
		}
	}
	return nil
}

func owner(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Uid)
	}
	return -1
}

// RedirectSlash answers mod_dir's DirectorySlash redirect: 301 to the
// directory's URL with the trailing slash, keeping the query string, so
// that relative links in the index resolve inside the directory. base is
// the scheme, host and port of the absolute Location Apache sends; ""
// gives a relative one.
func RedirectSlash(w http.ResponseWriter, r *http.Request, base, urlPath string) {
	u := base + (&url.URL{Path: urlPath + "/"}).EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	errorpage.Write(w, r, http.StatusMovedPermanently, u)
}

func serveDir(w http.ResponseWriter, r *http.Request, name, urlPath string, opt *Options) (int, error) {
	if !strings.HasSuffix(urlPath, "/") {
		if !opt.DirectorySlash {
			return http.StatusForbidden, fmt.Errorf("%w: %s", ErrNoIndex, name)
		}
		RedirectSlash(w, r, opt.URLBase, urlPath)
		return http.StatusMovedPermanently, nil
	}
	if idx, ok := FindIndex(name, opt); ok {
		return Serve(w, r, filepath.Join(name, idx), urlPath+idx, opt)
	}
	if !opt.Indexes {
		return http.StatusForbidden, fmt.Errorf("%w: %s", ErrNoIndex, name)
	}
	return listing(w, r, name, urlPath, opt)
}

// listing renders a directory like mod_autoindex's default.
func listing(w http.ResponseWriter, r *http.Request, name, urlPath string, opt *Options) (int, error) {
	entries, err := os.ReadDir(name)
	if err != nil {
		return http.StatusForbidden, fmt.Errorf("%w: %s", ErrNoAccess, name)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var b strings.Builder
	title := html.EscapeString(urlPath)
	fmt.Fprintf(&b, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  <title>Index of %s</title>\n </head>\n <body>\n<h1>Index of %s</h1>\n", title, title)
	b.WriteString("<pre>      Name                    Last modified      Size  Description\n<hr>")
	if urlPath != "/" {
		b.WriteString("      <a href=\"../\">Parent Directory</a>                             -   \n")
	}
	for _, e := range entries {
		n := e.Name()
		if ignored(n, opt.IndexIgnore) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		display, href := n, (&url.URL{Path: n}).EscapedPath()
		size := "-"
		if e.IsDir() {
			display += "/"
			href += "/"
		} else {
			size = humanSize(info.Size())
		}
		if strings.HasPrefix(href, "./") || strings.Contains(n, ":") {
			href = "./" + href
		}
		pad := 23 - len(display)
		if pad < 1 {
			pad = 1
		}
		fmt.Fprintf(&b, "      <a href=\"%s\">%s</a>%s %s %5s  \n", html.EscapeString(href), html.EscapeString(display),
			strings.Repeat(" ", pad), info.ModTime().Format("2006-01-02 15:04"), size)
	}
	b.WriteString("<hr></pre>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
	return http.StatusOK, nil
}

func ignored(name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10)
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/1024, 'f', 0, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + "G"
}
