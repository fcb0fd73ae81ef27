// Package errorlog writes the server's error log in Apache httpd's format,
// so that tools and habits built around Apache's error_log keep working:
//
//	[Tue Nov 24 14:18:44.123456 2026] [wsgi:error] [pid 123] [client 127.0.0.1:5555] message
package errorlog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Level orders severities as Apache's LogLevel does: lower is more severe.
type Level int32

const (
	Emerg Level = iota
	Alert
	Crit
	Error
	Warn
	Notice
	Info
	Debug
	Trace
)

var levelNames = [...]string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1"}

func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "trace8"
	}
	return levelNames[l]
}

// ParseLevel reads an Apache LogLevel word (trace1..trace8 map to Trace).
func ParseLevel(s string) (Level, bool) {
	s = strings.ToLower(s)
	if strings.HasPrefix(s, "trace") {
		return Trace, true
	}
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return 0, false
}

// Logger writes error-log lines. It is safe for concurrent use; a nil
// *Logger discards everything, so optional loggers need no checks.
type Logger struct {
	mu    sync.Mutex
	w     io.Writer
	level atomic.Int32
	pid   int
	now   func() time.Time
}

// New returns a Logger writing lines at level and more severe to w.
func New(w io.Writer, level Level) *Logger {
	l := &Logger{w: w, pid: os.Getpid(), now: time.Now}
	l.level.Store(int32(level))
	return l
}

// SetOutput swaps the destination (used when log files are reopened).
func (l *Logger) SetOutput(w io.Writer) {
	l.mu.Lock()
	l.w = w
	l.mu.Unlock()
}

// SetLevel changes the threshold.
func (l *Logger) SetLevel(level Level) { l.level.Store(int32(level)) }

// Enabled reports whether lines at level are written; callers use it to
// skip formatting on hot paths.
func (l *Logger) Enabled(level Level) bool {
	return l != nil && level <= Level(l.level.Load())
}

// Log writes one line. module is the tag before the level ("core",
// "wsgi", "authz_core"); client is "ip:port" or "". A message spanning
// several lines becomes several log lines with the same prefix, as
// mod_wsgi logs tracebacks.
func (l *Logger) Log(level Level, module, client, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	l.write(level, module, client, l.pid, msg)
}

// LogPid is Log for lines on behalf of another process (a worker).
func (l *Logger) LogPid(level Level, module, client string, pid int, msg string) {
	if !l.Enabled(level) {
		return
	}
	l.write(level, module, client, pid, msg)
}

func (l *Logger) write(level Level, module, client string, pid int, msg string) {
	ts := l.now().Format("Mon Jan 02 15:04:05.000000 2006")
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		fmt.Fprintf(&b, "[%s] [%s:%s] [pid %d]", ts, module, level, pid)
		if client != "" {
			b.WriteString(" [client ")
			b.WriteString(client)
			b.WriteString("]")
		}
		b.WriteString(" ")
		b.WriteString(line)
		b.WriteString("\n")
	}
	l.mu.Lock()
	io.WriteString(l.w, b.String())
	l.mu.Unlock()
}

// Errorf, Warnf, Infof and Debugf log server-level ("core") lines.
func (l *Logger) Errorf(format string, args ...any) { l.Log(Error, "core", "", format, args...) }
func (l *Logger) Warnf(format string, args ...any)  { l.Log(Warn, "core", "", format, args...) }
func (l *Logger) Infof(format string, args ...any)  { l.Log(Info, "core", "", format, args...) }
func (l *Logger) Debugf(format string, args ...any) { l.Log(Debug, "core", "", format, args...) }
