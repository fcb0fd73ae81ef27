package listener

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// generation is an http.Server answering name on a Gate, stopped the
// way package server stops one.
type generation struct {
	gate  *Gate
	hs    *http.Server
	fresh Fresh
	done  chan error
}

func serveGen(t *testing.T, g *Gate, name string) *generation {
	t.Helper()
	gen := &generation{gate: g, done: make(chan error, 1)}
	gen.hs = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name)
		}),
		ConnState: gen.fresh.ConnState,
	}
	go func() { gen.done <- gen.hs.Serve(g) }()
	return gen
}

func (g *generation) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.gate.Close()
	if err := <-g.done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve returned %v, want net.ErrClosed", err)
	}
	g.fresh.Wait(ctx)
	if err := g.hs.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func open(t *testing.T, s *Set, addr string) *Gate {
	t.Helper()
	g, err := s.Open(addr)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func get(c *http.Client, addr string) (string, error) {
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestSwitchUnderLoad switches generations while clients, with and
// without keep-alive, send requests: none may fail, and after the last
// switch only the last generation answers.
func TestSwitchUnderLoad(t *testing.T) {
	s := NewSet()
	defer s.Close()
	g := open(t, s, "127.0.0.1:0")
	addr := g.Addr().String()
	cur := serveGen(t, g, "gen0")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	for i := 0; i < 6; i++ {
		tr := &http.Transport{DisableKeepAlives: i%2 == 1}
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tr.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := get(c, addr); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					t.Logf("keepalive=%v: %v", !tr.DisableKeepAlives, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	const switches = 10
	for i := 1; i <= switches; i++ {
		time.Sleep(50 * time.Millisecond)
		next := serveGen(t, open(t, s, "127.0.0.1:0"), "gen"+strconv.Itoa(i))
		cur.stop(t)
		cur = next
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed across %d switches; first: %v", failed.Load(), ok.Load()+failed.Load(), switches, firstErr.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no request succeeded")
	}
	t.Logf("%d requests across %d switches", ok.Load(), switches)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if body, err := get(c, addr); err != nil || body != "gen"+strconv.Itoa(switches) {
		t.Errorf("after the last switch: %q, %v; want gen%d", body, err, switches)
	}
	cur.stop(t)
}

// TestSocketLifetime: a socket lives while a Gate uses it, whatever the
// generation; it closes with its last Gate, and Set.Close closes the rest.
func TestSocketLifetime(t *testing.T) {
	s := NewSet()
	defer s.Close()
	kept := open(t, s, "127.0.0.1:0")
	keptAddr := kept.Addr().String()
	dropped := open(t, s, "127.0.0.1:0")
	if dropped.Addr().String() != keptAddr {
		t.Fatalf("same address string opened twice: %s and %s", keptAddr, dropped.Addr())
	}
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	otherAddr := other.Addr().String()
	other.Close()
	only := open(t, s, otherAddr)

	tests := []struct {
		name      string
		close     *Gate
		addr      string
		reachable bool
	}{
		{"one of two gates closed", dropped, keptAddr, true},
		{"closing twice is harmless", dropped, keptAddr, true},
		{"last gate closed", only, otherAddr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.close.Close()
			c, err := net.DialTimeout("tcp", tt.addr, time.Second)
			if c != nil {
				c.Close()
			}
			if (err == nil) != tt.reachable {
				t.Errorf("dial %s: %v, want reachable=%v", tt.addr, err, tt.reachable)
			}
		})
	}
	if got := s.Addrs(); len(got) != 1 || got[0] != "127.0.0.1:0" {
		t.Errorf("Addrs = %v, want [127.0.0.1:0]", got)
	}

	accepted := make(chan error, 1)
	go func() {
		_, err := kept.Accept()
		accepted <- err
	}()
	s.Close()
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Set.Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still blocked after Set.Close")
	}
	if _, err := s.Open("127.0.0.1:0"); err != nil {
		t.Errorf("Open after Close: %v", err)
	}
}

// TestClosedGateTakesNothing: a connection waiting while a Gate closes
// goes to the next Gate, not to the closed one.
func TestClosedGateTakesNothing(t *testing.T) {
	s := NewSet()
	defer s.Close()
	old := open(t, s, "127.0.0.1:0")
	next := open(t, s, "127.0.0.1:0")
	old.Close()
	if _, err := old.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed gate Accept: %v", err)
	}
	c, err := net.Dial("tcp", next.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := next.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got.Close()
}
