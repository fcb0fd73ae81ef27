package mime

import (
	"strings"
	"testing"
)

func TestParseTypesAndLookup(t *testing.T) {
	m, err := ParseTypes(strings.NewReader("# comment\ntext/html html htm\napplication/x-gzip gz tgz # trailing\n\nimage/png PNG\n"), "mime.types")
	if err != nil {
		t.Fatal(err)
	}
	tab := NewTable(m).With(map[string]string{".tgz": "application/x-compressed"})
	tests := map[string]string{
		"/a/index.html":  "text/html",
		"x.HTM":          "text/html",
		"p.png":          "image/png",
		"a.tar.gz":       "application/x-gzip",
		"a.tgz":          "application/x-compressed",
		"README":         "",
		"a.unknown":      "",
		"a.html.unknown": "text/html",
	}
	for name, want := range tests {
		if got := tab.Lookup(name); got != want {
			t.Errorf("Lookup(%q) = %q, want %q", name, got, want)
		}
	}
	if _, err := ParseTypes(strings.NewReader("html text/html\n"), "bad.types"); err == nil || !strings.Contains(err.Error(), "bad.types:1") {
		t.Errorf("bad line error = %v", err)
	}
}

func FuzzParseTypes(f *testing.F) {
	f.Add("text/html html\n# c\nimage/png png\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseTypes(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		tab := NewTable(m)
		for ext := range m {
			if strings.Contains(ext, ".") {
				continue
			}
			if tab.Lookup("x."+ext) == "" {
				t.Fatalf("extension %q parsed but not found", ext)
			}
		}
	})
}
