package route

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCleanURLPath(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"/", "/", nil},
		{"/wsgi/sample.py", "/wsgi/sample.py", nil},
		{"/a//b///c", "/a/b/c", nil},
		{"/a/./b", "/a/b", nil},
		{"/a/b/../c", "/a/c", nil},
		{"/a/b/..", "/a/", nil},
		{"/a/.", "/a/", nil},
		{"/..", "", ErrBadPath},
		{"/a/../..", "", ErrBadPath},
		{"/%2e%2e/etc/passwd", "", ErrBadPath},
		{"/a/%2e%2e/%2E%2E/x", "", ErrBadPath},
		{"/a%2fb", "", ErrEncodedSlash},
		{"/a%00b", "", ErrEncodedNUL},
		{"/a%zz", "", ErrBadPath},
		{"/a%2", "", ErrBadPath},
		{"/h%C3%A9llo%20w", "/h\u00e9llo w", nil},
		{"relative", "", ErrBadPath},
		{"", "", ErrBadPath},
	}
	for _, tt := range tests {
		got, err := CleanURLPath(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("CleanURLPath(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestAliasMatches(t *testing.T) {
	tests := []struct {
		path, alias string
		want        int
	}{
		{"/wsgi/sample.py", "/wsgi", 5},
		{"/wsgi", "/wsgi", 5},
		{"/wsgix", "/wsgi", -1},
		{"/wsgi/x", "/wsgi/", 6},
		{"/wsgi", "/wsgi/", -1}, // Apache's trailing-slash rule: "/wsgi/" does not match "/wsgi"
		{"/icons//a.png", "/icons/", 8},
		{"/a", "/", 1},
		{"/", "/", 1},
		{"/other", "/wsgi", -1},
	}
	for _, tt := range tests {
		if got := aliasMatches(tt.path, tt.alias); got != tt.want {
			t.Errorf("aliasMatches(%q, %q) = %d, want %d", tt.path, tt.alias, got, tt.want)
		}
	}
}

func TestLocationMatches(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/private", "/private", true},
		{"/private", "/private/x", true},
		{"/private", "/privateother", true}, // Apache 2.4 documents this
		{"/private/", "/private", false},
		{"/", "/anything", true},
		{"/a/*/c", "/a/b/c", true},
		{"/a/*/c", "/a/b/d/c", false},
	}
	for _, tt := range tests {
		if got := locationMatches(tt.pattern, tt.path); got != tt.want {
			t.Errorf("locationMatches(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func FuzzCleanURLPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/%2e%2e/", "/a%2fb", "//x//y/./z/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CleanURLPath(in)
		if err != nil {
			return
		}
		if out == "" || out[0] != '/' {
			t.Fatalf("CleanURLPath(%q) = %q: not absolute", in, out)
		}
		for _, seg := range splitSegs(out) {
			if seg == ".." || seg == "." {
				t.Fatalf("CleanURLPath(%q) = %q keeps a dot segment", in, out)
			}
		}
		for i := 0; i < len(out); i++ {
			if out[i] == 0 {
				t.Fatalf("CleanURLPath(%q) = %q contains NUL", in, out)
			}
		}
	})
}

func splitSegs(p string) []string {
	var segs []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			segs = append(segs, p[start:i])
			start = i + 1
		}
	}
	return segs
}

func TestSplitInto(t *testing.T) {
	var buf [2]string
	for _, s := range []string{"", "a", "a/b", "a/b/c/d", "/", "a//b/", "usr/local/www/wsgi-scripts"} {
		got := splitInto(buf[:0], s, '/')
		if want := strings.Split(s, "/"); !slices.Equal(got, want) {
			t.Errorf("splitInto(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzSplitInto(f *testing.F) {
	for _, s := range []string{"", "a/b", "//", "usr/local/www"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf [4]string
		if got, want := splitInto(buf[:0], s, '/'), strings.Split(s, "/"); !slices.Equal(got, want) {
			t.Fatalf("splitInto(%q) = %q, want %q", s, got, want)
		}
	})
}
