// Package state is the life cycle of one worker process, as an explicit
// state machine that needs no process and no Python to test:
//
//	starting ──ready──► ready ◄──idle── busy
//	    │                 │ └──acquire──►  │
//	    │                 ▼                ▼
//	    └────────────► draining ─exit─► exited
//	  any live state ──crash / unexpected exit──► crashed
//	  exited, crashed ──spawn──► starting
//
// It mirrors what mod_wsgi's parent process tracks for each daemon
// process (started, accepting, shutting down, dead and to be restarted).
package state

import "fmt"

// State is where a worker process is in its life.
type State uint8

const (
	// Starting: the process was spawned and has not yet said TypeReady.
	Starting State = iota
	// Ready: accepting requests, none in flight.
	Ready
	// Busy: accepting requests, at least one in flight.
	Busy
	// Draining: asked to stop (TypeShutdown); finishing what is in
	// flight, accepting nothing new.
	Draining
	// Exited: the process ended after it was asked to.
	Exited
	// Crashed: the process ended without being asked to, or was killed
	// for breaking the protocol.
	Crashed
)

var names = [...]string{"starting", "ready", "busy", "draining", "exited", "crashed"}

func (s State) String() string {
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Accepts reports whether new requests may be dispatched to a worker in
// state s.
func (s State) Accepts() bool { return s == Ready || s == Busy }

// Live reports whether the process may still be running.
func (s State) Live() bool { return s <= Draining }

// Event is something that happens to a worker.
type Event uint8

const (
	// Spawn: a new process was started in this slot.
	Spawn Event = iota
	// ReadyEv: the process sent TypeReady.
	ReadyEv
	// Acquire: a request was dispatched to it.
	Acquire
	// Idle: its last in-flight request finished.
	Idle
	// Drain: it was asked to stop gracefully.
	Drain
	// Exit: the process ended (cleanly or not; the state decides).
	Exit
	// Crash: the connection broke or the protocol was violated.
	Crash
)

var eventNames = [...]string{"spawn", "ready", "acquire", "idle", "drain", "exit", "crash"}

func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

const invalid = State(255)

// table[state][event] is the next state; invalid marks a transition that
// is a bug in the caller.
var table = [...][7]State{
	//           spawn    ready    acquire  idle      drain     exit     crash
	Starting: {invalid, Ready, invalid, invalid, Draining, Crashed, Crashed},
	Ready:    {invalid, invalid, Busy, Ready, Draining, Crashed, Crashed},
	Busy:     {invalid, invalid, Busy, Ready, Draining, Crashed, Crashed},
	Draining: {invalid, Draining, invalid, Draining, Draining, Exited, Crashed},
	Exited:   {Starting, invalid, invalid, invalid, Exited, Exited, Exited},
	Crashed:  {Starting, invalid, invalid, invalid, Crashed, Crashed, Crashed},
}

// Next returns the state after event e happens in state s, or an error
// naming the impossible transition.
func Next(s State, e Event) (State, error) {
	if int(s) >= len(table) || int(e) >= len(table[0]) {
		return s, fmt.Errorf("worker state: unknown %v or %v", s, e)
	}
	n := table[s][e]
	if n == invalid {
		return s, fmt.Errorf("worker state: %v in state %v", e, s)
	}
	return n, nil
}
