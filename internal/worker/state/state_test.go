package state

import "testing"

func TestNext(t *testing.T) {
	tests := []struct {
		from State
		ev   Event
		want State
		ok   bool
	}{
		{Starting, ReadyEv, Ready, true},
		{Starting, Acquire, Starting, false},
		{Starting, Exit, Crashed, true}, // died before it was ready
		{Starting, Drain, Draining, true},
		{Ready, Acquire, Busy, true},
		{Ready, Idle, Ready, true},
		{Ready, ReadyEv, Ready, false}, // a second TypeReady is a protocol bug
		{Ready, Exit, Crashed, true},   // unasked exit is a crash
		{Ready, Crash, Crashed, true},
		{Busy, Acquire, Busy, true},
		{Busy, Idle, Ready, true},
		{Busy, Drain, Draining, true},
		{Busy, Exit, Crashed, true},
		{Draining, Acquire, Draining, false}, // nothing new while draining
		{Draining, Idle, Draining, true},
		{Draining, Exit, Exited, true},
		{Draining, Crash, Crashed, true},
		{Exited, Spawn, Starting, true},
		{Exited, Acquire, Exited, false},
		{Crashed, Spawn, Starting, true},
		{Crashed, ReadyEv, Crashed, false},
		{Ready, Spawn, Ready, false},
		{State(42), Spawn, State(42), false},
		{Ready, Event(42), Ready, false},
	}
	for _, tt := range tests {
		got, err := Next(tt.from, tt.ev)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Next(%v, %v) = %v, %v; want %v, ok=%v", tt.from, tt.ev, got, err, tt.want, tt.ok)
		}
	}
}

func TestAcceptsLive(t *testing.T) {
	for s := Starting; s <= Crashed; s++ {
		wantAccepts := s == Ready || s == Busy
		wantLive := s != Exited && s != Crashed
		if s.Accepts() != wantAccepts || s.Live() != wantLive {
			t.Errorf("%v: Accepts=%v Live=%v", s, s.Accepts(), s.Live())
		}
		if s.String() == "" {
			t.Errorf("state %d has no name", s)
		}
	}
}

// TestTableComplete walks every state/event pair: each either moves to a
// known state or is refused, and a refused one leaves the state alone.
func TestTableComplete(t *testing.T) {
	for s := Starting; s <= Crashed; s++ {
		for e := Spawn; e <= Crash; e++ {
			n, err := Next(s, e)
			if err != nil && n != s {
				t.Errorf("refused %v/%v changed state to %v", s, e, n)
			}
			if err == nil && n > Crashed {
				t.Errorf("%v/%v -> unknown %v", s, e, n)
			}
		}
	}
}
