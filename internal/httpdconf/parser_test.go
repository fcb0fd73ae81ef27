package httpdconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv is a small Env: a fixed set of known directives, modules loaded
// by LoadModule.
type testEnv struct{ loaded map[string]bool }

func (e *testEnv) LoadModule(d *Directive) error {
	e.loaded[d.Args[0]] = true
	return nil
}
func (e *testEnv) ModuleLoaded(name string) bool {
	return e.loaded[name] || e.loaded[strings.TrimSuffix(strings.TrimPrefix(name, "mod_"), ".c")+"_module"]
}
func (e *testEnv) DirectiveKnown(name string) bool { return strings.EqualFold(name, "Listen") }
func (e *testEnv) SectionKnown(name string) bool   { return strings.EqualFold(name, "Directory") }

// writeTree writes files (path -> content) under a temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// flat renders a tree as "Name arg arg" lines, sections indented.
func flat(ds []*Directive, indent string) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(indent + d.Name)
		for _, a := range d.Args {
			b.WriteString(" [" + a + "]")
		}
		b.WriteString("\n")
		if d.Section {
			b.WriteString(flat(d.Body, indent+"  "))
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
		errs  []string
	}{
		{"quoting", map[string]string{"m.conf": "Alias /wsgi \"/usr/local/www/a b/\"\nLogFormat \"%h \\\"%r\\\"\" common\nX 'single quoted' bare#hash\n"},
			"Alias [/wsgi] [/usr/local/www/a b/]\nLogFormat [%h \"%r\"] [common]\nX [single quoted] [bare#hash]\n", nil},
		{"comments and continuation", map[string]string{"m.conf": "# comment\n  # indented comment\n\nListen \\\n  8080\r\nServerName x\n"},
			"Listen [8080]\nServerName [x]\n", nil},
		{"sections", map[string]string{"m.conf": "<Directory /x>\n  <Files a>\n    Require all denied\n  </files>\n</DIRECTORY>\n"},
			"Directory [/x]\n  Files [a]\n    Require [all] [denied]\n", nil},
		{"unclosed", map[string]string{"m.conf": "<Directory /x>\nRequire all granted\n"}, "", []string{"m.conf:1: <Directory> was not closed."}},
		{"mismatched", map[string]string{"m.conf": "<Location />\n</Directory>\n"}, "", []string{"m.conf:2: Expected </Location> but saw </Directory>"}},
		{"stray close", map[string]string{"m.conf": "</Directory>\n"}, "", []string{"m.conf:1: </Directory> without matching <Directory> section"}},
		{"unterminated quote", map[string]string{"m.conf": "Alias /x \"/y\n"}, "", []string{"m.conf:1: Alias: unterminated \" quote"}},
		{"include wildcard sorted", map[string]string{"m.conf": "Include conf.d/*.conf\n", "conf.d/b.conf": "B\n", "conf.d/a.conf": "A\n", "conf.d/c.txt": "C\n"},
			"A\nB\n", nil},
		{"include wildcard directory", map[string]string{"m.conf": "Include sites/*/*.conf\n", "sites/one/x.conf": "One\n", "sites/two/x.conf": "Two\n"},
			"One\nTwo\n", nil},
		{"include directory", map[string]string{"m.conf": "Include d\n", "d/2": "Two\n", "d/1": "One\n"}, "One\nTwo\n", nil},
		{"include missing", map[string]string{"m.conf": "Include nope.conf\n"}, "", []string{"m.conf:1: Include: could not open configuration file"}},
		{"includeoptional missing", map[string]string{"m.conf": "IncludeOptional nope.conf\nIncludeOptional none/*.conf\nOK\n"}, "OK\n", nil},
		{"include wildcard empty file part", map[string]string{"m.conf": "Include d/*.conf\nOK\n", "d/x.sample": ""}, "OK\n", nil},
		{"include wildcard empty dir part", map[string]string{"m.conf": "Include none*/x.conf\n"}, "", []string{"No matches for the wildcard"}},
		{"include loop", map[string]string{"m.conf": "Include a.conf\n", "a.conf": "Include m.conf\n"}, "", []string{"a.conf:1: Include loop"}},
		{"include in section", map[string]string{"m.conf": "<Directory /x>\nInclude i.conf\n</Directory>\n", "i.conf": "Require all granted\n"},
			"Directory [/x]\n  Require [all] [granted]\n", nil},
		{"define", map[string]string{"m.conf": "Define ROOT /srv\nDefine FLAG\nDocumentRoot ${ROOT}/www\n<IfDefine FLAG>\nYes\n</IfDefine>\nUnDefine FLAG\n<IfDefine !FLAG>\nNo\n</IfDefine>\n"},
			"DocumentRoot [/srv/www]\nYes\nNo\n", nil},
		{"ifmodule", map[string]string{"m.conf": "<IfModule wsgi_module>\nBefore\n</IfModule>\nLoadModule wsgi_module x.so\n<IfModule mod_wsgi.c>\nAfter\n</IfModule>\n<IfModule !alias_module>\nNoAlias\n</IfModule>\n"},
			"LoadModule [wsgi_module] [x.so]\nAfter\nNoAlias\n", nil},
		{"false conditional skips includes", map[string]string{"m.conf": "<IfModule ssl_module>\nInclude missing.conf\nDefine X\n</IfModule>\n<IfDefine X>\nBad\n</IfDefine>\n"}, "", nil},
		{"ifdirective ifsection iffile", map[string]string{"m.conf": "<IfDirective Listen>\nA\n</IfDirective>\n<IfDirective !Nope>\nB\n</IfDirective>\n<IfSection Directory>\nC\n</IfSection>\n<IfFile m.conf>\nD\n</IfFile>\n<IfFile !missing>\nE\n</IfFile>\n"},
			"A\nB\nC\nD\nE\n", nil},
		{"if sections kept", map[string]string{"m.conf": "<If \"true\">\nX\n</If>\n"}, "If [true]\n  X\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			opts := &Options{ServerRoot: dir, Env: &testEnv{loaded: map[string]bool{}}, LookupEnv: func(string) (string, bool) { return "", false }}
			tree, errs := ParseFile("m.conf", opts)
			if len(tt.errs) == 0 && len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			for i, want := range tt.errs {
				if i >= len(errs) {
					t.Fatalf("missing error %q; have %v", want, errs)
				}
				got := strings.ReplaceAll(errs[i].Error(), dir+"/", "")
				if !strings.Contains(got, want) {
					t.Errorf("error %d = %q, want it to contain %q", i, got, want)
				}
			}
			if len(tt.errs) == 0 {
				if got := flat(tree, ""); got != tt.want {
					t.Errorf("tree:\n%s\nwant:\n%s", got, tt.want)
				}
			}
		})
	}
}

func TestPositionsAndWarnings(t *testing.T) {
	dir := writeTree(t, map[string]string{"m.conf": "\n\nListen ${NOPE}\nInclude sub.conf\n", "sub.conf": "\nServerName x\n"})
	opts := &Options{ServerRoot: dir, LookupEnv: func(string) (string, bool) { return "", false }}
	tree, errs := ParseFile("m.conf", opts)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if tree[0].Pos() != filepath.Join(dir, "m.conf")+":3" || tree[1].Pos() != filepath.Join(dir, "sub.conf")+":2" {
		t.Errorf("positions %s, %s", tree[0].Pos(), tree[1].Pos())
	}
	if tree[0].Args[0] != "${NOPE}" || len(opts.Warnings) != 1 || !strings.Contains(opts.Warnings[0], "${NOPE} is not defined") {
		t.Errorf("undefined variable: arg %q warnings %q", tree[0].Args[0], opts.Warnings)
	}
}

func TestRoot(t *testing.T) {
	root := writeTree(t, map[string]string{"etc/app/main.conf": "Include /etc/app/conf.d/*.conf\n", "etc/app/conf.d/x.conf": "X\n"})
	opts := &Options{ServerRoot: "/etc/app", Root: root}
	tree, errs := ParseFile("/etc/app/main.conf", opts)
	if len(errs) > 0 || len(tree) != 1 || tree[0].Name != "X" {
		t.Fatalf("tree %v errs %v", flat(tree, ""), errs)
	}
	if tree[0].File != "/etc/app/conf.d/x.conf" {
		t.Errorf("File = %q, want the configuration's own path", tree[0].File)
	}
	if got := opts.Resolve("logs/x"); got != filepath.Join(root, "etc/app/logs/x") {
		t.Errorf("Resolve = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Listen 80\n<Directory \"/x\">\nOptions +ExecCGI\n</Directory>\n")
	f.Add("<IfModule !x>\nDefine A 1\n</IfModule>\nX ${A} 'q' \"\\\"\" \\\n y\n")
	f.Add("</a>\n<b\n<c>\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "f.conf"), []byte(src), 0o644)
		_, errs := ParseFile("f.conf", &Options{ServerRoot: dir, LookupEnv: func(string) (string, bool) { return "", false }})
		for _, e := range errs {
			if !strings.Contains(e.Error(), "f.conf") {
				t.Fatalf("error without position: %v", e)
			}
		}
	})
}
