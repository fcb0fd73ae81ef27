// Package listener keeps listening sockets open across server
// generations, so that a reload never refuses a connection.
//
// A Set owns the real sockets, keyed by the address they were opened
// with. Each socket has one accept loop that hands connections to
// whichever generation is accepting. A generation gets a Gate per
// address: a net.Listener whose Close stops that generation from taking
// connections but leaves the socket open for the next one. While no
// generation accepts (the moment between two), connections wait in the
// kernel's backlog. A socket is closed when the last Gate on it closes:
// that is how an address dropped from the configuration goes away once
// the old generation is done with it.
//
// This is what Apache's parent process does across a graceful restart:
// it keeps the listening sockets and gives them to the new children.
package listener

import (
	"net"
	"sync"
	"time"
)

// Set is the listening sockets of a process, shared by its generations.
// The zero value is not usable; build one with NewSet.
type Set struct {
	// OnError, if set, is told of accept errors the loop retries (for
	// example EMFILE). It must not block.
	OnError func(addr string, err error)

	mu    sync.Mutex
	socks map[string]*socket
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{socks: map[string]*socket{}} }

// socket is one real listener and its accept loop.
type socket struct {
	set   *Set
	addr  string // the key: the address as opened
	ln    net.Listener
	conns chan net.Conn // unbuffered: a conn is taken by exactly one Gate
	done  chan struct{} // closed when the socket closes
	refs  int           // open Gates; guarded by set.mu
}

// Open returns a Gate on addr, reusing the socket already open for that
// exact address string, or binding a new one.
func (s *Set) Open(addr string) (*Gate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.socks[addr]
	if k == nil {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		k = &socket{set: s, addr: addr, ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
		s.socks[addr] = k
		go k.acceptLoop()
	}
	k.refs++
	return &Gate{k: k, done: make(chan struct{})}, nil
}

// Addrs returns the addresses of the open sockets.
func (s *Set) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.socks))
	for a := range s.socks {
		out = append(out, a)
	}
	return out
}

// Close closes every socket, whatever Gates remain open.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.socks {
		k.closeLocked()
	}
}

// closeLocked closes the socket; s.set.mu is held.
func (k *socket) closeLocked() {
	if k.set.socks[k.addr] != k {
		return
	}
	delete(k.set.socks, k.addr)
	close(k.done)
	k.ln.Close()
}

func (k *socket) release() {
	k.set.mu.Lock()
	defer k.set.mu.Unlock()
	k.refs--
	if k.refs == 0 {
		k.closeLocked()
	}
}

func (k *socket) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := k.ln.Accept()
		if err != nil {
			select {
			case <-k.done:
				return
			default:
			}
			// As net/http does: back off and retry, since the
			// socket itself is still good (EMFILE, ECONNABORTED).
			if k.set.OnError != nil {
				k.set.OnError(k.addr, err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-k.done:
				return
			}
			continue
		}
		backoff = 0
		select {
		case k.conns <- c:
		case <-k.done:
			c.Close()
			return
		}
	}
}

// Gate is one generation's view of a socket. It implements net.Listener;
// Close stops this generation's Accept without closing the socket while
// other Gates use it.
type Gate struct {
	k    *socket
	once sync.Once
	done chan struct{}
}

// Accept waits for the next connection on the socket, or for Close.
func (g *Gate) Accept() (net.Conn, error) {
	// A closed Gate takes no more connections even if one is waiting:
	// that one belongs to the next generation.
	select {
	case <-g.done:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-g.k.conns:
		return newConn(c), nil
	case <-g.done:
		return nil, net.ErrClosed
	case <-g.k.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; the socket closes with its last Gate. Closing
// twice is harmless.
func (g *Gate) Close() error {
	g.once.Do(func() {
		close(g.done)
		g.k.release()
	})
	return nil
}

// Addr is the socket's address.
func (g *Gate) Addr() net.Addr { return g.k.ln.Addr() }
