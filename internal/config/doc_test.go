package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the registry")

const docPath = "../../docs/configuration.md"

// TestConfigurationDoc keeps docs/configuration.md in step with the
// registry: every directive wsgid knows is listed with its status.
// Regenerate with: go test ./internal/config -run ConfigurationDoc -update
func TestConfigurationDoc(t *testing.T) {
	want := renderDoc()
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/config -run ConfigurationDoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/configuration.md is out of date with the registry; run go test ./internal/config -run ConfigurationDoc -update")
	}
}

func renderDoc() []byte {
	var b bytes.Buffer
	b.WriteString(`# Configuration reference

wsgid reads Apache httpd 2.4 configuration syntax (Include, Define, <IfModule>, <IfDefine>,
<IfFile>, <IfDirective>, <IfSection>, quoting and continuation lines as httpd does). Every
directive it knows is listed here with how it treats it:

- **supported**: implemented as Apache / mod_wsgi does (see docs/compatibility.md for differences);
- **partial**: implemented in part, the note says what is missing;
- **ignored**: accepted with one warning at start-up, because ignoring it cannot make the server
  more open than the configuration asks;
- **refused**: wsgid does not start, because ignoring it could expose what the configuration
  restricts (or change what the application receives).

A directive not listed is an error, worded as httpd words it: ` + "`Invalid command 'X', perhaps misspelled or defined by a module not included in the server configuration`" + `.
A directive of a module that was not loaded (no LoadModule, not built in) is the same error, as in
httpd. LoadModule of a module wsgid implements enables it (the .so need not exist); of one it does
not implement, a warning. Built in (always loaded): core, http_core, mod_so, mod_log_config,
mod_logio, mod_version, mod_unixd, mod_watchdog.

Contexts: S = server config, V = <VirtualHost>, D = <Directory>/<Location>/<Files> sections.

This file is generated from the registry (internal/config) by
` + "`go test ./internal/config -run ConfigurationDoc -update`" + `; a test fails when it is out of date.
`)
	mod := ""
	for _, d := range Directives() {
		if d.Module != mod {
			mod = d.Module
			fmt.Fprintf(&b, "\n## %s\n\n| directive | context | status | note |\n|---|---|---|---|\n", mod)
		}
		name := d.Name
		if d.Section {
			name = "<" + name + ">"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, ctxString(d.Context), d.Status, strings.ReplaceAll(d.Note, "|", "\\|"))
	}
	b.WriteString(daemonOptionsDoc)
	return b.Bytes()
}

func ctxString(c Context) string {
	var s []string
	if c&CtxServer != 0 {
		s = append(s, "S")
	}
	if c&CtxVhost != 0 {
		s = append(s, "V")
	}
	if c&CtxDir != 0 {
		s = append(s, "D")
	}
	return strings.Join(s, ",")
}

const daemonOptionsDoc = `
## WSGIDaemonProcess options

Every option of mod_wsgi 5 is parsed with mod_wsgi's rules (integers read as C's atoi reads
them, so "10s" is 10; negative values are errors; an unknown option is an error at file:line).

| option | status | note |
|---|---|---|
| processes, threads | supported | threads=0 (service scripts) is refused |
| python-home, python-path, home, user, group, supplementary-groups, lang, locale, display-name | supported | python-home runs <home>/bin/python3, so each group may use its own Python version |
| queue-timeout, startup-timeout, shutdown-timeout | supported | |
| maximum-requests, restart-interval, inactivity-timeout, request-timeout, deadlock-timeout, graceful-timeout, eviction-timeout, connect-timeout, socket-timeout, listen-backlog, memory-limit, virtual-memory-limit, cpu-time-limit, cpu-priority, umask, stack-size, header-buffer-size, response-buffer-size, send-buffer-size, receive-buffer-size, response-socket-timeout, script-user, script-group, server-metrics, python-eggs | parsed | stored in the typed configuration; process management (recycling, timeouts, limits) comes with the process-management work |
| socket-user, chroot, mutex-path, newrelic-*, interrupt-timeout, response-flush-delay, switch-interval | ignored | no named sockets, no chroot, mod_wsgi 6 extras |
`
