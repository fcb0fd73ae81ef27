package server

import (
	"fmt"
	"html"
	"net/http"
	"sort"
	"strings"
	"time"

	"wsgid/internal/worker"
)

// GroupReporter is implemented by a WSGI engine that can describe its
// worker groups; the server-status handler shows what it reports.
type GroupReporter interface {
	GroupStats() []worker.Stats
}

// serveStatus is mod_status's server-status handler: what the server
// and each worker group are doing. "?auto" gives mod_status's
// machine-readable "Key: value" form; otherwise an HTML page. Who may
// see it is up to the configuration's access rules, as in Apache.
func (s *Server) serveStatus(rw *responseWriter, r *http.Request) {
	var groups []worker.Stats
	if gr, ok := s.gateway.(GroupReporter); ok {
		groups = gr.GroupStats()
	}
	busy, idle := 0, 0
	for _, g := range groups {
		busy += g.Busy
		idle += g.Idle
	}
	uptime := time.Since(s.started).Truncate(time.Second)
	hdr := rw.Header()
	hdr.Set("Cache-Control", "no-store")
	if r.URL.RawQuery == "auto" {
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		var b strings.Builder
		fmt.Fprintf(&b, "ServerVersion: %s\nServerUptimeSeconds: %d\nTotal Accesses: %d\nBusyWorkers: %d\nIdleWorkers: %d\n",
			s.software, int(uptime.Seconds()), s.accesses.Load(), busy, idle)
		for _, g := range groups {
			fmt.Fprintf(&b, "WSGIGroup: %s processes=%d busy=%d idle=%d queued=%d restarts=%d request-timeouts=%d replayed=%d deadlocks=%d recycled=%s\n",
				groupName(g.Group), len(g.Processes), g.Busy, g.Idle, g.Queued, g.Restarts, g.RequestTimeouts, g.Replayed, g.Deadlocks, recycled(g.Recycled))
		}
		rw.Write([]byte(b.String()))
		return
	}
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><title>wsgid status</title></head><body>\n<h1>wsgid status</h1>\n")
	fmt.Fprintf(&b, "<p>%s, up %v, %d requests; %d worker processes busy, %d idle.</p>\n",
		html.EscapeString(s.software), uptime, s.accesses.Load(), busy, idle)
	for _, g := range groups {
		fmt.Fprintf(&b, "<h2>Process group %s</h2>\n<p>%d queued, %d restarts, %d request-timeouts, %d replayed, %d deadlocks; recycled: %s</p>\n",
			html.EscapeString(groupName(g.Group)), g.Queued, g.Restarts, g.RequestTimeouts, g.Replayed, g.Deadlocks, html.EscapeString(recycled(g.Recycled)))
		b.WriteString("<table border=\"1\">\n<tr><th>slot</th><th>pid</th><th>state</th><th>in flight</th><th>served</th><th>up since</th><th>Python</th></tr>\n")
		for _, p := range g.Processes {
			state := p.State
			if p.Retiring {
				state += " (retiring)"
			}
			since := ""
			if !p.Since.IsZero() {
				since = p.Since.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(&b, "<tr><td>%d</td><td>%d</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td></tr>\n",
				p.Slot, p.Pid, state, p.InFlight, p.Served, since, html.EscapeString(p.Python))
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</body></html>\n")
	rw.Write([]byte(b.String()))
}

func groupName(n string) string {
	if n == "" {
		return "(default)"
	}
	return n
}

// recycled renders reason counts as "reason:n,..." in a stable order, or
// "-".
func recycled(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(keys, ",")
}
