package worker

import "syscall"

// setParentDeath makes the kernel kill the worker if wsgid dies without
// closing it down (kill -9 of wsgid). Other systems rely on the worker
// exiting at EOF on its socket.
func setParentDeath(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
