package route

import (
	"errors"
	"strings"
)

// Errors from CleanURLPath, each with the status Apache answers.
var (
	ErrBadPath      = errors.New("route: malformed URL path")         // 400
	ErrEncodedNUL   = errors.New("route: URL path contains NUL")      // 404
	ErrEncodedSlash = errors.New("route: URL path has encoded slash") // 404 (AllowEncodedSlashes Off)
)

// CleanURLPath %-decodes an escaped URL path and resolves "." and ".."
// segments, as httpd does before mapping (ap_unescape_url + ap_getparents):
// a ".." that would climb above "/" is ErrBadPath, an encoded "/" or NUL
// is refused like Apache's default AllowEncodedSlashes Off. Runs of
// slashes are merged (MergeSlashes On, Apache's default).
func CleanURLPath(escaped string) (string, error) {
	if escaped == "" || escaped[0] != '/' {
		if escaped == "*" {
			return "", ErrBadPath
		}
		return "", ErrBadPath
	}
	// Fast path: nothing to decode or resolve.
	simple := true
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' || c == 0 || (c == '/' && i+1 < len(escaped) && (escaped[i+1] == '/' || escaped[i+1] == '.')) {
			simple = false
			break
		}
	}
	if simple {
		return escaped, nil
	}
	var b strings.Builder
	b.Grow(len(escaped))
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' {
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return "", ErrBadPath
			}
			c = unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			i += 2
			if c == '/' {
				return "", ErrEncodedSlash
			}
		}
		if c == 0 {
			return "", ErrEncodedNUL
		}
		b.WriteByte(c)
	}
	return resolveDots(b.String())
}

// resolveDots merges slashes and removes "." and ".." segments.
func resolveDots(p string) (string, error) {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		switch s {
		case "":
			if i == len(segs)-1 {
				out = append(out, "")
			}
		case ".":
			if i == len(segs)-1 {
				out = append(out, "")
			}
		case "..":
			if len(out) == 0 {
				return "", ErrBadPath
			}
			if out[len(out)-1] == "" {
				out = out[:len(out)-1]
				if len(out) == 0 {
					return "", ErrBadPath
				}
			}
			out = out[:len(out)-1]
			if i == len(segs)-1 {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/"), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// aliasMatches reports how much of the URL path an Alias prefix matches,
// with mod_alias's rules: runs of slashes in the alias match runs in the
// path, and the alias must end at a segment boundary of the path (so
// "/wsgi" matches "/wsgi" and "/wsgi/x" but not "/wsgix"). It returns the
// length of the matched path prefix, or -1.
func aliasMatches(path, alias string) int {
	i, j := 0, 0
	for j < len(alias) {
		if alias[j] == '/' {
			if i >= len(path) || path[i] != '/' {
				return -1
			}
			for j < len(alias) && alias[j] == '/' {
				j++
			}
			for i < len(path) && path[i] == '/' {
				i++
			}
			continue
		}
		if i >= len(path) || path[i] != alias[j] {
			return -1
		}
		i++
		j++
	}
	// The alias must end on a segment boundary of the path: either the
	// alias ended with '/', or the path ends or continues with '/'.
	if len(alias) > 0 && alias[len(alias)-1] != '/' && i < len(path) && path[i] != '/' {
		return -1
	}
	return i
}
