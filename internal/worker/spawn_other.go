//go:build !linux

package worker

import "syscall"

// setParentDeath is a no-op: outside Linux the worker exits when its
// socket reaches EOF, which happens when wsgid dies.
func setParentDeath(*syscall.SysProcAttr) {}
