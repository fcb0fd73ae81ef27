package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeedLayout loads the seed's FreeBSD layout unchanged.
func TestSeedLayout(t *testing.T) {
	root, _ := filepath.Abs("../../examples/seed")
	cfg, errs := Load("/usr/local/etc/apache24/httpd.conf", LoadOptions{Root: root})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(cfg.Listeners) != 1 || cfg.Listeners[0].Addr != ":80" {
		t.Errorf("Listeners = %+v", cfg.Listeners)
	}
	if want := root + "/usr/local/www/apache24/data"; cfg.Main.DocumentRoot != want {
		t.Errorf("DocumentRoot = %q, want %q", cfg.Main.DocumentRoot, want)
	}
	if !cfg.Modules["mod_wsgi"] || !cfg.Modules["mod_alias"] {
		t.Errorf("modules = %v", cfg.Modules)
	}
	if cfg.User != "www" || cfg.Group != "www" {
		t.Errorf("User/Group = %q/%q", cfg.User, cfg.Group)
	}
	var wsgiDir *Section
	for _, s := range cfg.Main.Sections {
		if strings.HasSuffix(s.Pattern, "/www/apache24/wsgi") {
			wsgiDir = s
		}
	}
	if wsgiDir == nil {
		t.Fatal("no <Directory .../wsgi/> section")
	}
	o := wsgiDir.Dir.Options
	if o == nil || !o.Replace || (o.Set|o.Add)&^o.Remove != OptIndexes|OptFollowSymLinks|OptExecCGI {
		t.Errorf("wsgi Options = %+v, want Indexes FollowSymLinks ExecCGI", o)
	}
	if h := wsgiDir.Dir.Handler; h == nil || *h != "wsgi-script" {
		t.Errorf("handler = %v", h)
	}
	var alias *Map
	for _, m := range cfg.Main.Maps {
		if m.Prefix == "/wsgi" {
			alias = m
		}
	}
	if alias == nil || alias.Target != root+"/usr/local/www/apache24/wsgi/" {
		t.Errorf("Alias /wsgi = %+v", alias)
	}
	if len(cfg.Main.CustomLogs) != 1 || cfg.Main.CustomLogs[0].Format != `%h %l %u %t "%r" %>s %b` {
		t.Errorf("CustomLogs = %+v", cfg.Main.CustomLogs)
	}
}

// TestDebianStock loads Debian's apache2.conf as installed.
func TestDebianStock(t *testing.T) {
	if _, err := os.Stat("/etc/apache2/apache2.conf"); err != nil {
		if os.Getenv("WSGID_REQUIRE_ALL") != "" {
			t.Fatal("Debian's apache2 is not installed")
		}
		t.Skip("Debian's apache2 is not installed")
	}
	env := map[string]string{"APACHE_RUN_USER": "www-data", "APACHE_RUN_GROUP": "www-data",
		"APACHE_PID_FILE": "/var/run/apache2/apache2.pid", "APACHE_RUN_DIR": "/var/run/apache2",
		"APACHE_LOCK_DIR": "/var/lock/apache2", "APACHE_LOG_DIR": "/var/log/apache2"}
	cfg, errs := Load("apache2.conf", LoadOptions{ServerRoot: "/etc/apache2", LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(cfg.VirtualHosts) == 0 || cfg.VirtualHosts[0].DocumentRoot != "/var/www/html" {
		t.Errorf("virtual hosts = %+v", cfg.VirtualHosts)
	}
	if cfg.User != "www-data" {
		t.Errorf("User = %q", cfg.User)
	}
	if len(cfg.Warnings) == 0 {
		t.Error("expected warnings for ignored directives (AddLanguage, mpm tuning)")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("Listen 80\nLoadModule wsgi_module x\nWSGIDaemonProcess a processes=2 threads=3\nWSGIScriptAlias / /x.py process-group=a\n")
	f.Add("Listen 80\n<VirtualHost *:80>\nServerName x\n<Directory />\nOptions +Indexes -ExecCGI\nRequire all denied\n</Directory>\n</VirtualHost>\n")
	f.Add("Listen 80\nLoadModule alias_module x\nRedirectMatch 301 ^/(.*) http://x/$1\nAliasMatch (a ]\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.conf")
		os.WriteFile(p, []byte(src), 0o644)
		cfg, errs := Load(p, LoadOptions{ServerRoot: dir, LookupEnv: func(string) (string, bool) { return "", false }})
		if len(errs) == 0 && cfg == nil {
			t.Fatal("no config and no error")
		}
	})
}
