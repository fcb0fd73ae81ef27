package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"wsgid/internal/protocol"
)

// takerFunc is a func as a ReplyTaker.
type takerFunc func(Event) bool

func (f takerFunc) TakeReply(ev Event) bool { return f(ev) }

// SetDirect's taker gets a whole reply on the reader goroutine, before
// Next could return it; Next then returns the Direct event in its place,
// or the reply itself when the function declines. It never gets a reply
// that comes in pieces, nor one that arrives after Next has given up; and
// while it runs, Next waits for it even when the context ends.
func TestDirect(t *testing.T) {
	g, _ := fakeGroup(t, nil)
	tests := []struct {
		name, path, query string
		handle            bool          // what the function returns
		hold              time.Duration // the function blocks this long
		cancelAfter       time.Duration // the context ends this soon (0: never)
		nextAfter         time.Duration // Next is first called this late
		wantCalls         int64
		wantDirect        bool
		wantErr           bool
	}{
		{name: "whole reply taken", path: "/hello", handle: true, wantCalls: 1, wantDirect: true},
		{name: "whole reply declined", path: "/hello", handle: false, wantCalls: 1},
		{name: "generator's reply (headers, then an empty end)", path: "/gen", handle: true, wantCalls: 1, wantDirect: true,
			nextAfter: 100 * time.Millisecond}, // (so Next cannot take the headers first)
		{name: "generator's reply declined", path: "/gen", handle: false, wantCalls: 1,
			nextAfter: 100 * time.Millisecond},
		{name: "reply in pieces", path: "/big", query: "200000", handle: true, wantCalls: 0},
		{name: "context ends while it runs", path: "/hello", handle: true, hold: 300 * time.Millisecond,
			cancelAfter: 50 * time.Millisecond, wantCalls: 1, wantDirect: true},
		{name: "reply after Next gave up", path: "/sleep", query: "300", handle: true,
			cancelAfter: 50 * time.Millisecond, wantCalls: 0, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, s := openStream(t, g, "test")
			var calls atomic.Int64
			var fnDone atomic.Bool
			s.SetDirect(takerFunc(func(ev Event) bool {
				calls.Add(1)
				if ev.Type != protocol.TypeHeaders || !ev.End || string(ev.Data) != "hello" {
					t.Errorf("direct got type %#x end %v data %q", ev.Type, ev.End, ev.Data)
				}
				time.Sleep(tt.hold)
				fnDone.Store(true)
				if tt.handle {
					ev.Release()
				}
				return tt.handle
			}))
			if err := send(s, tt.path, tt.query, nil, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tt.nextAfter)
			nctx := ctx
			if tt.cancelAfter > 0 {
				var c context.CancelFunc
				nctx, c = context.WithTimeout(ctx, tt.cancelAfter)
				defer c()
			}
			var body []byte
			var direct bool
			for {
				ev, err := s.Next(nctx)
				if err != nil {
					if !tt.wantErr {
						t.Fatalf("Next: %v", err)
					}
					time.Sleep(500 * time.Millisecond) // the late reply arrives meanwhile
					break
				}
				if calls.Load() > 0 && !fnDone.Load() {
					t.Fatal("Next returned while the taker ran")
				}
				body = append(body, ev.Data...)
				direct = direct || ev.Direct
				ev.Release()
				if ev.End {
					break
				}
				s.Window(len(ev.Data))
			}
			if tt.wantErr {
				if calls.Load() != 0 {
					t.Fatal("the taker ran after Next had given up")
				}
				return
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("taker called %d times, want %d", n, tt.wantCalls)
			}
			if direct != tt.wantDirect {
				t.Errorf("Direct event = %v, want %v", direct, tt.wantDirect)
			}
			switch {
			case tt.wantDirect && len(body) != 0:
				t.Errorf("Next returned the taken reply's bytes too: %q", body)
			case !tt.wantDirect && (tt.path == "/hello" || tt.path == "/gen") && string(body) != "hello":
				t.Errorf("declined reply: body %q", body)
			case tt.path == "/big" && len(body) != 200000:
				t.Errorf("reply in pieces: %d bytes", len(body))
			}
		})
	}
}
