package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgid/internal/config"
	"wsgid/internal/errorlog"
	"wsgid/internal/listener"
	"wsgid/internal/server"
)

// Bounds on how long requests in flight may run once wsgid is told to
// stop or restart. Graceful stop and graceful restart use the
// configuration's GracefulShutdownTimeout, or gracefulTimeout where
// Apache would wait without end (see gracefulFor).
const (
	stopTimeout     = 10 * time.Second // SIGTERM, SIGINT (-k stop)
	gracefulTimeout = 60 * time.Second // SIGWINCH, SIGUSR1 (-k graceful-stop, -k graceful)
	restartTimeout  = 5 * time.Second  // SIGHUP (-k restart): the old generation's requests
)

// gracefulFor is how long a graceful stop or restart of a generation
// running cfg lets its requests finish.
func gracefulFor(cfg *config.Config) time.Duration {
	if cfg.GracefulShutdownTimeout > 0 {
		return cfg.GracefulShutdownTimeout
	}
	return gracefulTimeout
}

// generation is one loaded configuration at work: its error log, worker
// groups and HTTP servers, on Gates of the process's listening sockets.
// A restart builds the next generation beside the current one, hands the
// sockets to it, and retires the old one once its requests are done, as
// Apache's parent replaces its children.
type generation struct {
	n        int
	cfg      *config.Config
	logOut   io.Writer
	closeLog func()
	log      *errorlog.Logger
	eng      *engine
	srv      *server.Server
	gates    []*listener.Gate
	served   chan error // srv.Serve's result
}

// supervisor runs the generations of one wsgid process.
type supervisor struct {
	stderr io.Writer
	// load reads the configuration again, with the same command line.
	load  func() (*config.Config, []error)
	socks *listener.Set
	cur   *generation
	n     int
	// curLog is cur's error log, for the accept loops' goroutines.
	curLog atomic.Pointer[errorlog.Logger]

	retiring sync.WaitGroup // old generations finishing their requests
	// abort ends every retiring generation's grace when wsgid stops.
	abort       context.Context
	cancelAbort context.CancelFunc
	pidFile     string
}

// run starts everything and blocks until a stop signal. ready, if not
// nil, receives the server once it is listening. A restart serves the
// same configuration again (wsgid serve has no file to re-read).
func run(cfg *config.Config, stderr io.Writer, ready chan<- *server.Server) int {
	return runReloadable(cfg, func() (*config.Config, []error) { return cfg, nil }, stderr, ready)
}

// runReloadable is run with load to re-read the configuration on
// SIGHUP and SIGUSR1.
func runReloadable(cfg *config.Config, load func() (*config.Config, []error), stderr io.Writer, ready chan<- *server.Server) int {
	if p := os.Getenv("WSGID_CPUPROFILE"); p != "" {
		// A development aid for bench/: profile the server until it stops.
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if p := os.Getenv("WSGID_MEMPROFILE"); p != "" {
		// The same for allocations (go tool pprof -sample_index=alloc_space).
		runtime.MemProfileRate = 4096
		defer func() {
			if f, err := os.Create(p); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	s := &supervisor{stderr: stderr, load: load, socks: listener.NewSet()}
	s.abort, s.cancelAbort = context.WithCancel(context.Background())
	defer s.cancelAbort()
	defer s.socks.Close()
	// Signals first, so that one sent as soon as the PidFile exists is
	// not lost.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGWINCH)
	defer signal.Stop(sigs)

	s.socks.OnError = func(addr string, err error) {
		s.curLog.Load().Errorf("accepting on %s: %v", addr, err)
	}
	g, err := s.build(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "wsgid: %v\n", err)
		return 1
	}
	s.cur = g
	s.curLog.Store(g.log)
	// The PidFile names a process that listens, and whose signals wait
	// while the workers start.
	s.writePidFile(cfg.PidFile)
	defer s.removePidFile()
	if err := g.eng.Start(context.Background()); err != nil {
		g.log.Errorf("starting workers: %v", err)
	}
	go g.serve()
	g.log.Log(errorlog.Notice, "mpm_wsgid", "", "wsgid/%s configured -- resuming normal operations", Version)
	for _, a := range g.srv.Addrs() {
		g.log.Log(errorlog.Info, "core", "", "listening on %s", a)
		fmt.Fprintf(stderr, "wsgid: listening on http://%s/\n", a)
	}
	if cfg.ErrorLog != "" {
		fmt.Fprintf(stderr, "wsgid: error log: %s\n", cfg.ErrorLog)
	}
	if ready != nil {
		ready <- g.srv
	}
	for {
		select {
		case err := <-s.cur.served:
			s.cur.served <- err // finish waits for it
			code := 0
			if err != nil {
				s.cur.log.Errorf("%v", err)
				code = 1
			}
			s.stop(stopTimeout)
			return code
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP, syscall.SIGUSR1:
				s.restart(sig == syscall.SIGUSR1)
				continue
			case syscall.SIGWINCH:
				grace := gracefulFor(s.cur.cfg)
				s.cur.log.Log(errorlog.Notice, "mpm_wsgid", "", "caught SIGWINCH, shutting down gracefully (in-flight requests get up to %v)", grace)
				s.stop(grace)
			default:
				s.cur.log.Log(errorlog.Notice, "mpm_wsgid", "", "caught %v, shutting down", sig)
				s.stop(stopTimeout)
			}
			return 0
		}
	}
}

// build makes a generation for cfg: error log, worker groups (not yet
// started), server, and Gates on the listening sockets (reused when an
// address is already open). Nothing serves yet.
func (s *supervisor) build(cfg *config.Config) (*generation, error) {
	s.n++
	g := &generation{n: s.n, cfg: cfg, served: make(chan error, 1)}
	g.logOut, g.closeLog = openErrorLog(cfg, s.stderr)
	g.log = errorlog.New(g.logOut, errorlog.Level(cfg.LogLevel))
	fail := func(err error) (*generation, error) {
		if s.cur == nil {
			g.log.Log(errorlog.Emerg, "core", "", "%v", err)
		}
		g.discard()
		return nil, err
	}
	var err error
	if g.eng, err = newGateway(cfg, g.log); err != nil {
		return fail(err)
	}
	if g.srv, err = server.New(cfg, g.eng, g.log, server.Options{Software: serverSoftware(cfg)}); err != nil {
		return fail(err)
	}
	var lns []net.Listener
	seen := map[string]bool{}
	for _, l := range cfg.Listeners {
		if seen[l.Addr] {
			continue
		}
		seen[l.Addr] = true
		gate, err := s.socks.Open(l.Addr)
		if err != nil {
			return fail(fmt.Errorf("%s: could not bind to address %s: %w", l.Pos, l.Addr, err))
		}
		g.gates = append(g.gates, gate)
		lns = append(lns, gate)
	}
	if len(lns) == 0 {
		return fail(errors.New("no listening sockets available, shutting down"))
	}
	g.srv.UseListeners(lns)
	return g, nil
}

func (g *generation) serve() { g.served <- g.srv.Serve() }

// discard undoes build for a generation that never served.
func (g *generation) discard() {
	ctx := context.Background()
	if g.srv != nil {
		g.srv.Shutdown(ctx)
	}
	for _, gate := range g.gates {
		gate.Close()
	}
	if g.eng != nil {
		g.eng.Close(ctx)
	}
	g.closeLog()
}

// finish stops a serving generation: no more connections, requests in
// flight finish until ctx ends (then they are cut), workers stop, logs
// close.
func (g *generation) finish(ctx context.Context) {
	g.srv.Shutdown(ctx)
	<-g.served
	g.eng.Close(ctx)
	g.log.Log(errorlog.Info, "mpm_wsgid", "", "generation %d finished", g.n)
	g.closeLog()
}

// reopenLogs reopens the error log and the access logs, for logrotate.
func (g *generation) reopenLogs() {
	if r, ok := g.logOut.(interface{ Reopen() error }); ok {
		if err := r.Reopen(); err != nil {
			g.log.Errorf("reopening the error log: %v", err)
		}
	}
	if err := g.srv.ReopenLogs(); err != nil {
		g.log.Errorf("reopening logs: %v", err)
	}
}

// restart re-reads the configuration and, if it loads and its
// generation builds, switches to it. graceful (SIGUSR1) gives the old
// generation's requests gracefulTimeout to finish, a restart (SIGHUP)
// restartTimeout. On any error the current generation keeps serving.
func (s *supervisor) restart(graceful bool) {
	old := s.cur
	what, grace := "SIGHUP received, restarting", restartTimeout
	if graceful {
		what, grace = "SIGUSR1 received, graceful restart", gracefulFor(old.cfg)
	}
	old.reopenLogs()
	old.log.Log(errorlog.Notice, "mpm_wsgid", "", "%s: reading %s", what, old.cfg.File)
	cfg, errs := s.load()
	if len(errs) > 0 {
		for _, err := range errs {
			old.log.Errorf("%v", err)
		}
		old.log.Errorf("configuration not reloaded (%d errors); still serving the previous one", len(errs))
		return
	}
	g, err := s.build(cfg)
	if err != nil {
		old.log.Errorf("configuration not reloaded: %v; still serving the previous one", err)
		return
	}
	if err := g.eng.Start(context.Background()); err != nil {
		g.discard()
		old.log.Errorf("configuration not reloaded: starting workers: %v; still serving the previous one", err)
		return
	}
	for _, w := range cfg.Warnings {
		g.log.Warnf("%s", w)
	}
	s.cur = g
	s.curLog.Store(g.log)
	go g.serve()
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		ctx, cancel := context.WithTimeout(s.abort, grace)
		defer cancel()
		old.finish(ctx)
	}()
	s.writePidFile(cfg.PidFile)
	g.log.Log(errorlog.Notice, "mpm_wsgid", "", "wsgid/%s configured (generation %d) -- resuming normal operations", Version, g.n)
	for _, a := range g.srv.Addrs() {
		g.log.Log(errorlog.Info, "core", "", "listening on %s", a)
	}
}

// stop finishes the current generation and the retiring ones, giving
// requests in flight up to d.
func (s *supervisor) stop(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	defer context.AfterFunc(ctx, s.cancelAbort)()
	s.cur.finish(ctx)
	s.retiring.Wait()
}
