// Package app runs wsgid: it reads the command line, loads the
// configuration, builds the servers and worker groups, and handles signals.
package app

import (
	"fmt"
	"io"
)

// Version is wsgid's version, printed by -v and in SERVER_SOFTWARE.
const Version = "0.1.0"

// Main runs wsgid with the given arguments and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "wsgid", Version)
	return 0
}
