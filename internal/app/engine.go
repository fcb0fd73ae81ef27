package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"wsgid/internal/config"
	"wsgid/internal/errorlog"
	"wsgid/internal/worker"
	"wsgid/internal/wsgi"
)

// DefaultGroup names the worker group that runs applications with no
// WSGIProcessGroup (where mod_wsgi would run them embedded in Apache's
// children).
const defaultGroupName = ""

// engine is the WSGI side of a running server: the worker groups and
// the gateway in front of them.
type engine struct {
	groups  map[string]*worker.Group
	order   []*worker.Group
	gateway *wsgi.Gateway
	runtime string
}

// defaultProcesses sizes the default group for the machine: one process
// per CPU, as gunicorn and uWSGI guides suggest for CPU-bound Python.
func defaultProcesses() int { return max(1, runtime.NumCPU()) }

// defaultThreads is the default group's threads per process; mod_wsgi's
// own guidance is 3–5 for CPU-bound applications.
const defaultThreads = 4

// newGateway builds (but does not start) the worker groups of cfg.
func newGateway(cfg *config.Config, log *errorlog.Logger) (*engine, error) {
	rt, err := worker.NewRuntimeDir()
	if err != nil {
		return nil, fmt.Errorf("creating runtime directory: %w", err)
	}
	e := &engine{groups: map[string]*worker.Group{}, runtime: rt}
	python := ""
	if cfg.Python.Home != "" {
		python = cfg.Python.Home + "/bin/python3"
	}
	if cfg.Python.PythonExecutable != "" {
		python = cfg.Python.PythonExecutable
	}
	imports := map[string][]string{}
	for _, is := range cfg.ImportScripts {
		g := is.ProcessGroup
		if g == "%{GLOBAL}" {
			g = defaultGroupName
		}
		imports[g] = append(imports[g], is.Path)
	}
	level := errorlog.Level(cfg.LogLevel)
	base := worker.GroupConfig{
		Python:         python,
		PythonHome:     cfg.Python.Home,
		PythonPath:     cfg.Python.Path,
		ErrorLogLevel:  level,
		RuntimeDir:     rt,
		RestrictStdin:  cfg.Python.RestrictStdin,
		RestrictStdout: cfg.Python.RestrictStdout,
		Reload:         cfg.Python.ReloadOnChanges,
	}
	if os.Getuid() == 0 {
		base.User, base.Group = cfg.User, cfg.Group
	}
	for _, d := range cfg.Daemons {
		gc := base
		gc.Name = d.Name
		gc.Processes = d.Processes
		gc.Threads = d.Threads
		gc.Multiprocess = d.ProcessesGiven
		gc.Multithread = d.Threads != 1
		gc.RunOnce = d.Threads == 1 && d.MaximumRequests == 1
		if d.PythonHome != "" {
			gc.PythonHome = d.PythonHome
			gc.Python = d.PythonHome + "/bin/python3"
		}
		if len(d.PythonPath) > 0 {
			gc.PythonPath = d.PythonPath
		}
		gc.Home = d.Home
		if d.User != "" {
			gc.User = d.User
		}
		if d.Group != "" {
			gc.Group = d.Group
		}
		gc.SupplementaryGroups = d.SupplementaryGroups
		gc.Lang, gc.Locale = d.Lang, d.Locale
		gc.DisplayName = d.DisplayName
		gc.ImportScripts = imports[d.Name]
		if d.QueueTimeout > 0 {
			gc.QueueTimeout = d.QueueTimeout
		}
		gc.LoadTimeout = d.StartupTimeout
		if d.ShutdownTimeout > 0 {
			gc.ShutdownTimeout = d.ShutdownTimeout
		}
		gc.MaximumRequests = d.MaximumRequests
		gc.RestartInterval = d.RestartInterval
		gc.InactivityTimeout = d.InactivityTimeout
		gc.RequestTimeout = d.RequestTimeout
		gc.GracefulTimeout = d.GracefulTimeout
		gc.EvictionTimeout = d.EvictionTimeout
		gc.DeadlockTimeout = d.DeadlockTimeout
		gc.MemoryLimit = d.MemoryLimit
		gc.CPUTimeLimit = d.CPUTimeLimit
		gc.Umask = d.Umask
		gc.CPUPriority = d.CPUPriority
		gc.StackSize = d.StackSize
		gc.VirtualMemoryLimit = d.VirtualMemoryLimit
		gc.ScriptUser, gc.ScriptGroup = d.ScriptUser, d.ScriptGroup
		gc.SendBufferSize, gc.ReceiveBufferSize = d.SendBufferSize, d.ReceiveBufferSize
		if err := e.add(gc, log); err != nil {
			e.Close(context.Background())
			return nil, err
		}
	}
	dc := base
	dc.Name = defaultGroupName
	dc.Processes = defaultProcesses()
	dc.Threads = defaultThreads
	dc.Multiprocess = dc.Processes > 1
	dc.Multithread = true
	dc.ImportScripts = imports[defaultGroupName]
	// Applications that name no process group run here; when there are
	// none, the group must cost nothing, so it starts with its first
	// request (unless scripts are to be imported at start-up).
	dc.Lazy = len(dc.ImportScripts) == 0
	if err := e.add(dc, log); err != nil {
		e.Close(context.Background())
		return nil, err
	}
	e.gateway = wsgi.New(e.groups, defaultGroupName, log)
	return e, nil
}

func (e *engine) add(gc worker.GroupConfig, log *errorlog.Logger) error {
	g, err := worker.NewGroup(gc, log)
	if err != nil {
		name := gc.Name
		if name == "" {
			name = "(default)"
		}
		return fmt.Errorf("worker group %s: %w", name, err)
	}
	e.groups[gc.Name] = g
	e.order = append(e.order, g)
	return nil
}

// Start starts every group's processes.
func (e *engine) Start(ctx context.Context) error {
	var first error
	for _, g := range e.order {
		if err := g.Start(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close stops every group and removes the runtime directory.
func (e *engine) Close(ctx context.Context) error {
	var first error
	for _, g := range e.order {
		if err := g.Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	if e.runtime != "" {
		os.RemoveAll(e.runtime)
	}
	return first
}

// GroupStats implements server.GroupReporter for server-status.
func (e *engine) GroupStats() []worker.Stats {
	out := make([]worker.Stats, len(e.order))
	for i, g := range e.order {
		out[i] = g.Stats()
	}
	return out
}

// Serve implements server.WSGI.
func (e *engine) Serve(w http.ResponseWriter, r *http.Request, t *wsgi.Target) {
	e.gateway.Serve(w, r, t)
}

// describeGroups is the worker part of -S.
func describeGroups(cfg *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "WSGI process groups:\n")
	fmt.Fprintf(&b, "  (default)  processes=%d threads=%d  (applications without WSGIProcessGroup)\n", defaultProcesses(), defaultThreads)
	for _, d := range cfg.Daemons {
		fmt.Fprintf(&b, "  %s  processes=%d threads=%d%s (%s)\n", d.Name, d.Processes, d.Threads, limits(d), d.Pos)
	}
	b.WriteString("  (live counts: SetHandler server-status)\n")
	return b.String()
}

// limits lists a group's recycling limits and timeouts for -S.
func limits(d *config.DaemonProcess) string {
	var b strings.Builder
	if d.MaximumRequests > 0 {
		fmt.Fprintf(&b, " maximum-requests=%d", d.MaximumRequests)
	}
	for _, l := range []struct {
		name string
		v    time.Duration
	}{{"request-timeout", d.RequestTimeout}, {"restart-interval", d.RestartInterval}, {"inactivity-timeout", d.InactivityTimeout},
		{"queue-timeout", d.QueueTimeout}, {"startup-timeout", d.StartupTimeout}, {"cpu-time-limit", d.CPUTimeLimit}} {
		if l.v > 0 {
			fmt.Fprintf(&b, " %s=%v", l.name, l.v)
		}
	}
	if d.MemoryLimit > 0 {
		fmt.Fprintf(&b, " memory-limit=%dMiB", d.MemoryLimit>>20)
	}
	return b.String()
}
