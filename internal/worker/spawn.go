package worker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/worker/python"
	"wsgid/internal/worker/state"
)

// ScriptName is the worker script's file name inside the runtime dir.
const ScriptName = "wsgid_worker.py"

// NewRuntimeDir creates the private directory the worker script is
// written to, once per server; the caller removes it (os.RemoveAll) at
// exit. It is mode 0700, or 0711 when running as root so that workers
// dropped to another user can reach their own 0700 subdirectory.
func NewRuntimeDir() (string, error) {
	dir, err := os.MkdirTemp("", "wsgid-")
	if err != nil {
		return "", fmt.Errorf("creating runtime dir: %w", err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chmod(dir, 0o711); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("creating runtime dir: %w", err)
		}
	}
	return dir, nil
}

// writeScript writes the embedded worker into dir, or into a 0700
// subdirectory owned by the target user when privileges are dropped.
func writeScript(dir string, cred *syscall.Credential) (string, error) {
	if cred != nil {
		dir = filepath.Join(dir, "u"+strconv.FormatUint(uint64(cred.Uid), 10))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("writing worker script: %w", err)
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", fmt.Errorf("writing worker script: %w", err)
		}
	}
	path := filepath.Join(dir, ScriptName)
	if err := os.WriteFile(path, python.Source, 0o600); err != nil {
		return "", fmt.Errorf("writing worker script: %w", err)
	}
	if cred != nil {
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", fmt.Errorf("writing worker script: %w", err)
		}
	}
	return path, nil
}

// spawnSpec is what every spawn of a group shares, computed once.
type spawnSpec struct {
	python string
	env    []string
	dir    string
	cred   *syscall.Credential
}

// workerConfig is the JSON in WSGID_WORKER_CONFIG (docs/protocol.md).
type workerConfig struct {
	Group          string    `json:"group"`
	Threads        int       `json:"threads"`
	Processes      int       `json:"processes"`
	Multiprocess   bool      `json:"multiprocess"`
	Multithread    bool      `json:"multithread"`
	RunOnce        bool      `json:"run_once"`
	PythonPath     []string  `json:"python_path"`
	Home           string    `json:"home"`
	ImportScripts  []string  `json:"import_scripts"`
	Preload        []Preload `json:"preload"`
	Lang           string    `json:"lang"`
	Locale         string    `json:"locale"`
	DisplayName    string    `json:"display_name"`
	RestrictStdin  bool      `json:"restrict_stdin"`
	RestrictStdout bool      `json:"restrict_stdout"`
	ErrorLogLevel  int       `json:"error_log_level"`
	Reload         bool      `json:"reload"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *GroupConfig) spawnSpec() (spawnSpec, error) {
	sp := spawnSpec{python: c.Python, dir: c.Home}
	if os.Geteuid() == 0 && c.User != "" {
		cred, home, err := lookupCredential(c.User, c.Group, c.SupplementaryGroups)
		if err != nil {
			return sp, err
		}
		sp.cred = cred
		if sp.dir == "" {
			// mod_wsgi starts in the user's home; accounts such as
			// nobody have none (/nonexistent), so fall back to "/".
			if fi, err := os.Stat(home); err == nil && fi.IsDir() {
				sp.dir = home
			} else {
				sp.dir = "/"
			}
		}
	}
	wc := workerConfig{
		Group: c.Name, Threads: c.Threads, Processes: c.Processes,
		Multiprocess: c.Multiprocess, Multithread: c.Multithread, RunOnce: c.RunOnce,
		PythonPath: nonNil(c.PythonPath), Home: sp.dir,
		ImportScripts: nonNil(c.ImportScripts), Preload: nonNil(c.Preload),
		Lang: c.Lang, Locale: c.Locale, DisplayName: c.DisplayName,
		RestrictStdin: c.RestrictStdin, RestrictStdout: c.RestrictStdout,
		ErrorLogLevel: int(c.ErrorLogLevel),
		Reload:        c.Reload,
	}
	js, err := json.Marshal(&wc)
	if err != nil {
		return sp, fmt.Errorf("encoding worker config: %w", err)
	}
	base := c.Env
	if base == nil {
		base = os.Environ()
	}
	drop := map[string]bool{"WSGID_WORKER_CONFIG": true, "PYTHONUNBUFFERED": true}
	if c.Lang != "" {
		drop["LANG"] = true
	}
	if c.Locale != "" {
		drop["LC_ALL"] = true
	}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			sp.env = append(sp.env, kv)
		}
	}
	if c.Lang != "" {
		sp.env = append(sp.env, "LANG="+c.Lang)
	}
	if c.Locale != "" {
		sp.env = append(sp.env, "LC_ALL="+c.Locale)
	}
	sp.env = append(sp.env, "PYTHONUNBUFFERED=1", "WSGID_WORKER_CONFIG="+string(js))
	return sp, nil
}

// lookupCredential resolves user=, group= and supplementary-groups= the
// way mod_wsgi does ("name" or "#id"), refusing uid 0.
func lookupCredential(userName, groupName string, supp []string) (*syscall.Credential, string, error) {
	var u *user.User
	var err error
	if id, ok := strings.CutPrefix(userName, "#"); ok {
		u, err = user.LookupId(id)
		if err != nil {
			// A bare numeric id need not exist in the passwd file.
			if _, perr := strconv.ParseUint(id, 10, 32); perr == nil {
				u, err = &user.User{Uid: id, Gid: id}, nil
			}
		}
	} else {
		u, err = user.Lookup(userName)
	}
	if err != nil {
		return nil, "", fmt.Errorf("user %q: %w", userName, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, "", fmt.Errorf("user %q: uid %q: %w", userName, u.Uid, err)
	}
	if uid == 0 {
		return nil, "", errors.New("WSGI process blocked from running as root")
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, "", fmt.Errorf("user %q: gid %q: %w", userName, u.Gid, err)
	}
	if groupName != "" {
		if gid, err = lookupGID(groupName); err != nil {
			return nil, "", err
		}
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if len(supp) > 0 {
		for _, name := range supp {
			g, err := lookupGID(name)
			if err != nil {
				return nil, "", err
			}
			cred.Groups = append(cred.Groups, uint32(g))
		}
	} else if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	} else {
		cred.Groups = []uint32{}
	}
	if cred.Groups == nil {
		cred.Groups = []uint32{} // never inherit root's groups
	}
	return cred, u.HomeDir, nil
}

func lookupGID(name string) (uint64, error) {
	if id, ok := strings.CutPrefix(name, "#"); ok {
		gid, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("group %q: %w", name, err)
		}
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("group %q: %w", name, err)
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("group %q: gid %q: %w", name, g.Gid, err)
	}
	return gid, nil
}

// run is one spawned process of a slot.
type run struct {
	cmd      *exec.Cmd
	conn     *conn
	start    time.Time
	waitDone chan struct{}
	waitErr  error
}

func socketpair() (parent, child *os.File, err error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "wsgid-worker"), os.NewFile(uintptr(fds[1]), "wsgid-worker-child"), nil
}

// startProc spawns one process for slot p and starts reading from it.
func (g *Group) startProc(p *proc) (*run, error) {
	parentF, childF, err := socketpair()
	if err != nil {
		return nil, err
	}
	defer childF.Close()
	fc, err := net.FileConn(parentF)
	parentF.Close()
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	uc := fc.(*net.UnixConn)
	pr, pw, err := os.Pipe()
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	cmd := exec.Command(g.spawn.python, "-u", g.script)
	cmd.Env = g.spawn.env
	cmd.Dir = g.spawn.dir
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.ExtraFiles = []*os.File{childF} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: g.spawn.cred}
	setParentDeath(cmd.SysProcAttr)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		uc.Close()
		pr.Close()
		return nil, fmt.Errorf("starting %s: %w", g.spawn.python, err)
	}
	pid := cmd.Process.Pid
	go g.logOutput(pr, pid)
	r := &run{cmd: cmd, start: time.Now(), waitDone: make(chan struct{})}
	c := newConn(g, p, uc, pid)
	r.conn = c
	g.mu.Lock()
	p.conn, p.pid, p.since, p.python = c, pid, r.start, ""
	g.setStateLocked(p, state.Spawn)
	g.mu.Unlock()
	go func() { r.waitErr = cmd.Wait(); close(r.waitDone) }()
	go c.readLoop()
	g.log.Log(errorlog.Debug, "wsgi", "", "wsgid (pid=%d): process '%s' spawned", pid, g.cfg.Name)
	return r, nil
}

// logOutput copies what the process prints to stdout/stderr before (or
// instead of) the worker's own log redirection into the error log, one
// error-level line per line, as mod_wsgi does for sys.stderr.
func (g *Group) logOutput(r io.ReadCloser, pid int) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			g.log.LogPid(errorlog.Error, "wsgi", "", pid, strings.TrimRight(string(line), "\r\n"))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// supervise keeps slot p running until the group closes, restarting a
// process that exits with exponential back-off (100ms doubling to 10s,
// reset once a process stayed up 10s).
func (g *Group) supervise(p *proc, r *run) {
	defer g.wg.Done()
	const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	for {
		if r != nil {
			g.await(p, r)
			if time.Since(r.start) >= maxBackoff {
				backoff = minBackoff
			}
		}
		select {
		case <-g.done:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		g.mu.Lock()
		p.restarts++
		g.mu.Unlock()
		var err error
		if r, err = g.startProc(p); err != nil {
			g.log.Log(errorlog.Error, "wsgi", "", "restarting process of group '%s': %v", g.cfg.Name, err)
			g.noteFailure(err)
			r = nil
		}
	}
}

// await waits until the process of r is gone and its connection fully
// read, then fails the streams still in flight on it.
func (g *Group) await(p *proc, r *run) {
	c := r.conn
	protoErr := false
	select {
	case <-c.readDone:
		if c.readErr != nil && !errors.Is(c.readErr, io.EOF) && !errors.Is(c.readErr, net.ErrClosed) {
			protoErr = true
			g.log.Log(errorlog.Error, "wsgi", "", "wsgid (pid=%d): process '%s' broke the protocol, killing it: %v", c.pid, g.cfg.Name, c.readErr)
			c.kill()
			<-r.waitDone
		} else {
			select {
			case <-r.waitDone:
			case <-time.After(2 * time.Second):
				c.kill()
				<-r.waitDone
			}
		}
	case <-r.waitDone:
		select {
		case <-c.readDone:
		case <-time.After(time.Second):
			// A grandchild holds the socket open; we are done reading.
			c.uc.Close()
			<-c.readDone
		}
	}
	c.uc.Close()
	c.mr.fds.closeAll()
	cause := "unknown"
	if ps := r.cmd.ProcessState; ps != nil {
		cause = ps.String()
	}

	g.mu.Lock()
	wasDraining := p.st == state.Draining
	neverReady := p.st == state.Starting
	g.setStateLocked(p, state.Exit)
	c.accepting = false
	g.removeLiveLocked(c)
	if p.first {
		p.first = false
		close(p.readyCh)
	}
	g.mu.Unlock()

	if neverReady {
		g.noteFailure(fmt.Errorf("process %d of group '%s' exited (%s) before it was ready; see the lines above for the Python error", c.pid, g.cfg.Name, cause))
	}
	sentinel := ErrWorkerDied
	if protoErr {
		sentinel = ErrProtocol
	}
	n := c.fail(&Error{Status: 502, Group: g.cfg.Name, Pid: c.pid, Cause: cause, Err: sentinel})
	if wasDraining && !protoErr && r.cmd.ProcessState != nil && r.cmd.ProcessState.Success() {
		g.log.Log(errorlog.Info, "wsgi", "", "wsgid (pid=%d): process '%s' exited", c.pid, g.cfg.Name)
		return
	}
	g.log.Log(errorlog.Error, "wsgi", "", "wsgid (pid=%d): process '%s' died (%s) with %d requests in flight; restarting it", c.pid, g.cfg.Name, cause, n)
}
