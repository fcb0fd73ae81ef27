//go:build linux && !386 && !arm

package rawsock

import (
	"syscall"
	"unsafe"
)

// The calls retry EINTR themselves, as the net package does.

func read(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e != syscall.EINTR {
			return int(n), e
		}
	}
}

func write(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e != syscall.EINTR {
			return int(n), e
		}
	}
}

// writev writes the first (up to 8) non-empty buffers of bufs.
func writev(fd uintptr, bufs [][]byte) (int, syscall.Errno) {
	var iov [8]syscall.Iovec
	n := 0
	for _, b := range bufs {
		if n == len(iov) {
			break
		}
		if len(b) > 0 {
			iov[n].Base = &b[0]
			iov[n].SetLen(len(b))
			n++
		}
	}
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
		if e != syscall.EINTR {
			return int(r), e
		}
	}
}

func recvmsg(fd uintptr, p, oob []byte) (n, oobn, flags int, errno syscall.Errno) {
	var msg syscall.Msghdr
	var iov syscall.Iovec
	if len(p) > 0 {
		iov.Base = &p[0]
		iov.SetLen(len(p))
		msg.Iov = &iov
		msg.Iovlen = 1
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&msg)), syscall.MSG_CMSG_CLOEXEC)
		if e != syscall.EINTR {
			if e != 0 {
				return 0, 0, 0, e
			}
			return int(r), int(msg.Controllen), int(msg.Flags), 0
		}
	}
}

func sendfile(dst, src uintptr, n int64) (int, syscall.Errno) {
	for {
		r, _, e := syscall.RawSyscall6(syscall.SYS_SENDFILE, dst, src, 0, uintptr(n), 0, 0)
		if e != syscall.EINTR {
			return int(r), e
		}
	}
}
