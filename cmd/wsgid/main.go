// Command wsgid serves Python WSGI applications from an Apache httpd +
// mod_wsgi configuration, or from one application file in quick mode.
package main

import (
	"os"
	"runtime"

	"wsgid/internal/app"
)

func main() {
	frontEndProcs()
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// frontEndProcs gives the Go side half of the CPUs it may use (at least
// one) unless GOMAXPROCS says otherwise. wsgid shares the machine with
// its Python workers, and on a small one the cost of a request is mostly
// hand-offs between threads: on 2 cores one Go thread measured 30% less
// CPU per request and 20-40% more requests per second for small replies
// than two (docs/performance.md), at the price of about 10% of the
// throughput of 1 MiB replies, whose copies then share one thread.
func frontEndProcs() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if n := runtime.GOMAXPROCS(0); n > 1 {
		runtime.GOMAXPROCS((n + 1) / 2)
	}
}
