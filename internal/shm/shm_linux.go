package shm

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

func create(size int) ([]byte, *os.File, error) {
	if sysMemfdCreate == 0 {
		return nil, nil, ErrUnsupported
	}
	name := []byte("wsgid-shm\x00")
	const mfdCloexec = 1
	fd, _, errno := syscall.Syscall(sysMemfdCreate, uintptr(unsafe.Pointer(&name[0])), mfdCloexec, 0)
	if errno != 0 {
		return nil, nil, fmt.Errorf("shm: memfd_create: %w", errno)
	}
	f := os.NewFile(fd, "wsgid-shm")
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("shm: %w", err)
	}
	b, err := syscall.Mmap(int(fd), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("shm: mmap: %w", err)
	}
	return b, f, nil
}

func unmap(b []byte) { syscall.Munmap(b) }
