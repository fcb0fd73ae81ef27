// Package worker runs groups of Python worker processes (mod_wsgi's
// WSGIDaemonProcess) and dispatches requests to them: one socketpair per
// process, several requests in flight on each (bounded by MaxDepth), the
// least-loaded process chosen first, a queue with a deadline when all are
// full, and crash supervision with restart back-off.
//
// The wire format is package protocol; the gateway that turns HTTP into
// streams is package wsgi.
package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/worker/state"
)

// Preload names an application to import when a process starts, before
// it serves requests (mod_wsgi preloads a WSGIScriptAlias target that has
// both process-group= and application-group=).
type Preload struct {
	Script   string `json:"script"`
	Module   string `json:"module"`
	Callable string `json:"callable"`
}

// GroupConfig describes one group of worker processes.
type GroupConfig struct {
	// Name is the group name (WSGIDaemonProcess name); it appears in
	// logs and in mod_wsgi.process_group.
	Name string
	// Processes is the number of processes; default 1 (processes=).
	Processes int
	// Threads is the number of request threads per process; default 15
	// (threads=).
	Threads int
	// Python is the interpreter to run. Default: PythonHome/bin/python3
	// if PythonHome is set, else "python3" looked up on PATH. For a
	// virtual environment, pointing PythonHome at it is enough: its
	// bin/python3 finds its own prefix through pyvenv.cfg, so PYTHONHOME
	// is never set (setting it breaks virtual environments).
	Python string
	// PythonHome is python-home= / WSGIPythonHome.
	PythonHome string
	// PythonPath are directories added with site.addsitedir in the
	// worker (python-path=); PYTHONPATH in the environment is left alone.
	PythonPath []string
	// Home is the working directory (home=); default the user's home
	// directory if User is set, else the server's working directory.
	Home string
	// User and Group are the account to run as (user=, group=), applied
	// only when wsgid runs as root. Group defaults to the user's primary
	// group. Running as root (uid 0) is refused, as mod_wsgi does.
	User, Group string
	// SupplementaryGroups are extra group names or #gids
	// (supplementary-groups=); default the user's groups from the group
	// database.
	SupplementaryGroups []string
	// Lang and Locale set LANG and LC_ALL (lang=, locale=).
	Lang, Locale string
	// DisplayName is the process title (display-name=).
	DisplayName string
	// Env is the process environment before wsgid's additions; nil means
	// wsgid's own environment.
	Env []string
	// ImportScripts are WSGIImportScript files run at process start.
	ImportScripts []string
	// Preload are applications imported at process start.
	Preload []Preload
	// Multiprocess, Multithread and RunOnce are wsgi.multiprocess,
	// wsgi.multithread and wsgi.run_once.
	Multiprocess, Multithread, RunOnce bool
	// Reload makes each process exit (to be restarted) when the file of
	// a module it loaded changes (wsgid serve --reload).
	Reload bool
	// RestrictStdin and RestrictStdout are WSGIRestrictStdin/Stdout.
	RestrictStdin, RestrictStdout bool
	// MaxDepth bounds the requests in flight on one process's
	// connection. Several in flight let a process batch its socket
	// work (the largest single performance factor measured); the bound
	// limits head-of-line blocking. Default 16.
	MaxDepth int
	// QueueTimeout is how long a request waits for room when every
	// process is at MaxDepth before it fails with 503 (queue-timeout=);
	// default 45s.
	QueueTimeout time.Duration
	// StartupTimeout bounds how long Start waits for processes to report
	// ready; default 30s. A slow process keeps starting in the
	// background.
	StartupTimeout time.Duration
	// ShutdownTimeout is how long Close waits after TypeShutdown before
	// it kills the processes when its context has no deadline
	// (shutdown-timeout=); default 5s.
	ShutdownTimeout time.Duration
	// BodyThreshold is the largest request body the gateway reads in
	// full before dispatch and sends inline; larger or chunked bodies
	// are streamed on demand. Default 64 KiB.
	BodyThreshold int64
	// ErrorLogLevel is the level the worker filters its own log lines
	// at; default errorlog.Warn.
	ErrorLogLevel errorlog.Level
	// RuntimeDir is a private directory (0700) holding the worker
	// script, shared by all groups of a server (see NewRuntimeDir); ""
	// makes the group create and remove its own.
	RuntimeDir string
}

func (c *GroupConfig) setDefaults() {
	if c.Processes <= 0 {
		c.Processes = 1
	}
	if c.Threads <= 0 {
		c.Threads = 15
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = 16
	}
	if c.MaxDepth > 0xfffe {
		c.MaxDepth = 0xfffe
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = 45 * time.Second
	}
	if c.StartupTimeout <= 0 {
		c.StartupTimeout = 30 * time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 5 * time.Second
	}
	if c.BodyThreshold <= 0 {
		c.BodyThreshold = 64 << 10
	}
	if c.ErrorLogLevel == 0 {
		c.ErrorLogLevel = errorlog.Warn
	}
	if c.Python == "" {
		if c.PythonHome != "" {
			c.Python = c.PythonHome + "/bin/python3"
		} else {
			c.Python = "python3"
		}
	}
}

// Group is a set of worker processes running one configuration. It is
// safe for concurrent use.
type Group struct {
	cfg    GroupConfig
	log    *errorlog.Logger
	script string // path of wsgid_worker.py
	ownDir string // runtime dir to remove at Close, if the group made it
	spawn  spawnSpec

	mu      sync.Mutex
	procs   []*proc
	live    []*conn   // connections accepting requests
	waiters []*waiter // FIFO of requests waiting for room
	closing bool
	started bool
	// failure is why the last process start failed while no process was
	// ready; requests then fail at once with 503 instead of queueing.
	failure error

	done chan struct{} // closed when Close begins
	wg   sync.WaitGroup
}

// proc is one process slot: a process, and its successors after restarts.
type proc struct {
	idx      int
	st       state.State
	conn     *conn
	pid      int
	python   string
	restarts int
	requests uint64
	since    time.Time
	readyCh  chan struct{} // closed at the first ready or first exit
	first    bool
}

type waiter struct {
	ch     chan *Stream // cap 1
	client string
}

// NewGroup validates cfg, fills its defaults and prepares the runtime
// files; it starts nothing.
func NewGroup(cfg GroupConfig, log *errorlog.Logger) (*Group, error) {
	cfg.setDefaults()
	g := &Group{cfg: cfg, log: log, done: make(chan struct{})}
	sp, err := cfg.spawnSpec()
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", cfg.Name, err)
	}
	g.spawn = sp
	dir := cfg.RuntimeDir
	if dir == "" {
		if dir, err = NewRuntimeDir(); err != nil {
			return nil, fmt.Errorf("group %q: %w", cfg.Name, err)
		}
		g.ownDir = dir
	}
	if g.script, err = writeScript(dir, sp.cred); err != nil {
		if g.ownDir != "" {
			os.RemoveAll(g.ownDir)
		}
		return nil, fmt.Errorf("group %q: %w", cfg.Name, err)
	}
	return g, nil
}

// Config returns the group's configuration with defaults filled in.
func (g *Group) Config() GroupConfig { return g.cfg }

// Name returns the group name.
func (g *Group) Name() string { return g.cfg.Name }

// Start spawns the processes and waits until each has reported ready or
// has exited once, or StartupTimeout or ctx ends. An application that
// fails to import does not fail Start: that is reported per request. Start
// fails only when no process could be started at all (for example the
// interpreter is missing).
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	if g.started || g.closing {
		g.mu.Unlock()
		return fmt.Errorf("group %q: already started", g.cfg.Name)
	}
	g.started = true
	g.procs = make([]*proc, g.cfg.Processes)
	for i := range g.procs {
		g.procs[i] = &proc{idx: i, st: state.Exited, readyCh: make(chan struct{}), first: true}
	}
	g.mu.Unlock()

	var errs []error
	for _, p := range g.procs {
		w, err := g.startProc(p)
		if err != nil {
			errs = append(errs, err)
			g.noteFailure(err)
			w = nil
		}
		g.wg.Add(1)
		go g.supervise(p, w)
	}
	if len(errs) == len(g.procs) {
		return fmt.Errorf("starting group %q: %w", g.cfg.Name, errors.Join(errs...))
	}
	for _, e := range errs {
		g.log.Log(errorlog.Error, "wsgi", "", "starting group '%s': %v", g.cfg.Name, e)
	}
	timer := time.NewTimer(g.cfg.StartupTimeout)
	defer timer.Stop()
	for _, p := range g.procs {
		select {
		case <-p.readyCh:
		case <-timer.C:
			g.log.Log(errorlog.Warn, "wsgi", "", "group '%s': processes not ready after %v; still starting", g.cfg.Name, g.cfg.StartupTimeout)
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	g.mu.Lock()
	ready := len(g.live) > 0
	g.mu.Unlock()
	if !ready {
		g.log.Log(errorlog.Error, "wsgi", "", "group '%s': no process is ready; retrying in the background", g.cfg.Name)
	}
	return nil
}

// Close stops the group gracefully: new requests fail with 503, every
// process gets TypeShutdown and may finish what is in flight until ctx
// ends (or ShutdownTimeout if ctx has no deadline); then the remaining
// processes are killed.
func (g *Group) Close(ctx context.Context) error {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return nil
	}
	g.closing = true
	close(g.done)
	for _, w := range g.waiters {
		w.ch <- nil
	}
	g.waiters = nil
	g.live = nil
	var conns []*conn
	for _, p := range g.procs {
		if p.st.Live() {
			p.st = state.Draining
		}
		if p.conn != nil {
			conns = append(conns, p.conn)
		}
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.sendShutdown()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.cfg.ShutdownTimeout)
		defer cancel()
	}
	finished := make(chan struct{})
	go func() { g.wg.Wait(); close(finished) }()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		g.mu.Lock()
		for _, p := range g.procs {
			if p.conn != nil {
				p.conn.kill()
			}
		}
		g.mu.Unlock()
		<-finished
		err = fmt.Errorf("closing group %q: %w", g.cfg.Name, ctx.Err())
	}
	if g.ownDir != "" {
		os.RemoveAll(g.ownDir)
	}
	return err
}

// Dump asks every process to log the stack of each of its threads
// (mod_wsgi does this on request-timeout; here also on demand).
func (g *Group) Dump() {
	g.mu.Lock()
	conns := append([]*conn(nil), g.live...)
	g.mu.Unlock()
	for _, c := range conns {
		c.sendDump()
	}
}

// ProcessStats describes one process slot.
type ProcessStats struct {
	Pid      int
	State    string
	InFlight int
	Requests uint64 // dispatched to this slot since the group started
	Restarts int
	Python   string // interpreter version the process reported
	Since    time.Time
}

// Stats is a snapshot of a group for status pages and -S.
type Stats struct {
	Group     string
	Processes []ProcessStats
	Busy      int // processes with requests in flight
	Idle      int // ready processes with none
	Queued    int // requests waiting for room
	Restarts  int
}

// Stats returns a snapshot.
func (g *Group) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := Stats{Group: g.cfg.Name, Queued: len(g.waiters)}
	for _, p := range g.procs {
		ps := ProcessStats{Pid: p.pid, State: p.st.String(), Requests: p.requests, Restarts: p.restarts, Python: p.python, Since: p.since}
		if p.conn != nil {
			ps.InFlight = p.conn.inflight
		}
		switch p.st {
		case state.Busy:
			s.Busy++
		case state.Ready:
			s.Idle++
		}
		s.Restarts += p.restarts
		s.Processes = append(s.Processes, ps)
	}
	return s
}

// Open reserves a stream on the least-loaded ready process, preferring
// one with nothing in flight, waiting up to QueueTimeout for room. client
// ("ip:port") tags the log lines the application writes for this request.
// The returned error is an *Error carrying 503 on timeout or shutdown.
func (g *Group) Open(ctx context.Context, client string) (*Stream, error) {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return nil, &Error{Status: 503, Group: g.cfg.Name, Err: ErrClosed}
	}
	if c := g.pickLocked(); c != nil {
		s := c.reserveLocked(client)
		g.mu.Unlock()
		return s, nil
	}
	if len(g.live) == 0 && g.failure != nil {
		err := g.failure
		g.mu.Unlock()
		return nil, &Error{Status: 503, Group: g.cfg.Name, Err: err}
	}
	w := &waiter{ch: make(chan *Stream, 1), client: client}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()

	timer := time.NewTimer(g.cfg.QueueTimeout)
	defer timer.Stop()
	var cause error
	select {
	case s := <-w.ch:
		if s == nil {
			return nil, &Error{Status: 503, Group: g.cfg.Name, Err: ErrClosed}
		}
		return s, nil
	case <-timer.C:
		cause = ErrQueueTimeout
	case <-ctx.Done():
		cause = ctx.Err()
	}
	g.mu.Lock()
	for i, x := range g.waiters {
		if x == w {
			g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
			g.mu.Unlock()
			if cause == ErrQueueTimeout {
				g.log.Log(errorlog.Error, "wsgi", client, "Queue timeout expired for WSGI daemon process '%s'.", g.cfg.Name)
			}
			return nil, &Error{Status: 503, Group: g.cfg.Name, Err: cause}
		}
	}
	g.mu.Unlock()
	// A stream was handed over while we gave up: give it back.
	if s := <-w.ch; s != nil {
		s.Close()
	}
	return nil, &Error{Status: 503, Group: g.cfg.Name, Err: cause}
}

// noteFailure records why processes cannot start, so that requests fail
// fast with 503 (and a log line saying why) rather than hang in the queue.
func (g *Group) noteFailure(err error) {
	g.mu.Lock()
	g.failure = err
	waiters := g.waiters
	if len(g.live) == 0 {
		g.waiters = nil
	} else {
		waiters = nil
	}
	g.mu.Unlock()
	for _, w := range waiters {
		w.ch <- nil
	}
}

// pickLocked returns the accepting connection with the fewest streams in
// flight below MaxDepth, stopping at the first idle one.
func (g *Group) pickLocked() *conn {
	var best *conn
	for _, c := range g.live {
		if c.inflight == 0 {
			return c
		}
		if c.inflight < g.cfg.MaxDepth && (best == nil || c.inflight < best.inflight) {
			best = c
		}
	}
	return best
}

// serveWaitersLocked hands room on c to queued requests.
func (g *Group) serveWaitersLocked(c *conn) {
	for len(g.waiters) > 0 && c.accepting && c.inflight < g.cfg.MaxDepth {
		w := g.waiters[0]
		g.waiters[0] = nil
		g.waiters = g.waiters[1:]
		w.ch <- c.reserveLocked(w.client)
	}
	if len(g.waiters) == 0 {
		g.waiters = nil
	}
}

func (g *Group) removeLiveLocked(c *conn) {
	for i, x := range g.live {
		if x == c {
			g.live = append(g.live[:i], g.live[i+1:]...)
			return
		}
	}
}

// setStateLocked applies a state machine event to a process slot; an
// impossible transition is a bug, logged rather than fatal.
func (g *Group) setStateLocked(p *proc, e state.Event) {
	n, err := state.Next(p.st, e)
	if err != nil {
		g.log.Log(errorlog.Debug, "wsgi", "", "group '%s' process %d: %v", g.cfg.Name, p.pid, err)
		return
	}
	p.st = n
}

// BodyThreshold returns the largest request body sent inline (see
// GroupConfig.BodyThreshold).
func (g *Group) BodyThreshold() int64 { return g.cfg.BodyThreshold }
