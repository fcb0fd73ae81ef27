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
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/protocol"
	"wsgid/internal/shm"
	"wsgid/internal/worker/python"
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
	Umask          *int      `json:"umask"`
	CPUPriority    int       `json:"cpu_priority"`
	StackSize      int64     `json:"stack_size"`
	VirtualMemory  int64     `json:"virtual_memory_limit"`
	LoadTimeout    float64   `json:"load_timeout"`
	ScriptUID      *uint64   `json:"script_uid"`
	ScriptGID      *uint64   `json:"script_gid"`
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
		Umask:         c.Umask, CPUPriority: c.CPUPriority, StackSize: c.StackSize,
		VirtualMemory: c.VirtualMemoryLimit,
		LoadTimeout:   c.LoadTimeout.Seconds(),
	}
	if c.ScriptUser != "" {
		uid, err := lookupUID(c.ScriptUser)
		if err != nil {
			return sp, fmt.Errorf("script-user: %w", err)
		}
		wc.ScriptUID = &uid
	}
	if c.ScriptGroup != "" {
		gid, err := lookupGID(c.ScriptGroup)
		if err != nil {
			return sp, fmt.Errorf("script-group: %w", err)
		}
		wc.ScriptGID = &gid
	}
	js, err := json.Marshal(&wc)
	if err != nil {
		return sp, fmt.Errorf("encoding worker config: %w", err)
	}
	base := c.Env
	if base == nil {
		base = os.Environ()
	}
	drop := map[string]bool{"WSGID_WORKER_CONFIG": true, "WSGID_SHM": true, "PYTHONUNBUFFERED": true}
	if c.Lang != "" {
		drop["LANG"] = true
	}
	if c.Locale != "" {
		drop["LC_ALL"] = true
	}
	tunables := ""
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if k == "GLIBC_TUNABLES" {
			tunables = v
			continue
		}
		if !drop[k] {
			sp.env = append(sp.env, kv)
		}
	}
	if t := mallocTunables(tunables); t != "" {
		sp.env = append(sp.env, "GLIBC_TUNABLES="+t)
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

// lookupUID resolves a user name or "#id".
func lookupUID(name string) (uint64, error) {
	id, ok := strings.CutPrefix(name, "#")
	if !ok {
		u, err := user.Lookup(name)
		if err != nil {
			return 0, fmt.Errorf("user %q: %w", name, err)
		}
		id = u.Uid
	}
	uid, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("user %q: %w", name, err)
	}
	return uid, nil
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

// defaultSocketBuffer is each end's send buffer on a worker socket when
// the configuration names none: room for a whole window of body (see
// protocol.DefaultWindow) in the kernel, so that a process writing a
// window-sized reply, or wsgid a window of upload, finishes in one call
// instead of sleeping until the reader drains the system default
// (about 200 KiB). Measured on 1 MiB replies: the worker no longer
// blocks in sendmsg (18% of its profile before). The kernel caps the
// value at net.core.wmem_max.
const defaultSocketBuffer = protocol.DefaultWindow

// socketpair returns the two ends of a worker's socket, close-on-exec.
// toWorker and fromWorker are the send buffers of wsgid's end and the
// worker's end (0: defaultSocketBuffer). On a Unix stream socket only
// the sender's buffer bounds the bytes in flight, so these are what
// send-buffer-size= and receive-buffer-size= size.
func socketpair(toWorker, fromWorker int) (parent, child *os.File, err error) {
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
	for i, n := range [2]int{toWorker, fromWorker} {
		if n <= 0 {
			n = defaultSocketBuffer
		}
		// A failure leaves the system default: slower, not wrong.
		syscall.SetsockoptInt(fds[i], syscall.SOL_SOCKET, syscall.SO_SNDBUF, n)
	}
	return os.NewFile(uintptr(fds[0]), "wsgid-worker"), os.NewFile(uintptr(fds[1]), "wsgid-worker-child"), nil
}

// startProc spawns one process for slot p and starts reading from it.
func (g *Group) startProc(p *proc) (*run, error) {
	parentF, childF, err := socketpair(g.cfg.SendBufferSize, g.cfg.ReceiveBufferSize)
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
	// The region for large bodies, fd 4; without one (no memfd here)
	// bodies go over the socket.
	region, shmF, err := shm.New(shm.DefaultSlots, shm.DefaultSlots)
	if err == nil {
		defer shmF.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, shmF)
		cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)],
			fmt.Sprintf("WSGID_SHM=4,%d,%d,%d", region.Size(), shm.SlotSize, region.WorkerSlots()))
	} else if !errors.Is(err, shm.ErrUnsupported) {
		g.log.Log(errorlog.Debug, "wsgi", "", "wsgid: process '%s' runs without shared memory: %v", g.cfg.Name, err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: g.spawn.cred}
	setParentDeath(cmd.SysProcAttr)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		if region != nil {
			region.Close()
		}
		uc.Close()
		pr.Close()
		return nil, fmt.Errorf("starting %s: %w", g.spawn.python, err)
	}
	pid := cmd.Process.Pid
	go g.logOutput(pr, pid)
	r := &run{cmd: cmd, start: time.Now(), waitDone: make(chan struct{})}
	c := newConn(g, p, uc, pid)
	c.shm = region
	r.conn = c
	g.mu.Lock()
	p.conn = c
	closing := g.closing
	g.mu.Unlock()
	if closing {
		// Started while the group closes (a successor or a restart
		// racing Close): Close did not see it, so tell it here.
		c.sendShutdown()
	}
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

// mallocTunables returns the worker's GLIBC_TUNABLES: the environment's,
// plus malloc thresholds unless it sets them itself.
//
// A worker reading an upload allocates a body piece of up to a megabyte
// (Input.READ_SIZE) and frees it again, many times a second. With glibc's
// defaults such a block is mapped fresh each time, or trimmed off the top
// of the heap when freed, so every piece costs its pages' faults and
// zeroing all over again: half the worker's CPU on a 1 MiB upload. Blocks
// below 2 MiB now come from the heap, and up to 4 MiB of free space stays
// there for the next request (measured: 1,230 -> 625 us of worker CPU per
// 1 MiB upload, +50% uploads per second). Other C libraries ignore it.
func mallocTunables(env string) string {
	if runtime.GOOS != "linux" {
		return env
	}
	t := env
	for _, kv := range []string{"glibc.malloc.mmap_threshold=2097152", "glibc.malloc.trim_threshold=4194304"} {
		name, _, _ := strings.Cut(kv, "=")
		if strings.Contains(env, name+"=") {
			continue // the user's setting wins
		}
		if t != "" {
			t += ":"
		}
		t += kv
	}
	return t
}
