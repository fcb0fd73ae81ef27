package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// controlSignals are what -k sends to the server named by the PidFile,
// as httpd -k and apachectl do.
var controlSignals = map[string]syscall.Signal{
	"stop":          syscall.SIGTERM,  // stop; requests in flight get stopTimeout
	"restart":       syscall.SIGHUP,   // reload; the old generation's requests get restartTimeout
	"graceful":      syscall.SIGUSR1,  // reload; the old generation's requests finish
	"graceful-stop": syscall.SIGWINCH, // stop once requests in flight finish
}

// signalServer is -k stop|restart|graceful|graceful-stop: it signals the
// process whose pid the configuration's PidFile holds.
func signalServer(pidFile, action string, stderr io.Writer) int {
	sig := controlSignals[action]
	if pidFile == "" {
		fmt.Fprintf(stderr, "wsgid: -k %s: the configuration sets no PidFile, so wsgid cannot find the running server\n", action)
		return 1
	}
	pid, err := readPidFile(pidFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "wsgid (no pid file %s) not running\n", pidFile)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "wsgid: -k %s: %v\n", action, err)
		return 1
	case !processAlive(pid):
		fmt.Fprintf(stderr, "wsgid (pid %d?) not running; %s is stale\n", pid, pidFile)
		return 1
	}
	if err := syscall.Kill(pid, sig); err != nil {
		fmt.Fprintf(stderr, "wsgid: -k %s: sending %v to pid %d: %v\n", action, sig, pid, err)
		return 1
	}
	return 0
}

// readPidFile returns the pid a PidFile holds.
func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("PidFile %s: no pid in %q", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// processAlive reports whether pid names a process, even one this user
// may not signal.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// writePidFile writes this process's pid to cfg's PidFile, warning (as
// httpd does) when the file names another live process, and removes the
// previous PidFile when a reload moved it.
func (s *supervisor) writePidFile(path string) {
	if path == s.pidFile {
		return
	}
	s.removePidFile()
	if path == "" {
		return
	}
	log := s.cur.log
	if pid, err := readPidFile(path); err == nil && pid != os.Getpid() && processAlive(pid) {
		log.Warnf("PidFile %s names process %d, which is running (another wsgid with this configuration?); overwriting it", path, pid)
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		log.Warnf("could not write PidFile %s: %v", path, err)
		return
	}
	s.pidFile = path
}

// removePidFile removes the PidFile this process wrote, unless another
// process has written its own pid there since.
func (s *supervisor) removePidFile() {
	if s.pidFile == "" {
		return
	}
	if pid, err := readPidFile(s.pidFile); err == nil && pid == os.Getpid() {
		os.Remove(s.pidFile)
	}
	s.pidFile = ""
}
