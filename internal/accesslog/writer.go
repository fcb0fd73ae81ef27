package accesslog

import (
	"bufio"
	"io"
	"os"
	"sync"
	"time"
)

// Writer is an access log destination shared by every host that logs to
// the same file. Lines are buffered and flushed within flushInterval, on
// Reopen and on Close, so logging costs no syscall per request.
type Writer struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	w     io.Writer
	buf   *bufio.Writer
	timer *time.Timer
	owned bool
}

const flushInterval = 500 * time.Millisecond

// Open opens (creating, appending) the log file at path.
func Open(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Writer{path: path, f: f, w: f, buf: bufio.NewWriterSize(f, 64<<10), owned: true}, nil
}

// OpenWriter logs to an already open stream (standard output).
func OpenWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: bufio.NewWriterSize(w, 64<<10)}
}

// Write adds one line (which must end in a newline).
func (l *Writer) Write(line []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(line)
	if l.timer == nil {
		l.timer = time.AfterFunc(flushInterval, l.flushTimer)
	}
	return n, err
}

func (l *Writer) flushTimer() {
	l.mu.Lock()
	l.buf.Flush()
	l.timer = nil
	l.mu.Unlock()
}

// Flush writes buffered lines out.
func (l *Writer) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Flush()
}

// Reopen flushes and reopens the file, after logrotate moved it.
func (l *Writer) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Flush()
	if !l.owned {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	l.f.Close()
	l.f, l.w = f, f
	l.buf.Reset(f)
	return nil
}

// Close flushes and closes the file.
func (l *Writer) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	err := l.buf.Flush()
	if l.owned {
		l.f.Close()
	}
	return err
}
