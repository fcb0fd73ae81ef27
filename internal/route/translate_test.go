package route

import (
	"testing"

	"wsgid/internal/config"
)

// TestTranslate: PATH_TRANSLATED's mapping, without the file system.
func TestTranslate(t *testing.T) {
	host := &config.Host{DocumentRoot: "/srv/www", Maps: []*config.Map{
		{Kind: config.MapRedirect, Prefix: "/old", Target: "http://example.com/new", Status: 302},
		{Kind: config.MapAlias, Prefix: "/static/", Target: "/srv/static/"},
		{Kind: config.MapWSGI, Prefix: "/app", Target: "/srv/app.wsgi"},
		{Kind: config.MapWSGI, Prefix: "/mod", Target: "module:pkg.app"},
	}}
	rt := New(host, host, nil)
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/a/b", "/srv/www/a/b", true},
		{"/a/b/", "/srv/www/a/b/", true},
		{"/a/../c%20d", "/srv/www/c d", true},
		{"/static/css/x.css", "/srv/static/css/x.css", true},
		{"/app/x/y", "/srv/app.wsgi/x/y", true},
		{"/old/page", "", false},
		{"/mod/x", "", false},
		{"/a%2fb", "", false},
	}
	for _, tt := range tests {
		got, ok := rt.Translate(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Translate(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
