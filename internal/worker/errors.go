package worker

import (
	"errors"
	"net/http"
	"strconv"
)

// Sentinel causes carried by *Error.
var (
	// ErrQueueTimeout: every worker stayed at its depth bound for
	// GroupConfig.QueueTimeout (mod_wsgi's queue-timeout; 503).
	ErrQueueTimeout = errors.New("worker: queue timeout")
	// ErrClosed: the group is shutting down (503).
	ErrClosed = errors.New("worker: group closed")
	// ErrWorkerDied: the process serving the request exited or was
	// killed before it finished the stream (502).
	ErrWorkerDied = errors.New("worker: process died")
	// ErrProtocol: the process broke the protocol and was killed (502).
	ErrProtocol = errors.New("worker: protocol violation")
	// ErrRequestTimeout: the request ran longer than
	// GroupConfig.RequestTimeout (mod_wsgi's request-timeout; 504).
	ErrRequestTimeout = errors.New("worker: request timeout")
	// ErrScriptChanged: the process found the request's script changed
	// before the application saw the request; the group is being
	// replaced and the request should be replayed (503 if it cannot).
	ErrScriptChanged = errors.New("worker: script changed, group restarting")
)

// Error is a dispatch or stream failure with the HTTP status the gateway
// should answer with, so that no caller has to map causes to statuses.
type Error struct {
	Status int    // 502, 503, ...
	Group  string // worker group name
	Pid    int    // worker process, 0 if none was involved
	Cause  string // exit status or detail for the log, never for the client
	Err    error  // one of the ErrXxx sentinels
}

func (e *Error) Error() string {
	s := "group '" + e.Group + "'"
	if e.Pid != 0 {
		s += " pid " + strconv.Itoa(e.Pid)
	}
	s += ": " + e.Err.Error()
	if e.Cause != "" {
		s += ": " + e.Cause
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// StatusOf returns the HTTP status for err: the one an *Error carries,
// else 500.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		return e.Status
	}
	return http.StatusInternalServerError
}
