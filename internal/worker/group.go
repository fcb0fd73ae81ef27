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
	"slices"
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
	// work (the largest single performance factor measured), and more
	// than a batch keep the next batch waiting in its socket while it
	// works. Head-of-line blocking behind slow requests is bounded by
	// stalledLocked rather than by a small depth. Default 64, or
	// Threads+16 for more than 48 threads, so that every thread can
	// have a request.
	MaxDepth int
	// QueueTimeout is how long a request waits for room when every
	// process is at MaxDepth before it fails with 503 (queue-timeout=);
	// default 45s.
	QueueTimeout time.Duration
	// LoadTimeout restarts a process whose application has not loaded
	// successfully that long after the process started (startup-timeout=):
	// for applications that cannot recover from a failed first import
	// in the same process, such as Django's. 0 = never.
	LoadTimeout time.Duration
	// StartupTimeout bounds how long Start waits for processes to report
	// ready; default 30s. A slow process keeps starting in the
	// background.
	StartupTimeout time.Duration
	// ShutdownTimeout is how long Close waits after TypeShutdown before
	// it kills the processes when its context has no deadline
	// (shutdown-timeout=); default 5s.
	ShutdownTimeout time.Duration
	// MaximumRequests recycles a process after it was given that many
	// requests (maximum-requests=), stretched by up to 10% at random per
	// process so that a group does not recycle all at once; 0 = never.
	MaximumRequests int
	// RestartInterval recycles a process after it ran that long
	// (restart-interval=), also stretched by up to 10%; 0 = never.
	RestartInterval time.Duration
	// InactivityTimeout recycles a process that served requests and then
	// had none in flight for that long (inactivity-timeout=), releasing
	// the memory an idle application holds; 0 = never.
	InactivityTimeout time.Duration
	// RequestTimeout answers a request that runs longer with 504, logs
	// the stacks of its process's threads and replaces the process
	// (request-timeout=). Unlike mod_wsgi 5 it is per request, not an
	// average over the process's threads. 0 = no limit.
	RequestTimeout time.Duration
	// DeadlockTimeout kills a process that has not answered a probe
	// (TypePing) for that long (deadlock-timeout=): its Python
	// interpreter is stuck, typically a C extension holding the GIL.
	// 0 = no probing.
	DeadlockTimeout time.Duration
	// EvictionTimeout, when set, bounds how long Close lets the group's
	// processes finish their requests (eviction-timeout=): the graceful
	// window of a graceful restart for this group, shorter than the
	// server's GracefulShutdownTimeout.
	EvictionTimeout time.Duration
	// GracefulTimeout bounds how long a recycled process may take to
	// finish its requests before it is killed (graceful-timeout=);
	// default 15s.
	GracefulTimeout time.Duration
	// MemoryLimit recycles a process whose resident memory exceeds it, in
	// bytes (memory-limit=; Linux); 0 = none.
	MemoryLimit int64
	// CPUTimeLimit recycles a process that has used that much CPU time
	// (cpu-time-limit=; Linux); 0 = none.
	CPUTimeLimit time.Duration
	// VirtualMemoryLimit caps each process's address space in bytes
	// (virtual-memory-limit=, RLIMIT_AS): an allocation past it raises
	// MemoryError in the application. 0 = none.
	VirtualMemoryLimit int64
	// ScriptUser and ScriptGroup ("name" or "#id") must own every script
	// file the group runs (script-user=, script-group=); a script owned
	// by someone else is refused with 403, as mod_wsgi does.
	ScriptUser, ScriptGroup string
	// SendBufferSize and ReceiveBufferSize bound the bytes in flight to
	// and from each process (send-buffer-size=, receive-buffer-size=):
	// the send buffers of wsgid's end and of the process's end of their
	// socket. 0 means room for a window of body (1 MiB).
	SendBufferSize, ReceiveBufferSize int
	// Umask, CPUPriority and StackSize are applied by the process at
	// start (umask=, cpu-priority= as a nice increment, stack-size= for
	// request threads); nil and 0 leave the inherited values.
	Umask       *int
	CPUPriority int
	StackSize   int64
	// Lazy makes Start spawn nothing: the processes start with the
	// first request (which waits for them, up to QueueTimeout). For a
	// group that may never be used, such as the default group of a
	// configuration whose applications all name their own.
	Lazy bool
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
		// Room for every thread, and for a batch or more beyond them.
		c.MaxDepth = max(64, c.Threads+16)
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
	if c.GracefulTimeout <= 0 {
		c.GracefulTimeout = 15 * time.Second
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

	mu        sync.Mutex
	procs     []*proc
	live      []*conn   // connections accepting requests
	retiring  []*conn   // processes being replaced, finishing their requests
	waiters   []*waiter // FIFO of requests waiting for room
	recycled  map[string]int
	timeouts  int
	replayed  int
	deadlocks int
	closing   bool
	started   bool
	pending   bool // Lazy and not yet spawned
	// failure is why the last process start failed while no process was
	// ready; requests then fail at once with 503 instead of queueing.
	failure error

	done chan struct{} // closed when Close begins
	wg   sync.WaitGroup
}

// proc is one process slot: a process, and its successors after
// restarts and recycling. Its fields are guarded by Group.mu.
type proc struct {
	idx      int
	conn     *conn // the current process; nil until the first spawn
	restarts int
	requests uint64
	readyCh  chan struct{} // closed at the first ready or first exit
	first    bool
	// recycle carries a process of this slot to replace gracefully
	// (see Group.recycleLocked); supervise starts its successor.
	recycle chan *conn
}

type waiter struct {
	ch       chan *Stream // cap 1
	client   string
	isolated bool
	timer    *time.Timer // queue-timeout, reused with the waiter
}

// waiters are pooled: under load most requests wait briefly for a slot
// (the depth bound is what keeps a slow request's neighbours few), and a
// waiter with its channel and timer was five allocations each time. Open
// returns one only when nothing refers to it and its channel is empty.
var waiterPool = sync.Pool{New: func() any { return &waiter{ch: make(chan *Stream, 1)} }}

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
		g.procs[i] = &proc{idx: i, readyCh: make(chan struct{}), first: true, recycle: make(chan *conn, 1)}
	}
	if g.cfg.Lazy {
		g.pending = true
		g.mu.Unlock()
		return nil
	}
	g.mu.Unlock()
	return g.spawnAll(ctx)
}

// spawnAll starts every slot's process and its supervisor, and the
// monitor; then it waits as Start documents.
func (g *Group) spawnAll(ctx context.Context) error {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return nil
	}
	g.wg.Add(1) // Close waits for a lazy start in progress
	g.mu.Unlock()
	defer g.wg.Done()
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
	if c := &g.cfg; c.RequestTimeout > 0 || c.InactivityTimeout > 0 || c.RestartInterval > 0 || c.MemoryLimit > 0 || c.CPUTimeLimit > 0 || c.DeadlockTimeout > 0 {
		g.wg.Add(1)
		go g.monitor()
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
	conns := append([]*conn(nil), g.retiring...)
	for _, p := range g.procs {
		if c := p.conn; c != nil {
			g.setStateLocked(c, state.Drain)
			conns = append(conns, c)
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
	if d := g.cfg.EvictionTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d) // the earlier deadline wins
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
		for _, c := range g.retiring {
			c.kill()
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

// ProcessStats describes one process: the current one of a slot, or one
// being retired (recycled) while its successor takes over.
type ProcessStats struct {
	Slot     int
	Pid      int
	State    string
	InFlight int
	Served   uint64 // requests dispatched to this process
	Requests uint64 // dispatched to this slot since the group started
	Restarts int    // processes started in this slot after the first
	Retiring bool
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
	// Recycled counts graceful replacements by reason
	// ("maximum-requests", "request-timeout", ...).
	Recycled        map[string]int
	RequestTimeouts int // requests answered 504 by request-timeout
	Deadlocks       int // processes killed by deadlock-timeout
	Replayed        int // requests replayed after their process died
}

// Stats returns a snapshot.
func (g *Group) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := Stats{Group: g.cfg.Name, Queued: len(g.waiters), RequestTimeouts: g.timeouts, Replayed: g.replayed, Deadlocks: g.deadlocks}
	for reason, n := range g.recycled {
		if s.Recycled == nil {
			s.Recycled = map[string]int{}
		}
		s.Recycled[reason] = n
	}
	add := func(c *conn, ps ProcessStats) {
		if c != nil {
			ps.Pid, ps.State, ps.InFlight, ps.Served, ps.Python, ps.Since = c.pid, c.st.String(), c.inflight, c.served, c.python, c.since
			switch c.st {
			case state.Busy:
				s.Busy++
			case state.Ready:
				s.Idle++
			}
		} else {
			ps.State = state.Exited.String()
		}
		s.Processes = append(s.Processes, ps)
	}
	for _, p := range g.procs {
		add(p.conn, ProcessStats{Slot: p.idx, Requests: p.requests, Restarts: p.restarts})
		s.Restarts += p.restarts
	}
	for _, c := range g.retiring {
		add(c, ProcessStats{Slot: c.p.idx, Retiring: true})
	}
	return s
}

// Open reserves a stream on the least-loaded ready process, preferring
// one with nothing in flight, waiting up to QueueTimeout for room. client
// ("ip:port") tags the log lines the application writes for this request.
// The returned error is an *Error carrying 503 on timeout or shutdown.
func (g *Group) Open(ctx context.Context, client string) (*Stream, error) {
	return g.open(ctx, client, false)
}

// OpenIsolated is Open for replaying a request that was in flight when
// its process died: the stream goes to a process with no other replayed
// request in flight. Replayed requests thus never share a process, so if
// one of them kills its process again, it is the only replayed request
// there, and it alone was in flight in both deaths: the likely cause,
// which the caller must not replay again. Innocent neighbours replayed
// beside it cannot be hit twice by it.
func (g *Group) OpenIsolated(ctx context.Context, client string) (*Stream, error) {
	g.mu.Lock()
	g.replayed++
	g.mu.Unlock()
	return g.open(ctx, client, true)
}

func (g *Group) open(ctx context.Context, client string, isolated bool) (*Stream, error) {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return nil, &Error{Status: 503, Group: g.cfg.Name, Err: ErrClosed}
	}
	if c := g.pickLocked(isolated); c != nil {
		s := c.reserveLocked(client, isolated)
		g.mu.Unlock()
		return s, nil
	}
	if g.pending {
		// A lazy group's first request: start the processes and wait
		// in the queue like any request that found no room.
		g.pending = false
		g.log.Log(errorlog.Info, "wsgi", client, "starting process group '%s' for its first request", g.cfg.Name)
		go g.spawnAll(context.Background())
	}
	if len(g.live) == 0 && g.failure != nil {
		err := g.failure
		g.mu.Unlock()
		return nil, &Error{Status: 503, Group: g.cfg.Name, Err: err}
	}
	w := waiterPool.Get().(*waiter)
	w.client, w.isolated = client, isolated
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()

	if w.timer == nil {
		w.timer = time.NewTimer(g.cfg.QueueTimeout)
	} else {
		w.timer.Reset(g.cfg.QueueTimeout)
	}
	timer := w.timer
	defer func() {
		timer.Stop()
		w.client = ""
		waiterPool.Put(w)
	}()
	var cause error
	select {
	case s := <-w.ch:
		if s == nil {
			// Woken empty-handed: the group is closing, or its processes
			// cannot start (noteFailure); say which.
			g.mu.Lock()
			err := g.failure
			if g.closing || err == nil {
				err = ErrClosed
			}
			g.mu.Unlock()
			return nil, &Error{Status: 503, Group: g.cfg.Name, Err: err}
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
			g.waiters = slices.Delete(g.waiters, i, i+1)
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
// flight below MaxDepth, stopping at the first idle one, and passing over
// a stalled one; for an isolated stream, only one without an isolated
// stream in flight.
func (g *Group) pickLocked(isolated bool) *conn {
	var best *conn
	for _, c := range g.live {
		if (isolated && c.isolated > 0) || c.broken.Load() {
			continue
		}
		if c.inflight == 0 {
			return c
		}
		if c.inflight < g.cfg.MaxDepth && (best == nil || c.inflight < best.inflight) && !g.stalledLocked(c) {
			best = c
		}
	}
	return best
}

// stallAfter is how long a process with a request in flight for each of
// its threads may go without finishing one before dispatch stops adding
// to its queue. A process serving quick requests finishes a batch every
// few milliseconds (16 Flask requests: under 2 ms here); one whose
// threads are all held by slow requests finishes none.
var stallAfter = 100 * time.Millisecond // a variable for the tests

// stalledLocked reports whether c has had at least one request in flight
// per thread for stallAfter and has finished none in that time. Its
// threads are then all busy with slow requests, and a request sent to it
// would wait behind them while another process, or wsgid's queue, could
// serve it sooner. Requests then wait in wsgid's queue, under
// queue-timeout, as they wait in mod_wsgi's listen backlog for a daemon
// thread.
func (g *Group) stalledLocked(c *conn) bool {
	if c.inflight < g.cfg.Threads {
		return false
	}
	if c.done != c.doneSeen {
		c.doneSeen, c.progressAt = c.done, time.Now()
		return false
	}
	return time.Since(c.progressAt) > stallAfter
}

// serveWaitersLocked hands room on c to queued requests, in order, past
// isolated ones that c cannot take.
func (g *Group) serveWaitersLocked(c *conn) {
	kept := g.waiters[:0]
	for i, w := range g.waiters {
		if !c.accepting || c.inflight >= g.cfg.MaxDepth || c.broken.Load() {
			kept = append(kept, g.waiters[i:]...)
			break
		}
		if w.isolated && c.isolated > 0 {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.reserveLocked(w.client, w.isolated)
	}
	clear(g.waiters[len(kept):])
	g.waiters = kept
	if len(g.waiters) == 0 && cap(g.waiters) > 1024 {
		g.waiters = nil // after a surge: let the big array go
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
func (g *Group) setStateLocked(c *conn, e state.Event) {
	n, err := state.Next(c.st, e)
	if err != nil {
		g.log.Log(errorlog.Debug, "wsgi", "", "group '%s' process %d: %v", g.cfg.Name, c.pid, err)
		return
	}
	c.st = n
}

// BodyThreshold returns the largest request body sent inline (see
// GroupConfig.BodyThreshold).
func (g *Group) BodyThreshold() int64 { return g.cfg.BodyThreshold }
