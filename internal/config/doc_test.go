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
| maximum-requests | supported | stretched by up to 10% at random per process (from 10 up), so a group does not recycle all at once; the process stops taking requests at the limit and a successor is started at once |
| restart-interval, inactivity-timeout | supported | the process is replaced gracefully: it serves until its successor is ready, then finishes its requests (restart-interval also stretched by up to 10%); inactivity counts only processes that served a request, as mod_wsgi |
| request-timeout | supported | per request, not mod_wsgi 5's average over threads: the request is answered 504, the stacks of the process's threads are logged, the process takes no new request and is replaced; its other requests may finish |
| graceful-timeout | supported | how long a replaced process may take to finish its requests before it is killed (default 15) |
| deadlock-timeout | supported | wsgid probes each process about once a second (default timeout 300); one whose interpreter cannot answer for the timeout (a C extension holding the GIL) is killed and replaced, its replay-safe requests replayed |
| memory-limit, cpu-time-limit | supported (Linux) | read from /proc every second: a process over the limit is replaced gracefully, losing no request (mod_wsgi sets RLIMIT_DATA, which often has no effect); no effect on other systems |
| virtual-memory-limit | supported | RLIMIT_AS in the process: allocations past it raise MemoryError |
| umask, cpu-priority, stack-size | supported | applied by the process at start (cpu-priority as a nice increment) |
| script-user, script-group | supported | a script file owned by another user or group is refused with 403 and a log line |
| send-buffer-size, receive-buffer-size | supported | bound the bytes in flight to and from each process: the send buffers of wsgid's end and of the process's end of their socket pair (on a Unix stream socket the receiver's buffer bounds nothing); default 1 MiB each, a whole flow-control window, where mod_wsgi leaves the system default (capped by net.core.wmem_max) |
| queue-timeout | supported | a request that waited that long for room is answered 503 with Retry-After (mod_wsgi answers 504); default 45. A request waits for room when every process has 64 requests in flight (threads + 16 with more than 48 threads), or has had a request in flight for each of its threads for 100 ms and finished none (its threads are held by slow requests), as mod_wsgi's wait in the listen backlog for a free daemon thread |
| startup-timeout | supported | a process whose application has not loaded successfully that long after it started is restarted (after finishing its requests), as mod_wsgi does for applications that cannot retry a failed import in the same process |
| shutdown-timeout | supported | how long stopping waits for processes to finish before killing them (default 5) |
| eviction-timeout | supported | bounds how long the group's requests may finish when the server stops or restarts gracefully (-k graceful, SIGUSR1), when shorter than GracefulShutdownTimeout (default 60 s) |
| connect-timeout, socket-timeout, listen-backlog | ignored | workers are reached over private socket pairs: there is no connect, no listener and no per-request socket; request-timeout bounds a request |
| header-buffer-size, response-buffer-size, response-socket-timeout | ignored | headers travel as one bounded frame; response bodies are flow-controlled per request; writes to the client are bounded by Timeout |
| server-metrics, python-eggs | ignored | mod_wsgi.server_metrics() is not provided; eggs are obsolete |
| chroot | refused | ignoring it would expose the whole file system; run wsgid itself in a chroot or container |
| socket-user, mutex-path, newrelic-*, interrupt-timeout, response-flush-delay, switch-interval | ignored | no named sockets or mutexes; mod_wsgi 6 extras |
`
