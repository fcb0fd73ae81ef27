// Package python holds the Python side of wsgid: one standard-library-only
// module that worker processes run, embedded so that the wsgid binary is
// all a deployment needs besides the user's own python3.
package python

import _ "embed"

// Source is wsgid_worker.py, written to a private runtime directory and
// run as "python3 -u wsgid_worker.py" by package worker.
//
//go:embed wsgid_worker.py
var Source []byte
