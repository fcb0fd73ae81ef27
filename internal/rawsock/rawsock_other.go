//go:build !linux || 386 || arm

package rawsock

import "syscall"

// Elsewhere the ordinary system calls serve: the measurements behind this
// package were made on Linux.

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

func read(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, err := syscall.Read(int(fd), p)
		if e := errnoOf(err); e != syscall.EINTR {
			return max(n, 0), e
		}
	}
}

func write(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, err := syscall.Write(int(fd), p)
		if e := errnoOf(err); e != syscall.EINTR {
			return max(n, 0), e
		}
	}
}

// writev writes the first non-empty buffer of bufs: one write(2) each
// is correct, if not as few calls.
func writev(fd uintptr, bufs [][]byte) (int, syscall.Errno) {
	for _, b := range bufs {
		if len(b) > 0 {
			return write(fd, b)
		}
	}
	return 0, 0
}

func recvmsg(fd uintptr, p, oob []byte) (n, oobn, flags int, errno syscall.Errno) {
	for {
		n, oobn, flags, _, err := syscall.Recvmsg(int(fd), p, oob, 0)
		if e := errnoOf(err); e != syscall.EINTR {
			return max(n, 0), oobn, flags, e
		}
	}
}

// sendfile says EOPNOTSUPP, so that SendFile leaves the file to the net
// package, which knows each system's sendfile.
func sendfile(dst, src uintptr, n int64) (int, syscall.Errno) {
	return 0, syscall.EOPNOTSUPP
}
