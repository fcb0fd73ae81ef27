package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden loads each testdata/golden/*.conf — a configuration, a line
// "----", then the expected result: the typed configuration as JSON, or
// the errors, one per line — and compares. Regenerate with -update.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.conf")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, _ := strings.Cut(string(data), "\n----\n")
			dir := t.TempDir()
			conf := filepath.Join(dir, "httpd.conf")
			os.WriteFile(conf, []byte(input), 0o644)
			cfg, errs := Load(conf, LoadOptions{ServerRoot: "/srv", LookupEnv: func(string) (string, bool) { return "", false }})
			var got string
			if len(errs) > 0 {
				var lines []string
				for _, e := range errs {
					lines = append(lines, strings.ReplaceAll(e.Error(), dir, "TMP"))
				}
				got = strings.Join(lines, "\n") + "\n"
			} else {
				cfg.File = ""
				cfg.Main.ServerName = "HOSTNAME"
				b, err := json.MarshalIndent(cfg, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = strings.ReplaceAll(string(b), dir, "TMP") + "\n"
			}
			if *update {
				os.WriteFile(file, []byte(input+"\n----\n"+got), 0o644)
				return
			}
			if got != want {
				t.Errorf("%s: result differs from the golden file (go test ./internal/config -run Golden -update to accept):\n%s", file, diffLines(want, got))
			}
		})
	}
}

// diffLines shows the first differing lines.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n want: " + a + "\n  got: " + b
		}
	}
	return ""
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(i)) }

func jsonNum(i int) string { b, _ := json.Marshal(i); return string(b) }
