// Command wsgid serves Python WSGI applications from an Apache httpd +
// mod_wsgi configuration, or from one application file in quick mode.
package main

import (
	"os"

	"wsgid/internal/app"
)

func main() { os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr)) }
