//go:build linux && !amd64 && !arm64

package shm

// Other Linux architectures run without the region (bodies go over the
// socket), rather than keep a table of system call numbers untested.
const sysMemfdCreate = 0
