package shm

// The syscall package names memfd_create for most Linux architectures,
// but not for amd64.
const sysMemfdCreate = 319
