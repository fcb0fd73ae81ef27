// Package mime maps file names to media types the way mod_mime does: a
// mime.types table (TypesConfig) with AddType overrides per directory.
package mime

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Table maps lower-case extensions (without the dot) to media types.
// A Table is immutable once built, so it is shared freely.
type Table struct {
	m    map[string]string
	base *Table
}

// NewTable returns a table over m (which it keeps; do not modify it).
func NewTable(m map[string]string) *Table { return &Table{m: m} }

// With layers AddType overrides on top of t, as a <Directory>'s AddType
// lines sit on top of TypesConfig.
func (t *Table) With(overrides map[string]string) *Table {
	m := make(map[string]string, len(overrides))
	for k, v := range overrides {
		m[strings.ToLower(strings.TrimPrefix(k, "."))] = v
	}
	return &Table{m: m, base: t}
}

// Lookup returns the media type for a file name, or "" when none is
// known: Apache 2.4 then sends no Content-Type at all. As mod_mime, every
// extension counts ("a.tar.gz" looks at "tar" and "gz") and the last one
// with a type wins.
func (t *Table) Lookup(name string) string {
	base := filepath.Base(name)
	i := strings.IndexByte(base, '.')
	if i < 0 {
		return ""
	}
	typ := ""
	for _, ext := range strings.Split(base[i+1:], ".") {
		if v := t.get(strings.ToLower(ext)); v != "" {
			typ = v
		}
	}
	return typ
}

func (t *Table) get(ext string) string {
	for ; t != nil; t = t.base {
		if v, ok := t.m[ext]; ok {
			return v
		}
	}
	return ""
}

// ParseTypes reads the mime.types format: "type ext1 ext2" per line,
// '#' comments. Errors name the file and line.
func ParseTypes(r io.Reader, name string) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.Contains(f[0], "/") {
			return nil, fmt.Errorf("%s:%d: %q is not a media type", name, n, f[0])
		}
		for _, ext := range f[1:] {
			m[strings.ToLower(ext)] = strings.ToLower(f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, n, err)
	}
	return m, nil
}

// Builtin is the table used without TypesConfig: the common types of
// Apache's mime.types.
func Builtin() *Table { return builtin }

var builtin = NewTable(map[string]string{
	"html": "text/html", "htm": "text/html", "css": "text/css", "js": "application/javascript", "mjs": "application/javascript",
	"json": "application/json", "txt": "text/plain", "text": "text/plain", "conf": "text/plain", "log": "text/plain",
	"csv": "text/csv", "xml": "application/xml", "xsl": "application/xml", "svg": "image/svg+xml", "svgz": "image/svg+xml",
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "jpe": "image/jpeg", "gif": "image/gif", "ico": "image/x-icon",
	"webp": "image/webp", "avif": "image/avif", "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff",
	"pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "tgz": "application/gzip",
	"bz2": "application/x-bzip2", "xz": "application/x-xz", "tar": "application/x-tar", "7z": "application/x-7z-compressed",
	"wasm": "application/wasm", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
	"eot": "application/vnd.ms-fontobject", "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg", "wav": "audio/x-wav",
	"mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "ogv": "video/ogg", "mpeg": "video/mpeg", "mpg": "video/mpeg",
	"avi": "video/x-msvideo", "mov": "video/quicktime", "rss": "application/rss+xml", "atom": "application/atom+xml",
	"rtf": "application/rtf", "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"odt":  "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
	"md": "text/markdown", "ics": "text/calendar", "vcf": "text/vcard", "manifest": "text/cache-manifest",
	"webmanifest": "application/manifest+json", "map": "application/json", "bin": "application/octet-stream",
	"exe": "application/octet-stream", "iso": "application/octet-stream", "dmg": "application/octet-stream",
	"deb": "application/octet-stream", "jar": "application/java-archive", "apk": "application/vnd.android.package-archive",
	"swf": "application/x-shockwave-flash", "xhtml": "application/xhtml+xml", "yaml": "text/yaml", "yml": "text/yaml",
})
