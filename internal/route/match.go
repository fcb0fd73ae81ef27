package route

import (
	"path"
	"strings"

	"wsgid/internal/config"
)

// hasWildcard reports whether an Apache section pattern uses fnmatch
// wildcards.
func hasWildcard(p string) bool { return strings.ContainsAny(p, "*?[") }

// fnmatch is Apache's apr_fnmatch with FNM_PATHNAME: wildcards do not
// cross "/". A malformed pattern matches nothing.
func fnmatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// dirSection is a non-regex <Directory> pre-split into components so the
// directory walk compares component counts cheaply.
type dirSection struct {
	sec   *config.Section
	comps []string // components of the cleaned pattern; [] for "/"
	wild  bool
}

func newDirSection(s *config.Section) dirSection {
	p := strings.TrimRight(s.Pattern, "/")
	var comps []string
	if p != "" {
		comps = strings.Split(strings.TrimPrefix(p, "/"), "/")
	}
	return dirSection{sec: s, comps: comps, wild: hasWildcard(s.Pattern)}
}

// matches reports whether the section applies to the directory whose
// components are dir: the pattern must equal a leading run of them.
func (d dirSection) matches(dir []string) bool {
	if len(d.comps) > len(dir) {
		return false
	}
	for i, c := range d.comps {
		if d.wild {
			if !fnmatch(c, dir[i]) {
				return false
			}
		} else if c != dir[i] {
			return false
		}
	}
	return true
}

// locationMatches applies a non-regex <Location> to a URL path: a plain
// prefix compare (Apache 2.4: "/private1" also matches "/private1other"),
// or with wildcards an fnmatch of the whole path.
func locationMatches(pattern, urlPath string) bool {
	if hasWildcard(pattern) {
		return fnmatch(pattern, urlPath)
	}
	if pattern == "/" {
		return true
	}
	return aliasPrefix(urlPath, pattern)
}

// aliasPrefix is a prefix compare in which runs of slashes in the pattern
// match runs of slashes in the path.
func aliasPrefix(p, pattern string) bool {
	i, j := 0, 0
	for j < len(pattern) {
		if pattern[j] == '/' {
			if i >= len(p) || p[i] != '/' {
				return false
			}
			for j < len(pattern) && pattern[j] == '/' {
				j++
			}
			for i < len(p) && p[i] == '/' {
				i++
			}
			continue
		}
		if i >= len(p) || p[i] != pattern[j] {
			return false
		}
		i++
		j++
	}
	return true
}
